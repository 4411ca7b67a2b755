//! `ferry package` / `svc package` / `env package` on examples/chat: every
//! template is snapshot-tested and passes cfn-lint.

use crate::common;

use common::{example_copy, ferry, workspace_root};
use serde_json::Value;
use std::path::PathBuf;

fn read_json(path: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

#[test]
fn chat_packages_for_both_environments_and_passes_cfn_lint() {
    let example = workspace_root().join("examples/chat");
    let out = tempfile::tempdir().unwrap();
    let mut lint: Vec<PathBuf> = Vec::new();
    for env in ["test", "prod"] {
        let dir = out.path().join(env);
        let assert = ferry(&example).args(["package", "-e", env, "--output-dir"]).arg(&dir).assert().success();
        let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
        for file in [
            format!("{env}.env.stack.json"),
            format!("{env}.env.params.json"),
            format!("frontend-{env}.stack.json"),
            format!("frontend-{env}.params.json"),
            format!("api-{env}.stack.json"),
            format!("api-{env}.params.json"),
            "api.addons.stack.json".to_string(),
        ] {
            let path = dir.join(&file);
            assert!(path.is_file(), "{file} was not written; stderr:\n{stderr}");
            let value = read_json(&path);
            if file.ends_with(".stack.json") {
                lint.push(path);
            }
            insta::with_settings!({ snapshot_suffix => format!("{env}-{file}") }, {
                insta::assert_json_snapshot!("chat", value);
            });
        }
    }
    ferry_test_support::cfn_lint_files(&lint).unwrap();
}

#[test]
fn chat_overrides_differ_between_environments() {
    let example = workspace_root().join("examples/chat");
    let out = tempfile::tempdir().unwrap();
    for env in ["test", "prod"] {
        ferry(&example)
            .args(["svc", "package", "-n", "api", "-e", env, "--output-dir"])
            .arg(out.path())
            .assert()
            .success();
    }
    let test = read_json(&out.path().join("api-test.params.json"));
    let prod = read_json(&out.path().join("api-prod.params.json"));
    assert_eq!(test["Parameters"]["TaskCPU"], "512");
    assert_eq!(prod["Parameters"]["TaskCPU"], "1024");
    assert_eq!(prod["Parameters"]["TaskCount"], "3");
    assert_eq!(prod["Tags"]["copilot-environment"], "prod");
    assert_eq!(prod["Tags"]["copilot-service"], "api");
    assert_eq!(prod["Parameters"]["EnvName"], "prod");
}

#[test]
fn svc_package_without_output_dir_prints_the_template() {
    let example = workspace_root().join("examples/chat");
    let assert = ferry(&example).args(["svc", "package", "-n", "frontend", "-e", "test"]).assert().success();
    let template: Value = serde_json::from_slice(&assert.get_output().stdout).expect("stdout is the template JSON");
    assert_eq!(template["AWSTemplateFormatVersion"], "2010-09-09");
    assert!(template["Resources"].as_object().is_some_and(|r| r.contains_key("AddonsStack")));
    // The example's cfn.patches.yml was applied.
    let patched = template.to_string();
    assert!(patched.contains("\"LogGroupClass\":\"STANDARD\""), "patch not applied");
}

#[test]
fn svc_package_all_renders_every_workload() {
    let ws = example_copy("chat");
    let out = tempfile::tempdir().unwrap();
    ferry(ws.path()).args(["svc", "package", "--all", "-e", "test", "--output-dir"]).arg(out.path()).assert().success();
    for name in ["frontend-test.stack.json", "api-test.stack.json"] {
        assert!(out.path().join(name).is_file(), "{name} missing");
    }
}

#[test]
fn packaging_again_leaves_unchanged_files_alone_and_rewrites_changed_ones() {
    let example = workspace_root().join("examples/chat");
    let out = tempfile::tempdir().unwrap();
    let package = || {
        ferry(&example)
            .args(["svc", "package", "-n", "api", "-e", "test", "--output-dir"])
            .arg(out.path())
            .assert()
            .success()
    };
    package();
    let stack = out.path().join("api-test.stack.json");
    let params = out.path().join("api-test.params.json");
    let rendered = std::fs::read(&stack).unwrap();
    // Dated in the past, so a rewrite would show as a new modification time.
    let past = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000_000);
    for path in [&stack, &params] {
        std::fs::File::options().write(true).open(path).unwrap().set_modified(past).unwrap();
    }
    std::fs::write(&params, "{}").unwrap();
    std::fs::File::options().write(true).open(&params).unwrap().set_modified(past).unwrap();
    let assert = package();
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(stderr.contains("api-test.stack.json"), "the unchanged stack is still reported: {stderr}");
    assert_eq!(std::fs::metadata(&stack).unwrap().modified().unwrap(), past, "an unchanged stack was rewritten");
    assert_eq!(std::fs::read(&stack).unwrap(), rendered);
    assert_ne!(std::fs::metadata(&params).unwrap().modified().unwrap(), past, "a changed file was left stale");
    assert_eq!(read_json(&params)["Parameters"]["EnvName"], "test");
}

#[test]
fn packaging_needs_no_aws_credentials_or_network() {
    // With credentials and endpoints pointing nowhere, package still works.
    let example = workspace_root().join("examples/chat");
    ferry(&example)
        .args(["env", "package", "-n", "test"])
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .assert()
        .success();
}
