//! The plugin runtime: the only crate that names wasmtime types.
//!
//! One [`Runtime`] per process holds the engine, the epoch ticker that
//! enforces time limits (started by the first plugin call), and the on-disk
//! compile cache for plugins that are not bundled. Bundled plugins arrive
//! precompiled from the build (see [`precompile`]) and are never compiled
//! at run time unless this engine cannot load their machine code. A [`Registry`] knows
//! every plugin and loads each lazily; a [`Plugin`] is cheap to clone and safe
//! to call from many threads, each call in a fresh, sandboxed store.
#![deny(missing_docs)]

mod backend;
mod cache;
mod code;
mod error;
mod lock;
mod native;
mod plugin;
mod registry;
mod sandbox;
mod trust;
mod wit;

pub use error::{PluginError, PluginErrorKind, RuntimeError};
pub use lock::{LOCK_FILE, Lock, LockEntry, LockError, PLUGINS_DIR, check_relative_plugin_path};
pub use native::{NATIVE_ABI_VERSION, is_native_library};
pub use plugin::{
    Diagnostic, ManifestSchema, Plugin, PluginInfo, PluginKind, PluginOrigin, RenderOutcome, Rendered, Severity,
};
pub use registry::{Embedded, Precompiled};
pub use registry::{PluginSummary, Registry, WorkspacePluginsError};
pub use trust::{TRUST_FILE, TrustEntry, TrustError, TrustStore, canonical_workspace, config_dir};

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Something the runtime has to tell the user. The runtime never prints:
/// the host's printer decides how (and whether) to show it.
#[derive(Debug, Clone)]
pub enum Notice {
    /// A line a plugin logged through `ferry:plugin/host.log`.
    PluginLog {
        /// The plugin's name.
        plugin: String,
        /// `debug`, `info`, `warn` or `error`.
        level: String,
        /// What it said (bounded in length).
        message: String,
    },
    /// A warning, with its why and hint as data.
    Warning(ferry_core::Problem),
    /// Something only worth showing when asked for detail (`--verbose`),
    /// e.g. that a bundled plugin's precompiled code did not fit this engine.
    Debug(String),
}

/// Where a [`Runtime`] sends its [`Notice`]s.
#[derive(Clone)]
pub struct NoticeSink(pub Arc<dyn Fn(Notice) + Send + Sync>);

impl std::fmt::Debug for NoticeSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NoticeSink")
    }
}

/// Engines (each with its epoch thread) made by this process so far.
static ENGINES: AtomicUsize = AtomicUsize::new(0);

/// How many wasmtime engines this process has made (one per [`Runtime`]).
pub fn engines_created() -> usize {
    ENGINES.load(Ordering::SeqCst)
}

/// Components compiled (Cranelift) by this process so far.
static COMPILATIONS: AtomicUsize = AtomicUsize::new(0);

/// How many components this process compiled with Cranelift: 0 when every
/// plugin used came precompiled (bundled) or from the compile cache.
pub fn compilations() -> usize {
    COMPILATIONS.load(Ordering::SeqCst)
}

/// Compiles a component, counted in [`compilations`].
pub(crate) fn compile(engine: &wasmtime::Engine, wasm: &[u8]) -> wasmtime::Result<wasmtime::component::Component> {
    COMPILATIONS.fetch_add(1, Ordering::SeqCst);
    wasmtime::component::Component::new(engine, wasm)
}

/// The one wasmtime configuration of ferry: the run-time engine and the
/// build script that precompiles bundled plugins both use exactly this, so
/// the machine code made at build time loads at run time.
pub(crate) fn engine_config() -> wasmtime::Config {
    let mut wasm = wasmtime::Config::new();
    wasm.epoch_interruption(true);
    wasm.wasm_component_model(true);
    wasm.max_wasm_stack(1 << 20);
    // What the machine code carries besides code (measured on the twelve
    // bundled plugins: 25.0 MB of precompiled code with both, 20.9 MB
    // without). The wasm-offset map only serves wasm addresses in trap
    // backtraces, which ferry never shows (a crash is reported by its trap
    // kind and the plugin's panic message); native unwind tables (.eh_frame)
    // only serve outside unwinders such as a native profiler, not
    // wasmtime's own traps, which walk frame pointers.
    wasm.generate_address_map(false);
    wasm.native_unwind_info(false);
    // Page protection by ferry (same `mprotect` wasmtime would do), so a
    // bundled plugin's code can run where it was expanded (see `code`).
    #[cfg(unix)]
    wasm.with_custom_code_memory(Some(Arc::new(code::Protect)));
    wasm
}

