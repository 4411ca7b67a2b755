//! On-disk cache of compiled plugins and of their `info()`.
//!
//! Compiling a component takes ~100 ms; loading a cached one well under
//! 1 ms, which is what keeps `ferry svc package` fast. Entries are keyed by
//! the plugin's sha256 and the engine's compatibility hash, written
//! atomically, and checksummed: deserializing is `unsafe`, so only bytes this
//! cache wrote and verified are ever deserialized.

use sha2::{Digest, Sha256};
use std::hash::Hash;
use std::io::Write;
use std::path::{Path, PathBuf};
use wasmtime::Engine;
use wasmtime::component::Component;

const MAGIC: &[u8; 8] = b"FERRYCW1";

/// The wasmtime this crate pins (`=48.0.8` in Cargo.toml); part of the cache
/// key so an upgraded ferry never even tries an old artifact.
const WASMTIME_VERSION: &str = "48.0.8";

/// Feeds `Hash` input into sha256: unlike `DefaultHasher`, stable across
/// Rust releases, so a toolchain update does not orphan the cache.
struct StableHasher(Sha256);

impl std::hash::Hasher for StableHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
    fn finish(&self) -> u64 {
        let digest = self.0.clone().finalize();
        u64::from_le_bytes([digest[0], digest[1], digest[2], digest[3], digest[4], digest[5], digest[6], digest[7]])
    }
}

pub struct Cache {
    dir: Option<PathBuf>,
    engine_key: String,
}

impl Cache {
    pub fn new(dir: Option<PathBuf>, engine: &Engine) -> Cache {
        let mut hasher = StableHasher(Sha256::new());
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let engine_key = format!("wasmtime{WASMTIME_VERSION}-{}", &hex::encode(hasher.0.finalize())[..16]);
        Cache { dir, engine_key }
    }

    fn artifact_path(&self, sha256: &str) -> Option<PathBuf> {
        self.dir.as_ref().map(|d| d.join(format!("{sha256}-{}.cwasm", self.engine_key)))
    }

    fn info_path(&self, sha256: &str) -> Option<PathBuf> {
        self.dir.as_ref().map(|d| d.join(format!("{sha256}-{}.info.json", env!("CARGO_PKG_VERSION"))))
    }

    /// The compiled component: from the cache when a verified entry exists,
    /// else compiled now and stored (a cache that cannot be written is not an
    /// error, only slower).
    pub fn component(&self, engine: &Engine, sha256: &str, wasm: &[u8]) -> wasmtime::Result<Component> {
        if let Some(path) = self.artifact_path(sha256)
            && let Some(payload) = read_verified(&path)
        {
            // SAFETY: the payload was produced by `Component::serialize` of this
            // engine configuration (the file name carries its compatibility
            // hash) and its checksum matches what this cache wrote.
            if let Ok(component) = unsafe { Component::deserialize(engine, &payload) } {
                return Ok(component);
            }
        }
        let component = Component::new(engine, wasm)?;
        if let Some(path) = self.artifact_path(sha256)
            && let Ok(bytes) = component.serialize()
        {
            let mut framed = Vec::with_capacity(bytes.len() + 40);
            framed.extend_from_slice(MAGIC);
            framed.extend_from_slice(&Sha256::digest(&bytes));
            framed.extend_from_slice(&bytes);
            let _ = write_atomically(&path, &framed);
        }
        Ok(component)
    }

    /// A cached `info()` result (JSON), if any.
    pub fn info(&self, sha256: &str) -> Option<String> {
        std::fs::read_to_string(self.info_path(sha256)?).ok()
    }

    pub fn store_info(&self, sha256: &str, json: &str) {
        if let Some(path) = self.info_path(sha256) {
            let _ = write_atomically(&path, json.as_bytes());
        }
    }

    #[cfg(test)]
    pub fn artifact_path_for_test(&self, sha256: &str) -> Option<PathBuf> {
        self.artifact_path(sha256)
    }
}

fn read_verified(path: &Path) -> Option<Vec<u8>> {
    let data = std::fs::read(path).ok()?;
    if data.len() < 40 || &data[..8] != MAGIC {
        return None;
    }
    let (sum, payload) = data[8..].split_at(32);
    (Sha256::digest(payload).as_slice() == sum).then(|| payload.to_vec())
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine() -> Engine {
        let mut config = wasmtime::Config::new();
        config.epoch_interruption(true);
        Engine::new(&config).unwrap()
    }

    fn bundled() -> &'static ferry_bundled::BundledPlugin {
        &ferry_bundled::BUNDLED[0]
    }

    #[test]
    fn miss_then_hit_then_corrupt_is_recompiled() {
        let dir = tempfile::tempdir().unwrap();
        let engine = engine();
        let cache = Cache::new(Some(dir.path().to_path_buf()), &engine);
        let plugin = bundled();
        let path = cache.artifact_path_for_test(plugin.sha256).unwrap();
        assert!(!path.exists());
        cache.component(&engine, plugin.sha256, plugin.wasm).unwrap();
        assert!(read_verified(&path).is_some(), "miss writes a verified entry");
        let written = std::fs::metadata(&path).unwrap().modified().unwrap();
        cache.component(&engine, plugin.sha256, plugin.wasm).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().modified().unwrap(), written, "hit does not rewrite");
        // Corrupt one byte of the payload: it must not be trusted.
        let mut data = std::fs::read(&path).unwrap();
        let last = data.len() - 1;
        data[last] ^= 0xff;
        std::fs::write(&path, &data).unwrap();
        assert!(read_verified(&path).is_none());
        cache.component(&engine, plugin.sha256, plugin.wasm).unwrap();
        assert!(read_verified(&path).is_some(), "corrupt entry replaced");
        // A foreign file (not written by this cache) is never deserialized.
        std::fs::write(&path, b"\x7fELF something else entirely, long enough to pass length checks").unwrap();
        assert!(read_verified(&path).is_none());
        cache.component(&engine, plugin.sha256, plugin.wasm).unwrap();
        assert!(read_verified(&path).is_some(), "foreign file replaced");
    }

    #[test]
    fn key_changes_with_the_component_and_the_engine() {
        let dir = tempfile::tempdir().unwrap();
        let engine = engine();
        let cache = Cache::new(Some(dir.path().to_path_buf()), &engine);
        let a = cache.artifact_path_for_test("aa").unwrap();
        assert_ne!(a, cache.artifact_path_for_test("bb").unwrap());
        assert!(a.to_string_lossy().contains(WASMTIME_VERSION));
        let mut other = wasmtime::Config::new();
        other.epoch_interruption(false);
        let other = Engine::new(&other).unwrap();
        let other_cache = Cache::new(Some(dir.path().to_path_buf()), &other);
        assert_ne!(a, other_cache.artifact_path_for_test("aa").unwrap(), "an incompatible engine uses other files");
        assert_eq!(a, Cache::new(Some(dir.path().to_path_buf()), &engine).artifact_path_for_test("aa").unwrap());
    }

    #[test]
    fn unwritable_or_missing_cache_still_compiles() {
        let engine = engine();
        let plugin = bundled();
        let file = tempfile::NamedTempFile::new().unwrap();
        // A cache "directory" that is a file cannot be written.
        let cache = Cache::new(Some(file.path().join("sub")), &engine);
        assert!(cache.component(&engine, plugin.sha256, plugin.wasm).is_ok());
        let cache = Cache::new(None, &engine);
        assert!(cache.component(&engine, plugin.sha256, plugin.wasm).is_ok());
        assert!(cache.info(plugin.sha256).is_none());
    }
}
