//! Builds every crate under `plugins/` for wasm32-wasip2 and embeds the
//! components. Kept in its own small crate so a plugin change rebuilds and
//! relinks only this, not the runtime.

use std::path::PathBuf;

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let root = ferry_wasm_build::workspace_root(&manifest_dir);
    let dirs = ferry_wasm_build::package_dirs(&root.join("plugins"));
    println!("cargo:rerun-if-changed={}", root.join("plugins").display());
    let built = ferry_wasm_build::build(&root, &dirs);

    let mut code = String::from("/// Plugins embedded at build time.\npub static BUNDLED: &[BundledPlugin] = &[\n");
    for plugin in &built {
        code.push_str(&format!(
            "    BundledPlugin {{ package: {:?}, sha256: {:?}, wasm: include_bytes!({:?}) }},\n",
            plugin.package,
            plugin.sha256,
            plugin.path.display().to_string()
        ));
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("bundled.rs");
    std::fs::write(&out, code).expect("write bundled.rs");
}
