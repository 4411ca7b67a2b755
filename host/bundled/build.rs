//! Builds every crate under `plugins/` for wasm32-wasip2, precompiles each
//! component for this host with the runtime's own engine configuration
//! (`ferry_runtime::precompile`), asks each its `info()`, and embeds all
//! three, compressed (see `src/lib.rs`). Kept in its own small crate so a
//! plugin change rebuilds and relinks only this, not the runtime.

use std::io::Write;
use std::path::PathBuf;

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let root = ferry_wasm_build::workspace_root(&manifest_dir);
    let dirs = ferry_wasm_build::package_dirs(&root.join("plugins"));
    println!("cargo:rerun-if-changed={}", root.join("plugins").display());
    let built = ferry_wasm_build::build(&root, &dirs);

    let mut code = String::from("/// Plugins embedded at build time.\npub static BUNDLED: &[BundledPlugin] = &[\n");
    let mut items = String::new();
    for (index, plugin) in built.iter().enumerate() {
        let wasm = std::fs::read(&plugin.path).unwrap_or_else(|e| panic!("cannot read {}: {e}", plugin.path.display()));
        let made = ferry_runtime::precompile(&plugin.package, &wasm)
            .unwrap_or_else(|e| panic!("cannot precompile bundled plugin {}: {e}", plugin.package));
        let stem = plugin.package.replace('-', "_");
        let code_file = out_dir.join(format!("{stem}.cwasm.lz4"));
        let wasm_file = out_dir.join(format!("{stem}.wasm.deflate"));
        let info = out_dir.join(format!("{stem}.info.json"));
        // LZ4's highest level: 2.8x smaller (2.2x at its fast level), and
        // expanding is as fast either way.
        let packed =
            lz4::block::compress(&made.precompiled, Some(lz4::block::CompressionMode::HIGHCOMPRESSION(12)), false)
                .expect("compress precompiled plugin");
        std::fs::write(&code_file, packed).expect("write precompiled plugin");
        let mut deflate = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        deflate.write_all(&wasm).expect("compress plugin");
        std::fs::write(&wasm_file, deflate.finish().expect("compress plugin")).expect("write plugin");
        std::fs::write(&info, &made.info_json).expect("write plugin info");
        items.push_str(&format!(
            "fn code_{index}() -> &'static [u8] {{ expand_code(&EXPANDED_CODE[{index}], include_bytes!({:?}), {}) }}\n\
             fn wasm_{index}() -> &'static [u8] {{ expand_wasm(&EXPANDED_WASM[{index}], include_bytes!({:?}), {}) }}\n",
            code_file.display().to_string(),
            made.precompiled.len(),
            wasm_file.display().to_string(),
            wasm.len(),
        ));
        code.push_str(&format!(
            "    BundledPlugin {{ package: {:?}, sha256: {:?}, \
             wasm: Embedded::Compressed {{ len: {}, expand: wasm_{index} }}, \
             precompiled: Embedded::Compressed {{ len: {}, expand: code_{index} }}, \
             engine_key: {:?}, info: include_str!({:?}) }},\n",
            plugin.package,
            plugin.sha256,
            wasm.len(),
            made.precompiled.len(),
            made.engine_key,
            info.display().to_string(),
        ));
    }
    code.push_str("];\n");
    let count = built.len();
    code.push_str(&format!(
        "static EXPANDED_CODE: [OnceLock<&'static [u8]>; {count}] = [const {{ OnceLock::new() }}; {count}];\n\
         static EXPANDED_WASM: [OnceLock<&'static [u8]>; {count}] = [const {{ OnceLock::new() }}; {count}];\n"
    ));
    code.push_str(&items);
    std::fs::write(out_dir.join("bundled.rs"), code).expect("write bundled.rs");
}
