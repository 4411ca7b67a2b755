use ferry_plugin_sdk::{Plugin, PluginInfo, RenderContext, RenderError, Rendered, Value, cfn};

pub struct Environment;

impl Plugin for Environment {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "environment".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Environment".into(),
            manifest_types: vec!["Environment".into()],
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

ferry_plugin_sdk::export_plugin!(Environment, environment);
