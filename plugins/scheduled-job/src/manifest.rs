//! The "Scheduled Job" manifest, in Copilot's format.

use ferry_plugin_sdk::Value;
use ferry_plugin_sdk::workload::*;
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// What triggers the job.
    pub on: Option<On>,
    pub image: Image,
    pub entrypoint: Option<StringOrList>,
    pub command: Option<StringOrList>,
    pub cpu: Option<u32>,
    pub memory: Option<u32>,
    pub platform: Option<Platform>,
    /// Times to retry a failed run before giving up.
    pub retries: Option<u32>,
    /// How long a run may take before it is stopped and fails.
    pub timeout: Option<Duration>,
    pub network: Option<Network>,
    #[serde(default)]
    pub variables: IndexMap<String, Variable>,
    pub env_file: Option<String>,
    #[serde(default)]
    pub secrets: IndexMap<String, Secret>,
    pub storage: Option<Storage>,
    pub logging: Option<Logging>,
    #[serde(default)]
    pub sidecars: IndexMap<String, Sidecar>,
    pub publish: Option<Value>,
    pub taskdef_overrides: Option<Value>,
    /// Per-environment overrides: the host has already applied them.
    pub environments: Option<Value>,
}

/// `on:` — the event that starts the job.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct On {
    /// `@daily`, `@every 5m`, `0 9 * * 1-5`, `cron(...)`, `rate(...)` or `none`.
    pub schedule: Option<String>,
}

impl Manifest {
    /// Moves the shared sections into the SDK's [`TaskSpec`]; a job has no
    /// count, exec or deployment.
    pub fn task_spec(&self) -> TaskSpec {
        TaskSpec {
            name: self.name.clone(),
            image: self.image.clone(),
            entrypoint: self.entrypoint.clone(),
            command: self.command.clone(),
            cpu: self.cpu,
            memory: self.memory,
            platform: self.platform.clone(),
            count: None,
            exec: None,
            deployment: None,
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
