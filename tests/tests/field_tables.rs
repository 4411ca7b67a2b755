//! Every manifest field a bundled workload plugin's JSON Schema accepts must
//! have a row in that plugin's FIELDS.md (docs/fields.md links them), so the
//! published "rendered / refused" tables cannot drift from what the plugins
//! actually parse.

mod common;

use std::collections::BTreeSet;

use common::{ferry, workspace_root};
use serde_json::Value;

/// Resolves `{"$ref": "#/$defs/X"}` against the schema root.
fn resolve<'a>(root: &'a Value, node: &'a Value) -> &'a Value {
    match node.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let pointer = r.trim_start_matches('#');
            resolve(root, root.pointer(pointer).unwrap_or_else(|| panic!("dangling $ref {r}")))
        }
        None => node,
    }
}

/// Property names of an object schema, across `anyOf`/`oneOf`/`allOf`
/// branches (Copilot's either-or fields), with each property's schema.
fn properties<'a>(root: &'a Value, node: &'a Value) -> Vec<(&'a str, &'a Value)> {
    let node = resolve(root, node);
    let mut out = Vec::new();
    if let Some(props) = node.get("properties").and_then(Value::as_object) {
        out.extend(props.iter().map(|(k, v)| (k.as_str(), v)));
    }
    // A list of objects (`files`, `publish.topics`) documents its items' fields.
    if let Some(items) = node.get("items") {
        out.extend(properties(root, items));
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        for branch in node.get(key).and_then(Value::as_array).into_iter().flatten() {
            out.extend(properties(root, branch));
        }
    }
    out
}

/// Dotted field paths two levels deep (`http`, `http.path`, ...): the depth
/// at which the tables list fields. Map-valued sections (`variables`,
/// `sidecars`) have user-chosen keys and stop at their own name.
fn field_paths(schema: &Value) -> BTreeSet<String> {
    let mut paths = BTreeSet::new();
    for (name, node) in properties(schema, schema) {
        paths.insert(name.to_string());
        for (child, _) in properties(schema, node) {
            paths.insert(format!("{name}.{child}"));
        }
    }
    paths
}

