//! Choosing the plugin for a manifest: by its `type:` *and* by what the
//! manifest is, so a service whose type names a pipeline source or an
//! environment is refused instead of being sent to the wrong kind of plugin.

use crate::RenderError;
use ferry_core::error::did_you_mean;
use ferry_core::{Error as CoreError, Manifest, Problem};
use ferry_runtime::{Plugin, PluginError, PluginKind, Registry};

/// What a manifest is, which decides the kinds of plugin that may render it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// `copilot/<name>/manifest.yml`: a service or a job.
    Workload,
    /// A service only (`svc init`).
    Service,
    /// A job only (`job init`).
    Job,
    /// `copilot/environments/<name>/manifest.yml`.
    Environment,
    /// The source of a pipeline manifest (`source.provider`).
    PipelineSource,
}

impl Role {
    /// The plugin kinds that render this role.
    pub fn kinds(self) -> &'static [PluginKind] {
        match self {
            Role::Workload => &[PluginKind::Service, PluginKind::Job],
            Role::Service => &[PluginKind::Service],
            Role::Job => &[PluginKind::Job],
            Role::Environment => &[PluginKind::Environment],
            Role::PipelineSource => &[PluginKind::PipelineProvider],
        }
    }

    /// True when a plugin of `kind` may render this role.
    pub fn accepts(self, kind: PluginKind) -> bool {
        self.kinds().contains(&kind)
    }

    /// The role in words: `service or job`, `environment`, ...
    pub fn word(self) -> &'static str {
        match self {
            Role::Workload => "service or job",
            Role::Service => "service",
            Role::Job => "job",
            Role::Environment => "environment",
            Role::PipelineSource => "pipeline source",
        }
    }
}

/// The indefinite article for `word`.
fn a(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" }
}

/// Why no plugin was chosen for a manifest type.
#[derive(Debug, thiserror::Error)]
pub enum ChooseError {
    /// No installed plugin renders the type.
    #[error("unknown manifest type `{manifest_type}`")]
    Unknown {
        /// The manifest's `type:`.
        manifest_type: String,
        /// Every type some plugin renders.
        known: Vec<String>,
    },
    /// A plugin renders the type, but it is another kind of plugin.
    #[error("`{manifest_type}` is {} {kind} type, not {} {} type", a(.kind.as_str()), a(.role.word()), .role.word())]
    WrongKind {
        /// The manifest's `type:`.
        manifest_type: String,
        /// The plugin that renders it.
        plugin: String,
        /// What that plugin is.
        kind: PluginKind,
        /// What the manifest is.
        role: Role,
        /// The types plugins of the right kinds render.
        types: Vec<String>,
    },
    /// The registry could not route or load the plugin.
    #[error(transparent)]
    Plugin(#[from] PluginError),
}

/// The plugin that renders `manifest_type` for a manifest of `role`.
pub fn choose(registry: &Registry, manifest_type: &str, role: Role) -> Result<Plugin, ChooseError> {
    match registry.for_manifest_type(manifest_type) {
        Ok(plugin) if role.accepts(plugin.info().kind) => Ok(plugin),
        Ok(plugin) => Err(ChooseError::WrongKind {
            manifest_type: manifest_type.to_string(),
            plugin: plugin.info().name.clone(),
            kind: plugin.info().kind,
            role,
            types: registry.manifest_types_of(role.kinds()),
        }),
        Err(err) if err.is_unknown_type() => {
            Err(ChooseError::Unknown { manifest_type: manifest_type.to_string(), known: registry.manifest_types() })
        }
        Err(err) => Err(err.into()),
    }
}

/// [`choose`] for a manifest on disk: a type no plugin renders, or one a
/// plugin of another kind renders, is a problem at the manifest's `type:`.
pub fn plugin_for(registry: &Registry, manifest: &Manifest, role: Role) -> Result<Plugin, RenderError> {
    let err = match choose(registry, &manifest.kind, role) {
        Ok(plugin) => return Ok(plugin),
        Err(err) => err,
    };
    let what = err.to_string();
    let (why, hint) = match err {
        ChooseError::Plugin(err) => return Err(err.into()),
        ChooseError::Unknown { manifest_type, known } => {
            let hint = match did_you_mean(&manifest_type, known.iter().map(String::as_str)) {
                Some(best) => format!("did you mean `{best}`?"),
                None => format!("installed types: {}", known.join(", ")),
            };
            ("no bundled or installed plugin renders this type".to_string(), hint)
        }
        ChooseError::WrongKind { manifest_type, plugin, kind, role, types } => {
            let list = format!("{} types: {}", role.word(), types.join(", "));
            let hint = match did_you_mean(&manifest_type, types.iter().map(String::as_str)) {
                Some(best) => format!("did you mean `{best}`? {list}"),
                None => list,
            };
            let why = format!(
                "it is rendered by `{plugin}`, {} {kind} plugin, and this manifest is {} {}",
                a(kind.as_str()),
                a(role.word()),
                role.word()
            );
            (why, hint)
        }
    };
    let problem = Problem::new(what).at(Some(manifest.doc.locate("/type"))).pointer("/type").why(why).hint(hint);
    Err(CoreError::problem(problem).into())
}
