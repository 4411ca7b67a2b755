//! How calls reach a plugin. A backend only moves the call across its
//! boundary and decodes the answer into the version-neutral shapes of
//! [`crate::wit`]; the plugin checks every answer the same way whichever
//! backend gave it (see `checked_info` and `checked_render`).

use crate::Runtime;
use crate::error::PluginErrorKind;
use crate::plugin::{Diagnostic, PluginKind, Severity, panic_message, trap_summary};
use crate::sandbox::{self, State};
use crate::wit::{Indices, RawInfo, RawRenderError, RawRendered, dispatch};
use std::sync::Arc;
use wasmtime::component::{Component, Instance, InstancePre};
use wasmtime::{Store, Trap};

/// One plugin's calls, whatever carries them.
pub(crate) trait Backend: Send + Sync {
    /// True for a native (unsandboxed) library.
    fn is_native(&self) -> bool;
    /// The plugin's description, unchecked.
    fn info(&self) -> Result<RawInfo, PluginErrorKind>;
    /// The diagnostics of a manifest (JSON text), unchecked.
    fn validate(&self, manifest_json: &str) -> Result<Vec<Diagnostic>, PluginErrorKind>;
    /// A render's answer, unchecked.
    fn render(
        &self,
        manifest_json: &str,
        context_json: &str,
    ) -> Result<Result<RawRendered, RawRenderError>, PluginErrorKind>;

    /// `validate`, then `render` unless a diagnostic is an error (what
    /// every package and deploy asks), both unchecked.
    fn validate_then_render(
        &self,
        manifest_json: &str,
        context_json: &str,
    ) -> Result<ValidatedRender, PluginErrorKind> {
        let diagnostics = self.validate(manifest_json)?;
        if any_error(&diagnostics) {
            return Ok((diagnostics, None));
        }
        let rendered = self.render(manifest_json, context_json)?;
        Ok((diagnostics, Some(rendered)))
    }
}

/// A manifest's diagnostics and, when none was an error, its render.
pub(crate) type ValidatedRender = (Vec<Diagnostic>, Option<Result<RawRendered, RawRenderError>>);

fn any_error(diagnostics: &[Diagnostic]) -> bool {
    diagnostics.iter().any(|d| d.severity == Severity::Error)
}

/// A sandboxed component: pre-instantiated once, called in a fresh store
/// every time, under the runtime's limits.
pub(crate) struct WasmBackend {
    runtime: Arc<Runtime>,
    /// The name its log lines are shown under.
    name: String,
    pre: InstancePre<State>,
    indices: Indices,
}

impl WasmBackend {
    /// Pre-instantiates `component`, which exports the `kind` interface at `wit_version`.
    pub(crate) fn new(
        runtime: Arc<Runtime>,
        label: &str,
        component: &Component,
        wit_version: &str,
        kind: PluginKind,
    ) -> Result<WasmBackend, PluginErrorKind> {
        let pre =
            runtime.linker.instantiate_pre(component).map_err(|e| PluginErrorKind::Instantiate(format!("{e:#}")))?;
        let indices =
            Indices::new(wit_version, kind, &pre).map_err(|e| PluginErrorKind::Instantiate(format!("{e:#}")))?;
        Ok(WasmBackend { runtime, name: label.to_string(), pre, indices })
    }

    /// Shows its log lines under `name` from now on.
    pub(crate) fn log_as(&mut self, name: &str) {
        self.name = name.to_string();
    }

    /// Runs `f` against a fresh instance, mapping traps to limit errors.
    fn with_instance<R>(
        &self,
        f: impl FnOnce(&Indices, &mut Store<State>, &Instance) -> wasmtime::Result<R>,
    ) -> Result<R, PluginErrorKind> {
        let runtime = &self.runtime;
        runtime.start_ticker();
        let mut store = sandbox::store(&runtime.engine, runtime.limits, runtime.epoch_ticks);
        let result = (|| {
            let instance = self.pre.instantiate(&mut store)?;
            f(&self.indices, &mut store, &instance)
        })();
        runtime.plugin_logs(&self.name, std::mem::take(&mut store.data_mut().logs));
        result.map_err(|e| self.classify(e, &store))
    }

    fn classify(&self, error: wasmtime::Error, store: &Store<State>) -> PluginErrorKind {
        let state = store.data();
        let message = format!("{error:#}");
        if state.limiter.hit {
            PluginErrorKind::OutOfMemory { limit_bytes: state.limiter.max_bytes }
        } else if let Some(at) = message.find("resource limit exceeded: ") {
            let what = message[at + "resource limit exceeded: ".len()..].lines().next().unwrap_or_default();
            let limits = &self.runtime.limits;
            PluginErrorKind::ResourceLimit {
                what: what.to_string(),
                limits: format!(
                    "{} instances, {} memories, {} tables per call",
                    limits.instances, limits.memories, limits.tables
                ),
            }
        } else if matches!(error.downcast_ref::<Trap>(), Some(Trap::Interrupt)) {
            PluginErrorKind::Timeout { limit_ms: self.runtime.limits.time.as_millis() }
        } else {
            PluginErrorKind::Crashed { trap: trap_summary(&error), panic: panic_message(&state.stderr.contents()) }
        }
    }
}

impl Backend for WasmBackend {
    fn is_native(&self) -> bool {
        false
    }

    fn info(&self) -> Result<RawInfo, PluginErrorKind> {
        self.with_instance(|indices, store, instance| dispatch!(indices, info, store, instance))
    }

    fn validate(&self, manifest_json: &str) -> Result<Vec<Diagnostic>, PluginErrorKind> {
        self.with_instance(|indices, store, instance| dispatch!(indices, validate, store, instance, manifest_json))
    }

    fn render(
        &self,
        manifest_json: &str,
        context_json: &str,
    ) -> Result<Result<RawRendered, RawRenderError>, PluginErrorKind> {
        self.with_instance(|indices, store, instance| {
            dispatch!(indices, render, store, instance, manifest_json, context_json)
        })
    }

    /// Both calls on one instance: they read the same manifest, so keeping
    /// them apart bought no isolation, only a second instance (its store,
    /// WASI context, memories and the system calls that map and unmap
    /// them). The render gets a time limit of its own, as in a store of its
    /// own.
    fn validate_then_render(
        &self,
        manifest_json: &str,
        context_json: &str,
    ) -> Result<ValidatedRender, PluginErrorKind> {
        let deadline = self.runtime.epoch_ticks;
        self.with_instance(|indices, store, instance| {
            let diagnostics = dispatch!(indices, validate, store, instance, manifest_json)?;
            if any_error(&diagnostics) {
                return Ok((diagnostics, None));
            }
            store.set_epoch_deadline(deadline);
            let rendered = dispatch!(indices, render, store, instance, manifest_json, context_json)?;
            Ok((diagnostics, Some(rendered)))
        })
    }
}
