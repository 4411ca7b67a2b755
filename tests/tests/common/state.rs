//! The chat example's real state on the emulator, checked against what a
//! run reported: used by the fault, kill and concurrency harnesses.

use super::{json_events, run_on_moto};
use ferry_test_support::Moto;
use std::path::Path;

/// The example's whole deploy, with prebuilt images.
pub const DEPLOY: &[&str] = &["deploy", "-e", "test", "--tag", "v1", "--no-build", "--json"];
/// Everything of the app, gone.
pub const DELETE: &[&str] = &["app", "delete", "--yes"];

/// The mutating-call count of a `--json` event stream.
pub fn mutating(stream: &str) -> u64 {
    json_events(stream).iter().rev().find(|e| e["event"] == "api_calls").and_then(|e| e["mutating"].as_u64()).unwrap()
}

/// Every stack complete, every Copilot record there, and nothing left to
/// change: a fault-free redeploy makes 0 mutating calls.
pub async fn check_deployed(moto: &Moto, dir: &Path, what: &str) {
    let aws = ferry_aws::AwsContext::load(None).await;
    let cfn = aws.cloudformation();
    for stack in ["chat-test", "chat-test-frontend", "chat-test-api", "chat-test-report"] {
        let described = cfn.describe_stacks().stack_name(stack).send().await;
        let status = described
            .ok()
            .and_then(|d| d.stacks().first().and_then(|s| s.stack_status().map(|s| s.as_str().to_string())));
        assert!(
            matches!(status.as_deref(), Some("CREATE_COMPLETE" | "UPDATE_COMPLETE")),
            "after {what}: {stack} is {status:?}"
        );
    }
    let ssm = aws.ssm();
    for record in [
        "/copilot/applications/chat",
        "/copilot/applications/chat/environments/test",
        "/copilot/applications/chat/components/frontend",
        "/copilot/applications/chat/components/api",
        "/copilot/applications/chat/components/report",
    ] {
        assert!(ssm.get_parameter().name(record).send().await.is_ok(), "after {what}: no record {record}");
    }
    let again = run_on_moto(moto, dir, DEPLOY);
    assert_eq!(mutating(&again), 0, "after {what}, a fault-free redeploy still had changes to make:\n{again}");
}

/// No stack of the app and no record of it.
pub async fn check_deleted(what: &str) {
    let aws = ferry_aws::AwsContext::load(None).await;
    let stacks = aws.cloudformation().list_stacks().send().await.expect("ListStacks");
    let left: Vec<_> = stacks
        .stack_summaries()
        .iter()
        .filter(|s| s.stack_status().is_some_and(|st| st.as_str() != "DELETE_COMPLETE"))
        .filter_map(|s| s.stack_name())
        .filter(|n| n.starts_with("chat-"))
        .collect();
    assert!(left.is_empty(), "after {what}: stacks left {left:?}");
    let records = aws
        .ssm()
        .get_parameters_by_path()
        .path("/copilot/applications/chat")
        .recursive(true)
        .send()
        .await
        .expect("GetParametersByPath");
    assert!(records.parameters().is_empty(), "after {what}: records left {:?}", records.parameters());
    let app = aws.ssm().get_parameter().name("/copilot/applications/chat").send().await;
    assert!(app.is_err(), "after {what}: the app record is left");
}

/// Waits until the emulator's stacks stop changing: moto runs a stack
/// operation inside its request, so one still in flight when a run was
/// killed (or when the SDK gave up on a slow answer) goes on after it. Real
/// CloudFormation would show that stack IN_PROGRESS and a rerun would say
/// it is busy; the harnesses wait it out, as a user would, before the rerun.
pub async fn settle() {
    let cfn = ferry_aws::AwsContext::load(None).await.cloudformation();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let mut previous: Option<Vec<(String, String)>> = None;
    while std::time::Instant::now() < deadline {
        let mut now = Vec::new();
        if let Ok(listed) = cfn.list_stacks().send().await {
            for s in listed.stack_summaries() {
                let status = s.stack_status().map(|st| st.as_str().to_string()).unwrap_or_default();
                now.push((s.stack_id().unwrap_or_default().to_string(), status));
            }
        }
        now.sort();
        let busy = now.iter().any(|(_, st)| !ferry_aws::cfn::settled(st) && st != "REVIEW_IN_PROGRESS");
        if !busy && previous.as_ref() == Some(&now) {
            return;
        }
        previous = Some(now);
        tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    }
}
