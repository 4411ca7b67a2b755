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
    // Every plugin's wasm, one after the other, compressed as one stream.
    let mut all_wasm = Vec::new();
    for (index, plugin) in built.iter().enumerate() {
        let wasm = std::fs::read(&plugin.path).unwrap_or_else(|e| panic!("cannot read {}: {e}", plugin.path.display()));
        let made = ferry_runtime::precompile(&plugin.package, &wasm)
            .unwrap_or_else(|e| panic!("cannot precompile bundled plugin {}: {e}", plugin.package));
        let stem = plugin.package.replace('-', "_");
        let code_file = out_dir.join(format!("{stem}.cwasm.lz4"));
        let info = out_dir.join(format!("{stem}.info.json"));
        // LZ4's highest level: 2.8x smaller (2.2x at its fast level), and
        // expanding is as fast either way.
        let packed =
            lz4::block::compress(&made.precompiled, Some(lz4::block::CompressionMode::HIGHCOMPRESSION(12)), false)
                .expect("compress precompiled plugin");
        std::fs::write(&code_file, packed).expect("write precompiled plugin");
        std::fs::write(&info, &made.info_json).expect("write plugin info");
        items.push_str(&format!(
            "fn code_{index}() -> &'static [u8] {{ expand_code(&EXPANDED_CODE[{index}], include_bytes!({:?}), {}) }}\n\
             fn wasm_{index}() -> &'static [u8] {{ wasm_at({}, {}) }}\n",
            code_file.display().to_string(),
            made.precompiled.len(),
            all_wasm.len(),
            wasm.len(),
        ));
        all_wasm.extend_from_slice(&wasm);
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
    let archive = out_dir.join("plugins.wasm.zst");
    std::fs::write(&archive, compress_archive(&all_wasm)).expect("write plugin archive");
    code.push_str(&format!(
        "static EXPANDED_CODE: [OnceLock<&'static [u8]>; {count}] = [const {{ OnceLock::new() }}; {count}];\n\
         static WASM_ARCHIVE: &[u8] = include_bytes!({:?});\n\
         const WASM_ARCHIVE_LEN: usize = {};\n",
        archive.display().to_string(),
        all_wasm.len(),
    ));
    code.push_str(&items);
    std::fs::write(out_dir.join("bundled.rs"), code).expect("write bundled.rs");
}

/// One zstd stream of all plugins' wasm, with a window that spans them all
/// so each plugin's copy of the SDK is stored once. The strongest level in
/// release builds (about 8 s of a build that takes minutes); a quick one in
/// debug builds, whose C encoder is unoptimised.
fn compress_archive(all_wasm: &[u8]) -> Vec<u8> {
    let release = std::env::var("PROFILE").is_ok_and(|p| p == "release");
    let level = if release { 19 } else { 6 };
    let mut encoder = zstd::stream::Encoder::new(Vec::new(), level).expect("start zstd");
    let window_log = (usize::BITS - all_wasm.len().max(1 << 20).leading_zeros()).min(27);
    encoder.window_log(window_log).expect("zstd window");
    encoder.long_distance_matching(true).expect("zstd long distance matching");
    encoder.include_contentsize(true).expect("zstd content size");
    encoder.set_pledged_src_size(Some(all_wasm.len() as u64)).expect("zstd size");
    encoder.write_all(all_wasm).expect("compress plugins");
    encoder.finish().expect("compress plugins")
}
