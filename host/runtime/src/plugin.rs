//! One loaded plugin: compiled once, pre-instantiated once, called in a fresh
//! store every time.

use crate::Runtime;
use crate::error::{PluginError, PluginErrorKind};
use crate::native::{self, NativeLibrary};
use crate::sandbox::{self, State};
use crate::wit::{self, Indices, RawRenderError, dispatch};
use serde_json::Value;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use wasmtime::component::{Component, Instance, InstancePre, types::ComponentItem};
use wasmtime::{Store, Trap};

/// What a plugin produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PluginKind {
    /// Service types (`svc`).
    Service,
    /// Job types (`job`).
    Job,
    /// Release pipeline source providers.
    PipelineProvider,
    /// Environments.
    Environment,
}

impl PluginKind {
    const ALL: [PluginKind; 4] =
        [PluginKind::Service, PluginKind::Job, PluginKind::PipelineProvider, PluginKind::Environment];

    /// The kind named as `Display` writes it (`service`, `job`, ...).
    pub fn parse(text: &str) -> Option<PluginKind> {
        PluginKind::ALL.into_iter().find(|k| k.interface() == text)
    }

    fn interface(self) -> &'static str {
        match self {
            PluginKind::Service => "service",
            PluginKind::Job => "job",
            PluginKind::PipelineProvider => "pipeline-provider",
            PluginKind::Environment => "environment",
        }
    }
}

impl fmt::Display for PluginKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.interface())
    }
}

/// Where a plugin came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginOrigin {
    /// Embedded in the ferry binary.
    Bundled,
    /// Loaded from a `.wasm` file.
    File(PathBuf),
    /// Installed in the workspace and pinned in `copilot/plugins.lock`.
    Installed {
        /// The component on disk.
        path: PathBuf,
        /// Where it was installed from (path, URL or OCI reference).
        source: String,
    },
}

impl PluginOrigin {
    /// True for plugins shipped inside ferry.
    pub fn is_bundled(&self) -> bool {
        matches!(self, PluginOrigin::Bundled)
    }

    /// Where the plugin came from, as a user would name it: `bundled`, the
    /// file, or the URL/path it was installed from.
    pub fn source(&self) -> String {
        match self {
            PluginOrigin::Installed { source, .. } => source.clone(),
            other => other.to_string(),
        }
    }
}

impl fmt::Display for PluginOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PluginOrigin::Bundled => f.write_str("bundled"),
            PluginOrigin::File(path) | PluginOrigin::Installed { path, .. } => write!(f, "{}", path.display()),
        }
    }
}

/// A plugin's description, as it reported it plus what the host knows.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct PluginInfo {
    /// Unique name.
    pub name: String,
    /// The plugin's own version.
    pub version: String,
    /// What it produces.
    #[serde(with = "kind_serde")]
    pub kind: PluginKind,
    /// One line for `plugin ls`.
    pub description: String,
    /// Manifest `type:` strings it renders.
    pub manifest_types: Vec<String>,
    /// JSON Schema of its manifest.
    pub manifest_schema: Value,
    /// Commented manifest for `init`.
    pub manifest_template: String,
    /// URL of the plugin's manifest reference (ABI 0.2 and later).
    #[serde(default)]
    pub documentation: Option<String>,
    /// Kinds of host step it may ask for (`s3-upload`; ABI 0.3 and later),
    /// shown by `plugin install` and `plugin inspect`.
    #[serde(default)]
    pub host_steps: Vec<String>,
    /// The plugin ABI version it targets.
    pub wit_version: String,
    /// Hex sha256 of the component.
    #[serde(skip)]
    pub sha256: String,
    /// Where it came from.
    #[serde(skip, default = "bundled")]
    pub origin: PluginOrigin,
}

fn bundled() -> PluginOrigin {
    PluginOrigin::Bundled
}

