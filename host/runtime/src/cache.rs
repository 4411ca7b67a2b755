//! On-disk cache of compiled plugins and of their `info()`.
//!
//! Compiling a component takes ~100 ms; loading a cached one well under
//! 1 ms, which is what keeps `ferry svc package` fast. Deserializing is
//! `unsafe` (an artifact is machine code), so the cache trusts nothing it
//! reads back:
//! - its directory is created 0700, and one that is not owned by the user or
//!   that others can write is not used (plugins compile in memory instead);
//! - every entry carries an HMAC-SHA256 under a per-user key (a 0600 file in
//!   ferry's config directory, made on first use) over the wasm's sha256,
//!   the engine's compatibility hash and the payload, so an artifact copied
//!   under another plugin's name, or planted by someone without the key, is
//!   recompiled, never deserialized.

use ferry_core::Problem;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use wasmtime::Engine;
use wasmtime::component::Component;

const MAGIC: &[u8; 8] = b"FERRYCW2";

/// The wasmtime this crate pins (`=48.0.8` in Cargo.toml); part of the cache
/// key so an upgraded ferry never even tries an old artifact.
pub(crate) const WASMTIME_VERSION: &str = "48.0.8";

/// File name of the cache key inside ferry's config directory.
pub const KEY_FILE: &str = "cache-key";

/// Feeds `Hash` input into sha256: unlike `DefaultHasher`, stable across
/// Rust releases, so a toolchain update does not orphan the cache.
pub(crate) struct StableHasher(pub(crate) Sha256);

impl std::hash::Hasher for StableHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
    fn finish(&self) -> u64 {
        let digest = self.0.clone().finalize();
        u64::from_le_bytes([digest[0], digest[1], digest[2], digest[3], digest[4], digest[5], digest[6], digest[7]])
    }
}

/// HMAC-SHA256 (RFC 2104) of the concatenated `parts`.
pub(crate) fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block.map(|b| b ^ 0x36));
    for part in parts {
        inner.update(part);
    }
    let mut outer = Sha256::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// Compares without an early exit, so timing says nothing of where a forged
