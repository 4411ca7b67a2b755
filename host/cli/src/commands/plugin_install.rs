//! `ferry plugin install` and `ferry plugin remove`: the workspace's own
//! plugins, copied under `copilot/plugins/` and pinned by sha256 in
//! `copilot/plugins.lock`.

use crate::cli::PluginInstall;
use crate::context::CommandContext;
use anyhow::{Context, Result};
use ferry_core::Failure;
use ferry_runtime::{Lock, LockEntry, PLUGINS_DIR, PluginOrigin, Registry, TrustStore};
use serde_json::json;
use std::io::Write;
use std::path::{Path, PathBuf};

pub fn install(args: PluginInstall, cx: &CommandContext) -> Result<()> {
    let out = &cx.out;
    let ws = cx.workspace(None)?;
    ws.check_private()?;
    let (bytes, source) = fetch(cx, &args.source, &ws.root)?;
    let sha256 = ferry_core_sha256(&bytes);
    if let Some(expected) = &args.sha256 {
        let expected = expected.trim().trim_start_matches("sha256:").to_ascii_lowercase();
        if expected != sha256 {
            return Err(Failure::new(format!(
                "refusing {}: its sha256 is {sha256}, not the {expected} you asked for",
                args.source
            ))
            .hint("the file changed since its digest was published; check where you got it")
            .into());
        }
    }

    let native = ferry_runtime::is_native_library(&bytes);
    let native_path = check_native(&args, native)?;

    // Check it as the host will load it before anything is written.
    let runtime = cx.plugin_runtime()?;
    let mut candidate = Registry::new(runtime.clone());
    let file_name = source.rsplit(['/', '\\']).next().unwrap_or(&source);
    let label = file_name.trim_end_matches(".wasm").to_string();
    let origin = PluginOrigin::File(PathBuf::from(&source));
    match &native_path {
        Some(path) => {
            candidate.add_trusted_native(&label, path, bytes.clone(), origin, args.override_bundled);
        }
        None => {
            candidate.add_bytes(&label, bytes.clone(), origin, args.override_bundled);
        }
    }
    let info = candidate.list()?.remove(0).info;
    // The name becomes a file under copilot/plugins/: it must never be a path.
    if let Err(why) = ferry_core::naming::check_plugin_name(&info.name) {
        return Err(Failure::new(format!(
            "refusing to install {source}: its info() names it `{}`, which is not a valid plugin name: {why}",
            info.name.escape_debug()
        ))
        .hint(format!("plugin names are {}; ask its author to rename it", ferry_core::naming::NAME_RULE))
        .into());
    }

    let mut lock = Lock::load(&ws.copilot_dir)?;
    let previous = lock.remove(&info.name);
    let mut others = Registry::new(runtime);
    ferry_bundled::add_all(&mut others);
    others.add_locked(&ws.copilot_dir, &lock)?;
    let mut overridden = Vec::new();
    for manifest_type in &info.manifest_types {
        for (name, origin) in others.claims(manifest_type)? {
            if origin.is_bundled() && args.override_bundled {
                overridden.push(format!("`{name}` for `{manifest_type}`"));
            } else if origin.is_bundled() {
                return Err(Failure::new(format!("plugin `{}` ({source}) claims manifest type `{manifest_type}`, which the bundled plugin `{name}` already renders", info.name)).hint("to replace the bundled plugin in this workspace, install with --override-bundled; otherwise give your type another name").into());
            } else {
                return Err(Failure::new(format!("plugin `{}` ({source}) claims manifest type `{manifest_type}`, which the installed plugin `{name}` ({}) already renders", info.name, origin.source())).hint(format!("`ferry plugin remove {name}` first, or give your type another name")).into());
            }
        }
    }

    if let Ok(same_name) = others.get(&info.name)
        && same_name.info().origin.is_bundled()
        && !args.override_bundled
    {
        return Err(Failure::new(format!("plugin `{}` ({source}) has the name of a bundled plugin", info.name))
            .hint("rename it in its info(), or install with --override-bundled to replace the bundled one")
            .into());
    }
    let extension = match &native_path {
        Some(path) => path.extension().and_then(|e| e.to_str()).unwrap_or(std::env::consts::DLL_EXTENSION),
        None => "wasm",
    };
    let relative = format!("{PLUGINS_DIR}/{}.{extension}", info.name);
    let path = ws.copilot_dir.join(&relative);
    write_atomically(&path, &bytes)?;
    if let Some(previous) = &previous
        && previous.path != relative
    {
        remove_installed_file(&ws.copilot_dir, previous);
    }
    lock.upsert(LockEntry {
        name: info.name.clone(),
        version: info.version.clone(),
        kind: info.kind.to_string(),
        manifest_types: info.manifest_types.clone(),
        wit_version: info.wit_version.clone(),
        source: source.clone(),
        path: relative.clone(),
        sha256: sha256.clone(),
        override_bundled: args.override_bundled,
        native,
        trusted: native,
    });
    lock.save(&ws.copilot_dir)?;
    if native {
        let mut store = TrustStore::load()?;
        store.trust(&ws.root, &info.name, &sha256);
        store.save()?;
    }

    if args.json {
        out.json(&super::plugin_ls::plugin_json(
            &info,
            json!({
            "source": source,
            "path": format!("copilot/{relative}"),
            "sha256": sha256,
            "overrideBundled": args.override_bundled,
            "native": native,
            "hostSteps": info.host_steps,
            }),
        ));
    } else {
        let verb = if previous.is_some() { "Updated" } else { "Installed" };
        out.status(
            verb,
            &format!(
                "{} {} ({} plugin for {}) as copilot/{relative}",
                info.name,
                info.version,
                info.kind,
                info.manifest_types.join(", ")
            ),
        );
        out.status("Pinned", &format!("sha256 {sha256} in copilot/plugins.lock"));
        if !info.host_steps.is_empty() {
            out.status(
                "Declares",
                &format!(
                    "host steps: {} (checked against its own stack before ferry acts)",
                    info.host_steps.join(", ")
                ),
            );
        }
        if native {
            out.status(
                "Trusted",
                &format!(
                    "native plugin {}: it is NOT sandboxed and runs with all of ferry's permissions whenever it is loaded",
                    info.name
                ),
            );
            out.note(&format!(
                "your trust is recorded for you only ({}); others who clone this project run `ferry plugin trust {}` themselves",
                TrustStore::path()?.display(),
                info.name
            ));
        }
    }
    if !overridden.is_empty() {
        out.note(&format!("it replaces the bundled plugin {} in this workspace", overridden.join(", ")));
    }
    Ok(())
}