mod kind_serde {
    use super::PluginKind;
    pub fn serialize<S: serde::Serializer>(kind: &PluginKind, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&kind.to_string())
    }
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<PluginKind, D::Error> {
        let text: String = serde::Deserialize::deserialize(d)?;
        PluginKind::ALL
            .into_iter()
            .find(|k| k.to_string() == text)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown plugin kind {text}")))
    }
}

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// Stops the command.
    Error,
    /// Shown, does not stop.
    Warning,
}

/// A problem a plugin found in a manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// How bad.
    pub severity: Severity,
    /// JSON pointer into the manifest.
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// What to do.
    pub hint: Option<String>,
}

/// A plugin's CloudFormation fragment.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The template fragment (a JSON object).
    pub template: Value,
    /// Parameter values.
    pub parameters: serde_json::Map<String, Value>,
    /// (logical id, description) of resources, for deploy progress.
    pub descriptions: Vec<(String, String)>,
    /// Host actions this render asks for, each of a kind the plugin declared
    /// (the host still checks each against the stack before acting).
    pub host_steps: Vec<ferry_plugin_protocol::host_steps::HostStep>,
}

/// The result of a render call that ran to completion.
#[derive(Debug, Clone)]
pub enum RenderOutcome {
    /// A template.
    Rendered(Rendered),
    /// The manifest is wrong.
    Invalid(Vec<Diagnostic>),
    /// The plugin gave up for another reason.
    Failed(String),
}

/// A loaded plugin. Cheap to clone; calls from many threads are fine.
#[derive(Clone)]
pub struct Plugin {
    inner: Arc<Inner>,
}

struct Inner {
    runtime: Arc<Runtime>,
    backend: Backend,
    kind: PluginKind,
    info: PluginInfo,
}

/// How calls reach the plugin: a sandboxed component or a trusted native library.
enum Backend {
    Wasm { pre: InstancePre<State>, indices: Arc<Indices> },
    Native(NativeLibrary),
}

impl Plugin {
    /// Compiles (or loads from cache), checks the ABI, pre-instantiates, and
    /// reads `info()` (from the cache when known). `label` names the plugin
    /// in errors until its info is known.
    pub(crate) fn load(
        runtime: Arc<Runtime>,
        label: &str,
        wasm: &[u8],
        sha256: &str,
        origin: PluginOrigin,
    ) -> Result<Plugin, PluginError> {
        let err = |kind| PluginError::new(label, kind);
        let component = runtime
            .cache
            .component(&runtime.engine, sha256, wasm)
            .map_err(|e| err(PluginErrorKind::Compile(format!("{e:#}"))))?;
        let (kind, wit_version) = detect_kind(&runtime, &component).map_err(err)?;
        let pre = runtime
            .linker
            .instantiate_pre(&component)
            .map_err(|e| err(PluginErrorKind::Instantiate(format!("{e:#}"))))?;
        let indices = Arc::new(
            Indices::new(&wit_version, kind, &pre).map_err(|e| err(PluginErrorKind::Instantiate(format!("{e:#}"))))?,
        );
        let mut plugin = Plugin {
            inner: Arc::new(Inner {
                runtime: runtime.clone(),
                backend: Backend::Wasm { pre: pre.clone(), indices: indices.clone() },
                kind,
                info: PluginInfo {
                    name: label.to_string(),
                    version: String::new(),
                    kind,
                    description: String::new(),
                    manifest_types: Vec::new(),
                    manifest_schema: Value::Null,
                    manifest_template: String::new(),
                    documentation: None,
                    host_steps: Vec::new(),
                    wit_version: wit_version.clone(),
                    sha256: sha256.to_string(),
                    origin: origin.clone(),
                },
            }),
        };
        let mut info = match runtime.cache.info(sha256).and_then(|json| serde_json::from_str::<PluginInfo>(&json).ok())
        {
            Some(info) => info,
            None => {
                let info = plugin.call_info()?;
                if let Ok(json) = serde_json::to_string(&info) {
                    runtime.cache.store_info(sha256, &json);
                }
                info
            }
        };
        info.sha256 = sha256.to_string();
        info.origin = origin;
        info.wit_version = wit_version;
        info.kind = kind;
        plugin.inner = Arc::new(Inner { runtime, backend: Backend::Wasm { pre, indices }, kind, info });
        Ok(plugin)
    }

