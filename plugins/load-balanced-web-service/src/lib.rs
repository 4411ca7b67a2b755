use ferry_plugin_sdk::{Plugin, PluginInfo, RenderContext, RenderError, Rendered, Value, cfn};

pub struct Lbws;

impl Plugin for Lbws {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "load-balanced-web-service".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Load Balanced Web Service".into(),
            manifest_types: vec!["Load Balanced Web Service".into()],
            manifest_schema: Value::Null,
            manifest_template: String::new(),
        }
    }
    fn render(_manifest: &Value, _context: &RenderContext) -> Result<Rendered, RenderError> {
        let mut t = cfn::Template::new();
        t.resource("Cluster", cfn::Resource::new("AWS::ECS::Cluster"));
        Ok(Rendered {
            template: t,
            ..Default::default()
        })
    }
}

ferry_plugin_sdk::export_plugin!(Lbws, service);
