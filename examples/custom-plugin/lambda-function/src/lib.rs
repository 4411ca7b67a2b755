//! `Lambda Function`: a service type Copilot never had, written the way a
//! company would write its own. An AWS Lambda function with inline code, its
//! execution role and log group, optionally invoked on an EventBridge schedule.

use ferry_plugin_sdk::cfn::{self, Resource, Template};
use ferry_plugin_sdk::schemars::JsonSchema;
use ferry_plugin_sdk::{Diagnostic, Plugin, PluginInfo, RenderContext, RenderError, Rendered, Value, json};
use serde::Deserialize;
use std::collections::BTreeMap;

/// The manifest `type:` this plugin renders.
pub const MANIFEST_TYPE: &str = "Lambda Function";

/// Runtimes whose inline code (`ZipFile`) Lambda accepts.
pub const RUNTIMES: &[&str] = &["python3.12", "python3.13", "nodejs20.x", "nodejs22.x"];

/// The manifest.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(crate = "ferry_plugin_sdk::schemars")]
pub struct Manifest {
    /// The service name.
    pub name: String,
    /// Always `Lambda Function`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Lambda runtime, e.g. `python3.12`.
    pub runtime: String,
    /// Handler in the code, e.g. `index.handler`.
    pub handler: String,
    /// The function's source, inline (at most 4096 characters).
    pub code: String,
    /// Memory in MiB (128 to 10240).
    #[serde(default = "default_memory")]
    pub memory: u32,
    /// Timeout in seconds (1 to 900).
    #[serde(default = "default_timeout")]
    pub timeout: u32,
    /// EventBridge schedule: `rate(...)` or `cron(...)`.
    pub schedule: Option<String>,
    /// Environment variables.
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    /// Per-environment overrides: ferry has already applied them.
    pub environments: Option<Value>,
}

fn default_memory() -> u32 {
    128
}

fn default_timeout() -> u32 {
    30
}

pub struct LambdaFunction;

impl Plugin for LambdaFunction {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "lambda-function".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: env!("CARGO_PKG_DESCRIPTION").into(),
            manifest_types: vec![MANIFEST_TYPE.into()],
            manifest_schema: ferry_plugin_sdk::manifest::schema_for::<Manifest>(),
            manifest_template: include_str!("template.yml").into(),
        }
    }

    fn documentation() -> Option<String> {
        Some("https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-lambda-function.html".into())
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
        Ok(render(&m, context))
    }
}

#[cfg(target_arch = "wasm32")]
ferry_plugin_sdk::export_plugin!(LambdaFunction, service);

/// Every problem, at its field.
pub fn check(m: &Manifest) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    if m.kind != MANIFEST_TYPE {
        out.push(Diagnostic::error("/type", format!("this plugin renders `{MANIFEST_TYPE}`, not `{}`", m.kind)));
    }
    if !RUNTIMES.contains(&m.runtime.as_str()) {
        out.push(
            Diagnostic::error("/runtime", format!("`{}` cannot run inline code", m.runtime))
                .with_hint(format!("use one of: {}", RUNTIMES.join(", "))),
        );
    }
    if m.code.trim().is_empty() || m.code.len() > 4096 {
        out.push(
            Diagnostic::error("/code", format!("inline code must be 1 to 4096 characters, not {}", m.code.len()))
                .with_hint("keep the handler small, or package the code as an image"),
        );
    }
    if !(128..=10_240).contains(&m.memory) {
        out.push(Diagnostic::error("/memory", format!("{} MiB is outside 128 to 10240", m.memory)));
    }
    if !(1..=900).contains(&m.timeout) {
        out.push(Diagnostic::error("/timeout", format!("{} seconds is outside 1 to 900", m.timeout)));
    }
    if let Some(schedule) = &m.schedule
        && (!(schedule.starts_with("rate(") || schedule.starts_with("cron(")) || !schedule.ends_with(')'))
    {
        out.push(
            Diagnostic::error("/schedule", format!("`{schedule}` is not an EventBridge schedule"))
                .with_hint("use `rate(5 minutes)` or `cron(0 12 * * ? *)`"),
        );
    }
    for name in m.variables.keys() {
        if !name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            out.push(Diagnostic::error(
                format!("/variables/{name}"),
                format!("`{name}` is not a valid environment variable name"),
            ));
        }
    }
    out
}

/// The function, its role and log group, and the schedule.
pub fn render(m: &Manifest, context: &RenderContext) -> Rendered {
    let mut t = Template::new();
    t.resource(
        "ExecutionRole",
        Resource::new("AWS::IAM::Role")
            .prop("AssumeRolePolicyDocument", cfn::assume_role_policy("lambda.amazonaws.com"))
            .prop(
                "ManagedPolicyArns",
                json!([cfn::sub("arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")]),
            )
            .describe("Role the function runs as"),
    );
    let mut variables = json!({
        "COPILOT_APPLICATION_NAME": cfn::ref_("AppName"),
        "COPILOT_ENVIRONMENT_NAME": cfn::ref_("EnvName"),
        "COPILOT_SERVICE_NAME": cfn::ref_("WorkloadName"),
    });
    for (name, value) in &m.variables {
        variables[name.as_str()] = json!(value);
    }
    t.resource(
        "Function",
        Resource::new("AWS::Lambda::Function")
            .prop("Runtime", m.runtime.as_str())
            .prop("Handler", m.handler.as_str())
            .prop("Code", json!({ "ZipFile": &m.code }))
            .prop("MemorySize", m.memory)
            .prop("Timeout", m.timeout)
            .prop("Role", cfn::get_att("ExecutionRole", "Arn"))
            .prop("Environment", json!({ "Variables": variables }))
            .describe(&format!("Lambda function {}", context.name)),
    );
    t.resource(
        "LogGroup",
        Resource::new("AWS::Logs::LogGroup")
            .prop("LogGroupName", cfn::sub("/aws/lambda/${Function}"))
            .prop("RetentionInDays", 30)
            .describe("The function's logs"),
    );
    if let Some(schedule) = &m.schedule {
        t.resource(
            "Schedule",
            Resource::new("AWS::Events::Rule")
                .prop("ScheduleExpression", schedule.as_str())
                .prop("Targets", json!([{ "Arn": cfn::get_att("Function", "Arn"), "Id": "Function" }]))
                .describe(&format!("Invokes the function {schedule}")),
        );
        t.resource(
            "SchedulePermission",
            Resource::new("AWS::Lambda::Permission")
                .prop("Action", "lambda:InvokeFunction")
                .prop("FunctionName", cfn::ref_("Function"))
                .prop("Principal", "events.amazonaws.com")
                .prop("SourceArn", cfn::get_att("Schedule", "Arn")),
        );
    }
    t.output("FunctionArn", cfn::get_att("Function", "Arn"), Some(cfn::sub("${AWS::StackName}-FunctionArn")));
    Rendered { template: t, ..Default::default() }
}
