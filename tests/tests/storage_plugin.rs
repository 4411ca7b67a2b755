//! Acceptance: a third-party storage plugin made with `ferry plugin new
//! --kind storage` builds, installs (pinned in copilot/plugins.lock, trust
//! rules as for every installed plugin) and is offered by `ferry storage
//! init` beside the bundled types; the addon it writes is cfn-lint clean
//! and packages with its workload.

use crate::common;

use common::{ferry, workspace_root};
use serde_json::Value;
use std::time::Duration;

#[test]
fn a_scaffolded_storage_plugin_builds_installs_and_is_offered_by_storage_init() {
    let tmp = tempfile::tempdir().unwrap();
    ferry(tmp.path()).args(["plugin", "new", "sqs-queue", "--kind", "storage", "--type", "SQS"]).assert().success();
    let dir = tmp.path().join("sqs-queue");
    for file in ["Cargo.toml", "src/lib.rs", "tests/render.rs", "README.md"] {
        assert!(dir.join(file).is_file(), "plugin new did not write {file}");
    }
    assert!(!dir.join("src/template.yml").exists(), "a storage plugin has no manifest template");

    let output = ferry(&dir)
        .args(["plugin", "build", "--offline", "--json"])
        .env("CARGO_TARGET_DIR", workspace_root().join("target/scaffold-plugins"))
        .timeout(Duration::from_secs(900))
        .output()
        .unwrap();
    assert!(output.status.success(), "plugin build failed:\n{}", String::from_utf8_lossy(&output.stderr));
    let built: Value = serde_json::from_slice(&output.stdout).expect("build --json");
    assert_eq!(built["kind"], "storage");
    assert_eq!(built["manifestTypes"], serde_json::json!(["SQS"]));
    assert_eq!(built["witVersion"], "0.4.0");
    let wasm = built["path"].as_str().unwrap().to_string();

    let project = tempfile::tempdir().unwrap();
    let root = project.path();
    for (path, text) in [
        ("copilot/.workspace", "application: demo\n"),
        ("copilot/environments/test/manifest.yml", "name: test\ntype: Environment\n"),
        (
            "copilot/api/manifest.yml",
            "name: api\ntype: Backend Service\nimage:\n  location: public.ecr.aws/nginx/nginx:stable\n  port: 80\n",
        ),
    ] {
        let file = root.join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, text).unwrap();
    }
    let output = ferry(root).args(["plugin", "install", &wasm, "--json"]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let lock = std::fs::read_to_string(root.join("copilot/plugins.lock")).unwrap();
    assert!(lock.contains("sqs-queue"), "{lock}");

    // Offered: a missing --storage-type lists it with the bundled types.
    let output = ferry(root).env("CI", "true").args(["storage", "init", "-n", "jobs", "-w", "api"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("Aurora, DynamoDB, S3, SQS"), "{stderr}");

    // Chosen: it renders the addon, as a workload and as an environment storage.
    for args in [
        &["-n", "jobs", "-t", "SQS", "-w", "api", "-l", "workload"][..],
        &["-n", "events", "-t", "SQS", "-w", "api", "-l", "environment"][..],
    ] {
        let output = ferry(root).env("CI", "true").args(["storage", "init"]).args(args).output().unwrap();
        assert!(output.status.success(), "storage init {args:?}:\n{}", String::from_utf8_lossy(&output.stderr));
    }
    let files = [
        root.join("copilot/api/addons/jobs.yml"),
        root.join("copilot/environments/addons/events.yml"),
        root.join("copilot/api/addons/events-access-policy.yml"),
    ];
    let addon = std::fs::read_to_string(&files[0]).unwrap();
    assert!(addon.contains("AWS::SQS::Queue") && addon.contains("`sqs-queue` plugin"), "{addon}");
    ferry_test_support::cfn_lint_files(&files).expect("the plugin's addons are cfn-lint clean");

    // Its flags are its own: a DynamoDB flag is refused at its name.
    let output = ferry(root)
        .env("CI", "true")
        .args(["storage", "init", "-n", "more", "-t", "SQS", "-w", "api", "--partition-key", "id:S"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--partition-key does not apply") && stderr.contains("`sqs-queue` storage plugin"),
        "{stderr}"
    );

    // The workload packages with the plugin's addon as its nested stack.
    let out = root.join("out");
    let output =
        ferry(root).args(["svc", "package", "-n", "api", "-e", "test", "--output-dir"]).arg(&out).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let addons = std::fs::read_to_string(out.join("api.addons.stack.json")).unwrap();
    assert!(addons.contains("\"jobsQueue\"") && addons.contains("\"eventsAccessPolicy\""), "{addons}");
}
