//! The "Load Balanced Web Service" manifest, in Copilot's format.

use ferry_plugin_sdk::workload::*;
use schemars::JsonSchema;
use serde::Deserialize;

ferry_plugin_sdk::workload_manifest! {
    pub struct Manifest {
        @name, @type, @image,
        pub http: Option<HttpOrFalse>,
        @entrypoint, @command, @cpu, @memory, @platform, @count, @exec, @deployment,
        @variables, @env_file, @secrets, @storage, @logging, @network, @sidecars,
        pub nlb: Option<Nlb>,
        @observability, @taskdef_overrides, @publish, @environments,
    }
}

/// `http: false` (no load balancer rule) or the routing section.
pub type HttpOrFalse = ferry_plugin_sdk::workload::HttpOrFalse<Http>;

#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Http {
    /// Requests under this path reach the service (`/` for all).
    pub path: Option<String>,
    /// An existing public ALB (name or ARN) to attach to instead of the environment's.
    pub alb: Option<String>,
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
    #[serde(default)]
    pub additional_rules: Vec<AdditionalRule>,
}

pub use ferry_plugin_sdk::workload::http::{
    AdditionalRule, Alias, AliasArgs, AliasEntry, HttpHealthCheck, HttpHealthCheckArgs,
};
pub use ferry_plugin_sdk::workload::nlb::Nlb;
