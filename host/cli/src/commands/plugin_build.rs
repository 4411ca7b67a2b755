//! `ferry plugin build`: cargo for wasm32-wasip2, then the same checks the
//! host makes before it loads a plugin, so an author finds out now.

use crate::cli::PluginBuild;
use crate::context::CommandContext;
use anyhow::{Context, Result, bail};
use ferry_core::Failure;
use ferry_runtime::PluginOrigin;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;

const TARGET: &str = "wasm32-wasip2";

/// The cargo in charge: the one that ran us (tests, `cargo run`) or PATH's.
fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

pub fn run(args: PluginBuild, cx: &CommandContext) -> Result<()> {
    let out = &cx.out;
    let cwd = std::env::current_dir()?;
    let dir = args.dir.map(|d| cwd.join(d)).unwrap_or(cwd);
    let manifest = dir.join("Cargo.toml");
    if !manifest.is_file() {
        return Err(Failure::new(format!(
            "{} has no Cargo.toml: `ferry plugin build` builds a plugin crate",
            out.path(&dir)
        ))
        .hint("pass the crate's directory, or create one with `ferry plugin new <name>`")
        .into());
    }
    check_target(&dir)?;
    let (package, lib_name, target_dir) = metadata(&manifest, args.offline)?;
    let cargo_toml = std::fs::read_to_string(&manifest)?;
    let has_wasm_profile = cargo_toml.lines().any(|l| l.trim() == "[profile.wasm]");
    let (profile_args, profile_dir): (&[&str], &str) =
        if has_wasm_profile { (&["--profile", "wasm"], "wasm") } else { (&["--release"], "release") };

    out.status("Building", &format!("{package} for {TARGET} ({profile_dir} profile)"));
    let mut cmd = cargo();
    cmd.arg("build").arg("--manifest-path").arg(&manifest).args(["--target", TARGET, "--lib"]).args(profile_args);
    if args.offline {
        cmd.arg("--offline");
    }
    let status = cmd.status().context("cannot run cargo")?;
    if !status.success() {
        bail!("cargo could not build {package} for {TARGET} (its errors are above)");
    }
    let wasm = target_dir.join(TARGET).join(profile_dir).join(format!("{lib_name}.wasm"));
    let bytes = std::fs::read(&wasm).map_err(|e| {
        Failure::new(format!("cargo built {package} but {} is missing", wasm.display()))
            .hint("the crate needs `crate-type = [\"cdylib\"]` under [lib]")
            .because(e)
    })?;

    // The checks of a real load: a component, exporting a ferry world at a
    // supported ABI version, whose info() is well-formed.
    let mut registry = cx.bundled_registry()?;
    let label = wasm.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_else(|| package.clone());
    let size = bytes.len();
    let sha256 = registry.add_bytes(&label, bytes, PluginOrigin::File(wasm.clone()), false);
    let summaries = registry.list()?;
    let built = summaries.iter().find(|s| s.info.sha256 == sha256 && !s.info.origin.is_bundled());
    let Some(built) = built else { bail!("internal: the built plugin is not in the registry") };
    let info = &built.info;
    let mut clashes = Vec::new();
    for t in &info.manifest_types {
        for (name, origin) in registry.claims(t)? {
            if origin.is_bundled() {
                clashes.push(format!("`{t}` is also rendered by the bundled plugin `{name}`"));
            }
        }
    }

    if args.json {
        out.json(&super::plugin_ls::plugin_json(
            info,
            json!({
            "path": wasm.display().to_string(),
            "sizeBytes": size,
            "sha256": sha256,
            }),
        ));
    } else {
        out.status(
            "Built",
            &format!("{} {} ({} plugin for {})", info.name, info.version, info.kind, info.manifest_types.join(", ")),
        );
        let rows = vec![
            vec!["component".into(), out.path(&wasm)],
            vec!["plugin API (WIT)".into(), info.wit_version.clone()],
            vec!["size".into(), format!("{size} bytes ({:.1} KiB)", size as f64 / 1024.0)],
            vec!["sha256".into(), sha256.clone()],
        ];
        out.table(&["FIELD", "VALUE"], &rows);
        out.note(&format!("install it in a project with: ferry plugin install {}", wasm.display()));
    }
    for clash in clashes {
        out.note(&format!(
            "warning: {clash}; installing it needs `ferry plugin install --override-bundled` to replace that plugin"
        ));
    }
    Ok(())
}

/// Fails early, with the fix, when the wasm target is not installed.
fn check_target(dir: &Path) -> Result<()> {
    let output = Command::new("rustc").current_dir(dir).args(["--print", "target-libdir", "--target", TARGET]).output();
    let libdir = match output {
        Ok(o) if o.status.success() => PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()),
        Ok(o) => bail!("rustc cannot target {TARGET}: {}", String::from_utf8_lossy(&o.stderr).trim()),
        Err(e) => {
            return Err(Failure::new(format!("cannot run rustc: {e}"))
                .hint("install Rust from https://rustup.rs")
                .into());
        }
    };
    if !libdir.is_dir() {
        return Err(Failure::new(format!("the Rust target {TARGET} is not installed (no {})", libdir.display()))
            .hint(format!("run `rustup target add {TARGET}`"))
            .into());
    }
    Ok(())
}

/// The package name, its library's file name and the target directory,
/// from `cargo metadata` (which honours CARGO_TARGET_DIR and .cargo/config).
fn metadata(manifest: &Path, offline: bool) -> Result<(String, String, PathBuf)> {
    let mut cmd = cargo();
    cmd.args(["metadata", "--format-version", "1", "--no-deps", "--manifest-path"]).arg(manifest);
    if offline {
        cmd.arg("--offline");
    }
    let output = cmd.output().context("cannot run cargo metadata")?;
    if !output.status.success() {
        bail!(
            "{}: cargo cannot read this crate:\n{}",
            manifest.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let meta: Value =
        serde_json::from_slice(&output.stdout).context("cargo metadata printed something else than JSON")?;
    let canonical = manifest.canonicalize().unwrap_or_else(|_| manifest.to_path_buf());
    let packages = meta["packages"].as_array().cloned().unwrap_or_default();
    let package = packages
        .iter()
        .find(|p| p["manifest_path"].as_str().map(PathBuf::from).is_some_and(|p| p == canonical))
        .or(packages.first())
        .with_context(|| format!("{} declares no package", manifest.display()))?;
    let name = package["name"].as_str().unwrap_or_default().to_string();
    let lib = package["targets"].as_array().and_then(|targets| {
        targets.iter().find(|t| t["kind"].as_array().is_some_and(|k| k.iter().any(|k| k == "cdylib")))
    });
    let Some(lib) = lib else {
        return Err(Failure::new(format!(
            "{}: package `{name}` has no cdylib library, so cargo makes no component",
            manifest.display()
        ))
        .hint("add `[lib]` with `crate-type = [\"cdylib\", \"rlib\"]`")
        .into());
    };
    let lib_name = lib["name"].as_str().unwrap_or(&name).replace('-', "_");
    let target_dir =
        PathBuf::from(meta["target_directory"].as_str().context("cargo metadata has no target_directory")?);
    Ok((name, lib_name, target_dir))
}
