//! The CLI's door to the render path (`ferry-render`): the registry of
//! this process's plugins, and the library's render calls with their errors
//! made `anyhow` errors the printer shows as before (problems in the user's
//! files keep their `ferry_core::Error` so they are shown located).

use anyhow::{Context, Result};
use ferry_core::Workspace;
use ferry_runtime::{Registry, Runtime, RuntimeConfig};
use std::sync::Arc;

pub use ferry_render::{
    EnvRenderSetup, ImageOptions, RenderError, RenderedEnvironment, RenderedWorkload, Role, process_env,
};

/// The plugins of this process, loaded lazily: bundled ones, plus those
/// pinned in the `copilot/plugins.lock` of the workspace around the current
/// directory (each verified against its sha256 now).
pub fn registry() -> Result<Registry> {
    let copilot_dir =
        std::env::current_dir().ok().and_then(|cwd| Workspace::discover(&cwd).ok()).map(|ws| ws.copilot_dir);
    registry_for(copilot_dir.as_deref())
}

/// [`registry`] for an explicit workspace (`copilot/` directory), or bundled
/// plugins only.
pub fn registry_for(copilot_dir: Option<&std::path::Path>) -> Result<Registry> {
    let runtime = Runtime::new(RuntimeConfig::default()).context("cannot start the plugin runtime")?;
    let mut registry = Registry::new(Arc::new(runtime));
    for plugin in ferry_bundled::BUNDLED {
        registry.add_bundled(plugin.package, plugin.wasm, plugin.sha256);
    }
    if let Some(copilot_dir) = copilot_dir {
        let lock = ferry_runtime::Lock::load(copilot_dir)?;
        registry.add_locked(copilot_dir, &lock)?;
    }
    Ok(registry)
}

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
