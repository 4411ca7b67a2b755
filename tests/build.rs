//! Builds the fixture plugins under tests/plugins/ (for wasm32-wasip2, and
//! `native-*` ones as host libraries) and exposes their paths to the tests as constants.

use std::path::PathBuf;

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let root = ferry_wasm_build::workspace_root(&manifest_dir);
    // `native-*` fixtures are native plugin libraries for the host; the rest are components.
    let (native, wasm): (Vec<PathBuf>, Vec<PathBuf>) = ferry_wasm_build::package_dirs(&manifest_dir.join("plugins"))
        .into_iter()
        .partition(|d| d.file_name().is_some_and(|n| n.to_string_lossy().starts_with("native-")));
    let mut built = ferry_wasm_build::build(&root, &wasm);
    built.extend(ferry_wasm_build::build_native(&root, &native));
    let mut code = String::new();
    for plugin in built {
        let name = plugin.package.trim_start_matches("ferry-test-plugin-").replace('-', "_").to_uppercase();
        code.push_str(&format!(
            "/// Path of the `{}` fixture component.\npub const {name}: &str = {:?};\n",
            plugin.package,
            plugin.path.display().to_string()
        ));
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("fixtures.rs");
    std::fs::write(out, code).expect("write fixtures.rs");
}
