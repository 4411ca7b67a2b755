//! The plugins that ship inside the `ferry` binary, each with its machine
//! code for this host and its `info()`, both made at build time: a first
//! run neither compiles nor reads a cache.

/// A plugin compiled into the binary.
#[derive(Debug, Clone, Copy)]
pub struct BundledPlugin {
    /// Cargo package name under `plugins/`.
    pub package: &'static str,
    /// Hex sha256 of `wasm`, computed at build time so start-up need not hash.
    pub sha256: &'static str,
    /// The WebAssembly component (compiled at run time only when the
    /// precompiled code does not fit the engine).
    pub wasm: &'static [u8],
    /// `Engine::precompile_component` of `wasm` under the runtime's engine
    /// configuration, starting on a page boundary.
    pub precompiled: &'static [u8],
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

/// Bytes aligned to a 4 KiB page (the build script wraps each plugin's
/// machine code in one, so it can run in place).
#[repr(C, align(4096))]
struct PageAligned<T: ?Sized>(T);

/// Adds every bundled plugin, precompiled, to `registry`.
pub fn add_all(registry: &mut ferry_runtime::Registry) {
    for plugin in BUNDLED {
        registry.add_precompiled(plugin.package, plugin.wasm, plugin.sha256, plugin.precompiled());
    }
}

include!(concat!(env!("OUT_DIR"), "/bundled.rs"));
