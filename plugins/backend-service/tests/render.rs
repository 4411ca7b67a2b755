//! Renders every fixture manifest natively (no wasm) and checks the
//! templates: snapshots, one cfn-lint pass over all of them, and the
//! behaviour each fixture exists for.

use ferry_plugin_backend_service::BackendService;
use ferry_plugin_sdk::protocol::ImportedAlb;
use ferry_plugin_sdk::{Plugin, RenderContext, RenderError, Rendered, Value, json};
use ferry_test_support::{load_yaml as load, plugin, stem};
use std::path::{Path, PathBuf};

fn fixtures(dir: &str) -> Vec<PathBuf> {
    plugin::fixtures(env!("CARGO_MANIFEST_DIR"), dir)
}

/// The environment each fixture renders against: an internal load balancer
/// everywhere, with certificates where the fixture's name says so.
fn context_for(fixture: &str, manifest: &Value) -> RenderContext {
    let mut ctx = RenderContext {
        app: "chat".into(),
        env: "test".into(),
        name: manifest["name"].as_str().unwrap_or_default().into(),
        ..Default::default()
    };
    ctx.environment.internal_alb = fixture != "no-private-http";
    ctx.environment.internal_https_listener =
        matches!(fixture, "full" | "internal-http-alias" | "additional-rules" | "blue-green-alarms");
    if fixture == "placement-from-tags" {
        ctx.placement_subnets = Some(vec!["subnet-0a1b2c3d4e5f60718".into(), "subnet-0f1e2d3c4b5a69788".into()]);
    }
    if fixture == "imported-alb" {
        let arn = "arn:aws:elasticloadbalancing:us-west-2:123456789012:loadbalancer/app/shared/0123456789abcdef";
        ctx.environment.internal_alb = false;
        ctx.imported_alb = Some(ImportedAlb {
            arn: arn.into(),
            name: "shared".into(),
            dns_name: "internal-shared-1234567890.us-west-2.elb.amazonaws.com".into(),
            hosted_zone_id: "Z1H1FL5HABSF5".into(),
            http_listener_arn: Some(format!("{}/0000000000000001", arn.replace(":loadbalancer/", ":listener/"))),
            https_listener_arn: Some(format!("{}/0000000000000002", arn.replace(":loadbalancer/", ":listener/"))),
            security_groups: vec!["sg-0123456789abcdef0".into()],
        });
    }
    ctx
}

