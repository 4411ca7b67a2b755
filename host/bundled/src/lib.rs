//! The plugins that ship inside the `ferry` binary, each with its machine
//! code for this host and its `info()`, both made at build time: a first
//! run neither compiles nor reads a cache.
//!
//! Both are stored compressed, which keeps the binary less than half the
//! size: the machine code as LZ4, expanded (at several GB/s) only for the
//! plugins a command uses, into pages of its own kept for the process so
//! wasmtime runs it where it lies; the wasm of all plugins as one zstd
//! stream (they share the SDK's code, which one stream stores once),
//! expanded only to compile when that code does not fit this engine.

pub use ferry_runtime::Embedded;
#[cfg(not(unix))]
use std::alloc::Layout;
use std::io::Read;
use std::sync::OnceLock;

/// A plugin compiled into the binary.
#[derive(Debug, Clone, Copy)]
pub struct BundledPlugin {
    /// Cargo package name under `plugins/`.
    pub package: &'static str,
    /// Hex sha256 of the wasm, computed at build time so start-up need not hash.
    pub sha256: &'static str,
    /// The WebAssembly component (compiled at run time only when the
    /// precompiled code does not fit the engine).
    pub wasm: Embedded,
    /// `Engine::precompile_component` of the wasm under the runtime's
    /// engine configuration; expanded onto a page boundary.
    pub precompiled: Embedded,
    /// The engine key `precompiled` was made for.
    pub engine_key: &'static str,
    /// The plugin's checked `info()`, as JSON.
    pub info: &'static str,
}

impl BundledPlugin {
    /// The build-time artifacts in the runtime's terms.
    pub fn precompiled(&self) -> ferry_runtime::Precompiled {
        ferry_runtime::Precompiled { code: self.precompiled, engine_key: self.engine_key, info: self.info }
    }
}

/// Adds every bundled plugin, precompiled, to `registry`.
pub fn add_all(registry: &mut ferry_runtime::Registry) {
    for plugin in BUNDLED {
        registry.add_precompiled(plugin.package, plugin.wasm, plugin.sha256, plugin.precompiled());
    }
}

/// Alignment of expanded machine code where memory is not mapped for it: a
/// page on every host wasmtime supports (4, 16 or 64 KiB), so its text
/// section can be made executable without touching other memory.
#[cfg(not(unix))]
const CODE_ALIGN: usize = 64 << 10;

/// Expands machine code once per process into page-aligned memory of its
/// own, kept for the process (components made from it may live as long). A
/// damaged block expands to nothing, which the runtime reports as not a
/// precompiled component and compiles the wasm instead.
fn expand_code(cell: &'static OnceLock<&'static [u8]>, lz4: &[u8], len: usize) -> &'static [u8] {
    cell.get_or_init(|| {
        let Some(code) = code_memory(len) else { return &[] };
        match lz4_flex::block::decompress_into(lz4, code) {
            Ok(written) if written == len => code,
            _ => &[],
        }
    })
}

/// `len` zeroed bytes on fresh pages, never freed. Mapped with every page
/// made present in one call: faulting in megabytes a page at a time, as the
/// expansion writes them, cost more than expanding them.
#[cfg(unix)]
fn code_memory(len: usize) -> Option<&'static mut [u8]> {
    if len == 0 {
        return None;
    }
    #[cfg(target_os = "linux")]
    let flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_POPULATE;
    #[cfg(not(target_os = "linux"))]
    let flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS;
    // SAFETY: a new private anonymous mapping aliases nothing of ours.
    let memory = unsafe { libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ | libc::PROT_WRITE, flags, -1, 0) };
    if memory == libc::MAP_FAILED {
        return None;
    }
    // SAFETY: the mapping is `len` readable, writable, zeroed bytes, never
    // unmapped, and only this slice refers to it.
    Some(unsafe { std::slice::from_raw_parts_mut(memory.cast::<u8>(), len) })
}

#[cfg(not(unix))]
fn code_memory(len: usize) -> Option<&'static mut [u8]> {
    let layout = Layout::from_size_align(len.next_multiple_of(CODE_ALIGN), CODE_ALIGN).ok()?;
    if len == 0 {
        return None;
    }
    // SAFETY: the layout has a non-zero size.
    let memory = unsafe { std::alloc::alloc_zeroed(layout) };
    if memory.is_null() {
        std::alloc::handle_alloc_error(layout);
    }
    // SAFETY: `memory` is valid for `len` zeroed bytes and never freed, and
    // only this slice refers to it.
    Some(unsafe { std::slice::from_raw_parts_mut(memory, len) })
}

/// One plugin's wasm: `len` bytes at `offset` of the archive, which is
/// expanded whole, once per process (a damaged archive to nothing, which
/// then fails to compile with the plugin's name).
fn wasm_at(offset: usize, len: usize) -> &'static [u8] {
    static EXPANDED: OnceLock<&'static [u8]> = OnceLock::new();
    let all = EXPANDED.get_or_init(|| expand_archive(WASM_ARCHIVE, WASM_ARCHIVE_LEN));
    all.get(offset..offset + len).unwrap_or_default()
}

fn expand_archive(archive: &[u8], len: usize) -> &'static [u8] {
    let mut all = Vec::with_capacity(len);
    let expanded = ruzstd::decoding::StreamingDecoder::new(archive)
        .ok()
        .and_then(|mut decoder| decoder.read_to_end(&mut all).ok());
    match expanded {
        Some(_) if all.len() == len => Vec::leak(all),
        _ => &[],
    }
}

include!(concat!(env!("OUT_DIR"), "/bundled.rs"));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_plugin_expands_to_its_recorded_size_once_and_code_lands_on_a_page() {
        assert!(!BUNDLED.is_empty());
        for plugin in BUNDLED {
            let (code, wasm) = (plugin.precompiled.bytes(), plugin.wasm.bytes());
            assert_eq!(code.len(), plugin.precompiled.len(), "{}", plugin.package);
            assert_eq!(wasm.len(), plugin.wasm.len(), "{}", plugin.package);
            assert!(wasm.starts_with(b"\0asm"), "{}", plugin.package);
            assert!((code.as_ptr() as usize).is_multiple_of(4096), "{}", plugin.package);
            assert!(std::ptr::eq(code, plugin.precompiled.bytes()), "expanded once: {}", plugin.package);
            assert!(std::ptr::eq(wasm, plugin.wasm.bytes()), "expanded once: {}", plugin.package);
        }
    }

    #[test]
    fn damaged_blocks_expand_to_nothing() {
        static CODE: OnceLock<&'static [u8]> = OnceLock::new();
        assert!(expand_code(&CODE, b"\xff\xff not lz4", 4096).is_empty());
        assert!(expand_archive(b"\xff\xff not zstd", 4096).is_empty());
        let mut truncated = WASM_ARCHIVE.to_vec();
        truncated.truncate(WASM_ARCHIVE.len() / 2);
        assert!(expand_archive(&truncated, WASM_ARCHIVE_LEN).is_empty());
    }
}
