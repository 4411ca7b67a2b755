//! Renders every fixture manifest natively (no wasm) and checks the
//! templates: snapshots, one cfn-lint pass over all of them (cfn-lint knows
//! `AWS::ECS::ExpressGatewayService`), and the behaviour each fixture
//! exists for.

use ferry_plugin_express_web_service::ExpressWebService;
use ferry_plugin_sdk::protocol::{AddonsOutputs, ImageRef};
use ferry_plugin_sdk::{Plugin, RenderContext, RenderError, Rendered, Value, json};
use ferry_test_support::{load_yaml as load, plugin, stem};
use std::path::{Path, PathBuf};

fn fixtures(dir: &str) -> Vec<PathBuf> {
    plugin::fixtures(env!("CARGO_MANIFEST_DIR"), dir)
}

/// The context each fixture renders in: `minimal` has an image the host
/// built and pushed, `addons` an addons stack with one output of each kind.
fn context_for(fixture: &str, manifest: &Value) -> RenderContext {
    let mut ctx = RenderContext {
        app: "chat".into(),
        env: if fixture == "prod-override" { "prod".into() } else { "test".into() },
        name: manifest["name"].as_str().unwrap_or_default().into(),
        ..Default::default()
    };
    if fixture == "minimal" {
        ctx.image =
            Some(ImageRef { uri: "123456789012.dkr.ecr.us-west-2.amazonaws.com/chat/web:abc123".into(), digest: None });
    }
    if fixture == "addons" {
        ctx.addons = Some(AddonsOutputs {
            managed_policies: vec!["TableAccessPolicy".into()],
            secrets: vec!["DbPasswordSecret".into()],
            security_groups: vec!["DbClientSecurityGroup".into()],
            variables: vec!["TableName".into()],
        });
    }
    ctx
}

fn render(path: &Path) -> Result<Rendered, RenderError> {
    let manifest = load(path);
    let ctx = context_for(&stem(path), &manifest);
    ExpressWebService::render(&manifest, &ctx)
}

fn rendered(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/manifests/{name}.yml"));
    match render(&path) {
        Ok(r) => json!({"template": r.template.to_json(), "parameters": r.parameters}),
        Err(e) => panic!("{name}.yml did not render: {e:?}"),
    }
}

fn service(r: &Value) -> &Value {
    &r["template"]["Resources"]["ExpressService"]["Properties"]
}

/// The `svc init` template with its placeholders filled in.
fn init_manifest() -> Value {
    let filled = ExpressWebService::info()
        .manifest_template
        .replace("{{name}}", "web")
        .replace("{{dockerfile}}", "./Dockerfile")
        .replace("{{port}}", "8080");
    yaml_serde::from_str(&filled).unwrap_or_else(|e| panic!("template is not YAML: {e}"))
}

fn check_and_snapshot(name: &str, rendered: &Rendered) -> Value {
    insta::assert_json_snapshot!(name.to_string(), plugin::checked_snapshot(name, rendered));
    plugin::as_host_would(rendered.template.to_json())
}

#[test]
fn valid_manifests_render_snapshot_and_lint_clean() {
    let files = fixtures("manifests");
    assert!(files.len() >= 7, "expected at least 7 fixtures, found {}", files.len());
    let mut templates = Vec::new();
    for path in &files {
        let name = stem(path);
        let rendered = render(path).unwrap_or_else(|e| panic!("{name}.yml did not render: {e:?}"));
        templates.push((name.clone(), check_and_snapshot(&name, &rendered)));
    }
    let init = init_manifest();
    let rendered = ExpressWebService::render(&init, &context_for("init-template", &init))
        .unwrap_or_else(|e| panic!("the init template did not render: {e:?}"));
    templates.push(("init-template".into(), check_and_snapshot("init-template", &rendered)));
    plugin::lint_all(&templates);
}

#[test]
fn invalid_manifests_are_diagnosed() {
    let files = fixtures("invalid");
    assert!(files.len() >= 10);
    for path in &files {
        let name = stem(path);
        let shown = plugin::checked_diagnostics(&name, render(path));
        insta::assert_json_snapshot!(format!("invalid-{name}"), shown);
    }
}

/// (path, message and hint) of each diagnostic of an invalid fixture.
fn diagnostics(name: &str) -> Vec<(String, String)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/invalid/{name}.yml"));
    match render(&path) {
        Err(RenderError::Invalid(d)) => {
            d.into_iter().map(|d| (d.path, format!("{} {}", d.message, d.hint.unwrap_or_default()))).collect()
        }
        other => panic!("invalid/{name}.yml: expected diagnostics, got {other:?}"),
    }
}

fn has(d: &[(String, String)], path: &str, message: &str) -> bool {
    d.iter().any(|(p, m)| p == path && m.contains(message))
}

