//! What can stop a render, as data: every variant says what went wrong and
//! which manifest or plugin it concerns; [`RenderError::problems`] gives the
//! same as [`Problem`]s (what, where, why, hint) for a printer to show.

use ferry_core::Problem;
use ferry_runtime::PluginError;

/// Why a manifest could not be turned into a stack.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// Problems in the user's files, each located in its manifest
    /// (including the plugin's own diagnostics), or a file that could not be read.
    #[error(transparent)]
    Manifest(#[from] ferry_core::Error),
    /// The plugin could not be loaded or misbehaved (crash, limit, bad output).
    #[error(transparent)]
    Plugin(#[from] PluginError),
    /// The plugin ran to completion but gave up, for a reason of its own.
    #[error("{plugin_role} `{plugin}` could not render {subject}: {message}")]
    Failed {
        /// `plugin` or `source plugin`, as the message names it.
        plugin_role: &'static str,
        /// The plugin's name.
        plugin: String,
        /// What it was rendering (`api`, `pipeline release`).
        subject: String,
        /// What the plugin said.
        message: String,
    },
    /// The plugin's output could not be made into a stack (e.g. a value for a
    /// parameter its template does not declare).
    #[error("cannot assemble the stack of {subject}")]
    Assemble {
        /// `` `api` (rendered by plugin `backend-service`) `` or `environment `test``.
        subject: String,
        /// The located problem.
        #[source]
        source: ferry_core::Error,
    },
    /// A plugin asked for host steps where the host carries out none.
    #[error(
        "plugin `{plugin}` asked for a `{step}` host step for environment `{env}`; host steps are carried out for services and jobs only"
    )]
    HostStepNotAllowed {
        /// The plugin's name.
        plugin: String,
        /// The kind of step it asked for.
        step: String,
        /// The environment it rendered.
        env: String,
    },
    /// The render context could not be encoded (never expected).
    #[error("cannot encode the render context: {0}")]
    Context(#[source] serde_json::Error),
}

impl RenderError {
    /// The error as problems a printer shows: the located ones when the
    /// manifest is at fault, else one problem saying what, why and what to do.
    pub fn problems(&self) -> Vec<Problem> {
        match self {
            RenderError::Manifest(e) | RenderError::Assemble { source: e, .. } if !e.problems().is_empty() => {
                e.problems().to_vec()
            }
            RenderError::Failed { plugin_role, plugin, subject, message } => {
                vec![Problem::new(format!("{plugin_role} `{plugin}` could not render {subject}")).why(message.clone())]
            }
            RenderError::HostStepNotAllowed { .. } => {
                vec![Problem::new(self.to_string()).hint("this is a bug in the plugin; report it to its author")]
            }
            other => vec![Problem::new(other.to_string())],
        }
    }
}
