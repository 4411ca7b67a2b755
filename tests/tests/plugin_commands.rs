//! `ferry plugin ls` and `ferry plugin inspect`, as text and JSON.

use crate::common;

use common::{ferry, workspace_root};
use serde_json::Value;

#[test]
fn plugin_ls_json_lists_bundled_plugins_with_digests() {
    let assert = ferry(&workspace_root()).args(["plugin", "ls", "--json"]).assert().success();
    let plugins: Value = serde_json::from_slice(&assert.get_output().stdout).unwrap();
    let plugins = plugins.as_array().expect("a JSON list");
    let names: Vec<&str> = plugins.iter().filter_map(|p| p["name"].as_str()).collect();
    assert!(names.contains(&"environment") && names.contains(&"load-balanced-web-service"), "{names:?}");
    for p in plugins {
        let sha = p["sha256"].as_str().unwrap();
        assert_eq!(sha.len(), 64, "{p}");
        assert!(sha.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(p["bundled"], true);
        assert_eq!(p["witVersion"], "0.4.0");
        assert!(p["manifestTypes"].as_array().is_some_and(|t| !t.is_empty()));
    }
}

#[test]
fn plugin_ls_table_has_header_and_rows() {
    let assert = ferry(&workspace_root()).args(["plugin", "ls"]).assert().success();
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout);
    assert!(stdout.starts_with("NAME"), "{stdout}");
    assert!(stdout.contains("Load Balanced Web Service"), "{stdout}");
    assert!(stdout.contains("bundled"), "{stdout}");
}

#[test]
fn plugin_inspect_json_has_a_manifest_schema() {
    let assert =
        ferry(&workspace_root()).args(["plugin", "inspect", "load-balanced-web-service", "--json"]).assert().success();
    let info: Value = serde_json::from_slice(&assert.get_output().stdout).unwrap();
    assert_eq!(info["kind"], "service");
    assert_eq!(info["manifestTypes"], serde_json::json!(["Load Balanced Web Service"]));
    let schema = &info["manifestSchema"];
    assert!(schema["properties"]["http"].is_object(), "schema lacks http: {schema}");
    assert!(schema["properties"]["cpu"].is_object(), "schema lacks cpu");
}

#[test]
fn plugin_inspect_unknown_name_lists_known_ones() {
    let output = ferry(&workspace_root()).args(["plugin", "inspect", "lbws"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("load-balanced-web-service"), "{stderr}");
}
