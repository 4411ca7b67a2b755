//! The "Backend Service" manifest, in Copilot's format.

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

ferry_plugin_sdk::http_routing! {
    /// A Backend Service's `http`: the Load Balanced Web Service's routing
    /// fields on the internal load balancer, plus `alb` (import an existing one).
    pub struct Http {
        @path,
        /// An existing internal ALB (name or ARN) to attach to instead of the environment's.
        pub alb: Option<String>,
        @alias, @hosted_zone, @target, @version, @additional_rules,
    }
}
