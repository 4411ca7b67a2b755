//! One loaded plugin: its backend (a sandboxed component or a trusted
//! native library) and the one check every answer of either passes before
//! the host believes it.

use crate::Runtime;
use crate::backend::{Backend, WasmBackend};
use crate::error::{PluginError, PluginErrorKind};
use crate::native::{self, NativeLibrary};
use crate::wit::{self, RawInfo, RawRenderError, RawRendered};
use serde_json::Value;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use wasmtime::Trap;
use wasmtime::component::{Component, types::ComponentItem};

// The contract is the protocol's: one definition for SDK, runtime and native bridge.
pub use ferry_plugin_protocol::{Diagnostic, PluginKind, RenderOutcome, Rendered, Severity};

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
    pub kind: PluginKind,
    /// One line for `plugin ls`.
    pub description: String,
    /// Manifest `type:` strings it renders.
    pub manifest_types: Vec<String>,
    /// JSON Schema of its manifest.
    pub manifest_schema: ManifestSchema,
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

/// A plugin's manifest schema, kept as the JSON text it was read as and
/// parsed only when asked for. Every command reads plugins' infos to route
/// its manifests, and only `plugin inspect` reads a schema: parsing them
/// was most of the JSON a warm `svc package` read (the load-balanced web
/// service's alone is 47 KB).
#[derive(Debug, Clone)]
pub struct ManifestSchema {
    text: Arc<str>,
    parsed: Arc<OnceLock<Value>>,
}

impl ManifestSchema {
    /// A schema already parsed (and checked) as `value`.
    pub fn parsed(value: Value) -> Self {
        ManifestSchema { text: value.to_string().into(), parsed: Arc::new(OnceLock::from(value)) }
    }

    /// The schema, parsed on first use (`null` if its text is not JSON,
    /// which a checked plugin's never is).
    pub fn value(&self) -> &Value {
        self.parsed.get_or_init(|| serde_json::from_str(&self.text).unwrap_or(Value::Null))
    }

    /// True when the plugin gave no schema.
    pub fn is_null(&self) -> bool {
        self.text.trim() == "null"
    }
}

impl Default for ManifestSchema {
    fn default() -> Self {
        ManifestSchema::parsed(Value::Null)
    }
}

impl PartialEq for ManifestSchema {
    fn eq(&self, other: &Self) -> bool {
        self.value() == other.value()
    }
}

impl serde::Serialize for ManifestSchema {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.value().serialize(serializer)
    }
}

impl<'de> serde::Deserialize<'de> for ManifestSchema {
    /// Keeps the text: the infos read on every run are not parsed further.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Box::<serde_json::value::RawValue>::deserialize(deserializer)?;
        Ok(ManifestSchema { text: Arc::from(raw.get()), parsed: Arc::new(OnceLock::new()) })
    }
}

/// A loaded plugin. Cheap to clone; calls from many threads are fine.
#[derive(Clone)]
pub struct Plugin {
    inner: Arc<Inner>,
}

