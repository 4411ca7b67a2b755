//! Errors that name the plugin, say what happened and what to do.

use std::fmt;

/// The runtime itself could not start.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// wasmtime refused the configuration.
    #[error("cannot start the WebAssembly engine: {0}")]
    Engine(String),
}

/// A plugin failed; the message is one paragraph naming the plugin.
#[derive(Debug, Clone)]
pub struct PluginError {
    /// Plugin name (or, before its info is known, its file or package name).
    pub plugin: String,
    /// What went wrong.
    pub kind: PluginErrorKind,
}

/// What went wrong with a plugin.
#[derive(Debug, Clone)]
pub enum PluginErrorKind {
    /// The file could not be read.
    Read(String),
    /// The file pinned in `copilot/plugins.lock` could not be read.
    ReadPinned {
        /// The file.
        path: String,
        /// Why.
        error: String,
        /// Where it was installed from.
        source: String,
    },
    /// wasmtime could not compile it (not a component, or corrupt).
    Compile(String),
    /// It is a component, but exports no ferry plugin interface.
    NotAPlugin {
        /// What it exports instead.
        exports: Vec<String>,
    },
    /// It targets a plugin ABI version this ferry does not support.
    UnsupportedAbi {
        /// The version it targets.
        version: String,
    },
    /// It needs imports the sandbox does not grant.
    Instantiate(String),
    /// It ran past its time limit.
    Timeout {
        /// The limit, in milliseconds.
        limit_ms: u128,
    },
    /// It tried to grow memory past the limit.
    OutOfMemory {
        /// The limit, in bytes.
        limit_bytes: usize,
    },
    /// It needed more instances, memories or tables than one call may have.
    ResourceLimit {
        /// What wasmtime counted.
        what: String,
        /// The limits, as a phrase.
        limits: String,
    },
    /// It trapped (a panic, an abort, a stack overflow).
    Crashed {
        /// The trap.
        trap: String,
        /// The panic message it printed, if any.
        panic: Option<String>,
    },
    /// It returned something that is not what the ABI promises.
    BadOutput(String),
    /// No plugin handles this manifest type.
    UnknownType {
        /// The manifest type.
        manifest_type: String,
        /// Types that are handled.
        known: Vec<String>,
    },
    /// No plugin has this name.
    UnknownPlugin {
        /// Known plugin names.
        known: Vec<String>,
    },
    /// The file no longer matches the digest pinned in `copilot/plugins.lock`.
    Tampered {
        /// The component.
        path: String,
        /// The sha256 in the lock.
        expected: String,
        /// The sha256 of the file now.
        actual: String,
    },
    /// A native library could not be loaded (not a library, missing ABI
    /// symbols, another native ABI version).
    NativeLoad {
        /// The library.
        path: String,
        /// Why.
        what: String,
    },
    /// A native plugin's call reported an error (a caught panic, an unknown op).
    NativeFailed {
        /// `info`, `validate` or `render`.
        op: String,
        /// What it said.
        message: String,
    },
    /// A native library is pinned in the lock, but the user has not
    /// approved it (this digest, this workspace) in their own trust store.
    NativeUntrusted {
        /// The library.
        path: String,
        /// Its sha256.
        sha256: String,
    },
    /// A lock entry names a plugin or a file it may not, or disagrees with
    /// the plugin's own `info()`.
    BadLock(String),
    /// A plugin returned more than the host accepts.
    TooLarge(String),
    /// Two plugins claim the same manifest type.
    DuplicateType {
        /// The manifest type.
        manifest_type: String,
        /// The other plugin.
        other: String,
        /// Where each came from (`bundled` or a file path), first then other.
        origins: Box<[String; 2]>,
    },
}

impl PluginError {
    pub(crate) fn new(plugin: impl Into<String>, kind: PluginErrorKind) -> Self {
        PluginError { plugin: plugin.into(), kind }
    }

    /// True when no plugin handles the manifest type asked for.
    pub fn is_unknown_type(&self) -> bool {
        matches!(self.kind, PluginErrorKind::UnknownType { .. })
    }
}

