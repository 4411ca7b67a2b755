//! Renders every fixture manifest natively (no wasm) and checks the
//! templates: snapshots, one cfn-lint pass over all of them, and the
//! behaviour each fixture exists for.

use ferry_plugin_load_balanced_web_service::{Lbws, rule_priority};
use ferry_plugin_sdk::protocol::{AddonsOutputs, ImageRef, ImportedAlb};
use ferry_plugin_sdk::{Plugin, RenderContext, RenderError, Rendered, Value, json};
use std::path::{Path, PathBuf};

fn fixtures(dir: &str) -> Vec<PathBuf> {
    plugin::fixtures(env!("CARGO_MANIFEST_DIR"), dir)
}

use ferry_test_support::{load_yaml as load, plugin, stem};

/// The environment each fixture renders against; the fixture's name says why.
fn context_for(fixture: &str, manifest: &Value) -> RenderContext {
    let mut ctx = RenderContext {
        app: "chat".into(),
        env: "test".into(),
        name: manifest["name"].as_str().unwrap_or_default().into(),
        ..Default::default()
    };
    let https = |ctx: &mut RenderContext| {
        ctx.environment.https_listener = true;
        ctx.environment.dns_delegated = true;
        ctx.app_domain = Some("example.com".into());
    };
    match fixture {
        "aliases-https" | "healthcheck-path" | "full" | "alias-outside-domain" | "additional-rules" | "nlb-only"
        | "canary-alarms" => {
            https(&mut ctx)
        }
        "alias-no-domain" => ctx.environment.https_listener = true,
        "imported-alb-http-only" => {
            ctx.imported_alb = Some(ImportedAlb {
                arn: "arn:aws:elasticloadbalancing:us-west-2:123456789012:loadbalancer/app/shared/50dc6c495c0c9188".into(),
                name: "shared".into(),
                dns_name: "shared-1234567890.us-west-2.elb.amazonaws.com".into(),
                hosted_zone_id: "Z1H1FL5HABSF5".into(),
                http_listener_arn: Some(
                    "arn:aws:elasticloadbalancing:us-west-2:123456789012:listener/app/shared/50dc6c495c0c9188/f2f7dc8efc522ab2".into(),
                ),
                https_listener_arn: None,
                security_groups: vec!["sg-0a1b2c3d4e5f60718".into(), "sg-0f1e2d3c4b5a69788".into()],
            })
        }
        "alias-not-delegated" => {
            ctx.environment.https_listener = true;
            ctx.app_domain = Some("example.com".into());
        }
        "addons" => {
            ctx.image = Some(ImageRef {
                uri: "123456789012.dkr.ecr.us-west-2.amazonaws.com/chat/orders:abc1234".into(),
                digest: Some("sha256:0123".into()),
            });
            ctx.addons = Some(AddonsOutputs {
                managed_policies: vec!["OrdersTableAccessPolicy".into()],
                secrets: vec!["DBPasswordSecret".into()],
                security_groups: vec!["DBSecurityGroup".into()],
                variables: vec!["OrdersTableName".into()],
            });
        }
        _ => {}
    }
    ctx
}

fn render(path: &Path) -> (Value, Result<Rendered, RenderError>) {
    let manifest = load(path);
    let ctx = context_for(&stem(path), &manifest);
    let result = Lbws::render(&manifest, &ctx);
    (manifest, result)
}

fn rendered(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/manifests/{name}.yml"));
    match render(&path).1 {
        Ok(r) => json!({"template": r.template.to_json(), "parameters": r.parameters}),
        Err(e) => panic!("{name}.yml did not render: {e:?}"),
    }
}

#[test]
fn valid_manifests_render_snapshot_and_lint_clean() {
    let files = fixtures("manifests");
    assert!(files.len() >= 10, "expected at least 10 fixtures, found {}", files.len());
    let mut templates = Vec::new();
    for path in &files {
        let name = stem(path);
        let rendered = match render(path).1 {
            Ok(r) => r,
            Err(e) => panic!("{name}.yml did not render: {e:?}"),
        };
        insta::assert_json_snapshot!(name.clone(), plugin::checked_snapshot(&name, &rendered));
        templates.push((name, plugin::as_host_would(rendered.template.to_json())));
    }
    plugin::lint_all(&templates);
}

#[test]
fn invalid_manifests_are_diagnosed() {
    let files = fixtures("invalid");
    assert!(!files.is_empty());
    for path in &files {
        let name = stem(path);
        let shown = plugin::checked_diagnostics(&name, render(path).1);
        insta::assert_json_snapshot!(format!("invalid-{name}"), shown);
    }
}

