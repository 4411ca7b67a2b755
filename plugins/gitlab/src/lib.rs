//! A `GitLab` release-pipeline source, written the way any plugin author
//! would: it depends on `ferry-plugin-sdk` alone and the host knows nothing
//! about it beyond what `info()` says (the provider name it serves). Copilot
//! never offered GitLab; AWS CodeStar connections do, so a plugin is enough.

use ferry_plugin_sdk::pipeline::{self, Source};
use ferry_plugin_sdk::{Diagnostic, Plugin, PluginInfo, RenderContext, RenderError, Rendered, Severity, Value};

/// The `source.provider` value this plugin serves.
pub const PROVIDER: &str = "GitLab";
/// Where GitLab repositories live.
pub const HOST: &str = "gitlab.com";

/// The `source:` section `pipeline init` writes.
pub const SOURCE_TEMPLATE: &str = "source:
  provider: GitLab
  properties:
    branch: {{branch}}
    repository: {{url}}
    # Optional: an existing CodeStar connection, by name or ARN. Without one,
    # the pipeline creates a connection you complete once in the console.
    # connection_name: my-connection
";

pub struct GitLabSource;

fn check(source: &Source) -> Result<String, Vec<Diagnostic>> {
    let mut out = pipeline::check_common(&source.properties, true);
    let id = pipeline::repository_id(&source.properties.repository, HOST, PROVIDER);
    if let Err(d) = &id {
        out.push(d.clone());
    }
    if out.iter().any(|d| d.severity == Severity::Error) { Err(out) } else { Ok(id.unwrap_or_default()) }
}

impl Plugin for GitLabSource {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "gitlab".into(),
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
ferry_plugin_sdk::export_plugin!(GitLabSource, pipeline_provider);
