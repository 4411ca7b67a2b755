//! The whole lifecycle of examples/chat against moto's server on loopback,
//! through the real `ferry` binary and the real AWS SDK: app init → env
//! deploy → secret init → svc deploy → job deploy → read commands (`--json` asserted) →
//! a no-op redeploy that makes no mutating call → deletes that leave no
//! stack and no `/copilot/` parameter behind.

use crate::common;

use common::{edit, example_copy, ferry};
use common::{json_events as events, run_on_moto as run};
use ferry_test_support::Moto;
use serde_json::Value;
use std::path::Path;

fn run_json(moto: &Moto, dir: &Path, args: &[&str]) -> Value {
    let out = run(moto, dir, args);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("ferry {} printed no JSON ({e}):\n{out}", args.join(" ")))
}

fn api_calls(stream: &str) -> Value {
    events(stream).into_iter().rev().find(|e| e["event"] == "api_calls").expect("an api_calls summary event")
}

async fn aws(moto: &Moto) -> ferry_aws::AwsContext {
    moto.export_env();
    ferry_aws::AwsContext::load(None).await
}

async fn live_stacks(aws: &ferry_aws::AwsContext) -> Vec<String> {
    let out = aws.cloudformation().list_stacks().send().await.expect("ListStacks");
    out.stack_summaries()
        .iter()
        .filter(|s| s.stack_status().is_some_and(|st| st.as_str() != "DELETE_COMPLETE"))
        .map(|s| s.stack_name().unwrap_or_default().to_string())
        .collect()
}