#[test]
fn minimal_manifest_gets_copilot_defaults() {
    let r = rendered("minimal");
    let p = &r["parameters"];
    assert_eq!(p["TaskCPU"], "256");
    assert_eq!(p["TaskMemory"], "512");
    assert_eq!(p["TaskCount"], "1");
    assert_eq!(p["LogRetention"], "30");
    assert_eq!(p["ContainerImage"], "", "a built image is filled in by the host");
    assert_eq!(p["RulePath"], "/");
    assert_eq!(p["HTTPSEnabled"], "false");
    let res = &r["template"]["Resources"];
    assert!(res.get("HTTPListenerRule").is_some());
    assert!(res.get("HTTPSListenerRule").is_none());
    assert!(res.get("AutoScalingTarget").is_none());
    let svc = &res["Service"]["Properties"];
    assert_eq!(svc["EnableExecuteCommand"], false);
    assert_eq!(svc["LaunchType"], "FARGATE");
    // Copilot's default placement is public: public subnets with a public IP.
    assert_eq!(svc["NetworkConfiguration"]["AwsvpcConfiguration"]["AssignPublicIp"], "ENABLED");
    assert_eq!(
        svc["NetworkConfiguration"]["AwsvpcConfiguration"]["Subnets"],
        json!({"Fn::Split": [",", {"Fn::ImportValue": {"Fn::Sub": "${AppName}-${EnvName}-PublicSubnets"}}]})
    );
    assert_eq!(svc["DeploymentConfiguration"]["DeploymentCircuitBreaker"]["Rollback"], true);
    assert_eq!(res["TargetGroup"]["Properties"]["HealthCheckPath"], "/");
    assert_eq!(res["Service"]["DependsOn"], "HTTPListenerRule");
    let platform = &res["TaskDefinition"]["Properties"]["RuntimePlatform"];
    assert_eq!(platform["CpuArchitecture"], "X86_64");
    assert!(res["TaskRole"]["Properties"].get("Policies").is_none(), "exec is off by default");
}

#[test]
fn https_environment_forwards_https_and_redirects_http() {
    let r = rendered("aliases-https");
    let res = &r["template"]["Resources"];
    assert_eq!(r["parameters"]["HTTPSEnabled"], "true");
    assert!(res.get("HTTPSListenerRule").is_some());
    assert_eq!(res["HTTPListenerRuleWithDomain"]["Properties"]["Actions"][0]["RedirectConfig"]["Protocol"], "HTTPS");
    // Five aliases, root path: four hosts fit in one rule, so two rules per listener.
    assert!(res.get("HTTPSListenerRuleHosts1").is_some());
    assert!(res.get("HTTPSListenerRuleHosts2").is_none());
    assert!(res.get("HTTPSListenerRule1").is_none(), "numbered IDs are for additional rules");
    let hosts = &res["HTTPSListenerRule"]["Properties"]["Conditions"][0]["HostHeaderConfig"]["Values"];
    assert_eq!(hosts.as_array().map(Vec::len), Some(4));
    // The alias with an explicit hosted zone uses it; others go in the app's zones.
    assert_eq!(res["AliasRecord3"]["Properties"]["HostedZoneId"], "Z0873220N255IR3MTNR4");
    assert_eq!(res["AliasRecord2"]["Properties"]["HostedZoneName"], "test.chat.example.com.");
    assert_eq!(res["AliasRecord4"]["Properties"]["HostedZoneName"], "chat.example.com.");
    assert_eq!(res["AliasRecord"]["Properties"]["HostedZoneName"], "example.com.");
    let no_redirect = rendered("healthcheck-path");
    let res = &no_redirect["template"]["Resources"];
    assert_eq!(
        res["HTTPListenerRuleWithDomain"]["Properties"]["Actions"][0]["Type"], "forward",
        "redirect_to_https: false"
    );
}

#[test]
fn autoscaling_tracks_all_four_metrics() {
    let r = rendered("autoscaling");
    let res = &r["template"]["Resources"];
    assert_eq!(r["parameters"]["TaskCount"], "1");
    assert_eq!(res["AutoScalingTarget"]["Properties"]["MaxCapacity"], 8);
    let cfg = |id: &str| res[id]["Properties"]["TargetTrackingScalingPolicyConfiguration"].clone();
    assert_eq!(cfg("AutoScalingPolicyECSServiceAverageCPUUtilization")["TargetValue"], 70.0);
    assert_eq!(cfg("AutoScalingPolicyECSServiceAverageCPUUtilization")["ScaleInCooldown"], 120);
    assert_eq!(cfg("AutoScalingPolicyECSServiceAverageMemoryUtilization")["ScaleInCooldown"], 90);
    assert_eq!(cfg("AutoScalingPolicyECSServiceAverageMemoryUtilization")["ScaleOutCooldown"], 60);
    assert_eq!(
        cfg("AutoScalingPolicyALBSumRequestCountPerTarget")["PredefinedMetricSpecification"]["PredefinedMetricType"],
        "ALBRequestCountPerTarget"
    );
    let rt = cfg("AutoScalingPolicyALBAverageResponseTime");
    assert_eq!(rt["TargetValue"], 0.5);
    assert_eq!(rt["CustomizedMetricSpecification"]["MetricName"], "TargetResponseTime");
}

