//! The ferry plugin SDK.
//!
//! A plugin is a WebAssembly component that turns one manifest into a
//! CloudFormation fragment. Implement [`Plugin`] and export it with one macro:
//!
//! ```ignore
//! struct MyService;
//! impl ferry_plugin_sdk::Plugin for MyService { /* info, validate, render */ }
//! ferry_plugin_sdk::export_plugin!(MyService, service);
//! ```
//!
//! The SDK hides the WIT bindings: manifests arrive as [`serde_json::Value`],
//! templates leave as a [`cfn::Template`], and problems are [`Diagnostic`]s
//! located by JSON pointer so the host can print `file:line:col`.

pub mod alloc;
pub mod cfn;
pub mod diag;
pub mod dns;
#[doc(hidden)]
pub mod json;
pub mod located;
pub mod manifest;
pub mod pipeline;
pub mod storage;
pub mod workload;

#[doc(hidden)]
pub mod bindings;
#[doc(hidden)]
pub mod export;
#[cfg(not(target_arch = "wasm32"))]
pub mod native;

pub use diag::{Diagnostic, Severity};
pub use ferry_plugin_protocol as protocol;
pub use ferry_plugin_protocol::RenderContext;
pub use ferry_plugin_protocol::host_steps::{self, HostStep, S3Upload, UploadRule};
pub use manifest::parse_manifest;
pub use schemars;
pub use serde_json::Value;

/// The version of the plugin ABI (WIT package `ferry:plugin`) this SDK targets.
pub const WIT_VERSION: &str = "0.4.0";

/// What a plugin produces; selects the WIT world it is exported as.
pub use ferry_plugin_protocol::PluginKind;

/// Static description of a plugin, as its author writes it; the export
/// macros add the kind, documentation and declared host steps and send it
/// as the protocol's [`protocol::PluginInfo`] (see [`describe`]).
#[derive(Debug, Clone)]
pub struct PluginInfo {
    pub name: String,
    pub version: String,
    pub description: String,
    /// Manifest `type:` strings this plugin renders.
    pub manifest_types: Vec<String>,
    /// JSON Schema of the manifest (see [`manifest::schema_for`]).
    pub manifest_schema: Value,
    /// Commented YAML written by `init`; `{{name}}` is replaced by the host.
    pub manifest_template: String,
}

/// A rendered CloudFormation fragment and the values for its parameters.
#[derive(Debug, Clone, Default)]
pub struct Rendered {
    pub template: cfn::Template,
    pub parameters: indexmap::IndexMap<String, Value>,
}

/// Why rendering did not produce a template.
#[derive(Debug, Clone)]
pub enum RenderError {
    /// The manifest is wrong; the diagnostics say where.
    Invalid(Vec<Diagnostic>),
    /// Anything else.
    Failed(String),
}

impl From<Vec<Diagnostic>> for RenderError {
    fn from(diagnostics: Vec<Diagnostic>) -> Self {
        RenderError::Invalid(diagnostics)
    }
}

impl From<Diagnostic> for RenderError {
    fn from(diagnostic: Diagnostic) -> Self {
        RenderError::Invalid(vec![diagnostic])
    }
}

/// Implemented by every plugin. All methods are pure: the sandbox grants no
/// files, network, environment or clock, and the host may call them in any
/// order, on fresh instances, many times.
pub trait Plugin {
    fn info() -> PluginInfo;

    /// URL of the manifest reference for this plugin's types, shown by
    /// `ferry plugin inspect` (plugin ABI 0.2 and later).
    fn documentation() -> Option<String> {
        None
    }

    /// Kinds of host step this plugin may ask for (plugin ABI 0.3 and
    /// later), e.g. [`host_steps::S3_UPLOAD`]. Users see them at `ferry plugin
    /// install` and `ferry plugin inspect`; a requested step of an undeclared
    /// kind is refused by the host.
    fn declared_host_steps() -> Vec<&'static str> {
        Vec::new()
    }

    /// Host actions a successful render of `manifest` asks for, returned to
    /// the host beside the template (never inside it: the host ignores
    /// template `Metadata`). The host checks each step against the rendered
    /// stack, e.g. an upload's bucket must be an `AWS::S3::Bucket` of it.
    fn host_steps(_manifest: &Value, _context: &RenderContext) -> Vec<HostStep> {
        Vec::new()
    }

    /// Checks a manifest without rendering it. Errors stop a deploy; warnings
    /// are shown. The default renders against an empty context and reports
    /// what that finds.
    fn validate(manifest: &Value) -> Vec<Diagnostic> {
        let context = RenderContext::default();
        match Self::render(manifest, &context) {
            Ok(_) => Vec::new(),
            Err(RenderError::Invalid(diagnostics)) => diagnostics,
            Err(RenderError::Failed(message)) => vec![Diagnostic::error("", message)],
        }
    }

    fn render(manifest: &Value, context: &RenderContext) -> Result<Rendered, RenderError>;
}

/// The protocol description of plugin `P` exported as `kind`: what both
/// the WIT export and the native export answer to `info`.
pub fn describe<P: Plugin>(kind: PluginKind) -> protocol::PluginInfo {
    let info = P::info();
    protocol::PluginInfo {
        name: info.name,
        version: info.version,
        kind,
        description: info.description,
        manifest_types: info.manifest_types,
        manifest_schema: info.manifest_schema,
        manifest_template: info.manifest_template,
        documentation: P::documentation(),
        host_steps: P::declared_host_steps().into_iter().map(str::to_string).collect(),
    }
}

/// What a render of plugin `P` answers, as the protocol's
/// [`protocol::RenderOutcome`]: the template, its parameter values, the
/// resource descriptions and the host steps asked for.
pub fn render_outcome<P: Plugin>(manifest: &Value, context: &RenderContext) -> protocol::RenderOutcome {
    match P::render(manifest, context) {
        Ok(rendered) => protocol::RenderOutcome::Rendered(protocol::Rendered {
            descriptions: rendered.template.descriptions().map(|(id, d)| (id.to_string(), d.to_string())).collect(),
            template: rendered.template.into_json(),
            parameters: rendered.parameters.into_iter().collect(),
            host_steps: P::host_steps(manifest, context),
        }),
        Err(RenderError::Invalid(diagnostics)) => protocol::RenderOutcome::Invalid(diagnostics),
        Err(RenderError::Failed(message)) => protocol::RenderOutcome::Failed(message),
    }
}

/// Logs through the host (shown with `--verbose`); the only capability a
/// plugin has besides computing.
pub fn log(message: &str) {
    // Native builds (unit tests, native plugins) have no host import: stderr.
    #[cfg(target_arch = "wasm32")]
    bindings::log_info(message);
    #[cfg(not(target_arch = "wasm32"))]
    eprintln!("{message}");
}