    /// Loads a native library from its bytes (already verified against the
    /// lock and marked trusted by the caller; `path` is where it is
    /// installed, for messages), warns that it is not sandboxed, and
    /// asks its `info`.
    pub(crate) fn load_native(
        runtime: Arc<Runtime>,
        label: &str,
        path: &Path,
        library: &[u8],
        sha256: &str,
        origin: PluginOrigin,
    ) -> Result<Plugin, PluginError> {
        let err = |kind| PluginError::new(label, kind);
        native::warn_unsandboxed(&runtime, label, path);
        let library = NativeLibrary::open_verified(path, library).map_err(err)?;
        let raw = library.call("info", "").map_err(err)?;
        let info: NativeInfo = serde_json::from_value(raw).map_err(|e| {
            err(PluginErrorKind::BadOutput(format!("its info is not what the native ABI promises: {e}")))
        })?;
        if info.name.trim().is_empty() {
            return Err(err(PluginErrorKind::BadOutput("info() has an empty name".into())));
        }
        caps::info(
            &info.name,
            &info.version,
            &info.description,
            &info.manifest_types,
            &info.manifest_template,
            info.documentation.as_deref(),
        )
        .map_err(|what| err(PluginErrorKind::TooLarge(what)))?;
        let info = PluginInfo {
            name: info.name,
            version: info.version,
            kind: info.kind,
            description: info.description,
            manifest_types: info.manifest_types,
            manifest_schema: info.manifest_schema,
            manifest_template: info.manifest_template,
            documentation: info.documentation,
            // The native ABI has no host steps.
            host_steps: Vec::new(),
            wit_version: native::NATIVE_ABI_LABEL.to_string(),
            sha256: sha256.to_string(),
            origin,
        };
        Ok(Plugin { inner: Arc::new(Inner { runtime, backend: Backend::Native(library), kind: info.kind, info }) })
    }

    /// True for a native (unsandboxed) plugin.
    pub fn is_native(&self) -> bool {
        matches!(self.inner.backend, Backend::Native(_))
    }

    /// Reads info from cache if known, without loading the component; used
    /// by the registry to route manifest types on a warm cache.
    pub(crate) fn cached_info(runtime: &Runtime, sha256: &str) -> Option<PluginInfo> {
        runtime.cache.info(sha256).and_then(|json| serde_json::from_str(&json).ok())
    }

    /// The plugin's description.
    pub fn info(&self) -> &PluginInfo {
        &self.inner.info
    }

    fn name(&self) -> &str {
        &self.inner.info.name
    }

    /// Runs `f` against a fresh instance, mapping traps to limit errors.
    fn with_instance<R>(
        &self,
        f: impl FnOnce(&Indices, &mut Store<State>, &Instance) -> wasmtime::Result<R>,
    ) -> Result<R, PluginError> {
        let runtime = &self.inner.runtime;
        let Backend::Wasm { pre, indices } = &self.inner.backend else {
            return Err(PluginError::new(self.name(), PluginErrorKind::BadOutput("not a WebAssembly plugin".into())));
        };
        let mut store = sandbox::store(&runtime.engine, runtime.limits, runtime.epoch_ticks);
        let result = (|| {
            let instance = pre.instantiate(&mut store)?;
            f(indices, &mut store, &instance)
        })();
        runtime.plugin_logs(self.name(), std::mem::take(&mut store.data_mut().logs));
        result.map_err(|e| self.classify(e, &store))
    }

    fn classify(&self, error: wasmtime::Error, store: &Store<State>) -> PluginError {
        let state = store.data();
        let message = format!("{error:#}");
        let kind = if state.limiter.hit {
            PluginErrorKind::OutOfMemory { limit_bytes: state.limiter.max_bytes }
        } else if let Some(at) = message.find("resource limit exceeded: ") {
            let what = message[at + "resource limit exceeded: ".len()..].lines().next().unwrap_or_default();
            let limits = &self.inner.runtime.limits;
            PluginErrorKind::ResourceLimit {
                what: what.to_string(),
                limits: format!(
                    "{} instances, {} memories, {} tables per call",
                    limits.instances, limits.memories, limits.tables
                ),
            }
        } else if matches!(error.downcast_ref::<Trap>(), Some(Trap::Interrupt)) {
            PluginErrorKind::Timeout { limit_ms: self.inner.runtime.limits.time.as_millis() }
        } else {
            PluginErrorKind::Crashed { trap: trap_summary(&error), panic: panic_message(&state.stderr.contents()) }
        };
        PluginError::new(self.name(), kind)
    }

