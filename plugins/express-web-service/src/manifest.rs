//! The "Express Web Service" manifest: Copilot's workload fields that ECS
//! Express Mode has a property for, and nothing else. Sections the
//! resource cannot take (`sidecars`, `storage`, `exec`, `entrypoint`, ...)
//! are unknown fields, each with a hint saying why (see
//! [`crate::UNSUPPORTED_FIELDS`]).

use ferry_plugin_sdk::impl_one_of_deserialize;
use ferry_plugin_sdk::workload::either::{OneOf, map_as};
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::{self, MapAccess};

ferry_plugin_sdk::workload_manifest! {
    pub struct Manifest {
        @name, @type, @image,
        /// The HTTPS endpoint ECS Express Mode gives the service.
        pub http: Option<Http>,
        @command, @cpu, @memory, @count, @variables, @secrets, @network, @publish,
        /// Tags of the Express service (set when it is created).
        #[serde(default)]
        pub tags: IndexMap<String, String>,
        @environments,
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Http {
    /// `healthcheck: /health` or `{path: /health}`: what the shared load
    /// balancer requests to decide a task is healthy.
    pub healthcheck: Option<HealthCheck>,
    /// A custom domain: refused, the resource has no property for one.
    pub alias: Option<String>,
}

/// `healthcheck: /health` or `healthcheck: {path: /health}`.
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
}

impl OneOf for HealthCheck {
    const EXPECTING: &'static str = "a health check path such as `/health`, or a map with `path`";
    fn from_str<E: de::Error>(v: &str) -> Result<Self, E> {
        Ok(HealthCheck::Path(v.to_string()))
    }
    fn from_map<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        map_as(map).map(HealthCheck::Args)
    }
}
impl_one_of_deserialize!(HealthCheck);

impl HealthCheck {
    /// The path and the manifest path of the field that set it.
    pub fn path(&self) -> Option<(&str, &'static str)> {
        match self {
            HealthCheck::Path(p) => Some((p, "/http/healthcheck")),
            HealthCheck::Args(a) => a.path.as_deref().map(|p| (p, "/http/healthcheck/path")),
        }
    }
}

impl Manifest {
    pub fn health_path(&self) -> Option<(&str, &'static str)> {
        self.http.as_ref()?.healthcheck.as_ref()?.path()
    }
}
