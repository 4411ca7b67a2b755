//! The "Backend Service" manifest, in Copilot's format.

use ferry_plugin_sdk::workload::http::{AdditionalRule, Alias, HttpHealthCheck};
use ferry_plugin_sdk::workload::*;
use schemars::JsonSchema;
use serde::Deserialize;

ferry_plugin_sdk::workload_manifest! {
    pub struct Manifest {
        @name, @type, @image,
        /// Routing through the environment's internal load balancer.
        pub http: Option<HttpOrFalse>,
        @entrypoint, @command, @cpu, @memory, @platform, @count, @exec, @deployment,
        @variables, @env_file, @secrets, @storage, @logging, @network, @sidecars,
        @publish, @taskdef_overrides, @observability, @environments,
    }
}

impl Manifest {
    /// The routing section, when the service has one.
    pub fn http(&self) -> Option<&Http> {
        self.http.as_ref().and_then(HttpOrFalse::http)
    }
}

/// `http: false` (no load balancer; the default) or the routing section.
pub type HttpOrFalse = ferry_plugin_sdk::workload::HttpOrFalse<Http>;

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
