//! Every bad manifest or flag gets a clear error: what, where
//! (`file:line:col`), why and a hint, exit code 1 (2 for usage), no panic.

use crate::common;

use common::{edit, example_copy, ferry, line_of};

/// Runs `svc package -n frontend -e test` in `dir`, expects failure, and
/// returns stderr after checking it is a clean error (no panic, no backtrace).
fn package_fails(dir: &std::path::Path, args: &[&str]) -> String {
    let output = ferry(dir).args(args).output().expect("run ferry");
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert_eq!(output.status.code(), Some(1), "expected exit 1, stderr:\n{stderr}");
    assert!(!stderr.contains("panicked"), "ferry panicked:\n{stderr}");
    assert!(stderr.starts_with("error"), "stderr should start with the error:\n{stderr}");
    stderr
}

const FRONTEND: &str = "copilot/frontend/manifest.yml";
const PACKAGE_FRONTEND: &[&str] = &["svc", "package", "-n", "frontend", "-e", "test"];

#[test]
fn yaml_syntax_error() {
    let ws = example_copy("chat");
    edit(ws.path(), FRONTEND, "  path: '/'\n", "  path: '/'\n bad: [\n");
    let stderr = package_fails(ws.path(), PACKAGE_FRONTEND);
    assert!(stderr.contains("invalid YAML"), "{stderr}");
    assert!(stderr.contains(&format!("{FRONTEND}:")), "{stderr}");
    assert!(stderr.contains("hint:"), "{stderr}");
    insta::assert_snapshot!(stderr);
}

#[test]
fn unknown_field_suggests_the_right_one() {
    let ws = example_copy("chat");
    edit(ws.path(), FRONTEND, "  healthcheck:\n", "  helthcheck:\n");
    let line = line_of(ws.path(), FRONTEND, "helthcheck");
    let stderr = package_fails(ws.path(), PACKAGE_FRONTEND);
    assert!(stderr.contains("unknown field `helthcheck`"), "{stderr}");
    assert!(stderr.contains(&format!("{FRONTEND}:{line}:3")), "{stderr}");
    assert!(stderr.contains("did you mean `healthcheck`?"), "{stderr}");
    insta::assert_snapshot!(stderr);
}

#[test]
fn wrong_type() {
    let ws = example_copy("chat");
    edit(ws.path(), FRONTEND, "cpu: 256", "cpu: lots");
    let line = line_of(ws.path(), FRONTEND, "cpu: lots");
    let stderr = package_fails(ws.path(), PACKAGE_FRONTEND);
    assert!(stderr.contains(&format!("{FRONTEND}:{line}:1")), "{stderr}");
    assert!(stderr.contains("lots"), "{stderr}");
    insta::assert_snapshot!(stderr);
}

#[test]
fn unset_variable_in_an_override() {
    let ws = example_copy("chat");
    edit(ws.path(), FRONTEND, "      LOG_LEVEL: warn", "      LOG_LEVEL: ${FERRY_TEST_UNSET_LEVEL}");
    let line = line_of(ws.path(), FRONTEND, "FERRY_TEST_UNSET_LEVEL");
    // Only prod uses the override, so test still renders.
    ferry(ws.path()).args(PACKAGE_FRONTEND).env_remove("FERRY_TEST_UNSET_LEVEL").assert().success();
    let output = ferry(ws.path())
        .args(["svc", "package", "-n", "frontend", "-e", "prod"])
        .env_remove("FERRY_TEST_UNSET_LEVEL")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("environment variable `FERRY_TEST_UNSET_LEVEL` is not set"), "{stderr}");
    assert!(stderr.contains(&format!("{FRONTEND}:{line}:7")), "{stderr}");
    insta::assert_snapshot!(stderr);
    // Set, it renders.
    ferry(ws.path())
        .args(["svc", "package", "-n", "frontend", "-e", "prod"])
        .env("FERRY_TEST_UNSET_LEVEL", "debug")
        .assert()
        .success();
}

#[test]
fn unknown_manifest_type() {
    let ws = example_copy("chat");
    edit(ws.path(), FRONTEND, "type: Load Balanced Web Service", "type: Load Balanced Web Servce");
    let stderr = package_fails(ws.path(), PACKAGE_FRONTEND);
    assert!(stderr.contains("unknown manifest type `Load Balanced Web Servce`"), "{stderr}");
    let line = line_of(ws.path(), FRONTEND, "type:");
    assert!(stderr.contains(&format!("{FRONTEND}:{line}:1")), "{stderr}");
    assert!(stderr.contains("did you mean `Load Balanced Web Service`?"), "{stderr}");
    insta::assert_snapshot!(stderr);
}

