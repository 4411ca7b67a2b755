//! Pieces every ECS workload plugin shares (Load Balanced Web Service,
//! Backend Service, Worker Service, Scheduled Job): typed manifest sections in
//! Copilot's format and the functions that turn them into CloudFormation.
//!
//! A plugin declares its manifest struct with
//! [`workload_manifest!`](crate::workload_manifest) (see [`fields`]), which
//! writes the shared top-level fields and `task_spec()`; the plugin then
//! calls [`validate::check_task`] and the emitters in [`render`].

pub mod deployment;
pub mod either;
pub mod families;
pub mod fields;
pub mod http;
pub mod manifest;
pub mod nlb;
pub mod publish;
pub mod render;
pub mod validate;

pub use either::{Duration, StringOrList};
pub use manifest::*;
pub use render::{LoadBalancerMetrics, ServiceOptions, TaskRender, add_task_role_policy, scaling_cooldowns};
pub use validate::{TaskChecks, check_task, check_task_with, check_type};

/// The sections of a manifest that describe the task and its ECS service,
/// shared by every workload type. Built by the plugin from its own manifest.
#[derive(Debug, Clone, Default)]
pub struct TaskSpec {
    /// The workload's name (manifest `name`); also the main container's name.
    pub name: String,
    pub image: Image,
    pub entrypoint: Option<StringOrList>,
    pub command: Option<StringOrList>,
    pub cpu: Option<u32>,
    pub memory: Option<u32>,
    pub platform: Option<Platform>,
    pub count: Option<Count>,
    pub exec: Option<bool>,
    pub deployment: Option<Deployment>,
    pub variables: indexmap::IndexMap<String, Variable>,
    pub env_file: Option<String>,
    pub secrets: indexmap::IndexMap<String, Secret>,
    pub storage: Option<Storage>,
    pub logging: Option<Logging>,
    pub network: Option<Network>,
    pub sidecars: indexmap::IndexMap<String, Sidecar>,
    pub publish: Option<publish::Publish>,
    pub observability: Option<Observability>,
    pub taskdef_overrides: Option<Vec<TaskDefOverride>>,
}

/// Copilot's defaults.
pub mod defaults {
    pub const CPU: u32 = 256;
    pub const MEMORY: u32 = 512;
    pub const COUNT: u32 = 1;
    pub const LOG_RETENTION: u32 = 30;
    /// Windows tasks on Fargate need at least this much.
    pub const WINDOWS_MIN_CPU: u32 = 1024;
    pub const WINDOWS_MIN_MEMORY: u32 = 2048;
    pub const SCALE_IN_COOLDOWN: u64 = 120;
    pub const SCALE_OUT_COOLDOWN: u64 = 60;
}

impl TaskSpec {
    pub fn cpu(&self) -> u32 {
        self.cpu.unwrap_or(defaults::CPU)
    }

    pub fn memory(&self) -> u32 {
        self.memory.unwrap_or(defaults::MEMORY)
    }

    pub fn exec(&self) -> bool {
        self.exec.unwrap_or(false)
    }

    /// The ECS platform; the default when the manifest's is invalid
    /// ([`check_task`] reports that).
    pub fn platform(&self) -> ResolvedPlatform {
        self.platform.as_ref().and_then(|p| p.resolve().ok()).unwrap_or_default()
    }

    pub fn log_retention(&self) -> u32 {
        self.logging.as_ref().and_then(|l| l.retention).unwrap_or(defaults::LOG_RETENTION)
    }

    /// Tasks to start with: the fixed count, the range minimum, or the spot count.
    pub fn desired_count(&self) -> u32 {
        match &self.count {
            None => defaults::COUNT,
            Some(Count::Fixed(n)) => *n,
            Some(Count::Advanced(a)) => match (&a.range, a.spot) {
                (Some(range), _) => range.bounds().0,
                (None, Some(spot)) => spot,
                (None, None) => defaults::COUNT,
            },
        }
    }

    /// Copilot launches tasks in public subnets (with a public IP) unless
    /// the manifest says `placement: private` or names its own subnets.
    pub fn public_placement(&self) -> bool {
        matches!(
            self.network.as_ref().and_then(|n| n.vpc.as_ref()).and_then(|v| v.placement.as_ref()),
            None | Some(Placement::Public)
        )
    }
}
