//! One validate-then-render call of a plugin, with every diagnostic located
//! in the manifest it points into: the same for services, jobs,
//! environments and pipeline sources.

use crate::RenderError;
use ferry_core::{Error as CoreError, Location, Problem};
use ferry_plugin_protocol::RenderContext;
use ferry_runtime::{Diagnostic, Plugin, RenderOutcome, Rendered, Severity};

/// The manifest a plugin is called with, and how its pointers are located.
pub(crate) struct Subject<'a> {
    /// The manifest as the plugin reads it (JSON text).
    pub manifest_json: String,
    /// Where a JSON pointer of that manifest is in its file.
    pub locate: &'a dyn Fn(&str) -> Location,
    /// What is rendered, as a failure message names it (`api`, `pipeline release`).
    pub name: String,
    /// How a failure message names the plugin (`plugin`, `source plugin`).
    pub plugin_role: &'static str,
}

impl Subject<'_> {
    /// A plugin diagnostic as a problem at its place in the manifest file.
    pub(crate) fn located(&self, d: Diagnostic) -> Problem {
        let mut problem = Problem::new(d.message).at(Some((self.locate)(&d.path))).pointer(d.path).hint_opt(d.hint);
        problem.warning = d.severity == Severity::Warning;
        problem
    }

    /// Adds the plugin's `validate` diagnostics to `problems`.
    pub(crate) fn validate(&self, plugin: &Plugin, problems: &mut Vec<Problem>) -> Result<(), RenderError> {
        let diagnostics = plugin.validate(&self.manifest_json)?;
        problems.extend(diagnostics.into_iter().map(|d| self.located(d)));
        Ok(())
    }

    /// Renders after validation found no error; `problems` (warnings only
    /// by now) are returned with the output, or with the render's own
    /// diagnostics when the manifest is invalid after all.
    pub(crate) fn render(
        &self,
        plugin: &Plugin,
        context: &RenderContext,
        problems: Vec<Problem>,
    ) -> Result<(Rendered, Vec<Problem>), RenderError> {
        let context_json = serde_json::to_string(context).map_err(RenderError::Context)?;
        let outcome = plugin.render(&self.manifest_json, &context_json)?;
        self.rendered(plugin, outcome, problems)
    }

    /// Validates, stops on any error, then renders (one plugin instance
    /// answers both).
    pub(crate) fn validate_and_render(
        &self,
        plugin: &Plugin,
        context: &RenderContext,
    ) -> Result<(Rendered, Vec<Problem>), RenderError> {
        let context_json = serde_json::to_string(context).map_err(RenderError::Context)?;
        let (diagnostics, outcome) = plugin.validate_then_render(&self.manifest_json, &context_json)?;
        let problems: Vec<Problem> = diagnostics.into_iter().map(|d| self.located(d)).collect();
        stop_on_errors(&problems)?;
        match outcome {
            Some(outcome) => self.rendered(plugin, outcome, problems),
            // Not rendered only for an error, which stopped above.
            None => Err(CoreError::Problems(problems).into()),
        }
    }

    fn rendered(
        &self,
        plugin: &Plugin,
        outcome: RenderOutcome,
        mut problems: Vec<Problem>,
    ) -> Result<(Rendered, Vec<Problem>), RenderError> {
        match outcome {
            RenderOutcome::Rendered(rendered) => Ok((rendered, problems)),
            RenderOutcome::Invalid(diagnostics) => {
                problems.extend(diagnostics.into_iter().map(|d| self.located(d)));
                Err(CoreError::Problems(problems).into())
            }
            RenderOutcome::Failed(message) => Err(RenderError::Failed {
                plugin_role: self.plugin_role,
                plugin: plugin.info().name.clone(),
                subject: self.name.clone(),
                message,
            }),
        }
    }
}

/// An error carrying every problem when any of them is not a warning.
pub(crate) fn stop_on_errors(problems: &[Problem]) -> Result<(), RenderError> {
    if problems.iter().any(|p| !p.warning) {
        return Err(CoreError::Problems(problems.to_vec()).into());
    }
    Ok(())
}

/// Runs CPU-bound work (compiling a plugin, rendering in the sandbox) so it
/// does not hold up an async worker when called from one: the worker hands
/// its other tasks to the rest of the pool for the duration. Outside a
/// multi-threaded runtime (rayon threads, plain threads) it just runs.
pub fn off_async<R>(work: impl FnOnce() -> R) -> R {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(work)
        }
        _ => work(),
    }
}
