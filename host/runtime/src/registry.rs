//! Every plugin this process knows, loaded on first use. On a warm cache,
//! routing a manifest type reads only small cached `info` files and loads
//! just the one plugin that renders it.

use crate::Runtime;
use crate::error::{PluginError, PluginErrorKind};
use crate::lock::Lock;
use crate::plugin::{Plugin, PluginInfo, PluginOrigin};
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

struct Entry {
    label: String,
    origin: PluginOrigin,
    wasm: Cow<'static, [u8]>,
    sha256: String,
    /// The workspace lets it replace bundled plugins of the same type.
    overrides_bundled: bool,
    /// A trusted native library at this path (then `wasm` holds its bytes).
    native: Option<PathBuf>,
    loaded: OnceLock<Result<Plugin, PluginError>>,
}

/// A plugin with what `plugin ls` shows about it.
#[derive(Debug, Clone)]
pub struct PluginSummary {
    /// Its description.
    pub info: PluginInfo,
    /// Size of the component in bytes.
    pub size_bytes: usize,
    /// It replaces bundled plugins of the same manifest types.
    pub overrides_bundled: bool,
    /// A native library: not sandboxed.
    pub native: bool,
}

/// The plugins of one process.
pub struct Registry {
    runtime: Arc<Runtime>,
    entries: Vec<Entry>,
}

impl Registry {
    /// An empty registry.
    pub fn new(runtime: Arc<Runtime>) -> Self {
        Registry { runtime, entries: Vec::new() }
    }

    /// Adds a plugin embedded in the binary (its sha256 computed at build time).
    pub fn add_bundled(&mut self, package: &str, wasm: &'static [u8], sha256: &'static str) {
        self.entries.push(Entry {
            label: package.strip_prefix("ferry-plugin-").unwrap_or(package).to_string(),
            origin: PluginOrigin::Bundled,
            wasm: Cow::Borrowed(wasm),
            sha256: sha256.to_string(),
            overrides_bundled: false,
            native: None,
            loaded: OnceLock::new(),
        });
    }

    /// Adds a plugin from a `.wasm` file.
    pub fn add_file(&mut self, path: &Path) -> Result<(), PluginError> {
        let label =
            path.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_else(|| path.display().to_string());
        let wasm = std::fs::read(path)
            .map_err(|e| PluginError::new(&label, PluginErrorKind::Read(format!("{}: {e}", path.display()))))?;
        self.add_bytes(&label, wasm, PluginOrigin::File(path.to_path_buf()), false);
        Ok(())
    }

    /// Adds a component held in memory (e.g. a download being checked
    /// before it is installed). Returns its sha256.
    pub fn add_bytes(&mut self, label: &str, wasm: Vec<u8>, origin: PluginOrigin, overrides_bundled: bool) -> String {
        let sha256 = hex::encode(Sha256::digest(&wasm));
        self.entries.push(Entry {
            label: label.to_string(),
            origin,
            wasm: Cow::Owned(wasm),
            sha256: sha256.clone(),
            overrides_bundled,
            native: None,
            loaded: OnceLock::new(),
        });
        sha256
    }

    /// Adds a native library at `path` whose bytes (`library`, for its
    /// digest and size) the caller has read and checked. The caller vouches
    /// that the user trusts it: it runs unsandboxed once loaded.
    pub fn add_trusted_native(
        &mut self,
        label: &str,
        path: &Path,
        library: Vec<u8>,
        origin: PluginOrigin,
        overrides_bundled: bool,
    ) -> String {
        let sha256 = hex::encode(Sha256::digest(&library));
        self.entries.push(Entry {
            label: label.to_string(),
            origin,
            wasm: Cow::Owned(library),
            sha256: sha256.clone(),
            overrides_bundled,
            native: Some(path.to_path_buf()),
            loaded: OnceLock::new(),
        });
        sha256
    }

