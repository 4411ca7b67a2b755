//! The "Request-Driven Web Service" manifest, in Copilot's format. Only the
//! fields Copilot documents for App Runner exist here: ECS-only sections
//! (`exec`, `sidecars`, `storage`, `logging`, `entrypoint`, ...) are unknown
//! fields, reported with a did-you-mean. `count` and `command` exist with
//! their App Runner meaning: an auto scaling configuration's name and the
//! start command.

use ferry_plugin_sdk::workload::either::{OneOf, StringOrList, map_as};
use ferry_plugin_sdk::workload::publish::Publish;
use ferry_plugin_sdk::workload::{BuildConfig, Duration, Placement, Platform, Secret, SubnetSelection, Variable};
use ferry_plugin_sdk::{Value, impl_one_of_deserialize};
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::{self, MapAccess};

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub image: Image,
    pub http: Option<Http>,
    /// CPU units of each instance (App Runner: 256, 512, 1024, 2048, 4096).
    pub cpu: Option<u32>,
    /// Memory (MiB) of each instance.
    pub memory: Option<u32>,
    /// Only `linux/x86_64` (`linux/amd64`) runs on App Runner.
    pub platform: Option<Platform>,
    #[serde(default)]
    pub variables: IndexMap<String, Variable>,
    #[serde(default)]
    pub secrets: IndexMap<String, Secret>,
    /// Tags of the App Runner service.
    #[serde(default)]
    pub tags: IndexMap<String, String>,
    pub network: Option<Network>,
    pub observability: Option<Observability>,
    pub publish: Option<Publish>,
    /// The command App Runner starts the image with (`StartCommand`).
    pub command: Option<StringOrList>,
    /// Name (or ARN) of an existing App Runner auto scaling configuration.
    pub count: Option<String>,
    /// Per-environment overrides: the host has already applied them.
    pub environments: Option<Value>,
}

/// The image App Runner runs: built by the host, or an ECR / ECR Public URI.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Image {
    pub build: Option<BuildConfig>,
    pub location: Option<String>,
    /// Port the container listens on (default 80).
    pub port: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Http {
    pub healthcheck: Option<HealthCheck>,
    /// HTTPS custom domain of the service, under the application's domain.
    pub alias: Option<String>,
    /// `true`, or `{endpoint: vpce-...}`: reachable only from the
    /// environment's VPC (a VPC ingress connection).
    pub private: Option<Private>,
}

/// `private: true` or `private: {endpoint: vpce-id}`.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[serde(untagged)]
pub enum Private {
    Enabled(bool),
    Args(PrivateArgs),
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PrivateArgs {
    /// An existing interface endpoint for `com.amazonaws.<region>.apprunner.requests`.
    pub endpoint: Option<String>,
}

impl OneOf for Private {
    const EXPECTING: &'static str = "`true`, `false`, or a map with `endpoint`";
    fn from_bool<E: de::Error>(v: bool) -> Result<Self, E> {
        Ok(Private::Enabled(v))
    }
    fn from_map<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        map_as(map).map(Private::Args)
    }
}
impl_one_of_deserialize!(Private);

/// `healthcheck: /health` or App Runner's health check settings.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[serde(untagged)]
pub enum HealthCheck {
    Path(String),
    Args(HealthCheckArgs),
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HealthCheckArgs {
    pub path: Option<String>,
    pub healthy_threshold: Option<u32>,
    pub unhealthy_threshold: Option<u32>,
    pub interval: Option<Duration>,
    pub timeout: Option<Duration>,
}

impl OneOf for HealthCheck {
    const EXPECTING: &'static str = "a health check path such as `/health`, or a map with `path`, `healthy_threshold`, `unhealthy_threshold`, `interval`, `timeout`";
    fn from_str<E: de::Error>(v: &str) -> Result<Self, E> {
        Ok(HealthCheck::Path(v.to_string()))
    }
    fn from_map<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        map_as(map).map(HealthCheck::Args)
    }
}
impl_one_of_deserialize!(HealthCheck);

impl HealthCheck {
    pub fn args(&self) -> HealthCheckArgs {
        match self {
            HealthCheck::Path(p) => HealthCheckArgs { path: Some(p.clone()), ..Default::default() },
            HealthCheck::Args(a) => a.clone(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Network {
    pub vpc: Option<Vpc>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Vpc {
    /// `private`: egress through the environment's VPC (a VPC connector).
    pub placement: Option<Placement>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Observability {
    /// `awsxray`.
    pub tracing: Option<String>,
}

impl Manifest {
    pub fn private_placement(&self) -> bool {
        matches!(
            self.network.as_ref().and_then(|n| n.vpc.as_ref()).and_then(|v| v.placement.as_ref()),
            Some(Placement::Private)
        )
    }

    /// `Some(endpoint)` for a private service (`None` inside: ferry creates the endpoint).
    pub fn private_ingress(&self) -> Option<Option<&str>> {
        match self.http.as_ref().and_then(|h| h.private.as_ref())? {
            Private::Enabled(true) => Some(None),
            Private::Enabled(false) => None,
            Private::Args(a) => Some(a.endpoint.as_deref()),
        }
    }

    pub fn alias(&self) -> Option<&str> {
        self.http.as_ref().and_then(|h| h.alias.as_deref())
    }

    /// The start command as App Runner takes it: one string.
    pub fn start_command(&self) -> Option<String> {
        match self.command.as_ref()? {
            StringOrList::String(s) => Some(s.clone()),
            StringOrList::List(parts) => Some(
                parts
                    .iter()
                    .map(|p| {
                        if !p.is_empty() && !p.contains(|c: char| c.is_whitespace() || c == '"' || c == '\\') {
                            p.clone()
                        } else {
                            format!("\"{}\"", p.replace('\\', "\\\\").replace('"', "\\\""))
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
        }
    }

    /// Subnet IDs of `placement: {subnets: [...]}`.
    pub fn placement_subnets(&self) -> Option<&SubnetSelection> {
        match self.network.as_ref().and_then(|n| n.vpc.as_ref()).and_then(|v| v.placement.as_ref())? {
            Placement::Subnets(v) => Some(&v.subnets),
            _ => None,
        }
    }

    /// Egress goes through a VPC connector (private placement or subnets).
    pub fn needs_vpc_connector(&self) -> bool {
        self.private_placement() || self.placement_subnets().is_some()
    }

    pub fn tracing(&self) -> Option<&str> {
        self.observability.as_ref().and_then(|o| o.tracing.as_deref())
    }
}
