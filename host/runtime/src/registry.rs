//! Every plugin this process knows, loaded on first use. On a warm cache,
//! routing a manifest type reads only small cached `info` files and loads
//! just the one plugin that renders it.

use crate::Runtime;
use crate::error::{PluginError, PluginErrorKind};
use crate::lock::{Lock, LockEntry};
use crate::plugin::{Plugin, PluginInfo, PluginKind, PluginOrigin};
use crate::trust::{TrustError, TrustStore};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

struct Entry {
    label: String,
    origin: PluginOrigin,
    wasm: Wasm,
    sha256: String,
    /// The workspace lets it replace bundled plugins of the same type.
    overrides_bundled: bool,
    /// A native library at this path (then `wasm` holds its bytes).
    native: Option<NativeEntry>,
    /// What the lock says the plugin is: its own `info()` must agree.
    expected: Option<Expected>,
    /// A bundled plugin's machine code and info, made at build time.
    precompiled: Option<Precompiled>,
    /// Its info once known without loading it (embedded, cached, or a
    /// native plugin's lock entry): routing asks it many times a run.
    info: OnceLock<PluginInfo>,
    loaded: OnceLock<Result<Plugin, PluginError>>,
}

/// Bytes built into the binary. Stored compressed, they are expanded on
/// first use, once per process: a bundled plugin's wasm is needed only to
/// compile it when its precompiled code does not fit, and only the plugins
/// a command uses need their code.
#[derive(Debug, Clone, Copy)]
pub enum Embedded {
    /// Used as they lie.
    Plain(&'static [u8]),
    /// `expand` makes the bytes (remembering them), `len` long.
    Compressed {
        /// The expanded length.
        len: usize,
        /// Expands them, or answers the same bytes again.
        expand: fn() -> &'static [u8],
    },
}

impl Embedded {
    /// The bytes, expanded if need be.
    pub fn bytes(&self) -> &'static [u8] {
        match *self {
            Embedded::Plain(bytes) => bytes,
            Embedded::Compressed { expand, .. } => expand(),
        }
    }

    /// Their length, without expanding them.
    pub fn len(&self) -> usize {
        match *self {
            Embedded::Plain(bytes) => bytes.len(),
            Embedded::Compressed { len, .. } => len,
        }
    }

    /// True for no bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A plugin's component (or native library) bytes: read from disk, or built
/// into the binary and expanded only when something needs them.
enum Wasm {
    Owned(Vec<u8>),
    Embedded(Embedded),
}

impl Wasm {
    fn len(&self) -> usize {
        match self {
            Wasm::Owned(bytes) => bytes.len(),
            Wasm::Embedded(embedded) => embedded.len(),
        }
    }
}

impl std::ops::Deref for Wasm {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            Wasm::Owned(bytes) => bytes,
            Wasm::Embedded(embedded) => embedded.bytes(),
        }
    }
}

/// A bundled plugin's build-time artifacts (see [`crate::precompile`]),
/// embedded in the binary next to its wasm.
#[derive(Debug, Clone, Copy)]
pub struct Precompiled {
    /// Machine code from `Engine::precompile_component`.
    pub code: Embedded,
    /// The engine key it was made for: the run-time engine loads it only
    /// when its own key is the same (else it compiles the wasm).
    pub engine_key: &'static str,
    /// The plugin's checked `info()`, as JSON.
    pub info: &'static str,
}

struct NativeEntry {
    path: PathBuf,
    /// The user approved exactly these bytes for this workspace.
    trusted: bool,
}

/// A lock entry's claims about its plugin.
struct Expected {
    name: String,
    version: String,
    kind: Option<PluginKind>,
    manifest_types: Vec<String>,
}

impl Expected {
    fn from_lock(entry: &LockEntry) -> Expected {
        Expected {
            name: entry.name.clone(),
            version: entry.version.clone(),
            kind: PluginKind::parse(&entry.kind),
            manifest_types: entry.manifest_types.clone(),
        }
    }

    /// Why the plugin's own info contradicts its lock entry, if it does.
    fn mismatch(&self, info: &PluginInfo) -> Option<String> {
        if info.name != self.name {
            return Some(format!(
                "its info() says name `{}`, but copilot/plugins.lock says `{}`",
                info.name, self.name
            ));
        }
        let (mut ours, mut theirs) = (info.manifest_types.clone(), self.manifest_types.clone());
        ours.sort();
        theirs.sort();
        if ours != theirs {
            return Some(format!(
                "its info() claims manifest types [{}], but copilot/plugins.lock says [{}]",
                info.manifest_types.join(", "),
                self.manifest_types.join(", ")
            ));
        }
        if self.kind.is_some_and(|k| k != info.kind) {
            return Some(format!("its info() says kind `{}`, but copilot/plugins.lock says another", info.kind));
        }
        None
    }

