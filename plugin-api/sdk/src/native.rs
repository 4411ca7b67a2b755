//! The native plugin ABI (`ferry_plugin_protocol::native`): the same
//! `info`/`validate`/`render` interface as the WIT, as three C functions
//! passing JSON, for plugins built as a `cdylib` for the host and loaded
//! with `dlopen`. Used only by
//! [`export_native_plugin!`](crate::export_native_plugin); every answer is
//! one of the protocol's types, so the host reads what this writes.

use crate::{Plugin, PluginKind, protocol};
use ferry_plugin_protocol::RenderContext;
use ferry_plugin_protocol::native::{self as abi, Answer, RenderInput};
use serde_json::Value;

/// Version of the native ABI (bumped on any incompatible change).
pub const NATIVE_ABI_VERSION: u32 = abi::ABI_VERSION;

fn info<P: Plugin>(kind: PluginKind) -> Result<Value, String> {
    serde_json::to_value(crate::describe::<P>(kind)).map_err(|e| format!("cannot encode its info: {e}"))
}

fn validate<P: Plugin>(input: &str) -> Result<Value, String> {
    let manifest: Value =
        serde_json::from_str(input).map_err(|e| format!("the host sent a manifest that is not JSON: {e}"))?;
    serde_json::to_value(P::validate(&manifest)).map_err(|e| format!("cannot encode its diagnostics: {e}"))
}

fn render<P: Plugin>(input: &str) -> Result<Value, String> {
    let input: RenderInput<Value, Value> =
        serde_json::from_str(input).map_err(|e| format!("the host sent a render input that is not JSON: {e}"))?;
    let context: RenderContext = serde_json::from_value(input.context)
        .map_err(|e| format!("the host sent a render context this plugin cannot read: {e}"))?;
    let outcome: protocol::RenderOutcome = crate::render_outcome::<P>(&input.manifest, &context);
    serde_json::to_value(outcome).map_err(|e| format!("cannot encode its render answer: {e}"))
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_string())
}

/// One call through the ABI. A panic is caught here: unwinding across the
/// C boundary would abort the host.
///
/// # Safety
/// `op`/`input` point to `op_len`/`input_len` readable bytes (or are null
/// with a zero length) and `out_len` is writable.
#[doc(hidden)]
pub unsafe fn call<P: Plugin>(
    kind: PluginKind,
    op: *const u8,
    op_len: usize,
    input: *const u8,
    input_len: usize,
    out_len: *mut usize,
) -> *mut u8 {
    // SAFETY: the caller promises readable buffers of these lengths.
    let bytes = |ptr: *const u8, len: usize| {
        if ptr.is_null() || len == 0 { &[][..] } else { unsafe { std::slice::from_raw_parts(ptr, len) } }
    };
    let op = String::from_utf8_lossy(bytes(op, op_len)).into_owned();
    let input = String::from_utf8_lossy(bytes(input, input_len)).into_owned();
    let answer = std::panic::catch_unwind(|| match op.as_str() {
        abi::INFO => info::<P>(kind),
        abi::VALIDATE => validate::<P>(&input),
        abi::RENDER => render::<P>(&input),
        other => Err(format!("unknown operation `{other}` (this plugin speaks native ABI {NATIVE_ABI_VERSION})")),
    });
    let envelope = match answer {
        Ok(Ok(value)) => Answer::Ok(value),
        Ok(Err(message)) => Answer::Error(message),
        Err(payload) => Answer::Error(format!("panicked: {}", panic_text(payload.as_ref()))),
    };
    let envelope = serde_json::to_string(&envelope)
        .unwrap_or_else(|e| format!(r#"{{"error":"cannot encode the answer: {}"}}"#, e.to_string().replace('"', "'")));
    let out = envelope.into_bytes().into_boxed_slice();
    // SAFETY: the caller promises `out_len` is writable.
    unsafe { *out_len = out.len() };
    Box::into_raw(out) as *mut u8
}

/// Frees a buffer returned by [`call`].
///
/// # Safety
/// `ptr`/`len` are exactly what one `call` returned, freed once.
#[doc(hidden)]
pub unsafe fn free(ptr: *mut u8, len: usize) {
    if !ptr.is_null() {
        // SAFETY: it was a Box<[u8]> of this length.
        drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(ptr, len)) });
    }
}