#[test]
fn minimal_service_runs_in_the_environment_cluster_and_public_subnets() {
    let r = rendered("minimal");
    let p = &r["parameters"];
    assert_eq!(p["ContainerImage"], "123456789012.dkr.ecr.us-west-2.amazonaws.com/chat/web:abc123");
    assert_eq!(p["ContainerPort"], "80", "Express Mode's default port");
    assert_eq!(p["TaskCPU"], "256");
    assert_eq!(p["TaskMemory"], "512");
    assert!(p.get("TaskCount").is_none(), "the resource scales itself");
    let s = service(&r);
    assert_eq!(s["Cluster"], json!({"Fn::ImportValue": {"Fn::Sub": "${AppName}-${EnvName}-ClusterId"}}));
    assert_eq!(s["ServiceName"], json!({"Fn::Sub": "${AppName}-${EnvName}-${WorkloadName}"}));
    assert_eq!(
        s["NetworkConfiguration"]["Subnets"],
        json!({"Fn::Split": [",", {"Fn::ImportValue": {"Fn::Sub": "${AppName}-${EnvName}-PublicSubnets"}}]})
    );
    assert_eq!(
        s["NetworkConfiguration"]["SecurityGroups"],
        json!([{"Fn::ImportValue": {"Fn::Sub": "${AppName}-${EnvName}-EnvironmentSecurityGroup"}}])
    );
    assert_eq!(s["ScalingTarget"], json!({"MinTaskCount": 1, "MaxTaskCount": 1}));
    assert_eq!(s["HealthCheckPath"], "/ping");
    assert_eq!(s["InfrastructureRoleArn"], json!({"Fn::GetAtt": ["InfrastructureRole", "Arn"]}));
    assert_eq!(s["PrimaryContainer"]["AwsLogsConfiguration"]["LogGroup"], json!({"Ref": "LogGroup"}));
    let infra = &r["template"]["Resources"]["InfrastructureRole"]["Properties"];
    assert!(infra["ManagedPolicyArns"].to_string().contains("AmazonECSInfrastructureRoleforExpressGatewayServices"));
    assert!(infra["AssumeRolePolicyDocument"].to_string().contains("\"ecs.amazonaws.com\""));
    assert_eq!(
        r["template"]["Outputs"]["ServiceURL"]["Value"],
        json!({"Fn::Sub": "https://${ExpressService.Endpoint}"})
    );
}

#[test]
fn private_placement_uses_private_subnets_and_extra_groups() {
    let r = rendered("private-placement");
    let s = service(&r);
    assert!(s["NetworkConfiguration"]["Subnets"].to_string().contains("PrivateSubnets"));
    assert_eq!(s["NetworkConfiguration"]["SecurityGroups"].as_array().map(Vec::len), Some(2));
    assert_eq!(s["HealthCheckPath"], "/healthz");
    assert_eq!(r["parameters"]["ContainerPort"], "8080");

    let r = rendered("subnets");
    let s = service(&r);
    assert_eq!(s["NetworkConfiguration"]["Subnets"], json!(["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"]));
    assert_eq!(s["NetworkConfiguration"]["SecurityGroups"], json!(["sg-0123456789abcdef0"]), "deny_default");
    assert_eq!(s["ScalingTarget"], json!({"MinTaskCount": 3, "MaxTaskCount": 3}));
}

