//! Compiles plugin crates of this workspace to `wasm32-wasip2` components from
//! a build script, so a plain `cargo build` of the host also builds the
//! plugins it embeds (and tests get their fixture plugins the same way).
//!
//! The nested cargo uses its own target directory: the outer cargo holds the
//! lock on its own, and sharing one would deadlock.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The wasm target plugins are built for.
pub const TARGET: &str = "wasm32-wasip2";
/// The cargo profile (declared in the workspace `Cargo.toml`) used for plugins.
pub const PROFILE: &str = "wasm";

/// One built component.
#[derive(Debug, Clone)]
pub struct BuiltPlugin {
    /// Cargo package name.
    pub package: String,
    /// Path of the `.wasm` component.
    pub path: PathBuf,
    /// Hex sha256 of the component's bytes.
    pub sha256: String,
}

/// Every package directory (holding a `Cargo.toml`) directly under `dir`, sorted.
pub fn package_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.join("Cargo.toml").is_file()).collect()
        })
        .unwrap_or_default();
    dirs.sort();
    dirs
}

/// Reads `name = "..."` from a package's `Cargo.toml` `[package]` table.
pub fn package_name(dir: &Path) -> String {
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml"))
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.join("Cargo.toml").display()));
    let mut in_package = false;
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_package = line == "[package]";
        } else if in_package && let Some(rest) = line.strip_prefix("name") {
            let value = rest.trim_start().trim_start_matches('=').trim().trim_matches('"');
            return value.to_string();
        }
    }
    panic!("{} has no [package] name", dir.join("Cargo.toml").display())
}

/// Builds `package_dirs` (plugin crates of the workspace at `workspace_root`)
/// for wasm32-wasip2 and returns the components. Emits `rerun-if-changed`
/// lines for the sources involved. Panics with cargo's own output on failure,
/// which is how a build script reports errors.
pub fn build(workspace_root: &Path, package_dirs: &[PathBuf]) -> Vec<BuiltPlugin> {
    for dir in package_dirs {
        println!("cargo:rerun-if-changed={}", dir.display());
    }
    for shared in ["plugin-api/sdk", "plugin-api/protocol", "plugin-api/wit", "Cargo.toml", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", workspace_root.join(shared).display());
    }
    if package_dirs.is_empty() {
        return Vec::new();
    }
    let target_dir = nested_target_dir(workspace_root);
    let packages: Vec<String> = package_dirs.iter().map(|d| package_name(d)).collect();

    let mut cmd = nested_cargo(workspace_root, &target_dir, &packages);
    cmd.args(["--target", TARGET]);
    run(cmd, &packages, TARGET);
    packages
        .into_iter()
        .map(|package| {
            let path = target_dir.join(TARGET).join(PROFILE).join(format!("{}.wasm", package.replace('-', "_")));
            built(package, path)
        })
        .collect()
}

/// Builds `package_dirs` (`cdylib` crates using `export_native_plugin!`)
/// as native plugin libraries for the host, in the same nested target
/// directory and profile as the wasm plugins so the host-side proc macros
/// they share are compiled once.
pub fn build_native(workspace_root: &Path, package_dirs: &[PathBuf]) -> Vec<BuiltPlugin> {
    for dir in package_dirs {
        println!("cargo:rerun-if-changed={}", dir.display());
    }
    if package_dirs.is_empty() {
        return Vec::new();
    }
    let target_dir = nested_target_dir(workspace_root);
    let packages: Vec<String> = package_dirs.iter().map(|d| package_name(d)).collect();
    let cmd = nested_cargo(workspace_root, &target_dir, &packages);
    run(cmd, &packages, "the host");
    let (prefix, suffix) = (std::env::consts::DLL_PREFIX, std::env::consts::DLL_SUFFIX);
    packages
        .into_iter()
        .map(|package| {
            let path = target_dir.join(PROFILE).join(format!("{prefix}{}{suffix}", package.replace('-', "_")));
            built(package, path)
        })
        .collect()
}

fn nested_target_dir(workspace_root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root.join("target"))
        .join("ferry-plugins")
}

fn built(package: String, path: PathBuf) -> BuiltPlugin {
    let bytes = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("cargo built {package} but {} is unreadable: {e}", path.display()));
    let sha256 = hex::encode(Sha256::digest(&bytes));
    BuiltPlugin { package, path, sha256 }
}

/// `cargo build -p <packages>` of the workspace in the nested target
/// directory with the plugin profile, without the outer build's flags.
fn nested_cargo(workspace_root: &Path, target_dir: &Path, packages: &[String]) -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.arg("build")
        .arg("--manifest-path")
        .arg(workspace_root.join("Cargo.toml"))
        .args(["--profile", PROFILE])
        .arg("--target-dir")
        .arg(target_dir);
    for package in packages {
        cmd.args(["-p", package]);
    }
    // The outer build's flags and wrappers are for the outer target.
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_BUILD_TARGET",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_RUSTFLAGS",
        "CLIPPY_ARGS",
        "__CARGO_FIX_PLZ",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_LLVM_COV",
        "LLVM_PROFILE_FILE",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

fn run(mut cmd: Command, packages: &[String], target: &str) {
    let output = cmd.output().unwrap_or_else(|e| panic!("cannot run cargo to build plugins: {e}"));
    if !output.status.success() {
        panic!(
            "building plugins {packages:?} for {target} failed.\n\
             If the wasm target is missing, run `rustup target add {TARGET}`.\n\
             --- cargo output ---\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// The workspace root, found from a member crate's `CARGO_MANIFEST_DIR`.
pub fn workspace_root(manifest_dir: &Path) -> PathBuf {
    manifest_dir
        .ancestors()
        .find(|dir| std::fs::read_to_string(dir.join("Cargo.toml")).map(|t| t.contains("[workspace]")).unwrap_or(false))
        .unwrap_or(manifest_dir)
        .to_path_buf()
}
