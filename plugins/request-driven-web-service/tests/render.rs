//! Renders every fixture manifest natively (no wasm) and checks the
//! templates: snapshots, one cfn-lint pass over all of them, and the
//! behaviour each fixture exists for.

use ferry_plugin_request_driven_web_service::RequestDrivenWebService;
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
        env: "test".into(),
        name: manifest["name"].as_str().unwrap_or_default().into(),
        ..Default::default()
    };
    if fixture != "alias-no-domain" {
        ctx.app_domain = Some("example.com".into());
        ctx.environment.dns_delegated = true;
    }
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
    RequestDrivenWebService::render(&manifest, &ctx)
}

fn rendered(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/manifests/{name}.yml"));
    match render(&path) {
        Ok(r) => json!({"template": r.template.to_json(), "parameters": r.parameters}),
        Err(e) => panic!("{name}.yml did not render: {e:?}"),
    }
}

/// The `svc init` template with its placeholders filled in.
fn init_manifest() -> Value {
    let filled = RequestDrivenWebService::info()
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
    assert!(files.len() >= 6, "expected at least 6 fixtures, found {}", files.len());
    let mut templates = Vec::new();
    for path in &files {
        let name = stem(path);
        let rendered = render(path).unwrap_or_else(|e| panic!("{name}.yml did not render: {e:?}"));
        templates.push((name.clone(), check_and_snapshot(&name, &rendered)));
    }
    let init = init_manifest();
    let rendered = RequestDrivenWebService::render(&init, &context_for("init-template", &init))
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

fn env_var<'a>(r: &'a Value, name: &str) -> Option<&'a Value> {
    r["template"]["Resources"]["Service"]["Properties"]["SourceConfiguration"]["ImageRepository"]["ImageConfiguration"]
        ["RuntimeEnvironmentVariables"]
        .as_array()?
        .iter()
        .find(|v| v["Name"] == name)
        .map(|v| &v["Value"])
}

fn secret<'a>(r: &'a Value, name: &str) -> Option<&'a Value> {
    r["template"]["Resources"]["Service"]["Properties"]["SourceConfiguration"]["ImageRepository"]["ImageConfiguration"]
        ["RuntimeEnvironmentSecrets"]
        .as_array()?
        .iter()
        .find(|v| v["Name"] == name)
        .map(|v| &v["Value"])
}

#[test]
fn minimal_manifest_gets_copilot_defaults() {
    let r = rendered("minimal");
    let p = &r["parameters"];
    assert_eq!(p["InstanceCPU"], "1024");
    assert_eq!(p["InstanceMemory"], "2048");
    assert_eq!(p["ContainerPort"], "80");
    assert_eq!(p["ImageRepositoryType"], "ECR");
    assert_eq!(p["ContainerImage"], "123456789012.dkr.ecr.us-west-2.amazonaws.com/chat/web:abc123");
    let res = &r["template"]["Resources"];
    let svc = &res["Service"];
    assert_eq!(svc["Type"], "AWS::AppRunner::Service");
    let props = &svc["Properties"];
    assert_eq!(props["InstanceConfiguration"]["InstanceRoleArn"], json!({"Fn::GetAtt": ["InstanceRole", "Arn"]}));
    assert_eq!(props["HealthCheckConfiguration"]["Path"], "/");
    assert_eq!(props["HealthCheckConfiguration"]["Interval"], 5);
    assert_eq!(props["NetworkConfiguration"]["EgressConfiguration"]["EgressType"], "DEFAULT");
    assert!(props.get("ObservabilityConfiguration").is_none());
    assert_eq!(
        res["InstanceRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"],
        "tasks.apprunner.amazonaws.com"
    );
    assert_eq!(res["AccessRole"]["Condition"], "NeedsAccessRole");
    assert_eq!(props["ServiceName"], json!({"Fn::Sub": "${AppName}-${EnvName}-${WorkloadName}"}));
    assert_eq!(res["InstanceRole"]["Properties"]["Policies"][0]["PolicyName"], "DenyIAM");
    for absent in ["VpcConnector", "AppRunnerVpcIngressConnection", "TaskDefinition", "LogGroup"] {
        assert!(res.get(absent).is_none(), "{absent} in a minimal App Runner service");
    }
    assert_eq!(env_var(&r, "COPILOT_SERVICE_NAME"), Some(&json!({"Ref": "WorkloadName"})));
    assert_eq!(r["template"]["Outputs"]["ServiceURL"]["Value"], json!({"Fn::Sub": "https://${Service.ServiceUrl}"}));
}

