//! A workload's log group outlives its stack (`DeletionPolicy: Retain`, as
//! Copilot's): after `app delete`, deploying the app again must not fail on
//! "already exists". ferry creates the stack from the retained log group
//! (an `IMPORT` change set) and updates it to the whole template, so the
//! logs written before the delete are still there. The full-size fault and
//! kill harnesses found this: every deploy after a delete failed.

use crate::common;

use common::state::{DELETE, DEPLOY, check_deleted, check_deployed};
use common::{example_copy, json_events, run_on_moto};
use ferry_test_support::Moto;

#[tokio::test(flavor = "multi_thread")]
async fn deploying_again_after_app_delete_keeps_each_retained_log_group_and_its_events() {
    let moto = Moto::start();
    moto.export_env();
    let ws = example_copy("chat");
    let dir = ws.path();
    run_on_moto(&moto, dir, &["app", "init"]);
    run_on_moto(&moto, dir, DEPLOY);
    let aws = ferry_aws::AwsContext::load(None).await;
    let logs = aws.logs();
    let group = "/copilot/chat-test-api";
    logs.create_log_stream().log_group_name(group).log_stream_name("before").send().await.expect("CreateLogStream");
    let event = aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
        .timestamp(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64)
        .message("written before the delete")
        .build()
        .expect("event");
    logs.put_log_events()
        .log_group_name(group)
        .log_stream_name("before")
        .log_events(event)
        .send()
        .await
        .expect("PutLogEvents");

    run_on_moto(&moto, dir, DELETE);
    check_deleted("app delete").await;
    let kept = logs.describe_log_groups().log_group_name_prefix(group).send().await.expect("DescribeLogGroups");
    assert_eq!(kept.log_groups().len(), 1, "the delete retained the log group");

    run_on_moto(&moto, dir, &["app", "init"]);
    let stream = run_on_moto(&moto, dir, DEPLOY);
    let finished: Vec<_> = json_events(&stream)
        .into_iter()
        .filter(|e| e["event"] == "stack_finished" && e["stack"] == "chat-test-api")
        .collect();
    assert_eq!(finished.last().map(|e| e["outcome"].clone()), Some("created".into()), "{stream}");
    check_deployed(&moto, dir, "the deploy after app delete").await;

    // The stack holds the very log group, events and all.
    let resources =
        aws.cloudformation().describe_stack_resources().stack_name("chat-test-api").send().await.expect("resources");
    let held = resources.stack_resources().iter().find(|r| r.logical_resource_id() == Some("LogGroup"));
    assert_eq!(held.and_then(|r| r.physical_resource_id()), Some(group), "{resources:?}");
    let events = logs.filter_log_events().log_group_name(group).send().await.expect("FilterLogEvents");
    let messages: Vec<_> = events.events().iter().filter_map(|e| e.message()).collect();
    assert_eq!(messages, ["written before the delete"]);
}
