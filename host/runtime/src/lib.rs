//! The plugin runtime: the only crate that names wasmtime types.
//!
//! One [`Runtime`] per process holds the engine, the epoch ticker that
//! enforces time limits, and the on-disk compile cache. A [`Registry`] knows
//! every plugin and loads each lazily; a [`Plugin`] is cheap to clone and safe
//! to call from many threads, each call in a fresh, sandboxed store.
#![deny(missing_docs)]

mod backend;
mod cache;
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
pub use plugin::{Diagnostic, Plugin, PluginInfo, PluginKind, PluginOrigin, RenderOutcome, Rendered, Severity};
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
    pub(crate) cache: cache::Cache,
    pub(crate) limits: Limits,
    pub(crate) epoch_ticks: u64,
    pub(crate) linker: Arc<wasmtime::component::Linker<sandbox::State>>,
    notices: Option<NoticeSink>,
}

/// How often the epoch advances; time limits are rounded up to this.
const EPOCH_TICK: Duration = Duration::from_millis(10);

impl Runtime {
    /// Creates the engine, starts the epoch ticker and opens the cache.
    pub fn new(config: RuntimeConfig) -> Result<Runtime, RuntimeError> {
        let mut wasm = wasmtime::Config::new();
        wasm.epoch_interruption(true);
        wasm.wasm_component_model(true);
        wasm.max_wasm_stack(1 << 20);
        let engine = wasmtime::Engine::new(&wasm).map_err(|e| RuntimeError::Engine(e.to_string()))?;
        ENGINES.fetch_add(1, Ordering::SeqCst);
        let ticker = engine.weak();
        std::thread::Builder::new()
            .name("ferry-epoch".into())
            .spawn(move || {
                while let Some(engine) = ticker.upgrade() {
                    drop(engine);
                    std::thread::sleep(EPOCH_TICK);
                    match ticker.upgrade() {
                        Some(engine) => engine.increment_epoch(),
                        None => break,
                    }
                }
            })
            .map_err(|e| RuntimeError::Engine(format!("cannot start the epoch thread: {e}")))?;
        let cache_dir = std::env::var_os("FERRY_CACHE_DIR")
            .map(PathBuf::from)
            .or(config.cache_dir)
            .or_else(|| dirs::cache_dir().map(|d| d.join("ferry").join("plugins")));
        let key_dir = std::env::var_os("FERRY_CONFIG_DIR")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or(config.config_dir)
            .or_else(trust::config_dir);
        let notices = config.notices;
        let cache = cache::Cache::new(cache_dir, key_dir, &engine, &|warning| {
            if let Some(sink) = &notices {
                (sink.0)(Notice::Warning(warning));
            }
        });
        let linker = sandbox::linker(&engine).map_err(|e| RuntimeError::Engine(e.to_string()))?;
        let epoch_ticks = (config.limits.time.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64;
        Ok(Runtime { engine, cache, limits: config.limits, epoch_ticks, linker: Arc::new(linker), notices })
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

    /// The limits every call runs under.
    pub fn limits(&self) -> Limits {
        self.limits
    }
}