/// A table row documents `parent.child` when it names the parent in
/// backticks and mentions the child as a word (rows group siblings, e.g.
/// "`count.range` (`1-10` or `min`/`max`/`spot_from`)").
fn documented(table: &str, path: &str) -> bool {
    let (parent, child) = match path.split_once('.') {
        Some((p, c)) => (p, Some(c)),
        None => (path, None),
    };
    table.lines().filter(|l| l.starts_with('|')).any(|line| {
        let names_parent = [".", "`", "[", ":"].iter().any(|end| line.contains(&format!("`{parent}{end}")));
        names_parent
            && child
                .is_none_or(|c| line.split(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_')).any(|word| word == c))
    })
}

#[test]
fn every_schema_field_of_every_workload_plugin_has_a_row_in_its_fields_table() {
    let root = workspace_root();
    let ls = ferry(&root).args(["plugin", "ls", "--json"]).assert().success();
    let plugins: Value = serde_json::from_slice(&ls.get_output().stdout).unwrap();
    let index = std::fs::read_to_string(root.join("docs/fields.md")).unwrap();
    let mut checked = 0;
    for plugin in plugins.as_array().unwrap() {
        let name = plugin["name"].as_str().unwrap();
        if !matches!(plugin["kind"].as_str(), Some("service" | "job")) {
            continue;
        }
        let rel = format!("plugins/{name}/FIELDS.md");
        assert!(index.contains(&rel), "docs/fields.md does not link {rel}");
        let table = std::fs::read_to_string(root.join(&rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
        let inspect = ferry(&root).args(["plugin", "inspect", name, "--json"]).assert().success();
        let info: Value = serde_json::from_slice(&inspect.get_output().stdout).unwrap();
        let schema = match &info["manifestSchema"] {
            Value::String(text) => serde_json::from_str(text).unwrap(),
            other => other.clone(),
        };
        let paths = field_paths(&schema);
        assert!(paths.len() >= 8, "{name}: suspiciously small schema: {paths:?}");
        let missing: Vec<&String> = paths.iter().filter(|p| !documented(&table, p)).collect();
        assert!(missing.is_empty(), "{rel} has no row for: {missing:?}");
        checked += 1;
    }
    assert_eq!(checked, 6, "expected the six Copilot workload types");
}

#[test]
fn the_row_matcher_tells_documented_from_undocumented_fields() {
    let table = "| `count.range` (`1-10` or `min`/`max`) | rendered |\n| `http: false` | refused |\n";
    assert!(documented(table, "count"));
    assert!(documented(table, "count.max"));
    assert!(documented(table, "http"));
    assert!(!documented(table, "count.spot"));
    assert!(!documented(table, "nlb"));
    assert!(!documented("`count.range` outside a table row", "count"));
}

/// The documented fields of one type in `tests/data/copilot-fields.md`
/// (the inventory of Copilot's manifest docs, vendored).
fn inventory(kind: &str) -> Vec<String> {
    let text = std::fs::read_to_string(workspace_root().join("tests/data/copilot-fields.md")).unwrap();
    let heading = format!("## {kind} (");
    let section = text.split("\n## ").find(|s| format!("## {s}").starts_with(&heading));
    let section = section.unwrap_or_else(|| panic!("no `{heading}` section in the inventory"));
    section
        .lines()
        .skip(1)
        .flat_map(|line| line.split(", "))
        .filter_map(|item| item.trim().strip_prefix('`').and_then(|s| s.strip_suffix('`')))
        .map(str::to_string)
        .collect()
}

/// Every property name anywhere in the schema (the inventory names some
/// fields by their last key only, e.g. `retention`, `access_point_id`).
fn all_property_names(root: &Value) -> BTreeSet<String> {
    fn walk(node: &Value, out: &mut BTreeSet<String>) {
        match node {
            Value::Object(map) => {
                if let Some(Value::Object(props)) = map.get("properties") {
                    out.extend(props.keys().cloned());
                }
                map.values().for_each(|v| walk(v, out));
            }
            Value::Array(list) => list.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = BTreeSet::new();
    walk(root, &mut out);
    out
}

/// The schemas a node's children are found in: its own, its list items',
/// and its map values' (`sidecars.<name>`, `storage.volumes.<volume>`).
fn child<'a>(root: &'a Value, node: &'a Value, key: &str) -> Option<&'a Value> {
    let node = resolve(root, node);
    if let Some((_, v)) = properties(root, node).into_iter().find(|(k, _)| *k == key) {
        return Some(v);
    }
    let mut nested: Vec<&Value> = Vec::new();
    if let Some(items) = node.get("items") {
        nested.push(items);
    }
    if let Some(values) = node.get("additionalProperties").filter(|v| v.is_object()) {
        nested.push(values);
    }
    for k in ["anyOf", "oneOf", "allOf"] {
        nested.extend(node.get(k).and_then(Value::as_array).into_iter().flatten());
    }
    nested.into_iter().find_map(|n| child(root, n, key))
}

/// Whether the schema accepts a documented path: every dotted key is a
/// property of the one before it; a key that is a docs sub-heading rather
/// than YAML (`publish.topics.topic`) is skipped where the parent is a list.
fn accepts(schema: &Value, path: &str, names: &BTreeSet<String>) -> bool {
    if path.starts_with('<') {
        return true; // `<volume>`: the user's own key
    }
    if !path.contains('.') {
        return names.contains(path);
    }
    let mut node = schema;
    let keys: Vec<&str> = path.split('.').collect();
    for (i, key) in keys.iter().enumerate() {
        let last = i + 1 == keys.len();
        match child(schema, node, key) {
            Some(next) => node = next,
            // A sub-heading naming a list's item, followed by the item's keys.
            None if !last && resolve(schema, node).get("items").is_some() => {}
            None => return false,
        }
    }
    true
}

#[test]
fn every_documented_copilot_field_is_accepted_and_rendered_by_the_ecs_plugins() {
    let root = workspace_root();
    let plugins = [
        ("load-balanced-web-service", "Load Balanced Web Service"),
        ("backend-service", "Backend Service"),
        ("worker-service", "Worker Service"),
        ("scheduled-job", "Scheduled Job"),
    ];
    for (plugin, kind) in plugins {
        let inspect = ferry(&root).args(["plugin", "inspect", plugin, "--json"]).assert().success();
        let info: Value = serde_json::from_slice(&inspect.get_output().stdout).unwrap();
        let schema = match &info["manifestSchema"] {
            Value::String(text) => serde_json::from_str(text).unwrap(),
            other => other.clone(),
        };
        let names = all_property_names(&schema);
        let fields = inventory(kind);
        assert!(fields.len() > 40, "{kind}: inventory too small: {}", fields.len());
        let refused: Vec<&String> = fields.iter().filter(|f| !accepts(&schema, f, &names)).collect();
        assert!(refused.is_empty(), "{plugin}'s schema does not accept documented fields: {refused:?}");

        let rel = format!("plugins/{plugin}/FIELDS.md");
        let table = std::fs::read_to_string(root.join(&rel)).unwrap();
        let not_rendered: Vec<&str> =
            field_rows(&table).into_iter().filter(|(_, status)| !status_is_rendered(status)).map(|(l, _)| l).collect();
        assert!(not_rendered.is_empty(), "{rel} has rows not `rendered`: {not_rendered:#?}");
    }
}

/// (row, status) of the rows of the "| Field | Status |" table.
fn field_rows(table: &str) -> Vec<(&str, &str)> {
    table
        .lines()
        .skip_while(|l| !l.starts_with("| Field |"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .filter_map(|l| Some((l, l.split('|').nth(2)?.trim())))
        .collect()
}

/// `rendered`, the host's own handling, or Copilot's own refusal of a field
/// the type does not have (`invalid: ...`); never "refused"/"not supported".
fn status_is_rendered(status: &str) -> bool {
    status.starts_with("rendered") || status.starts_with("applied by the host") || status.starts_with("invalid")
}

#[test]
fn the_inventory_matcher_walks_nested_and_list_fields() {
    let schema: Value = serde_json::json!({
        "properties": {
            "publish": {"properties": {"topics": {"type": "array", "items": {"$ref": "#/$defs/T"}}}},
            "storage": {"properties": {"volumes": {"additionalProperties": {"properties": {"efs": {}}}}}}
        },
        "$defs": {"T": {"properties": {"name": {}, "fifo": {}}}}
    });
    let names = all_property_names(&schema);
    assert!(accepts(&schema, "publish.topics.topic.name", &names));
    assert!(accepts(&schema, "efs", &names));
    assert!(accepts(&schema, "storage.volumes", &names));
    assert!(!accepts(&schema, "publish.topics.topic.nope", &names));
    assert!(!accepts(&schema, "nlb.port", &names));
    assert!(!accepts(&schema, "retention", &names));
    let table = "| Field | Status | Notes |\n|---|---|---|\n| `a` | rendered | x |\n| `b` | refused | y |\n\n| `Id` | T | z |\n";
    let rows = field_rows(table);
    assert_eq!(rows.len(), 2);
    assert!(status_is_rendered(rows[0].1) && !status_is_rendered(rows[1].1));
    let inv = inventory("Scheduled Job");
    assert!(inv.contains(&"on.schedule".to_string()) && inv.contains(&"environments".to_string()));
}