fn render(path: &Path) -> Result<Rendered, RenderError> {
    let manifest = load(path);
    let ctx = context_for(&stem(path), &manifest);
    BackendService::render(&manifest, &ctx)
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
    let filled = BackendService::info()
        .manifest_template
        .replace("{{name}}", "api")
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
    assert!(files.len() >= 10, "expected at least 10 fixtures, found {}", files.len());
    let mut templates = Vec::new();
    for path in &files {
        let name = stem(path);
        let rendered = render(path).unwrap_or_else(|e| panic!("{name}.yml did not render: {e:?}"));
        templates.push((name.clone(), check_and_snapshot(&name, &rendered)));
    }
    let init = init_manifest();
    let rendered = BackendService::render(&init, &context_for("init-template", &init))
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
fn minimal_manifest_gets_copilot_defaults_and_no_load_balancer() {
    let r = rendered("minimal");
    let p = &r["parameters"];
    assert_eq!(p["TaskCPU"], "256");
    assert_eq!(p["TaskMemory"], "512");
    assert_eq!(p["TaskCount"], "1");
    assert_eq!(p["LogRetention"], "30");
    assert!(p.get("ContainerPort").is_none(), "no port, no ContainerPort");
    assert!(p.get("TargetPort").is_none() && p.get("RulePath").is_none());
    let res = &r["template"]["Resources"];
    for absent in ["TargetGroup", "HTTPListenerRule", "AutoScalingTarget", "AliasRecord"] {
        assert!(res.get(absent).is_none(), "{absent} without http");
    }
    let svc = &res["Service"]["Properties"];
    assert!(svc.get("LoadBalancers").is_none());
    assert!(svc.get("HealthCheckGracePeriodSeconds").is_none());
    assert_eq!(svc["ServiceRegistries"], json!([{"RegistryArn": {"Fn::GetAtt": ["DiscoveryService", "Arn"]}}]));
    assert_eq!(res["DiscoveryService"]["Properties"]["DnsConfig"]["DnsRecords"], json!([{"Type": "A", "TTL": 10}]));
    assert!(r["template"].get("Outputs").unwrap()["URL"].is_null());
    let env = res["TaskDefinition"]["Properties"]["ContainerDefinitions"][0]["Environment"].to_string();
    assert!(!env.contains("COPILOT_LB_DNS") && !env.contains("COPILOT_SNS_TOPIC_ARNS"));
}

#[test]
fn port_without_http_registers_in_service_discovery() {
    let r = rendered("service-discovery");
    let res = &r["template"]["Resources"];
    assert_eq!(r["parameters"]["ContainerPort"], "8080");
    let discovery = &res["DiscoveryService"]["Properties"];
    assert_eq!(discovery["DnsConfig"]["DnsRecords"][1], json!({"Type": "SRV", "TTL": 10}));
    assert_eq!(
        discovery["NamespaceId"],
        json!({"Fn::ImportValue": {"Fn::Sub": "${AppName}-${EnvName}-ServiceDiscoveryNamespaceID"}})
    );
    assert_eq!(discovery["Name"], json!({"Ref": "WorkloadName"}));
    assert_eq!(res["Service"]["Properties"]["ServiceRegistries"][0]["Port"], json!({"Ref": "ContainerPort"}));
    // cpu/memory scaling without a load balancer.
    assert!(res.get("AutoScalingPolicyECSServiceAverageCPUUtilization").is_some());
    let memory = &res["AutoScalingPolicyECSServiceAverageMemoryUtilization"]["Properties"]["TargetTrackingScalingPolicyConfiguration"];
    assert_eq!(memory["TargetValue"], 80.0);
    assert_eq!(memory["ScaleInCooldown"], 90);
    assert!(res.get("AutoScalingPolicyALBSumRequestCountPerTarget").is_none());
}

#[test]
fn internal_http_routes_through_the_internal_listener() {
    let r = rendered("internal-http");
    let res = &r["template"]["Resources"];
    let p = &r["parameters"];
    assert_eq!(p["RulePath"], "/orders");
    assert_eq!(p["TargetPort"], "8080");
    assert_eq!(p["TargetContainer"], "orders");
    assert!(p.get("HTTPSEnabled").is_none(), "the listeners are chosen at render time");
    let rule = &res["HTTPListenerRule"]["Properties"];
    assert_eq!(
        rule["ListenerArn"],
        json!({"Fn::ImportValue": {"Fn::Sub": "${AppName}-${EnvName}-InternalHTTPListenerArn"}})
    );
    assert!(res.get("HTTPSListenerRule").is_none() && res.get("HTTPListenerRuleWithDomain").is_none());
    assert_eq!(res["TargetGroup"]["Properties"]["HealthCheckPath"], "/healthz");
    let svc = &res["Service"];
    assert_eq!(svc["DependsOn"], "HTTPListenerRule");
    assert_eq!(svc["Properties"]["LoadBalancers"][0]["TargetGroupArn"], json!({"Ref": "TargetGroup"}));
    assert_eq!(svc["Properties"]["HealthCheckGracePeriodSeconds"], 60);
    let vpc = &svc["Properties"]["NetworkConfiguration"]["AwsvpcConfiguration"];
    assert_eq!(vpc["AssignPublicIp"], "DISABLED");
    assert!(vpc["Subnets"].to_string().contains("PrivateSubnets"));
    // Request and response-time scaling read the internal load balancer's metrics.
    let requests = &res["AutoScalingPolicyALBSumRequestCountPerTarget"]["Properties"]["TargetTrackingScalingPolicyConfiguration"]
        ["PredefinedMetricSpecification"];
    let label = requests["ResourceLabel"].to_string();
    assert!(label.contains("InternalHTTPListenerArn") && label.contains("TargetGroupFullName"), "{label}");
    let rt = &res["AutoScalingPolicyALBAverageResponseTime"]["Properties"]["TargetTrackingScalingPolicyConfiguration"];
    assert_eq!(rt["TargetValue"], 0.5);
    assert_eq!(
        res["Service"]["Properties"]["CapacityProviderStrategy"][0],
        json!({"CapacityProvider": "FARGATE", "Base": 2, "Weight": 0})
    );
    let env = res["TaskDefinition"]["Properties"]["ContainerDefinitions"][0]["Environment"].to_string();
    assert!(env.contains("COPILOT_LB_DNS") && env.contains("InternalLoadBalancerDNS"));
    assert_eq!(r["template"]["Outputs"]["TargetGroupARN"]["Value"], json!({"Ref": "TargetGroup"}));
}

#[test]
fn https_internal_listener_with_aliases() {
    let r = rendered("internal-http-alias");
    let res = &r["template"]["Resources"];
    let https = &res["HTTPSListenerRule"]["Properties"];
    assert_eq!(
        https["ListenerArn"],
        json!({"Fn::ImportValue": {"Fn::Sub": "${AppName}-${EnvName}-InternalHTTPSListenerArn"}})
    );
    assert_eq!(
        https["Conditions"][1]["HostHeaderConfig"]["Values"],
        json!(["payments.internal.example.com", "payments-v2.internal.example.com"])
    );
    // Copilot's order: source IPs, hosts, path.
    assert_eq!(https["Conditions"][0]["SourceIpConfig"]["Values"], json!(["10.0.0.0/16"]));
    let redirect = &res["HTTPListenerRuleWithDomain"]["Properties"];
    assert_eq!(redirect["Actions"][0]["RedirectConfig"]["Protocol"], "HTTPS");
    assert!(redirect["ListenerArn"].to_string().contains("InternalHTTPListenerArn"));
    // Only the alias with a hosted zone gets a record.
    let record = &res["AliasRecord"]["Properties"];
    assert_eq!(record["HostedZoneId"], "Z0123456789PRIVATE");
    assert_eq!(record["Type"], "CNAME");
    assert_eq!(record["Name"], "payments.internal.example.com");
    assert!(res.get("AliasRecord1").is_none());
    assert_eq!(res["TargetGroup"]["Properties"]["ProtocolVersion"], "HTTP2");
    assert_eq!(res["Service"]["DependsOn"], json!(["HTTPSListenerRule", "HTTPListenerRuleWithDomain"]));
}

#[test]
fn deny_default_gets_a_group_the_internal_lb_may_reach() {
    let r = rendered("deny-default-http");
    let res = &r["template"]["Resources"];
    let ingress = &res["ServiceSecurityGroupIngressFromInternalALB"]["Properties"];
    assert_eq!(
        ingress["SourceSecurityGroupId"],
        json!({"Fn::ImportValue": {"Fn::Sub": "${AppName}-${EnvName}-InternalLoadBalancerSecurityGroup"}})
    );
    assert_eq!(ingress["FromPort"], json!({"Ref": "TargetPort"}));
    let groups = &res["Service"]["Properties"]["NetworkConfiguration"]["AwsvpcConfiguration"]["SecurityGroups"];
    assert_eq!(
        groups,
        &json!(["sg-0123456789abcdef0", {"Fn::GetAtt": ["ServiceSecurityGroup", "GroupId"]}]),
        "no environment group, the service's own group last"
    );
    // Without deny_default the environment group admits the load balancer.
    let r = rendered("internal-http");
    assert!(r["template"]["Resources"].get("ServiceSecurityGroup").is_none());
}

#[test]
fn publish_creates_topics_fifo_and_grants_publish() {
    let r = rendered("publish-topics");
    let res = &r["template"]["Resources"];
    let standard = &res["orderEventsSNSTopic"]["Properties"];
    assert_eq!(standard["TopicName"], json!({"Fn::Sub": "${AppName}-${EnvName}-${WorkloadName}-orderEvents"}));
    assert!(standard.get("FifoTopic").is_none());
    let fifo = &res["paymentDASHeventsSNSTopic"]["Properties"];
    assert_eq!(fifo["FifoTopic"], true, "fifo: true makes a FIFO topic");
    assert_eq!(fifo["TopicName"], json!({"Fn::Sub": "${AppName}-${EnvName}-${WorkloadName}-payment-events.fifo"}));
    assert!(fifo.get("ContentBasedDeduplication").is_none());
    let dedup = &res["auditUSCORElogSNSTopic"]["Properties"];
    assert_eq!(dedup["FifoTopic"], true);
    assert_eq!(dedup["ContentBasedDeduplication"], true);
    let policy = &res["orderEventsSNSTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"][0];
    assert_eq!(policy["Action"], json!(["sns:Subscribe"]));
    assert_eq!(policy["Condition"]["StringEquals"]["sns:Protocol"], "sqs");
    let outputs = &r["template"]["Outputs"];
    for id in ["orderEventsSNSTopicArn", "paymentDASHeventsSNSTopicArn", "auditUSCORElogSNSTopicArn"] {
        assert!(outputs.get(id).is_some(), "output {id}");
    }
    let env = &res["TaskDefinition"]["Properties"]["ContainerDefinitions"][0]["Environment"];
    let arns = env.as_array().unwrap().iter().find(|e| e["Name"] == "COPILOT_SNS_TOPIC_ARNS").unwrap();
    assert_eq!(
        arns["Value"],
        json!({"Fn::Sub": "{\"orderEvents\":\"${orderEventsSNSTopic}\",\"payment-events\":\"${paymentDASHeventsSNSTopic}\",\"audit_log\":\"${auditUSCORElogSNSTopic}\"}"})
    );
    let role = &res["TaskRole"]["Properties"]["Policies"];
    assert_eq!(role[0]["PolicyName"], "Publish2SNS");
    assert_eq!(role[0]["PolicyDocument"]["Statement"][0]["Resource"].as_array().map(Vec::len), Some(3));
}

#[test]
fn placement_platforms_sidecars_and_overrides() {
    let private = rendered("private-placement");
    let vpc = &private["template"]["Resources"]["Service"]["Properties"]["NetworkConfiguration"]["AwsvpcConfiguration"];
    assert_eq!(vpc["AssignPublicIp"], "DISABLED");
    assert!(vpc["Subnets"].to_string().contains("PrivateSubnets"));
    assert_eq!(vpc["SecurityGroups"].as_array().map(Vec::len), Some(2), "env group plus the listed one");
    assert_eq!(private["parameters"]["ContainerImage"], "public.ecr.aws/docker/library/redis:7");

    let arm = rendered("arm64");
    assert_eq!(
        arm["template"]["Resources"]["TaskDefinition"]["Properties"]["RuntimePlatform"]["CpuArchitecture"],
        "ARM64"
    );
    let windows = rendered("windows");
    assert_eq!(
        windows["template"]["Resources"]["TaskDefinition"]["Properties"]["RuntimePlatform"]["OperatingSystemFamily"],
        "WINDOWS_SERVER_2022_CORE"
    );

    let sidecars = rendered("sidecars");
    let containers = &sidecars["template"]["Resources"]["TaskDefinition"]["Properties"]["ContainerDefinitions"];
    assert_eq!(containers.as_array().map(Vec::len), Some(4));
    assert_eq!(sidecars["parameters"]["TargetContainer"], "nginx");
    assert_eq!(sidecars["parameters"]["TargetPort"], "80");
    assert_eq!(containers[0]["DependsOn"][0], json!({"ContainerName": "init", "Condition": "COMPLETE"}));
    assert_eq!(containers[3]["PortMappings"][0], json!({"ContainerPort": 8125, "Protocol": "udp"}));

    let env = rendered("env-overridden");
    assert_eq!(env["parameters"]["TaskCount"], "3");
    let res = &env["template"]["Resources"];
    assert_eq!(res["Service"]["Properties"]["DeploymentConfiguration"]["MinimumHealthyPercent"], 0);
    assert!(res.get("TargetGroup").is_none(), "http: false");
    let vars = res["TaskDefinition"]["Properties"]["ContainerDefinitions"][0]["Environment"].to_string();
    assert!(vars.contains(r#"{"Name":"LOG_LEVEL","Value":"debug"}"#), "{vars}");
}

#[test]
fn full_manifest_renders_every_section() {
    let r = rendered("full");
    let res = &r["template"]["Resources"];
    let main = &res["TaskDefinition"]["Properties"]["ContainerDefinitions"][0];
    assert_eq!(main["EntryPoint"], json!(["/bin/entry", "--verbose"]));
    assert_eq!(main["ReadonlyRootFilesystem"], true);
    assert_eq!(res["TaskDefinition"]["Properties"]["EphemeralStorage"]["SizeInGiB"], 50);
    assert_eq!(r["parameters"]["LogRetention"], "14");
    assert!(res["TaskRole"]["Properties"]["Policies"].to_string().contains("ssmmessages"));
    assert!(res["TaskRole"]["Properties"]["Policies"].to_string().contains("Publish2SNS"));
    assert_eq!(res["TargetGroup"]["Properties"]["HealthCheckPort"], "8081");
    assert_eq!(res["Service"]["Properties"]["HealthCheckGracePeriodSeconds"], 120);
    assert_eq!(res["AliasRecord"]["Properties"]["HostedZoneId"], "Z0123456789PRIVATE");
    assert!(res.get("apiEventsSNSTopic").is_some());
    for policy in [
        "AutoScalingPolicyECSServiceAverageCPUUtilization",
        "AutoScalingPolicyECSServiceAverageMemoryUtilization",
        "AutoScalingPolicyALBSumRequestCountPerTarget",
        "AutoScalingPolicyALBAverageResponseTime",
    ] {
        assert!(res.get(policy).is_some(), "{policy}");
    }
}

#[test]
fn diagnostics_point_at_the_field() {
    let d = diagnostics("alb-empty");
    assert!(has(&d, "/http/alb", "`alb` is empty"), "/http/alb: {d:?}");
    assert!(has(&diagnostics("unknown-field"), "/http/helthcheck", "healthcheck"));
    assert!(has(&diagnostics("redirect-to-https"), "/http/redirect_to_https", "unknown field"));
    assert!(has(&diagnostics("wrong-type"), "/cpu", ""));
    assert!(has(&diagnostics("http-no-port"), "/image", "needs `image.port`"));
    assert!(has(&diagnostics("http-missing-path"), "/http", "missing required field `path`"));
    assert!(has(&diagnostics("requests-without-http"), "/count/requests", "needs a load balancer"));
    assert!(has(&diagnostics("alias-no-https"), "/http/alias", "has no HTTPS listener"));
    assert!(has(&diagnostics("hosted-zone-no-alias"), "/http/hosted_zone", "needs `alias`"));
    let topics = diagnostics("bad-topics");
    assert!(has(&topics, "/publish/topics/0/name", "not a valid topic name"));
    assert!(has(&topics, "/publish/topics/2/name", "declared twice"));
    assert!(has(&diagnostics("fifo-wrong-type"), "/publish/topics/0/fifo", "content_based_deduplication"));
    assert!(has(&diagnostics("topic-unknown-field"), "/publish/topics/0/fifo/content_based_dedup", ""));
    assert!(has(&diagnostics("wrong-kind"), "/type", "Backend Service"));
    let bad = diagnostics("bad-path");
    assert!(has(&bad, "/http/path", "is not a path"));
    assert!(has(&bad, "/http/target_container", "no container named `proxy`"));
    assert!(has(&bad, "/http/allowed_source_ips/0", "not a CIDR block"));
}

#[test]
fn validate_without_environment_skips_environment_checks() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/manifests/no-private-http.yml");
    assert_eq!(BackendService::validate(&load(&path)), vec![]);
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/invalid/http-no-port.yml");
    let d = BackendService::validate(&load(&path));
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].path, "/image");
}

