//! Helpers for storage plugins (plugin kind `storage`, ABI 0.4 and later):
//! reading the answers of `ferry storage init`, the render target, and the
//! parts every Copilot storage addon shares.
//!
//! A storage plugin's `render` gets the answers as its manifest (see
//! [`StorageAnswers`]) and what to render in `context.storage` (see
//! [`StorageTarget`]). Its template is written as an addons file, its
//! parameter values (if any) as `addons.parameters.yml`.

use crate::cfn::{Parameter, Resource, Template};
use crate::json;
use crate::{Diagnostic, PluginInfo, RenderContext, Value};
pub use ferry_plugin_protocol::storage::{
    Lifecycle, StorageAnswers, StoragePart, StorageTarget, env_var_output, logical_id_safe,
};
use serde_json::Map;

/// Copilot's `storage init` page, which documents every storage type.
pub const DOCUMENTATION: &str = "https://aws.github.io/copilot-cli/docs/commands/storage-init/";

/// A storage plugin's [`PluginInfo`]: it offers one storage type and has no
/// manifest of its own (its answers come from `ferry storage init`). Pass
/// `env!("CARGO_PKG_VERSION")` as `version`, so it is the plugin's.
pub fn info(name: &str, version: &str, description: &str, storage_type: &str) -> PluginInfo {
    PluginInfo {
        name: name.into(),
        version: version.into(),
        description: description.into(),
        manifest_types: vec![storage_type.into()],
        manifest_schema: Value::Null,
        manifest_template: String::new(),
    }
}

/// Answers every storage type takes; the rest belong to some types only.
const COMMON: &[&str] = &["name", "storage-type", "lifecycle", "workload"];

/// Reads the answers, refusing a flag the storage type does not use (`used`
/// lists the type's own answers, e.g. `["partition-key"]`): a diagnostic at
/// `/<flag>` that the host shows as `--<flag>`.
pub fn answers(manifest: &Value, used: &[&str]) -> Result<StorageAnswers, Vec<Diagnostic>> {
    let mut problems = Vec::new();
    if let Some(object) = manifest.as_object() {
        for key in object.keys() {
            if !COMMON.contains(&key.as_str()) && !used.contains(&key.as_str()) {
                let hint = if used.is_empty() {
                    "this storage type takes only --name, --lifecycle and --workload".to_string()
                } else {
                    format!(
                        "this storage type takes {}",
                        used.iter().map(|u| format!("--{u}")).collect::<Vec<_>>().join(", ")
                    )
                };
                problems.push(
                    Diagnostic::error(format!("/{key}"), format!("--{key} does not apply to this storage type"))
                        .with_hint(hint),
                );
            }
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    serde_json::from_value(manifest.clone())
        .map_err(|e| vec![Diagnostic::error("", format!("the answers of `storage init` cannot be read: {e}"))])
}

/// What to render: `context.storage`, or a workload addon when the host
/// sent none (e.g. a plain `validate`).
pub fn target(context: &RenderContext) -> StorageTarget {
    context.storage.clone().unwrap_or_default()
}

/// Declares the parameters the addons stack receives: `App`, `Env` and,
/// for a workload addon, `Name` (the workload).
pub fn addon_parameters(t: &mut Template, workload: bool) {
    t.parameter("App", Parameter::string().description("Your application's name."));
    t.parameter("Env", Parameter::string().description("The environment name being deployed to."));
    if workload {
        t.parameter("Name", Parameter::string().description("The name of the workload being deployed."));
    }
}

/// A resource with its deploy-progress description, also kept in the file as
/// Copilot's `aws:copilot:description` metadata.
pub fn described(resource: Resource, description: &str) -> Resource {
    resource.metadata(json!({ "aws:copilot:description": description })).describe(description)
}

/// Adds an output with a description and an optional export name.
pub fn output(t: &mut Template, name: &str, description: &str, value: Value, export: Option<Value>) {
    let mut out = Map::new();
    out.insert("Description".into(), Value::String(description.to_string()));
    out.insert("Value".into(), value);
    if let Some(export) = export {
        out.insert("Export".into(), json!({ "Name": export }));
    }
    t.outputs.insert(name.to_string(), Value::Object(out));
}

/// An error about one answer, with a hint.
pub fn bad(flag: &str, message: impl Into<String>, hint: impl Into<String>) -> Diagnostic {
    Diagnostic::error(format!("/{flag}"), message).with_hint(hint)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flag_the_type_does_not_use_is_refused_at_its_path() {
        let manifest = json!({"name": "b", "storage-type": "S3", "lifecycle": "workload", "engine": "MySQL"});
        let problems = answers(&manifest, &[]).unwrap_err();
        assert_eq!(problems[0].path, "/engine");
        assert!(problems[0].message.contains("--engine"), "{}", problems[0].message);
        let ok = answers(&json!({"name": "b", "storage-type": "S3", "lifecycle": "environment"}), &[]).unwrap();
        assert_eq!(ok.lifecycle, Lifecycle::Environment);
    }
}
