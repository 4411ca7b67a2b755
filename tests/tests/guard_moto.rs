//! The replacement guard through the real binary on moto: an update that
//! would delete an SNS topic (its subscriptions go with it) is refused
//! naming the topic and changes nothing; `--diff` lists it before asking;
//! `--allow-replacement` lets it through.

use crate::common;

use common::{edit, fail_on_moto, json_events as events, run_on_moto as run};
use ferry_test_support::Moto;

const WORKSPACE: &[(&str, &str)] = &[
    ("copilot/.workspace", "application: grd\n"),
    ("copilot/environments/test/manifest.yml", "name: test\ntype: Environment\n"),
    (
        "copilot/orders/manifest.yml",
        "name: orders\ntype: Backend Service\nimage:\n  location: public.ecr.aws/nginx/nginx:stable\n  port: 80\npublish:\n  topics:\n    - name: events\n",
    ),
];

fn workspace() -> tempfile::TempDir {
    let ws = tempfile::tempdir().unwrap();
    for (path, text) in WORKSPACE {
        let file = ws.path().join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, text).unwrap();
    }
    ws
}

#[tokio::test(flavor = "multi_thread")]
async fn removing_a_topic_is_refused_until_allowed() {
    let moto = Moto::start();
    moto.export_env();
    let aws = ferry_aws::AwsContext::load(None).await;
    let ws = workspace();
    let dir = ws.path();
    run(&moto, dir, &["app", "init"]);
    run(&moto, dir, &["env", "deploy", "-n", "test"]);
    run(&moto, dir, &["svc", "deploy", "-n", "orders", "-e", "test"]);

    edit(dir, "copilot/orders/manifest.yml", "publish:\n  topics:\n    - name: events\n", "");
    let err = fail_on_moto(&moto, dir, &["svc", "deploy", "-n", "orders", "-e", "test"], "the topic would be deleted");
    assert!(err.contains("eventsSNSTopic (AWS::SNS::Topic) removed"), "{err}");
    assert!(err.contains("--allow-replacement eventsSNSTopic"), "{err}");
    assert!(!err.contains("eventsSNSTopicPolicy"), "a policy holds nothing: {err}");
    let template = aws.cloudformation().get_template().stack_name("grd-test-orders").send().await.unwrap();
    assert!(template.template_body().unwrap_or_default().contains("eventsSNSTopic"), "the stack was changed");

    // --diff lists the same change before asking (here: refused after).
    let stream = fail_on_moto(
        &moto,
        dir,
        &["svc", "deploy", "-n", "orders", "-e", "test", "--diff", "--yes"],
        "--diff --yes does not allow it",
    );
    assert!(stream.contains("refused unless --allow-replacement eventsSNSTopic"), "{stream}");

    let stream = run(
        &moto,
        dir,
        &["svc", "deploy", "-n", "orders", "-e", "test", "--allow-replacement", "eventsSNSTopic", "--json"],
    );
    let listed = events(&stream).into_iter().find(|e| e["event"] == "replacements").expect("a replacements event");
    assert_eq!(listed["changes"][0]["logical_id"], "eventsSNSTopic", "{stream}");
    assert_eq!(listed["changes"][0]["allowed"], true, "{stream}");
    assert!(stream.contains(r#""outcome":"updated""#), "{stream}");
}
