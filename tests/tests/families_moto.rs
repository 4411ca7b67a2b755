//! The shared ECS field families deploy on moto through the real binary:
//! two services talking over Service Connect, one mounting the environment's
//! managed EFS file system, both logging through FireLens, one with rollback
//! alarms. A second deploy of everything is up to date without a single
//! mutating call.

use crate::common;

use common::{json_events as events, run_on_moto as run};
use ferry_test_support::Moto;
use serde_json::Value;

const WORKSPACE: &[(&str, &str)] = &[
    ("copilot/.workspace", "application: fam\n"),
    (
        "copilot/environments/test/manifest.yml",
        "name: test\ntype: Environment\nnetwork:\n  vpc:\n    cidr: 10.3.0.0/16\n",
    ),
    (
        "copilot/web/manifest.yml",
        r#"name: web
type: Load Balanced Web Service
image:
  location: public.ecr.aws/nginx/nginx:stable
  port: 80
http:
  path: /
network:
  connect: true
logging:
  destination:
    Name: cloudwatch
    region: us-west-2
    log_group_name: /copilot/fam-web-firelens
    auto_create_group: "true"
deployment:
  rollback_alarms:
    cpu_utilization: 70
    memory_utilization: 80
"#,
    ),
    (
        "copilot/api/manifest.yml",
        r#"name: api
type: Backend Service
image:
  location: public.ecr.aws/nginx/nginx:stable
  port: 8080
network:
  connect:
    alias: api-sc
storage:
  volumes:
    data:
      efs: true
      path: /var/data
      read_only: false
logging:
  enableMetadata: false
  destination:
    Name: cloudwatch
    region: us-west-2
    log_group_name: /copilot/fam-api-firelens
deployment:
  rollback_alarms: [fam-test-api-errors]
"#,
    ),
];

#[tokio::test(flavor = "multi_thread")]
async fn service_connect_efs_firelens_and_rollback_alarms_deploy_and_redeploy_idle() {
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

    // The managed file system is the environment's (Copilot's `FileSystem`,
    // exported as `<app>-<env>-FilesystemID` when a workload lists
    // `efs: true`). Until the environment stack renders it, stand in for it.
    let exports = aws.cloudformation().list_exports().send().await.expect("ListExports");
    if !exports.exports().iter().any(|e| e.name() == Some("fam-test-FilesystemID")) {
        let template = serde_json::json!({
            "Resources": {"FileSystem": {"Type": "AWS::EFS::FileSystem", "Properties": {"Encrypted": true}}},
            "Outputs": {"ManagedFileSystemID": {
                "Value": {"Ref": "FileSystem"}, "Export": {"Name": "fam-test-FilesystemID"}
            }}
        });
        aws.cloudformation()
            .create_stack()
            .stack_name("fam-test-efs-stand-in")
            .template_body(template.to_string())
            .send()
            .await
            .expect("CreateStack");
    }

    for svc in ["api", "web"] {
        let stream = run(&moto, dir, &["svc", "deploy", "-n", svc, "-e", "test", "--json"]);
        let finished = events(&stream).into_iter().find(|e| e["event"] == "stack_finished").expect("finished");
        assert_eq!(finished["outcome"], "created", "{stream}");
    }

    // The deployed templates (moto's DescribeStackResources leaves alarms unnamed).
    for (stack, id, kind) in [
        ("fam-test-web", "CPURollbackAlarm", "AWS::CloudWatch::Alarm"),
        ("fam-test-web", "MemoryRollbackAlarm", "AWS::CloudWatch::Alarm"),
        ("fam-test-api", "AccessPoint", "AWS::EFS::AccessPoint"),
    ] {
        let out = aws.cloudformation().get_template().stack_name(stack).send().await.expect("GetTemplate");
        let template: Value = serde_json::from_str(out.template_body().unwrap_or("{}")).expect("JSON template");
        assert_eq!(template["Resources"][id]["Type"], kind, "{stack} lacks {id}");
    }
    let api = aws.cloudformation().describe_stacks().stack_name("fam-test-api").send().await.unwrap();
    let status = api.stacks()[0].stack_status().map(|s| s.as_str().to_string());
    assert_eq!(status.as_deref(), Some("CREATE_COMPLETE"));

    let stream = run(&moto, dir, &["deploy", "-e", "test", "--json"]);
    let calls = events(&stream).into_iter().rev().find(|e| e["event"] == "api_calls").expect("api_calls event");
    assert_eq!(calls["mutating"], 0, "a no-op redeploy mutated: {calls}\n{stream}");
    let outcomes: Vec<Value> = events(&stream).into_iter().filter(|e| e["event"] == "stack_finished").collect();
    assert_eq!(outcomes.len(), 3, "environment and two services: {stream}");
    assert!(outcomes.iter().all(|e| e["outcome"] == "up to date"), "{stream}");
}