struct Inner {
    backend: Box<dyn Backend>,
    info: PluginInfo,
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
        let component = runtime
            .cache
            .component(&runtime.engine, sha256, wasm)
            .map_err(|e| PluginError::new(label, PluginErrorKind::Compile(format!("{e:#}"))))?;
        Plugin::from_component(runtime, label, &component, sha256, origin, None)
    }

    /// Checks the ABI of a compiled component, pre-instantiates it and
    /// takes its info: `known` (embedded at build time), else the cache's,
    /// else asked of the plugin (and cached).
    pub(crate) fn from_component(
        runtime: Arc<Runtime>,
        label: &str,
        component: &Component,
        sha256: &str,
        origin: PluginOrigin,
        known: Option<PluginInfo>,
    ) -> Result<Plugin, PluginError> {
        let err = |kind| PluginError::new(label, kind);
        let (kind, wit_version) = detect_kind(&runtime, component).map_err(err)?;
        let mut backend = WasmBackend::new(runtime.clone(), label, component, &wit_version, kind).map_err(err)?;
        let cached = known
            .or_else(|| runtime.cache.info(sha256).and_then(|json| serde_json::from_str::<PluginInfo>(&json).ok()));
        let mut info = match cached {
            Some(info) => info,
            None => {
                let raw = backend.info().map_err(err)?;
                let info = checked_info(label, raw, Some(kind), wit_version.clone(), sha256, origin.clone())?;
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
        // Its log lines carry the name it told, once it has told it.
        backend.log_as(&info.name);
        Ok(Plugin { inner: Arc::new(Inner { backend: Box::new(backend), info }) })
    }

    /// Loads a native library from its bytes (already verified against the
    /// lock and marked trusted by the caller; `path` is where it is
    /// installed, for messages), warns that it is not sandboxed, and
    /// asks its `info`, checked like a component's.
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
        let raw = library.info().map_err(err)?;
        let info = checked_info(label, raw, None, native::NATIVE_ABI_LABEL.to_string(), sha256, origin)?;
        Ok(Plugin { inner: Arc::new(Inner { backend: Box::new(library), info }) })
    }

    /// True for a native (unsandboxed) plugin.
    pub fn is_native(&self) -> bool {
        self.inner.backend.is_native()
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

    fn error(&self, kind: PluginErrorKind) -> PluginError {
        PluginError::new(&self.inner.info.name, kind)
    }

    /// Checks a manifest (effective manifest, JSON text).
    pub fn validate(&self, manifest_json: &str) -> Result<Vec<Diagnostic>, PluginError> {
        let diagnostics = self.inner.backend.validate(manifest_json).map_err(|kind| self.error(kind))?;
        caps::diagnostics(&diagnostics).map_err(|what| self.error(PluginErrorKind::TooLarge(what)))?;
        Ok(diagnostics)
    }

    /// Renders a manifest with a render context (both JSON text).
    pub fn render(&self, manifest_json: &str, context_json: &str) -> Result<RenderOutcome, PluginError> {
        let raw = self.inner.backend.render(manifest_json, context_json).map_err(|kind| self.error(kind))?;
        checked_render(&self.inner.info, raw).map_err(|kind| self.error(kind))
    }

    /// Checks a manifest and, unless a diagnostic is an error, renders it
    /// (`None` when it was not rendered): [`Plugin::validate`] then
    /// [`Plugin::render`], answered by one instance of a component.
    pub fn validate_then_render(
        &self,
        manifest_json: &str,
        context_json: &str,
    ) -> Result<(Vec<Diagnostic>, Option<RenderOutcome>), PluginError> {
        let (diagnostics, raw) =
            self.inner.backend.validate_then_render(manifest_json, context_json).map_err(|kind| self.error(kind))?;
        caps::diagnostics(&diagnostics).map_err(|what| self.error(PluginErrorKind::TooLarge(what)))?;
        let rendered =
            raw.map(|raw| checked_render(&self.inner.info, raw)).transpose().map_err(|kind| self.error(kind))?;
        Ok((diagnostics, rendered))
    }
}

/// What a plugin said about itself, checked the same way whatever its
/// backend: sizes, a non-empty name, a manifest schema that is JSON, and a
/// kind that agrees with what the plugin exports (when its shape says).
fn checked_info(
    label: &str,
    raw: RawInfo,
    exported: Option<PluginKind>,
    wit_version: String,
    sha256: &str,
    origin: PluginOrigin,
) -> Result<PluginInfo, PluginError> {
    if raw.name.trim().is_empty() {
        return Err(PluginError::new(label, PluginErrorKind::BadOutput("info() has an empty name".into())));
    }
    caps::info(
        &raw.name,
        &raw.version,
        &raw.description,
        &raw.manifest_types,
        &raw.manifest_template,
        raw.documentation.as_deref(),
    )
    .map_err(|what| PluginError::new(label, PluginErrorKind::TooLarge(what)))?;
    if raw.manifest_schema.len() > caps::SCHEMA_BYTES {
        let what = format!("a manifest schema of {} bytes (at most {})", raw.manifest_schema.len(), caps::SCHEMA_BYTES);
        return Err(PluginError::new(label, PluginErrorKind::TooLarge(what)));
    }
    // From here on the plugin has told us its name: use it in errors.
    let bad = |what: String| PluginError::new(raw.name.clone(), PluginErrorKind::BadOutput(what));
    let manifest_schema: Value = if raw.manifest_schema.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&raw.manifest_schema)
            .map_err(|e| bad(format!("info() manifest schema is not JSON: {e}")))?
    };
    if !(manifest_schema.is_null() || manifest_schema.is_object() || manifest_schema.is_boolean()) {
        return Err(bad("info() manifest schema is not a JSON Schema (an object or a boolean)".into()));
    }
    let kind = raw.kind;
    if let Some(exported) = exported
        && kind != exported
    {
        return Err(bad(format!("info() says kind `{kind}` but the component exports the `{exported}` interface")));
    }
    if let Some(step) = raw.host_steps.iter().find(|k| *k != ferry_plugin_protocol::host_steps::S3_UPLOAD) {
        return Err(bad(format!("info() declares a host step `{step}` this host does not know")));
    }
    Ok(PluginInfo {
        name: raw.name,
        version: raw.version,
        kind,
        description: raw.description,
        manifest_types: raw.manifest_types,
        manifest_schema: ManifestSchema::parsed(manifest_schema),
        manifest_template: raw.manifest_template,
        documentation: raw.documentation,
        host_steps: raw.host_steps,
        wit_version,
        sha256: sha256.to_string(),
        origin,
    })
}

