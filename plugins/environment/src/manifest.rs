//! The "Environment" manifest, in Copilot's format
//! (`copilot/environments/<env>/manifest.yml`). Every key is Copilot's YAML
//! tag (`internal/pkg/manifest/env.go`), with the same either/or forms.

use ferry_plugin_sdk::Value;
use ferry_plugin_sdk::workload::either::{OneOf, map_as};
use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::{self, MapAccess};

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub network: Option<Network>,
    pub http: Option<Http>,
    pub observability: Option<Observability>,
    /// `true`, or `{certificate, terminate_tls, static_assets}`: a CloudFront
    /// distribution in front of the public load balancer.
    pub cdn: Option<Cdn>,
    /// Per-environment overrides: the host has already applied them.
    pub environments: Option<Value>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Network {
    pub vpc: Option<Vpc>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Vpc {
    /// Import an existing VPC instead of creating one.
    pub id: Option<String>,
    /// CIDR of the VPC ferry creates (default 10.0.0.0/16).
    pub cidr: Option<String>,
    pub subnets: Option<Subnets>,
    pub security_group: Option<SecurityGroup>,
    /// `true`, or `{retention: days}`: VPC flow logs to CloudWatch Logs.
    pub flow_logs: Option<FlowLogs>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Subnets {
    #[serde(default)]
    pub public: Vec<Subnet>,
    #[serde(default)]
    pub private: Vec<Subnet>,
}

/// Either an imported subnet (`id`) or one ferry creates (`cidr`, `az`).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Subnet {
    pub id: Option<String>,
    pub cidr: Option<String>,
    pub az: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecurityGroup {
    #[serde(default)]
    pub ingress: Vec<SecurityGroupRule>,
    #[serde(default)]
    pub egress: Vec<SecurityGroupRule>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecurityGroupRule {
    /// `tcp`, `udp`, `icmp` or `-1` for all (YAML may write it as a number).
    #[serde(deserialize_with = "string_or_number")]
    #[schemars(with = "String")]
    pub ip_protocol: String,
    /// One port (`5432`) or an inclusive range (`0-65535`).
    pub ports: Ports,
    pub cidr: String,
}

/// `ports: 5432` or `ports: 8000-8080`.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[serde(untagged)]
pub enum Ports {
    Port(u16),
    Range(String),
}

impl OneOf for Ports {
    const EXPECTING: &'static str = "a port number (5432) or a range (0-65535)";
    fn from_u64<E: de::Error>(v: u64) -> Result<Self, E> {
        u16::try_from(v).map(Ports::Port).map_err(|_| E::custom(format!("{v} is not a port (0-65535)")))
    }
    fn from_i64<E: de::Error>(v: i64) -> Result<Self, E> {
        u16::try_from(v).map(Ports::Port).map_err(|_| E::custom(format!("{v} is not a port (0-65535)")))
    }
    fn from_str<E: de::Error>(v: &str) -> Result<Self, E> {
        Ok(Ports::Range(v.to_string()))
    }
}
ferry_plugin_sdk::impl_one_of_deserialize!(Ports);

impl Ports {
    /// `(from, to)`, or `None` when a range is not `<from>-<to>` with from ≤ to.
    pub fn bounds(&self) -> Option<(u16, u16)> {
        match self {
            Ports::Port(p) => Some((*p, *p)),
            Ports::Range(text) => {
                let (from, to) = text.split_once('-')?;
                let (from, to): (u16, u16) = (from.trim().parse().ok()?, to.trim().parse().ok()?);
                (from <= to).then_some((from, to))
            }
        }
    }
}

/// `flow_logs: true` or `flow_logs: {retention: 30}`.
#[derive(Debug, Clone, JsonSchema)]
#[serde(untagged)]
pub enum FlowLogs {
    Enabled(bool),
    Config(FlowLogsConfig),
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FlowLogsConfig {
    /// Days CloudWatch Logs keeps the records (default 14).
    pub retention: Option<u64>,
}

impl OneOf for FlowLogs {
    const EXPECTING: &'static str = "true, false or `{retention: <days>}`";
    fn from_bool<E: de::Error>(v: bool) -> Result<Self, E> {
        Ok(FlowLogs::Enabled(v))
    }
    fn from_map<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        map_as(map).map(FlowLogs::Config)
    }
}
ferry_plugin_sdk::impl_one_of_deserialize!(FlowLogs);

/// `cdn: true` or `cdn: {certificate, terminate_tls, static_assets}`.
#[derive(Debug, Clone, JsonSchema)]
#[serde(untagged)]
pub enum Cdn {
    Enabled(bool),
    Config(CdnConfig),
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CdnConfig {
    /// An ACM certificate in us-east-1 for the distribution's aliases.
    pub certificate: Option<String>,
    /// CloudFront terminates TLS and talks HTTP to the load balancer.
    pub terminate_tls: Option<bool>,
    pub static_assets: Option<StaticAssets>,
}

/// An S3 bucket served by the distribution under `path`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StaticAssets {
    /// An alias of the distribution for the static content.
    pub alias: Option<String>,
    /// The bucket's regional domain name (`<bucket>.s3.<region>.amazonaws.com`).
    pub location: Option<String>,
    /// The path pattern routed to the bucket (`static/*`).
    pub path: Option<String>,
}

impl OneOf for Cdn {
    const EXPECTING: &'static str = "true, false or a map with `certificate`, `terminate_tls`, `static_assets`";
    fn from_bool<E: de::Error>(v: bool) -> Result<Self, E> {
        Ok(Cdn::Enabled(v))
    }
    fn from_map<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        map_as(map).map(Cdn::Config)
    }
}
ferry_plugin_sdk::impl_one_of_deserialize!(Cdn);

impl Cdn {
    /// The distribution exists (a map counts as enabled, as in Copilot).
    pub fn enabled(&self) -> bool {
        matches!(self, Cdn::Enabled(true) | Cdn::Config(_))
    }
    pub fn config(&self) -> CdnConfig {
        match self {
            Cdn::Config(c) => c.clone(),
            Cdn::Enabled(_) => CdnConfig::default(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Http {
    pub public: Option<PublicHttp>,
    pub private: Option<PrivateHttp>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PublicHttp {
    /// ACM certificate ARNs: the first is the listener's default.
    #[serde(default)]
    pub certificates: Vec<String>,
    pub ssl_policy: Option<String>,
    /// `true`, or `{bucket_name, prefix}`: the load balancer's access logs.
    pub access_logs: Option<AccessLogs>,
    pub ingress: Option<PublicIngress>,
    /// Deprecated form of `ingress` (`security_groups.ingress.restrict_to.cdn`).
    pub security_groups: Option<DeprecatedSecurityGroups>,
}

/// `access_logs: true` or `access_logs: {bucket_name, prefix}`.
#[derive(Debug, Clone, JsonSchema)]
#[serde(untagged)]
pub enum AccessLogs {
    Enabled(bool),
    Config(AccessLogsConfig),
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AccessLogsConfig {
    /// An existing bucket; without it ferry creates one.
    pub bucket_name: Option<String>,
    pub prefix: Option<String>,
}

impl OneOf for AccessLogs {
    const EXPECTING: &'static str = "true, false or `{bucket_name, prefix}`";
    fn from_bool<E: de::Error>(v: bool) -> Result<Self, E> {
        Ok(AccessLogs::Enabled(v))
    }
    fn from_map<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        map_as(map).map(AccessLogs::Config)
    }
}
ferry_plugin_sdk::impl_one_of_deserialize!(AccessLogs);

impl AccessLogs {
    /// `None` when logging is off; otherwise the settings (empty for `true`).
    pub fn settings(&self) -> Option<AccessLogsConfig> {
        match self {
            AccessLogs::Enabled(true) => Some(AccessLogsConfig::default()),
            AccessLogs::Enabled(false) => None,
            AccessLogs::Config(c) => Some(c.clone()),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PublicIngress {
    /// Only CloudFront may reach the load balancer.
    pub cdn: Option<bool>,
    /// CIDR blocks allowed to reach the load balancer (default: anywhere).
    #[serde(default)]
    pub source_ips: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PrivateHttp {
    /// Subnet ids for the internal load balancer (imported VPCs only).
    #[serde(default)]
    pub subnets: Vec<String>,
    #[serde(default)]
    pub certificates: Vec<String>,
    pub ssl_policy: Option<String>,
    pub ingress: Option<PrivateIngress>,
    /// Deprecated form of `ingress` (`security_groups.ingress.from_vpc`).
    pub security_groups: Option<DeprecatedSecurityGroups>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PrivateIngress {
    /// Let the whole VPC reach the internal load balancer.
    pub vpc: Option<bool>,
}

/// `http.{public,private}.security_groups`: Copilot's first spelling of
/// `ingress`, still read (with a warning).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeprecatedSecurityGroups {
    pub ingress: Option<DeprecatedIngress>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeprecatedIngress {
    /// Now `http.public.ingress` (`cdn`, `source_ips`).
    pub restrict_to: Option<PublicIngress>,
    /// Now `http.private.ingress.vpc`.
    pub from_vpc: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Observability {
    /// `true`, `false`, or `enhanced`.
    pub container_insights: Option<Value>,
}

fn string_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(serde::de::Error::invalid_type(
            serde::de::Unexpected::Other(&other.to_string()),
            &"a protocol name or number",
        )),
    }
}

impl Manifest {
    pub fn public(&self) -> PublicHttp {
        self.http.as_ref().and_then(|h| h.public.clone()).unwrap_or_default()
    }
    pub fn private(&self) -> Option<PrivateHttp> {
        self.http.as_ref().and_then(|h| h.private.clone())
    }
    /// `http.public.ingress`, or its deprecated spelling when that is all there is.
    pub fn public_ingress(&self) -> PublicIngress {
        let public = self.public();
        match public.ingress {
            Some(i) => i,
            None => public.security_groups.and_then(|s| s.ingress).and_then(|i| i.restrict_to).unwrap_or_default(),
        }
    }
    /// `http.private.ingress.vpc` or its deprecated spelling `security_groups.ingress.from_vpc`.
    pub fn private_vpc_ingress(&self) -> bool {
        self.private().is_some_and(|p| {
            p.ingress.and_then(|i| i.vpc) == Some(true)
                || p.security_groups.and_then(|s| s.ingress).and_then(|i| i.from_vpc) == Some(true)
        })
    }
    pub fn cdn_enabled(&self) -> bool {
        self.cdn.as_ref().is_some_and(Cdn::enabled)
    }
}
