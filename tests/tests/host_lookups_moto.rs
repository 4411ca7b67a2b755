//! What the host looks up in the account at deploy, on moto, through the
//! real `ferry` binary (docs/architecture.md "Lookups the host makes at
//! deploy").
//!
//! `http.alb`: an application load balancer created out of band (its own
//! CloudFormation stack, not ferry's) is imported by name by a Load
//! Balanced Web Service, and an internal one by ARN by a Backend Service.
//! The stacks attach rules to their HTTP listeners with Copilot's
//! `...ForImportedALB` logical IDs and priorities free on those listeners,
//! and a redeploy makes no mutating call. A load balancer that does not
//! exist stops the deploy before any stack.
//!
//! `network.vpc.placement.subnets.from_tags`: a subnet of the environment's
//! VPC tagged out of band becomes the service's only subnet.

use crate::common;

use common::{example_copy, fail_on_moto};
use common::{json_events as events, run_on_moto as run};
use ferry_test_support::Moto;
use serde_json::Value;
use std::collections::BTreeMap;

fn outcome(stream: &str) -> String {
    let finished = events(stream).into_iter().find(|e| e["event"] == "stack_finished").expect("a stack_finished event");
    finished["outcome"].as_str().unwrap_or_default().to_string()
}

fn mutating(stream: &str) -> Value {
    let calls = events(stream).into_iter().rev().find(|e| e["event"] == "api_calls").expect("an api_calls event");
    calls["mutating"].clone()
}

/// Load balancers shared by teams, in the environment's VPC: a public and
/// an internal one, each with its own security group and an HTTP listener
/// whose default answers 404. (Two workloads of one environment importing
/// the same load balancer would both add the same ingress rule to the
/// environment's security group, which EC2 refuses — as with Copilot.)
const SHARED_ALBS: &str = r#"{
  "Resources": {
    "SharedGroup": {"Type": "AWS::EC2::SecurityGroup", "Properties": {
      "GroupDescription": "shared load balancer",
      "VpcId": {"Fn::ImportValue": "chat-test-VpcId"}}},
    "SharedALB": {"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer", "Properties": {
      "Name": "shared-alb",
      "Subnets": {"Fn::Split": [",", {"Fn::ImportValue": "chat-test-PublicSubnets"}]},
      "SecurityGroups": [{"Ref": "SharedGroup"}]}},
    "SharedHTTP": {"Type": "AWS::ElasticLoadBalancingV2::Listener", "Properties": {
      "LoadBalancerArn": {"Ref": "SharedALB"}, "Port": 80, "Protocol": "HTTP",
      "DefaultActions": [{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}]}},
    "InternalGroup": {"Type": "AWS::EC2::SecurityGroup", "Properties": {
      "GroupDescription": "shared internal load balancer",
      "VpcId": {"Fn::ImportValue": "chat-test-VpcId"}}},
    "InternalALB": {"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer", "Properties": {
      "Name": "shared-internal",
      "Scheme": "internal",
      "Subnets": {"Fn::Split": [",", {"Fn::ImportValue": "chat-test-PrivateSubnets"}]},
      "SecurityGroups": [{"Ref": "InternalGroup"}]}},
    "InternalHTTP": {"Type": "AWS::ElasticLoadBalancingV2::Listener", "Properties": {
      "LoadBalancerArn": {"Ref": "InternalALB"}, "Port": 80, "Protocol": "HTTP",
      "DefaultActions": [{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}]}}
  }
}"#;