    fn call_info(&self) -> Result<PluginInfo, PluginError> {
        let raw = self.with_instance(|indices, store, instance| dispatch!(indices, info, store, instance))?;
        if raw.name.trim().is_empty() {
            return Err(PluginError::new(self.name(), PluginErrorKind::BadOutput("info() has an empty name".into())));
        }
        caps::info(
            &raw.name,
            &raw.version,
            &raw.description,
            &raw.manifest_types,
            &raw.manifest_template,
            raw.documentation.as_deref(),
        )
        .map_err(|what| PluginError::new(self.name(), PluginErrorKind::TooLarge(what)))?;
        if raw.manifest_schema.len() > caps::SCHEMA_BYTES {
            let what =
                format!("a manifest schema of {} bytes (at most {})", raw.manifest_schema.len(), caps::SCHEMA_BYTES);
            return Err(PluginError::new(self.name(), PluginErrorKind::TooLarge(what)));
        }
        // From here on the plugin has told us its name: use it in errors.
        let bad = |what: String| PluginError::new(raw.name.clone(), PluginErrorKind::BadOutput(what));
        let manifest_schema: Value = if raw.manifest_schema.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&raw.manifest_schema)
                .map_err(|e| bad(format!("info() manifest schema is not JSON: {e}")))?
        };
        let kind = raw.kind;
        if kind != self.inner.kind {
            return Err(bad(format!(
                "info() says kind `{kind}` but the component exports the `{}` interface",
                self.inner.kind
            )));
        }
        Ok(PluginInfo {
            name: raw.name,
            version: raw.version,
            kind,
            description: raw.description,
            manifest_types: raw.manifest_types,
            manifest_schema,
            manifest_template: raw.manifest_template,
            documentation: raw.documentation,
            host_steps: raw.host_steps,
            wit_version: self.inner.info.wit_version.clone(),
            sha256: self.inner.info.sha256.clone(),
            origin: self.inner.info.origin.clone(),
        })
    }

    /// Checks a manifest (effective manifest, JSON text).
    pub fn validate(&self, manifest_json: &str) -> Result<Vec<Diagnostic>, PluginError> {
        if let Backend::Native(library) = &self.inner.backend {
            let err = |kind| PluginError::new(self.name(), kind);
            let raw = library.call("validate", manifest_json).map_err(err)?;
            let diagnostics: Vec<NativeDiagnostic> = serde_json::from_value(raw)
                .map_err(|e| err(PluginErrorKind::BadOutput(format!("its diagnostics are malformed: {e}"))))?;
            let diagnostics: Vec<Diagnostic> = diagnostics.into_iter().map(Diagnostic::from).collect();
            caps::diagnostics(&diagnostics).map_err(|what| err(PluginErrorKind::TooLarge(what)))?;
            return Ok(diagnostics);
        }
        let diagnostics = self
            .with_instance(|indices, store, instance| dispatch!(indices, validate, store, instance, manifest_json))?;
        caps::diagnostics(&diagnostics)
            .map_err(|what| PluginError::new(self.name(), PluginErrorKind::TooLarge(what)))?;
        Ok(diagnostics)
    }

    /// Renders a manifest with a render context (both JSON text).
    pub fn render(&self, manifest_json: &str, context_json: &str) -> Result<RenderOutcome, PluginError> {
        if let Backend::Native(library) = &self.inner.backend {
            return self.render_native(library, manifest_json, context_json);
        }
        let raw = self.with_instance(|indices, store, instance| {
            dispatch!(indices, render, store, instance, manifest_json, context_json)
        })?;
        let bad = |what: String| PluginError::new(self.name(), PluginErrorKind::BadOutput(what));
        let too_large = |what: String| PluginError::new(self.name(), PluginErrorKind::TooLarge(what));
        match raw {
            Ok(rendered) => {
                caps::rendered(&rendered.template, &rendered.parameters, &rendered.descriptions).map_err(too_large)?;
                let template: Value = serde_json::from_str(&rendered.template)
                    .map_err(|e| bad(format!("its template is not JSON ({e})")))?;
                if !template.is_object() {
                    return Err(bad("its template is not a JSON object".into()));
                }
                let parameters = match serde_json::from_str::<Value>(&rendered.parameters) {
                    Ok(Value::Object(map)) => map,
                    Ok(_) => return Err(bad("its parameter values are not a JSON object".into())),
                    Err(e) => return Err(bad(format!("its parameter values are not JSON ({e})"))),
                };
                let rules: usize = rendered
                    .host_steps
                    .iter()
                    .map(|s| match s {
                        ferry_plugin_protocol::host_steps::HostStep::S3Upload(u) => u.files.len(),
                    })
                    .sum();
                if rendered.host_steps.len() > 16 || rules > 1000 {
                    return Err(too_large(format!(
                        "it asked for {} host steps with {rules} file rules (at most 16 steps and 1000 rules)",
                        rendered.host_steps.len()
                    )));
                }
                if let Some(step) =
                    rendered.host_steps.iter().find(|s| !self.inner.info.host_steps.iter().any(|k| k == s.kind()))
                {
                    return Err(bad(format!(
                        "it asked for a `{}` host step it did not declare in info() (declared: {})",
                        step.kind(),
                        if self.inner.info.host_steps.is_empty() {
                            "none".to_string()
                        } else {
                            self.inner.info.host_steps.join(", ")
                        }
                    )));
                }
                Ok(RenderOutcome::Rendered(Rendered {
                    template,
                    parameters,
                    descriptions: rendered.descriptions,
                    host_steps: rendered.host_steps,
                }))
            }
            Err(RawRenderError::Invalid(diagnostics)) => {
                caps::diagnostics(&diagnostics).map_err(too_large)?;
                Ok(RenderOutcome::Invalid(diagnostics))
            }
            Err(RawRenderError::Failed(message)) => {
                caps::text("its failure message", &message, caps::MESSAGE_BYTES).map_err(too_large)?;
                Ok(RenderOutcome::Failed(message))
            }
        }
    }
}

