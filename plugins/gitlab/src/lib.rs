//! A `GitLab` release-pipeline source, written the way any plugin author
//! would: it depends on `ferry-plugin-sdk` alone and the host knows nothing
//! about it beyond what `info()` says (the provider name it serves). Copilot
//! never offered GitLab; AWS CodeStar connections do, so a plugin is enough.

use ferry_plugin_sdk::pipeline::ConnectionProvider;

pub struct GitLabSource;

impl ConnectionProvider for GitLabSource {
    const NAME: &'static str = "gitlab";
    const PROVIDER: &'static str = "GitLab";
    const HOST: &'static str = "gitlab.com";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str = env!("CARGO_PKG_DESCRIPTION");
}

#[cfg(target_arch = "wasm32")]
ferry_plugin_sdk::export_plugin!(GitLabSource, pipeline_provider);
