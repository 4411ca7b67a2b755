//! Native plugins: a `cdylib` exporting the C ABI of
//! `ferry_plugin_protocol::native` (the WIT's `info`/`validate`/`render` as
//! JSON over three functions, in the protocol's own types),
//! loaded with libloading. They run in ferry's own process with all of its
//! permissions, so they are loaded only when `copilot/plugins.lock` marks
//! them trusted, and every command that loads one says so on stderr.

use crate::backend::Backend;
use crate::error::PluginErrorKind;
use crate::wit::{RawInfo, RawRenderError, RawRendered};
use ferry_plugin_protocol::native::{self as abi, Answer};
use ferry_plugin_protocol::{Diagnostic, PluginInfo, RenderOutcome};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The native ABI version this host speaks (`ferry_plugin_abi_version()`).
pub const NATIVE_ABI_VERSION: u32 = abi::ABI_VERSION;

/// What `PluginInfo::wit_version` says for a native plugin.
pub(crate) const NATIVE_ABI_LABEL: &str = "native-1";

type AbiVersionFn = unsafe extern "C" fn() -> u32;
type CallFn = unsafe extern "C" fn(*const u8, usize, *const u8, usize, *mut usize) -> *mut u8;
type FreeFn = unsafe extern "C" fn(*mut u8, usize);

/// True when `bytes` start like a shared library (ELF, Mach-O or PE) rather
/// than a WebAssembly component: how `plugin install` tells the two apart.
pub fn is_native_library(bytes: &[u8]) -> bool {
    const MAGICS: [&[u8]; 6] = [
        b"\x7fELF",
        &[0xfe, 0xed, 0xfa, 0xce],
        &[0xfe, 0xed, 0xfa, 0xcf],
        &[0xce, 0xfa, 0xed, 0xfe],
        &[0xcf, 0xfa, 0xed, 0xfe],
        b"MZ",
    ];
    MAGICS.iter().any(|magic| bytes.starts_with(magic))
}

/// A loaded native plugin library.
pub(crate) struct NativeLibrary {
    call: CallFn,
    free: FreeFn,
    /// Keeps `call` and `free` valid; never unloaded before them.
    _library: libloading::Library,
    /// The private copy that was loaded, deleted after the library is closed.
    _copy: Option<tempfile::TempPath>,
}

impl NativeLibrary {
    /// Loads exactly `bytes` (the library the caller checked against the
    /// lock) from a private copy, so the file at `path` changing between the
    /// digest check and `dlopen` cannot swap in other code. The copy goes to
    /// the temp directory, or next to `path` when that is not executable.
    pub(crate) fn open_verified(path: &Path, bytes: &[u8]) -> Result<NativeLibrary, PluginErrorKind> {
        let beside = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let mut last = None;
        for dir in [std::env::temp_dir(), beside] {
            let copy = tempfile::Builder::new()
                .prefix(".ferry-native-")
                .suffix(std::env::consts::DLL_SUFFIX)
                .tempfile_in(&dir)
                .and_then(|mut file| {
                    std::io::Write::write_all(&mut file, bytes)?;
                    Ok(file.into_temp_path())
                });
            let copy = match copy {
                Ok(copy) => copy,
                Err(e) => {
                    last = Some(PluginErrorKind::NativeLoad {
                        path: path.display().to_string(),
                        what: format!("cannot copy it to {}: {e}", dir.display()),
                    });
                    continue;
                }
            };
            match NativeLibrary::open(&copy, path) {
                Ok(mut library) => {
                    library._copy = Some(copy);
                    return Ok(library);
                }
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| PluginErrorKind::NativeLoad {
            path: path.display().to_string(),
            what: "no directory to load a private copy from".into(),
        }))
    }

    /// Opens the library at `file` (named `path` in errors) and checks it
    /// speaks this host's native ABI.
    pub(crate) fn open(file: &Path, path: &Path) -> Result<NativeLibrary, PluginErrorKind> {
        let load = |what: String| PluginErrorKind::NativeLoad { path: path.display().to_string(), what };
        // SAFETY: loading runs the library's initialisers: that is the
        // trust the lock records, checked by the caller before this.
        let library = unsafe { libloading::Library::new(file) }.map_err(|e| load(e.to_string()))?;
        // SAFETY: the symbols have the types the SDK's export_native_plugin! gives them.
        let (version, call, free) = unsafe {
            let symbol = |name: &str| format!("it does not export `{name}` (build it with export_native_plugin!)");
            let version: AbiVersionFn = *library
                .get::<AbiVersionFn>(b"ferry_plugin_abi_version\0")
                .map_err(|_| load(symbol("ferry_plugin_abi_version")))?;
            let call: CallFn =
                *library.get::<CallFn>(b"ferry_plugin_call\0").map_err(|_| load(symbol("ferry_plugin_call")))?;
            let free: FreeFn =
                *library.get::<FreeFn>(b"ferry_plugin_free\0").map_err(|_| load(symbol("ferry_plugin_free")))?;
            (version(), call, free)
        };
        if version != NATIVE_ABI_VERSION {
            return Err(load(format!(
                "it speaks native plugin ABI {version}, this ferry speaks {NATIVE_ABI_VERSION}; rebuild it against this ferry's SDK"
            )));
        }
        Ok(NativeLibrary { call, free, _library: library, _copy: None })
    }

