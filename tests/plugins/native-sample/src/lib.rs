//! `Native Queue`: an SQS queue with a dead-letter queue, exported through
//! the native plugin ABI so the tests prove a `cdylib` plugin installs,
//! loads and renders like a wasm one. Rendering `panic: true` panics, to
//! prove a panic does not unwind into the host.

use ferry_plugin_sdk::cfn::{self, Resource, Template};
use ferry_plugin_sdk::schemars::JsonSchema;
use ferry_plugin_sdk::{
    Diagnostic, HostStep, Plugin, PluginInfo, RenderContext, RenderError, Rendered, S3Upload, UploadRule, Value, json,
};
use serde::Deserialize;

/// The manifest `type:` this plugin renders.
pub const MANIFEST_TYPE: &str = "Native Queue";

/// The manifest.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(crate = "ferry_plugin_sdk::schemars")]
pub struct Manifest {
    /// The service name.
    pub name: String,
    /// Always `Native Queue`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Seconds a received message stays invisible (0 to 43200).
    #[serde(default = "default_visibility")]
    pub visibility_timeout: u32,
    /// Receives before a message moves to the dead-letter queue.
    #[serde(default = "default_receives")]
    pub max_receives: u32,
    /// Panics while rendering (a test hook).
    #[serde(default)]
    pub panic: bool,
    /// Asks for an `s3-upload` host step it never declared (a test hook:
    /// the host must refuse it, as it does a component's).
    #[serde(default)]
    pub undeclared_upload: bool,
    /// Per-environment overrides: ferry has already applied them.
    pub environments: Option<Value>,
}

fn default_visibility() -> u32 {
    30
}

fn default_receives() -> u32 {
    5
}

pub struct NativeQueue;

impl Plugin for NativeQueue {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "native-sample".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: env!("CARGO_PKG_DESCRIPTION").into(),
            manifest_types: vec![MANIFEST_TYPE.into()],
            manifest_schema: ferry_plugin_sdk::manifest::schema_for::<Manifest>(),
            manifest_template:
                "# A queue rendered by a native plugin.\nname: {{name}}\ntype: Native Queue\n\nvisibility_timeout: 30\n"
                    .into(),
        }
    }

    fn host_steps(manifest: &Value, _: &RenderContext) -> Vec<HostStep> {
        if manifest["undeclared_upload"] != Value::Bool(true) {
            return Vec::new();
        }
        let files = vec![UploadRule {
            source: "site".into(),
            destination: "/".into(),
            recursive: true,
            exclude: Vec::new(),
            reinclude: Vec::new(),
        }];
        vec![HostStep::S3Upload(S3Upload { bucket: "Queue".into(), distribution: None, files })]
    }

    fn validate(manifest: &Value) -> Vec<Diagnostic> {
        match ferry_plugin_sdk::parse_manifest::<Manifest>(manifest) {
            Ok(m) => check(&m),
            Err(diagnostics) => diagnostics,
        }
    }

    fn render(manifest: &Value, context: &RenderContext) -> Result<Rendered, RenderError> {
        let m: Manifest = ferry_plugin_sdk::parse_manifest(manifest)?;
        let problems = check(&m);
        if !problems.is_empty() {
            return Err(RenderError::Invalid(problems));
        }
        if m.panic {
            panic!("native-sample was asked to panic");
        }
        let mut t = Template::new();
        t.resource(
            "DeadLetterQueue",
            Resource::new("AWS::SQS::Queue").prop("MessageRetentionPeriod", 1_209_600).describe("Dead-letter queue"),
        );
        t.resource(
            "Queue",
            Resource::new("AWS::SQS::Queue")
                .prop("VisibilityTimeout", m.visibility_timeout)
                .prop(
                    "RedrivePolicy",
                    json!({ "deadLetterTargetArn": cfn::get_att("DeadLetterQueue", "Arn"), "maxReceiveCount": m.max_receives }),
                )
                .describe(&format!("Queue {}", context.name)),
        );
        t.output("QueueURL", cfn::ref_("Queue"), Some(cfn::sub("${AWS::StackName}-QueueURL")));
        Ok(Rendered { template: t, ..Default::default() })
    }
}

fn check(m: &Manifest) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    if m.visibility_timeout > 43_200 {
        out.push(Diagnostic::error(
            "/visibility_timeout",
            format!("{} seconds is outside 0 to 43200", m.visibility_timeout),
        ));
    }
    if !(1..=1000).contains(&m.max_receives) {
        out.push(Diagnostic::error("/max_receives", format!("{} is outside 1 to 1000", m.max_receives)));
    }
    out
}

ferry_plugin_sdk::export_native_plugin!(NativeQueue, service);
