//! What every workload plugin's fixture tests check, written once. The
//! snapshot assertions stay in each plugin's test (insta files snapshots by
//! the calling test), so these return the values to snapshot.

use ferry_plugin_sdk::{RenderError, Rendered, Severity};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// `<crate_dir>/tests/<dir>/*.yml`, sorted.
pub fn fixtures(crate_dir: &str, dir: &str) -> Vec<PathBuf> {
    crate::yaml_fixtures(&Path::new(crate_dir).join("tests").join(dir))
}

/// Asserts what every rendered fragment owes the host — each declared
/// parameter has a value and each value a declaration; each resource has a
/// description for deploy progress — and returns the snapshot value.
pub fn checked_snapshot(name: &str, rendered: &Rendered) -> Value {
    let template = rendered.template.to_json();
    let declared: Vec<&String> = template["Parameters"].as_object().map(|o| o.keys().collect()).unwrap_or_default();
    let valued: Vec<&String> = rendered.parameters.keys().collect();
    assert_eq!(declared, valued, "{name}: parameters declared vs valued");
    let described: Vec<&str> = rendered.template.descriptions().map(|(id, _)| id).collect();
    for id in template["Resources"].as_object().map(|o| o.keys()).into_iter().flatten() {
        assert!(described.contains(&id.as_str()), "{name}: resource {id} has no description");
    }
    let descriptions: Vec<Value> =
        rendered.template.descriptions().map(|(id, d)| json!({"logicalId": id, "description": d})).collect();
    json!({"template": template, "parameters": rendered.parameters, "descriptions": descriptions})
}

/// What the host adds around a fragment before deploying it: the host
/// parameters and, when the fragment reads addons outputs, the nested stack.
pub fn as_host_would(mut template: Value) -> Value {
    if template.to_string().contains("\"AddonsStack\"")
        && let Some(resources) = template["Resources"].as_object_mut()
    {
        resources.insert(
            "AddonsStack".into(),
            json!({"Type": "AWS::CloudFormation::Stack", "Properties": {"TemplateURL": {"Ref": "AddonsTemplateURL"}}}),
        );
    }
    crate::with_host_parameters(template)
}

/// Asserts that a bad fixture was diagnosed — not rendered, not failed —
/// with at least one error and no serde-internal wording; returns the
/// diagnostics to snapshot.
pub fn checked_diagnostics(name: &str, result: Result<Rendered, RenderError>) -> Value {
    let diagnostics = match result {
        Ok(_) => panic!("invalid/{name}.yml rendered, expected diagnostics"),
        Err(RenderError::Failed(m)) => panic!("invalid/{name}.yml failed instead of diagnosing: {m}"),
        Err(RenderError::Invalid(d)) => d,
    };
    assert!(
        diagnostics.iter().any(|d| d.severity == Severity::Error),
        "invalid/{name}.yml: no error among {diagnostics:?}"
    );
    for d in &diagnostics {
        assert!(
            !d.message.contains("did not match any variant"),
            "invalid/{name}.yml: unhelpful message {}",
            d.message
        );
    }
    diagnostics
        .iter()
        .map(|d| json!({"severity": format!("{:?}", d.severity), "path": d.path, "message": d.message, "hint": d.hint}))
        .collect()
}

/// One cfn-lint run over every template (zero errors allowed).
pub fn lint_all(templates: &[(String, Value)]) {
    if let Err(report) = crate::cfn_lint(templates) {
        panic!("{report}");
    }
}

/// A storage plugin's render (an addons file and its `addons.parameters.yml`
/// values, which fill the addon's parameters beyond App/Env/Name): asserts
/// each resource has a description and each parameter value a declaration,
/// and returns the snapshot value.
pub fn storage_snapshot(name: &str, rendered: &Rendered) -> Value {
    let template = rendered.template.to_json();
    for key in rendered.parameters.keys() {
        assert!(template["Parameters"].get(key).is_some(), "{name}: value for undeclared parameter {key}");
    }
    let described: Vec<&str> = rendered.template.descriptions().map(|(id, _)| id).collect();
    for id in template["Resources"].as_object().map(|o| o.keys()).into_iter().flatten() {
        assert!(described.contains(&id.as_str()), "{name}: resource {id} has no description");
    }
    json!({"template": template, "parameters": rendered.parameters})
}
