//! The user's own record of which native plugins they trust, kept under
//! their config directory, never in a repository: a cloned project's
//! `copilot/plugins.lock` can pin a library, but only `ferry plugin install
//! --trust-native` or `ferry plugin trust` on this machine lets it run.
//!
//! An approval names the workspace (its canonical path) and the library's
//! sha256: the same file in another checkout, or another file under the same
//! name, is not trusted.

use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// File name of the trust store inside the config directory.
pub const TRUST_FILE: &str = "trusted-native.json";

/// The per-user config directory of ferry: `$FERRY_CONFIG_DIR`, else
/// `<user config dir>/ferry`.
pub fn config_dir() -> Option<PathBuf> {
    std::env::var_os("FERRY_CONFIG_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| dirs::config_dir().map(|d| d.join("ferry")))
}

/// One approval.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct TrustEntry {
    /// Canonical path of the project directory (the one holding `copilot/`).
    pub workspace: PathBuf,
    /// The plugin's name in that workspace's lock.
    pub name: String,
    /// Hex sha256 of the approved library.
    pub sha256: String,
}

/// The user's approvals of native plugins.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct TrustStore {
    /// Format version (1).
    #[serde(default = "one")]
    pub version: u32,
    /// Approvals, sorted.
    #[serde(default)]
    pub native: Vec<TrustEntry>,
}

fn one() -> u32 {
    1
}

/// The trust store could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    /// No config directory is known.
    #[error("no config directory for ferry's trust store")]
    NoConfigDir,
    /// I/O failed.
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a trust store.
    #[error("{path} is not a valid trust store: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// The file or its directory is not private to the user.
    #[error("refusing the trust store {path}: {why}")]
    NotPrivate {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        why: String,
    },
}

impl TrustError {
    /// What the user can do about it (the binary prints it after the message).
    pub fn hint(&self) -> Option<String> {
        match self {
            TrustError::NoConfigDir => Some("set FERRY_CONFIG_DIR (or HOME)".into()),
            TrustError::Io { .. } => None,
            TrustError::Invalid { .. } => Some("delete it and trust your native plugins again".into()),
            TrustError::NotPrivate { .. } => Some(
                "it must be yours and writable only by you (`chmod 700` its directory, `chmod 600` the file)".into(),
            ),
        }
    }
}

impl ferry_core::Explain for TrustError {
    fn hint(&self) -> Option<String> {
        TrustError::hint(self)
    }
}

/// The canonical form of a workspace root, as approvals record it.
pub fn canonical_workspace(root: &Path) -> PathBuf {
    root.canonicalize().unwrap_or_else(|_| root.to_path_buf())
}

impl TrustStore {
    /// `<config dir>/trusted-native.json`.
    pub fn path() -> Result<PathBuf, TrustError> {
        Ok(config_dir().ok_or(TrustError::NoConfigDir)?.join(TRUST_FILE))
    }

    /// Reads the user's store; a missing file is an empty store. A store (or
    /// its directory) someone else could have written is refused.
    pub fn load() -> Result<TrustStore, TrustError> {
        let path = TrustStore::path()?;
        for checked in [path.parent().unwrap_or(Path::new(".")), path.as_path()] {
            ferry_core::workspace::check_private_path(checked)
                .map_err(|why| TrustError::NotPrivate { path: checked.to_path_buf(), why })?;
        }
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(TrustStore { version: 1, native: vec![] }),
            Err(source) => return Err(TrustError::Io { action: "read", path, source }),
        };
        serde_json::from_str(&text).map_err(|e| TrustError::Invalid { path, message: e.to_string() })
    }

    /// True when the user approved the library with `sha256` for the
    /// workspace at `root`.
    pub fn is_trusted(&self, root: &Path, sha256: &str) -> bool {
        let root = canonical_workspace(root);
        self.native.iter().any(|e| e.workspace == root && e.sha256.eq_ignore_ascii_case(sha256))
    }

    /// Approves `name` at `sha256` in the workspace at `root` (replacing an
    /// earlier approval of the same name there).
    pub fn trust(&mut self, root: &Path, name: &str, sha256: &str) {
        let workspace = canonical_workspace(root);
        self.native.retain(|e| !(e.workspace == workspace && e.name == name));
        self.native.push(TrustEntry { workspace, name: name.to_string(), sha256: sha256.to_ascii_lowercase() });
        self.native.sort_by(|a, b| (&a.workspace, &a.name).cmp(&(&b.workspace, &b.name)));
    }

    /// Withdraws every approval of `name` in the workspace at `root`;
    /// returns whether there was one.
    pub fn untrust(&mut self, root: &Path, name: &str) -> bool {
        let workspace = canonical_workspace(root);
        let before = self.native.len();
        self.native.retain(|e| !(e.workspace == workspace && e.name == name));
        before != self.native.len()
    }

    /// Writes the store: directory 0700, file 0600, atomically.
    pub fn save(&self) -> Result<(), TrustError> {
        let path = TrustStore::path()?;
        let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        create_private_dir(&dir).map_err(|source| TrustError::Io { action: "create", path: dir.clone(), source })?;
        let mut text = serde_json::to_string_pretty(self).expect("a trust store always serialises");
        text.push('\n');
        write_private(&path, text.as_bytes()).map_err(|source| TrustError::Io { action: "write", path, source })
    }
}

/// Creates `dir` (and missing parents) with mode 0700 for the last part.
pub(crate) fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    match builder.create(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        other => other,
    }
}

/// Writes `bytes` to `path` atomically, readable and writable by the user only.
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    // NamedTempFile creates its file 0600.
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn approvals_are_per_workspace_and_digest() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let mut store = TrustStore::default();
        store.trust(a.path(), "lib", "AB");
        assert!(store.is_trusted(a.path(), "ab"));
        assert!(!store.is_trusted(b.path(), "ab"), "another checkout is not trusted");
        assert!(!store.is_trusted(a.path(), "cd"), "another file is not trusted");
        store.trust(a.path(), "lib", "cd");
        assert!(!store.is_trusted(a.path(), "ab") && store.is_trusted(a.path(), "cd"), "re-trust replaces");
        assert!(store.untrust(a.path(), "lib"));
        assert!(!store.untrust(a.path(), "lib"));
        assert!(store.native.is_empty());
    }
}