impl fmt::Display for PluginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = &self.plugin;
        match &self.kind {
            PluginErrorKind::Read(e) => write!(f, "cannot read plugin `{p}`: {e}"),
            PluginErrorKind::ReadPinned { path, error, .. } => {
                write!(f, "cannot read plugin `{p}`: {path}: {error} (pinned in copilot/plugins.lock)")
            }
            PluginErrorKind::Compile(e) => {
                write!(f, "plugin `{p}` is not a valid WebAssembly component and cannot be compiled: {e}")
            }
            PluginErrorKind::NotAPlugin { exports } => write!(
                f,
                "`{p}` is not a ferry plugin: it exports {}, but a plugin exports one of \
                 ferry:plugin/service, job, environment or pipeline-provider",
                if exports.is_empty() { "nothing".to_string() } else { exports.join(", ") }
            ),
            PluginErrorKind::UnsupportedAbi { version } => write!(
                f,
                "plugin `{p}` targets plugin API {version}, which this ferry ({}) does not support; it supports {}",
                env!("CARGO_PKG_VERSION"),
                crate::wit::SUPPORTED.iter().map(|v| format!("{v}.x")).collect::<Vec<_>>().join(", ")
            ),
            PluginErrorKind::Instantiate(e) => write!(f, "plugin `{p}` cannot start in ferry's sandbox: {e}"),
            PluginErrorKind::Timeout { limit_ms } => {
                write!(f, "plugin `{p}` exceeded its time limit of {limit_ms} ms and was stopped")
            }
            PluginErrorKind::ResourceLimit { what, limits } => write!(
                f,
                "plugin `{p}` exceeded a resource limit ({what}; a plugin may have at most {limits}) and was stopped"
            ),
            PluginErrorKind::OutOfMemory { limit_bytes } => write!(
                f,
                "plugin `{p}` exceeded its memory limit of {} MiB (all of its memories together) and was stopped",
                limit_bytes >> 20
            ),
            PluginErrorKind::Crashed { trap, panic } => match panic {
                Some(panic) => write!(f, "plugin `{p}` crashed: {panic} ({trap})"),
                None => write!(f, "plugin `{p}` crashed: {trap}"),
            },
            PluginErrorKind::BadOutput(what) => write!(f, "plugin `{p}` returned malformed output: {what}"),
            PluginErrorKind::UnknownType { manifest_type, known } => {
                write!(f, "no plugin renders manifest type `{manifest_type}`; installed types: {}", known.join(", "))
            }
            PluginErrorKind::UnknownPlugin { .. } => {
                write!(f, "no plugin named `{p}`")
            }
            PluginErrorKind::Tampered { path, expected, actual } => write!(
                f,
                "refusing to load plugin `{p}`: {path} has sha256 {actual}, but copilot/plugins.lock pins {expected}; \
                 the file changed since it was installed"
            ),
            PluginErrorKind::NativeLoad { path, what } => {
                write!(f, "cannot load native plugin `{p}` from {path}: {what}")
            }
            PluginErrorKind::NativeFailed { op, message } => {
                write!(f, "native plugin `{p}` failed in `{op}`: {message}")
            }
            PluginErrorKind::NativeUntrusted { path, sha256 } => write!(
                f,
                "refusing to load native plugin `{p}` ({path}, sha256 {sha256}): you have not trusted it for this \
                 workspace on this machine, and a repository's copilot/plugins.lock cannot grant that. \
                 Native plugins are not sandboxed: they run with all of ferry's permissions (files, network, AWS credentials)"
            ),
            PluginErrorKind::BadLock(why) => write!(f, "refusing plugin `{p}`: {why}"),
            PluginErrorKind::TooLarge(what) => write!(f, "plugin `{p}` returned too much: {what}, and was refused"),
            PluginErrorKind::DuplicateType { manifest_type, other, origins } => write!(
                f,
                "plugins `{p}` ({}) and `{other}` ({}) both claim manifest type `{manifest_type}`",
                origins[0], origins[1]
            ),
        }
    }
}

impl std::error::Error for PluginError {}

impl PluginError {
    /// What the user can do about it (the binary prints it after the message).
    pub fn hint(&self) -> Option<String> {
        let p = &self.plugin;
        let bug = || "this is a bug in the plugin; report it to its author".to_string();
        Some(match &self.kind {
            PluginErrorKind::Read(_) | PluginErrorKind::UnknownType { .. } | PluginErrorKind::NativeLoad { .. } => {
                return None;
            }
            PluginErrorKind::ReadPinned { source, .. } => {
                format!("run `ferry plugin install {source}` again, or `ferry plugin remove {p}`")
            }
            PluginErrorKind::Compile(_) => {
                "build plugins with `cargo build --target wasm32-wasip2` (or `ferry plugin build`)".into()
            }
            PluginErrorKind::NotAPlugin { .. } => "implement ferry_plugin_sdk::Plugin and use export_plugin!".into(),
            PluginErrorKind::UnsupportedAbi { .. } => {
                "rebuild the plugin against a supported ferry-plugin-sdk, or upgrade ferry".into()
            }
            PluginErrorKind::Instantiate(_) => {
                "plugins may import only ferry:plugin/host and the WASI interfaces Rust's std links".into()
            }
            PluginErrorKind::Timeout { .. } => "the plugin probably loops forever; report it to its author".into(),
            PluginErrorKind::ResourceLimit { .. } => {
                "a plugin is one component built from one crate; report it to its author".into()
            }
            PluginErrorKind::OutOfMemory { .. } => "the plugin allocates without bound; report it to its author".into(),
            PluginErrorKind::Crashed { .. }
            | PluginErrorKind::BadOutput(_)
            | PluginErrorKind::NativeFailed { .. }
            | PluginErrorKind::TooLarge(_) => bug(),
            PluginErrorKind::UnknownPlugin { known } => format!("installed plugins: {}", known.join(", ")),
            PluginErrorKind::Tampered { .. } => {
                "if you rebuilt or updated it on purpose, run `ferry plugin install <its source>` \
                 again to pin the new digest; otherwise restore the file"
                    .into()
            }
            PluginErrorKind::NativeUntrusted { .. } => format!(
                "if you trust its author and this build, run `ferry plugin trust {p}`; \
                 otherwise `ferry plugin remove {p}` and use a WebAssembly build of it"
            ),
            PluginErrorKind::BadLock(_) => {
                "install it again with `ferry plugin install`, or restore copilot/plugins.lock from version control"
                    .into()
            }
            PluginErrorKind::DuplicateType { .. } => {
                "remove one of them, or, to replace a bundled plugin, install yours with \
                 `ferry plugin install --override-bundled` (recorded as `overrideBundled` in copilot/plugins.lock)"
                    .into()
            }
        })
    }
}

impl ferry_core::Explain for PluginError {
    fn hint(&self) -> Option<String> {
        PluginError::hint(self)
    }
}
