//! Storage from `ferry storage init` deploys on the emulator: S3, DynamoDB
//! and Aurora as workload addons go up with their workload as its addons
//! nested stack, unchanged, and a redeploy makes no mutating call. An
//! environment S3 bucket's addon deploys with `env deploy` as the
//! environment stack's `AddonsStack` (Copilot's environment addons), the
//! workload's access policy to it with the workload; redeploys of the
//! environment, and `deploy -e`, make no mutating call.

use crate::common;

use common::{json_events as events, run_on_moto as run};
use ferry_test_support::Moto;
use serde_json::Value;

const WORKSPACE: &[(&str, &str)] = &[
    ("copilot/.workspace", "application: sto\n"),
    ("copilot/environments/test/manifest.yml", "name: test\ntype: Environment\n"),
    (
        "copilot/api/manifest.yml",
        "name: api\ntype: Backend Service\nimage:\n  location: public.ecr.aws/nginx/nginx:stable\n  port: 80\n",
    ),
];

/// The resources of the workload stack's addons nested stack.
async fn addons_resources(aws: &ferry_aws::AwsContext, stack: &str) -> Vec<(String, String, String)> {
    let cfn = aws.cloudformation();
    let parent = cfn.describe_stack_resources().stack_name(stack).send().await.expect("DescribeStackResources");
    let nested = parent
        .stack_resources()
        .iter()
        .find(|r| r.logical_resource_id() == Some("AddonsStack"))
        .and_then(|r| r.physical_resource_id())
        .expect("the workload stack has an AddonsStack")
        .to_string();
    let out = cfn.describe_stack_resources().stack_name(nested).send().await.expect("nested resources");
    out.stack_resources()
        .iter()
        .map(|r| {
            (
                r.logical_resource_id().unwrap_or_default().to_string(),
                r.resource_type().unwrap_or_default().to_string(),
                r.physical_resource_id().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn storage_addons_deploy_with_their_workload_and_redeploy_idle() {
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

    run(&moto, dir, &["storage", "init", "-n", "my-bucket", "-t", "S3", "-w", "api", "-l", "workload"]);
    run(
        &moto,
        dir,
        &[
            "storage",
            "init",
            "-n",
            "my-table",
            "-t",
            "DynamoDB",
            "-w",
            "api",
            "-l",
            "workload",
            "--partition-key",
            "id:S",
            "--sort-key",
            "at:N",
            "--lsi",
            "status:S",
        ],
    );
    run(&moto, dir, &["storage", "init", "-n", "my-cluster", "-t", "Aurora", "-w", "api", "-l", "workload"]);
    run(&moto, dir, &["storage", "init", "-n", "shared", "-t", "S3", "-w", "api", "-l", "environment"]);

    // The environment bucket: `env deploy` nests copilot/environments/addons/
    // in the environment stack, as Copilot's environment template does.
    let stream = run(&moto, dir, &["env", "deploy", "-n", "test", "--json"]);
    let finished = events(&stream).into_iter().find(|e| e["event"] == "stack_finished").expect("finished");
    assert_eq!(finished["outcome"], "updated", "{stream}");
    let env_resources = addons_resources(&aws, "sto-test").await;
    let bucket = env_resources
        .iter()
        .find(|(id, kind, _)| id == "sharedBucket" && kind == "AWS::S3::Bucket")
        .map(|(_, _, physical)| physical.clone())
        .unwrap_or_else(|| panic!("the environment's addons stack lacks the bucket: {env_resources:?}"));
    aws.s3().head_bucket().bucket(&bucket).send().await.expect("the environment addon's bucket exists in S3");
    let nested = aws
        .cloudformation()
        .describe_stack_resources()
        .stack_name("sto-test")
        .send()
        .await
        .unwrap()
        .stack_resources()
        .iter()
        .find(|r| r.logical_resource_id() == Some("AddonsStack"))
        .and_then(|r| r.physical_resource_id())
        .map(str::to_string)
        .unwrap();
    let nested = aws.cloudformation().describe_stacks().stack_name(nested).send().await.unwrap();
    let parameters: Vec<(String, String)> = nested.stacks()[0]
        .parameters()
        .iter()
        .map(|p| (p.parameter_key().unwrap_or_default().into(), p.parameter_value().unwrap_or_default().into()))
        .collect();
    for (key, value) in [("App", "sto"), ("Env", "test")] {
        assert!(parameters.contains(&(key.into(), value.into())), "the env addons got {parameters:?}");
    }
    // A redeploy of the environment, its addons unchanged, changes nothing;
    // nor does the all-in-one `deploy -e` (which deploys the environment too).
    let stream = run(&moto, dir, &["env", "deploy", "-n", "test", "--json"]);
    let calls = events(&stream).into_iter().rev().find(|e| e["event"] == "api_calls").expect("api_calls event");
    assert_eq!(calls["mutating"], 0, "an environment redeploy with its addons unchanged mutated: {calls}\n{stream}");

    let stream = run(&moto, dir, &["svc", "deploy", "-n", "api", "-e", "test", "--json"]);
    let finished = events(&stream).into_iter().find(|e| e["event"] == "stack_finished").expect("finished");
    assert_eq!(finished["outcome"], "created", "{stream}");
    let resources = addons_resources(&aws, "sto-test-api").await;
    for (id, kind) in [
        ("mybucketBucket", "AWS::S3::Bucket"),
        ("mybucketAccessPolicy", "AWS::IAM::ManagedPolicy"),
        ("mytable", "AWS::DynamoDB::Table"),
        ("myclusterDBCluster", "AWS::RDS::DBCluster"),
        ("myclusterAuroraSecret", "AWS::SecretsManager::Secret"),
        ("sharedAccessPolicy", "AWS::IAM::ManagedPolicy"),
    ] {
        assert!(
            resources.iter().any(|(i, k, _)| i == id && k == kind),
            "the addons stack lacks {id} ({kind}): {resources:?}"
        );
    }
    // The table as the answers described it.
    let table = resources.iter().find(|(i, _, _)| i == "mytable").map(|(_, _, p)| p.as_str());
    assert_eq!(table, Some("sto-test-api-my-table"), "the table is named ${{App}}-${{Env}}-${{Name}}-<name>");

    let stream = run(&moto, dir, &["svc", "deploy", "-n", "api", "-e", "test", "--json"]);
    let calls = events(&stream).into_iter().rev().find(|e| e["event"] == "api_calls").expect("api_calls event");
    assert_eq!(calls["mutating"], 0, "a no-op redeploy mutated: {calls}\n{stream}");
    let outcome: Vec<Value> = events(&stream).into_iter().filter(|e| e["event"] == "stack_finished").collect();
    assert!(outcome.iter().all(|e| e["outcome"] == "up to date"), "{stream}");

    // The all-in-one deploy takes the environment (with its addons) too, and
    // finds it, like everything else, up to date.
    let stream = run(&moto, dir, &["deploy", "-e", "test", "--json"]);
    let finished: Vec<Value> = events(&stream).into_iter().filter(|e| e["event"] == "stack_finished").collect();
    assert!(finished.iter().any(|e| e["stack"] == "sto-test"), "deploy -e did not deploy the environment: {stream}");
    assert!(finished.iter().all(|e| e["outcome"] == "up to date"), "{stream}");
    let calls = events(&stream).into_iter().rev().find(|e| e["event"] == "api_calls").expect("api_calls event");
    assert_eq!(calls["mutating"], 0, "deploy -e with nothing changed mutated: {calls}\n{stream}");
}
