//! The plugin's JSON Schema accepts every Environment field of Copilot's
//! documented inventory (`tests/data/copilot-fields.md`) under Copilot's exact
//! YAML key, and FIELDS.md says each one is rendered.

use ferry_plugin_environment::Environment;
use ferry_plugin_sdk::{Plugin, Value};
use ferry_test_support::inventory;
use std::path::Path;

fn repo_file(rel: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn inventory() -> Vec<String> {
    inventory::fields("Environment")
}

/// The docs list a few keys under the heading they are documented beside
/// rather than at their YAML path; this is where each actually lives.
fn yaml_path(documented: &str) -> &str {
    match documented {
        "flow_logs" => "network.vpc.flow_logs",
        "flow_logs.retention" => "network.vpc.flow_logs.retention",
        "terminate_tls" => "cdn.terminate_tls",
        "ssl_policy" => "http.public.ssl_policy",
        "http.container_insights" => "observability.container_insights",
        // `subnets.public` and `.private` are lists of {id, cidr, az}.
        "network.vpc.subnets.id" => "network.vpc.subnets.public.id",
        "network.vpc.subnets.cidr" => "network.vpc.subnets.public.cidr",
        "network.vpc.subnets.az" => "network.vpc.subnets.public.az",
        // The rules are lists under ingress and egress.
        "network.vpc.security_group.ip_protocol" => "network.vpc.security_group.ingress.ip_protocol",
        "network.vpc.security_group.ports" => "network.vpc.security_group.ingress.ports",
        "network.vpc.security_group.cidr" => "network.vpc.security_group.egress.cidr",
        other => other,
    }
}

fn child<'a>(root: &'a Value, node: &'a Value, key: &str) -> Option<&'a Value> {
    inventory::child(root, node, key)
}

#[test]
fn the_schema_accepts_every_documented_environment_field_under_copilots_key() {
    let schema = Environment::info().manifest_schema;
    let fields = inventory();
    assert!(fields.len() >= 40, "the inventory lists 44 environment fields: {fields:?}");
    let mut missing = Vec::new();
    for field in &fields {
        let mut node = &schema;
        for key in yaml_path(field).split('.') {
            match child(&schema, node, key) {
                Some(next) => node = next,
                None => {
                    missing.push(field.clone());
                    break;
                }
            }
        }
    }
    assert!(missing.is_empty(), "not in the schema under Copilot's key: {missing:?}");
    // ferry's own former spelling is gone.
    assert!(
        child(
            &schema,
            child(&schema, child(&schema, &schema, "http").unwrap(), "private").unwrap(),
            "internal_alb_subnets"
        )
        .is_none()
    );
}

#[test]
fn fields_md_has_every_documented_field_rendered() {
    let table = repo_file("plugins/environment/FIELDS.md");
    let rows: Vec<&str> = table.lines().filter(|l| l.starts_with("| `")).collect();
    assert!(!rows.is_empty());
    for row in &rows {
        let status = row.rsplit('|').nth(1).unwrap_or_default().trim();
        assert!(status.starts_with("rendered"), "not rendered: {row}");
    }
    for field in inventory() {
        let path = yaml_path(&field);
        assert!(
            rows.iter().any(|r| r.contains(&format!("`{path}")) || r.contains(&format!("`{field}`"))),
            "no row for `{field}`"
        );
    }
    let source = repo_file("plugins/environment/src/lib.rs") + &repo_file("plugins/environment/src/manifest.rs");
    assert!(!source.contains("unsupported("), "the environment plugin refuses nothing as unsupported");
}
