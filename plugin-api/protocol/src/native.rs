//! The native plugin ABI: the WIT's `info`/`validate`/`render` as three C
//! functions passing JSON, for plugins built as a `cdylib` for the host.
//! Both sides (the SDK's `export_native_plugin!` and the host's loader)
//! read and write exactly these types.
//!
//! ```c
//! uint32_t ferry_plugin_abi_version(void);            // ABI_VERSION
//! uint8_t *ferry_plugin_call(const uint8_t *op, size_t op_len,
//!                            const uint8_t *input, size_t input_len,
//!                            size_t *out_len);          // UTF-8 JSON, never NULL
//! void ferry_plugin_free(uint8_t *ptr, size_t len);   // frees what call returned
//! ```
//!
//! `op` is [`INFO`], [`VALIDATE`] or [`RENDER`]; every answer is an
//! [`Answer`]: `{"ok": …}` or `{"error": "…"}` (a panic, an unknown op).
//! `info` takes no input and answers a [`PluginInfo`](crate::PluginInfo);
//! `validate` takes the manifest and answers a list of
//! [`Diagnostic`](crate::Diagnostic)s; `render` takes a [`RenderInput`] and
//! answers a [`RenderOutcome`](crate::RenderOutcome):
//! `{"rendered": {"template", "parameters", "descriptions": [[logicalId,
//! description]], "hostSteps"}}`, `{"invalid": [diagnostics]}` or
//! `{"failed": "…"}`.

use serde::{Deserialize, Serialize};

/// Version of the native ABI (bumped on any incompatible change).
pub const ABI_VERSION: u32 = 1;

/// The operation answering a [`PluginInfo`](crate::PluginInfo).
pub const INFO: &str = "info";
/// The operation answering a list of diagnostics.
pub const VALIDATE: &str = "validate";
/// The operation answering a [`RenderOutcome`](crate::RenderOutcome).
pub const RENDER: &str = "render";

/// Every answer of `ferry_plugin_call`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Answer<T> {
    /// The operation's result.
    Ok(T),
    /// Why there is none (a panic, an unknown operation, unreadable input).
    Error(String),
}

/// The input of `render`: the manifest and the
/// [`RenderContext`](crate::RenderContext). Generic so the host can pass
/// JSON it already holds as text and the plugin can read typed values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RenderInput<M, C> {
    /// The effective manifest.
    pub manifest: M,
    /// The render context.
    pub context: C,
}

/// The [`RenderInput`] JSON for a manifest and a context the host already
/// holds as JSON text (each must be one JSON value), without parsing them again.
pub fn render_input_json(manifest_json: &str, context_json: &str) -> String {
    format!(r#"{{"manifest":{manifest_json},"context":{context_json}}}"#)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Diagnostic, RenderContext, RenderOutcome, Rendered};
    use serde_json::{Value, json};

    #[test]
    fn the_envelope_is_the_json_native_abi_1_promises() {
        let ok: Answer<Vec<Diagnostic>> = Answer::Ok(vec![Diagnostic::warning("/cpu", "odd").with_hint("256")]);
        assert_eq!(
            serde_json::to_value(&ok).unwrap(),
            json!({"ok": [{"severity": "warning", "path": "/cpu", "message": "odd", "hint": "256"}]})
        );
        let error: Answer<Value> = serde_json::from_str(r#"{"error": "panicked: boom"}"#).unwrap();
        assert_eq!(error, Answer::Error("panicked: boom".into()));
        // Version 1 plugins answer no host steps, and diagnostics may omit path and hint.
        let old = r#"{"ok": {"rendered": {"template": {"Resources": {}}, "descriptions": [["Queue", "A queue"]]}}}"#;
        let Answer::Ok(RenderOutcome::Rendered(rendered)) = serde_json::from_str::<Answer<RenderOutcome>>(old).unwrap()
        else {
            panic!("a rendered answer")
        };
        assert_eq!(rendered.descriptions, vec![("Queue".to_string(), "A queue".to_string())]);
        assert!(rendered.host_steps.is_empty() && rendered.parameters.is_empty());
        let invalid: RenderOutcome =
            serde_json::from_str(r#"{"invalid": [{"severity": "error", "message": "no"}]}"#).unwrap();
        assert_eq!(invalid, RenderOutcome::Invalid(vec![Diagnostic::error("", "no")]));
        assert_eq!(
            serde_json::to_value(RenderOutcome::Rendered(Rendered::default())).unwrap()["rendered"]["hostSteps"],
            json!([])
        );
    }

    #[test]
    fn render_input_text_reads_as_the_typed_input() {
        let context = serde_json::to_string(&RenderContext { app: "a".into(), ..RenderContext::default() }).unwrap();
        let text = render_input_json(r#"{"name": "api"}"#, &context);
        let input: RenderInput<Value, RenderContext> = serde_json::from_str(&text).unwrap();
        assert_eq!(input.manifest["name"], "api");
        assert_eq!(input.context.app, "a");
    }
}