#[test]
fn secrets_variables_and_command_reach_the_container() {
    let r = rendered("secrets-variables");
    let c = &service(&r)["PrimaryContainer"];
    assert_eq!(c["Command"], json!(["node", "server.js", "--port", "3000"]));
    let env = c["Environment"].to_string();
    assert!(env.contains(r#"{"Name":"LOG_LEVEL","Value":"info"}"#), "{env}");
    assert!(env.contains(r#"{"Name":"TABLE_NAME","Value":{"Fn::ImportValue":"chat-test-TableName"}}"#), "{env}");
    assert_eq!(c["Secrets"][0], json!({"Name": "GITHUB_TOKEN", "ValueFrom": "GITHUB_TOKEN"}));
    assert!(c["Secrets"][1]["ValueFrom"].to_string().contains("secretsmanager"));
    assert_eq!(
        c["RepositoryCredentials"]["CredentialsParameter"],
        json!("arn:aws:secretsmanager:us-west-2:123456789012:secret:dockerhub-AbCdEf")
    );
    // The execution role may read every secret it hands over.
    let exec = r["template"]["Resources"]["ExecutionRole"]["Properties"]["Policies"].to_string();
    assert!(exec.contains("parameter/") && exec.contains("GITHUB_TOKEN"), "{exec}");
    assert!(exec.contains("chat/test/db-*"), "{exec}");
}

#[test]
fn count_maps_to_the_scaling_target() {
    let r = rendered("autoscaling");
    assert_eq!(
        service(&r)["ScalingTarget"],
        json!({"MinTaskCount": 2, "MaxTaskCount": 20, "AutoScalingMetric": "REQUEST_COUNT_PER_TARGET", "AutoScalingTargetValue": 500})
    );
    assert_eq!(service(&r)["Tags"], json!([{"Key": "team", "Value": "storefront"}]));
    let r = rendered("prod-override");
    let s = service(&r);
    assert_eq!(
        s["ScalingTarget"],
        json!({"MinTaskCount": 3, "MaxTaskCount": 12, "AutoScalingMetric": "AVERAGE_CPU", "AutoScalingTargetValue": 65})
    );
    assert_eq!(r["parameters"]["TaskCPU"], "2048");
    assert_eq!(r["parameters"]["TaskMemory"], "4096");
    assert!(s["PrimaryContainer"]["Environment"].to_string().contains(r#""Value":"warn""#));
}

#[test]
fn publish_creates_topics_and_grants_the_task_role() {
    let r = rendered("publish");
    let res = &r["template"]["Resources"];
    assert!(res.get("ordersPlacedSNSTopic").is_some());
    assert_eq!(res["paymentsSNSTopic"]["Properties"]["FifoTopic"], true);
    assert!(res["TaskRole"]["Properties"]["Policies"].to_string().contains("Publish2SNS"));
    assert_eq!(service(&r)["TaskRoleArn"], json!({"Fn::GetAtt": ["TaskRole", "Arn"]}));
    assert!(service(&r)["PrimaryContainer"]["Environment"].to_string().contains("COPILOT_SNS_TOPIC_ARNS"));
}

#[test]
fn addons_outputs_become_variables_secrets_groups_and_policies() {
    let r = rendered("addons");
    let s = service(&r);
    let addon = |name: &str| json!({"Fn::GetAtt": ["AddonsStack", format!("Outputs.{name}")]});
    assert!(
        s["PrimaryContainer"]["Environment"]
            .as_array()
            .unwrap()
            .contains(&json!({"Name": "TABLE_NAME", "Value": addon("TableName")}))
    );
    assert_eq!(
        s["PrimaryContainer"]["Secrets"],
        json!([{"Name": "DB_PASSWORD_SECRET", "ValueFrom": addon("DbPasswordSecret")}])
    );
    assert!(s["NetworkConfiguration"]["SecurityGroups"].as_array().unwrap().contains(&addon("DbClientSecurityGroup")));
    assert_eq!(
        r["template"]["Resources"]["TaskRole"]["Properties"]["ManagedPolicyArns"],
        json!([addon("TableAccessPolicy")])
    );
}

#[test]
fn diagnostics_point_at_the_field() {
    assert!(has(&diagnostics("bad-cpu-memory"), "/memory", ""));
    assert!(has(&diagnostics("bad-health-path"), "/http/healthcheck", "must start with `/`"));
    assert!(has(&diagnostics("alias"), "/http/alias", "no custom-domain property"));
    let two = diagnostics("two-metrics");
    assert!(has(&two, "/count/memory_percentage", "scales on one metric"));
    assert!(has(&two, "/count/response_time", "use `requests`"));
    let spot = diagnostics("spot");
    assert!(has(&spot, "/count/range/spot_from", "Fargate Spot"));
    assert!(has(&spot, "/count/cooldown", "cooldowns itself"));
    assert!(has(&diagnostics("sidecars"), "/sidecars", "runs one container"));
    assert!(has(&diagnostics("healthcheck-fields"), "/http/healthcheck/interval", ""));
    assert!(has(&diagnostics("wrong-kind"), "/type", "Express Web Service"));
    assert!(has(&diagnostics("image-healthcheck"), "/image/healthcheck", "no `healthcheck`"));
    assert!(has(&diagnostics("reserved-tag"), "/tags/aws:owner", "reserved"));
    assert!(has(&diagnostics("connect"), "/network/connect", "Service Connect"));
}

#[test]
fn info_has_schema_and_init_template() {
    let info = ExpressWebService::info();
    assert_eq!(info.name, "express-web-service");
    assert_eq!(info.manifest_types, ["Express Web Service"]);
    for field in ["http", "publish", "image", "count", "secrets", "variables", "network", "tags"] {
        assert!(info.manifest_schema["properties"][field].is_object(), "schema lacks {field}");
    }
    for absent in ["sidecars", "exec", "storage", "logging", "platform"] {
        assert!(info.manifest_schema["properties"].get(absent).is_none(), "schema has {absent}");
    }
    assert_eq!(ExpressWebService::validate(&init_manifest()), vec![]);
}

ferry_plugin_sdk::schema_file_test!(ferry_plugin_express_web_service::manifest::Manifest);