/// MAC first differs.
fn equal_in_constant_time(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub struct Cache {
    dir: Option<PathBuf>,
    key: Option<[u8; 32]>,
    engine_key: String,
    /// Components this cache had to compile.
    compiled: AtomicUsize,
}

/// Says once per process why the cache is not used.
fn warn_once(warn: &dyn Fn(Problem), warning: Problem) {
    static WARNED: Mutex<bool> = Mutex::new(false);
    let mut warned = WARNED.lock().unwrap_or_else(|e| e.into_inner());
    if !*warned {
        *warned = true;
        warn(warning.warning());
    }
}

impl Cache {
    /// A cache in `dir` keyed with the key file in `key_dir` (both created
    /// private when missing). Either missing or refused leaves a cache that
    /// stores nothing: slower, never unsafe.
    /// `engine_key` names the engine's machine-code compatibility
    /// ([`crate::engine_key`]).
    pub fn new(dir: Option<PathBuf>, key_dir: Option<PathBuf>, engine_key: &str, warn: &dyn Fn(Problem)) -> Cache {
        let engine_key = engine_key.to_string();
        let dir = dir.and_then(|dir| match private_dir(&dir) {
            Ok(()) => Some(dir),
            Err(why) => {
                warn_once(
                    warn,
                    Problem::new(format!(
                        "not using the plugin compile cache {}: {why}; plugins are compiled in memory on every run",
                        dir.display()
                    ))
                    .hint("make it yours and private (`chmod 700`), or point FERRY_CACHE_DIR at a directory only you can write"),
                );
                None
            }
        });
        let key = match (&dir, key_dir) {
            (Some(_), Some(key_dir)) => match load_or_create_key(&key_dir) {
                Ok(key) => Some(key),
                Err(why) => {
                    warn_once(
                        warn,
                        Problem::new(format!(
                            "not using the plugin compile cache: its key {}: {why}; plugins are compiled in memory on every run",
                            key_dir.join(KEY_FILE).display()
                        )),
                    );
                    None
                }
            },
            _ => None,
        };
        let dir = if key.is_some() { dir } else { None };
        Cache { dir, key, engine_key, compiled: AtomicUsize::new(0) }
    }

    /// A cache that stores nothing (the build script's precompiling runtime).
    pub fn disabled() -> Cache {
        Cache { dir: None, key: None, engine_key: String::new(), compiled: AtomicUsize::new(0) }
    }

    fn artifact_path(&self, sha256: &str) -> Option<PathBuf> {
        self.dir.as_ref().map(|d| d.join(format!("{sha256}-{}.cwasm", self.engine_key)))
    }

    fn info_path(&self, sha256: &str) -> Option<PathBuf> {
        self.dir.as_ref().map(|d| d.join(format!("{sha256}-{}.info", env!("CARGO_PKG_VERSION"))))
    }

    /// The MAC of an entry: what it is (`kind`), the wasm it was made from,
    /// the engine that made it, and its bytes.
    fn mac(&self, kind: &[u8], sha256: &str, payload: &[u8]) -> Option<[u8; 32]> {
        let key = self.key.as_ref()?;
        Some(hmac_sha256(
            key,
            &[b"ferry-cache-v2\0", kind, b"\0", sha256.as_bytes(), b"\0", self.engine_key.as_bytes(), b"\0", payload],
        ))
    }

    fn read_entry(&self, kind: &[u8], sha256: &str, path: &Path) -> Option<Vec<u8>> {
        let data = std::fs::read(path).ok()?;
        if data.len() < 40 || &data[..8] != MAGIC {
            return None;
        }
        let (mac, payload) = data[8..].split_at(32);
        let expected = self.mac(kind, sha256, payload)?;
        equal_in_constant_time(mac, &expected).then(|| payload.to_vec())
    }

    fn write_entry(&self, kind: &[u8], sha256: &str, path: &Path, payload: &[u8]) {
        let Some(mac) = self.mac(kind, sha256, payload) else { return };
        let mut framed = Vec::with_capacity(payload.len() + 40);
        framed.extend_from_slice(MAGIC);
        framed.extend_from_slice(&mac);
        framed.extend_from_slice(payload);
        let _ = write_atomically(path, &framed);
    }

    /// The compiled component: from the cache when an authenticated entry
    /// for exactly this wasm exists, else compiled now and stored (a cache
    /// that cannot be written is not an error, only slower).
    pub fn component(&self, engine: &Engine, sha256: &str, wasm: &[u8]) -> wasmtime::Result<Component> {
        // The caller's digest names the entry; check it is the wasm's own, so
        // an entry is never filed under another component's name.
        let actual = hex::encode(Sha256::digest(wasm));
        if let Some(path) = self.artifact_path(&actual)
            && actual.eq_ignore_ascii_case(sha256)
            && let Some(payload) = self.read_entry(b"artifact", &actual, &path)
        {
            // SAFETY: the MAC under this user's private key proves this cache
            // wrote these bytes with `Component::serialize` of this engine
            // configuration, for exactly this wasm.
            if let Ok(component) = unsafe { Component::deserialize(engine, &payload) } {
                return Ok(component);
            }
        }
        let component = crate::compile(engine, wasm)?;
        self.compiled.fetch_add(1, Ordering::SeqCst);
        if let Some(path) = self.artifact_path(&actual)
            && let Ok(bytes) = component.serialize()
        {
            self.write_entry(b"artifact", &actual, &path, &bytes);
        }
        Ok(component)
    }

    /// How many components this cache compiled (a miss, or no cache).
    pub fn compiled(&self) -> usize {
        self.compiled.load(Ordering::SeqCst)
    }

    /// A cached `info()` result (JSON), if any.
    pub fn info(&self, sha256: &str) -> Option<String> {
        let payload = self.read_entry(b"info", sha256, &self.info_path(sha256)?)?;
        String::from_utf8(payload).ok()
    }

    pub fn store_info(&self, sha256: &str, json: &str) {
        if let Some(path) = self.info_path(sha256) {
            self.write_entry(b"info", sha256, &path, json.as_bytes());
        }
    }

    #[cfg(test)]
    pub fn artifact_path_for_test(&self, sha256: &str) -> Option<PathBuf> {
        self.artifact_path(sha256)
    }
}

/// Creates `dir` 0700 when missing; refuses one the user does not own or
/// that others can write.
fn private_dir(dir: &Path) -> Result<(), String> {
    crate::trust::create_private_dir(dir).map_err(|e| format!("cannot create it ({e})"))?;
    if !dir.is_dir() {
        return Err("it is not a directory".into());
    }
    ferry_core::workspace::check_private_path(dir)
}

/// The user's cache key: 32 random bytes in `<key_dir>/cache-key`, 0600.
fn load_or_create_key(key_dir: &Path) -> Result<[u8; 32], String> {
    let path = key_dir.join(KEY_FILE);
    crate::trust::create_private_dir(key_dir).map_err(|e| format!("cannot create its directory ({e})"))?;
    ferry_core::workspace::check_private_path(key_dir)?;
    if let Ok(bytes) = std::fs::read(&path) {
        check_key_file(&path)?;
        return bytes.try_into().map_err(|_| "it is not 32 bytes long".to_string());
    }
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(|e| format!("no randomness for a new key ({e})"))?;
    // Written whole to a private temporary file, then linked into place
    // only if no other ferry got there first: nobody ever reads half a key.
    let mut tmp = tempfile::NamedTempFile::new_in(key_dir).map_err(|e| format!("cannot create it ({e})"))?;
    tmp.write_all(&key).and_then(|()| tmp.as_file().sync_all()).map_err(|e| format!("cannot write it ({e})"))?;
    match tmp.persist_noclobber(&path) {
        Ok(_) => Ok(key),
        Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => {
            check_key_file(&path)?;
            std::fs::read(&path)
                .map_err(|e| format!("cannot read it ({e})"))?
                .try_into()
                .map_err(|_| "it is not 32 bytes long".to_string())
        }
        Err(e) => Err(format!("cannot create it ({})", e.error)),
    }
}

/// The key must be the user's and readable by no one else.
fn check_key_file(path: &Path) -> Result<(), String> {
    ferry_core::workspace::check_private_path(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let mode = std::fs::metadata(path).map_err(|e| e.to_string())?.mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(format!("others can read it (mode {mode:03o}); `chmod 600` it"));
        }
    }
    Ok(())
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine() -> Engine {
        Engine::new(&crate::engine_config()).unwrap()
    }

    fn bundled(i: usize) -> &'static ferry_bundled::BundledPlugin {
        &ferry_bundled::BUNDLED[i]
    }

    fn cache(dir: &Path, engine: &Engine) -> Cache {
        Cache::new(Some(dir.join("cache")), Some(dir.join("config")), &crate::engine_key(engine), &|_| ())
    }

    #[test]
    fn hmac_matches_rfc_4231() {
        // RFC 4231 test case 2.
        let mac = hmac_sha256(b"Jefe", &[b"what do ya want ", b"for nothing?"]);
        assert_eq!(hex::encode(mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
        // Test case 6: a key longer than the block is hashed first.
        let mac = hmac_sha256(&[0xaa; 131], &[b"Test Using Larger Than Block-Size Key - Hash Key First"]);
        assert_eq!(hex::encode(mac), "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    }

    #[test]
    fn miss_then_hit_then_tampered_is_recompiled() {
        let dir = tempfile::tempdir().unwrap();
        let engine = engine();
        let cache = cache(dir.path(), &engine);
        let plugin = bundled(0);
        let path = cache.artifact_path_for_test(plugin.sha256).unwrap();
        assert!(!path.exists());
        cache.component(&engine, plugin.sha256, plugin.wasm.bytes()).unwrap();
        assert!(cache.read_entry(b"artifact", plugin.sha256, &path).is_some(), "miss writes an authenticated entry");
        let written = std::fs::metadata(&path).unwrap().modified().unwrap();
        cache.component(&engine, plugin.sha256, plugin.wasm.bytes()).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().modified().unwrap(), written, "hit does not rewrite");
        // Corrupt one byte of the payload: it must not be trusted.
        let mut data = std::fs::read(&path).unwrap();
        let last = data.len() - 1;
        data[last] ^= 0xff;
        std::fs::write(&path, &data).unwrap();
        assert!(cache.read_entry(b"artifact", plugin.sha256, &path).is_none());
        cache.component(&engine, plugin.sha256, plugin.wasm.bytes()).unwrap();
        assert!(cache.read_entry(b"artifact", plugin.sha256, &path).is_some(), "corrupt entry replaced");
    }

    #[test]
    fn an_entry_copied_under_another_plugins_name_is_not_deserialized() {
        let dir = tempfile::tempdir().unwrap();
        let engine = engine();
        let cache = cache(dir.path(), &engine);
        let (a, b) = (bundled(0), bundled(1));
        cache.component(&engine, a.sha256, a.wasm.bytes()).unwrap();
        let (path_a, path_b) =
            (cache.artifact_path_for_test(a.sha256).unwrap(), cache.artifact_path_for_test(b.sha256).unwrap());
        std::fs::copy(&path_a, &path_b).unwrap();
        assert!(cache.read_entry(b"artifact", b.sha256, &path_b).is_none(), "the MAC binds the wasm's digest");
        cache.component(&engine, b.sha256, b.wasm.bytes()).unwrap();
        assert!(cache.read_entry(b"artifact", b.sha256, &path_b).is_some(), "recompiled and replaced");
        // Entries made with another user's key are not believed either.
        let other = Cache::new(
            Some(dir.path().join("cache")),
            Some(dir.path().join("other-config")),
            &crate::engine_key(&engine),
            &|_| (),
        );
        assert!(other.read_entry(b"artifact", a.sha256, &path_a).is_none());
        // Nor is the wrong digest for the right bytes.
        assert!(cache.component(&engine, b.sha256, a.wasm.bytes()).is_ok());
        assert!(cache.read_entry(b"artifact", a.sha256, &path_a).is_some());
    }

    #[cfg(unix)]
    #[test]
    fn a_cache_others_can_write_is_not_used_and_new_ones_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let engine = engine();
        let cache = cache(dir.path(), &engine);
        assert!(cache.dir.is_some());
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir.path().join("cache")), 0o700);
        assert_eq!(mode(&dir.path().join("config").join(KEY_FILE)), 0o600);
        std::fs::set_permissions(dir.path().join("cache"), std::fs::Permissions::from_mode(0o777)).unwrap();
        let refused = Cache::new(
            Some(dir.path().join("cache")),
            Some(dir.path().join("config")),
            &crate::engine_key(&engine),
            &|_| (),
        );
        assert!(refused.dir.is_none(), "a world-writable cache is not used");
        let plugin = bundled(0);
        assert!(refused.component(&engine, plugin.sha256, plugin.wasm.bytes()).is_ok(), "still compiles in memory");
        // A readable key is refused too.
        std::fs::set_permissions(dir.path().join("cache"), std::fs::Permissions::from_mode(0o700)).unwrap();
        std::fs::set_permissions(dir.path().join("config").join(KEY_FILE), std::fs::Permissions::from_mode(0o644))
            .unwrap();
        assert!(
            Cache::new(
                Some(dir.path().join("cache")),
                Some(dir.path().join("config")),
                &crate::engine_key(&engine),
                &|_| ()
            )
            .dir
            .is_none()
        );
    }

    #[test]
    fn key_changes_with_the_component_and_the_engine() {
        let dir = tempfile::tempdir().unwrap();
        let engine = engine();
        let cache = cache(dir.path(), &engine);
        let a = cache.artifact_path_for_test("aa").unwrap();
        assert_ne!(a, cache.artifact_path_for_test("bb").unwrap());
        assert!(a.to_string_lossy().contains(WASMTIME_VERSION));
        let mut other = wasmtime::Config::new();
        other.epoch_interruption(false);
        let other = Engine::new(&other).unwrap();
        let other_cache = super::tests::cache(dir.path(), &other);
        assert_ne!(a, other_cache.artifact_path_for_test("aa").unwrap(), "an incompatible engine uses other files");
    }

    #[test]
    fn unwritable_or_missing_cache_still_compiles() {
        let engine = engine();
        let plugin = bundled(0);
        let file = tempfile::NamedTempFile::new().unwrap();
        // A cache "directory" under a file cannot be made.
        let cache = Cache::new(
            Some(file.path().join("sub")),
            Some(file.path().join("key")),
            &crate::engine_key(&engine),
            &|_| (),
        );
        assert!(cache.component(&engine, plugin.sha256, plugin.wasm.bytes()).is_ok());
        let cache = Cache::new(None, None, &crate::engine_key(&engine), &|_| ());
        assert!(cache.component(&engine, plugin.sha256, plugin.wasm.bytes()).is_ok());
        assert!(cache.info(plugin.sha256).is_none());
    }
}
