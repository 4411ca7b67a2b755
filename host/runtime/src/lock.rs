//! `copilot/plugins.lock`: the project's own plugins, each pinned by the
//! sha256 of its component. The lock is what makes a workspace plugin safe to
//! load: a file whose digest differs from its entry is refused, so a plugin
//! cannot change under a project without a reviewed lock change.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// File name of the lock, inside `copilot/`.
pub const LOCK_FILE: &str = "plugins.lock";

/// The current lock format.
const LOCK_VERSION: u32 = 1;

/// The lock file of one workspace.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Lock {
    /// Format version; only 1 exists.
    pub lock_version: u32,
    /// Installed plugins, sorted by name.
    #[serde(default)]
    pub plugins: Vec<LockEntry>,
}

impl Default for Lock {
    fn default() -> Self {
        Lock { lock_version: LOCK_VERSION, plugins: Vec::new() }
    }
}

/// One installed plugin.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LockEntry {
    /// The plugin's name (from its `info()`).
    pub name: String,
    /// The plugin's version (from its `info()`).
    pub version: String,
    /// `service`, `job`, `environment` or `pipeline-provider`.
    pub kind: String,
    /// Manifest types it renders.
    pub manifest_types: Vec<String>,
    /// Plugin ABI version it targets.
    pub wit_version: String,
    /// Where it was installed from: a path, an `https://` URL or an `oci://` ref.
    pub source: String,
    /// The component, relative to `copilot/`: always inside `copilot/plugins/`.
    pub path: String,
    /// Hex sha256 of the component: checked at every load.
    pub sha256: String,
    /// The workspace allows this plugin to replace bundled plugins claiming
    /// the same manifest types.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub override_bundled: bool,
    /// A native library (`cdylib`), not a WebAssembly component: it runs
    /// unsandboxed in ferry's process.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub native: bool,
    /// Whoever installed it trusted this native library. Informational only:
    /// trust lives with each user (see `trust.rs`), never in a repository.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub trusted: bool,
}

/// The directory, inside `copilot/`, that installed plugins live in.
pub const PLUGINS_DIR: &str = "plugins";

impl LockEntry {
    /// The component's path, resolved against the `copilot/` directory.
    pub fn resolved_path(&self, copilot_dir: &Path) -> PathBuf {
        copilot_dir.join(&self.path)
    }

    /// Why the entry may not be used: a name outside the plugin name rule,
    /// or a `path` that is absolute, climbs with `..`, or leaves
    /// `copilot/plugins/`.
    pub fn check(&self) -> Result<(), String> {
        ferry_core::naming::check_plugin_name(&self.name)
            .map_err(|why| format!("plugin name `{}` is not allowed: {why}", self.name))?;
        check_relative_plugin_path(&self.path)
    }
}

/// `path` is `plugins/<file>` (or deeper), relative, with no empty, `.`
/// or `..` parts.
pub fn check_relative_plugin_path(path: &str) -> Result<(), String> {
    let bad = || format!("path `{path}` must be a file inside {PLUGINS_DIR}/ (relative to copilot/, no `..`)");
    if path.contains('\\') || Path::new(path).is_absolute() {
        return Err(bad());
    }
    let parts: Vec<&str> = path.split('/').collect();
    if parts.len() < 2 || parts[0] != PLUGINS_DIR || parts.iter().any(|p| p.is_empty() || *p == "." || *p == "..") {
        return Err(bad());
    }
    Ok(())
}

/// The lock could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// I/O failed.
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// read or write.
        action: &'static str,
        /// The lock file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// It is not a valid lock.
    #[error("{path}:{line}:{column}: not a valid plugin lock: {message}")]
    Invalid {
        /// The lock file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The parser's message.
        message: String,
    },
    /// An entry names a plugin or a file it may not.
    #[error("{path}: refusing plugin entry `{name}`: {why}")]
    Entry {
        /// The lock file.
        path: PathBuf,
        /// The entry's name, as written.
        name: String,
        /// Why.
        why: String,
    },
    /// A newer ferry wrote it.
    #[error("{path}: lock format {found} is newer than this ferry understands ({LOCK_VERSION})")]
    Version {
        /// The lock file.
        path: PathBuf,
        /// The format version found.
        found: u32,
    },
}

impl LockError {
    /// What the user can do about it (the binary prints it after the message).
    pub fn hint(&self) -> Option<String> {
        match self {
            LockError::Io { .. } => None,
            LockError::Invalid { .. } => Some(
                "restore it from version control, or delete it and run `ferry plugin install` again for each plugin"
                    .into(),
            ),
            LockError::Entry { .. } => Some(
                "a lock written by `ferry plugin install` never has this; restore the lock from version control, \
                 or remove the entry and install the plugin again"
                    .into(),
            ),
            LockError::Version { .. } => Some("upgrade ferry".into()),
        }
    }
}

impl ferry_core::Explain for LockError {
    fn hint(&self) -> Option<String> {
        LockError::hint(self)
    }
}

impl Lock {
    /// `<copilot_dir>/plugins.lock`.
    pub fn path(copilot_dir: &Path) -> PathBuf {
        copilot_dir.join(LOCK_FILE)
    }