#[test]
fn missing_workspace() {
    let dir = tempfile::tempdir().unwrap();
    let stderr = package_fails(dir.path(), PACKAGE_FRONTEND);
    assert!(stderr.contains("no Copilot workspace found"), "{stderr}");
    assert!(stderr.contains("hint: cd into your project, or create one with `ferry app init <app>`"), "{stderr}");
}

#[test]
fn unknown_environment() {
    let ws = example_copy("chat");
    let stderr = package_fails(ws.path(), &["svc", "package", "-n", "frontend", "-e", "tset"]);
    assert!(stderr.contains("no environment named `tset`"), "{stderr}");
    assert!(stderr.contains("did you mean `test`?"), "{stderr}");
    insta::assert_snapshot!(stderr);
}

#[test]
fn unknown_service() {
    let ws = example_copy("chat");
    let stderr = package_fails(ws.path(), &["svc", "package", "-n", "backend", "-e", "test"]);
    assert!(stderr.contains("no service or job named `backend`"), "{stderr}");
    assert!(stderr.contains("known: api, frontend"), "{stderr}");
}

#[test]
fn bad_patch_points_at_the_patch() {
    let ws = example_copy("chat");
    edit(ws.path(), "copilot/frontend/overrides/cfn.patches.yml", "/Resources/LogGroup/", "/Resources/NoSuchThing/");
    let stderr = package_fails(ws.path(), PACKAGE_FRONTEND);
    assert!(stderr.contains("copilot/frontend/overrides/cfn.patches.yml:2:3"), "{stderr}");
    assert!(stderr.contains("/Resources/NoSuchThing"), "{stderr}");
}

#[test]
fn usage_errors_exit_2() {
    let ws = example_copy("chat");
    let output = ferry(ws.path()).args(["svc", "package", "-e", "test"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--name"), "{stderr}");
}

/// A command that needs AWS, run without a region: the error says the region
/// is missing (not that credentials are) and how to set it; nothing is sent.
#[test]
fn a_missing_region_is_named_with_how_to_set_it() {
    let ws = example_copy("chat");
    let home = tempfile::tempdir().unwrap();
    let output = ferry(ws.path())
        .args(["app", "ls"])
        .env("HOME", home.path())
        .env("AWS_CONFIG_FILE", home.path().join("none"))
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .env_remove("AWS_PROFILE")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.starts_with("error: ferry needs an AWS region"), "{stderr}");
    assert!(stderr.contains("hint: set AWS_REGION"), "{stderr}");
    assert!(!stderr.contains("credentials"), "{stderr}");
}

/// `secret init --cli-input-yaml` with a bad file: the error says where, and
/// neither the value nor the line holding it is ever printed (issue 17).
#[test]
fn secret_values_never_appear_in_errors() {
    let ws = example_copy("chat");
    let dir = ws.path();
    for (text, needle, expect) in [
        ("db_password:\n  test: 8675309123\n", "8675309123", "is a number, not a string"),
        ("db_password:\n  test: ok\n  prod: \"unterminated 5ecretvalue\n", "5ecretvalue", "invalid YAML"),
        ("db_password:\n  test: [hunter2x]\n", "hunter2x", "is a list, not a string"),
    ] {
        std::fs::write(dir.join("secrets.yml"), text).unwrap();
        let stderr = package_fails(dir, &["secret", "init", "--cli-input-yaml", "secrets.yml"]);
        assert!(stderr.contains(expect), "{stderr}");
        assert!(stderr.contains("secrets.yml:"), "the error is located: {stderr}");
        assert!(!stderr.contains(needle), "the secret leaked into the error:\n{stderr}");
    }
}

/// Quadratic alias expansion: a small manifest that would expand to a
/// million nodes is refused quickly, with the limit named (not "syntax").
#[test]
fn alias_expansion_past_the_node_limit_is_refused() {
    let ws = example_copy("chat");
    let items: String = (0..1000).map(|i| format!("  - v{i}\n")).collect();
    let aliases: String = (0..1000).map(|i| format!("  k{i}: *a\n")).collect();
    let path = ws.path().join(FRONTEND);
    let original = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("{original}\nx-base: &a\n{items}x-copies:\n{aliases}")).unwrap();
    assert!(std::fs::metadata(&path).unwrap().len() < 40_000);
    let started = std::time::Instant::now();
    let stderr = package_fails(ws.path(), PACKAGE_FRONTEND);
    assert!(started.elapsed() < std::time::Duration::from_secs(20), "{:?}", started.elapsed());
    assert!(stderr.contains("expands to more than 100000 nodes through its aliases"), "{stderr}");
    assert!(stderr.contains(&format!("{FRONTEND}:")), "{stderr}");
    assert!(!stderr.contains("check the YAML syntax"), "{stderr}");
}