#[test]
fn full_manifest_renders_every_field() {
    let r = rendered("full");
    assert_eq!(r["parameters"]["InstanceCPU"], "2048");
    assert_eq!(r["parameters"]["InstanceMemory"], "4096");
    assert_eq!(r["parameters"]["ContainerPort"], "8080");
    let res = &r["template"]["Resources"];
    let hc = &res["Service"]["Properties"]["HealthCheckConfiguration"];
    assert_eq!(
        hc,
        &json!({"Protocol": "HTTP", "Path": "/_healthcheck", "HealthyThreshold": 4, "UnhealthyThreshold": 5, "Interval": 10, "Timeout": 5})
    );
    assert_eq!(env_var(&r, "LOG_LEVEL"), Some(&json!("info")));
    assert_eq!(env_var(&r, "TABLE"), Some(&json!({"Fn::ImportValue": "chat-test-TableName"})));
    assert!(env_var(&r, "COPILOT_SNS_TOPIC_ARNS").is_some());
    assert!(secret(&r, "GITHUB_TOKEN").is_some() && secret(&r, "DB_SECRET").is_some());
    assert!(res.get("VpcConnector").is_some() && res.get("AppRunnerVpcIngressConnection").is_some());
    let props = &res["Service"]["Properties"];
    assert_eq!(props["SourceConfiguration"]["ImageRepository"]["ImageConfiguration"]["StartCommand"], "node server.js");
    assert_eq!(
        props["AutoScalingConfigurationArn"],
        json!({"Fn::Sub": "arn:${AWS::Partition}:apprunner:${AWS::Region}:${AWS::AccountId}:autoscalingconfiguration/frontend-scaling"})
    );
    assert_eq!(props["NetworkConfiguration"]["IngressConfiguration"], json!({"IsPubliclyAccessible": false}));
    assert_eq!(secret(&r, "IMPORTED"), Some(&json!({"Fn::ImportValue": "chat-test-DbSecretArn"})));
    assert_eq!(r["template"]["Metadata"]["ferry:app-runner-custom-domain"]["alias"], "frontend.example.com");
    let topics = res.as_object().unwrap().values().filter(|r| r["Type"] == "AWS::SNS::Topic").count();
    assert_eq!(topics, 2, "one SNS topic per published topic");
    let tags = res["Service"]["Properties"]["Tags"].as_array().unwrap();
    assert!(tags.contains(&json!({"Key": "owner", "Value": "frontend-team"})));
    let policies = res["InstanceRole"]["Properties"]["Policies"].as_array().unwrap();
    let names: Vec<&str> = policies.iter().filter_map(|p| p["PolicyName"].as_str()).collect();
    assert_eq!(names, ["DenyIAM", "ReadSecrets", "Publish2SNS", "EnableAWSXRayTracing"]);
}

#[test]
fn env_overridden_manifest_uses_the_effective_values() {
    let r = rendered("env-overridden");
    assert_eq!(r["parameters"]["InstanceMemory"], "3072");
    assert_eq!(r["parameters"]["ContainerImage"], "123456789012.dkr.ecr.us-west-2.amazonaws.com/chat/frontend:v1");
    assert_eq!(env_var(&r, "LOG_LEVEL"), Some(&json!("debug")));
    assert_eq!(env_var(&r, "REGION"), Some(&json!("us-west-2")));
}

#[test]
fn private_placement_routes_egress_through_a_vpc_connector() {
    let r = rendered("private-placement");
    let res = &r["template"]["Resources"];
    let connector = &res["VpcConnector"]["Properties"];
    assert_eq!(
        connector["Subnets"],
        json!({"Fn::Split": [",", {"Fn::ImportValue": {"Fn::Sub": "${AppName}-${EnvName}-PrivateSubnets"}}]})
    );
    assert_eq!(connector["SecurityGroups"], json!([{"Ref": "ServiceSecurityGroup"}]));
    assert_eq!(res["ServiceSecurityGroup"]["Type"], "AWS::EC2::SecurityGroup");
    let ingress = &res["EnvironmentSecurityGroupIngressFromServiceSecurityGroup"]["Properties"];
    assert_eq!(
        ingress["GroupId"],
        json!({"Fn::ImportValue": {"Fn::Sub": "${AppName}-${EnvName}-EnvironmentSecurityGroup"}})
    );
    assert_eq!(ingress["SourceSecurityGroupId"], json!({"Ref": "ServiceSecurityGroup"}));
    let egress = &res["Service"]["Properties"]["NetworkConfiguration"]["EgressConfiguration"];
    assert_eq!(egress["EgressType"], "VPC");
    assert_eq!(egress["VpcConnectorArn"], json!({"Fn::GetAtt": ["VpcConnector", "VpcConnectorArn"]}));
}

