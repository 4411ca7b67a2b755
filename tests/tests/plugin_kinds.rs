//! A manifest is rendered only by a plugin of the kind it needs: a service
//! or job whose `type:` names a pipeline source or an environment, or an
//! environment whose `type:` names a service, is refused at its `type:`
//! line with the types that would fit, before any plugin renders it.

use crate::common;

use common::{edit, example_copy, ferry, line_of};
use std::path::Path;

const FRONTEND: &str = "copilot/frontend/manifest.yml";
const TEST_ENV: &str = "copilot/environments/test/manifest.yml";

/// Runs ferry in `dir`, expects a clean exit 1, and returns stderr.
fn fails(dir: &Path, args: &[&str]) -> String {
    let output = ferry(dir).args(args).output().expect("run ferry");
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert_eq!(output.status.code(), Some(1), "expected exit 1, stderr:\n{stderr}");
    assert!(!stderr.contains("panicked"), "ferry panicked:\n{stderr}");
    assert!(stderr.contains("error: "), "stderr should have the error:\n{stderr}");
    stderr
}

#[test]
fn a_service_typed_as_a_pipeline_source_is_refused_at_its_type_line() {
    let ws = example_copy("chat");
    edit(ws.path(), FRONTEND, "type: Load Balanced Web Service", "type: GitHub");
    let line = line_of(ws.path(), FRONTEND, "type:");
    let stderr = fails(ws.path(), &["svc", "package", "-n", "frontend", "-e", "test"]);
    assert!(stderr.contains("`GitHub` is a pipeline-provider type, not a service or job type"), "{stderr}");
    assert!(stderr.contains(&format!("{FRONTEND}:{line}:1")), "{stderr}");
    assert!(stderr.contains("(/type)"), "the manifest path is named: {stderr}");
    // The hint lists what a service or job may be, and nothing else.
    let hint = stderr.lines().find(|l| l.contains("hint:")).unwrap_or_else(|| panic!("a hint: {stderr}"));
    assert!(hint.contains("service or job types:"), "{hint}");
    for workload in ["Backend Service", "Load Balanced Web Service", "Scheduled Job", "Worker Service"] {
        assert!(hint.contains(workload), "{workload} missing from {hint}");
    }
    for other in ["GitHub", "Bitbucket", "CodeCommit", "Environment"] {
        assert!(!hint.contains(other), "{other} is no workload type: {hint}");
    }
}

#[test]
fn a_service_typed_as_an_environment_is_refused_in_every_command_that_renders_it() {
    let ws = example_copy("chat");
    edit(ws.path(), FRONTEND, "type: Load Balanced Web Service", "type: Environment");
    let line = line_of(ws.path(), FRONTEND, "type:");
    let out = ws.path().join("out");
    let out = out.to_str().unwrap();
    for args in
        [&["svc", "package", "-n", "frontend", "-e", "test"][..], &["package", "-e", "test", "--output-dir", out][..]]
    {
        let stderr = fails(ws.path(), args);
        assert!(stderr.contains("`Environment` is an environment type, not a service or job type"), "{stderr}");
        assert!(stderr.contains(&format!("{FRONTEND}:{line}:1")), "{args:?}: {stderr}");
        assert!(stderr.contains("service or job types:"), "{stderr}");
    }
    // The other workloads of the workspace still render.
    assert!(Path::new(out).join("api-test.stack.json").is_file());
}

#[test]
fn an_environment_typed_as_a_service_is_refused_at_its_type_line() {
    let ws = example_copy("chat");
    edit(ws.path(), TEST_ENV, "type: Environment", "type: Backend Service");
    let line = line_of(ws.path(), TEST_ENV, "type:");
    let stderr = fails(ws.path(), &["env", "package", "-n", "test"]);
    assert!(stderr.contains("`Backend Service` is a service type, not an environment type"), "{stderr}");
    assert!(stderr.contains(&format!("{TEST_ENV}:{line}:1")), "{stderr}");
    assert!(stderr.contains("environment types: Environment"), "{stderr}");
}
