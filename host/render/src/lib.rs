//! The render path, once for every command: a manifest, the plugin chosen by
//! its `type:` and by what the manifest is (service or job, environment,
//! pipeline source), validation, rendering in the sandbox, the plugin's
//! diagnostics located in the manifest (`file:line:col`), and the stack
//! assembled around the plugin's fragment with the host-owned parameters,
//! tags, addons and patches.
//!
//! `package`, `deploy`, `pipeline` and `init` all go through here; the CLI
//! chooses what to render and prints the result. Nothing here prints: what
//! goes wrong is a [`RenderError`], whose [`problems`](RenderError::problems)
//! say what, where, why and what to do.

mod call;
mod error;
mod pipeline;
mod select;
mod workload;

pub use call::off_async;
pub use error::RenderError;
pub use pipeline::{provider_plugin, providers, render_pipeline};
pub use select::{ChooseError, Role, choose, plugin_for};
pub use workload::{
    EnvRenderSetup, ImageOptions, PushedImages, RenderedEnvironment, RenderedWorkload, render_environment,
    render_workload,
};

/// Reads `${VAR}` values from the process environment.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}
