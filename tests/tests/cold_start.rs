//! A first run is as fast as a warm one: bundled plugins arrive in the binary
//! precompiled for this host (no Cranelift, no cache read), and an installed
//! plugin is compiled once, by `plugin install`, so its first render is warm.

use crate::common;

use common::{example_copy, ferry};
use ferry_tests::fixtures;
use serde_json::Value;
use std::path::Path;
use std::process::Output;

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// Runs ferry in `dir` with its own compile cache and the debug counters on.
fn run(dir: &Path, cache: &Path, args: &[&str]) -> Output {
    let output = ferry(dir).env("FERRY_CACHE_DIR", cache).env("FERRY_DEBUG_COUNTERS", "1").args(args).output().unwrap();
    assert!(output.status.success(), "ferry {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    output
}

/// The `debug_counters` line a run printed on stderr.
fn counters(output: &Output) -> Value {
    let stderr = String::from_utf8_lossy(&output.stderr);
    stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|e| e["event"] == "debug_counters")
        .unwrap_or_else(|| panic!("no counters: {stderr}"))
}

fn files_in(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().to_string()).collect())
        .unwrap_or_default()
}

#[test]
fn a_first_package_with_an_empty_compile_cache_compiles_nothing() {
    let ws = example_copy("chat");
    let cache = tempfile::tempdir().unwrap();
    let out = ws.path().join("out");
    let output =
        run(ws.path(), cache.path(), &["svc", "package", "-n", "frontend", "-e", "test", "--output-dir", "out"]);
    let counters = counters(&output);
    assert_eq!(counters["compilations"], 0, "bundled plugins are precompiled: {counters}");
    assert_eq!(counters["engines"], 1, "{counters}");
    assert!(files_in(&out).iter().any(|f| f.starts_with("frontend")), "{:?}", files_in(&out));
    // Nothing was compiled, so nothing was cached: not even their info,
    // which the build embedded too.
    assert_eq!(files_in(cache.path()), Vec::<String>::new());
}

#[test]
fn an_installed_plugin_is_compiled_at_install_so_its_first_render_is_warm() {
    let ws = tempfile::tempdir().unwrap();
    let dir = ws.path();
    let cache = tempfile::tempdir().unwrap();
    write(dir, "copilot/.workspace", "application: cold\n");
    write(dir, "copilot/environments/test/manifest.yml", "name: test\ntype: Environment\n");
    write(dir, "copilot/calm/manifest.yml", "name: calm\ntype: Hostile Service\nattack: none\n");
    let install = run(dir, cache.path(), &["plugin", "install", fixtures::HOSTILE]);
    assert_eq!(counters(&install)["compilations"], 1, "compiled once, at install: {}", counters(&install));
    let package = run(dir, cache.path(), &["svc", "package", "-n", "calm", "-e", "test", "--output-dir", "out"]);
    assert_eq!(counters(&package)["compilations"], 0, "the first render is warm: {}", counters(&package));
    assert!(files_in(&dir.join("out")).iter().any(|f| f.starts_with("calm")), "{:?}", files_in(&dir.join("out")));
}
