//! Every field Copilot documents for this manifest type (the inventory in
//! `tests/data/copilot-fields.md`) is a key the plugin's JSON Schema
//! accepts, spelled exactly as Copilot's YAML tag.

use ferry_plugin_sdk::{Plugin, Value};
use std::path::Path;

const SECTION: &str = "Request-Driven Web Service";

/// The inventory's dotted paths for [`SECTION`].
fn inventory() -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/copilot-fields.md");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let heading = format!("## {SECTION} (");
    let start = text.find(&heading).unwrap_or_else(|| panic!("no `{heading}` section in the inventory"));
    let body = &text[start..];
    let line = body.lines().skip(1).find(|l| l.starts_with('`')).expect("a line of fields");
    line.split(", ").map(|f| f.trim().trim_matches('`').to_string()).filter(|f| !f.is_empty()).collect()
}

fn resolve<'a>(root: &'a Value, node: &'a Value) -> &'a Value {
    match node.get("$ref").and_then(Value::as_str) {
        Some(r) => resolve(root, root.pointer(r.trim_start_matches('#')).unwrap_or_else(|| panic!("dangling {r}"))),
        None => node,
    }
}

/// The schemas a key of `node` may have: through `$ref`, either-or
/// branches, list items and map values.
fn child<'a>(root: &'a Value, node: &'a Value, key: &str) -> Vec<&'a Value> {
    let node = resolve(root, node);
    let mut out = Vec::new();
    if let Some(v) = node.get("properties").and_then(|p| p.get(key)) {
        out.push(v);
    }
    for nested in ["items", "additionalProperties"] {
        if let Some(inner) = node.get(nested).filter(|v| v.is_object()) {
            out.extend(child(root, inner, key));
        }
    }
    for branch in ["anyOf", "oneOf", "allOf"] {
        for b in node.get(branch).and_then(Value::as_array).into_iter().flatten() {
            out.extend(child(root, b, key));
        }
    }
    out
}

/// Whether `path` (dotted) is a key path of the schema. `topic` in
/// `publish.topics.topic` is the docs' name for one list item, not a key.
fn accepts(root: &Value, path: &str) -> bool {
    let mut nodes = vec![root];
    for segment in path.split('.') {
        if segment == "topic" {
            continue;
        }
        let next: Vec<&Value> = nodes.iter().flat_map(|n| child(root, n, segment)).collect();
        if next.is_empty() {
            return false;
        }
        nodes = next;
    }
    true
}

#[test]
fn the_schema_accepts_every_field_copilot_documents() {
    let schema = ferry_plugin_request_driven_web_service::RequestDrivenWebService::info().manifest_schema;
    let fields = inventory();
    assert!(fields.len() >= 36, "the inventory lists {} fields", fields.len());
    let missing: Vec<&String> = fields.iter().filter(|f| !accepts(&schema, f)).collect();
    assert!(missing.is_empty(), "fields Copilot documents that the schema does not accept: {missing:?}");
}

#[test]
fn fields_md_says_rendered_for_every_inventory_field() {
    let table = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("FIELDS.md")).unwrap();
    let refused = table.lines().filter(|l| l.starts_with('|') && l.contains("not supported yet")).count();
    assert_eq!(refused, 0, "FIELDS.md still has a `not supported yet` row");
    for field in inventory() {
        let row = table
            .lines()
            .find(|l| l.starts_with("| `") && l.split('|').nth(1).is_some_and(|c| c.contains(&format!("`{field}`"))));
        let row = row.unwrap_or_else(|| panic!("FIELDS.md has no row for `{field}`"));
        let status = row.split('|').nth(2).unwrap_or_default();
        assert!(status.contains("rendered"), "`{field}` is not `rendered` in FIELDS.md: {row}");
    }
}

#[test]
fn a_field_copilot_does_not_have_is_refused_by_the_schema() {
    let schema = ferry_plugin_request_driven_web_service::RequestDrivenWebService::info().manifest_schema;
    assert!(!accepts(&schema, "no_such_field"));
    assert!(!accepts(&schema, "http.no_such_field"));
}
