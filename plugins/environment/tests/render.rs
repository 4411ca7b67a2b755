//! Renders every fixture natively: snapshots, one cfn-lint pass over all
//! templates, and the behaviour each fixture exists for.

use ferry_plugin_environment::Environment;
use ferry_plugin_sdk::protocol::WorkloadSummary;
use ferry_plugin_sdk::{Plugin, RenderContext, RenderError, Value, json};
use std::path::{Path, PathBuf};

fn fixtures(dir: &str) -> Vec<PathBuf> {
    ferry_test_support::yaml_fixtures(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join(dir))
}

use ferry_test_support::{load_yaml as load, stem};

fn workload(name: &str, kind: &str, private_placement: bool) -> WorkloadSummary {
    WorkloadSummary { name: name.into(), kind: kind.into(), private_placement, ..Default::default() }
}

/// A web service, a private backend and a private worker, except for the
/// fixture that checks an empty app.
fn context(fixture: &str) -> RenderContext {
    let workloads = if fixture == "no-workloads" {
        Vec::new()
    } else {
        vec![
            workload("frontend", "Load Balanced Web Service", false),
            workload("api", "Backend Service", true),
            workload("worker", "Worker Service", true),
        ]
    };
    RenderContext { app: "chat".into(), env: "test".into(), name: "test".into(), workloads, ..Default::default() }
}

fn render(fixture: &str) -> Result<(Value, Value), RenderError> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/manifests/{fixture}.yml"));
    let rendered = Environment::render(&load(&path), &context(fixture))?;
    Ok((rendered.template.to_json(), json!(rendered.parameters)))
}

#[test]
fn every_fixture_renders_is_snapshotted_and_passes_cfn_lint() {
    let mut templates = Vec::new();
    for path in fixtures("manifests") {
        let name = stem(&path);
        let (template, parameters) = render(&name).unwrap_or_else(|e| panic!("{name}.yml did not render: {e:?}"));
        insta::assert_json_snapshot!(name.clone(), json!({ "template": template, "parameters": parameters }));
        templates.push((name, ferry_test_support::with_host_parameters(template)));
    }
    assert!(templates.len() >= 8, "need at least 8 fixtures");
    ferry_test_support::cfn_lint(&templates).unwrap();
}

#[test]
fn invalid_manifests_are_located_and_explained() {
    for path in fixtures("invalid") {
        let name = stem(&path);
        let manifest = load(&path);
        let diagnostics = Environment::validate(&manifest);
        assert!(!diagnostics.is_empty(), "{name}.yml should be refused");
        let rendered = Environment::render(&manifest, &context(&name));
        assert!(matches!(rendered, Err(RenderError::Invalid(_))), "{name}.yml should not render");
        let shown: Vec<Value> = diagnostics
            .iter()
            .map(|d| json!({ "path": d.path, "message": d.message, "hint": d.hint, "severity": format!("{:?}", d.severity) }))
            .collect();
        for d in &shown {
            let message = d["message"].as_str().unwrap_or_default();
            assert!(!message.contains("did not match any variant"), "{name}: unclear message {message}");
        }
        insta::assert_json_snapshot!(format!("invalid-{name}"), shown);
    }
}

fn resources(template: &Value) -> &serde_json::Map<String, Value> {
    template["Resources"].as_object().expect("Resources")
}

#[test]
fn load_balancer_and_nat_follow_the_workloads() {
    let (template, params) = render("minimal").unwrap();
    assert_eq!(params["ALBWorkloads"], "frontend");
    assert_eq!(params["NATWorkloads"], "api,worker");
    assert_eq!(params["ServiceDiscoveryEndpoint"], "test.chat.local");
    assert_eq!(resources(&template)["PublicLoadBalancer"]["Condition"], "CreateALB");
    assert_eq!(resources(&template)["NatGateway1"]["Condition"], "CreateNATGateways");
    // No http.private: no internal load balancer at all, even with backends.
    assert!(!resources(&template).contains_key("InternalLoadBalancer"));
    assert_eq!(params["InternalALBWorkloads"], "");

    let (_, params) = render("no-workloads").unwrap();
    assert_eq!(params["ALBWorkloads"], "");
    assert_eq!(params["NATWorkloads"], "");
}

#[test]
fn exports_use_copilot_names() {
    let (template, _) = render("https").unwrap();
    let outputs = template["Outputs"].as_object().unwrap();
    for name in [
        "VpcId",
        "PublicSubnets",
        "PrivateSubnets",
        "ClusterId",
        "EnvironmentSecurityGroup",
        "PublicLoadBalancerDNS",
        "PublicLoadBalancerFullName",
        "CanonicalHostedZoneID",
        "HTTPListenerArn",
        "HTTPSListenerArn",
        "DefaultHTTPTargetGroup",
        "ServiceDiscoveryNamespaceID",
        "EnvironmentManagerRoleARN",
        "CFNExecutionRoleARN",
        "PublicRouteTableID",
        "PrivateRouteTableIDs",
        "InternetGatewayID",
    ] {
        assert_eq!(
            outputs[name]["Export"]["Name"],
            json!({ "Fn::Sub": format!("${{AppName}}-${{EnvironmentName}}-{name}") }),
            "export of {name}"
        );
    }
}

