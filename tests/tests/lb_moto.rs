//! The load-balancer families of Copilot manifests on moto, through the
//! real `ferry` binary: a web service with `http.additional_rules` and an
//! NLB-only service (`http: false` with `nlb`) deploy, their listener rule
//! priorities are chosen by the host from the listener's rules, and a
//! redeploy of each is up to date without a single mutating call.

use crate::common;

use common::example_copy;
use common::{json_events as events, run_on_moto as run};
use ferry_test_support::Moto;
use serde_json::Value;

fn outcome(stream: &str) -> String {
    let finished = events(stream).into_iter().find(|e| e["event"] == "stack_finished").expect("a stack_finished event");
    finished["outcome"].as_str().unwrap_or_default().to_string()
}

fn mutating(stream: &str) -> Value {
    let calls = events(stream).into_iter().rev().find(|e| e["event"] == "api_calls").expect("an api_calls event");
    calls["mutating"].clone()
}

const FRONTEND_RULES: &str = "
  additional_rules:
    - path: /admin
      target_port: 8080
      healthcheck: /admin/healthz
      stickiness: true
      allowed_source_ips: [10.0.0.0/8]
";

const TCP_SERVICE: &str = "# A TCP service behind its own network load balancer only.
name: tcp
type: Load Balanced Web Service
image:
  location: public.ecr.aws/docker/library/redis:7
  port: 6379
http: false
nlb:
  port: 6379/tcp
  healthcheck:
    healthy_threshold: 3
    interval: 10s
  additional_listeners:
    - port: 6380/tcp
      target_port: 6379
";

#[tokio::test(flavor = "multi_thread")]
async fn nlb_and_additional_rules_deploy_and_redeploy_without_mutating() {
    let moto = Moto::start();
    let ws = example_copy("chat");
    let dir = ws.path();
    let frontend = dir.join("copilot/frontend/manifest.yml");
    let text = std::fs::read_to_string(&frontend).unwrap();
    let text = text.replacen("    interval: 10s\n", &format!("    interval: 10s\n{FRONTEND_RULES}"), 1);
    std::fs::write(&frontend, text).unwrap();
    std::fs::create_dir_all(dir.join("copilot/tcp")).unwrap();
    std::fs::write(dir.join("copilot/tcp/manifest.yml"), TCP_SERVICE).unwrap();

    run(&moto, dir, &["app", "init"]);
    run(&moto, dir, &["env", "deploy", "-n", "test"]);
    for svc in ["frontend", "tcp"] {
        let stream =
            run(&moto, dir, &["svc", "deploy", "-n", svc, "-e", "test", "--tag", "v1", "--no-build", "--json"]);
        assert_eq!(outcome(&stream), "created", "{stream}");
    }

    moto.export_env();
    let aws = ferry_aws::AwsContext::load(None).await;
    let cfn = aws.cloudformation();
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
                .collect::<std::collections::BTreeMap<_, _>>()
        }
    };
    let web = resources("chat-test-frontend").await;
    for id in ["TargetGroup", "TargetGroup1", "HTTPListenerRule", "HTTPListenerRule1"] {
        assert!(web.contains_key(id), "{id} in {web:?}");
    }
    let tcp = resources("chat-test-tcp").await;
    for id in ["PublicNetworkLoadBalancerV2", "NLBListener", "NLBListener1", "NetworkLoadBalancerTargetGroup1"] {
        assert!(tcp.contains_key(id), "{id} in {tcp:?}");
    }
    assert!(!tcp.contains_key("TargetGroup"), "an NLB-only service has no ALB target group");

    // The host chose free priorities on the environment's HTTP listener:
    // `/admin` the lowest, the catch-all `/` the highest.
    let stack = cfn.describe_stacks().stack_name("chat-test-frontend").send().await.expect("DescribeStacks");
    let params: std::collections::BTreeMap<String, String> = stack.stacks()[0]
        .parameters()
        .iter()
        .map(|p| (p.parameter_key().unwrap_or_default().into(), p.parameter_value().unwrap_or_default().into()))
        .collect();
    assert_eq!(params["HTTPListenerRule1Priority"], "1", "{params:?}");
    assert_eq!(params["HTTPListenerRulePriority"], "50000", "{params:?}");
    let rules = aws.elbv2().describe_rules().rule_arns(&web["HTTPListenerRule1"]).send().await.expect("DescribeRules");
    assert_eq!(rules.rules()[0].priority(), Some("1"));

    for svc in ["frontend", "tcp"] {
        let stream =
            run(&moto, dir, &["svc", "deploy", "-n", svc, "-e", "test", "--tag", "v1", "--no-build", "--json"]);
        assert_eq!(outcome(&stream), "up to date", "{stream}");
        assert_eq!(mutating(&stream), 0, "a no-op redeploy of {svc} mutated: {stream}");
    }
}