#[test]
fn info_has_schema_and_init_template() {
    let info = BackendService::info();
    assert_eq!(info.name, "backend-service");
    assert_eq!(info.manifest_types, ["Backend Service"]);
    for field in ["http", "publish", "image", "count", "sidecars"] {
        assert!(info.manifest_schema["properties"][field].is_object(), "schema lacks {field}");
    }
    for placeholder in ["{{name}}", "{{dockerfile}}", "{{port}}"] {
        assert!(info.manifest_template.contains(placeholder), "template lacks {placeholder}");
    }
    assert_eq!(BackendService::validate(&init_manifest()), vec![]);
}

/// Copilot's shapes for `additional_rules` on the internal load balancer
/// (templates `alb.yml` and `https-listener.yml`): rule N has `TargetGroupN`
/// and, with HTTPS, `HTTPSListenerRuleN` on the internal HTTPS listener plus
/// `HTTPListenerRuleWithDomainN` redirecting on the internal HTTP one; the
/// service registers every target group.
#[test]
fn additional_rules_render_as_copilot_does() {
    let r = rendered("additional-rules");
    let res = &r["template"]["Resources"];
    let types = |id: &str| res[id]["Type"].as_str().unwrap_or_default().to_string();
    for i in ["", "1", "2"] {
        assert_eq!(types(&format!("TargetGroup{i}")), "AWS::ElasticLoadBalancingV2::TargetGroup");
        assert_eq!(types(&format!("HTTPSListenerRule{i}")), "AWS::ElasticLoadBalancingV2::ListenerRule");
        assert_eq!(types(&format!("HTTPListenerRuleWithDomain{i}")), "AWS::ElasticLoadBalancingV2::ListenerRule");
    }
    assert!(res.get("TargetGroup3").is_none());
    let admin = &res["TargetGroup1"]["Properties"];
    assert_eq!(admin["Port"], 8081);
    assert_eq!(admin["HealthCheckPath"], "/health");
    assert_eq!(admin["HealthCheckPort"], "8081");
    assert_eq!(admin["HealthyThresholdCount"], 2);
    assert_eq!(admin["UnhealthyThresholdCount"], 3);
    assert_eq!(admin["HealthCheckIntervalSeconds"], 10);
    assert_eq!(admin["HealthCheckTimeoutSeconds"], 5);
    assert_eq!(admin["ProtocolVersion"], "HTTP2");
    assert!(admin["TargetGroupAttributes"].to_string().contains("stickiness.enabled"));
    assert!(admin["TargetGroupAttributes"].to_string().contains(r#""Value":"5""#));
    let https = &res["HTTPSListenerRule1"]["Properties"];
    assert!(https["ListenerArn"].to_string().contains("InternalHTTPSListenerArn"));
    assert_eq!(https["Conditions"][0]["SourceIpConfig"]["Values"], json!(["10.0.0.0/16"]));
    assert_eq!(https["Conditions"][1]["HostHeaderConfig"]["Values"], json!(["admin.internal.example.com"]));
    assert_eq!(https["Conditions"][2]["PathPatternConfig"]["Values"], json!(["/admin", "/admin/*"]));
    assert_eq!(https["Actions"][0]["TargetGroupArn"], json!({"Ref": "TargetGroup1"}));
    assert_eq!(https["Priority"], json!({"Ref": "HTTPSListenerRule1Priority"}));
    assert!(r["parameters"]["HTTPSListenerRule1Priority"].as_str().is_some_and(|p| p.parse::<u32>().is_ok()));
    let redirect = &res["HTTPListenerRuleWithDomain2"]["Properties"];
    assert_eq!(redirect["Actions"][0]["Type"], "redirect");
    let lbs = &res["Service"]["Properties"]["LoadBalancers"];
    assert_eq!(
        lbs[1],
        json!({"ContainerName": "admin", "ContainerPort": 8081, "TargetGroupArn": {"Ref": "TargetGroup1"}})
    );
    assert_eq!(
        lbs[2],
        json!({"ContainerName": "api", "ContainerPort": 8080, "TargetGroupArn": {"Ref": "TargetGroup2"}})
    );
    let depends = res["Service"]["DependsOn"].to_string();
    assert!(depends.contains("HTTPSListenerRule2") && depends.contains("HTTPListenerRuleWithDomain1"), "{depends}");

    // The environment's override replaced the list: one more path, HTTP only.
    let env = rendered("additional-rules-env");
    let res = &env["template"]["Resources"];
    assert_eq!(
        res["HTTPListenerRule1"]["Properties"]["Conditions"][0]["PathPatternConfig"]["Values"],
        json!(["/v2", "/v2/*"])
    );
    assert!(res.get("HTTPListenerRule2").is_none() && res.get("HTTPSListenerRule1").is_none());
}

/// A Backend Service with `http` renders against an environment whose
/// manifest has no `http.private` (Copilot creates the internal load
/// balancer on demand).
#[test]
fn http_without_private_in_the_environment_renders() {
    let r = rendered("no-private-http");
    let res = &r["template"]["Resources"];
    assert!(res["HTTPListenerRule"]["Properties"]["ListenerArn"].to_string().contains("InternalHTTPListenerArn"));
    assert_eq!(res["TargetGroup"]["Type"], "AWS::ElasticLoadBalancingV2::TargetGroup");
}

/// Service Connect as Copilot renders it: the service joins the
/// environment's namespace as a server named after itself (or its alias),
/// on the main container's port named `TargetPort`; rollback alarms by name.
#[test]
fn service_connect_tracing_and_rollback_alarm_names() {
    let r = rendered("service-connect");
    let res = &r["template"]["Resources"];
    let service = &res["Service"]["Properties"];
    let sc = &service["ServiceConnectConfiguration"];
    assert_eq!(sc["Enabled"], true);
    assert_eq!(sc["Namespace"], json!({"Fn::Sub": "${EnvName}.${AppName}.local"}));
    assert_eq!(sc["Services"][0]["PortName"], "TargetPort");
    assert_eq!(sc["Services"][0]["DiscoveryName"], json!({"Fn::Join": ["-", [{"Ref": "WorkloadName"}, "sc"]]}));
    assert_eq!(sc["Services"][0]["ClientAliases"][0]["DnsName"], "api-connect");
    assert_eq!(sc["Services"][0]["ClientAliases"][0]["Port"], json!({"Ref": "ContainerPort"}));
    let containers = &res["TaskDefinition"]["Properties"]["ContainerDefinitions"];
    assert_eq!(containers[0]["PortMappings"][0]["Name"], "TargetPort");
    assert_eq!(containers[1]["Name"], "aws-otel-collector");
    assert_eq!(
        service["DeploymentConfiguration"]["Alarms"],
        json!({"AlarmNames": ["chat-test-api-5xx"], "Enable": true, "Rollback": true})
    );
    assert!(res.get("CPURollbackAlarm").is_none());
    assert!(res["TaskRole"]["Properties"]["Policies"].to_string().contains("AWSDistroOpenTelemetryPolicy"));
}

/// `http.alb` on a Backend Service: Copilot's imported-ALB resources on the
/// imported internal load balancer (HTTPS forward, HTTP redirect, ingress
/// from its security group, an alias record in the private zone), and no
/// import of the environment's internal load balancer.
#[test]
fn imported_alb_renders_as_copilot_does() {
    let r = rendered("imported-alb");
    let res = &r["template"]["Resources"];
    let listener = |id: &str| {
        format!(
            "arn:aws:elasticloadbalancing:us-west-2:123456789012:listener/app/shared/0123456789abcdef/000000000000000{id}"
        )
    };
    assert_eq!(res["HTTPSListenerRuleForImportedALB"]["Properties"]["ListenerArn"], listener("2"));
    let redirect = &res["HTTPListenerRedirectRuleForImportedALB"]["Properties"];
    assert_eq!(redirect["ListenerArn"], listener("1"));
    assert_eq!(redirect["Actions"][0]["Type"], "redirect");
    assert_eq!(
        res["HTTPSListenerRuleForImportedALB"]["Properties"]["Conditions"][0],
        json!({"Field": "host-header", "HostHeaderConfig": {"Values": ["api.internal.example.com"]}})
    );
    assert_eq!(
        res["EnvironmentSecurityGroupIngressFromImportedALB"]["Properties"]["SourceSecurityGroupId"],
        "sg-0123456789abcdef0"
    );
    let alias = &res["LoadBalancerDNSAliasZ0PRIVATEZONE"]["Properties"];
    assert_eq!(
        alias["RecordSets"][0]["AliasTarget"],
        json!({"HostedZoneId": "Z1H1FL5HABSF5", "DNSName": "internal-shared-1234567890.us-west-2.elb.amazonaws.com"})
    );
    assert!(res.get("AliasRecord").is_none() && res.get("TargetGroup").is_none());
    let text = r["template"].to_string();
    assert!(!text.contains("InternalLoadBalancer") && !text.contains("InternalHTTP"), "{text}");
    let scaling = res.to_string();
    assert!(!scaling.contains("InternalHTTPListenerArn"));
}

/// `network.vpc.placement.subnets.from_tags`: the subnets the host found
/// become the service's `Subnets` (no public IP, as for listed IDs);
/// offline the environment's private subnets stand in.
#[test]
fn placement_from_tags_uses_the_subnets_deploy_found() {
    let network = |name: &str| {
        rendered(name)["template"]["Resources"]["Service"]["Properties"]["NetworkConfiguration"]["AwsvpcConfiguration"]
            .clone()
    };
    let found = network("placement-from-tags");
    assert_eq!(found["Subnets"], json!(["subnet-0a1b2c3d4e5f60718", "subnet-0f1e2d3c4b5a69788"]));
    assert_eq!(found["AssignPublicIp"], "DISABLED");
    let offline = network("placement-from-tags-offline");
    assert_eq!(
        offline["Subnets"],
        json!({"Fn::Split": [",", {"Fn::ImportValue": {"Fn::Sub": "${AppName}-${EnvName}-PrivateSubnets"}}]})
    );
}

/// `sidecars.<name>.image.build` renders the image the host built and
/// pushed (pinned by digest); offline, Copilot's `<sidecar>-latest` tag in
/// the workload's repository. `build` with `location` is refused.
#[test]
fn sidecar_image_build_runs_the_image_the_host_pushed() {
    let manifest = json!({
        "name": "api", "type": "Backend Service",
        "image": {"location": "public.ecr.aws/docker/library/redis:7", "port": 6379},
        "sidecars": {"proxy": {"image": {"build": {"dockerfile": "proxy/Dockerfile"}}, "port": 80}}
    });
    let mut ctx = context_for("sidecar-build", &manifest);
    let image = |r: &Rendered| {
        let containers =
            r.template.to_json()["Resources"]["TaskDefinition"]["Properties"]["ContainerDefinitions"].clone();
        containers.as_array().unwrap().iter().find(|c| c["Name"] == "proxy").expect("proxy container")["Image"].clone()
    };
    let offline = BackendService::render(&manifest, &ctx).expect("renders offline");
    assert_eq!(
        image(&offline),
        json!({"Fn::Sub": "${AWS::AccountId}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}/chat/api:proxy-latest"})
    );
    let pinned = "123456789012.dkr.ecr.us-west-2.amazonaws.com/chat/api@sha256:0123";
    ctx.sidecar_images.insert(
        "proxy".into(),
        ferry_plugin_sdk::protocol::ImageRef { uri: pinned.into(), digest: Some("sha256:0123".into()) },
    );
    assert_eq!(image(&BackendService::render(&manifest, &ctx).unwrap()), json!(pinned));

    let mut both = manifest.clone();
    both["sidecars"]["proxy"]["image"]["location"] = json!("nginx");
    match BackendService::render(&both, &ctx) {
        Err(RenderError::Invalid(d)) => assert!(
            d.iter().any(|d| d.path == "/sidecars/proxy/image" && d.message.contains("both `build` and `location`")),
            "{d:?}"
        ),
        other => panic!("expected a diagnostic, got {other:?}"),
    }
}

ferry_plugin_sdk::schema_file_test!(ferry_plugin_backend_service::manifest::Manifest);
