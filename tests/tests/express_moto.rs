//! An Express Web Service (ECS Express Mode) deployed end to end on moto:
//! the stack creates an `AWS::ECS::ExpressGatewayService` (the emulator's
//! model in scripts/moto_server.py keeps it as an ECS service), a redeploy
//! of the same manifest makes no mutating call, `svc show` prints the
//! endpoint and `svc status` the ECS service behind it.

use crate::common;

use common::{json_event as event, run_on_moto as run};
use ferry_test_support::Moto;
use serde_json::Value;
use std::path::Path;

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

const MANIFEST: &str = "\
name: web
type: Express Web Service
image:
  location: 123456789012.dkr.ecr.us-west-2.amazonaws.com/shop/web:1.0
  port: 8080
http:
  healthcheck: /health
count:
  range: 1-4
  cpu_percentage: 70
variables:
  LOG_LEVEL: info
publish:
  topics:
    - name: orders
";

#[tokio::test(flavor = "multi_thread")]
async fn express_service_deploys_redeploys_without_mutation_and_shows_its_endpoint() {
    let moto = Moto::start();
    let ws = tempfile::tempdir().unwrap();
    let dir = ws.path();
    write(dir, "copilot/.workspace", "application: shop\n");
    write(dir, "copilot/environments/test/manifest.yml", "name: test\ntype: Environment\n");
    write(dir, "copilot/web/manifest.yml", MANIFEST);
    run(&moto, dir, &["app", "init"]);
    run(&moto, dir, &["env", "deploy", "-n", "test"]);

    let first = run(&moto, dir, &["svc", "deploy", "-n", "web", "-e", "test", "--json"]);
    assert_eq!(event(&first, "stack_finished")["outcome"], "created", "{first}");

    let again = run(&moto, dir, &["svc", "deploy", "-n", "web", "-e", "test", "--json"]);
    assert_eq!(event(&again, "stack_finished")["outcome"], "up to date", "{again}");
    assert_eq!(event(&again, "api_calls")["mutating"], 0, "a no-op redeploy mutated: {again}");

    let show: Value = serde_json::from_str(&run(&moto, dir, &["svc", "show", "-n", "web", "--json"])).unwrap();
    assert_eq!(show["type"], "Express Web Service");
    let deployment = &show["deployments"][0];
    assert_eq!(deployment["status"], "CREATE_COMPLETE");
    assert_eq!(deployment["url"], "https://shop-test-web.ecs.us-west-2.on.aws", "{show}");
    assert!(deployment["outputs"]["ServiceArn"].as_str().is_some_and(|a| a.contains(":service/")), "{show}");
    let text = run(&moto, dir, &["svc", "show", "-n", "web"]);
    assert!(text.contains("https://shop-test-web.ecs.us-west-2.on.aws"), "{text}");

    let status: Value =
        serde_json::from_str(&run(&moto, dir, &["svc", "status", "-n", "web", "-e", "test", "--json"])).unwrap();
    assert_eq!(status["stack"], "shop-test-web");
    assert_eq!(status["service"]["status"], "ACTIVE", "{status}");
    assert_eq!(status["service"]["desired"], 1, "the range's minimum: {status}");

    // A real change (the image) updates the Express service in place.
    common::edit(dir, "copilot/web/manifest.yml", "web:1.0", "web:1.1");
    let changed = run(&moto, dir, &["svc", "deploy", "-n", "web", "-e", "test", "--json"]);
    assert_eq!(event(&changed, "stack_finished")["outcome"], "updated", "{changed}");

    run(&moto, dir, &["svc", "delete", "-n", "web", "--yes"]);
    let services: Value = serde_json::from_str(&run(&moto, dir, &["svc", "ls", "--json"])).unwrap();
    assert_eq!(services["services"], serde_json::json!([]));
}