fn service(kind: &str, name: &str, path: &str, alb: &str) -> String {
    format!(
        "name: {name}\ntype: {kind}\nimage:\n  location: public.ecr.aws/nginx/nginx:1\n  port: 80\nhttp:\n  path: {path}\n  alb: {alb}\n"
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn services_attach_to_an_imported_alb_and_redeploy_without_mutating() {
    let moto = Moto::start();
    let ws = example_copy("chat");
    let dir = ws.path();
    run(&moto, dir, &["app", "init"]);
    run(&moto, dir, &["env", "deploy", "-n", "test"]);

    moto.export_env();
    let aws = ferry_aws::AwsContext::load(None).await;
    let cfn = aws.cloudformation();
    cfn.create_stack().stack_name("shared-albs").template_body(SHARED_ALBS).send().await.expect("CreateStack");
    let elbv2 = aws.elbv2();
    let lookup = |name: &'static str| {
        let elbv2 = elbv2.clone();
        async move {
            let lbs = elbv2.describe_load_balancers().names(name).send().await.expect("DescribeLoadBalancers");
            let arn = lbs.load_balancers()[0].load_balancer_arn().unwrap().to_string();
            let listeners = elbv2.describe_listeners().load_balancer_arn(&arn).send().await.expect("DescribeListeners");
            (arn, listeners.listeners()[0].listener_arn().unwrap().to_string())
        }
    };
    let (_, public_listener) = lookup("shared-alb").await;
    let (internal_arn, internal_listener) = lookup("shared-internal").await;

    for (name, manifest) in [
        ("web", service("Load Balanced Web Service", "web", "/", "shared-alb")),
        ("internal", service("Backend Service", "internal", "/internal", &internal_arn)),
        ("ghost", service("Load Balanced Web Service", "ghost", "/ghost", "no-such-alb")),
    ] {
        std::fs::create_dir_all(dir.join("copilot").join(name)).unwrap();
        std::fs::write(dir.join("copilot").join(name).join("manifest.yml"), manifest).unwrap();
    }
    for svc in ["web", "internal"] {
        let stream =
            run(&moto, dir, &["svc", "deploy", "-n", svc, "-e", "test", "--tag", "v1", "--no-build", "--json"]);
        assert_eq!(outcome(&stream), "created", "{stream}");
    }

    let resources = |stack: &'static str| {
        let cfn = cfn.clone();
        async move {
            let out = cfn.describe_stack_resources().stack_name(stack).send().await.expect("DescribeStackResources");
            out.stack_resources()
                .iter()
                .map(|r| {
                    (
                        r.logical_resource_id().unwrap_or_default().to_string(),
                        r.physical_resource_id().unwrap_or_default().to_string(),
                    )
                })
                .collect::<BTreeMap<_, _>>()
        }
    };
    let mut rule_arns = Vec::new();
    for stack in ["chat-test-web", "chat-test-internal"] {
        let res = resources(stack).await;
        for id in [
            "TargetGroupForImportedALB",
            "HTTPListenerRuleForImportedALB",
            "EnvironmentSecurityGroupIngressFromImportedALB",
        ] {
            assert!(res.contains_key(id), "{stack}: {id} in {res:?}");
        }
        assert!(!res.contains_key("TargetGroup") && !res.contains_key("HTTPListenerRule"), "{stack}: {res:?}");
        rule_arns.push(res["HTTPListenerRuleForImportedALB"].clone());
    }
    // Each rule sits on its imported listener at a priority free there:
    // the catch-all `/` last, `/internal` first.
    for (listener, rule, expected) in
        [(&public_listener, &rule_arns[0], "50000"), (&internal_listener, &rule_arns[1], "1")]
    {
        let rules = elbv2.describe_rules().listener_arn(listener).send().await.expect("DescribeRules");
        let priority = rules.rules().iter().find(|r| r.rule_arn() == Some(rule.as_str())).and_then(|r| r.priority());
        assert_eq!(priority, Some(expected), "{rule} on {listener}: {rules:?}");
    }

    for svc in ["web", "internal"] {
        let stream =
            run(&moto, dir, &["svc", "deploy", "-n", svc, "-e", "test", "--tag", "v1", "--no-build", "--json"]);
        assert_eq!(outcome(&stream), "up to date", "{stream}");
        assert_eq!(mutating(&stream), 0, "a no-op redeploy of {svc} mutated: {stream}");
    }

    let args = ["svc", "deploy", "-n", "ghost", "-e", "test", "--tag", "v1", "--no-build"];
    let stderr = fail_on_moto(&moto, dir, &args, "deploying onto a missing load balancer");
    assert!(stderr.contains("no load balancer `no-such-alb`") && stderr.contains("http.alb"), "{stderr}");
    let ghost = cfn.describe_stacks().stack_name("chat-test-ghost").send().await;
    assert!(ghost.is_err(), "no stack is created for a service whose load balancer is missing");
}

#[tokio::test(flavor = "multi_thread")]
async fn placement_from_tags_selects_the_tagged_subnets_of_the_environment() {
    let moto = Moto::start();
    let ws = example_copy("chat");
    let dir = ws.path();
    run(&moto, dir, &["app", "init"]);
    run(&moto, dir, &["env", "deploy", "-n", "test"]);

    moto.export_env();
    let aws = ferry_aws::AwsContext::load(None).await;
    let cfn = aws.cloudformation();
    let exports = cfn.list_exports().send().await.expect("ListExports");
    let private = exports
        .exports()
        .iter()
        .find(|e| e.name() == Some("chat-test-PrivateSubnets"))
        .and_then(|e| e.value())
        .expect("the environment exports its private subnets")
        .to_string();
    let tagged = private.split(',').nth(1).expect("two private subnets").to_string();
    let tag = aws_sdk_ec2::types::Tag::builder().key("org").value("bi").build();
    aws.ec2().create_tags().resources(&tagged).tags(tag).send().await.expect("CreateTags");

    let ledger = "name: ledger\ntype: Backend Service\nimage:\n  location: public.ecr.aws/docker/library/redis:7\n  port: 6379\nnetwork:\n  vpc:\n    placement:\n      subnets:\n        from_tags:\n          org: bi\n";
    let lost = ledger.replace("ledger", "lost").replace("org: bi", "org: nobody");
    for (name, manifest) in [("ledger", ledger.to_string()), ("lost", lost)] {
        std::fs::create_dir_all(dir.join("copilot").join(name)).unwrap();
        std::fs::write(dir.join("copilot").join(name).join("manifest.yml"), manifest).unwrap();
    }
    let stream =
        run(&moto, dir, &["svc", "deploy", "-n", "ledger", "-e", "test", "--tag", "v1", "--no-build", "--json"]);
    assert_eq!(outcome(&stream), "created", "{stream}");
    let template = cfn.get_template().stack_name("chat-test-ledger").send().await.expect("GetTemplate");
    let body = template.template_body().unwrap_or_default();
    let untagged = private.split(',').next().unwrap();
    assert!(body.contains(&tagged) && !body.contains(untagged), "the tagged subnet only:\n{body}");

    let stream =
        run(&moto, dir, &["svc", "deploy", "-n", "ledger", "-e", "test", "--tag", "v1", "--no-build", "--json"]);
    assert_eq!(outcome(&stream), "up to date", "{stream}");
    assert_eq!(mutating(&stream), 0, "a no-op redeploy mutated: {stream}");

    let args = ["svc", "deploy", "-n", "lost", "-e", "test", "--tag", "v1", "--no-build"];
    let stderr = fail_on_moto(&moto, dir, &args, "deploying onto untagged subnets");
    assert!(stderr.contains("org=nobody") && stderr.contains("from_tags"), "{stderr}");
}
