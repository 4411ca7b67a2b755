//! Helpers for `pipeline-provider` plugins: reading the `source` section of
//! a pipeline manifest, parsing repository URLs, and rendering the source
//! action of a CodeStar Connections provider (GitHub, Bitbucket, GitLab...).
//!
//! A provider gets the whole pipeline manifest, so every diagnostic it
//! returns carries a pointer under `/source` that the host maps to
//! `file:line:col`.

use crate::cfn::{self, Resource, Template};
use crate::diag::Diagnostic;
use crate::{RenderContext, Rendered, Value, json};
pub use ferry_plugin_protocol::pipeline::{
    CONNECTION_PARAMETER, Connection, PIPELINE_LOGICAL_ID, SOURCE_ARTIFACT, SOURCE_METADATA, SourceStage,
};
use serde::Deserialize;

/// `source.properties` of a pipeline manifest, as Copilot defines it.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceProperties {
    /// Repository URL.
    pub repository: String,
    /// Branch to follow; `main` when absent.
    #[serde(default)]
    pub branch: Option<String>,
    /// Name of an existing CodeStar connection.
    #[serde(default)]
    pub connection_name: Option<String>,
    /// ARN of an existing CodeStar connection.
    #[serde(default)]
    pub connection_arn: Option<String>,
    /// `CODE_ZIP` (default) or `CODEBUILD_CLONE_REF` (full clone in the build).
    #[serde(default)]
    pub output_artifact_format: Option<String>,
    /// GitHub version 1 (OAuth token) sources: not offered, see the hint.
    #[serde(default)]
    pub access_token_secret: Option<String>,
}

/// The `source` section of a pipeline manifest.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub provider: String,
    pub properties: SourceProperties,
}

/// The JSON Schema of the `source` section, for `plugin inspect`.
pub fn source_schema() -> Value {
    crate::manifest::schema_for::<Source>()
}

/// Reads `/source` of a pipeline manifest; diagnostics point under `/source`.
pub fn parse_source(manifest: &Value) -> Result<Source, Vec<Diagnostic>> {
    let Some(source) = manifest.get("source") else {
        return Err(vec![
            Diagnostic::error("", "missing required field `source`")
                .with_hint("add `source: {provider: ..., properties: {repository: ..., branch: main}}`"),
        ]);
    };
    crate::parse_manifest::<Source>(source).map_err(|diagnostics| {
        diagnostics
            .into_iter()
            .map(|mut d| {
                d.path = format!("/source{}", d.path);
                d
            })
            .collect()
    })
}

/// The branch to follow: `main` unless the manifest says otherwise.
pub fn branch(props: &SourceProperties) -> String {
    props.branch.clone().unwrap_or_else(|| "main".to_string())
}

/// Checks the properties every provider shares: the artifact format and the
/// connection fields. `connections` is false for providers without one.
pub fn check_common(props: &SourceProperties, connections: bool) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    if let Some(format) = &props.output_artifact_format
        && format != "CODE_ZIP"
        && format != "CODEBUILD_CLONE_REF"
    {
        out.push(
            Diagnostic::error(
                "/source/properties/output_artifact_format",
                format!("unknown output artifact format `{format}`"),
            )
            .with_hint("use `CODE_ZIP` (default) or `CODEBUILD_CLONE_REF`"),
        );
    }
    if props.branch.as_deref().is_some_and(|b| b.trim().is_empty()) {
        out.push(
            Diagnostic::error("/source/properties/branch", "the branch is empty").with_hint("e.g. `branch: main`"),
        );
    }
    if props.access_token_secret.is_some() {
        out.push(
            Diagnostic::error(
                "/source/properties/access_token_secret",
                "GitHub version 1 sources (OAuth token secrets) are not supported",
            )
            .with_hint("remove `access_token_secret`: ferry connects through a CodeStar connection instead"),
        );
    }
    if connections {
        if props.connection_name.is_some() && props.connection_arn.is_some() {
            out.push(
                Diagnostic::error(
                    "/source/properties/connection_arn",
                    "`connection_name` and `connection_arn` both name a connection",
                )
                .with_hint("keep one of them"),
            );
        }
        if let Some(arn) = &props.connection_arn
            && !is_connection_arn(arn)
        {
            out.push(
                Diagnostic::error(
                    "/source/properties/connection_arn",
                    format!("`{arn}` is not a CodeStar connection ARN"),
                )
                .with_hint("it looks like arn:aws:codestar-connections:<region>:<account>:connection/<id>"),
            );
        }
    } else {
        for field in ["connection_name", "connection_arn"] {
            let set = if field == "connection_name" { &props.connection_name } else { &props.connection_arn };
            if set.is_some() {
                out.push(
                    Diagnostic::error(
                        format!("/source/properties/{field}"),
                        format!("this provider does not use a connection: `{field}` has no effect"),
                    )
                    .with_hint(format!("remove `{field}`")),
                );
            }
        }
    }
    out
}

