//! What one command works with, built once and lazily: the workspace, the
//! plugin runtime (one wasmtime engine and one epoch thread per process),
//! the plugin registry, and one tokio runtime. Commands ask the context;
//! none builds its own world.

use crate::output::Output;
use anyhow::{Context as _, Result};
use ferry_core::{Failure, Workspace};
use ferry_runtime::{Notice, NoticeSink, Registry, Runtime, RuntimeConfig};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

/// Set to `1` to have ferry print, at exit, how many engines, registries and
/// async runtimes the command built (on stderr, one JSON line).
pub const DEBUG_COUNTERS: &str = "FERRY_DEBUG_COUNTERS";

/// Async runtimes this process has built.
static TOKIO_RUNTIMES: AtomicUsize = AtomicUsize::new(0);
/// Plugin registries this process has built.
static REGISTRIES: AtomicUsize = AtomicUsize::new(0);
/// Workspace discoveries (reads of `copilot/.workspace`) this process made.
static WORKSPACES: AtomicUsize = AtomicUsize::new(0);

/// The world of one command.
pub struct CommandContext {
    /// The printer: every byte ferry shows goes through it.
    pub out: Output,
    tokio: OnceLock<tokio::runtime::Runtime>,
    workspace: OnceLock<Workspace>,
    plugins: OnceLock<Arc<Runtime>>,
    registry: OnceLock<Arc<Registry>>,
}

impl CommandContext {
    pub fn new(out: Output) -> Self {
        CommandContext {
            out,
            tokio: OnceLock::new(),
            workspace: OnceLock::new(),
            plugins: OnceLock::new(),
            registry: OnceLock::new(),
        }
    }

    /// Runs an async command body on the command's one multi-threaded runtime.
    pub fn block_on<T>(&self, future: impl std::future::Future<Output = Result<T>>) -> Result<T> {
        if self.tokio.get().is_none() {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("cannot start the async runtime")?;
            if self.tokio.set(runtime).is_ok() {
                TOKIO_RUNTIMES.fetch_add(1, Ordering::SeqCst);
            }
        }
        match self.tokio.get() {
            Some(runtime) => runtime.block_on(future),
            None => anyhow::bail!("internal: the async runtime is gone"),
        }
    }

    /// The workspace of the current directory (discovered once); `--app`
    /// must match it.
    pub fn workspace(&self, app: Option<&str>) -> Result<Workspace> {
        let ws = match self.workspace.get() {
            Some(ws) => ws.clone(),
            None => {
                let cwd = std::env::current_dir()?;
                WORKSPACES.fetch_add(1, Ordering::SeqCst);
                let ws = Workspace::discover(&cwd)?;
                let _ = self.workspace.set(ws.clone());
                ws
            }
        };
        if let Some(app) = app
            && app != ws.app
        {
            return Err(Failure::new(format!(
                "--app {app} does not match this workspace's application `{}` (copilot/.workspace)",
                ws.app
            ))
            .hint(format!("drop --app, or run ferry from {app}'s project directory"))
            .into());
        }
        Ok(ws)
    }

    /// The workspace for a command that deploys from it or writes into it: it
    /// must be private to the user (see [`Workspace::check_private`]); reading
    /// and packaging need only [`CommandContext::workspace`].
    pub fn workspace_to_act_on(&self, app: Option<&str>) -> Result<Workspace> {
        let ws = self.workspace(app)?;
        ws.check_private()?;
        Ok(ws)
    }

    /// The app named by `--app` (read commands may look at any app of the
    /// account), else the one of the current workspace.
    pub fn app_name(&self, app: Option<String>) -> Result<String> {
        match app {
            Some(app) => Ok(app),
            None => Ok(self.workspace(None)?.app),
        }
    }

    /// The plugin runtime: the process's one wasmtime engine, its epoch
    /// thread and compile cache. Plugin logs and runtime warnings go to the
    /// printer.
    pub fn plugin_runtime(&self) -> Result<Arc<Runtime>> {
        if let Some(runtime) = self.plugins.get() {
            return Ok(runtime.clone());
        }
        let out = self.out.clone();
        let sink = NoticeSink(Arc::new(move |notice: Notice| match notice {
            Notice::PluginLog { plugin, level, message } => out.plugin_log(&plugin, &level, &message),
            Notice::Warning(problem) => out.warning(&problem),
            Notice::Debug(message) => out.debug(&message),
        }));
        let config = RuntimeConfig { notices: Some(sink), ..RuntimeConfig::default() };
        let runtime = Arc::new(Runtime::new(config).context("cannot start the plugin runtime")?);
        Ok(self.plugins.get_or_init(|| runtime).clone())
    }

    /// The plugins of this command, loaded lazily: bundled ones, plus those
    /// pinned in the `copilot/plugins.lock` of the workspace around the
    /// current directory (each verified against its sha256 now).
    pub fn registry(&self) -> Result<Arc<Registry>> {
        if let Some(registry) = self.registry.get() {
            return Ok(registry.clone());
        }
        let copilot_dir = self.workspace(None).ok().map(|ws| ws.copilot_dir);
        let mut registry = self.bundled_registry()?;
        if let Some(copilot_dir) = copilot_dir {
            let lock = ferry_runtime::Lock::load(&copilot_dir)?;
            registry.add_locked(&copilot_dir, &lock)?;
        }
        Ok(self.registry.get_or_init(|| Arc::new(registry)).clone())
    }

    /// A fresh registry of the bundled plugins only, on the one engine (for
    /// checking a plugin before it is installed).
    pub fn bundled_registry(&self) -> Result<Registry> {
        let mut registry = Registry::new(self.plugin_runtime()?);
        REGISTRIES.fetch_add(1, Ordering::SeqCst);
        ferry_bundled::add_all(&mut registry);
        Ok(registry)
    }

    /// With `FERRY_DEBUG_COUNTERS=1`: what this process built, as one JSON
    /// line on stderr.
    pub fn report_counters(&self) {
        if std::env::var_os(DEBUG_COUNTERS).is_some_and(|v| v == "1") {
            self.out.debug_counters(&serde_json::json!({
                "event": "debug_counters",
                "engines": ferry_runtime::engines_created(),
                "compilations": ferry_runtime::compilations(),
                "tokio_runtimes": TOKIO_RUNTIMES.load(Ordering::SeqCst),
                "registries": REGISTRIES.load(Ordering::SeqCst),
                "workspace_discoveries": WORKSPACES.load(Ordering::SeqCst),
            }));
        }
    }
}
