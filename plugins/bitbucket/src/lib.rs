//! The bundled `Bitbucket` release-pipeline source: a Bitbucket repository
//! reached through a CodeStar connection. The host renders the rest of the
//! pipeline; this plugin validates `source:` and renders the connection,
//! the source action and the permission to use the connection.

use ferry_plugin_sdk::pipeline::ConnectionProvider;

pub struct BitbucketSource;

impl ConnectionProvider for BitbucketSource {
    const NAME: &'static str = "bitbucket";
    const PROVIDER: &'static str = "Bitbucket";
    const HOST: &'static str = "bitbucket.org";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str = env!("CARGO_PKG_DESCRIPTION");
}

#[cfg(target_arch = "wasm32")]
ferry_plugin_sdk::export_plugin!(BitbucketSource, pipeline_provider);