/// Exports a [`Plugin`] implementation as a native plugin of the given kind
/// (`service`, `job`, `environment` or `pipeline_provider`): build the crate
/// as a `cdylib` for the host and install it with
/// `ferry plugin install <lib> --trust-native`. Native plugins are not
/// sandboxed; prefer [`export_plugin!`](crate::export_plugin).
#[macro_export]
macro_rules! export_native_plugin {
    ($plugin:ty, service) => {
        $crate::__export_native!($plugin, Service);
    };
    ($plugin:ty, job) => {
        $crate::__export_native!($plugin, Job);
    };
    ($plugin:ty, environment) => {
        $crate::__export_native!($plugin, Environment);
    };
    ($plugin:ty, pipeline_provider) => {
        $crate::__export_native!($plugin, PipelineProvider);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __export_native {
    ($plugin:ty, $kind:ident) => {
        #[cfg(not(target_arch = "wasm32"))]
        const _: () = {
            #[unsafe(no_mangle)]
            pub extern "C" fn ferry_plugin_abi_version() -> u32 {
                $crate::native::NATIVE_ABI_VERSION
            }

            /// # Safety
            /// See `ferry_plugin_sdk::native`.
            #[unsafe(no_mangle)]
            pub unsafe extern "C" fn ferry_plugin_call(
                op: *const u8,
                op_len: usize,
                input: *const u8,
                input_len: usize,
                out_len: *mut usize,
            ) -> *mut u8 {
                unsafe {
                    $crate::native::call::<$plugin>($crate::PluginKind::$kind, op, op_len, input, input_len, out_len)
                }
            }

            /// # Safety
            /// See `ferry_plugin_sdk::native`.
            #[unsafe(no_mangle)]
            pub unsafe extern "C" fn ferry_plugin_free(ptr: *mut u8, len: usize) {
                unsafe { $crate::native::free(ptr, len) }
            }
        };
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Diagnostic, PluginInfo, RenderError, Rendered, cfn};
    use serde_json::json;

    struct Sample;
    impl Plugin for Sample {
        fn info() -> PluginInfo {
            PluginInfo {
                name: "sample".into(),
                version: "1.0.0".into(),
                description: String::new(),
                manifest_types: vec!["Sample".into()],
                manifest_schema: Value::Null,
                manifest_template: String::new(),
            }
        }
        fn render(manifest: &Value, _: &RenderContext) -> Result<Rendered, RenderError> {
            match manifest["mode"].as_str() {
                Some("panic") => panic!("boom"),
                Some("bad") => Err(Diagnostic::error("/mode", "bad mode").into()),
                _ => {
                    let mut template = cfn::Template::new();
                    template.resource("Queue", cfn::Resource::new("AWS::SQS::Queue").describe("A queue"));
                    Ok(Rendered { template, ..Default::default() })
                }
            }
        }
    }

    /// Calls through the exported ABI functions as the host does.
    fn call_abi(op: &str, input: &str) -> Value {
        let mut len = 0;
        let ptr =
            unsafe { call::<Sample>(PluginKind::Job, op.as_ptr(), op.len(), input.as_ptr(), input.len(), &mut len) };
        let bytes = unsafe { std::slice::from_raw_parts(ptr, len) }.to_vec();
        unsafe { free(ptr, len) };
        serde_json::from_slice(&bytes).unwrap()
    }

    #[test]
    fn every_op_answers_an_envelope_and_panics_are_caught() {
        let info = call_abi("info", "");
        assert_eq!(info["ok"]["name"], "sample");
        assert_eq!(info["ok"]["kind"], "job");
        assert_eq!(info["ok"]["manifestTypes"], json!(["Sample"]));
        let rendered =
            call_abi("render", r#"{"manifest": {"mode": "ok"}, "context": {"app": "a", "env": "e", "name": "n"}}"#);
        assert_eq!(rendered["ok"]["rendered"]["template"]["Resources"]["Queue"]["Type"], "AWS::SQS::Queue");
        assert_eq!(rendered["ok"]["rendered"]["descriptions"], json!([["Queue", "A queue"]]));
        let invalid =
            call_abi("render", r#"{"manifest": {"mode": "bad"}, "context": {"app": "a", "env": "e", "name": "n"}}"#);
        assert_eq!(invalid["ok"]["invalid"][0]["path"], "/mode");
        let validated = call_abi("validate", r#"{"mode": "bad"}"#);
        assert_eq!(validated["ok"][0]["severity"], "error");
        let panicked =
            call_abi("render", r#"{"manifest": {"mode": "panic"}, "context": {"app": "a", "env": "e", "name": "n"}}"#);
        assert_eq!(panicked["error"], "panicked: boom");
        assert!(call_abi("frobnicate", "")["error"].as_str().unwrap().contains("unknown operation `frobnicate`"));
        assert!(call_abi("validate", "not json")["error"].as_str().unwrap().contains("not JSON"));
    }
}