#[test]
fn https_redirects_http_and_attaches_every_certificate() {
    let (template, _) = render("https").unwrap();
    let r = resources(&template);
    assert_eq!(r["HTTPListener"]["Properties"]["DefaultActions"][0]["Type"], "redirect");
    assert_eq!(r["HTTPSListener"]["Properties"]["SslPolicy"], "ELBSecurityPolicy-TLS13-1-2-2021-06");
    assert_eq!(r["HTTPSImportCertificate"]["Properties"]["Certificates"].as_array().unwrap().len(), 1);
    let (template, _) = render("minimal").unwrap();
    assert_eq!(resources(&template)["HTTPListener"]["Properties"]["DefaultActions"][0]["Type"], "forward");
    assert!(!resources(&template).contains_key("HTTPSListener"));
}

#[test]
fn imported_vpc_creates_no_network() {
    let (template, _) = render("imported-vpc").unwrap();
    let r = resources(&template);
    for id in ["VPC", "InternetGateway", "PublicSubnet1", "PrivateSubnet1", "NatGateway1"] {
        assert!(!r.contains_key(id), "{id} must not be created for an imported VPC");
    }
    assert_eq!(template["Outputs"]["VpcId"]["Value"], "vpc-0123456789abcdef0");
    assert_eq!(
        r["InternalLoadBalancer"]["Properties"]["Subnets"],
        json!(["subnet-0c1b2c3d4e5f60718", "subnet-0d1b2c3d4e5f60718"])
    );
    assert_eq!(
        template["Outputs"]["PublicSubnets"]["Value"],
        json!({"Fn::Join": [",", ["subnet-0a1b2c3d4e5f60718", "subnet-0b1b2c3d4e5f60718"]]})
    );
}

#[test]
fn custom_cidr_without_subnets_is_carved_into_four_blocks() {
    let (template, _) = render("custom-cidr").unwrap();
    let r = resources(&template);
    assert_eq!(r["VPC"]["Properties"]["CidrBlock"], "10.1.0.0/16");
    let blocks: Vec<&str> = ["PublicSubnet1", "PublicSubnet2", "PrivateSubnet1", "PrivateSubnet2"]
        .iter()
        .map(|id| r[*id]["Properties"]["CidrBlock"].as_str().unwrap())
        .collect();
    assert_eq!(blocks, ["10.1.0.0/24", "10.1.1.0/24", "10.1.2.0/24", "10.1.3.0/24"]);
    let (template, _) = render("custom-subnets").unwrap();
    let r = resources(&template);
    assert!(r.contains_key("PublicSubnet3"));
    assert_eq!(r["PublicSubnet3"]["Properties"]["AvailabilityZone"], "us-west-2c");
}

#[test]
fn source_ips_restrict_the_load_balancer() {
    let (template, _) = render("source-ips").unwrap();
    let ingress = &resources(&template)["PublicHTTPLoadBalancerSecurityGroup"]["Properties"]["SecurityGroupIngress"];
    let cidrs: Vec<&str> = ingress.as_array().unwrap().iter().filter_map(|r| r["CidrIp"].as_str()).collect();
    assert_eq!(cidrs, ["203.0.113.0/24", "203.0.113.0/24", "198.51.100.7/32", "198.51.100.7/32"]);
}

#[test]
fn observability_and_flow_logs() {
    let (template, _) = render("observability-flow-logs").unwrap();
    let r = resources(&template);
    assert_eq!(r["Cluster"]["Properties"]["ClusterSettings"][0]["Value"], "enhanced");
    assert_eq!(r["FlowLogGroup"]["Properties"]["RetentionInDays"], 30);
    assert_eq!(r["FlowLog"]["Properties"]["ResourceId"], json!({"Ref": "VPC"}));
}

#[test]
fn every_resource_is_described() {
    for path in fixtures("manifests") {
        let name = stem(&path);
        let rendered = Environment::render(&load(&path), &context(&name)).unwrap();
        let described: Vec<&str> = rendered.template.descriptions().map(|(id, _)| id).collect();
        for id in rendered.template.resources.keys() {
            assert!(described.contains(&id.as_str()), "{name}: {id} has no description");
        }
    }
}

#[test]
fn init_template_renders_once_filled_in() {
    let text = ferry_plugin_environment::MANIFEST_TEMPLATE.replace("{{name}}", "staging");
    let manifest: Value = yaml_serde::from_str(&text).unwrap();
    assert!(Environment::validate(&manifest).is_empty());
    assert!(Environment::render(&manifest, &context("minimal")).is_ok());
}
