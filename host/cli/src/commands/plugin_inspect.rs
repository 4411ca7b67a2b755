//! `ferry plugin inspect <name>`.

use crate::context::CommandContext;
use anyhow::Result;
use serde_json::json;

pub fn run(name: &str, json: bool, cx: &CommandContext) -> Result<()> {
    let out = &cx.out;
    let registry = cx.registry()?;
    let plugin = registry.get(name)?;
    let info = plugin.info();
    let value = json!({
        "name": info.name,
        "version": info.version,
        "kind": info.kind.to_string(),
        "description": info.description,
        "manifestTypes": info.manifest_types,
        "witVersion": info.wit_version,
        "source": info.origin.source(),
        "path": info.origin.to_string(),
        "bundled": info.origin.is_bundled(),
        "sha256": info.sha256,
        "documentation": info.documentation,
        "hostSteps": info.host_steps,
        "manifestSchema": info.manifest_schema.value(),
    });
    if json {
        out.json(&value);
        return Ok(());
    }
    let rows = vec![
        vec!["name".into(), info.name.clone()],
        vec!["version".into(), info.version.clone()],
        vec!["kind".into(), info.kind.to_string()],
        vec!["description".into(), info.description.clone()],
        vec!["manifest types".into(), info.manifest_types.join(", ")],
        vec!["plugin API (WIT)".into(), info.wit_version.clone()],
        vec!["source".into(), info.origin.source()],
        vec!["sha256".into(), info.sha256.clone()],
    ];
    let mut rows = rows;
    if !info.origin.is_bundled() && info.origin.source() != info.origin.to_string() {
        rows.push(vec!["path".into(), info.origin.to_string()]);
    }
    if let Some(url) = &info.documentation {
        rows.push(vec!["documentation".into(), url.clone()]);
    }
    rows.push(vec![
        "host steps".into(),
        if info.host_steps.is_empty() { "none".into() } else { info.host_steps.join(", ") },
    ]);
    out.table(&["FIELD", "VALUE"], &rows);
    out.data("manifest schema:");
    out.json(info.manifest_schema.value());
    Ok(())
}
