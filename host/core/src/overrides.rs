//! Copilot's `environments.<env>` override rules.
//!
//! - Scalars and lists are replaced whole (`[]` clears a list).
//! - Maps merge key by key, recursively; `sidecars` and `storage.volumes` are
//!   maps of named entries, so each entry merges on its own.
//! - A value of a different shape replaces the base (`count: 3` over
//!   `count: {range: ...}`, `http: false` over `http: {...}`, `command: "a b"`
//!   over a list).
//! - Either/or keys inside one map clear each other: setting `image.location`
//!   in the override drops the base's `image.build`, and so on.
//! - `null` in an override leaves the base value alone.

use serde_json::{Map, Value};

/// Keys that are alternatives to each other at a manifest path (`*` matches
/// any one segment). Setting one in an override removes the others.
const EXCLUSIVE_KEYS: &[(&str, &[&str])] = &[
    ("/image", &["build", "location"]),
    ("/sidecars/*/image", &["build", "location"]),
    ("/secrets/*", &["secretsmanager", "from_cfn"]),
    ("/variables/*", &["from_cfn"]),
    ("/count", &["range", "spot"]),
    ("/network/vpc/placement", &["subnets"]),
    ("/storage/volumes/*/efs", &["id", "uid"]),
    ("/http", &["alias", "hosted_zone"]),
    ("/logging", &["destination"]),
];

/// Applies `override_value` on top of `base` following Copilot's rules.
pub fn merge(base: &Value, override_value: &Value) -> Value {
    merge_at("", base, override_value)
}

fn merge_at(path: &str, base: &Value, over: &Value) -> Value {
    match (base, over) {
        (_, Value::Null) => base.clone(),
        (Value::Object(b), Value::Object(o)) => Value::Object(merge_maps(path, b, o)),
        _ => over.clone(),
    }
}

fn merge_maps(path: &str, base: &Map<String, Value>, over: &Map<String, Value>) -> Map<String, Value> {
    let mut out = base.clone();
    for group in exclusive_groups(path) {
        if group.iter().any(|k| over.contains_key(*k)) {
            for k in group.iter().filter(|k| !over.contains_key(**k)) {
                out.remove(*k);
            }
        }
    }
    for (key, value) in over {
        let child = format!("{path}/{}", crate::yaml::escape_segment(key));
        let merged = match out.get(key) {
            Some(existing) => merge_at(&child, existing, value),
            None if value.is_null() => continue,
            None => value.clone(),
        };
        out.insert(key.clone(), merged);
    }
    out
}

fn exclusive_groups(path: &str) -> impl Iterator<Item = &'static [&'static str]> + '_ {
    EXCLUSIVE_KEYS.iter().filter(move |(pattern, _)| path_matches(pattern, path)).map(|(_, keys)| *keys)
}

fn path_matches(pattern: &str, path: &str) -> bool {
    let p: Vec<&str> = pattern.split('/').collect();
    let q: Vec<&str> = path.split('/').collect();
    p.len() == q.len() && p.iter().zip(&q).all(|(a, b)| *a == "*" || a == b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scalars_replace() {
        assert_eq!(
            merge(&json!({"cpu": 256, "memory": 512}), &json!({"cpu": 1024})),
            json!({"cpu": 1024, "memory": 512})
        );
    }

    #[test]
    fn lists_replace_whole_and_empty_list_clears() {
        let base = json!({"command": ["a", "b"], "http": {"allowed_source_ips": ["1.1.1.1/32"]}});
        assert_eq!(merge(&base, &json!({"command": ["c"]}))["command"], json!(["c"]));
        assert_eq!(merge(&base, &json!({"http": {"allowed_source_ips": []}}))["http"]["allowed_source_ips"], json!([]));
    }

    #[test]
    fn maps_merge_key_by_key() {
        let base = json!({"variables": {"A": "1", "B": "2"}});
        let merged = merge(&base, &json!({"variables": {"B": "3", "C": "4"}}));
        assert_eq!(merged["variables"], json!({"A": "1", "B": "3", "C": "4"}));
    }

    #[test]
    fn sidecars_and_volumes_merge_per_named_entry() {
        let base = json!({"sidecars": {"nginx": {"image": "nginx", "port": 80}, "xray": {"image": "x"}},
                          "storage": {"volumes": {"data": {"path": "/d", "efs": {"id": "fs-1"}}}}});
        let over =
            json!({"sidecars": {"nginx": {"port": 8080}}, "storage": {"volumes": {"data": {"read_only": true}}}});
        let merged = merge(&base, &over);
        assert_eq!(merged["sidecars"]["nginx"], json!({"image": "nginx", "port": 8080}));
        assert_eq!(merged["sidecars"]["xray"], json!({"image": "x"}));
        assert_eq!(
            merged["storage"]["volumes"]["data"],
            json!({"path": "/d", "efs": {"id": "fs-1"}, "read_only": true})
        );
    }

    #[test]
    fn either_or_forms_clear_each_other() {
        // Different shapes replace.
        assert_eq!(merge(&json!({"count": {"range": "1-10"}}), &json!({"count": 3}))["count"], json!(3));
        assert_eq!(
            merge(&json!({"count": 3}), &json!({"count": {"range": "1-10"}}))["count"],
            json!({"range": "1-10"})
        );
        assert_eq!(merge(&json!({"command": "a b"}), &json!({"command": ["a", "b"]}))["command"], json!(["a", "b"]));
        assert_eq!(merge(&json!({"http": {"path": "/"}}), &json!({"http": false}))["http"], json!(false));
        // Alternative keys inside one map.
        let base = json!({"image": {"build": "Dockerfile", "port": 80}});
        assert_eq!(
            merge(&base, &json!({"image": {"location": "nginx"}}))["image"],
            json!({"port": 80, "location": "nginx"})
        );
        let base = json!({"secrets": {"DB": {"secretsmanager": "db"}}});
        assert_eq!(
            merge(&base, &json!({"secrets": {"DB": {"from_cfn": "out"}}}))["secrets"]["DB"],
            json!({"from_cfn": "out"})
        );
        let base = json!({"count": {"range": "1-10", "cpu_percentage": 70}});
        assert_eq!(merge(&base, &json!({"count": {"spot": 2}}))["count"], json!({"cpu_percentage": 70, "spot": 2}));
    }

    #[test]
    fn null_keeps_base() {
        assert_eq!(merge(&json!({"cpu": 256}), &json!({"cpu": null})), json!({"cpu": 256}));
        assert_eq!(merge(&json!({"cpu": 256}), &json!({"exec": null})), json!({"cpu": 256}));
    }
}