#[test]
fn placement_spot_recreate_windows_and_arm() {
    let public = rendered("public-placement");
    let vpc = &public["template"]["Resources"]["Service"]["Properties"]["NetworkConfiguration"]["AwsvpcConfiguration"];
    assert_eq!(vpc["AssignPublicIp"], "ENABLED");
    assert!(vpc["Subnets"].to_string().contains("PublicSubnets"));
    assert_eq!(vpc["SecurityGroups"], json!(["sg-0aaaabbbbccccdddd"]), "deny_default drops the env group");
    assert_eq!(public["parameters"]["ContainerImage"], "public.ecr.aws/nginx/nginx:latest");

    let spot = rendered("spot");
    let svc = &spot["template"]["Resources"]["Service"]["Properties"];
    assert_eq!(svc["CapacityProviderStrategy"][0]["CapacityProvider"], "FARGATE_SPOT");
    assert!(svc.get("LaunchType").is_none());
    assert_eq!(spot["parameters"]["TaskCount"], "3");
    let mixed = rendered("spot-from");
    let strategy = &mixed["template"]["Resources"]["Service"]["Properties"]["CapacityProviderStrategy"];
    assert_eq!(strategy[0], json!({"CapacityProvider": "FARGATE", "Base": 2, "Weight": 0}));

    let recreate = rendered("recreate");
    let deploy = &recreate["template"]["Resources"]["Service"]["Properties"]["DeploymentConfiguration"];
    assert_eq!(deploy["MinimumHealthyPercent"], 0);
    assert_eq!(deploy["MaximumPercent"], 100);

    for (name, family) in [("windows-2019", "WINDOWS_SERVER_2019_CORE"), ("windows-2022", "WINDOWS_SERVER_2022_CORE")] {
        let r = rendered(name);
        assert_eq!(
            r["template"]["Resources"]["TaskDefinition"]["Properties"]["RuntimePlatform"]["OperatingSystemFamily"],
            family
        );
    }
    let arm = rendered("arm64");
    assert_eq!(
        arm["template"]["Resources"]["TaskDefinition"]["Properties"]["RuntimePlatform"]["CpuArchitecture"],
        "ARM64"
    );
}

#[test]
fn commands_secrets_sidecars_and_addons() {
    let exec = rendered("exec-command");
    let main = &exec["template"]["Resources"]["TaskDefinition"]["Properties"]["ContainerDefinitions"][0];
    assert_eq!(main["Command"], json!(["python", "-m", "http.server", "8080", "--bind", "0.0.0.0"]));
    assert_eq!(main["EntryPoint"], json!(["/usr/bin/dumb-init", "--"]));
    assert_eq!(exec["parameters"]["RulePath"], "/shell");
    assert!(exec["template"]["Resources"]["TaskRole"]["Properties"]["Policies"].to_string().contains("ssmmessages"));

    let secrets = rendered("secrets");
    let list = &secrets["template"]["Resources"]["TaskDefinition"]["Properties"]["ContainerDefinitions"][0]["Secrets"];
    assert_eq!(list.as_array().map(Vec::len), Some(8));
    assert_eq!(list[0]["ValueFrom"], "GITHUB_TOKEN");
    assert_eq!(list[7]["ValueFrom"], json!({"Fn::ImportValue": "chat-test-DbSecretArn"}));
    let policy = secrets["template"]["Resources"]["ExecutionRole"]["Properties"]["Policies"].to_string();
    assert!(policy.contains("parameter/copilot/${AppName}/${EnvName}/secrets/*"));
    assert!(policy.contains(r#"parameter/"},"GITHUB_TOKEN"]]"#), "named parameter granted: {policy}");
    assert_eq!(policy.matches("mysql-*").count(), 1, "one grant per secret: {policy}");
    assert!(policy.contains("secret:shared-db-AbCdEf\""));
    assert!(policy.contains("mysql-*"));

    let sidecars = rendered("sidecars");
    let containers = &sidecars["template"]["Resources"]["TaskDefinition"]["Properties"]["ContainerDefinitions"];
    assert_eq!(containers.as_array().map(Vec::len), Some(4));
    assert_eq!(sidecars["parameters"]["TargetContainer"], "nginx");
    assert_eq!(sidecars["parameters"]["TargetPort"], "80");
    assert_eq!(containers[0]["DependsOn"][0], json!({"ContainerName": "init", "Condition": "COMPLETE"}));
    assert_eq!(containers[3]["PortMappings"][0], json!({"ContainerPort": 8125, "Protocol": "udp"}));

    let addons = rendered("addons");
    let res = &addons["template"]["Resources"];
    assert_eq!(
        addons["parameters"]["ContainerImage"],
        "123456789012.dkr.ecr.us-west-2.amazonaws.com/chat/orders:abc1234"
    );
    assert_eq!(
        res["TaskRole"]["Properties"]["ManagedPolicyArns"][0],
        json!({"Fn::GetAtt": ["AddonsStack", "Outputs.OrdersTableAccessPolicy"]})
    );
    let env = res["TaskDefinition"]["Properties"]["ContainerDefinitions"][0]["Environment"].to_string();
    assert!(env.contains("ORDERS_TABLE_NAME"));
}

#[test]
fn deeper_paths_take_precedence() {
    assert!(rule_priority("a", "/api/v2", 0) < rule_priority("b", "/api", 0));
    assert!(rule_priority("b", "/api", 0) < rule_priority("c", "/", 0));
    assert_eq!(rule_priority("svc", "/x", 0), rule_priority("svc", "/y", 0), "stable per service and depth");
    assert!((1..=50_000).contains(&rule_priority("svc", "/", 0)));
}

#[test]
fn validate_without_environment_accepts_aliases_and_reports_errors() {
    let alias = load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/invalid/alias-no-domain.yml"));
    assert_eq!(Lbws::validate(&alias), vec![], "aliases are checked against the environment at render time");
    let bad = load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/invalid/fargate-size.yml"));
    let d = Lbws::validate(&bad);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].path, "/memory");
}

