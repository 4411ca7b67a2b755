//! The "Load Balanced Web Service" manifest, in Copilot's format.

use ferry_plugin_sdk::workload::either::{OneOf, map_as, seq_as};
use ferry_plugin_sdk::workload::*;
use ferry_plugin_sdk::{Value, impl_one_of_deserialize};
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::{self, MapAccess, SeqAccess, Unexpected};

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub image: Image,
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
    pub nlb: Option<Value>,
    pub observability: Option<Value>,
    pub taskdef_overrides: Option<Value>,
    pub publish: Option<Value>,
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
}

/// `http: false` (no load balancer rule) or the routing section.
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

#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Http {
    /// Requests under this path reach the service (`/` for all).
    pub path: Option<String>,
    pub alias: Option<Alias>,
    /// Hosted zone ID where the aliases' A records are created.
    pub hosted_zone: Option<String>,
    pub healthcheck: Option<HttpHealthCheck>,
    pub deregistration_delay: Option<Duration>,
    pub target_container: Option<String>,
    pub target_port: Option<u32>,
    pub stickiness: Option<bool>,
    #[serde(default)]
    pub allowed_source_ips: Vec<String>,
    pub redirect_to_https: Option<bool>,
    /// `http1`, `http2` or `grpc`.
    pub version: Option<String>,
    pub additional_rules: Option<Value>,
}

/// `alias: api.example.com` or a list of names / `{name, hosted_zone}`.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[serde(untagged)]
pub enum Alias {
    One(String),
    Many(Vec<AliasEntry>),
}

impl OneOf for Alias {
    const EXPECTING: &'static str = "a domain name, or a list of domain names or `{name, hosted_zone}` maps";
    fn from_str<E: de::Error>(v: &str) -> Result<Self, E> {
        Ok(Alias::One(v.to_string()))
    }
    fn from_seq<'de, A: SeqAccess<'de>>(seq: A) -> Result<Self, A::Error> {
        seq_as(seq).map(Alias::Many)
    }
}
impl_one_of_deserialize!(Alias);

#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[serde(untagged)]
pub enum AliasEntry {
    Name(String),
    Args(AliasArgs),
}

#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AliasArgs {
    pub name: String,
    pub hosted_zone: Option<String>,
}

impl OneOf for AliasEntry {
    const EXPECTING: &'static str = "a domain name, or a map `{name, hosted_zone}`";
    fn from_str<E: de::Error>(v: &str) -> Result<Self, E> {
        Ok(AliasEntry::Name(v.to_string()))
    }
    fn from_map<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        map_as(map).map(AliasEntry::Args)
    }
}
impl_one_of_deserialize!(AliasEntry);

impl Alias {
    /// (name, hosted zone) of every alias.
    pub fn entries(&self) -> Vec<(String, Option<String>)> {
        match self {
            Alias::One(name) => vec![(name.clone(), None)],
            Alias::Many(list) => list
                .iter()
                .map(|e| match e {
                    AliasEntry::Name(n) => (n.clone(), None),
                    AliasEntry::Args(a) => (a.name.clone(), a.hosted_zone.clone()),
                })
                .collect(),
        }
    }
}

/// `healthcheck: /health` or the target group's health check settings.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[serde(untagged)]
pub enum HttpHealthCheck {
    Path(String),
    Args(HttpHealthCheckArgs),
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpHealthCheckArgs {
    pub path: Option<String>,
    pub port: Option<u32>,
    pub success_codes: Option<String>,
    pub healthy_threshold: Option<u32>,
    pub unhealthy_threshold: Option<u32>,
    pub interval: Option<Duration>,
    pub timeout: Option<Duration>,
    pub grace_period: Option<Duration>,
}

impl OneOf for HttpHealthCheck {
    const EXPECTING: &'static str = "a health check path such as `/health`, or a map with `path`, `port`, `success_codes`, `healthy_threshold`, `unhealthy_threshold`, `interval`, `timeout`, `grace_period`";
    fn from_str<E: de::Error>(v: &str) -> Result<Self, E> {
        Ok(HttpHealthCheck::Path(v.to_string()))
    }
    fn from_map<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        map_as(map).map(HttpHealthCheck::Args)
    }
}
impl_one_of_deserialize!(HttpHealthCheck);

impl HttpHealthCheck {
    pub fn args(&self) -> HttpHealthCheckArgs {
        match self {
            HttpHealthCheck::Path(p) => HttpHealthCheckArgs { path: Some(p.clone()), ..Default::default() },
            HttpHealthCheck::Args(a) => a.clone(),
        }
    }
}
