//! The "Backend Service" manifest, in Copilot's format.

use ferry_plugin_sdk::workload::either::{OneOf, map_as};
use ferry_plugin_sdk::workload::http::{AdditionalRule, Alias, HttpHealthCheck};
use ferry_plugin_sdk::workload::publish::Publish;
use ferry_plugin_sdk::workload::*;
use ferry_plugin_sdk::{Value, impl_one_of_deserialize};
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::{self, MapAccess, Unexpected};

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub image: Image,
    /// Routing through the environment's internal load balancer.
    pub http: Option<HttpOrFalse>,
    pub entrypoint: Option<StringOrList>,
    pub command: Option<StringOrList>,
    pub cpu: Option<u32>,
    pub memory: Option<u32>,
    pub platform: Option<Platform>,
    pub count: Option<Count>,
    pub exec: Option<bool>,
    pub deployment: Option<Deployment>,
    #[serde(default)]
    pub variables: IndexMap<String, Variable>,
    pub env_file: Option<String>,
    #[serde(default)]
    pub secrets: IndexMap<String, Secret>,
    pub storage: Option<Storage>,
    pub logging: Option<Logging>,
    pub network: Option<Network>,
    #[serde(default)]
    pub sidecars: IndexMap<String, Sidecar>,
    pub publish: Option<Publish>,
    pub taskdef_overrides: Option<Value>,
    pub observability: Option<Value>,
    /// Per-environment overrides: the host has already applied them.
    pub environments: Option<Value>,
}

impl Manifest {
    /// Moves the shared sections into the SDK's [`TaskSpec`].
    pub fn task_spec(&self) -> TaskSpec {
        TaskSpec {
            name: self.name.clone(),
            image: self.image.clone(),
            entrypoint: self.entrypoint.clone(),
            command: self.command.clone(),
            cpu: self.cpu,
            memory: self.memory,
            platform: self.platform.clone(),
            count: self.count.clone(),
            exec: self.exec,
            deployment: self.deployment.clone(),
            variables: self.variables.clone(),
            env_file: self.env_file.clone(),
            secrets: self.secrets.clone(),
            storage: self.storage.clone(),
            logging: self.logging.clone(),
            network: self.network.clone(),
            sidecars: self.sidecars.clone(),
        }
    }

    /// The routing section, when the service has one.
    pub fn http(&self) -> Option<&Http> {
        match &self.http {
            Some(HttpOrFalse::Http(h)) => Some(h),
            _ => None,
        }
    }
}

/// `http: false` (no load balancer; the default) or the routing section.
#[derive(Debug, Clone, PartialEq)]
pub enum HttpOrFalse {
    Disabled,
    Http(Box<Http>),
}

impl JsonSchema for HttpOrFalse {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "HttpOrFalse".into()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let http = generator.subschema_for::<Http>();
        schemars::json_schema!({ "anyOf": [{ "const": false }, http] })
    }
}

impl OneOf for HttpOrFalse {
    const EXPECTING: &'static str = "`false`, or a map with `path` and routing settings";
    fn from_bool<E: de::Error>(v: bool) -> Result<Self, E> {
        if v {
            Err(E::invalid_value(
                Unexpected::Bool(true),
                &"`false`, or a map with `path` (`http: true` says nothing about where to route)",
            ))
        } else {
            Ok(HttpOrFalse::Disabled)
        }
    }
    fn from_map<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        map_as(map).map(|h| HttpOrFalse::Http(Box::new(h)))
    }
}
impl_one_of_deserialize!(HttpOrFalse);

/// A Backend Service's `http`: the Load Balanced Web Service's routing
/// fields on the internal load balancer, plus `alb` (import an existing one).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Http {
    /// Requests under this path reach the service (`/` for all).
    pub path: Option<String>,
    /// An existing internal ALB (name or ARN) to attach to instead of the environment's.
    pub alb: Option<String>,
    /// HTTPS names of the service (the internal load balancer needs certificates).
    pub alias: Option<Alias>,
    /// A private hosted zone ID where the aliases' records are created.
    pub hosted_zone: Option<String>,
    pub healthcheck: Option<HttpHealthCheck>,
    pub deregistration_delay: Option<Duration>,
    pub target_container: Option<String>,
    pub target_port: Option<u32>,
    pub stickiness: Option<bool>,
    #[serde(default)]
    pub allowed_source_ips: Vec<String>,
    /// `http1`, `http2` or `grpc`.
    pub version: Option<String>,
    #[serde(default)]
    pub additional_rules: Vec<AdditionalRule>,
}
