//! The plugins that ship inside the `ferry` binary.

/// A plugin compiled into the binary.
#[derive(Debug, Clone, Copy)]
pub struct BundledPlugin {
    /// Cargo package name under `plugins/`.
    pub package: &'static str,
    /// Hex sha256 of `wasm`, computed at build time so start-up need not hash.
    pub sha256: &'static str,
    /// The WebAssembly component.
    pub wasm: &'static [u8],
}

include!(concat!(env!("OUT_DIR"), "/bundled.rs"));