impl Plugin {
    fn render_native(
        &self,
        library: &NativeLibrary,
        manifest_json: &str,
        context_json: &str,
    ) -> Result<RenderOutcome, PluginError> {
        let err = |kind| PluginError::new(self.name(), kind);
        let bad = |what: String| err(PluginErrorKind::BadOutput(what));
        let input = format!(r#"{{"manifest":{manifest_json},"context":{context_json}}}"#);
        let raw = library.call("render", &input).map_err(err)?;
        let answer: NativeRenderAnswer =
            serde_json::from_value(raw).map_err(|e| bad(format!("its render answer is malformed: {e}")))?;
        let too_large = |what: String| err(PluginErrorKind::TooLarge(what));
        Ok(match answer {
            NativeRenderAnswer::Rendered { template, parameters, descriptions } => {
                if !template.is_object() {
                    return Err(bad("its template is not a JSON object".into()));
                }
                let descriptions: Vec<(String, String)> = descriptions.into_iter().map(|[id, d]| (id, d)).collect();
                let (template_text, parameters_text) =
                    (template.to_string(), serde_json::Value::Object(parameters.clone()).to_string());
                caps::rendered(&template_text, &parameters_text, &descriptions).map_err(too_large)?;
                RenderOutcome::Rendered(Rendered { template, parameters, descriptions, host_steps: Vec::new() })
            }
            NativeRenderAnswer::Invalid(diagnostics) => {
                let diagnostics: Vec<Diagnostic> = diagnostics.into_iter().map(Diagnostic::from).collect();
                caps::diagnostics(&diagnostics).map_err(too_large)?;
                RenderOutcome::Invalid(diagnostics)
            }
            NativeRenderAnswer::Failed(message) => {
                caps::text("its failure message", &message, caps::MESSAGE_BYTES).map_err(too_large)?;
                RenderOutcome::Failed(message)
            }
        })
    }
}

/// Caps on everything a plugin returns: the host keeps, prints and uploads
/// these, so a plugin cannot make it hold or show without bound.
mod caps {
    use super::Diagnostic;