    /// What routing may know of a native plugin before it is opened.
    fn info(&self, sha256: &str, origin: &PluginOrigin) -> PluginInfo {
        PluginInfo {
            name: self.name.clone(),
            version: self.version.clone(),
            kind: self.kind.unwrap_or(PluginKind::Service),
            description: "native plugin (not loaded yet)".into(),
            manifest_types: self.manifest_types.clone(),
            manifest_schema: crate::plugin::ManifestSchema::default(),
            manifest_template: String::new(),
            documentation: None,
            host_steps: Vec::new(),
            wit_version: crate::native::NATIVE_ABI_LABEL.to_string(),
            sha256: sha256.to_string(),
            origin: origin.clone(),
        }
    }
}

/// The plugins a workspace pins could not be added.
#[derive(Debug, thiserror::Error)]
pub enum WorkspacePluginsError {
    /// The workspace is not private to the user.
    #[error("{0}")]
    Workspace(#[source] ferry_core::Error),
    /// The user's trust store could not be read.
    #[error(transparent)]
    Trust(#[from] TrustError),
    /// A pinned plugin is missing or changed.
    #[error(transparent)]
    Plugin(#[from] PluginError),
}

impl ferry_core::Explain for WorkspacePluginsError {
    fn hint(&self) -> Option<String> {
        match self {
            WorkspacePluginsError::Workspace(_) => None,
            WorkspacePluginsError::Trust(e) => e.hint(),
            WorkspacePluginsError::Plugin(e) => e.hint(),
        }
    }
}

/// A plugin with what `plugin ls` shows about it.
#[derive(Debug, Clone)]
pub struct PluginSummary {
    /// Its description.
    pub info: PluginInfo,
    /// Size of the component in bytes.
    pub size_bytes: usize,
    /// It replaces bundled plugins of the same manifest types.
    pub overrides_bundled: bool,
    /// A native library: not sandboxed.
    pub native: bool,
    /// A native library the user has approved for this workspace (it may
    /// run when a manifest needs it); always false for components.
    pub trusted: bool,
}

/// The plugins of one process.
pub struct Registry {
    runtime: Arc<Runtime>,
    entries: Vec<Entry>,
}

impl Registry {
    /// An empty registry.
    pub fn new(runtime: Arc<Runtime>) -> Self {
        Registry { runtime, entries: Vec::new() }
    }

    /// Adds a plugin embedded in the binary (its sha256 computed at build
    /// time), compiled (or loaded from the compile cache) when first used.
    pub fn add_bundled(&mut self, package: &str, wasm: Embedded, sha256: &'static str) {
        self.add_embedded(package, wasm, sha256, None);
    }

    /// Adds a bundled plugin with its build-time machine code and info:
    /// routing reads the info, and using it deserializes the code (no
    /// compile, no cache) when this engine can run it.
    pub fn add_precompiled(&mut self, package: &str, wasm: Embedded, sha256: &'static str, pre: Precompiled) {
        self.add_embedded(package, wasm, sha256, Some(pre));
    }

    fn add_embedded(&mut self, package: &str, wasm: Embedded, sha256: &'static str, pre: Option<Precompiled>) {
        self.entries.push(Entry {
            label: package.strip_prefix("ferry-plugin-").unwrap_or(package).to_string(),
            origin: PluginOrigin::Bundled,
            wasm: Wasm::Embedded(wasm),
            sha256: sha256.to_string(),
            overrides_bundled: false,
            native: None,
            expected: None,
            precompiled: pre,
            info: OnceLock::new(),
            loaded: OnceLock::new(),
        });
    }

    /// Adds a plugin from a `.wasm` file.
    pub fn add_file(&mut self, path: &Path) -> Result<(), PluginError> {
        let label =
            path.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_else(|| path.display().to_string());
        let wasm = std::fs::read(path)
            .map_err(|e| PluginError::new(&label, PluginErrorKind::Read(format!("{}: {e}", path.display()))))?;
        self.add_bytes(&label, wasm, PluginOrigin::File(path.to_path_buf()), false);
        Ok(())
    }

    /// Adds a component held in memory (e.g. a download being checked
    /// before it is installed). Returns its sha256.
    pub fn add_bytes(&mut self, label: &str, wasm: Vec<u8>, origin: PluginOrigin, overrides_bundled: bool) -> String {
        let sha256 = hex::encode(Sha256::digest(&wasm));
        self.entries.push(Entry {
            label: label.to_string(),
            origin,
            wasm: Wasm::Owned(wasm),
            sha256: sha256.clone(),
            overrides_bundled,
            native: None,
            expected: None,
            precompiled: None,
            info: OnceLock::new(),
            loaded: OnceLock::new(),
        });
        sha256
    }

    /// Adds a native library at `path` whose bytes (`library`, for its
    /// digest and size) the caller has read and checked. The caller vouches
    /// that the user trusts it: it runs unsandboxed once loaded.
    pub fn add_trusted_native(
        &mut self,
        label: &str,
        path: &Path,
        library: Vec<u8>,
        origin: PluginOrigin,
        overrides_bundled: bool,
    ) -> String {
        let sha256 = hex::encode(Sha256::digest(&library));
        self.entries.push(Entry {
            label: label.to_string(),
            origin,
            wasm: Wasm::Owned(library),
            sha256: sha256.clone(),
            overrides_bundled,
            native: Some(NativeEntry { path: path.to_path_buf(), trusted: true }),
            expected: None,
            precompiled: None,
            info: OnceLock::new(),
            loaded: OnceLock::new(),
        });
        sha256
    }

    /// Adds every plugin pinned in a workspace's lock, verifying each file
    /// against its pinned sha256: a changed file is refused, never loaded.
    /// The workspace (the directory holding `copilot_dir`) must be private
    /// to the user. A native library is registered by what the lock says
    /// about it and opened only when a manifest routes to it, and only when
    /// the user's own trust store approves its digest for this workspace.
    pub fn add_locked(&mut self, copilot_dir: &Path, lock: &Lock) -> Result<(), WorkspacePluginsError> {
        let root = copilot_dir.parent().unwrap_or(Path::new("."));
        let checked =
            [root.to_path_buf(), copilot_dir.to_path_buf(), copilot_dir.join("plugins"), Lock::path(copilot_dir)];
        for path in &checked {
            if let Err(why) = ferry_core::workspace::check_private_path(path) {
                return Err(WorkspacePluginsError::Workspace(not_private(root, path, &why)));
            }
        }
        let mut read = Vec::with_capacity(lock.plugins.len());
        for entry in &lock.plugins {
            // Lock::load checked names and paths; a lock built in memory is checked here.
            if let Err(why) = entry.check() {
                return Err(PluginError::new(&entry.name, PluginErrorKind::BadLock(why)).into());
            }
            let path = entry.resolved_path(copilot_dir);
            let wasm = std::fs::read(&path).map_err(|e| {
                PluginError::new(
                    &entry.name,
                    PluginErrorKind::ReadPinned {
                        path: path.display().to_string(),
                        error: e.to_string(),
                        source: entry.source.clone(),
                    },
                )
            })?;
            let actual = hex::encode(Sha256::digest(&wasm));
            if !actual.eq_ignore_ascii_case(&entry.sha256) {
                return Err(PluginError::new(
                    &entry.name,
                    PluginErrorKind::Tampered {
                        path: path.display().to_string(),
                        expected: entry.sha256.clone(),
                        actual,
                    },
                )
                .into());
            }
            // What the bytes are decides, not only the flag: a library slipped
            // in under a component's entry is a native entry all the same.
            let native = entry.native || crate::native::is_native_library(&wasm);
            read.push((entry, path, wasm, actual, native));
        }
        // The user's approvals are read only when there is a library to judge.
        let trust = if read.iter().any(|r| r.4) { TrustStore::load()? } else { TrustStore::default() };
        for (entry, path, wasm, sha256, native) in read {
            let origin = PluginOrigin::Installed { path: path.clone(), source: entry.source.clone() };
            let trusted = native && trust.is_trusted(root, &sha256);
            self.entries.push(Entry {
                label: entry.name.clone(),
                origin,
                overrides_bundled: entry.override_bundled,
                native: native.then_some(NativeEntry { path, trusted }),
                expected: Some(Expected::from_lock(entry)),
                sha256,
                wasm: Wasm::Owned(wasm),
                precompiled: None,
                info: OnceLock::new(),
                loaded: OnceLock::new(),
            });
        }
        Ok(())
    }

    fn load(&self, entry: &Entry) -> Result<Plugin, PluginError> {
        self.loaded(entry).clone()
    }

    /// Loads `entry` once; every later call answers the same.
    fn loaded<'a>(&self, entry: &'a Entry) -> &'a Result<Plugin, PluginError> {
        entry.loaded.get_or_init(|| {
            let plugin = match &entry.native {
                Some(native) if !native.trusted => {
                    return Err(PluginError::new(
                        &entry.label,
                        PluginErrorKind::NativeUntrusted {
                            path: native.path.display().to_string(),
                            sha256: entry.sha256.clone(),
                        },
                    ));
                }
                Some(native) => {
                    let (runtime, origin) = (self.runtime.clone(), entry.origin.clone());
                    Plugin::load_native(runtime, &entry.label, &native.path, &entry.wasm, &entry.sha256, origin)?
                }
                None => match entry.precompiled.and_then(|pre| self.deserialize(entry, pre)) {
                    Some(component) => Plugin::from_component(
                        self.runtime.clone(),
                        &entry.label,
                        &component,
                        &entry.sha256,
                        entry.origin.clone(),
                        self.embedded_info(entry),
                    )?,
                    None => Plugin::load(
                        self.runtime.clone(),
                        &entry.label,
                        &entry.wasm,
                        &entry.sha256,
                        entry.origin.clone(),
                    )?,
                },
            };
            check_expected(entry, plugin.info())?;
            Ok(plugin)
        })
    }

    /// A bundled plugin's build-time machine code, when this engine can
    /// run it; otherwise one debug line and `None` (the caller compiles).
    fn deserialize(&self, entry: &Entry, pre: Precompiled) -> Option<wasmtime::component::Component> {
        let runtime = &self.runtime;
        let why = if pre.engine_key != runtime.engine_key {
            format!("it was made for engine {}, this one is {}", pre.engine_key, runtime.engine_key)
        } else {
            // Expanded only now that this engine can run it.
            match self.deserialize_code(entry, pre.code.bytes()) {
                Ok(component) => return Some(component),
                Err(why) => why,
            }
        };
        runtime.notify(crate::Notice::Debug(format!(
            "bundled plugin `{}`: not using its precompiled code ({why}); compiling it",
            entry.label
        )));
        None
    }

    /// Loads machine code made for this engine: in place when it is
    /// page-aligned (`ferry-bundled` expands it so), which spares a second
    /// copy into memory wasmtime maps itself; else copied.
    fn deserialize_code(&self, entry: &Entry, code: &'static [u8]) -> Result<wasmtime::component::Component, String> {
        let runtime = &self.runtime;
        if wasmtime::Engine::detect_precompiled(code) != Some(wasmtime::Precompiled::Component) {
            return Err("it is not a precompiled component".to_string());
        }
        if crate::code::runs_in_place(code) && crate::code::claim(code) {
            // SAFETY: as below; besides, the bytes are `'static` (a static of
            // this binary, or expanded once and kept for the process), so
            // they outlive the component and never change, and the claim
            // keeps any other component off them while this one lives.
            let raw = std::ptr::NonNull::from(code);
            match unsafe { wasmtime::component::Component::deserialize_raw(&runtime.engine, raw) } {
                Ok(component) => {
                    runtime.in_place.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    return Ok(component);
                }
                Err(e) => {
                    crate::code::release(code.as_ptr());
                    runtime.notify(crate::Notice::Debug(format!(
                        "bundled plugin `{}`: cannot run its precompiled code in place ({e:#}); copying it",
                        entry.label
                    )))
                }
            }
        }
        // SAFETY: these bytes are part of this binary, written by its own
        // build script with `Engine::precompile_component` under the same
        // `engine_config()`, and the key says this engine is compatible
        // (wasmtime checks its own header again).
        unsafe { wasmtime::component::Component::deserialize(&runtime.engine, code) }.map_err(|e| format!("{e:#}"))
    }

    /// The info a bundled plugin's build recorded, if any.
    fn embedded_info(&self, entry: &Entry) -> Option<PluginInfo> {
        let mut info: PluginInfo = serde_json::from_str(entry.precompiled?.info).ok()?;
        info.sha256 = entry.sha256.clone();
        info.origin = entry.origin.clone();
        Some(info)
    }

    /// Info without loading when known (embedded at build time, cached, or
    /// a native plugin's lock entry, which is never opened for this);
    /// remembered, as routing asks for it once per manifest.
    fn info<'a>(&'a self, entry: &'a Entry) -> Result<&'a PluginInfo, PluginError> {
        if let Some(Ok(plugin)) = entry.loaded.get() {
            return Ok(plugin.info());
        }
        if let Some(info) = entry.info.get() {
            return Ok(info);
        }
        if entry.native.is_some() {
            if let Some(expected) = &entry.expected {
                return Ok(entry.info.get_or_init(|| expected.info(&entry.sha256, &entry.origin)));
            }
            return self.loaded(entry).as_ref().map(Plugin::info).map_err(Clone::clone);
        }
        let known = self.embedded_info(entry).or_else(|| {
            Plugin::cached_info(&self.runtime, &entry.sha256).map(|mut info| {
                info.sha256 = entry.sha256.clone();
                info.origin = entry.origin.clone();
                info
            })
        });
        if let Some(info) = known {
            check_expected(entry, &info)?;
            return Ok(entry.info.get_or_init(|| info));
        }
        self.loaded(entry).as_ref().map(Plugin::info).map_err(Clone::clone)
    }

    /// Every manifest type some plugin renders, sorted.
    pub fn manifest_types(&self) -> Vec<String> {
        self.manifest_types_where(|_| true)
    }

    /// Every manifest type a plugin of one of `kinds` renders, sorted.
    pub fn manifest_types_of(&self, kinds: &[PluginKind]) -> Vec<String> {
        self.manifest_types_where(|kind| kinds.contains(&kind))
    }

    fn manifest_types_where(&self, keep: impl Fn(PluginKind) -> bool) -> Vec<String> {
        let mut types: Vec<String> = self
            .entries
            .iter()
            .filter_map(|e| self.info(e).ok())
            .filter(|info| keep(info.kind))
            .flat_map(|info| info.manifest_types.iter().cloned())
            .collect();
        types.sort();
        types.dedup();
        types
    }

    /// The plugin that renders `manifest_type`. Two plugins claiming it is an
    /// error naming both, unless exactly one is a workspace plugin allowed to
    /// override bundled ones and all the others are bundled.
    pub fn for_manifest_type(&self, manifest_type: &str) -> Result<Plugin, PluginError> {
        let mut found: Vec<(&Entry, String)> = Vec::new();
        for entry in &self.entries {
            let info = self.info(entry)?;
            if info.manifest_types.iter().any(|t| t == manifest_type) {
                found.push((entry, info.name.clone()));
            }
        }
        let overriding: Vec<&(&Entry, String)> = found.iter().filter(|(e, _)| e.overrides_bundled).collect();
        let others_bundled = found.iter().filter(|(e, _)| !e.overrides_bundled).all(|(e, _)| e.origin.is_bundled());
        match found.as_slice() {
            [] => Err(PluginError::new(
                manifest_type,
                PluginErrorKind::UnknownType { manifest_type: manifest_type.to_string(), known: self.manifest_types() },
            )),
            [(entry, _)] => self.load(entry),
            _ if overriding.len() == 1 && others_bundled => self.load(overriding[0].0),
            _ => {
                // Name the clash that no allowed override explains: two
                // overriding plugins, or an unflagged workspace plugin and another.
                let (first, second) = match overriding.as_slice() {
                    [a, b, ..] => (*a, *b),
                    _ => {
                        let a = found
                            .iter()
                            .find(|(e, _)| !e.overrides_bundled && !e.origin.is_bundled())
                            .unwrap_or(&found[0]);
                        let b = found.iter().find(|x| !std::ptr::eq(x.0, a.0)).unwrap_or(&found[1]);
                        (a, b)
                    }
                };
                Err(PluginError::new(
                    first.1.clone(),
                    PluginErrorKind::DuplicateType {
                        manifest_type: manifest_type.to_string(),
                        other: second.1.clone(),
                        origins: Box::new([first.0.origin.to_string(), second.0.origin.to_string()]),
                    },
                ))
            }
        }
    }

    /// Every plugin (name and where it came from) claiming `manifest_type`,
    /// without routing: what `plugin install` checks a newcomer against.
    pub fn claims(&self, manifest_type: &str) -> Result<Vec<(String, PluginOrigin)>, PluginError> {
        let mut claims = Vec::new();
        for entry in &self.entries {
            let info = self.info(entry)?;
            if info.manifest_types.iter().any(|t| t == manifest_type) {
                claims.push((info.name.clone(), entry.origin.clone()));
            }
        }
        Ok(claims)
    }

    /// The plugin named `name`.
    pub fn get(&self, name: &str) -> Result<Plugin, PluginError> {
        let mut known = Vec::new();
        for entry in &self.entries {
            let info = self.info(entry)?;
            if info.name == name {
                return self.load(entry);
            }
            known.push(info.name.clone());
        }
        Err(PluginError::new(name, PluginErrorKind::UnknownPlugin { known }))
    }

    /// Every plugin in registration order: components loaded (sandboxed),
    /// native libraries described by their lock entries, not opened.
    pub fn list(&self) -> Result<Vec<PluginSummary>, PluginError> {
        self.entries
            .iter()
            .map(|e| {
                let info = if e.native.is_some() { self.info(e)?.clone() } else { self.load(e)?.info().clone() };
                Ok(PluginSummary {
                    info,
                    size_bytes: e.wasm.len(),
                    overrides_bundled: e.overrides_bundled,
                    native: e.native.is_some(),
                    trusted: e.native.as_ref().is_some_and(|n| n.trusted),
                })
            })
            .collect()
    }
}

/// A lock entry's plugin whose own info disagrees with the entry is refused.
fn check_expected(entry: &Entry, info: &PluginInfo) -> Result<(), PluginError> {
    match entry.expected.as_ref().and_then(|expected| expected.mismatch(info)) {
        Some(why) => Err(PluginError::new(&entry.label, PluginErrorKind::BadLock(why))),
        None => Ok(()),
    }
}

fn not_private(root: &Path, path: &Path, why: &str) -> ferry_core::Error {
    ferry_core::Problem::new(format!("refusing to load the plugins of the workspace {}", root.display()))
        .why(format!(
            "{}: {why}; a workspace another user can write could make ferry run their code or change what it deploys",
            path.display()
        ))
        .hint(format!(
            "if this project is yours, fix its owner and permissions (e.g. `chmod go-w {}`); otherwise copy it to a directory you own",
            path.display()
        ))
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{PluginErrorKind, RuntimeConfig};

    /// `ferry_bundled` links the library build of this crate, whose types
    /// are not this test build's.
    fn this_crates(embedded: ferry_bundled::Embedded) -> Embedded {
        match embedded {
            ferry_bundled::Embedded::Plain(bytes) => Embedded::Plain(bytes),
            ferry_bundled::Embedded::Compressed { len, expand } => Embedded::Compressed { len, expand },
        }
    }

    fn registry(cache: &Path) -> Registry {
        let runtime = Runtime::new(RuntimeConfig { cache_dir: Some(cache.to_path_buf()), ..Default::default() });
        let mut registry = Registry::new(Arc::new(runtime.unwrap()));
        for plugin in ferry_bundled::BUNDLED {
            registry.add_bundled(plugin.package, this_crates(plugin.wasm), plugin.sha256);
        }
        registry
    }

    fn loaded(registry: &Registry) -> usize {
        registry.entries.iter().filter(|e| e.loaded.get().is_some()).count()
    }

    #[test]
    fn warm_cache_loads_only_the_plugin_a_type_needs() {
        assert!(ferry_bundled::BUNDLED.len() >= 2, "needs several bundled plugins to mean anything");
        let cache = tempfile::tempdir().unwrap();
        let cold = registry(cache.path());
        let listed = cold.list().unwrap();
        assert_eq!(loaded(&cold), ferry_bundled::BUNDLED.len());
        let warm = registry(cache.path());
        let plugin = warm.for_manifest_type("Environment").unwrap();
        assert_eq!(plugin.info().name, "environment");
        assert_eq!(loaded(&warm), 1, "a warm cache routes by cached info, loading one plugin");
        // Cached info is the same as what the plugin reported.
        let fresh = listed.iter().find(|s| s.info.name == "environment").unwrap();
        assert_eq!(plugin.info().manifest_types, fresh.info.manifest_types);
        assert_eq!(plugin.info().manifest_schema, fresh.info.manifest_schema);
        assert_eq!(plugin.info().sha256, fresh.info.sha256);
    }

    #[test]
    fn unknown_type_and_name_list_what_is_known() {
        let cache = tempfile::tempdir().unwrap();
        let registry = registry(cache.path());
        let err = registry.for_manifest_type("Backend Servce").err().unwrap();
        assert!(err.is_unknown_type());
        let message = err.to_string();
        assert!(message.contains("`Backend Servce`") && message.contains("Environment"), "{message}");
        let err = registry.get("nope").err().unwrap();
        assert!(matches!(err.kind, PluginErrorKind::UnknownPlugin { .. }));
        assert!(err.hint().unwrap_or_default().contains("environment"), "{err}");
        assert_eq!(registry.get("environment").unwrap().info().name, "environment");
    }

    #[test]
    fn two_plugins_claiming_one_type_are_both_named() {
        let cache = tempfile::tempdir().unwrap();
        let mut registry = registry(cache.path());
        let env = ferry_bundled::BUNDLED.iter().find(|p| p.package.ends_with("environment")).unwrap();
        let copy = cache.path().join("my-env.wasm");
        std::fs::write(&copy, env.wasm.bytes()).unwrap();
        registry.add_file(&copy).unwrap();
        let err = registry.for_manifest_type("Environment").err().unwrap();
        assert!(matches!(err.kind, PluginErrorKind::DuplicateType { .. }), "{err}");
        let message = err.to_string();
        assert!(message.contains("(bundled)") && message.contains("my-env.wasm"), "{message}");
        // Other types still route.
        assert!(registry.for_manifest_type("Load Balanced Web Service").is_ok());
    }

    #[test]
    fn a_flagged_workspace_plugin_overrides_the_bundled_one_and_only_then() {
        let cache = tempfile::tempdir().unwrap();
        let env = ferry_bundled::BUNDLED.iter().find(|p| p.package.ends_with("environment")).unwrap();
        let origin = PluginOrigin::Installed { path: cache.path().join("mine.wasm"), source: "mine.wasm".into() };
        let mut flagged = registry(cache.path());
        flagged.add_bytes("mine", env.wasm.bytes().to_vec(), origin.clone(), true);
        let chosen = flagged.for_manifest_type("Environment").unwrap();
        assert_eq!(chosen.info().origin, origin, "the override wins");
        assert_eq!(flagged.claims("Environment").unwrap().len(), 2);
        // Two overriding plugins are still a clash naming both.
        flagged.add_bytes("again", env.wasm.bytes().to_vec(), PluginOrigin::File("again.wasm".into()), true);
        let err = flagged.for_manifest_type("Environment").err().unwrap();
        assert!(err.to_string().contains("mine.wasm") && err.to_string().contains("again.wasm"), "{err}");
    }

    #[test]
    fn a_pinned_file_that_changed_is_refused() {
        let cache = tempfile::tempdir().unwrap();
        let copilot = cache.path().join("copilot");
        std::fs::create_dir_all(copilot.join("plugins")).unwrap();
        let env = ferry_bundled::BUNDLED.iter().find(|p| p.package.ends_with("environment")).unwrap();
        std::fs::write(copilot.join("plugins/env.wasm"), env.wasm.bytes()).unwrap();
        let mut lock = Lock::default();
        lock.upsert(crate::LockEntry {
            name: "environment".into(),
            version: "1".into(),
            kind: "environment".into(),
            manifest_types: vec!["Environment".into()],
            wit_version: "0.2.0".into(),
            source: "env.wasm".into(),
            path: "plugins/env.wasm".into(),
            sha256: env.sha256.into(),
            override_bundled: true,
            native: false,
            trusted: false,
        });
        let mut ok = registry(cache.path());
        ok.add_locked(&copilot, &lock).unwrap();
        assert!(!ok.for_manifest_type("Environment").unwrap().info().origin.is_bundled());
        let mut bytes = env.wasm.bytes().to_vec();
        bytes.push(0);
        std::fs::write(copilot.join("plugins/env.wasm"), bytes).unwrap();
        let err = registry(cache.path()).add_locked(&copilot, &lock).unwrap_err();
        assert!(
            matches!(&err, WorkspacePluginsError::Plugin(e) if matches!(e.kind, PluginErrorKind::Tampered { .. })),
            "{err}"
        );
        assert!(err.to_string().contains(env.sha256), "{err}");
        std::fs::remove_file(copilot.join("plugins/env.wasm")).unwrap();
        let err = registry(cache.path()).add_locked(&copilot, &lock).unwrap_err();
        let WorkspacePluginsError::Plugin(missing) = &err else { panic!("{err}") };
        assert!(missing.hint().unwrap_or_default().contains("ferry plugin remove environment"), "{err}");
    }

    #[test]
    fn a_lock_entry_whose_plugin_says_otherwise_is_refused() {
        let cache = tempfile::tempdir().unwrap();
        let copilot = cache.path().join("copilot");
        std::fs::create_dir_all(copilot.join("plugins")).unwrap();
        let env = ferry_bundled::BUNDLED.iter().find(|p| p.package.ends_with("environment")).unwrap();
        std::fs::write(copilot.join("plugins/env.wasm"), env.wasm.bytes()).unwrap();
        let entry = crate::LockEntry {
            name: "environment".into(),
            version: "1".into(),
            kind: "environment".into(),
            manifest_types: vec!["Environment".into(), "Backend Service".into()],
            wit_version: "0.2.0".into(),
            source: "env.wasm".into(),
            path: "plugins/env.wasm".into(),
            sha256: env.sha256.into(),
            override_bundled: true,
            native: false,
            trusted: false,
        };
        let mut lock = Lock::default();
        lock.upsert(entry.clone());
        let mut registry = registry(cache.path());
        registry.add_locked(&copilot, &lock).unwrap();
        let err = registry.for_manifest_type("Backend Service").err().unwrap();
        assert!(err.to_string().contains("claims manifest types [Environment]"), "{err}");
        // Loaded first (cold cache), the check holds as well.
        let cold = tempfile::tempdir().unwrap();
        let mut registry = super::tests::registry(cold.path());
        let mut renamed = entry;
        renamed.manifest_types = vec!["Environment".into()];
        renamed.name = "not-env".into();
        let mut lock = Lock::default();
        lock.upsert(renamed);
        registry.add_locked(&copilot, &lock).unwrap();
        let err = registry.get("not-env").err().unwrap();
        assert!(err.to_string().contains("says name `environment`"), "{err}");
    }

    /// A registry of the bundled plugins as the binary adds them (with
    /// their build-time code and info), whose notices are kept.
    fn precompiled_registry(
        cache: &Path,
        code: Option<&'static [u8]>,
        key: Option<&'static str>,
    ) -> (Registry, Arc<std::sync::Mutex<Vec<String>>>) {
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = seen.clone();
        let notices = crate::NoticeSink(Arc::new(move |notice| {
            if let crate::Notice::Debug(line) = notice {
                sink.lock().unwrap().push(line);
            }
        }));
        let runtime = Runtime::new(RuntimeConfig {
            cache_dir: Some(cache.to_path_buf()),
            notices: Some(notices),
            ..Default::default()
        });
        let mut registry = Registry::new(Arc::new(runtime.unwrap()));
        for plugin in ferry_bundled::BUNDLED {
            let pre = Precompiled {
                code: code.map(Embedded::Plain).unwrap_or(this_crates(plugin.precompiled)),
                engine_key: key.unwrap_or(plugin.engine_key),
                info: plugin.info,
            };
            registry.add_precompiled(plugin.package, this_crates(plugin.wasm), plugin.sha256, pre);
        }
        (registry, seen)
    }

    #[test]
    fn bundled_plugins_route_and_render_from_build_time_code_without_compiling() {
        let cache = tempfile::tempdir().unwrap();
        let (registry, debug) = precompiled_registry(cache.path(), None, None);
        assert!(registry.manifest_types().contains(&"Load Balanced Web Service".to_string()));
        let plugin = registry.for_manifest_type("Load Balanced Web Service").unwrap();
        assert_eq!(plugin.info().name, "load-balanced-web-service");
        let context = r#"{"app":"chat","env":"test","name":"web"}"#;
        let manifest = r#"{"name":"web","type":"Load Balanced Web Service","http":{"path":"/"},"image":{"location":"nginx","port":80}}"#;
        assert!(matches!(plugin.render(manifest, context), Ok(crate::RenderOutcome::Rendered(_))));
        assert_eq!(registry.runtime.compilations(), 0, "no Cranelift for bundled plugins");
        #[cfg(target_os = "linux")]
        assert_eq!(registry.runtime.components_in_place(), 1, "its code runs where it was expanded, not a second copy");
        assert_eq!(loaded(&registry), 1, "routing read the embedded info; only the one plugin used was loaded");
        assert!(debug.lock().unwrap().is_empty(), "{:?}", debug.lock().unwrap());
        let cached: Vec<_> = std::fs::read_dir(cache.path()).unwrap().collect();
        assert!(cached.is_empty(), "nothing compiled, nothing cached: {cached:?}");
    }

    /// Code and key to substitute, and what the debug line must say.
    type Case = (Option<&'static [u8]>, Option<&'static str>, &'static str);

    #[test]
    fn precompiled_code_this_engine_cannot_use_falls_back_to_compiling_with_a_debug_line() {
        // Another engine's code (the key differs), and bytes that are not a
        // precompiled component at all under this engine's key.
        let this_key = ferry_bundled::BUNDLED[0].engine_key;
        let cases: [Case; 3] = [
            (None, Some("wasmtime0.0.0-0123456789abcdef"), "made for engine wasmtime0.0.0-0123456789abcdef"),
            (Some(b"\0asm not machine code"), Some(this_key), "not a precompiled component"),
            (Some(ferry_bundled::BUNDLED[0].wasm.bytes()), Some(this_key), "not a precompiled component"),
        ];
        for (code, key, why) in cases {
            let cache = tempfile::tempdir().unwrap();
            let (registry, debug) = precompiled_registry(cache.path(), code, key);
            let plugin = registry.for_manifest_type("Environment").unwrap();
            let rendered = plugin
                .render(r#"{"name":"test","type":"Environment"}"#, r#"{"app":"chat","env":"test","name":"test"}"#);
            assert!(matches!(rendered, Ok(crate::RenderOutcome::Rendered(_))), "{why}");
            assert_eq!(registry.runtime.compilations(), 1, "{why}: compiled instead");
            let lines = debug.lock().unwrap();
            assert_eq!(lines.len(), 1, "{lines:?}");
            assert!(lines[0].contains("bundled plugin `environment`") && lines[0].contains(why), "{lines:?}");
            assert!(lines[0].ends_with("compiling it"), "{lines:?}");
        }
    }

    /// Two runtimes of one process load the same bundled plugin at once (a
    /// test harness, a benchmark): one runs the expanded code in place, the
    /// other a copy; both render, and after both are gone the code runs in
    /// place again.
    #[test]
    fn two_live_runtimes_share_a_bundled_plugin_without_sharing_its_pages() {
        let manifest = r#"{"name":"web","type":"Load Balanced Web Service","http":{"path":"/"},"image":{"location":"nginx","port":80}}"#;
        let context = r#"{"app":"chat","env":"test","name":"web"}"#;
        let cache = tempfile::tempdir().unwrap();
        let load = || {
            let (registry, debug) = precompiled_registry(cache.path(), None, None);
            let plugin = registry.for_manifest_type("Load Balanced Web Service").unwrap();
            assert!(matches!(plugin.render(manifest, context), Ok(crate::RenderOutcome::Rendered(_))));
            assert_eq!(registry.runtime.compilations(), 0);
            assert!(debug.lock().unwrap().is_empty(), "{:?}", debug.lock().unwrap());
            (registry, plugin)
        };
        let (first, first_plugin) = load();
        let (second, second_plugin) = load();
        let in_place = |r: &Registry| r.runtime.components_in_place();
        #[cfg(target_os = "linux")]
        assert_eq!((in_place(&first), in_place(&second)), (1, 0), "one in place, one copy");
        // The first still runs after the second is gone, and the other way round.
        drop((second_plugin, second));
        assert!(matches!(first_plugin.render(manifest, context), Ok(crate::RenderOutcome::Rendered(_))));
        drop((first_plugin, first));
        let (third, _plugin) = load();
        #[cfg(target_os = "linux")]
        assert_eq!(in_place(&third), 1, "the pages were given back when the first was dropped");
    }

    /// Precompiled code not on a page boundary cannot run in place: it is
    /// copied, still without compiling and without a word.
    #[test]
    fn precompiled_code_off_a_page_boundary_is_copied_not_compiled() {
        let env = ferry_bundled::BUNDLED.iter().find(|p| p.package.ends_with("-environment")).unwrap();
        let mut shifted = vec![0u8; env.precompiled.len() + 1];
        shifted[1..].copy_from_slice(env.precompiled.bytes());
        let shifted: &'static [u8] = &Vec::leak(shifted)[1..];
        assert!(!crate::code::runs_in_place(shifted));
        let cache = tempfile::tempdir().unwrap();
        let (registry, debug) = precompiled_registry(cache.path(), Some(shifted), None);
        let plugin = registry.for_manifest_type("Environment").unwrap();
        let rendered =
            plugin.render(r#"{"name":"test","type":"Environment"}"#, r#"{"app":"chat","env":"test","name":"test"}"#);
        assert!(matches!(rendered, Ok(crate::RenderOutcome::Rendered(_))));
        assert_eq!((registry.runtime.compilations(), registry.runtime.components_in_place()), (0, 0));
        assert!(debug.lock().unwrap().is_empty(), "{:?}", debug.lock().unwrap());
    }

    #[test]
    fn plugins_are_shareable_across_threads() {
        fn assert_send_sync<T: Send + Sync + Clone>() {}
        assert_send_sync::<Plugin>();
        let cache = tempfile::tempdir().unwrap();
        let plugin = registry(cache.path()).for_manifest_type("Environment").unwrap();
        let context = r#"{"app":"chat","env":"test","name":"test"}"#;
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let plugin = plugin.clone();
                std::thread::spawn(move || plugin.render(r#"{"name":"test","type":"Environment"}"#, context))
            })
            .collect();
        for handle in handles {
            assert!(matches!(handle.join().unwrap(), Ok(crate::RenderOutcome::Rendered(_))));
        }
    }
}
