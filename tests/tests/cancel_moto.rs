//! Ctrl-C and SIGTERM during `ferry deploy`: queued workloads do not start,
//! what was in flight is undone or named, and the message says how to resume.

use crate::common;

use common::{example_copy, run_on_moto};
use ferry_test_support::Moto;
use std::io::{BufRead, BufReader};
use std::process::Stdio;

/// Starts `ferry deploy -e test` one workload at a time, sends `signal` as
/// soon as the first workload stack's change is requested, and returns
/// (success, the JSON events, stderr).
fn deploy_and_signal(moto: &Moto, dir: &std::path::Path, signal: &str) -> (bool, Vec<serde_json::Value>, String) {
    let mut child = common::ferry_on_moto_process(moto, dir)
        .args(["deploy", "-e", "test", "--tag", "v1", "--no-build", "--json", "--concurrency", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ferry");
    let pid = child.id().to_string();
    let stdout = child.stdout.take().expect("stdout");
    let mut events = Vec::new();
    let mut signalled = false;
    for line in BufReader::new(stdout).lines().map_while(Result::ok) {
        let Ok(event) = serde_json::from_str::<serde_json::Value>(&line) else { continue };
        let workload_change = event["event"] == "stack_execute_requested" && event["stack"] != "chat-test";
        events.push(event);
        if workload_change && !signalled {
            let sent = std::process::Command::new("kill").args([signal, &pid]).status().expect("kill");
            assert!(sent.success(), "kill {signal} {pid}");
            signalled = true;
        }
    }
    let output = child.wait_with_output().expect("wait");
    assert!(signalled, "no workload change was requested: {events:?}");
    (output.status.success(), events, String::from_utf8_lossy(&output.stderr).to_string())
}

async fn stack_exists(name: &str) -> bool {
    let cfn = ferry_aws::AwsContext::load(None).await.cloudformation();
    cfn.describe_stacks().stack_name(name).send().await.is_ok()
}

async fn check_interrupted_deploy(signal: &str) {
    let moto = Moto::start();
    let ws = example_copy("chat");
    let dir = ws.path();
    run_on_moto(&moto, dir, &["app", "init"]);
    moto.export_env();

    let (ok, events, stderr) = deploy_and_signal(&moto, dir, signal);
    assert!(!ok, "an interrupted deploy fails: {stderr}");
    let interrupted = events.iter().find(|e| e["event"] == "interrupted").unwrap_or_else(|| panic!("{events:?}"));
    let not_started: Vec<String> =
        interrupted["not_started"].as_array().unwrap().iter().map(|n| n.as_str().unwrap().to_string()).collect();
    assert!(!not_started.is_empty(), "with one slot, queued workloads remain at the signal: {interrupted}");
    for name in &not_started {
        let stack = format!("chat-test-{name}");
        assert!(
            !events.iter().any(|e| e["event"] == "stack_started" && e["stack"] == stack.as_str()),
            "{name} was queued at the signal and must not start: {events:?}"
        );
        assert!(!stack_exists(&stack).await, "no stack for {name}, which never started");
    }
    assert!(stderr.contains("not started (nothing changed): "), "{stderr}");
    assert!(stderr.contains("run `ferry deploy -e test` again to finish"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    // The lease was released on the way out, and a rerun converges.
    run_on_moto(&moto, dir, &["deploy", "-e", "test", "--tag", "v1", "--no-build"]);
    for name in ["frontend", "api", "report"] {
        assert!(stack_exists(&format!("chat-test-{name}")).await, "{name} deployed by the rerun");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_during_deploy_starts_no_queued_workload() {
    check_interrupted_deploy("-INT").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_during_deploy_is_handled_like_ctrl_c() {
    check_interrupted_deploy("-TERM").await;
}