/// Names an engine's machine-code compatibility: the wasmtime version this
/// crate pins plus a stable digest of `precompile_compatibility_hash`
/// (compiler settings, CPU features, tunables). Equal keys, loadable code.
pub(crate) fn engine_key(engine: &wasmtime::Engine) -> String {
    use sha2::Digest;
    use std::hash::Hash;
    let mut hasher = cache::StableHasher(sha2::Sha256::new());
    engine.precompile_compatibility_hash().hash(&mut hasher);
    format!("wasmtime{}-{}", cache::WASMTIME_VERSION, &hex::encode(hasher.0.finalize())[..16])
}

/// A bundled plugin made ready at build time: its machine code for this
/// host and its `info()`, asked once of the plugin itself.
#[derive(Debug, Clone)]
pub struct BuildArtifacts {
    /// `Engine::precompile_component` output under [`engine_config`].
    pub precompiled: Vec<u8>,
    /// The engine key the code is for (see [`Precompiled::engine_key`]).
    pub engine_key: String,
    /// The plugin's checked `info()`, as JSON.
    pub info_json: String,
}

/// Precompiles `wasm` with ferry's engine configuration and asks its
/// `info()` (checked as at run time): what `host/bundled`'s build script
/// embeds for each bundled plugin. Uses no cache and starts no thread.
pub fn precompile(label: &str, wasm: &[u8]) -> Result<BuildArtifacts, PluginError> {
    let err = |e: wasmtime::Error| PluginError::new(label, PluginErrorKind::Compile(format!("{e:#}")));
    let runtime = Runtime::with_cache(RuntimeConfig::default(), |_| cache::Cache::disabled())
        .map_err(|e| PluginError::new(label, PluginErrorKind::Compile(e.to_string())))?;
    let runtime = Arc::new(runtime);
    let precompiled = runtime.engine.precompile_component(wasm).map_err(err)?;
    // SAFETY: these bytes were made just now, by this engine, from `wasm`.
    let component =
        unsafe { wasmtime::component::Component::deserialize(&runtime.engine, &precompiled) }.map_err(err)?;
    let sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(wasm));
    let plugin = Plugin::from_component(runtime.clone(), label, &component, &sha256, PluginOrigin::Bundled, None)?;
    let info_json = serde_json::to_string(plugin.info())
        .map_err(|e| PluginError::new(label, PluginErrorKind::BadOutput(format!("info() does not serialise: {e}"))))?;
    Ok(BuildArtifacts { precompiled, engine_key: engine_key(&runtime.engine), info_json })
}

/// Resource limits for one plugin call.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Wall-clock budget of one call (enforced by epoch interruption).
    pub time: Duration,
    /// Linear memory of one call, summed over all of its memories.
    pub memory_bytes: usize,
    /// Core instances one call may create.
    pub instances: usize,
    /// Linear memories one call may create.
    pub memories: usize,
    /// Tables one call may create.
    pub tables: usize,
    /// Elements one table may grow to.
    pub table_elements: usize,
}

impl Default for Limits {
    fn default() -> Self {
        // Rendering is pure computation over a small manifest: real plugins
        // finish in well under a millisecond and are one core module plus
        // wit-component's shims, so these only stop bugs and abuse.
        Limits {
            time: Duration::from_secs(2),
            memory_bytes: 256 << 20,
            instances: 8,
            memories: 4,
            tables: 8,
            table_elements: 100_000,
        }
    }
}

/// How to build a [`Runtime`].
#[derive(Debug, Clone, Default)]
pub struct RuntimeConfig {
    /// Where compiled plugins are cached; `$FERRY_CACHE_DIR` wins, then this,
    /// then the user cache directory.
    pub cache_dir: Option<PathBuf>,
    /// Limits applied to every plugin call.
    pub limits: Limits,
    /// Where the per-user compile-cache key lives; `$FERRY_CONFIG_DIR`
    /// wins, then this, then ferry's user config directory.
    pub config_dir: Option<PathBuf>,
    /// Where plugin logs and warnings go; without a sink they are dropped.
    pub notices: Option<NoticeSink>,
}

