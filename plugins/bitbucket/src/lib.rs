//! The bundled `Bitbucket` release-pipeline source: a Bitbucket repository
//! reached through a CodeStar connection. The host renders the rest of the
//! pipeline; this plugin validates `source:` and renders the connection,
//! the source action and the permission to use the connection.

use ferry_plugin_sdk::pipeline::{self, Source};
use ferry_plugin_sdk::{Diagnostic, Plugin, PluginInfo, RenderContext, RenderError, Rendered, Severity, Value};

/// The `source.provider` value this plugin serves.
pub const PROVIDER: &str = "Bitbucket";
/// Where Bitbucket repositories live.
pub const HOST: &str = "bitbucket.org";

/// The `source:` section `pipeline init` writes.
pub const SOURCE_TEMPLATE: &str = "source:
  provider: Bitbucket
  properties:
    branch: {{branch}}
    repository: {{url}}
    # Optional: an existing CodeStar connection, by name or ARN. Without one,
    # the pipeline creates a connection you complete once in the console.
    # connection_name: my-connection
";

pub struct BitbucketSource;

fn check(source: &Source) -> Result<String, Vec<Diagnostic>> {
    let mut out = pipeline::check_common(&source.properties, true);
    let id = pipeline::repository_id(&source.properties.repository, HOST, PROVIDER);
    if let Err(d) = &id {
        out.push(d.clone());
    }
    if out.iter().any(|d| d.severity == Severity::Error) { Err(out) } else { Ok(id.unwrap_or_default()) }
}

impl Plugin for BitbucketSource {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "bitbucket".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: env!("CARGO_PKG_DESCRIPTION").into(),
            manifest_types: vec![PROVIDER.into()],
            manifest_schema: pipeline::source_schema(),
            manifest_template: SOURCE_TEMPLATE.into(),
        }
    }

    fn validate(manifest: &Value) -> Vec<Diagnostic> {
        match pipeline::parse_source(manifest).and_then(|s| check(&s)) {
            Ok(_) => Vec::new(),
            Err(diagnostics) => diagnostics,
        }
    }

    fn render(manifest: &Value, context: &RenderContext) -> Result<Rendered, RenderError> {
        let source = pipeline::parse_source(manifest)?;
        let id = check(&source)?;
        Ok(pipeline::render_connection_source(&source.properties, &id, PROVIDER, context))
    }
}

#[cfg(target_arch = "wasm32")]
ferry_plugin_sdk::export_plugin!(BitbucketSource, pipeline_provider);