    /// One rendered template fragment (CloudFormation's own limit for a
    /// template in S3 is 1 MB; fragments are merged, so allow more).
    pub const TEMPLATE_BYTES: usize = 4 << 20;
    pub const PARAMETERS_BYTES: usize = 256 << 10;
    pub const DESCRIPTIONS: usize = 2_000;
    pub const DIAGNOSTICS: usize = 500;
    pub const MESSAGE_BYTES: usize = 8 << 10;
    pub const NAME_BYTES: usize = 255;
    pub const SHORT_BYTES: usize = 1 << 10;
    pub const MANIFEST_TYPES: usize = 64;
    pub const SCHEMA_BYTES: usize = 2 << 20;
    pub const MANIFEST_TEMPLATE_BYTES: usize = 256 << 10;

    pub fn text(what: &str, value: &str, max: usize) -> Result<(), String> {
        if value.len() > max {
            return Err(format!("{what} is {} bytes (at most {max})", value.len()));
        }
        Ok(())
    }

    fn list<T>(what: &str, items: &[T], max: usize) -> Result<(), String> {
        if items.len() > max {
            return Err(format!("{} {what} (at most {max})", items.len()));
        }
        Ok(())
    }

    pub fn info(
        name: &str,
        version: &str,
        description: &str,
        manifest_types: &[String],
        manifest_template: &str,
        documentation: Option<&str>,
    ) -> Result<(), String> {
        text("its name", name, NAME_BYTES)?;
        text("its version", version, SHORT_BYTES)?;
        text("its description", description, MESSAGE_BYTES)?;
        list("manifest types", manifest_types, MANIFEST_TYPES)?;
        for manifest_type in manifest_types {
            text("a manifest type", manifest_type, NAME_BYTES)?;
        }
        text("its manifest template", manifest_template, MANIFEST_TEMPLATE_BYTES)?;
        text("its documentation URL", documentation.unwrap_or_default(), SHORT_BYTES)
    }

    pub fn diagnostics(diagnostics: &[Diagnostic]) -> Result<(), String> {
        list("diagnostics", diagnostics, DIAGNOSTICS)?;
        for d in diagnostics {
            text("a diagnostic's path", &d.path, SHORT_BYTES)?;
            text("a diagnostic's message", &d.message, MESSAGE_BYTES)?;
            text("a diagnostic's hint", d.hint.as_deref().unwrap_or_default(), MESSAGE_BYTES)?;
        }
        Ok(())
    }

    pub fn rendered(template: &str, parameters: &str, descriptions: &[(String, String)]) -> Result<(), String> {
        text("its template", template, TEMPLATE_BYTES)?;
        text("its parameter values", parameters, PARAMETERS_BYTES)?;
        list("resource descriptions", descriptions, DESCRIPTIONS)?;
        for (id, description) in descriptions {
            text("a resource description's logical ID", id, NAME_BYTES)?;
            text("a resource description", description, SHORT_BYTES)?;
        }
        Ok(())
    }
}

/// `info` as the native ABI answers it.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct NativeInfo {
    name: String,
    version: String,
    #[serde(with = "kind_serde")]
    kind: PluginKind,
    #[serde(default)]
    description: String,
    manifest_types: Vec<String>,
    #[serde(default)]
    manifest_schema: Value,
    #[serde(default)]
    manifest_template: String,
    #[serde(default)]
    documentation: Option<String>,
}