#[test]
fn info_has_schema_and_init_template() {
    let info = Lbws::info();
    assert_eq!(info.manifest_types, ["Load Balanced Web Service"]);
    assert!(info.manifest_schema["properties"]["http"].is_object(), "schema: {}", info.manifest_schema);
    for placeholder in ["{{name}}", "{{dockerfile}}", "{{port}}"] {
        assert!(info.manifest_template.contains(placeholder), "template lacks {placeholder}");
    }
    // The template, filled in, is itself a valid manifest.
    let filled = info
        .manifest_template
        .replace("{{name}}", "web")
        .replace("{{dockerfile}}", "./Dockerfile")
        .replace("{{port}}", "8080");
    let manifest: Value = yaml_serde::from_str(&filled).unwrap_or_else(|e| panic!("template is not YAML: {e}"));
    assert_eq!(Lbws::validate(&manifest), vec![]);
}

/// Copilot's `nlb.yml` shapes for the same manifest: the service's own
/// `PublicNetworkLoadBalancerV2` in the public subnets behind
/// `NetworkLoadBalancerSecurityGroup`, the environment group admitting it,
/// `NLBListener[N]` forwarding to `NetworkLoadBalancerTargetGroup[N]`, the
/// default `NLBDNSAlias` under `HasAssociatedDomain`, and the exported
/// `PublicNetworkLoadBalancerDNSName`.
#[test]
fn nlb_renders_as_copilot_does() {
    let r = rendered("nlb");
    let t = &r["template"];
    let res = &t["Resources"];
    let ty = |id: &str| res[id]["Type"].as_str().unwrap_or_default().to_string();
    assert_eq!(ty("PublicNetworkLoadBalancerV2"), "AWS::ElasticLoadBalancingV2::LoadBalancer");
    assert_eq!(ty("NetworkLoadBalancerSecurityGroup"), "AWS::EC2::SecurityGroup");
    assert_eq!(
        ty("EnvironmentSecurityGroupIngressFromNetworkLoadBalancerSecurityGroup"),
        "AWS::EC2::SecurityGroupIngress"
    );
    assert_eq!(ty("NLBListener"), "AWS::ElasticLoadBalancingV2::Listener");
    assert_eq!(ty("NLBListener1"), "AWS::ElasticLoadBalancingV2::Listener");
    assert_eq!(ty("NetworkLoadBalancerTargetGroup1"), "AWS::ElasticLoadBalancingV2::TargetGroup");
    assert_eq!(ty("NLBDNSAlias"), "AWS::Route53::RecordSetGroup");
    assert_eq!(res["NLBDNSAlias"]["Condition"], "HasAssociatedDomain");
    assert!(res.get("NLBCertificate").is_none(), "no TLS listener");
    let lb = &res["PublicNetworkLoadBalancerV2"]["Properties"];
    assert_eq!(lb["Scheme"], "internet-facing");
    assert_eq!(lb["Type"], "network");
    assert!(lb["Subnets"].to_string().contains("PublicSubnets"));
    let ingress = &res["NetworkLoadBalancerSecurityGroup"]["Properties"]["SecurityGroupIngress"];
    assert_eq!(ingress[0]["FromPort"], 80);
    assert_eq!(ingress[1]["IpProtocol"], "udp");
    let listener = &res["NLBListener"]["Properties"];
    assert_eq!(listener["Port"], 80);
    assert_eq!(listener["Protocol"], "TCP");
    assert_eq!(listener["DefaultActions"][0]["TargetGroupArn"], json!({"Ref": "NetworkLoadBalancerTargetGroup"}));
    let tg = &res["NetworkLoadBalancerTargetGroup"]["Properties"];
    assert_eq!(tg["Port"], 8080);
    assert_eq!(tg["Protocol"], "TCP");
    assert_eq!(tg["HealthCheckPort"], "8080");
    assert_eq!(tg["HealthyThresholdCount"], 3);
    assert_eq!(tg["UnhealthyThresholdCount"], 2);
    assert_eq!(tg["HealthCheckIntervalSeconds"], 15);
    assert_eq!(tg["HealthCheckTimeoutSeconds"], 10);
    assert_eq!(
        tg["TargetGroupAttributes"],
        json!([
            {"Key": "deregistration_delay.timeout_seconds", "Value": "30"},
            {"Key": "stickiness.enabled", "Value": "true"}
        ])
    );
    let udp = &res["NetworkLoadBalancerTargetGroup1"]["Properties"];
    assert_eq!((udp["Port"].clone(), udp["Protocol"].clone()), (json!(53), json!("UDP")));
    let svc = &res["Service"];
    let lbs = &svc["Properties"]["LoadBalancers"];
    assert_eq!(lbs.as_array().map(Vec::len), Some(3), "the ALB's target group and two NLB ones");
    assert_eq!(
        lbs[2],
        json!({"ContainerName": "dns", "ContainerPort": 53, "TargetGroupArn": {"Ref": "NetworkLoadBalancerTargetGroup1"}})
    );
    assert_eq!(svc["DependsOn"], json!(["HTTPListenerRule", "NLBListener", "NLBListener1"]));
    assert_eq!(svc["Properties"]["HealthCheckGracePeriodSeconds"], 60, "the ALB's grace period wins");
    assert_eq!(r["parameters"]["NLBPort"], "80");
    assert_eq!(
        t["Outputs"]["PublicNetworkLoadBalancerDNSName"]["Value"],
        json!({"Fn::GetAtt": ["PublicNetworkLoadBalancerV2", "DNSName"]})
    );
}

