//! Builds every crate under `plugins/` for wasm32-wasip2, precompiles each
//! component for this host with the runtime's own engine configuration
//! (`ferry_runtime::precompile`), asks each its `info()`, and embeds all
//! three. Kept in its own small crate so a plugin change rebuilds and
//! relinks only this, not the runtime.

use std::path::PathBuf;

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let root = ferry_wasm_build::workspace_root(&manifest_dir);
    let dirs = ferry_wasm_build::package_dirs(&root.join("plugins"));
    println!("cargo:rerun-if-changed={}", root.join("plugins").display());
    let built = ferry_wasm_build::build(&root, &dirs);

    let mut code = String::from("/// Plugins embedded at build time.\npub static BUNDLED: &[BundledPlugin] = &[\n");
    let mut statics = String::new();
    for plugin in &built {
        let wasm = std::fs::read(&plugin.path).unwrap_or_else(|e| panic!("cannot read {}: {e}", plugin.path.display()));
        let made = ferry_runtime::precompile(&plugin.package, &wasm)
            .unwrap_or_else(|e| panic!("cannot precompile bundled plugin {}: {e}", plugin.package));
        let stem = plugin.package.replace('-', "_");
        let cwasm = out_dir.join(format!("{stem}.cwasm"));
        let info = out_dir.join(format!("{stem}.info.json"));
        std::fs::write(&cwasm, &made.precompiled).expect("write precompiled plugin");
        std::fs::write(&info, &made.info_json).expect("write plugin info");
        // The machine code goes in a page-aligned static, so the runtime
        // can run it where it lies in the binary instead of copying it.
        statics.push_str(&format!(
            "static {}: PageAligned<[u8; {}]> = PageAligned(*include_bytes!({:?}));\n",
            stem.to_uppercase(),
            made.precompiled.len(),
            cwasm.display().to_string(),
        ));
        code.push_str(&format!(
            "    BundledPlugin {{ package: {:?}, sha256: {:?}, wasm: include_bytes!({:?}), \
             precompiled: &{}.0, engine_key: {:?}, info: include_str!({:?}) }},\n",
            plugin.package,
            plugin.sha256,
            plugin.path.display().to_string(),
            stem.to_uppercase(),
            made.engine_key,
            info.display().to_string(),
        ));
    }
    code.push_str("];\n");
    code.push_str(&statics);
    std::fs::write(out_dir.join("bundled.rs"), code).expect("write bundled.rs");
}
