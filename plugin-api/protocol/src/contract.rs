//! What a plugin is and what it answers, as every side of the boundary
//! sees it. The WIT interface carries the same shapes field for field; the
//! native ABI carries them as the JSON these types (de)serialise to.

use crate::host_steps::HostStep;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt;

/// What a plugin produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PluginKind {
    /// Service types (`svc`).
    Service,
    /// Job types (`job`).
    Job,
    /// Release pipeline source providers.
    PipelineProvider,
    /// Environments.
    Environment,
    /// Storage types of `storage init` (plugin ABI 0.4 and later).
    Storage,
}

impl PluginKind {
    /// Every kind.
    pub const ALL: [PluginKind; 5] = [
        PluginKind::Service,
        PluginKind::Job,
        PluginKind::PipelineProvider,
        PluginKind::Environment,
        PluginKind::Storage,
    ];

    /// The kind's name: `service`, `job`, `pipeline-provider`,
    /// `environment`, `storage` (also the name of its WIT interface).
    pub fn as_str(self) -> &'static str {
        match self {
            PluginKind::Service => "service",
            PluginKind::Job => "job",
            PluginKind::PipelineProvider => "pipeline-provider",
            PluginKind::Environment => "environment",
            PluginKind::Storage => "storage",
        }
    }

    /// The kind named as [`as_str`](Self::as_str) writes it.
    pub fn parse(text: &str) -> Option<PluginKind> {
        PluginKind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

impl fmt::Display for PluginKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How bad a [`Diagnostic`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Stops the command.
    Error,
    /// Shown, does not stop.
    Warning,
}

/// A problem located by JSON pointer into the effective manifest; the host
/// maps the pointer back to `file:line:col`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    /// How bad.
    pub severity: Severity,
    /// JSON pointer into the manifest (`""` for the whole manifest).
    #[serde(default)]
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// What to do.
    #[serde(default)]
    pub hint: Option<String>,
}

impl Diagnostic {
    /// An error at `path`.
    pub fn error(path: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic { severity: Severity::Error, path: path.into(), message: message.into(), hint: None }
    }

    /// A warning at `path`.
    pub fn warning(path: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic { severity: Severity::Warning, path: path.into(), message: message.into(), hint: None }
    }

    /// The same diagnostic with a hint.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// "not supported yet" for a manifest field ferry recognises but does not
    /// render: refusing beats silently ignoring it.
    pub fn unsupported(path: impl Into<String>, field: &str) -> Self {
        Diagnostic::error(path, format!("not supported yet: {field}"))
            .with_hint("remove the field, or follow the ferry issue tracker for support")
    }
}

/// A plugin's description of itself, as it crosses the boundary (the host
/// checks it before believing any of it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PluginInfo {
    /// Unique name.
    pub name: String,
    /// The plugin's own version.
    pub version: String,
    /// What it produces.
    pub kind: PluginKind,
    /// One line for `plugin ls`.
    #[serde(default)]
    pub description: String,
    /// Manifest `type:` strings it renders.
    pub manifest_types: Vec<String>,
    /// JSON Schema of its manifest (`null` when it has none).
    #[serde(default)]
    pub manifest_schema: Value,
    /// Commented manifest for `init`; `{{name}}` is replaced by the host.
    #[serde(default)]
    pub manifest_template: String,
    /// URL of the plugin's manifest reference.
    #[serde(default)]
    pub documentation: Option<String>,
    /// Kinds of host step it may ask for ([`crate::host_steps::S3_UPLOAD`]).
    #[serde(default)]
    pub host_steps: Vec<String>,
}

/// A plugin's CloudFormation fragment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rendered {
    /// The template fragment (a JSON object).
    pub template: Value,
    /// Parameter values.
    #[serde(default)]
    pub parameters: Map<String, Value>,
    /// (logical id, description) of resources, for deploy progress; each a
    /// two-element array in JSON.
    #[serde(default)]
    pub descriptions: Vec<(String, String)>,
    /// Host actions this render asks for, each of a kind the plugin declared
    /// (the host still checks each against the stack before acting).
    #[serde(default)]
    pub host_steps: Vec<HostStep>,
}

/// The answer of a render that ran to completion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RenderOutcome {
    /// A template.
    Rendered(Rendered),
    /// The manifest is wrong.
    Invalid(Vec<Diagnostic>),
    /// The plugin gave up for another reason.
    Failed(String),
}