/// `http: false` with `nlb`: no ALB resources, the NLB's grace period, a TLS
/// listener with Copilot's default policy unless set, and ferry's native
/// certificate (DNS-validated in the environment's zone) where Copilot runs
/// its `NLBCertValidatorAction` Lambda.
#[test]
fn nlb_only_service_with_tls() {
    let r = rendered("nlb-only");
    let res = &r["template"]["Resources"];
    for absent in ["TargetGroup", "HTTPListenerRule", "HTTPSListenerRule", "NLBDNSAlias"] {
        assert!(res.get(absent).is_none(), "{absent}");
    }
    assert!(r["template"]["Outputs"].get("URL").is_none());
    assert!(r["parameters"].get("RulePath").is_none());
    let tls = &res["NLBListener"]["Properties"];
    assert_eq!(tls["Protocol"], "TLS");
    assert_eq!(tls["SslPolicy"], "ELBSecurityPolicy-TLS13-1-2-2021-06");
    assert_eq!(tls["Certificates"][0]["CertificateArn"], json!({"Ref": "NLBCertificate"}));
    assert_eq!(res["NLBListener1"]["Properties"]["SslPolicy"], "ELBSecurityPolicy-TLS13-1-3-2021-06");
    assert_eq!(res["NetworkLoadBalancerTargetGroup"]["Properties"]["Protocol"], "TCP", "TLS ends at the NLB");
    let cert = &res["NLBCertificate"];
    assert_eq!(cert["Type"], "AWS::CertificateManager::Certificate");
    assert_eq!(cert["Properties"]["ValidationMethod"], "DNS");
    assert_eq!(cert["Properties"]["DomainName"], "tcp.example.com");
    let validation = cert["Properties"]["DomainValidationOptions"].as_array().cloned().unwrap_or_default();
    assert_eq!(validation.len(), 1, "only the name in the environment's zone validates through it");
    assert_eq!(validation[0]["DomainName"], "tcp.test.chat.example.com");
    assert_eq!(res["NLBAliasRecord1"]["Properties"]["HostedZoneName"], "test.chat.example.com.");
    assert_eq!(r["parameters"]["TargetPort"], "8080");
    assert_eq!(r["parameters"]["NLBAliases"], "tcp.example.com,tcp.test.chat.example.com");
    let ports = &res["TaskDefinition"]["Properties"]["ContainerDefinitions"][0]["PortMappings"];
    assert_eq!(ports[1], json!({"ContainerPort": 9000, "Protocol": "tcp"}), "the NLB's target port is exposed");
    let env = res["TaskDefinition"]["Properties"]["ContainerDefinitions"][0]["Environment"].to_string();
    assert!(!env.contains("COPILOT_LB_DNS"), "no ALB");
}

