//! A plugin built before ABI 0.2 existed: raw bindings over the frozen
//! `plugin-api/wit/0.1.0`, as an SDK of that time generated them. The host
//! must keep loading, validating and rendering it.

wit_bindgen::generate!({ world: "service-plugin", path: "../../../plugin-api/wit/0.1.0" });

use exports::ferry::plugin::service::Guest;
use ferry::plugin::types::{
    Diagnostic, PluginInfo, PluginKind, RenderError, RenderInput, Rendered, ResourceDescription, Severity,
};

pub struct Previous;

impl Guest for Previous {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "wit-previous".into(),
            version: "0.1.0".into(),
            kind: PluginKind::Service,
            description: "built against plugin ABI 0.1.0 (test fixture)".into(),
            manifest_types: vec!["Legacy Queue".into()],
            manifest_schema: r#"{"type":"object"}"#.into(),
            manifest_template: "name: {{name}}\ntype: Legacy Queue\n".into(),
        }
    }

    fn validate(manifest: String) -> Vec<Diagnostic> {
        if manifest.contains("\"bad\"") {
            vec![Diagnostic {
                severity: Severity::Error,
                path: "/bad".into(),
                message: "`bad` is not allowed".into(),
                hint: Some("remove it".into()),
            }]
        } else {
            Vec::new()
        }
    }

    fn render(_input: RenderInput) -> Result<Rendered, RenderError> {
        ferry::plugin::host::log(ferry::plugin::host::LogLevel::Info, "rendering with ABI 0.1.0");
        Ok(Rendered {
            template:
                r#"{"Resources":{"Queue":{"Type":"AWS::SQS::Queue","Properties":{"SqsManagedSseEnabled":true}}}}"#
                    .into(),
            parameters: "{}".into(),
            descriptions: vec![ResourceDescription { logical_id: "Queue".into(), description: "legacy queue".into() }],
        })
    }
}

#[cfg(target_arch = "wasm32")]
export!(Previous);
