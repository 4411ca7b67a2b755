//! An Express Web Service (ECS Express Mode) deployed end to end on moto:
//! the stack creates an `AWS::ECS::ExpressGatewayService` (the emulator's
//! model in scripts/moto_server.py keeps it as an ECS service), a redeploy
//! of the same manifest makes no mutating call, `svc show` prints the
//! endpoint and `svc status` the ECS service behind it.

mod common;

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