/// What one render answered, checked the same way whatever the backend:
/// sizes, a template and parameter values that are JSON objects, and host
/// steps only of kinds the plugin declared.
fn checked_render(
    info: &PluginInfo,
    raw: Result<RawRendered, RawRenderError>,
) -> Result<RenderOutcome, PluginErrorKind> {
    let too_large = PluginErrorKind::TooLarge;
    let bad = PluginErrorKind::BadOutput;
    match raw {
        Ok(rendered) => {
            caps::rendered(&rendered.template, &rendered.parameters, &rendered.descriptions).map_err(too_large)?;
            let template: Value =
                serde_json::from_str(&rendered.template).map_err(|e| bad(format!("its template is not JSON ({e})")))?;
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
            if let Some(step) = rendered.host_steps.iter().find(|s| !info.host_steps.iter().any(|k| k == s.kind())) {
                return Err(bad(format!(
                    "it asked for a `{}` host step it did not declare in info() (declared: {})",
                    step.kind(),
                    if info.host_steps.is_empty() { "none".to_string() } else { info.host_steps.join(", ") }
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
        let Some(kind) = PluginKind::parse(interface) else { continue };
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

pub(crate) fn trap_summary(error: &wasmtime::Error) -> String {
    match error.downcast_ref::<Trap>() {
        Some(Trap::StackOverflow) => "stack overflow".into(),
        Some(Trap::UnreachableCodeReached) => "it aborted (wasm `unreachable`)".into(),
        Some(trap) => trap.to_string(),
        None => format!("{error}").lines().next().unwrap_or_default().to_string(),
    }
}

/// The panic message from Rust's standard panic output, if the plugin printed one.
pub(crate) fn panic_message(stderr: &[u8]) -> Option<String> {
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
        assert!(abi_supported("0.4.0"));
        assert!(!abi_supported("0.5.0"), "a newer minor is refused");
        assert!(!abi_supported("9.0.0"));
        assert!(!abi_supported("1.1.0"));
        assert!(!abi_supported("0"));
    }

    fn raw_info(schema: &str, kind: PluginKind) -> RawInfo {
        RawInfo {
            name: "p".into(),
            version: "1".into(),
            kind,
            description: String::new(),
            manifest_types: vec!["T".into()],
            manifest_schema: schema.into(),
            manifest_template: String::new(),
            documentation: None,
            host_steps: Vec::new(),
        }
    }

    fn check(raw: RawInfo, exported: Option<PluginKind>) -> Result<PluginInfo, PluginError> {
        checked_info("label", raw, exported, "native-1".into(), "00", PluginOrigin::Bundled)
    }

    /// The one info check every backend's answer passes (a native library's
    /// exports no interface, so only its own claims are checked).
    #[test]
    fn every_backends_info_is_checked_the_same_way() {
        assert!(check(raw_info(r#"{"type":"object"}"#, PluginKind::Job), None).is_ok());
        assert!(check(raw_info("", PluginKind::Job), None).unwrap().manifest_schema.is_null());
        let err = check(raw_info(r#""a string""#, PluginKind::Job), None).unwrap_err();
        assert!(err.to_string().contains("not a JSON Schema"), "{err}");
        let err = check(raw_info("{", PluginKind::Job), None).unwrap_err();
        assert!(err.to_string().contains("manifest schema is not JSON"), "{err}");
        let huge = format!(r#"{{"description":"{}"}}"#, "x".repeat(caps::SCHEMA_BYTES));
        assert!(matches!(
            check(raw_info(&huge, PluginKind::Job), None).unwrap_err().kind,
            PluginErrorKind::TooLarge(_)
        ));
        let err = check(raw_info("{}", PluginKind::Job), Some(PluginKind::Service)).unwrap_err();
        assert!(err.to_string().contains("says kind `job` but the component exports the `service` interface"), "{err}");
        let mut unknown_step = raw_info("{}", PluginKind::Job);
        unknown_step.host_steps = vec!["rm-rf".into()];
        assert!(check(unknown_step, None).unwrap_err().to_string().contains("host step `rm-rf`"));
    }

    #[test]
    fn every_backends_render_is_checked_the_same_way() {
        let info = check(raw_info("{}", PluginKind::Service), None).unwrap();
        let rendered = |template: &str, host_steps| {
            Ok(RawRendered { template: template.into(), parameters: "{}".into(), descriptions: Vec::new(), host_steps })
        };
        assert!(matches!(
            checked_render(&info, rendered(r#"{"Resources":{}}"#, Vec::new())),
            Ok(RenderOutcome::Rendered(_))
        ));
        let err = checked_render(&info, rendered("[]", Vec::new())).unwrap_err();
        assert!(matches!(&err, PluginErrorKind::BadOutput(what) if what.contains("not a JSON object")), "{err:?}");
        let step = ferry_plugin_protocol::host_steps::HostStep::S3Upload(ferry_plugin_protocol::host_steps::S3Upload {
            bucket: "B".into(),
            distribution: None,
            files: Vec::new(),
        });
        let err = checked_render(&info, rendered("{}", vec![step])).unwrap_err();
        assert!(matches!(&err, PluginErrorKind::BadOutput(what) if what.contains("did not declare")), "{err:?}");
    }

    #[test]
    fn panic_message_is_quoted_from_rust_stderr() {
        let stderr =
            b"\nthread '<unnamed>' panicked at src/lib.rs:10:5:\nboom: it broke\nnote: run with `RUST_BACKTRACE=1`\n";
        assert_eq!(panic_message(stderr).as_deref(), Some("panicked: boom: it broke"));
        assert_eq!(panic_message(b"some other output"), None);
    }
}