fn is_connection_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.split(':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && (parts[2] == "codestar-connections" || parts[2] == "codeconnections")
        && parts[5].starts_with("connection/")
}

/// `owner/repo` from a repository URL on `host` (https or ssh form, with or
/// without `.git`); an error diagnostic at `/source/properties/repository`
/// otherwise, naming the provider and the URL shape it expects.
pub fn repository_id(url: &str, host: &str, provider: &str) -> Result<String, Diagnostic> {
    let trimmed = url.trim().trim_end_matches('/');
    let path = trimmed
        .strip_prefix(&format!("https://{host}/"))
        .or_else(|| trimmed.strip_prefix(&format!("http://{host}/")))
        .or_else(|| trimmed.strip_prefix(&format!("git@{host}:")))
        .or_else(|| trimmed.strip_prefix(&format!("ssh://git@{host}/")));
    let path = path.map(|p| p.strip_suffix(".git").unwrap_or(p));
    let valid = path.filter(|p| {
        let segments: Vec<&str> = p.split('/').collect();
        segments.len() >= 2
            && segments
                .iter()
                .all(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)))
    });
    match valid {
        Some(id) => Ok(id.to_string()),
        None => Err(Diagnostic::error(
            "/source/properties/repository",
            format!("`{url}` is not a {provider} repository URL"),
        )
        .with_hint(format!(
            "{provider} repositories look like https://{host}/<owner>/<repo>; check `provider:` if the repository lives elsewhere"
        ))),
    }
}

/// Logical ID of the connection a connection provider creates.
pub const CONNECTION_LOGICAL_ID: &str = "SourceConnection";

/// Renders the source of a CodeStar Connections provider: the connection
/// (created unless the manifest names one), the `CodeStarSourceConnection`
/// action and the permissions to use the connection.
///
/// `provider_type` is the connection's `ProviderType` (`GitHub`,
/// `Bitbucket`, `GitLab`, `GitHubEnterpriseServer`...).
pub fn render_connection_source(
    props: &SourceProperties,
    repository_id: &str,
    provider_type: &str,
    context: &RenderContext,
) -> Rendered {
    let mut template = Template::new();
    let mut parameters = indexmap::IndexMap::new();
    let connection = if let Some(arn) = &props.connection_arn {
        Connection { arn: Value::String(arn.clone()), name: None, created: false }
    } else if let Some(name) = &props.connection_name {
        template.parameter(
            CONNECTION_PARAMETER,
            cfn::Parameter::string().description(&format!("ARN of the CodeStar connection named {name}")),
        );
        parameters.insert(CONNECTION_PARAMETER.to_string(), Value::String(String::new()));
        Connection { arn: cfn::ref_(CONNECTION_PARAMETER), name: Some(name.clone()), created: false }
    } else {
        template.resource(
            CONNECTION_LOGICAL_ID,
            Resource::new("AWS::CodeStarConnections::Connection")
                .prop("ConnectionName", connection_name(&context.app, &context.name))
                .prop("ProviderType", provider_type)
                .prop(
                    "Tags",
                    json!([
                        cfn::tag("copilot-application", context.app.as_str()),
                        cfn::tag("copilot-pipeline", context.name.as_str())
                    ]),
                )
                .describe(&format!("Connection to {provider_type} (complete it once in the console)")),
        );
        Connection { arn: cfn::ref_(CONNECTION_LOGICAL_ID), name: None, created: true }
    };
    let format = props.output_artifact_format.clone().unwrap_or_else(|| "CODE_ZIP".to_string());
    let branch = branch(props);
    let action = json!({
        "Name": "Source",
        "ActionTypeId": {"Category": "Source", "Owner": "AWS", "Provider": "CodeStarSourceConnection", "Version": "1"},
        "Configuration": {
            "ConnectionArn": connection.arn.clone(),
            "FullRepositoryId": repository_id,
            "BranchName": &branch,
            "OutputArtifactFormat": &format,
            "DetectChanges": true
        },
        "OutputArtifacts": [{"Name": SOURCE_ARTIFACT}],
        "RunOrder": 1
    });
    let use_connection = json!({
        "Sid": "UseSourceConnection",
        "Effect": "Allow",
        "Action": ["codestar-connections:UseConnection", "codeconnections:UseConnection"],
        "Resource": connection.arn.clone()
    });
    let stage = SourceStage {
        action,
        pipeline_role_statements: vec![use_connection.clone()],
        build_role_statements: if format == "CODEBUILD_CLONE_REF" { vec![use_connection] } else { Vec::new() },
        connection: Some(connection),
        repository: props.repository.clone(),
        branch,
    };
    set_source_stage(&mut template, &stage);
    Rendered { template, parameters }
}

/// The name of a connection a pipeline creates: CodeStar allows 32
/// characters, so long names are cut.
pub fn connection_name(app: &str, pipeline: &str) -> String {
    let mut name = format!("{app}-{pipeline}");
    name.truncate(32);
    name.trim_end_matches('-').to_string()
}