async fn copilot_parameters(aws: &ferry_aws::AwsContext) -> Vec<String> {
    let out =
        aws.ssm().get_parameters_by_path().path("/copilot").recursive(true).send().await.expect("GetParametersByPath");
    out.parameters().iter().filter_map(|p| p.name().map(str::to_string)).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn chat_lifecycle_on_moto() {
    let moto = Moto::start();
    let aws = aws(&moto).await;
    let ws = example_copy("chat");
    let dir = ws.path();

    run(&moto, dir, &["app", "init"]);
    let app = run_json(&moto, dir, &["app", "show", "--json"]);
    assert_eq!(app["application"]["name"], "chat");
    assert_eq!(app["application"]["account"], "123456789012");

    // prod's HTTPS listener needs its certificate to exist: issue one in the
    // emulator's ACM and point the manifest at it.
    let answer = moto
        .call_json("CertificateManager.RequestCertificate", r#"{"DomainName":"chat.example.com"}"#)
        .expect("ACM answered");
    let certificate: Value = serde_json::from_str(&answer).expect("ACM JSON");
    let arn = certificate["CertificateArn"].as_str().expect("a certificate ARN");
    edit(
        dir,
        "copilot/environments/prod/manifest.yml",
        "arn:aws:acm:us-west-2:123456789012:certificate/6f3f4a1e-0c6b-4a53-9a1b-2f7f7f0e2a10",
        arn,
    );
    for env in ["test", "prod"] {
        run(&moto, dir, &["env", "deploy", "-n", env]);
    }
    let envs = run_json(&moto, dir, &["env", "ls", "--json"]);
    let names: Vec<&str> =
        envs["environments"].as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["prod", "test"]);
    assert_eq!(envs["environments"][1]["registryURL"], "123456789012.dkr.ecr.us-west-2.amazonaws.com");
    let shown = run_json(&moto, dir, &["env", "show", "-n", "test", "--json"]);
    assert_eq!(shown["stack_status"], "CREATE_COMPLETE");
    assert!(shown["outputs"]["VpcId"].as_str().is_some_and(|v| v.starts_with("vpc-")), "{shown}");

    // The secret the api manifest references, from stdin, never echoed.
    let mut secret = ferry(dir);
    secret.envs(moto.env()).env("CI", "true").args(["secret", "init", "-n", "DB_PASSWORD", "-e", "test", "-e", "prod"]);
    let output = secret.write_stdin("s3cret-value\n").output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let printed = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(!printed.contains("s3cret-value"), "the value was echoed: {printed}");
    let stored = aws
        .ssm()
        .get_parameter()
        .name("/copilot/chat/test/secrets/DB_PASSWORD")
        .with_decryption(true)
        .send()
        .await
        .unwrap();
    assert_eq!(stored.parameter().unwrap().value(), Some("s3cret-value"));
    assert_eq!(stored.parameter().unwrap().r#type().map(|t| t.as_str()), Some("SecureString"));

    for svc in ["frontend", "api"] {
        let stream =
            run(&moto, dir, &["svc", "deploy", "-n", svc, "-e", "test", "--tag", "v1", "--no-build", "--json"]);
        let finished = events(&stream).into_iter().find(|e| e["event"] == "stack_finished").expect("finished");
        assert_eq!(finished["outcome"], "created", "{stream}");
    }

    let stream = run(&moto, dir, &["job", "deploy", "-n", "report", "-e", "test", "--json"]);
    assert!(stream.contains(r#""outcome":"created""#), "{stream}");
    let jobs = run_json(&moto, dir, &["job", "ls", "--json"]);
    assert_eq!(jobs["jobs"], serde_json::json!([{"app": "chat", "name": "report", "type": "Scheduled Job"}]));
    let job = run_json(&moto, dir, &["job", "show", "-n", "report", "--json"]);
    assert_eq!(job["deployments"][0]["parameters"]["Schedule"], "cron(0 0 * * ? *)", "{job}");

    let services = run_json(&moto, dir, &["svc", "ls", "--json"]);
    let listed: Vec<&str> =
        services["services"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(listed, ["api", "frontend"]);
    let show = run_json(&moto, dir, &["svc", "show", "-n", "frontend", "--json"]);
    assert_eq!(show["type"], "Load Balanced Web Service");
    assert_eq!(show["deployments"][0]["environment"], "test");
    assert_eq!(
        show["deployments"][0]["parameters"]["ContainerImage"],
        "123456789012.dkr.ecr.us-west-2.amazonaws.com/chat/frontend:v1"
    );
    assert!(show["deployments"][0]["url"].as_str().is_some_and(|u| u.starts_with("http://")), "{show}");
    let status = run_json(&moto, dir, &["svc", "status", "-n", "frontend", "-e", "test", "--json"]);
    assert_eq!(status["stack"], "chat-test-frontend");
    assert_eq!(status["stack_status"], "CREATE_COMPLETE");
    assert_eq!(status["service"]["desired"], 1, "{status}");

    // Everything again, unchanged: up to date without a single mutating call.
    let stream = run(&moto, dir, &["deploy", "-e", "test", "--tag", "v1", "--no-build", "--json"]);
    let calls = api_calls(&stream);
    assert_eq!(calls["mutating"], 0, "a no-op redeploy mutated: {calls}");
    let outcomes: Vec<Value> = events(&stream).into_iter().filter(|e| e["event"] == "stack_finished").collect();
    assert_eq!(outcomes.len(), 4, "environment, two services and the job: {stream}");
    assert!(outcomes.iter().all(|e| e["outcome"] == "up to date"), "{stream}");

    // --force on unchanged stacks is no error: the stacks stay as they are
    // and each service starts a new ECS deployment of the same image, as
    // Copilot's --force does (the scheduled job has no service to restart).
    let stream = run(&moto, dir, &["deploy", "-e", "test", "--tag", "v1", "--no-build", "--force", "--json"]);
    let outcomes: Vec<Value> = events(&stream).into_iter().filter(|e| e["event"] == "stack_finished").collect();
    assert_eq!(outcomes.len(), 4, "{stream}");
    assert!(outcomes.iter().all(|e| e["outcome"] == "up to date"), "{stream}");
    let calls = api_calls(&stream);
    assert_eq!(calls["by_operation"]["ECS:UpdateService"], 2, "one forced deployment per service: {calls}");
    assert_eq!(calls["by_operation"]["CloudFormation:ExecuteChangeSet"], Value::Null, "no stack changed: {calls}");
    let forced: Vec<Value> = events(&stream).into_iter().filter(|e| e["event"] == "deployment_forced").collect();
    assert!(forced.iter().all(|e| e["service"].as_str().is_some_and(|s| s.starts_with("arn:aws:ecs:"))), "{stream}");
    let mut forced: Vec<&str> = forced.iter().filter_map(|e| e["stack"].as_str()).collect();
    forced.sort();
    assert_eq!(forced, ["chat-test-api", "chat-test-frontend"], "{stream}");

    // A real change is deployed as an update.
    let stream =
        run(&moto, dir, &["svc", "deploy", "-n", "frontend", "-e", "test", "--tag", "v2", "--no-build", "--json"]);
    assert!(stream.contains(r#""outcome":"updated""#), "{stream}");

    for svc in ["frontend", "api"] {
        run(&moto, dir, &["svc", "delete", "-n", svc, "--yes"]);
    }
    run(&moto, dir, &["job", "delete", "-n", "report", "--yes"]);
    for env in ["test", "prod"] {
        run(&moto, dir, &["env", "delete", "-n", env, "--yes"]);
    }
    run(&moto, dir, &["app", "delete", "--yes"]);
    assert_eq!(live_stacks(&aws).await, Vec::<String>::new());
    assert_eq!(copilot_parameters(&aws).await, Vec::<String>::new());
}

/// An app whose records Copilot wrote (written here in Copilot's layout)
/// is listed by ferry, and what ferry writes reads back the same way.
#[tokio::test(flavor = "multi_thread")]
async fn reads_records_in_copilot_layout() {
    let moto = Moto::start();
    let aws = aws(&moto).await;
    let ssm = aws.ssm();
    let put = |name: &'static str, value: &'static str| {
        let ssm = ssm.clone();
        async move {
            ssm.put_parameter()
                .name(name)
                .value(value)
                .r#type(aws_sdk_ssm::types::ParameterType::String)
                .send()
                .await
                .unwrap();
        }
    };
    put("/copilot/applications/legacy", r#"{"name":"legacy","account":"123456789012","domain":"","version":"v1.2.0"}"#)
        .await;
    put(
        "/copilot/applications/legacy/environments/staging",
        r#"{"app":"legacy","name":"staging","region":"us-west-2","accountID":"123456789012","prod":false,"registryURL":"123456789012.dkr.ecr.us-west-2.amazonaws.com","executionRoleARN":"arn:aws:iam::123456789012:role/legacy-staging-CFNExecutionRole","managerRoleARN":"arn:aws:iam::123456789012:role/legacy-staging-EnvManagerRole","customConfig":{}}"#,
    )
    .await;
    put(
        "/copilot/applications/legacy/components/web",
        r#"{"app":"legacy","name":"web","type":"Load Balanced Web Service"}"#,
    )
    .await;
    put("/copilot/applications/legacy/components/report", r#"{"app":"legacy","name":"report","type":"Scheduled Job"}"#)
        .await;

    let dir = tempfile::tempdir().unwrap();
    let apps = run_json(&moto, dir.path(), &["app", "ls", "--json"]);
    assert_eq!(apps["applications"][0]["name"], "legacy");
    let services = run_json(&moto, dir.path(), &["svc", "ls", "-a", "legacy", "--json"]);
    assert_eq!(
        services["services"],
        serde_json::json!([{"app": "legacy", "name": "web", "type": "Load Balanced Web Service"}])
    );
    let jobs = run_json(&moto, dir.path(), &["job", "ls", "-a", "legacy", "--json"]);
    assert_eq!(jobs["jobs"][0]["name"], "report");
    let envs = run_json(&moto, dir.path(), &["env", "ls", "-a", "legacy", "--json"]);
    assert_eq!(
        envs["environments"][0]["managerRoleARN"],
        "arn:aws:iam::123456789012:role/legacy-staging-EnvManagerRole"
    );
}

/// With the endpoint down, a command says which call could not reach AWS
/// and what to check, and exits non-zero.
#[test]
fn emulator_down_is_a_clear_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let output = ferry(dir.path())
        .env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{port}"))
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-west-2")
        .env("AWS_MAX_ATTEMPTS", "1")
        .env("CI", "true")
        .args(["app", "ls"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("ssm:GetParametersByPath cannot reach AWS"), "{stderr}");
    assert!(stderr.contains("hint: check the network, the region (AWS_REGION), and AWS_ENDPOINT_URL"), "{stderr}");
}
