//! The deployer and metadata store against moto's server on loopback: the
//! real SDK clients over real HTTP.

use ferry_aws::AwsContext;
use ferry_aws::cfn::{Cfn, CloudFormationApi};
use ferry_aws::deploy::{DeployOptions, DeployOutcome, Deployable, Deployer};
use ferry_aws::metadata::{AppRecord, EnvRecord, MetadataStore, Ssm, WorkloadRecord};
use ferry_test_support::Moto;
use indexmap::IndexMap;
use std::time::Duration;

async fn context(moto: &Moto) -> AwsContext {
    moto.export_env();
    AwsContext::load(None).await
}

fn stack(topic_name: &str) -> Deployable {
    Deployable {
        name: "chat-test-api".into(),
        template: serde_json::json!({
            "AWSTemplateFormatVersion": "2010-09-09",
            "Parameters": {"AppName": {"Type": "String"}},
            "Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": topic_name}}},
            "Outputs": {"TopicArn": {"Value": {"Ref": "Topic"}}}
        }),
        parameters: IndexMap::from([("AppName".to_string(), "chat".to_string())]),
        tags: IndexMap::from([("copilot-application".to_string(), "chat".to_string())]),
        description: "ferry test".into(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn create_then_noop_then_update_then_delete() {
    let moto = Moto::start();
    let aws = context(&moto).await;
    let options = DeployOptions { poll: Duration::from_millis(50), timeout: Duration::from_secs(60), force: false };
    let deployer = Deployer::new(Cfn::new(aws.cloudformation()), options);

    let mut events = Vec::new();
    let outcome = deployer.deploy(&stack("messages"), &mut |e| events.push(e)).await.unwrap();
    assert_eq!(outcome, DeployOutcome::Created);
    let live = deployer.api().describe_stack("chat-test-api").await.unwrap().expect("stack exists");
    assert_eq!(live.status, "CREATE_COMPLETE");
    assert_eq!(live.tags["copilot-application"], "chat");

    // The same stack again: up to date, from read calls only.
    let outcome = deployer.deploy(&stack("messages"), &mut |_| {}).await.unwrap();
    assert_eq!(outcome, DeployOutcome::UpToDate);

    let outcome = deployer.deploy(&stack("messages-v2"), &mut |_| {}).await.unwrap();
    assert_eq!(outcome, DeployOutcome::Updated);

    deployer.api().delete_stack("chat-test-api").await.unwrap();
    assert!(deployer.api().describe_stack("chat-test-api").await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn records_written_in_copilot_layout_are_read_back() {
    let moto = Moto::start();
    let aws = context(&moto).await;
    // Written the way Copilot writes them, by raw SSM calls.
    let ssm = aws.ssm();
    for (name, value) in [
        ("/copilot/applications/chat", r#"{"name":"chat","account":"123456789012","domain":"","version":"v1.0.2"}"#),
        (
            "/copilot/applications/chat/environments/test",
            r#"{"app":"chat","name":"test","region":"us-west-2","accountID":"123456789012","registryURL":"","executionRoleARN":"arn:x","managerRoleARN":"arn:y"}"#,
        ),
        ("/copilot/applications/chat/components/api", r#"{"app":"chat","name":"api","type":"Backend Service"}"#),
    ] {
        ssm.put_parameter()
            .name(name)
            .value(value)
            .r#type(aws_sdk_ssm::types::ParameterType::String)
            .send()
            .await
            .unwrap();
    }
    let store = MetadataStore::new(Ssm::new(ssm));
    let apps = store.apps().await.unwrap();
    assert_eq!(apps.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(), ["chat"]);
    assert_eq!(store.envs("chat").await.unwrap()[0].manager_role_arn, "arn:y");
    assert_eq!(
        store.workloads("chat").await.unwrap(),
        [WorkloadRecord {
            app: "chat".into(),
            name: "api".into(),
            kind: "Backend Service".into(),
            ..Default::default()
        }]
    );

    // And what ferry writes, a raw read sees in Copilot's shape.
    store.put_app(&AppRecord { name: "shop".into(), version: "ferry".into(), ..Default::default() }).await.unwrap();
    store
        .put_env(&EnvRecord { app: "shop".into(), name: "prod".into(), account_id: "1".into(), ..Default::default() })
        .await
        .unwrap();
    let raw = aws.ssm().get_parameter().name("/copilot/applications/shop/environments/prod").send().await.unwrap();
    let json: serde_json::Value = serde_json::from_str(raw.parameter().unwrap().value().unwrap()).unwrap();
    assert_eq!(json["accountID"], "1");
    assert_eq!(json["app"], "shop");
    store.delete_env("shop", "prod").await.unwrap();
    assert!(store.envs("shop").await.unwrap().is_empty());
}
