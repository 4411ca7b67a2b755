//! Every manifest field a bundled workload plugin's JSON Schema accepts must
//! have a row in that plugin's FIELDS.md (docs/fields.md links them), so the
//! published "rendered / refused" tables cannot drift from what the plugins
//! actually parse.

use crate::common;

use std::collections::BTreeSet;

use common::{ferry, workspace_root};
use ferry_test_support::inventory;
use serde_json::Value;

/// Dotted field paths two levels deep (`http`, `http.path`, ...): the depth
/// at which the tables list fields. Map-valued sections (`variables`,
/// `sidecars`) have user-chosen keys and stop at their own name.
fn field_paths(schema: &Value) -> BTreeSet<String> {
    let mut paths = BTreeSet::new();
    for (name, node) in inventory::properties(schema, schema) {
        paths.insert(name.to_string());
        for (child, _) in inventory::properties(schema, node) {
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
    assert_eq!(checked, 7, "expected the six Copilot workload types and the Express Web Service");
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
        let fields = inventory::fields(kind);
        assert!(fields.len() > 40, "{kind}: inventory too small: {}", fields.len());
        let refused: Vec<&String> = fields.iter().filter(|f| !inventory::accepts(&schema, f)).collect();
        assert!(refused.is_empty(), "{plugin}'s schema does not accept documented fields: {refused:?}");

        let rel = format!("plugins/{plugin}/FIELDS.md");
        let table = std::fs::read_to_string(root.join(&rel)).unwrap();
        let not_rendered: Vec<&str> = inventory::field_rows(&table)
            .into_iter()
            .filter(|(_, status)| !inventory::status_is_rendered(status))
            .map(|(l, _)| l)
            .collect();
        assert!(not_rendered.is_empty(), "{rel} has rows not `rendered`: {not_rendered:#?}");
    }
}

/// `http.alb`, the last documented field the ECS plugins refused, renders
/// offline through the binary: `package` looks nothing up and attaches the
/// service to a stand-in of the imported load balancer with Copilot's
/// `...ForImportedALB` logical IDs, and none of the environment's.
#[test]
fn http_alb_packages_offline_with_the_imported_load_balancer_ids() {
    let service = |kind: &str, name: &str, path: &str| {
        format!(
            "name: {name}\ntype: {kind}\nimage:\n  location: public.ecr.aws/nginx/nginx:1\n  port: 80\nhttp:\n  path: {path}\n  alb: my-imported-alb\n"
        )
    };
    let manifests = [
        ("web", service("Load Balanced Web Service", "web", "/")),
        ("internal", service("Backend Service", "internal", "/internal")),
    ];
    for (name, manifest) in manifests {
        let ws = common::example_copy("chat");
        let dir = ws.path().join("copilot").join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("manifest.yml"), manifest).unwrap();
        let out = ferry(ws.path()).args(["svc", "package", "-n", name, "-e", "test"]).assert().success();
        let template: Value = serde_json::from_slice(&out.get_output().stdout).expect("stdout is the template JSON");
        let resources = template["Resources"].as_object().unwrap();
        for id in [
            "TargetGroupForImportedALB",
            "HTTPSListenerRuleForImportedALB",
            "HTTPListenerRedirectRuleForImportedALB",
            "EnvironmentSecurityGroupIngressFromImportedALB",
        ] {
            assert!(resources.contains_key(id), "{name}: no {id}");
        }
        let listener = resources["HTTPSListenerRuleForImportedALB"]["Properties"]["ListenerArn"].as_str().unwrap();
        assert!(listener.contains(":listener/app/my-imported-alb/"), "{name}: {listener}");
        assert!(!resources.contains_key("TargetGroup"), "{name}: the environment's target group ID");
    }
}
