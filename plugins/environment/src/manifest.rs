//! The "Environment" manifest, in Copilot's format
//! (`copilot/environments/<env>/manifest.yml`).

use ferry_plugin_sdk::Value;
use schemars::JsonSchema;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub network: Option<Network>,
    pub http: Option<Http>,
    pub observability: Option<Observability>,
    /// A CloudFront distribution in front of the load balancer.
    pub cdn: Option<Value>,
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
    pub flow_logs: Option<Value>,
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
    pub from_port: i64,
    pub to_port: i64,
    pub cidr: String,
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
    pub access_logs: Option<Value>,
    pub ingress: Option<PublicIngress>,
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
    pub internal_alb_subnets: Vec<String>,
    #[serde(default)]
    pub certificates: Vec<String>,
    pub ssl_policy: Option<String>,
    pub ingress: Option<PrivateIngress>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PrivateIngress {
    /// Let the whole VPC CIDR reach the internal load balancer.
    pub vpc: Option<bool>,
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