    /// Reads the lock of a workspace; a missing file is an empty lock.
    pub fn load(copilot_dir: &Path) -> Result<Lock, LockError> {
        let path = Lock::path(copilot_dir);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Lock::default()),
            Err(source) => return Err(LockError::Io { action: "read", path, source }),
        };
        let lock: Lock = serde_json::from_str(&text).map_err(|e| LockError::Invalid {
            path: path.clone(),
            line: e.line(),
            column: e.column(),
            message: e.to_string().split(" at line").next().unwrap_or_default().to_string(),
        })?;
        if lock.lock_version > LOCK_VERSION {
            return Err(LockError::Version { path, found: lock.lock_version });
        }
        for entry in &lock.plugins {
            entry.check().map_err(|why| LockError::Entry { path: path.clone(), name: entry.name.clone(), why })?;
        }
        Ok(lock)
    }

    /// Writes the lock (sorted, pretty, newline-terminated: it is reviewed in diffs).
    pub fn save(&mut self, copilot_dir: &Path) -> Result<(), LockError> {
        let path = Lock::path(copilot_dir);
        self.plugins.sort_by(|a, b| a.name.cmp(&b.name));
        let mut text = serde_json::to_string_pretty(self).expect("a lock always serialises");
        text.push('\n');
        std::fs::write(&path, text).map_err(|source| LockError::Io { action: "write", path, source })
    }

    /// The entry named `name`.
    pub fn get(&self, name: &str) -> Option<&LockEntry> {
        self.plugins.iter().find(|p| p.name == name)
    }

    /// Adds or replaces the entry with the same name.
    pub fn upsert(&mut self, entry: LockEntry) {
        self.plugins.retain(|p| p.name != entry.name);
        self.plugins.push(entry);
    }

    /// Removes the entry named `name`, returning it.
    pub fn remove(&mut self, name: &str) -> Option<LockEntry> {
        let index = self.plugins.iter().position(|p| p.name == name)?;
        Some(self.plugins.remove(index))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str) -> LockEntry {
        LockEntry {
            name: name.into(),
            version: "0.1.0".into(),
            kind: "service".into(),
            manifest_types: vec!["Queue Processor".into()],
            wit_version: "0.1.0".into(),
            source: "./q.wasm".into(),
            path: format!("plugins/{name}.wasm"),
            sha256: "ab".repeat(32),
            override_bundled: false,
            native: false,
            trusted: false,
        }
    }

    #[test]
    fn round_trips_sorted_and_missing_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Lock::load(dir.path()).unwrap(), Lock::default());
        let mut lock = Lock::default();
        lock.upsert(entry("zeta"));
        lock.upsert(entry("alpha"));
        lock.upsert(entry("zeta"));
        lock.save(dir.path()).unwrap();
        let back = Lock::load(dir.path()).unwrap();
        assert_eq!(back.plugins.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["alpha", "zeta"]);
        let text = std::fs::read_to_string(Lock::path(dir.path())).unwrap();
        assert!(!text.contains("overrideBundled"), "false flags are not written: {text}");
        assert!(!text.contains("native") && !text.contains("trusted"), "false flags are not written: {text}");
        let mut native = entry("lib");
        (native.native, native.trusted) = (true, true);
        lock.upsert(native);
        lock.save(dir.path()).unwrap();
        let text = std::fs::read_to_string(Lock::path(dir.path())).unwrap();
        assert!(text.contains("\"native\": true") && text.contains("\"trusted\": true"), "{text}");
        assert!(Lock::load(dir.path()).unwrap().get("lib").is_some_and(|e| e.native && e.trusted));
    }

    #[test]
    fn invalid_lock_names_file_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(Lock::path(dir.path()), "{\"lockVersion\": 1,\n \"plugins\": [{\"nme\": 1}]}").unwrap();
        let err = Lock::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("plugins.lock:2:") && err.contains("unknown field `nme`"), "{err}");
        std::fs::write(Lock::path(dir.path()), "{\"lockVersion\": 7}").unwrap();
        let err = Lock::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("lock format 7"), "{err}");
    }

    #[test]
    fn entries_outside_plugins_or_with_bad_names_are_refused() {
        for path in ["/etc/passwd", "plugins/../../x.wasm", "../plugins/x.wasm", "x.wasm", "plugins", "plugins/./x"] {
            assert!(check_relative_plugin_path(path).is_err(), "{path}");
        }
        assert!(check_relative_plugin_path("plugins/x.wasm").is_ok());
        let dir = tempfile::tempdir().unwrap();
        let mut lock = Lock::default();
        let mut bad = entry("ok");
        bad.path = "plugins/../../../home/me/.bashrc".into();
        lock.upsert(bad);
        lock.save(dir.path()).unwrap();
        let err = Lock::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("refusing plugin entry `ok`") && err.contains("no `..`"), "{err}");
        let mut lock = Lock::default();
        lock.upsert(entry("../../pwned"));
        lock.save(dir.path()).unwrap();
        let err = Lock::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("plugin name `../../pwned` is not allowed"), "{err}");
    }
}