#[test]
fn tracing_uses_app_runners_default_xray_configuration() {
    let r = rendered("tracing");
    let res = &r["template"]["Resources"];
    assert!(res.get("ObservabilityConfiguration").is_none(), "Copilot creates no configuration of its own");
    let obs = &res["Service"]["Properties"]["ObservabilityConfiguration"];
    assert_eq!(obs["ObservabilityEnabled"], true);
    assert!(
        obs["ObservabilityConfigurationArn"].to_string().contains("observabilityconfiguration/DefaultConfiguration/1/")
    );
    assert_eq!(res["Service"]["Properties"]["HealthCheckConfiguration"]["Path"], "/ping");
    let policies = res["InstanceRole"]["Properties"]["Policies"].to_string();
    assert!(policies.contains("EnableAWSXRayTracing") && policies.contains("xray:PutTraceSegments"));
}

#[test]
fn count_names_an_auto_scaling_configuration_and_command_starts_the_image() {
    let r = rendered("count");
    let props = &r["template"]["Resources"]["Service"]["Properties"];
    assert_eq!(
        props["AutoScalingConfigurationArn"],
        json!({"Fn::Sub": "arn:${AWS::Partition}:apprunner:${AWS::Region}:${AWS::AccountId}:autoscalingconfiguration/high-availability"})
    );
    assert_eq!(
        props["SourceConfiguration"]["ImageRepository"]["ImageConfiguration"]["StartCommand"],
        "gunicorn --bind 0.0.0.0:8080 app:server"
    );
}

#[test]
fn private_service_gets_an_ingress_connection_and_its_endpoint() {
    let r = rendered("private");
    let res = &r["template"]["Resources"];
    assert_eq!(
        res["Service"]["Properties"]["NetworkConfiguration"]["IngressConfiguration"]["IsPubliclyAccessible"],
        false
    );
    let conn = &res["AppRunnerVpcIngressConnection"];
    assert_eq!(conn["Type"], "AWS::AppRunner::VpcIngressConnection");
    assert_eq!(conn["Properties"]["ServiceArn"], json!({"Fn::GetAtt": ["Service", "ServiceArn"]}));
    assert_eq!(
        conn["Properties"]["IngressVpcConfiguration"],
        json!({
            "VpcId": {"Fn::ImportValue": {"Fn::Sub": "${AppName}-${EnvName}-VpcId"}},
            "VpcEndpointId": {"Fn::ImportValue": {"Fn::Sub": "${AppName}-${EnvName}-AppRunnerVpcEndpointId"}},
        })
    );
    assert!(res.get("AppRunnerVpcEndpoint").is_none(), "the environment owns the endpoint, as in Copilot");

    let r = rendered("private-endpoint");
    let res = &r["template"]["Resources"];
    assert_eq!(
        res["AppRunnerVpcIngressConnection"]["Properties"]["IngressVpcConfiguration"]["VpcEndpointId"],
        "vpce-0123456789abcdef0"
    );
    assert!(res.get("AppRunnerVpcEndpoint").is_none(), "an existing endpoint is used as is");
    assert!(res.get("VpcConnector").is_none(), "private ingress does not change egress");
    assert_eq!(
        res["Service"]["Properties"]["SourceConfiguration"]["ImageRepository"]["ImageConfiguration"]["StartCommand"],
        "./start --port 80"
    );
}

#[test]
fn placement_subnets_put_the_connector_on_those_subnets() {
    let r = rendered("subnets-placement");
    let res = &r["template"]["Resources"];
    assert_eq!(
        res["VpcConnector"]["Properties"]["Subnets"],
        json!(["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"])
    );
    assert_eq!(res["Service"]["Properties"]["NetworkConfiguration"]["EgressConfiguration"]["EgressType"], "VPC");
    let tags = res["VpcConnector"]["Properties"]["Tags"].as_array().unwrap();
    assert!(tags.contains(&json!({"Key": "team", "Value": "web"})));
}

