//! A blue/green Load Balanced Web Service on moto through the real binary:
//! it deploys with its alternate target group, weighted production rule,
//! test rule and infrastructure role, and a second deploy is up to date
//! without a single mutating call. (moto has no service-deployment API:
//! following the ECS deployment is a note here, tested in ferry-aws.)

use crate::common;

use common::{fail_on_moto, json_events as events, run_on_moto as run};
use ferry_test_support::Moto;
use serde_json::Value;

const WORKSPACE: &[(&str, &str)] = &[
    ("copilot/.workspace", "application: bg\n"),
    ("copilot/environments/test/manifest.yml", "name: test\ntype: Environment\n"),
    (
        "copilot/web/manifest.yml",
        r#"name: web
type: Load Balanced Web Service
image:
  location: public.ecr.aws/nginx/nginx:stable
  port: 80
http:
  path: /
deployment:
  strategy: blue_green
  bake_time: 5m
  test_traffic:
    header: X-Ferry-Test
  rollback_alarms:
    cpu_utilization: 80
"#,
    ),
];

#[tokio::test(flavor = "multi_thread")]
async fn a_blue_green_service_deploys_then_redeploys_without_mutating() {
    let moto = Moto::start();
    moto.export_env();
    let aws = ferry_aws::AwsContext::load(None).await;
    let ws = tempfile::tempdir().unwrap();
    let dir = ws.path();
    for (path, text) in WORKSPACE {
        let file = dir.join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, text).unwrap();
    }
    run(&moto, dir, &["app", "init"]);
    run(&moto, dir, &["env", "deploy", "-n", "test"]);
    let stream = run(&moto, dir, &["svc", "deploy", "-n", "web", "-e", "test", "--json"]);
    let finished = events(&stream).into_iter().find(|e| e["event"] == "stack_finished").expect("finished");
    assert_eq!(finished["outcome"], "created", "{stream}");
    let follow = events(&stream).into_iter().find(|e| e["event"] == "service_deployment_follow").expect("followed");
    assert_eq!(follow["strategy"], "BLUE_GREEN", "{stream}");

    let out = aws.cloudformation().get_template().stack_name("bg-test-web").send().await.expect("GetTemplate");
    let template: Value = serde_json::from_str(out.template_body().unwrap_or("{}")).expect("JSON template");
    let resources = &template["Resources"];
    for (id, kind) in [
        ("AlternateTargetGroup", "AWS::ElasticLoadBalancingV2::TargetGroup"),
        ("TestListenerRule", "AWS::ElasticLoadBalancingV2::ListenerRule"),
        ("InfrastructureRole", "AWS::IAM::Role"),
    ] {
        assert_eq!(resources[id]["Type"], kind, "{id}");
    }
    let service = &resources["Service"]["Properties"];
    assert_eq!(service["DeploymentConfiguration"]["Strategy"], "BLUE_GREEN");
    assert_eq!(service["DeploymentConfiguration"]["Alarms"]["Rollback"], true);
    assert!(service["LoadBalancers"][0]["AdvancedConfiguration"]["TestListenerRule"].is_object());

    let stream = run(&moto, dir, &["deploy", "-e", "test", "--json"]);
    let calls = events(&stream).into_iter().rev().find(|e| e["event"] == "api_calls").expect("api_calls event");
    assert_eq!(calls["mutating"], 0, "a no-op redeploy mutated: {calls}\n{stream}");
    let outcomes: Vec<Value> = events(&stream).into_iter().filter(|e| e["event"] == "stack_finished").collect();
    assert_eq!(outcomes.len(), 2, "environment and service: {stream}");
    assert!(outcomes.iter().all(|e| e["outcome"] == "up to date"), "{stream}");
    assert!(!stream.contains("service_deployment_follow"), "an unchanged stack starts no deployment to follow");

    // A service that is not deployed has nothing to roll back.
    let err = fail_on_moto(&moto, dir, &["svc", "rollback", "-n", "api", "-e", "test"], "api is not deployed");
    assert!(err.contains("`api` has no ECS service in environment `test`"), "{err}");
    assert!(err.contains("ferry svc deploy -n api -e test"), "{err}");
}