    /// Adds every plugin pinned in a workspace's lock, verifying each file
    /// against its pinned sha256: a changed file is refused, never loaded.
    pub fn add_locked(&mut self, copilot_dir: &Path, lock: &Lock) -> Result<(), PluginError> {
        for entry in &lock.plugins {
            let path = entry.resolved_path(copilot_dir);
            let wasm = std::fs::read(&path).map_err(|e| {
                PluginError::new(
                    &entry.name,
                    PluginErrorKind::Read(format!(
                        "{}: {e} (pinned in copilot/plugins.lock; hint: run `ferry plugin install {}` again, \
                         or `ferry plugin remove {}`)",
                        path.display(),
                        entry.source,
                        entry.name
                    )),
                )
            })?;
            let actual = hex::encode(Sha256::digest(&wasm));
            if !actual.eq_ignore_ascii_case(&entry.sha256) {
                return Err(PluginError::new(
                    &entry.name,
                    PluginErrorKind::Tampered {
                        path: path.display().to_string(),
                        expected: entry.sha256.clone(),
                        actual,
                    },
                ));
            }
            // What the bytes are decides, not only the flag: a library slipped
            // in under a component's entry is refused just the same.
            let native = entry.native || crate::native::is_native_library(&wasm);
            if native && !(entry.native && entry.trusted) {
                return Err(PluginError::new(
                    &entry.name,
                    PluginErrorKind::NativeUntrusted { path: path.display().to_string() },
                ));
            }
            let origin = PluginOrigin::Installed { path: path.clone(), source: entry.source.clone() };
            if native {
                self.add_trusted_native(&entry.name, &path, wasm, origin, entry.override_bundled);
            } else {
                self.add_bytes(&entry.name, wasm, origin, entry.override_bundled);
            }
        }
        Ok(())
    }

    fn load(&self, entry: &Entry) -> Result<Plugin, PluginError> {
        entry
            .loaded
            .get_or_init(|| match &entry.native {
                Some(path) => {
                    let (runtime, origin) = (self.runtime.clone(), entry.origin.clone());
                    Plugin::load_native(runtime, &entry.label, path, &entry.wasm, &entry.sha256, origin)
                }
                None => {
                    Plugin::load(self.runtime.clone(), &entry.label, &entry.wasm, &entry.sha256, entry.origin.clone())
                }
            })
            .clone()
    }

    /// Info without loading when the cache knows it.
    fn info(&self, entry: &Entry) -> Result<PluginInfo, PluginError> {
        if let Some(Ok(plugin)) = entry.loaded.get() {
            return Ok(plugin.info().clone());
        }
        // Native plugins are never in the compile cache: load them to ask.
        if entry.native.is_none()
            && let Some(mut info) = Plugin::cached_info(&self.runtime, &entry.sha256)
        {
            info.sha256 = entry.sha256.clone();
            info.origin = entry.origin.clone();
            return Ok(info);
        }
        Ok(self.load(entry)?.info().clone())
    }

    /// Every manifest type some plugin renders, sorted.
    pub fn manifest_types(&self) -> Vec<String> {
        let mut types: Vec<String> =
            self.entries.iter().filter_map(|e| self.info(e).ok()).flat_map(|info| info.manifest_types).collect();
        types.sort();
        types.dedup();
        types
    }

    /// The plugin that renders `manifest_type`. Two plugins claiming it is an
    /// error naming both, unless exactly one is a workspace plugin allowed to
    /// override bundled ones and all the others are bundled.
    pub fn for_manifest_type(&self, manifest_type: &str) -> Result<Plugin, PluginError> {
        let mut found: Vec<(&Entry, String)> = Vec::new();
        for entry in &self.entries {
            let info = self.info(entry)?;
            if info.manifest_types.iter().any(|t| t == manifest_type) {
                found.push((entry, info.name));
            }
        }
        let overriding: Vec<&(&Entry, String)> = found.iter().filter(|(e, _)| e.overrides_bundled).collect();
        let others_bundled = found.iter().filter(|(e, _)| !e.overrides_bundled).all(|(e, _)| e.origin.is_bundled());
        match found.as_slice() {
            [] => Err(PluginError::new(
                manifest_type,
                PluginErrorKind::UnknownType { manifest_type: manifest_type.to_string(), known: self.manifest_types() },
            )),
            [(entry, _)] => self.load(entry),
            _ if overriding.len() == 1 && others_bundled => self.load(overriding[0].0),
            _ => {
                // Name the clash that no allowed override explains: two
                // overriding plugins, or an unflagged workspace plugin and another.
                let (first, second) = match overriding.as_slice() {
                    [a, b, ..] => (*a, *b),
                    _ => {
                        let a = found
                            .iter()
                            .find(|(e, _)| !e.overrides_bundled && !e.origin.is_bundled())
                            .unwrap_or(&found[0]);
                        let b = found.iter().find(|x| !std::ptr::eq(x.0, a.0)).unwrap_or(&found[1]);
                        (a, b)
                    }
                };
                Err(PluginError::new(
                    first.1.clone(),
                    PluginErrorKind::DuplicateType {
                        manifest_type: manifest_type.to_string(),
                        other: second.1.clone(),
                        origins: Box::new([first.0.origin.to_string(), second.0.origin.to_string()]),
                    },
                ))
            }
        }
    }