#[test]
fn alias_is_a_custom_domain_request_for_the_host() {
    let r = rendered("alias");
    assert_eq!(
        r["template"]["Metadata"]["ferry:app-runner-custom-domain"],
        json!({"alias": "web.example.com", "hosted_zone": "example.com.", "service_arn_output": "ServiceArn"})
    );
    assert_eq!(r["template"]["Outputs"]["CustomDomain"]["Value"], "https://web.example.com");
}

#[test]
fn secrets_become_arns_the_instance_role_may_read() {
    let r = rendered("secrets");
    let ssm = secret(&r, "GITHUB_TOKEN").unwrap().to_string();
    assert!(ssm.contains(":ssm:") && ssm.contains("GITHUB_TOKEN"), "{ssm}");
    assert_eq!(secret(&r, "FULL_ARN"), Some(&json!("arn:aws:ssm:us-west-2:123456789012:parameter/chat/token")));
    assert_eq!(secret(&r, "IMPORTED"), Some(&json!({"Fn::ImportValue": "chat-test-DbSecretArn"})));
    let policy = r["template"]["Resources"]["InstanceRole"]["Properties"]["Policies"][1].to_string();
    assert!(policy.contains("ssm:GetParameters") && policy.contains("secretsmanager:GetSecretValue"));
}

#[test]
fn ecr_public_images_need_no_access_role() {
    let r = rendered("ecr-public");
    assert_eq!(r["parameters"]["ImageRepositoryType"], "ECR_PUBLIC");
    assert_eq!(r["parameters"]["InstanceCPU"], "256");
    let res = &r["template"]["Resources"];
    assert_eq!(res["AccessRole"]["Condition"], "NeedsAccessRole", "the access role exists only for private ECR");
    assert_eq!(res["Service"]["Properties"]["NetworkConfiguration"]["EgressConfiguration"]["EgressType"], "DEFAULT");
    assert!(res.get("VpcConnector").is_none(), "public placement needs no connector");
}

#[test]
fn addons_outputs_reach_the_service() {
    let r = rendered("addons");
    let res = &r["template"]["Resources"];
    assert_eq!(
        res["InstanceRole"]["Properties"]["ManagedPolicyArns"],
        json!([{"Fn::GetAtt": ["AddonsStack", "Outputs.TableAccessPolicy"]}])
    );
    assert_eq!(env_var(&r, "TABLE_NAME"), Some(&json!({"Fn::GetAtt": ["AddonsStack", "Outputs.TableName"]})));
    assert!(secret(&r, "DB_PASSWORD_SECRET").is_some());
    assert_eq!(res["VpcConnector"]["Properties"]["SecurityGroups"].as_array().unwrap().len(), 2);
}

#[test]
fn platform_other_than_linux_x86_64_is_refused() {
    assert!(has(&diagnostics("arm64"), "/platform", "App Runner runs linux/x86_64 images only"));
    assert!(has(&diagnostics("windows"), "/platform", "App Runner runs linux/x86_64 images only"));
}

