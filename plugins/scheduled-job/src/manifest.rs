//! The "Scheduled Job" manifest, in Copilot's format.

use ferry_plugin_sdk::workload::*;
use schemars::JsonSchema;
use serde::Deserialize;

ferry_plugin_sdk::workload_manifest! {
    pub struct Manifest {
        @name, @type,
        /// What triggers the job.
        pub on: Option<On>,
        @image, @entrypoint, @command, @cpu, @memory, @platform,
        /// Times to retry a failed run before giving up.
        pub retries: Option<u32>,
        /// How long a run may take before it is stopped and fails.
        pub timeout: Option<Duration>,
        @network, @variables, @env_file, @secrets, @storage, @logging, @sidecars,
        @publish, @taskdef_overrides, @environments,
    }
}

/// `on:` — the event that starts the job.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct On {
    /// `@daily`, `@every 5m`, `0 9 * * 1-5`, `cron(...)`, `rate(...)` or `none`.
    pub schedule: Option<String>,
}
