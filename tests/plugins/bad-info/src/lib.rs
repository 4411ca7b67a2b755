//! A plugin whose `info()` breaks the ABI's promise (its manifest schema is
//! not JSON): the host must refuse it by name instead of trusting it.

use ferry_plugin_sdk::bindings::service::exports::ferry::plugin::service::Guest;
use ferry_plugin_sdk::bindings::wit::{Diagnostic, PluginInfo, PluginKind, RenderError, RenderInput, Rendered};

pub struct BadInfo;

impl Guest for BadInfo {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "bad-info".into(),
            version: "0.0.1".into(),
            kind: PluginKind::Service,
            description: "reports a schema that is not JSON (test fixture)".into(),
            manifest_types: vec!["Bad Info Service".into()],
            manifest_schema: "{\"type\": object".into(),
            manifest_template: String::new(),
            documentation: None,
            host_steps: Vec::new(),
        }
    }

    fn validate(_manifest: String) -> Vec<Diagnostic> {
        Vec::new()
    }

    fn render(_input: RenderInput) -> Result<Rendered, RenderError> {
        Err(RenderError::Failed("never reached".into()))
    }
}

#[cfg(target_arch = "wasm32")]
ferry_plugin_sdk::bindings::service::__ferry_export_service!(BadInfo);