/// The wasmtime engine and everything shared by all plugins of a process.
pub struct Runtime {
    pub(crate) engine: wasmtime::Engine,
    /// [`engine_key`] of `engine`, computed once.
    pub(crate) engine_key: String,
    pub(crate) cache: cache::Cache,
    pub(crate) limits: Limits,
    pub(crate) epoch_ticks: u64,
    pub(crate) linker: Arc<wasmtime::component::Linker<sandbox::State>>,
    /// The epoch thread, started by the first call (a command that renders
    /// nothing never starts it).
    ticker: std::sync::Once,
    /// Components whose machine code runs where it lies (see `code`).
    pub(crate) in_place: AtomicUsize,
    notices: Option<NoticeSink>,
}

/// How often the epoch advances; time limits are rounded up to this.
const EPOCH_TICK: Duration = Duration::from_millis(10);

impl Runtime {
    /// Creates the engine and opens the cache; the epoch ticker starts with
    /// the first plugin call.
    pub fn new(config: RuntimeConfig) -> Result<Runtime, RuntimeError> {
        let cache_dir = std::env::var_os("FERRY_CACHE_DIR")
            .map(PathBuf::from)
            .or(config.cache_dir.clone())
            .or_else(|| dirs::cache_dir().map(|d| d.join("ferry").join("plugins")));
        let key_dir = std::env::var_os("FERRY_CONFIG_DIR")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or(config.config_dir.clone())
            .or_else(trust::config_dir);
        let notices = config.notices.clone();
        Runtime::with_cache(config, |key| {
            cache::Cache::new(cache_dir, key_dir, key, &|warning| {
                if let Some(sink) = &notices {
                    (sink.0)(Notice::Warning(warning));
                }
            })
        })
    }

    fn with_cache(config: RuntimeConfig, cache: impl FnOnce(&str) -> cache::Cache) -> Result<Runtime, RuntimeError> {
        let engine = wasmtime::Engine::new(&engine_config()).map_err(|e| RuntimeError::Engine(e.to_string()))?;
        ENGINES.fetch_add(1, Ordering::SeqCst);
        let engine_key = engine_key(&engine);
        let cache = cache(&engine_key);
        let linker = sandbox::linker(&engine).map_err(|e| RuntimeError::Engine(e.to_string()))?;
        let epoch_ticks = (config.limits.time.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64;
        Ok(Runtime {
            engine,
            engine_key,
            cache,
            limits: config.limits,
            epoch_ticks,
            linker: Arc::new(linker),
            ticker: std::sync::Once::new(),
            in_place: AtomicUsize::new(0),
            notices: config.notices,
        })
    }

    /// Starts the epoch thread that enforces time limits, once per runtime,
    /// before the first call. It ends when the engine is dropped.
    pub(crate) fn start_ticker(&self) {
        self.ticker.call_once(|| {
            let ticker = self.engine.weak();
            let spawned = std::thread::Builder::new().name("ferry-epoch".into()).spawn(move || {
                while let Some(engine) = ticker.upgrade() {
                    drop(engine);
                    std::thread::sleep(EPOCH_TICK);
                    match ticker.upgrade() {
                        Some(engine) => engine.increment_epoch(),
                        None => break,
                    }
                }
            });
            if let Err(e) = spawned {
                // Without it a call could run past its time limit, never
                // wrongly stop: say so and carry on.
                self.notify(Notice::Warning(
                    ferry_core::Problem::new(format!(
                        "cannot start the plugin time-limit thread ({e}); plugin calls run without a time limit"
                    ))
                    .warning(),
                ));
            }
        });
    }

    /// Hands a notice to the sink, if there is one.
    pub(crate) fn notify(&self, notice: Notice) {
        if let Some(sink) = &self.notices {
            (sink.0)(notice);
        }
    }

    /// Hands on what a plugin logged during one call.
    pub(crate) fn plugin_logs(&self, plugin: &str, logs: Vec<(String, String)>) {
        for (level, message) in logs {
            self.notify(Notice::PluginLog { plugin: plugin.to_string(), level, message });
        }
    }

    /// How many components this runtime compiled with Cranelift (see
    /// [`compilations`] for the whole process).
    pub fn compilations(&self) -> usize {
        self.cache.compiled()
    }

    /// How many components this runtime runs in place, from the page-aligned
    /// bytes they were expanded into, with no second copy (bundled plugins
    /// whose precompiled code fits).
    pub fn components_in_place(&self) -> usize {
        self.in_place.load(Ordering::SeqCst)
    }

    /// The limits every call runs under.
    pub fn limits(&self) -> Limits {
        self.limits
    }
}