/// Stores the source stage where the host reads it.
pub fn set_source_stage(template: &mut Template, stage: &SourceStage) {
    template.metadata.insert(SOURCE_METADATA.to_string(), serde_json::to_value(stage).unwrap_or(Value::Null));
}

/// A source provider reached through a CodeStar connection (GitHub,
/// Bitbucket, GitLab...). Its constants are the whole plugin: every such
/// provider validates and renders the same way, so implementing this trait
/// implements [`crate::Plugin`].
pub trait ConnectionProvider {
    /// The plugin's name (`github`).
    const NAME: &'static str;
    /// The `source.provider` value served, which is also the connection's
    /// `ProviderType` (`GitHub`).
    const PROVIDER: &'static str;
    /// Where the provider's repositories live (`github.com`).
    const HOST: &'static str;
    /// The plugin crate's version and description: pass
    /// `env!("CARGO_PKG_VERSION")` and `env!("CARGO_PKG_DESCRIPTION")`.
    const VERSION: &'static str;
    const DESCRIPTION: &'static str;

    /// Where its authors document it, shown by `ferry plugin inspect`.
    fn documentation() -> Option<String> {
        None
    }
}

/// The `source:` section `pipeline init` writes for a connection provider.
pub fn connection_source_template(provider: &str) -> String {
    format!(
        "source:
  provider: {provider}
  properties:
    branch: {{{{branch}}}}
    repository: {{{{url}}}}
    # Optional: an existing CodeStar connection, by name or ARN. Without one,
    # the pipeline creates a connection you complete once in the console.
    # connection_name: my-connection
"
    )
}

/// The repository ID (`owner/repo`) of a valid `source:`, or every problem.
fn check_connection_source<P: ConnectionProvider>(source: &Source) -> Result<String, Vec<Diagnostic>> {
    let mut out = check_common(&source.properties, true);
    let id = repository_id(&source.properties.repository, P::HOST, P::PROVIDER);
    if let Err(d) = &id {
        out.push(d.clone());
    }
    if out.iter().any(|d| d.severity == crate::Severity::Error) { Err(out) } else { Ok(id.unwrap_or_default()) }
}

impl<P: ConnectionProvider> crate::Plugin for P {
    fn info() -> crate::PluginInfo {
        crate::PluginInfo {
            name: P::NAME.into(),
            version: P::VERSION.into(),
            description: P::DESCRIPTION.into(),
            manifest_types: vec![P::PROVIDER.into()],
            manifest_schema: source_schema(),
            manifest_template: connection_source_template(P::PROVIDER),
        }
    }

    fn documentation() -> Option<String> {
        <P as ConnectionProvider>::documentation()
    }

    fn validate(manifest: &Value) -> Vec<Diagnostic> {
        match parse_source(manifest).and_then(|s| check_connection_source::<P>(&s)) {
            Ok(_) => Vec::new(),
            Err(diagnostics) => diagnostics,
        }
    }

    fn render(manifest: &Value, context: &RenderContext) -> Result<Rendered, crate::RenderError> {
        let source = parse_source(manifest)?;
        let id = check_connection_source::<P>(&source)?;
        Ok(render_connection_source(&source.properties, &id, P::PROVIDER, context))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_ids_from_https_and_ssh_urls() {
        for url in [
            "https://github.com/acme/chat",
            "https://github.com/acme/chat.git",
            "git@github.com:acme/chat.git",
            "ssh://git@github.com/acme/chat",
            "https://github.com/acme/chat/",
        ] {
            assert_eq!(repository_id(url, "github.com", "GitHub").unwrap(), "acme/chat", "{url}");
        }
        // GitLab groups nest.
        assert_eq!(
            repository_id("https://gitlab.com/acme/platform/chat", "gitlab.com", "GitLab").unwrap(),
            "acme/platform/chat"
        );
    }

    #[test]
    fn other_hosts_and_shapes_are_refused_at_the_repository_field() {
        for url in [
            "https://bitbucket.org/acme/chat",
            "https://github.com/acme",
            "https://github.com.evil.io/acme/chat",
            "acme/chat",
        ] {
            let d = repository_id(url, "github.com", "GitHub").unwrap_err();
            assert_eq!(d.path, "/source/properties/repository", "{url}");
            assert!(d.message.contains("is not a GitHub repository URL"), "{url}: {}", d.message);
        }
    }

    #[test]
    fn source_diagnostics_point_under_source() {
        let manifest = json!({"source": {"provider": "GitHub", "properties": {"repository": "x", "brnch": "main"}}});
        let d = parse_source(&manifest).unwrap_err();
        assert_eq!(d[0].path, "/source/properties/brnch");
        assert_eq!(d[0].hint.as_deref(), Some("did you mean `branch`?"));
        let d = check_common(
            &SourceProperties {
                repository: "x".into(),
                connection_name: Some("a".into()),
                connection_arn: Some("b".into()),
                ..Default::default()
            },
            true,
        );
        assert!(d.iter().any(|d| d.message.contains("both name a connection")));
        assert!(d.iter().any(|d| d.message.contains("is not a CodeStar connection ARN")));
    }
}