/// A diagnostic as the native ABI answers it.
#[derive(serde::Deserialize)]
struct NativeDiagnostic {
    severity: String,
    #[serde(default)]
    path: String,
    message: String,
    #[serde(default)]
    hint: Option<String>,
}

impl From<NativeDiagnostic> for Diagnostic {
    fn from(d: NativeDiagnostic) -> Self {
        Diagnostic {
            severity: if d.severity == "warning" { Severity::Warning } else { Severity::Error },
            path: d.path,
            message: d.message,
            hint: d.hint,
        }
    }
}

/// `render` as the native ABI answers it.
#[derive(serde::Deserialize)]
#[serde(rename_all = "lowercase")]
enum NativeRenderAnswer {
    Rendered {
        template: Value,
        #[serde(default)]
        parameters: serde_json::Map<String, Value>,
        #[serde(default)]
        descriptions: Vec<[String; 2]>,
    },
    Invalid(Vec<NativeDiagnostic>),
    Failed(String),
}

/// Finds which ferry interface the component exports and at which version.
fn detect_kind(runtime: &Runtime, component: &Component) -> Result<(PluginKind, String), PluginErrorKind> {
    let ty = component.component_type();
    let mut exported = Vec::new();
    for (name, item) in ty.exports(&runtime.engine) {
        if matches!(item.ty, ComponentItem::ComponentInstance(_)) {
            exported.push(name.to_string());
        }
    }
    for name in &exported {
        let Some(rest) = name.strip_prefix(&format!("{}/", wit::PACKAGE)) else { continue };
        let Some((interface, version)) = rest.split_once('@') else { continue };
        let Some(kind) = PluginKind::ALL.into_iter().find(|k| k.interface() == interface) else { continue };
        if !abi_supported(version) {
            return Err(PluginErrorKind::UnsupportedAbi { version: version.to_string() });
        }
        return Ok((kind, version.to_string()));
    }
    Err(PluginErrorKind::NotAPlugin { exports: exported })
}

/// True when this host has bindings for `version`: same major.minor as a
/// supported version, any patch (a newer minor may add exports we lack).
fn abi_supported(version: &str) -> bool {
    let major_minor: Vec<&str> = version.split('.').take(2).collect();
    wit::SUPPORTED.contains(&major_minor.join(".").as_str())
}

fn trap_summary(error: &wasmtime::Error) -> String {
    match error.downcast_ref::<Trap>() {
        Some(Trap::StackOverflow) => "stack overflow".into(),
        Some(Trap::UnreachableCodeReached) => "it aborted (wasm `unreachable`)".into(),
        Some(trap) => trap.to_string(),
        None => format!("{error}").lines().next().unwrap_or_default().to_string(),
    }
}

/// The panic message from Rust's standard panic output, if the plugin printed one.
fn panic_message(stderr: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(stderr);
    let start = text.find("panicked at")?;
    let after = &text[start..];
    // "panicked at src/lib.rs:10:5:\nmessage\nnote: ..."
    let message: Vec<&str> = after.lines().skip(1).take_while(|l| !l.starts_with("note:")).collect();
    let message = message.join(" ").trim().to_string();
    Some(if message.is_empty() {
        after.lines().next().unwrap_or_default().to_string()
    } else {
        format!("panicked: {message}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abi_versions_match_on_major_and_minor() {
        assert!(abi_supported("0.1.0"));
        assert!(abi_supported("0.1.7"));
        assert!(abi_supported("0.2.0"));
        assert!(abi_supported("0.3.0"));
        assert!(!abi_supported("0.4.0"), "a newer minor is refused");
        assert!(!abi_supported("9.0.0"));
        assert!(!abi_supported("1.1.0"));
        assert!(!abi_supported("0"));
    }

    #[test]
    fn panic_message_is_quoted_from_rust_stderr() {
        let stderr =
            b"\nthread '<unnamed>' panicked at src/lib.rs:10:5:\nboom: it broke\nnote: run with `RUST_BACKTRACE=1`\n";
        assert_eq!(panic_message(stderr).as_deref(), Some("panicked: boom: it broke"));
        assert_eq!(panic_message(b"some other output"), None);
    }
}
