//! The CLI's door to the render path (`ferry-render`): the library's render
//! calls with their errors
//! made `anyhow` errors the printer shows as before (problems in the user's
//! files keep their `ferry_core::Error` so they are shown located).

use anyhow::Result;
use ferry_core::Workspace;
use ferry_runtime::Registry;

pub use ferry_render::{
    EnvRenderSetup, ImageOptions, PushedImages, RenderError, RenderedEnvironment, RenderedWorkload, Role, process_env,
};

/// A render error as the printer takes it: a manifest or plugin error as
/// itself, so the printer finds the located problems in the chain.
pub fn lift(err: RenderError) -> anyhow::Error {
    match err {
        RenderError::Manifest(err) => err.into(),
        RenderError::Plugin(err) => err.into(),
        other => other.into(),
    }
}

/// Loads the environment's manifest to learn what it offers workloads.
pub fn env_setup(ws: &Workspace, app: &str, env: &str) -> Result<EnvRenderSetup> {
    EnvRenderSetup::load(ws, app, env).map_err(lift)
}

/// Renders one service or job for one environment.
pub fn render_workload(
    ws: &Workspace,
    registry: &Registry,
    setup: &EnvRenderSetup,
    name: &str,
    image: &ImageOptions,
) -> Result<RenderedWorkload> {
    ferry_render::render_workload(ws, registry, setup, name, image).map_err(lift)
}

/// Renders the environment stack.
pub fn render_environment(ws: &Workspace, registry: &Registry, setup: &EnvRenderSetup) -> Result<RenderedEnvironment> {
    ferry_render::render_environment(ws, registry, setup).map_err(lift)
}
