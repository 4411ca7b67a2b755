//! Release pipelines in Copilot's format: `copilot/pipelines/<name>/manifest.yml`
//! (and the legacy `copilot/pipeline.yml`), checked against the workspace,
//! and rendered into the `pipeline-<app>-<name>` stack around the source
//! stage a `pipeline-provider` plugin returns.
//!
//! The host owns everything but the source: artifact store (the app's
//! bucket and KMS key, from the `<app>-infrastructure` StackSet, passed as
//! parameters so `package` stays offline), the build project running the
//! buildspec, a deploy stage per environment with manual approval,
//! pre-deployment and test actions, and least-privilege roles.

mod check;
mod graph;
mod manifest;
mod projects;
mod render;
mod stages;

pub use check::{CheckedPipeline, StageOrder, check};
pub use graph::levels;
pub use manifest::*;
pub use render::{RenderInput, RenderedPipeline, render};

/// Where pipeline manifests live under `copilot/`.
pub const PIPELINES_DIR: &str = "pipelines";
/// The legacy single-pipeline manifest, `copilot/pipeline.yml`.
pub const LEGACY_MANIFEST: &str = "pipeline.yml";
/// The CodeBuild image unless `build.image` says otherwise.
pub const DEFAULT_BUILD_IMAGE: &str = "aws/codebuild/amazonlinux2-x86_64-standard:5.0";
/// Directory of the build output the deploy actions read templates from.
pub const BUILD_OUTPUT_DIR: &str = "infrastructure";
/// Name of the build's output artifact.
pub const BUILD_ARTIFACT: &str = "BuildOutput";
/// Stack parameters the host declares on every pipeline stack.
/// (The one list is the protocol's `host_owned::pipeline`.)
pub mod parameters {
    pub use ferry_plugin_protocol::host_owned::pipeline::{
        ARTIFACT_BUCKET, ARTIFACT_KEY, FERRY_BINARY_KEY, FERRY_BINARY_SHA256,
    };
}
/// Tag Copilot puts on pipeline stacks besides `copilot-application`.
pub const PIPELINE_TAG: &str = "copilot-pipeline";