/// Copilot's `alb.yml`/`https-listener.yml` shapes for `additional_rules`:
/// rule N has `TargetGroupN`, `HTTPSListenerRuleN` and
/// `HTTPListenerRuleWithDomainN` (a redirect unless `redirect_to_https: false`).
#[test]
fn additional_rules_render_as_copilot_does() {
    let r = rendered("additional-rules");
    let res = &r["template"]["Resources"];
    for i in ["", "1", "2"] {
        for base in ["TargetGroup", "HTTPSListenerRule", "HTTPListenerRuleWithDomain"] {
            assert!(res.get(format!("{base}{i}")).is_some(), "{base}{i}");
        }
    }
    let admin = &res["TargetGroup1"]["Properties"];
    assert_eq!(admin["Port"], 8081);
    assert_eq!(admin["HealthCheckPath"], "/admin/health");
    assert_eq!(admin["Matcher"], json!({"HttpCode": "200,204"}));
    assert_eq!(admin["ProtocolVersion"], "HTTP2");
    let grpc = &res["TargetGroup2"]["Properties"];
    assert_eq!(grpc["ProtocolVersion"], "GRPC");
    assert_eq!(grpc["Matcher"], json!({"GrpcCode": "0"}));
    assert_eq!(grpc["Port"], 8080);
    let https = &res["HTTPSListenerRule1"]["Properties"];
    assert_eq!(
        https["Conditions"],
        json!([
            {"Field": "source-ip", "SourceIpConfig": {"Values": ["10.24.34.0/23", "10.25.0.0/16"]}},
            {"Field": "host-header", "HostHeaderConfig": {"Values": ["admin.example.com"]}},
            {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/admin", "/admin/*"]}}
        ])
    );
    assert_eq!(res["HTTPListenerRuleWithDomain1"]["Properties"]["Actions"][0]["Type"], "forward");
    assert_eq!(res["HTTPListenerRuleWithDomain2"]["Properties"]["Actions"][0]["Type"], "redirect");
    assert_eq!(res["HTTPListenerRuleWithDomain"]["Properties"]["Actions"][0]["Type"], "redirect");
    let lbs = &res["Service"]["Properties"]["LoadBalancers"];
    assert_eq!(
        lbs[1],
        json!({"ContainerName": "admin", "ContainerPort": 8081, "TargetGroupArn": {"Ref": "TargetGroup1"}})
    );
    for id in ["HTTPSListenerRule", "HTTPSListenerRule1", "HTTPListenerRuleWithDomain2"] {
        assert_eq!(res[id]["Properties"]["Priority"], json!({"Ref": format!("{id}Priority")}));
        assert!(r["parameters"][format!("{id}Priority")].as_str().is_some_and(|p| p.parse::<u32>().is_ok()));
    }

    let env = rendered("additional-rules-env");
    let res = &env["template"]["Resources"];
    assert_eq!(
        res["HTTPListenerRule1"]["Properties"]["Conditions"][0]["PathPatternConfig"]["Values"],
        json!(["/v2", "/v2/*"])
    );
    assert_eq!(res["TargetGroup1"]["Properties"]["Port"], 9090);
    assert!(res.get("HTTPListenerRule2").is_none() && res.get("HTTPSListenerRule").is_none());
}

/// Service Connect with an alias, managed EFS, FireLens and a CPU rollback
/// alarm on a web service.
#[test]
fn shared_families_render_on_a_web_service() {
    let r = rendered("families");
    let res = &r["template"]["Resources"];
    let service = &res["Service"]["Properties"];
    assert_eq!(service["ServiceConnectConfiguration"]["Services"][0]["ClientAliases"][0]["DnsName"], "frontend");
    assert_eq!(
        service["DeploymentConfiguration"]["Alarms"]["AlarmNames"],
        json!(["chat-test-web-CopilotRollbackCPUAlarm"])
    );
    assert_eq!(
        res["CPURollbackAlarm"]["Properties"]["Dimensions"][1]["Value"],
        json!({"Fn::GetAtt": ["Service", "Name"]})
    );
    assert_eq!(res["AccessPoint"]["Type"], "AWS::EFS::AccessPoint");
    let td = &res["TaskDefinition"]["Properties"];
    assert_eq!(td["ContainerDefinitions"][0]["LogConfiguration"]["LogDriver"], "awsfirelens");
    assert_eq!(td["ContainerDefinitions"][0]["PortMappings"][0]["Name"], "TargetPort");
    assert_eq!(td["Volumes"][0]["Name"], "assets");
}

/// Copilot's `imported-alb-resources.yml` and `lb-web/cf.yml` for
/// `http.alb`: `TargetGroupForImportedALB[N]`, rules on the imported
/// listeners by literal ARN (`HTTPSListenerRuleForImportedALB[N]` and
/// `HTTPListenerRedirectRuleForImportedALB[N]` with HTTPS, else
/// `HTTPListenerRuleForImportedALB[N]`), one
/// `EnvironmentSecurityGroupIngressFromImportedALB[N]` per security group,
/// `LoadBalancerDNSAlias<zone>` per hosted zone; nothing of the
/// environment's load balancer.
#[test]
fn imported_alb_renders_as_copilot_does() {
    let offline = rendered("imported-alb");
    let res = &offline["template"]["Resources"];
    for id in [
        "TargetGroupForImportedALB",
        "TargetGroupForImportedALB1",
        "HTTPSListenerRuleForImportedALB",
        "HTTPSListenerRuleForImportedALB1",
        "HTTPListenerRedirectRuleForImportedALB",
        "HTTPListenerRedirectRuleForImportedALB1",
        "EnvironmentSecurityGroupIngressFromImportedALB",
        "LoadBalancerDNSAliasZ0EXAMPLECOM",
        "LoadBalancerDNSAliasZ0EXAMPLEORG",
    ] {
        assert!(res.get(id).is_some(), "{id} missing");
    }
    for id in ["TargetGroup", "HTTPSListenerRule", "HTTPListenerRuleWithDomain", "HTTPListenerRule", "AliasRecord"] {
        assert!(res.get(id).is_none(), "{id} belongs to the environment's load balancer");
    }
    let text = offline["template"].to_string();
    assert!(!text.contains("PublicLoadBalancer") && !text.contains("-HTTPListenerArn"), "{text}");
    let https = &res["HTTPSListenerRuleForImportedALB"]["Properties"];
    assert!(https["ListenerArn"].as_str().unwrap().contains(":listener/app/my-shared-alb/"));
    assert_eq!(https["Actions"][0]["TargetGroupArn"], json!({"Ref": "TargetGroupForImportedALB"}));
    assert_eq!(res["HTTPListenerRedirectRuleForImportedALB"]["Properties"]["Actions"][0]["Type"], "redirect");
    let zone = &res["LoadBalancerDNSAliasZ0EXAMPLEORG"]["Properties"];
    assert_eq!(zone["HostedZoneId"], "Z0EXAMPLEORG");
    assert_eq!(zone["RecordSets"][0]["Name"], "www.example.org");
    assert_eq!(zone["RecordSets"][0]["AliasTarget"]["DNSName"], "my-shared-alb-0000000000.us-east-1.elb.amazonaws.com");
    let service = &res["Service"];
    assert_eq!(
        service["Properties"]["LoadBalancers"][1]["TargetGroupArn"],
        json!({"Ref": "TargetGroupForImportedALB1"})
    );
    assert!(service["DependsOn"].to_string().contains("HTTPListenerRedirectRuleForImportedALB1"));
    assert_eq!(offline["parameters"]["HTTPSEnabled"], "true");

    let found = rendered("imported-alb-http-only");
    let res = &found["template"]["Resources"];
    let rule = &res["HTTPListenerRuleForImportedALB"]["Properties"];
    assert_eq!(
        rule["ListenerArn"],
        "arn:aws:elasticloadbalancing:us-west-2:123456789012:listener/app/shared/50dc6c495c0c9188/f2f7dc8efc522ab2"
    );
    assert_eq!(rule["Actions"][0], json!({"Type": "forward", "TargetGroupArn": {"Ref": "TargetGroupForImportedALB"}}));
    assert_eq!(rule["Priority"], json!({"Ref": "HTTPListenerRuleForImportedALBPriority"}));
    assert!(res.get("HTTPSListenerRuleForImportedALB").is_none());
    for (id, group) in [
        ("EnvironmentSecurityGroupIngressFromImportedALB", "sg-0a1b2c3d4e5f60718"),
        ("EnvironmentSecurityGroupIngressFromImportedALB1", "sg-0f1e2d3c4b5a69788"),
    ] {
        let p = &res[id]["Properties"];
        assert_eq!(p["SourceSecurityGroupId"], group);
        assert_eq!(p["IpProtocol"], "-1");
        assert_eq!(
            p["GroupId"],
            json!({"Fn::ImportValue": {"Fn::Sub": "${AppName}-${EnvName}-EnvironmentSecurityGroup"}})
        );
    }
    assert_eq!(found["parameters"]["HTTPSEnabled"], "false");
    let containers = found["template"]["Resources"]["TaskDefinition"]["Properties"]["ContainerDefinitions"].to_string();
    assert!(
        containers.contains("shared-1234567890.us-west-2.elb.amazonaws.com"),
        "COPILOT_LB_DNS is the imported DNS name"
    );
    assert_eq!(found["template"]["Outputs"]["TargetGroupARN"]["Value"], json!({"Ref": "TargetGroupForImportedALB"}));

    let env = rendered("imported-alb-env");
    assert!(env["template"]["Resources"].get("HTTPSListenerRuleForImportedALB").is_some());
}

/// Blue/green: a twin target group, the production rule a weighted forward
/// to both, a header rule for test traffic listed before it, the role ECS
/// shifts traffic with, all named in the service's AdvancedConfiguration.
#[test]
fn blue_green_renders_the_alternate_group_rules_and_role() {
    let r = rendered("blue-green");
    let res = &r["template"]["Resources"];
    let svc = &res["Service"]["Properties"];
    assert_eq!(svc["DeploymentConfiguration"]["Strategy"], "BLUE_GREEN");
    assert_eq!(svc["DeploymentConfiguration"]["BakeTimeInMinutes"], 10);
    assert_eq!(
        svc["LoadBalancers"][0]["AdvancedConfiguration"],
        json!({
            "AlternateTargetGroupArn": {"Ref": "AlternateTargetGroup"},
            "ProductionListenerRule": {"Ref": "HTTPListenerRule"},
            "RoleArn": {"Fn::GetAtt": ["InfrastructureRole", "Arn"]},
            "TestListenerRule": {"Ref": "TestListenerRule"},
        })
    );
    assert_eq!(res["AlternateTargetGroup"]["Properties"], res["TargetGroup"]["Properties"]);
    let weights = &res["HTTPListenerRule"]["Properties"]["Actions"][0]["ForwardConfig"]["TargetGroups"];
    assert_eq!(weights[0]["Weight"], 100);
    assert_eq!(weights[1]["TargetGroupArn"], json!({"Ref": "AlternateTargetGroup"}));
    let test = &res["TestListenerRule"]["Properties"];
    assert_eq!(
        test["Conditions"][0]["HttpHeaderConfig"],
        json!({"HttpHeaderName": "X-Ferry-Test", "Values": ["green"]})
    );
    let order: Vec<&String> = r["template"]["Resources"].as_object().unwrap().keys().collect();
    let at = |id: &str| order.iter().position(|k| *k == id).unwrap();
    assert!(at("TestListenerRule") < at("HTTPListenerRule"), "the host gives the earlier rule the earlier priority");
    let test_priority: u64 = r["parameters"]["TestListenerRulePriority"].as_str().unwrap().parse().unwrap();
    let production_priority: u64 = r["parameters"]["HTTPListenerRulePriority"].as_str().unwrap().parse().unwrap();
    assert!(test_priority < production_priority);
    assert_eq!(res["Service"]["DependsOn"], json!(["HTTPListenerRule", "TestListenerRule"]));
    assert!(
        res["InfrastructureRole"]["Properties"]["ManagedPolicyArns"]
            .to_string()
            .contains("AmazonECSInfrastructureRolePolicyForLoadBalancers")
    );
}

#[test]
fn canary_and_linear_compose_with_rollback_alarms() {
    let canary = rendered("canary-alarms");
    let res = &canary["template"]["Resources"];
    let deployment = &res["Service"]["Properties"]["DeploymentConfiguration"];
    assert_eq!(deployment["Strategy"], "CANARY");
    assert_eq!(deployment["CanaryConfiguration"], json!({"CanaryPercent": 10.0, "CanaryBakeTimeInMinutes": 3}));
    assert_eq!(deployment["Alarms"]["Rollback"], true);
    assert!(res.get("CPURollbackAlarm").is_some());
    assert_eq!(
        res["Service"]["Properties"]["LoadBalancers"][0]["AdvancedConfiguration"]["ProductionListenerRule"],
        json!({"Ref": "HTTPSListenerRule"}),
        "on HTTPS the HTTPS rule carries production traffic (HTTP redirects)"
    );
    assert!(res.get("TestListenerRule").is_none(), "no test_traffic, no test rule");
    let linear = rendered("linear");
    let deployment = &linear["template"]["Resources"]["Service"]["Properties"]["DeploymentConfiguration"];
    assert_eq!(deployment["LinearConfiguration"], json!({"StepPercent": 25.0, "StepBakeTimeInMinutes": 2}));
    assert_eq!(deployment["Alarms"]["AlarmNames"], json!(["chat-test-web-5xx"]));
    assert!(deployment.get("CanaryConfiguration").is_none());
}

#[test]
fn rolling_stays_as_copilot_renders_it() {
    let r = rendered("recreate");
    let deployment = &r["template"]["Resources"]["Service"]["Properties"]["DeploymentConfiguration"];
    assert!(deployment.get("Strategy").is_none(), "{deployment}");
    assert!(r["template"]["Resources"].get("AlternateTargetGroup").is_none());
}

ferry_plugin_sdk::schema_file_test!(ferry_plugin_load_balanced_web_service::manifest::Manifest);