async fn resource_types(moto: &Moto, stack: &str) -> Vec<String> {
    moto.export_env();
    let aws = ferry_aws::AwsContext::load(None).await;
    let out = aws.cloudformation().describe_stack_resources().stack_name(stack).send().await.expect("resources");
    let mut types: Vec<String> =
        out.stack_resources().iter().filter_map(|r| r.resource_type().map(str::to_string)).collect();
    types.sort();
    types
}

fn rdws(name: &str) -> String {
    format!(
        "name: {name}\ntype: Request-Driven Web Service\nimage:\n  location: 123456789012.dkr.ecr.us-west-2.amazonaws.com/shop/{name}:1.0\n  port: 8080\nhttp:\n  healthcheck:\n    path: /health\n    interval: 10s\nvariables:\n  LOG_LEVEL: info\n"
    )
}

/// `svc migrate --deploy`: one stack update runs the Express service beside
/// the App Runner one; once ECS runs its tasks the App Runner service goes —
/// asked first: without a terminal and without `--yes` it stays until the
/// next `svc deploy`.
#[tokio::test(flavor = "multi_thread")]
async fn migrate_deploys_beside_then_deletes_the_app_runner_service() {
    let moto = Moto::start();
    let ws = tempfile::tempdir().unwrap();
    let dir = ws.path();
    write(dir, "copilot/.workspace", "application: shop\n");
    write(dir, "copilot/environments/test/manifest.yml", "name: test\ntype: Environment\n");
    write(dir, "copilot/kept/manifest.yml", &rdws("kept"));
    write(dir, "copilot/moved/manifest.yml", &rdws("moved"));
    run(&moto, dir, &["app", "init"]);
    run(&moto, dir, &["env", "deploy", "-n", "test"]);
    for name in ["kept", "moved"] {
        run(&moto, dir, &["svc", "deploy", "-n", name, "-e", "test"]);
        assert!(resource_types(&moto, &format!("shop-test-{name}")).await.contains(&"AWS::AppRunner::Service".into()));
    }

    // Not confirmed: both run side by side.
    let out = common::ferry(dir)
        .envs(moto.env())
        .env("CI", "true")
        .args(["svc", "migrate", "-n", "kept", "--deploy", "test"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("1 of 1 tasks running"), "waited for the tasks: {stderr}");
    assert!(stderr.contains("keeps running beside the Express one"), "{stderr}");
    let types = resource_types(&moto, "shop-test-kept").await;
    assert!(
        types.contains(&"AWS::AppRunner::Service".into()) && types.contains(&"AWS::ECS::ExpressGatewayService".into()),
        "{types:?}"
    );
    assert!(dir.join("copilot/kept/manifest.rdws.yml").is_file());
    // The next deploy of the migrated manifest removes the App Runner service.
    run(&moto, dir, &["svc", "deploy", "-n", "kept", "-e", "test"]);
    let types = resource_types(&moto, "shop-test-kept").await;
    assert!(!types.iter().any(|t| t.starts_with("AWS::AppRunner::")), "{types:?}");

    // Confirmed with --yes: beside, healthy, then the App Runner service is deleted.
    let stream = run(&moto, dir, &["svc", "migrate", "-n", "moved", "--deploy", "test", "--yes", "--json"]);
    let finished: Vec<Value> =
        common::json_events(&stream).into_iter().filter(|e| e["event"] == "stack_finished").collect();
    assert_eq!(finished.len(), 2, "beside, then without App Runner: {stream}");
    assert!(finished.iter().all(|e| e["outcome"] == "updated"), "{stream}");
    let types = resource_types(&moto, "shop-test-moved").await;
    assert!(types.contains(&"AWS::ECS::ExpressGatewayService".into()), "{types:?}");
    assert!(!types.iter().any(|t| t.starts_with("AWS::AppRunner::")), "{types:?}");
    let show: Value = serde_json::from_str(&run(&moto, dir, &["svc", "show", "-n", "moved", "--json"])).unwrap();
    assert_eq!(show["type"], "Express Web Service");
    assert_eq!(show["deployments"][0]["url"], "https://shop-test-moved.ecs.us-west-2.on.aws", "{show}");
}