/// A native library installs only from a local path and only with
/// `--trust-native`; returns that path. A component with the flag is refused
/// too, so the flag never silently means nothing.
fn check_native(args: &PluginInstall, native: bool) -> Result<Option<PathBuf>> {
    let source = &args.source;
    match (native, args.trust_native) {
        (false, false) => Ok(None),
        (false, true) => Err(Failure::new(format!("{source} is not a native library, so --trust-native does not apply")).hint("install WebAssembly components without it: they run sandboxed").into()),
        (true, false) => Err(Failure::new(format!("refusing to install {source}: it is a native library, not a WebAssembly component. Native plugins are not sandboxed: they run inside ferry with all of its permissions (your files, network and AWS credentials)")).hint("if you trust its author and its build, install it with --trust-native (your trust is recorded for you only, in your config directory); otherwise ask for a wasm build (`ferry plugin build`)").into()),
        (true, true) if source.contains("://") => Err(Failure::new(format!("refusing to install {source}: native plugins install only from a local path")).hint("download it, check it, and install the file with --trust-native").into()),
        (true, true) => Ok(Some(std::env::current_dir()?.join(source))),
    }
}

pub fn remove(name: &str, cx: &CommandContext) -> Result<()> {
    let out = &cx.out;
    let ws = cx.workspace(None)?;
    ws.check_private()?;
    let mut lock = Lock::load(&ws.copilot_dir)?;
    let Some(entry) = lock.remove(name) else {
        let installed: Vec<&str> = lock.plugins.iter().map(|p| p.name.as_str()).collect();
        let hint = if installed.is_empty() {
            "this workspace has no installed plugins (bundled ones cannot be removed)".to_string()
        } else {
            format!("installed plugins: {}", installed.join(", "))
        };
        return Err(Failure::new(format!(
            "no plugin named `{name}` is installed in {}",
            out.path(&Lock::path(&ws.copilot_dir))
        ))
        .hint(hint.to_string())
        .into());
    };
    remove_installed_file(&ws.copilot_dir, &entry);
    lock.save(&ws.copilot_dir)?;
    if entry.native
        && let Ok(mut store) = TrustStore::load()
        && store.untrust(&ws.root, &entry.name)
    {
        let _ = store.save();
    }
    out.status("Removed", &format!("{} {} from copilot/plugins.lock", entry.name, entry.version));
    Ok(())
}

/// Deletes the file a (validated) lock entry names, and only when it really
/// is inside `copilot/plugins/` once symlinks are resolved.
fn remove_installed_file(copilot_dir: &Path, entry: &LockEntry) {
    if ferry_runtime::check_relative_plugin_path(&entry.path).is_err() {
        return;
    }
    let path = entry.resolved_path(copilot_dir);
    let (Ok(plugins), Some(parent)) = (copilot_dir.join(PLUGINS_DIR).canonicalize(), path.parent()) else { return };
    let Ok(parent) = parent.canonicalize() else { return };
    if parent.starts_with(&plugins)
        && std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_file() || m.file_type().is_symlink())
    {
        let _ = std::fs::remove_file(path);
    }
}

fn ferry_core_sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).with_context(|| format!("cannot write in {}", dir.display()))?;
    tmp.write_all(bytes)?;
    tmp.persist(path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// The component's bytes and how to name where they came from in the lock.
fn fetch(cx: &CommandContext, source: &str, root: &Path) -> Result<(Vec<u8>, String)> {
    if source.starts_with("oci://") {
        return Err(Failure::new(format!("cannot install {source}: OCI registries are not supported yet"))
            .hint(
                "download the component (e.g. `oras pull`) and install the .wasm file, or install from an https:// URL",
            )
            .into());
    }
    if source.starts_with("https://") || source.starts_with("http://") {
        let bytes = cx.block_on(super::fetch::get(source))?;
        return Ok((bytes, source.to_string()));
    }
    if let Some((scheme, _)) = source.split_once("://") {
        return Err(Failure::new(format!("cannot install {source}: unknown scheme `{scheme}://`"))
            .hint("give a path, an https:// URL or an oci:// reference")
            .into());
    }
    let cwd = std::env::current_dir()?;
    let path = cwd.join(source);
    if path.is_dir() {
        return Err(Failure::new(format!("{source} is a directory; install takes the built component"))
            .hint(format!("run `ferry plugin build {source}` and install the .wasm it prints"))
            .into());
    }
    let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    // Recorded relative to the project when inside it, so the lock is the same on every machine.
    let canonical = path.canonicalize().unwrap_or(path);
    let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let named = match canonical.strip_prefix(&root) {
        Ok(relative) => relative.display().to_string(),
        Err(_) => canonical.display().to_string(),
    };
    Ok((bytes, named))
}