    /// One call: `op` with JSON `input`, returning the `ok` value of the
    /// answer read as `T` (`malformed` says what is wrong when it is not one).
    fn call<T: serde::de::DeserializeOwned>(
        &self,
        op: &str,
        input: &str,
        malformed: &str,
    ) -> Result<T, PluginErrorKind> {
        let mut len = 0usize;
        // SAFETY: the buffers are valid for their lengths; the SDK side
        // catches panics, so nothing unwinds across this call.
        let ptr = unsafe { (self.call)(op.as_ptr(), op.len(), input.as_ptr(), input.len(), &mut len) };
        if ptr.is_null() {
            return Err(PluginErrorKind::BadOutput(format!("`{op}` returned a null pointer")));
        }
        // SAFETY: the SDK returns a buffer of `len` bytes, ours until freed.
        let bytes = unsafe { std::slice::from_raw_parts(ptr, len) }.to_vec();
        // SAFETY: exactly what `call` returned, freed once.
        unsafe { (self.free)(ptr, len) };
        let answer: Value = serde_json::from_slice(&bytes)
            .map_err(|e| PluginErrorKind::BadOutput(format!("`{op}` answered something that is not JSON ({e})")))?;
        if !answer.is_object() {
            return Err(PluginErrorKind::BadOutput(format!("`{op}` answered something that is not a JSON object")));
        }
        match serde_json::from_value::<Answer<Value>>(answer) {
            Ok(Answer::Ok(value)) => {
                serde_json::from_value(value).map_err(|e| PluginErrorKind::BadOutput(format!("{malformed}: {e}")))
            }
            Ok(Answer::Error(message)) => Err(PluginErrorKind::NativeFailed { op: op.to_string(), message }),
            Err(_) => Err(PluginErrorKind::BadOutput(format!("`{op}` answered neither `ok` nor `error`"))),
        }
    }
}

impl Backend for NativeLibrary {
    fn is_native(&self) -> bool {
        true
    }

    fn info(&self) -> Result<RawInfo, PluginErrorKind> {
        let info: PluginInfo = self.call(abi::INFO, "", "its info is not what the native ABI promises")?;
        Ok(RawInfo {
            name: info.name,
            version: info.version,
            kind: info.kind,
            description: info.description,
            manifest_types: info.manifest_types,
            // Checked as text, like a component's: its size, then that it is JSON.
            manifest_schema: if info.manifest_schema.is_null() {
                String::new()
            } else {
                info.manifest_schema.to_string()
            },
            manifest_template: info.manifest_template,
            documentation: info.documentation,
            host_steps: info.host_steps,
        })
    }

    fn validate(&self, manifest_json: &str) -> Result<Vec<Diagnostic>, PluginErrorKind> {
        self.call(abi::VALIDATE, manifest_json, "its diagnostics are malformed")
    }

    fn render(
        &self,
        manifest_json: &str,
        context_json: &str,
    ) -> Result<Result<RawRendered, RawRenderError>, PluginErrorKind> {
        let input = abi::render_input_json(manifest_json, context_json);
        Ok(match self.call::<RenderOutcome>(abi::RENDER, &input, "its render answer is malformed")? {
            // Checked as text, like a component's: sizes first, then the shapes.
            RenderOutcome::Rendered(rendered) => Ok(RawRendered {
                template: rendered.template.to_string(),
                parameters: Value::Object(rendered.parameters).to_string(),
                descriptions: rendered.descriptions,
                host_steps: rendered.host_steps,
            }),
            RenderOutcome::Invalid(diagnostics) => Err(RawRenderError::Invalid(diagnostics)),
            RenderOutcome::Failed(message) => Err(RawRenderError::Failed(message)),
        })
    }
}

/// Says, once per library per process, that a native plugin is about to run
/// unsandboxed: the user must never be surprised by one.
pub(crate) fn warn_unsandboxed(runtime: &crate::Runtime, name: &str, path: &Path) {
    static WARNED: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());
    let mut warned = WARNED.lock().unwrap_or_else(|e| e.into_inner());
    if warned.insert(path.to_path_buf()) {
        runtime.notify(crate::Notice::Warning(
            ferry_core::Problem::new(format!(
                "loading NATIVE plugin `{name}` ({}): native plugins are NOT sandboxed and run with all of \
                 ferry's permissions (your files, network and AWS credentials); it runs only because it was trusted \
                 with `ferry plugin install --trust-native`.",
                path.display()
            ))
            .warning(),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libraries_and_components_are_told_apart() {
        assert!(is_native_library(b"\x7fELF\x02\x01"));
        assert!(is_native_library(&[0xcf, 0xfa, 0xed, 0xfe, 7]));
        assert!(is_native_library(b"MZ\x90\0"));
        assert!(!is_native_library(b"\0asm\x0d\0\x01\0"));
        assert!(!is_native_library(b""));
    }

    #[test]
    fn a_file_that_is_not_a_library_is_a_load_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("libnope.so");
        std::fs::write(&path, b"\x7fELF but not really").unwrap();
        let err = NativeLibrary::open(&path, &path).err().unwrap();
        assert!(matches!(err, PluginErrorKind::NativeLoad { .. }), "{err:?}");
        let err = NativeLibrary::open_verified(&path, b"\x7fELF nor this").err().unwrap();
        assert!(matches!(err, PluginErrorKind::NativeLoad { .. }), "{err:?}");
    }
}
