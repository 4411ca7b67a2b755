//! Copilot's documented field inventory (`tests/data/copilot-fields.md`,
//! vendored from the design notes) and the walk that checks a plugin's JSON
//! Schema accepts each field under Copilot's exact key. One copy for every
//! plugin's fidelity test and the workspace's `field_tables`.

use serde_json::Value;
use std::collections::BTreeSet;

/// The documented fields of one manifest type (`## <kind> (N fields)`).
pub fn fields(kind: &str) -> Vec<String> {
    let path = crate::workspace_root().join("tests/data/copilot-fields.md");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
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

/// Follows `{"$ref": "#/$defs/X"}` to the schema it names.
pub fn resolve<'a>(root: &'a Value, node: &'a Value) -> &'a Value {
    match node.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            resolve(root, root.pointer(r.trim_start_matches('#')).unwrap_or_else(|| panic!("dangling $ref {r}")))
        }
        None => node,
    }
}

/// Property names of an object schema, across `anyOf`/`oneOf`/`allOf`
/// branches (Copilot's either-or fields) and list items, with each
/// property's schema.
pub fn properties<'a>(root: &'a Value, node: &'a Value) -> Vec<(&'a str, &'a Value)> {
    let node = resolve(root, node);
    let mut out = Vec::new();
    if let Some(props) = node.get("properties").and_then(Value::as_object) {
        out.extend(props.iter().map(|(k, v)| (k.as_str(), v)));
    }
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

/// Every property name anywhere in the schema (the inventory names some
/// fields by their last key only, e.g. `retention`, `access_point_id`).
pub fn all_property_names(root: &Value) -> BTreeSet<String> {
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

/// The schema of key `key` under `node`: its own properties, its list
/// items', and its map values' (`sidecars.<name>`, `storage.volumes.<volume>`).
pub fn child<'a>(root: &'a Value, node: &'a Value, key: &str) -> Option<&'a Value> {
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
/// than YAML (`publish.topics.topic`) is skipped where the parent is a list;
/// a bare name the docs list under a heading (`retention`) is found anywhere.
pub fn accepts(schema: &Value, path: &str) -> bool {
    if path.starts_with('<') {
        return true; // `<volume>`: the user's own key
    }
    if !path.contains('.') {
        return all_property_names(schema).contains(path);
    }
    let mut node = schema;
    let keys: Vec<&str> = path.split('.').collect();
    for (i, key) in keys.iter().enumerate() {
        // The docs name one item of a list `topics` by a sub-heading `topic`.
        let names_an_item = i > 0 && keys[i - 1] == format!("{key}s");
        match child(schema, node, key) {
            Some(next) => node = next,
            None if names_an_item && resolve(schema, node).get("items").is_some() => {}
            None => return false,
        }
    }
    true
}

/// (row, status) of the rows of a FIELDS.md "| Field | Status |" table.
pub fn field_rows(table: &str) -> Vec<(&str, &str)> {
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
pub fn status_is_rendered(status: &str) -> bool {
    status.starts_with("rendered") || status.starts_with("applied by the host") || status.starts_with("invalid")
}

/// Fails naming every documented field of `kind` the schema does not accept.
pub fn assert_schema_accepts_every_field(kind: &str, schema: &Value) {
    let documented = fields(kind);
    assert!(!documented.is_empty(), "the inventory lists no field for {kind}");
    let missing: Vec<&String> = documented.iter().filter(|f| !accepts(schema, f)).collect();
    assert!(missing.is_empty(), "{kind}: fields Copilot documents that the schema does not accept: {missing:?}");
    assert!(!accepts(schema, "no_such_field"), "{kind}: the schema accepts an unknown field");
}

/// Fails unless the plugin's FIELDS.md has a row naming each documented
/// field of `kind`, every one of them `rendered`.
pub fn assert_fields_md_renders_every_field(kind: &str, fields_md: &str) {
    let rows: Vec<&str> = fields_md.lines().filter(|l| l.starts_with("| `")).collect();
    assert!(
        !fields_md.lines().any(|l| l.starts_with('|') && l.contains("not supported yet")),
        "{kind}: FIELDS.md still has a `not supported yet` row"
    );
    for field in fields(kind) {
        let row = rows.iter().find(|l| l.split('|').nth(1).is_some_and(|c| c.contains(&format!("`{field}`"))));
        let row = row.unwrap_or_else(|| panic!("{kind}: FIELDS.md has no row for `{field}`"));
        let status = row.split('|').nth(2).unwrap_or_default();
        assert!(status.contains("rendered"), "{kind}: `{field}` is not `rendered` in FIELDS.md: {row}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_matcher_walks_nested_list_and_map_fields() {
        let schema: Value = serde_json::json!({
            "properties": {
                "publish": {"properties": {"topics": {"type": "array", "items": {"$ref": "#/$defs/T"}}}},
                "storage": {"properties": {"volumes": {"additionalProperties": {"properties": {"efs": {}}}}}}
            },
            "$defs": {"T": {"properties": {"name": {}, "fifo": {}}}}
        });
        assert!(accepts(&schema, "publish.topics.topic.name"));
        assert!(accepts(&schema, "publish.topics.topic"));
        assert!(!accepts(&schema, "publish.topics.nope.name"));
        assert!(accepts(&schema, "efs"));
        assert!(accepts(&schema, "storage.volumes"));
        assert!(!accepts(&schema, "publish.topics.topic.nope"));
        assert!(!accepts(&schema, "nlb.port"));
        assert!(!accepts(&schema, "retention"));
        let table = "| Field | Status | Notes |\n|---|---|---|\n| `a` | rendered | x |\n| `b` | refused | y |\n\n| `Id` | T | z |\n";
        let rows = field_rows(table);
        assert_eq!(rows.len(), 2);
        assert!(status_is_rendered(rows[0].1) && !status_is_rendered(rows[1].1));
    }

    #[test]
    fn every_type_has_its_section() {
        for (kind, at_least) in [
            ("Load Balanced Web Service", 150),
            ("Backend Service", 120),
            ("Worker Service", 100),
            ("Request-Driven Web Service", 36),
            ("Static Site", 11),
            ("Scheduled Job", 47),
            ("Environment", 44),
        ] {
            let n = fields(kind).len();
            assert!(n >= at_least, "{kind}: {n} fields");
        }
    }
}
