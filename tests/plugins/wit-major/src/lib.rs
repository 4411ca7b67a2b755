//! A plugin from the future: it exports `ferry:plugin/service@9.0.0`, which
//! this ferry must refuse with a clear message instead of misbehaving.

wit_bindgen::generate!({ world: "service-plugin", path: "wit" });

use exports::ferry::plugin::service::Guest;
use ferry::plugin::types::{Diagnostic, PluginInfo, PluginKind, RenderError, RenderInput, Rendered};

pub struct Future;

impl Guest for Future {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "from-the-future".into(),
            version: "9.0.0".into(),
            kind: PluginKind::Service,
            description: String::new(),
            manifest_types: vec!["Future Service".into()],
            manifest_schema: "{}".into(),
            manifest_template: String::new(),
        }
    }
    fn validate(_manifest: String) -> Vec<Diagnostic> {
        Vec::new()
    }
    fn render(_input: RenderInput) -> Result<Rendered, RenderError> {
        Err(RenderError::Failed("never called".into()))
    }
}

#[cfg(target_arch = "wasm32")]
export!(Future);
