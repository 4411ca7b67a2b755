//! Workload images for ferry: what a manifest's `image.build` asks for
//! ([`ImageBuild`], [`WorkloadBuilds`]), built with whichever container engine is installed
//! (docker with a reachable daemon, then podman, then buildah — see
//! [`detect`]), logged in to a registry with a password ferry got from ECR,
//! and pushed so that the deploy can pin the image by its digest.
//!
//! Engines run as child processes; their output is handed line by line to a
//! [`LineSink`] (the CLI prefixes it per service) and the last lines are
//! kept so a failure shows the engine's own words.

mod engine;
mod run;
mod spec;

pub use engine::{Engine, EngineKind, LineSink, Login, detect, is_loopback, sweep_registry_credentials};
pub use run::{ContainerSpec, Network, RUN_LOCAL_LABEL};
pub use spec::{
    ImageBuild, SpecError, WorkloadBuilds, built_sidecars, sidecar_tag, source_tag, source_time, valid_tag,
};

use std::fmt;

/// Why an engine could not be used, for the "nothing found" error.
#[derive(Debug, Clone)]
pub struct Probe {
    pub name: String,
    pub why: String,
}

/// Everything that can go wrong building or pushing an image.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error(
        "no container engine to build images with; tried {}",
        Tried(.tried)
    )]
    NoEngine { tried: Vec<Probe> },
    #[error("the container engine `{name}` (from {origin}) cannot be used: {why}")]
    Unusable { name: String, origin: String, why: String },
    #[error(
        "image build of `{service}` failed: {engine} exited with {status}\n{}",
        Lines(.lines)
    )]
    BuildFailed { service: String, engine: String, status: String, dockerfile: String, lines: Vec<String> },
    #[error(
        "cannot reach the registry {registry} ({engine} {action} failed)\n{}",
        Lines(.lines)
    )]
    Unreachable { registry: String, engine: String, action: String, overridden: bool, lines: Vec<String> },
    #[error(
        "the registry {registry} refused ECR's authorization token ({engine} {action}): the token is expired or invalid\n{}",
        Lines(.lines)
    )]
    Unauthorized { registry: String, engine: String, action: String, lines: Vec<String> },
    #[error("{engine} {action} of {target} failed: exited with {status}\n{}", Lines(.lines))]
    Failed { engine: String, action: String, target: String, status: String, lines: Vec<String> },
    #[error("{engine} pushed {reference} but reported no digest")]
    NoDigest { engine: String, reference: String, hint: String },
    #[error("cannot run {program}: {source}")]
    Spawn { program: String, source: std::io::Error },
}

impl ImageError {
    /// What the user can do about it (the binary prints it after the message).
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            ImageError::NoEngine { .. } => "install docker (with its daemon running), podman or buildah, or name one with --builder / FERRY_BUILDER".into(),
            ImageError::Unusable { .. } => "install it, or pick another with --builder / FERRY_BUILDER (docker, podman or buildah)".into(),
            ImageError::BuildFailed { engine, dockerfile, .. } => format!(
                "the lines above are {engine}'s own; fix {dockerfile} or its build context and deploy again (no stack was changed)"
            ),
            ImageError::Unreachable { overridden, .. } => format!(
                "check the network and the registry address{}; no stack was changed",
                if *overridden { " (FERRY_ECR_REGISTRY is set)" } else { "" }
            ),
            ImageError::Unauthorized { .. } => "refresh your AWS credentials (an expired session gives expired tokens) and make sure they may call ecr:GetAuthorizationToken and push to the repository; no stack was changed".into(),
            ImageError::Failed { engine, .. } => format!("the lines above are {engine}'s own; no stack was changed"),
            ImageError::NoDigest { hint, .. } => hint.clone(),
            ImageError::Spawn { .. } => return None,
        })
    }
}

struct Tried<'a>(&'a [Probe]);

impl fmt::Display for Tried<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|p| format!("{} ({})", p.name, p.why)).collect();
        f.write_str(&parts.join(", "))
    }
}

struct Lines<'a>(&'a [String]);

impl fmt::Display for Lines<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("  (the engine printed nothing)");
        }
        let lines: Vec<String> = self.0.iter().map(|l| format!("  | {l}")).collect();
        f.write_str(&lines.join("\n"))
    }
}