#[test]
fn type_specific_mistakes_are_diagnosed() {
    assert!(has(&diagnostics("alias-no-domain"), "/http/alias", "has no domain"));
    assert!(has(&diagnostics("alias-outside-domain"), "/http/alias", "not under the application's domain"));
    assert!(has(&diagnostics("bad-private-endpoint"), "/http/private/endpoint", "not a VPC endpoint ID"));
    assert!(has(&diagnostics("bad-count"), "/count", "auto scaling configuration"));
    assert!(has(&diagnostics("subnets-from-tags"), "/network/vpc/placement/subnets/from_tags", "subnet IDs"));
    assert!(has(&diagnostics("exec"), "/exec", "unknown field"));
    assert!(has(
        &diagnostics("sidecars"),
        "/sidecars",
        "unknown field `sidecars` remove `sidecars`: App Runner runs a single container"
    ));
    assert!(has(&diagnostics("logging-storage"), "/logging", "unknown field"));
    assert!(has(&diagnostics("image-ecs-fields"), "/image/healthcheck", "unknown field"));
    assert!(has(&diagnostics("typo"), "/varibles", "variables"));
    assert!(has(&diagnostics("bad-cpu-memory"), "/memory", "2048, 3072, 4096"));
    assert!(has(&diagnostics("bad-cpu"), "/cpu", "no instances with 3000 CPU units"));
    assert!(has(&diagnostics("docker-hub-image"), "/image/location", "ECR or ECR Public only"));
    let hc = diagnostics("bad-healthcheck");
    assert!(has(&hc, "/http/healthcheck/path", "must start with `/`"));
    assert!(has(&hc, "/http/healthcheck/healthy_threshold", "1-20"));
    assert!(has(&hc, "/http/healthcheck/interval", "1s to 20s"));
    assert!(has(&diagnostics("bad-tracing"), "/observability/tracing", "awsxray"));
    assert!(has(&diagnostics("wrong-kind"), "/type", "Request-Driven Web Service"));
    assert!(has(&diagnostics("no-image-source"), "/image", "missing `build` or `location`"));
    assert!(!diagnostics("wrong-type").is_empty());
    assert!(has(&diagnostics("reserved-tag"), "/tags/copilot-service", "reserved"));
}

#[test]
fn info_describes_the_plugin() {
    let info = RequestDrivenWebService::info();
    assert_eq!(info.name, "request-driven-web-service");
    assert_eq!(info.manifest_types, ["Request-Driven Web Service"]);
    assert!(info.manifest_schema["properties"].get("observability").is_some());
    assert!(info.manifest_schema["properties"].get("count").is_some());
    assert!(info.manifest_schema["properties"].get("exec").is_none());
}

/// The resources Copilot's rd-web template (`workloads/services/rd-web/cf.yml`
/// and its `accessrole`, `instancerole`, `vpc-connector`, `publish` partials)
/// has for the same manifest, by logical ID and type: an environment or
/// service Copilot deployed is updated in place, never replaced.
#[test]
fn logical_ids_and_types_match_copilots_template() {
    let r = rendered("full");
    let res = r["template"]["Resources"].as_object().unwrap();
    let expected = [
        ("AccessRole", "AWS::IAM::Role"),
        ("InstanceRole", "AWS::IAM::Role"),
        ("Service", "AWS::AppRunner::Service"),
        ("ServiceSecurityGroup", "AWS::EC2::SecurityGroup"),
        ("EnvironmentSecurityGroupIngressFromServiceSecurityGroup", "AWS::EC2::SecurityGroupIngress"),
        ("VpcConnector", "AWS::AppRunner::VpcConnector"),
        ("AppRunnerVpcIngressConnection", "AWS::AppRunner::VpcIngressConnection"),
        ("refundsSNSTopic", "AWS::SNS::Topic"),
        ("ordersSNSTopic", "AWS::SNS::Topic"),
    ];
    for (id, ty) in expected {
        assert_eq!(res.get(id).map(|r| &r["Type"]), Some(&json!(ty)), "{id}");
    }
    // Nothing Copilot runs as a Lambda custom resource, and no resource of ferry's
    // own where Copilot points at App Runner's defaults.
    for absent in ["CustomDomainFunction", "CustomDomainAction", "EnvControllerAction", "ObservabilityConfiguration"] {
        assert!(res.get(absent).is_none(), "{absent}");
    }
    let props = &res["Service"]["Properties"];
    assert_eq!(props["ServiceName"], json!({"Fn::Sub": "${AppName}-${EnvName}-${WorkloadName}"}));
    assert_eq!(props["SourceConfiguration"]["AutoDeploymentsEnabled"], false);
    assert_eq!(props["InstanceConfiguration"]["Cpu"], json!({"Ref": "InstanceCPU"}));
    assert_eq!(
        props["NetworkConfiguration"]["EgressConfiguration"]["VpcConnectorArn"],
        json!({"Fn::GetAtt": ["VpcConnector", "VpcConnectorArn"]})
    );
    let tags: Vec<&str> = props["Tags"].as_array().unwrap().iter().filter_map(|t| t["Key"].as_str()).collect();
    assert_eq!(tags[..3], ["copilot-application", "copilot-environment", "copilot-service"]);
}

ferry_plugin_sdk::schema_file_test!(ferry_plugin_request_driven_web_service::manifest::Manifest);
