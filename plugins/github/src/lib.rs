//! The bundled `GitHub` release-pipeline source: a GitHub repository
//! reached through a CodeStar connection. The host renders the rest of the
//! pipeline; this plugin validates `source:` and renders the connection,
//! the source action and the permission to use the connection.

use ferry_plugin_sdk::pipeline::ConnectionProvider;

pub struct GitHubSource;

impl ConnectionProvider for GitHubSource {
    const NAME: &'static str = "github";
    const PROVIDER: &'static str = "GitHub";
    const HOST: &'static str = "github.com";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str = env!("CARGO_PKG_DESCRIPTION");
}

#[cfg(target_arch = "wasm32")]
ferry_plugin_sdk::export_plugin!(GitHubSource, pipeline_provider);
