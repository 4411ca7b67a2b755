//! The "Load Balanced Web Service" manifest, in Copilot's format.

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

ferry_plugin_sdk::http_routing! {
    /// The routing section: the environment's public load balancer, or the
    /// existing one `alb` names.
    pub struct Http {
        @path,
        /// An existing public ALB (name or ARN) to attach to instead of the environment's.
        pub alb: Option<String>,
        @alias, @hosted_zone, @target, @redirect_to_https, @version, @additional_rules,
    }
}

pub use ferry_plugin_sdk::workload::http::{
    AdditionalRule, Alias, AliasArgs, AliasEntry, HttpHealthCheck, HttpHealthCheckArgs,
};
pub use ferry_plugin_sdk::workload::nlb::Nlb;