    /// Every plugin (name and where it came from) claiming `manifest_type`,
    /// without routing: what `plugin install` checks a newcomer against.
    pub fn claims(&self, manifest_type: &str) -> Result<Vec<(String, PluginOrigin)>, PluginError> {
        let mut claims = Vec::new();
        for entry in &self.entries {
            let info = self.info(entry)?;
            if info.manifest_types.iter().any(|t| t == manifest_type) {
                claims.push((info.name, entry.origin.clone()));
            }
        }
        Ok(claims)
    }

    /// The plugin named `name`.
    pub fn get(&self, name: &str) -> Result<Plugin, PluginError> {
        let mut known = Vec::new();
        for entry in &self.entries {
            let info = self.info(entry)?;
            if info.name == name {
                return self.load(entry);
            }
            known.push(info.name);
        }
        Err(PluginError::new(name, PluginErrorKind::UnknownPlugin { known }))
    }

    /// Every plugin, loaded, in registration order.
    pub fn list(&self) -> Result<Vec<PluginSummary>, PluginError> {
        self.entries
            .iter()
            .map(|e| {
                Ok(PluginSummary {
                    info: self.load(e)?.info().clone(),
                    size_bytes: e.wasm.len(),
                    overrides_bundled: e.overrides_bundled,
                    native: e.native.is_some(),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{PluginErrorKind, RuntimeConfig};

    fn registry(cache: &Path) -> Registry {
        let runtime = Runtime::new(RuntimeConfig { cache_dir: Some(cache.to_path_buf()), ..Default::default() });
        let mut registry = Registry::new(Arc::new(runtime.unwrap()));
        for plugin in ferry_bundled::BUNDLED {
            registry.add_bundled(plugin.package, plugin.wasm, plugin.sha256);
        }
        registry
    }

    fn loaded(registry: &Registry) -> usize {
        registry.entries.iter().filter(|e| e.loaded.get().is_some()).count()
    }

    #[test]
    fn warm_cache_loads_only_the_plugin_a_type_needs() {
        assert!(ferry_bundled::BUNDLED.len() >= 2, "needs several bundled plugins to mean anything");
        let cache = tempfile::tempdir().unwrap();
        let cold = registry(cache.path());
        let listed = cold.list().unwrap();
        assert_eq!(loaded(&cold), ferry_bundled::BUNDLED.len());
        let warm = registry(cache.path());
        let plugin = warm.for_manifest_type("Environment").unwrap();
        assert_eq!(plugin.info().name, "environment");
        assert_eq!(loaded(&warm), 1, "a warm cache routes by cached info, loading one plugin");
        // Cached info is the same as what the plugin reported.
        let fresh = listed.iter().find(|s| s.info.name == "environment").unwrap();
        assert_eq!(plugin.info().manifest_types, fresh.info.manifest_types);
        assert_eq!(plugin.info().manifest_schema, fresh.info.manifest_schema);
        assert_eq!(plugin.info().sha256, fresh.info.sha256);
    }

    #[test]
    fn unknown_type_and_name_list_what_is_known() {
        let cache = tempfile::tempdir().unwrap();
        let registry = registry(cache.path());
        let err = registry.for_manifest_type("Backend Servce").err().unwrap();
        assert!(err.is_unknown_type());
        let message = err.to_string();
        assert!(message.contains("`Backend Servce`") && message.contains("Environment"), "{message}");
        let err = registry.get("nope").err().unwrap();
        assert!(matches!(err.kind, PluginErrorKind::UnknownPlugin { .. }));
        assert!(err.to_string().contains("environment"), "{err}");
        assert_eq!(registry.get("environment").unwrap().info().name, "environment");
    }

    #[test]
    fn two_plugins_claiming_one_type_are_both_named() {
        let cache = tempfile::tempdir().unwrap();
        let mut registry = registry(cache.path());
        let env = ferry_bundled::BUNDLED.iter().find(|p| p.package.ends_with("environment")).unwrap();
        let copy = cache.path().join("my-env.wasm");
        std::fs::write(&copy, env.wasm).unwrap();
        registry.add_file(&copy).unwrap();
        let err = registry.for_manifest_type("Environment").err().unwrap();
        assert!(matches!(err.kind, PluginErrorKind::DuplicateType { .. }), "{err}");
        let message = err.to_string();
        assert!(message.contains("(bundled)") && message.contains("my-env.wasm"), "{message}");
        // Other types still route.
        assert!(registry.for_manifest_type("Load Balanced Web Service").is_ok());
    }

    #[test]
    fn a_flagged_workspace_plugin_overrides_the_bundled_one_and_only_then() {
        let cache = tempfile::tempdir().unwrap();
        let env = ferry_bundled::BUNDLED.iter().find(|p| p.package.ends_with("environment")).unwrap();
        let origin = PluginOrigin::Installed { path: cache.path().join("mine.wasm"), source: "mine.wasm".into() };
        let mut flagged = registry(cache.path());
        flagged.add_bytes("mine", env.wasm.to_vec(), origin.clone(), true);
        let chosen = flagged.for_manifest_type("Environment").unwrap();
        assert_eq!(chosen.info().origin, origin, "the override wins");
        assert_eq!(flagged.claims("Environment").unwrap().len(), 2);
        // Two overriding plugins are still a clash naming both.
        flagged.add_bytes("again", env.wasm.to_vec(), PluginOrigin::File("again.wasm".into()), true);
        let err = flagged.for_manifest_type("Environment").err().unwrap();
        assert!(err.to_string().contains("mine.wasm") && err.to_string().contains("again.wasm"), "{err}");
    }

    #[test]
    fn a_pinned_file_that_changed_is_refused() {
        let cache = tempfile::tempdir().unwrap();
        let copilot = cache.path().join("copilot");
        std::fs::create_dir_all(copilot.join("plugins")).unwrap();
        let env = ferry_bundled::BUNDLED.iter().find(|p| p.package.ends_with("environment")).unwrap();
        std::fs::write(copilot.join("plugins/env.wasm"), env.wasm).unwrap();
        let mut lock = Lock::default();
        lock.upsert(crate::LockEntry {
            name: "env".into(),
            version: "1".into(),
            kind: "environment".into(),
            manifest_types: vec!["Environment".into()],
            wit_version: "0.2.0".into(),
            source: "env.wasm".into(),
            path: "plugins/env.wasm".into(),
            sha256: env.sha256.into(),
            override_bundled: true,
            native: false,
            trusted: false,
        });
        let mut ok = registry(cache.path());
        ok.add_locked(&copilot, &lock).unwrap();
        assert!(!ok.for_manifest_type("Environment").unwrap().info().origin.is_bundled());
        let mut bytes = env.wasm.to_vec();
        bytes.push(0);
        std::fs::write(copilot.join("plugins/env.wasm"), bytes).unwrap();
        let err = registry(cache.path()).add_locked(&copilot, &lock).unwrap_err();
        assert!(matches!(err.kind, PluginErrorKind::Tampered { .. }), "{err}");
        assert!(err.to_string().contains(env.sha256), "{err}");
        std::fs::remove_file(copilot.join("plugins/env.wasm")).unwrap();
        let err = registry(cache.path()).add_locked(&copilot, &lock).unwrap_err();
        assert!(err.to_string().contains("ferry plugin remove env"), "{err}");
    }

    #[test]
    fn plugins_are_shareable_across_threads() {
        fn assert_send_sync<T: Send + Sync + Clone>() {}
        assert_send_sync::<Plugin>();
        let cache = tempfile::tempdir().unwrap();
        let plugin = registry(cache.path()).for_manifest_type("Environment").unwrap();
        let context = r#"{"app":"chat","env":"test","name":"test"}"#;
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let plugin = plugin.clone();
                std::thread::spawn(move || plugin.render(r#"{"name":"test","type":"Environment"}"#, context))
            })
            .collect();
        for handle in handles {
            assert!(matches!(handle.join().unwrap(), Ok(crate::RenderOutcome::Rendered(_))));
        }
    }
}
