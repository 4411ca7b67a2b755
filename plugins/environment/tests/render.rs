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
    // A service's `http` section routes through the environment's load
    // balancer, as the host reports it for a manifest with `http.path`.
    let behind_env_alb = kind == "Load Balanced Web Service";
    WorkloadSummary { name: name.into(), kind: kind.into(), private_placement, behind_env_alb, ..Default::default() }
}

/// A web service, a private backend with `http` and a private worker, except
/// for the fixtures that check an empty app or the on-demand resources.
fn context(fixture: &str) -> RenderContext {
    let mut frontend = workload("frontend", "Load Balanced Web Service", false);
    frontend.aliases = vec!["www.example.com".into()];
    let mut api = workload("api", "Backend Service", true);
    api.behind_env_alb = true;
    let workloads = match fixture {
        "no-workloads" => Vec::new(),
        "efs-and-private-services" => {
            api.efs_managed = true;
            let mut site = workload("site", "Request-Driven Web Service", false);
            site.apprunner_private = true;
            vec![frontend, api, site]
        }
        _ => vec![frontend, api, workload("worker", "Worker Service", true)],
    };
    let mut ctx =
        RenderContext { app: "chat".into(), env: "test".into(), name: "test".into(), workloads, ..Default::default() };
    if fixture.starts_with("app-domain") {
        ctx.app_domain = Some("example.com".into());
        ctx.domain_hosted_zone_id = Some("Z0DOMAIN".into());
        ctx.app_hosted_zone_id = Some("Z0APP".into());
        ctx.workloads[0].aliases =
            vec!["www.example.com".into(), "api.chat.example.com".into(), "web.test.chat.example.com".into()];
    }
    ctx
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
        insta::assert_json_snapshot!(name.clone(), json!({ "template": &template, "parameters": parameters }));
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
            .map(|d| json!({ "path": &d.path, "message": &d.message, "hint": &d.hint, "severity": format!("{:?}", d.severity) }))
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

/// Asserts `id` is a resource of `ty` (and, when given, under `condition`):
/// Copilot's logical id and type, so a Copilot stack is updated in place.
fn assert_resource(template: &Value, id: &str, ty: &str, condition: Option<&str>) {
    let r = &template["Resources"][id];
    assert_eq!(r["Type"], ty, "{id}: {r}");
    assert_eq!(r["Condition"].as_str(), condition, "{id} condition");
}

fn props<'a>(template: &'a Value, id: &str) -> &'a Value {
    &template["Resources"][id]["Properties"]
}

#[test]
fn load_balancers_nat_efs_and_app_runner_endpoint_follow_the_workloads() {
    let (template, params) = render("minimal").unwrap();
    assert_eq!(params["ALBWorkloads"], "frontend");
    assert_eq!(params["InternalALBWorkloads"], "api", "a backend with http gets the internal ALB");
    assert_eq!(params["NATWorkloads"], "api,worker");
    assert_eq!(params["EFSWorkloads"], "");
    assert_eq!(params["AppRunnerPrivateWorkloads"], "");
    assert_eq!(params["ServiceDiscoveryEndpoint"], "test.chat.local");
    assert_resource(&template, "PublicLoadBalancer", "AWS::ElasticLoadBalancingV2::LoadBalancer", Some("CreateALB"));
    assert_resource(&template, "NatGateway1", "AWS::EC2::NatGateway", Some("CreateNATGateways"));
    // On demand, as in Copilot: no `http.private` in the manifest.
    assert_resource(
        &template,
        "InternalLoadBalancer",
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        Some("CreateInternalALB"),
    );
    assert_eq!(props(&template, "InternalLoadBalancer")["Scheme"], "internal");
    assert_eq!(
        props(&template, "InternalLoadBalancer")["Subnets"],
        json!([{"Ref": "PrivateSubnet1"}, {"Ref": "PrivateSubnet2"}])
    );
    assert_resource(&template, "InternalWorkloadsHostedZone", "AWS::Route53::HostedZone", Some("CreateInternalALB"));
    assert_eq!(
        template["Conditions"]["CreateInternalALB"],
        json!({"Fn::Not": [{"Fn::Equals": [{"Ref": "InternalALBWorkloads"}, ""]}]})
    );

    let (template, params) = render("efs-and-private-services").unwrap();
    assert_eq!(params["EFSWorkloads"], "api");
    assert_eq!(params["AppRunnerPrivateWorkloads"], "site");
    assert_resource(&template, "FileSystem", "AWS::EFS::FileSystem", Some("CreateEFS"));
    assert_eq!(props(&template, "FileSystem")["Encrypted"], true);
    assert_resource(&template, "EFSSecurityGroup", "AWS::EC2::SecurityGroup", Some("CreateEFS"));
    assert_resource(
        &template,
        "EFSSecurityGroupIngressFromEnvironment",
        "AWS::EC2::SecurityGroupIngress",
        Some("CreateEFS"),
    );
    for (n, subnet) in [(1, "PrivateSubnet1"), (2, "PrivateSubnet2")] {
        let id = format!("MountTarget{n}");
        assert_resource(&template, &id, "AWS::EFS::MountTarget", Some("CreateEFS"));
        assert_eq!(props(&template, &id)["SubnetId"], json!({"Ref": subnet}));
    }
    assert_eq!(
        template["Outputs"]["ManagedFileSystemID"]["Export"]["Name"]["Fn::Sub"],
        "${AppName}-${EnvironmentName}-FilesystemID"
    );
    assert_resource(&template, "AppRunnerVpcEndpoint", "AWS::EC2::VPCEndpoint", Some("CreateAppRunnerVPCEndpoint"));
    assert_eq!(
        props(&template, "AppRunnerVpcEndpoint")["ServiceName"],
        json!({"Fn::Sub": "com.amazonaws.${AWS::Region}.apprunner.requests"})
    );
    assert_eq!(
        template["Outputs"]["AppRunnerVpcEndpointId"]["Export"]["Name"]["Fn::Sub"],
        "${AppName}-${EnvironmentName}-AppRunnerVpcEndpointId"
    );

    let (_, params) = render("no-workloads").unwrap();
    for name in ["ALBWorkloads", "InternalALBWorkloads", "NATWorkloads", "EFSWorkloads", "AppRunnerPrivateWorkloads"] {
        assert_eq!(params[name], "", "{name}");
    }
}

#[test]
fn exports_use_copilot_names() {
    let (template, _) = render("https").unwrap();
    let outputs = template["Outputs"].as_object().unwrap();
    let exported: Vec<&str> = outputs
        .values()
        .filter_map(|o| o["Export"]["Name"]["Fn::Sub"].as_str())
        .map(|name| name.trim_start_matches("${AppName}-${EnvironmentName}-"))
        .collect();
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
        "InternalLoadBalancerDNS",
        "InternalLoadBalancerFullName",
        "InternalLoadBalancerCanonicalHostedZoneID",
        "InternalHTTPListenerArn",
        "InternalLoadBalancerSecurityGroup",
        "InternalWorkloadsHostedZoneID",
        "InternalWorkloadsHostedZoneName",
        "FilesystemID",
        "ServiceDiscoveryNamespaceID",
        "EnvironmentManagerRoleARN",
        "CFNExecutionRoleARN",
        "PublicRouteTableID",
        "PrivateRouteTableIDs",
        "InternetGatewayID",
        "AppRunnerVpcEndpointId",
    ] {
        assert!(exported.contains(&name), "no export {name}: {exported:?}");
    }
}

#[test]
fn https_listener_certificates_and_ssl_policy() {
    let (template, _) = render("https").unwrap();
    // Copilot's HTTP listener forwards; services add their own redirects.
    assert_eq!(props(&template, "HTTPListener")["DefaultActions"][0]["Type"], "forward");
    assert_resource(&template, "HTTPSListener", "AWS::ElasticLoadBalancingV2::Listener", Some("CreateALB"));
    let https = props(&template, "HTTPSListener");
    assert_eq!(https["SslPolicy"], "ELBSecurityPolicy-TLS13-1-2-2021-06");
    assert_eq!(
        https["Certificates"],
        json!([{"CertificateArn": "arn:aws:acm:us-west-2:123456789012:certificate/11111111-2222-3333-4444-555555555555"}])
    );
    assert_resource(
        &template,
        "HTTPSImportCertificate2",
        "AWS::ElasticLoadBalancingV2::ListenerCertificate",
        Some("CreateALB"),
    );
    // Copilot's two public security groups, one per port.
    assert_resource(&template, "PublicHTTPSLoadBalancerSecurityGroup", "AWS::EC2::SecurityGroup", Some("CreateALB"));
    assert_eq!(props(&template, "PublicHTTPSLoadBalancerSecurityGroup")["SecurityGroupIngress"][0]["FromPort"], 443);
    assert_eq!(props(&template, "PublicHTTPLoadBalancerSecurityGroup")["SecurityGroupIngress"][0]["FromPort"], 80);
    assert_eq!(props(&template, "PublicLoadBalancer")["SecurityGroups"].as_array().unwrap().len(), 2);
    assert!(resources(&template).contains_key("EnvironmentHTTPSSecurityGroupIngressFromPublicALB"));

    let (template, _) = render("minimal").unwrap();
    let r = resources(&template);
    assert!(!r.contains_key("HTTPSListener") && !r.contains_key("PublicHTTPSLoadBalancerSecurityGroup"));
    assert!(r.contains_key("EnvironmentHTTPSecurityGroupIngressFromPublicALB"));
    assert_eq!(
        props(&template, "PublicLoadBalancer")["LoadBalancerAttributes"],
        json!([{"Key": "access_logs.s3.enabled", "Value": "false"}])
    );
}

#[test]
fn imported_vpc_subnets_and_certificates_are_used_in_place() {
    let (template, _) = render("imported-vpc").unwrap();
    let r = resources(&template);
    for id in ["VPC", "InternetGateway", "PublicSubnet1", "PrivateSubnet1", "NatGateway1", "AppRunnerVpcEndpoint"] {
        assert!(!r.contains_key(id), "{id} must not be created for an imported VPC");
    }
    let vpc = json!("vpc-0123456789abcdef0");
    assert_eq!(template["Outputs"]["VpcId"]["Value"], vpc);
    for id in [
        "EnvironmentSecurityGroup",
        "PublicHTTPLoadBalancerSecurityGroup",
        "InternalLoadBalancerSecurityGroup",
        "EFSSecurityGroup",
        "DefaultHTTPTargetGroup",
    ] {
        assert_eq!(props(&template, id)["VpcId"], vpc, "{id}");
    }
    assert_eq!(props(&template, "ServiceDiscoveryNamespace")["Vpc"], vpc);
    assert_eq!(props(&template, "FlowLog")["ResourceId"], vpc);
    assert_eq!(
        props(&template, "PublicLoadBalancer")["Subnets"],
        json!(["subnet-0a1b2c3d4e5f60718", "subnet-0b1b2c3d4e5f60718"])
    );
    // `http.private.subnets` places the internal load balancer.
    assert_eq!(
        props(&template, "InternalLoadBalancer")["Subnets"],
        json!(["subnet-0c1b2c3d4e5f60718", "subnet-0d1b2c3d4e5f60718"])
    );
    assert_eq!(props(&template, "MountTarget3")["SubnetId"], "subnet-0e1b2c3d4e5f60718");
    assert_eq!(
        template["Outputs"]["PublicSubnets"]["Value"],
        json!({"Fn::Join": [",", ["subnet-0a1b2c3d4e5f60718", "subnet-0b1b2c3d4e5f60718"]]})
    );
    assert_eq!(
        props(&template, "HTTPSListener")["Certificates"][0]["CertificateArn"],
        "arn:aws:acm:us-west-2:123456789012:certificate/11111111-2222-3333-4444-555555555555"
    );
    assert_eq!(
        props(&template, "HTTPSImportCertificate2")["Certificates"][0]["CertificateArn"],
        "arn:aws:acm:us-west-2:123456789012:certificate/66666666-7777-8888-9999-000000000000"
    );
    assert_eq!(
        props(&template, "InternalHTTPSListener")["Certificates"][0]["CertificateArn"],
        "arn:aws:acm:us-west-2:123456789012:certificate/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
    );
    // Imported private certificates: no private hosted zone, as in Copilot.
    assert!(!r.contains_key("InternalWorkloadsHostedZone"));
    let viewer = &props(&template, "CloudFrontDistribution")["DistributionConfig"]["ViewerCertificate"];
    assert_eq!(
        viewer["AcmCertificateArn"],
        "arn:aws:acm:us-east-1:123456789012:certificate/bbbbbbbb-cccc-dddd-eeee-ffffffffffff"
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
    let ingress = &props(&template, "PublicHTTPLoadBalancerSecurityGroup")["SecurityGroupIngress"];
    let rules: Vec<(&str, i64)> = ingress
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["CidrIp"].as_str().unwrap(), r["FromPort"].as_i64().unwrap()))
        .collect();
    assert_eq!(rules, [("203.0.113.0/24", 80), ("198.51.100.7/32", 80)]);
}

#[test]
fn cdn_fronts_the_public_load_balancer_which_admits_only_cloudfront() {
    let (template, _) = render("cdn").unwrap();
    assert_resource(&template, "CloudFrontDistribution", "AWS::CloudFront::Distribution", Some("CreateALB"));
    let config = &props(&template, "CloudFrontDistribution")["DistributionConfig"];
    assert_eq!(config["Origins"][0]["DomainName"], json!({"Fn::GetAtt": ["PublicLoadBalancer", "DNSName"]}));
    assert_eq!(config["Origins"][0]["CustomOriginConfig"]["OriginProtocolPolicy"], "match-viewer");
    assert_eq!(config["DefaultCacheBehavior"]["ViewerProtocolPolicy"], "allow-all");
    assert_eq!(config["DefaultCacheBehavior"]["CachePolicyId"], "4135ea2d-6df8-44a3-9df3-4b5a84be39ad");
    assert_eq!(config["DefaultCacheBehavior"]["OriginRequestPolicyId"], "216adef6-5c7f-47e4-b989-5492eafa07d3");
    assert!(config.get("ViewerCertificate").is_none() && config.get("Aliases").is_none());
    let ingress = &props(&template, "PublicHTTPLoadBalancerSecurityGroup")["SecurityGroupIngress"];
    assert_eq!(ingress.as_array().unwrap().len(), 1, "only CloudFront: {ingress}");
    assert_eq!(
        ingress[0]["SourcePrefixListId"],
        json!({"Fn::FindInMap": ["RegionalConfigs", {"Ref": "AWS::Region"}, "CloudFrontPrefixListId"]})
    );
    assert_eq!(template["Mappings"]["RegionalConfigs"]["us-west-2"]["CloudFrontPrefixListId"], "pl-82a045eb");
    assert_eq!(template["Outputs"]["PublicALBAccessible"]["Value"], "false");
    assert_eq!(
        template["Outputs"]["CloudFrontDomainName"]["Export"]["Name"]["Fn::Sub"],
        "${AppName}-${EnvironmentName}-CloudFrontDomainName"
    );
}

#[test]
fn cdn_static_assets_certificate_and_tls_termination() {
    let (template, _) = render("cdn-static-assets").unwrap();
    assert_resource(&template, "CloudFrontOriginAccessControl", "AWS::CloudFront::OriginAccessControl", None);
    let config = &props(&template, "CloudFrontDistribution")["DistributionConfig"];
    assert_eq!(config["DefaultCacheBehavior"]["ViewerProtocolPolicy"], "redirect-to-https");
    assert_eq!(config["Origins"][0]["CustomOriginConfig"]["OriginProtocolPolicy"], "http-only");
    assert_eq!(config["Origins"][1]["DomainName"], "chat-assets.s3.us-west-2.amazonaws.com");
    assert_eq!(config["Origins"][1]["OriginAccessControlId"], json!({"Ref": "CloudFrontOriginAccessControl"}));
    assert_eq!(config["CacheBehaviors"][0]["PathPattern"], "static/*");
    assert_eq!(config["CacheBehaviors"][0]["CachePolicyId"], "658327ea-f89d-4fab-a63d-7e88639e58f6");
    assert_eq!(config["Aliases"], json!(["static.example.com", "www.example.com"]));
    assert_eq!(config["ViewerCertificate"]["SslSupportMethod"], "sni-only");
    let ingress = props(&template, "PublicHTTPLoadBalancerSecurityGroup")["SecurityGroupIngress"].as_array().unwrap();
    assert_eq!(ingress.len(), 2, "the prefix list and the source IP");
}

#[test]
fn access_logs_bucket_is_created_or_named() {
    let (template, _) = render("access-logs").unwrap();
    assert_resource(&template, "ELBAccessLogsBucket", "AWS::S3::Bucket", None);
    assert_resource(&template, "ELBAccessLogsBucketPolicy", "AWS::S3::BucketPolicy", Some("CreateALB"));
    let statement = &props(&template, "ELBAccessLogsBucketPolicy")["PolicyDocument"]["Statement"][0];
    assert_eq!(statement["Action"], json!(["s3:PutObject"]));
    assert_eq!(statement["Principal"]["AWS"]["Fn::Join"][1][1]["Fn::FindInMap"][2], "ElbAccountId");
    assert_eq!(template["Mappings"]["RegionalConfigs"]["us-west-2"]["ElbAccountId"], "797873946194");
    assert_eq!(template["Resources"]["PublicLoadBalancer"]["DependsOn"], "ELBAccessLogsBucketPolicy");
    assert_eq!(
        props(&template, "PublicLoadBalancer")["LoadBalancerAttributes"],
        json!([
            {"Key": "access_logs.s3.enabled", "Value": "true"},
            {"Key": "access_logs.s3.bucket", "Value": {"Ref": "ELBAccessLogsBucket"}}
        ])
    );

    let (template, _) = render("access-logs-bucket").unwrap();
    assert!(!resources(&template).contains_key("ELBAccessLogsBucket"));
    assert!(template.get("Mappings").is_none());
    assert_eq!(
        props(&template, "PublicLoadBalancer")["LoadBalancerAttributes"],
        json!([
            {"Key": "access_logs.s3.enabled", "Value": "true"},
            {"Key": "access_logs.s3.prefix", "Value": "chat/test"},
            {"Key": "access_logs.s3.bucket", "Value": "my-elb-logs"}
        ])
    );
}

#[test]
fn security_group_rules_take_a_port_or_a_range() {
    let (template, _) = render("security-group").unwrap();
    let sg = props(&template, "EnvironmentSecurityGroup");
    assert_eq!(
        sg["SecurityGroupIngress"],
        json!([
            {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "CidrIp": "10.0.0.0/16"},
            {"IpProtocol": "udp", "FromPort": 8000, "ToPort": 8080, "CidrIp": "192.168.0.0/16"}
        ])
    );
    assert_eq!(
        sg["SecurityGroupEgress"],
        json!([{"IpProtocol": "-1", "FromPort": 0, "ToPort": 65535, "CidrIp": "0.0.0.0/0"}])
    );
}

#[test]
fn deprecated_security_groups_are_read_as_ingress_with_a_warning() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/manifests/deprecated-security-groups.yml");
    let warnings = Environment::validate(&load(&path));
    let shown: Vec<(String, String)> =
        warnings.iter().map(|d| (d.path.clone(), d.hint.clone().unwrap_or_default())).collect();
    assert_eq!(shown.len(), 2, "{shown:?}");
    assert!(warnings.iter().all(|d| d.severity == ferry_plugin_sdk::Severity::Warning));
    assert_eq!(shown[0].0, "/http/public/security_groups");
    assert!(shown[0].1.contains("http.public.ingress.cdn"), "names the new form: {shown:?}");
    assert_eq!(shown[1].0, "/http/private/security_groups");
    assert!(shown[1].1.contains("http.private.ingress.vpc"), "names the new form: {shown:?}");

    let (deprecated, _) = render("deprecated-security-groups").unwrap();
    let (current, _) = render("cdn").unwrap();
    assert_eq!(
        props(&deprecated, "PublicHTTPLoadBalancerSecurityGroup"),
        props(&current, "PublicHTTPLoadBalancerSecurityGroup")
    );
    assert_eq!(props(&deprecated, "InternalLoadBalancerSecurityGroupIngressFromHttp")["FromPort"], 80);
}

#[test]
fn private_ingress_from_the_vpc_and_internal_https() {
    let (template, _) = render("private-alb").unwrap();
    for (id, port) in [
        ("InternalLoadBalancerSecurityGroupIngressFromHttp", 80),
        ("InternalLoadBalancerSecurityGroupIngressFromHttps", 443),
    ] {
        assert_resource(&template, id, "AWS::EC2::SecurityGroupIngress", Some("CreateInternalALB"));
        assert_eq!(props(&template, id)["FromPort"], port);
        assert_eq!(props(&template, id)["GroupId"], json!({"Ref": "InternalLoadBalancerSecurityGroup"}));
    }
    assert_resource(
        &template,
        "InternalHTTPSListener",
        "AWS::ElasticLoadBalancingV2::Listener",
        Some("CreateInternalALB"),
    );
    assert!(props(&template, "InternalHTTPSListener").get("SslPolicy").is_none(), "AWS's default unless set");
    let (template, _) = render("minimal").unwrap();
    assert!(!resources(&template).contains_key("InternalLoadBalancerSecurityGroupIngressFromHttp"));
}

#[test]
fn observability_and_flow_logs() {
    let (template, _) = render("observability-flow-logs").unwrap();
    assert_eq!(props(&template, "Cluster")["ClusterSettings"][0]["Value"], "enhanced");
    assert_resource(&template, "VpcFlowLogGroup", "AWS::Logs::LogGroup", None);
    assert_eq!(props(&template, "VpcFlowLogGroup")["RetentionInDays"], 30);
    assert_resource(&template, "FlowLog", "AWS::EC2::FlowLog", None);
    assert_eq!(props(&template, "FlowLog")["ResourceId"], json!({"Ref": "VPC"}));
    assert_eq!(props(&template, "FlowLog")["MaxAggregationInterval"], 60);
    assert_resource(&template, "FlowLogRole", "AWS::IAM::Role", None);
    let (template, _) = render("security-group").unwrap();
    assert_eq!(props(&template, "VpcFlowLogGroup")["RetentionInDays"], 14, "Copilot's default");
    // Without `observability`, the account's default applies (Copilot writes nothing).
    assert!(props(&template, "Cluster").get("ClusterSettings").is_none());
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

#[test]
fn an_app_domain_gives_the_environment_its_zone_delegation_and_certificate() {
    let (template, params) = render("app-domain").unwrap();
    assert_resource(&template, "EnvironmentHostedZone", "AWS::Route53::HostedZone", None);
    assert_eq!(
        props(&template, "EnvironmentHostedZone")["Name"],
        json!({"Fn::Sub": "${EnvironmentName}.${AppName}.example.com"})
    );
    // The NS delegation goes in the app's zone, whose ID the host reads from the roles stack.
    let ns = props(&template, "EnvironmentDomainDelegationRecordSet");
    assert_eq!(ns["Type"], "NS");
    assert_eq!(ns["HostedZoneId"], json!({"Ref": "AppHostedZoneID"}));
    assert_eq!(ns["ResourceRecords"], json!({"Fn::GetAtt": ["EnvironmentHostedZone", "NameServers"]}));
    assert_eq!(params["AppHostedZoneID"], "Z0APP");
    assert_eq!(params["DomainHostedZoneID"], "Z0DOMAIN");
    // What Copilot's HTTPSCert covers, each name validated in the zone it is in.
    assert_resource(&template, "HTTPSCertificate", "AWS::CertificateManager::Certificate", None);
    let cert = props(&template, "HTTPSCertificate");
    assert_eq!(cert["DomainName"], "test.chat.example.com");
    assert_eq!(
        cert["SubjectAlternativeNames"],
        json!(["*.test.chat.example.com", "api.chat.example.com", "web.test.chat.example.com", "www.example.com"])
    );
    let zone_of = |name: &str| {
        cert["DomainValidationOptions"].as_array().unwrap().iter().find(|o| o["DomainName"] == name).unwrap()
            ["HostedZoneId"]
            .clone()
    };
    assert_eq!(zone_of("test.chat.example.com"), json!({"Ref": "EnvironmentHostedZone"}));
    assert_eq!(zone_of("web.test.chat.example.com"), json!({"Ref": "EnvironmentHostedZone"}));
    assert_eq!(zone_of("api.chat.example.com"), json!({"Ref": "AppHostedZoneID"}));
    assert_eq!(zone_of("www.example.com"), json!({"Ref": "DomainHostedZoneID"}));
    assert_eq!(template["Resources"]["HTTPSCertificate"]["DependsOn"], "EnvironmentDomainDelegationRecordSet");
    // The public load balancer serves HTTPS with it.
    let listener = props(&template, "HTTPSListener");
    assert_eq!(listener["Certificates"], json!([{"CertificateArn": {"Ref": "HTTPSCertificate"}}]));
    assert_resource(&template, "PublicHTTPSLoadBalancerSecurityGroup", "AWS::EC2::SecurityGroup", Some("CreateALB"));
    // Copilot's exports, which workload templates import.
    let outputs = &template["Outputs"];
    assert_eq!(
        outputs["EnvironmentHostedZone"]["Export"]["Name"],
        json!({"Fn::Sub": "${AppName}-${EnvironmentName}-HostedZone"})
    );
    assert_eq!(
        outputs["EnvironmentSubdomain"]["Export"]["Name"],
        json!({"Fn::Sub": "${AppName}-${EnvironmentName}-SubDomain"})
    );
    assert_eq!(
        outputs["HTTPSListenerArn"]["Export"]["Name"],
        json!({"Fn::Sub": "${AppName}-${EnvironmentName}-HTTPSListenerArn"})
    );

    // Imported certificates win: no zone, no certificate (as Copilot).
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/manifests/https.yml");
    let mut ctx = context("app-domain");
    ctx.env = "prod".into();
    let imported = Environment::render(&load(&path), &ctx).unwrap().template.to_json();
    assert!(imported["Resources"].get("EnvironmentHostedZone").is_none());
    assert!(imported["Resources"].get("HTTPSCertificate").is_none());
    // Without a domain, nothing of it either.
    let (plain, params) = render("minimal").unwrap();
    assert!(plain["Resources"].get("EnvironmentHostedZone").is_none() && params.get("AppHostedZoneID").is_none());
}

#[test]
fn cdn_of_an_environment_with_a_domain_asks_for_a_us_east_1_certificate_of_its_names() {
    let (template, params) = render("app-domain-cdn").unwrap();
    let request = &template["Metadata"]["ferry:certificate"];
    assert_eq!(request["region"], "us-east-1");
    assert_eq!(request["domain_name"], "test.chat.example.com");
    assert_eq!(request["hosted_zone"], "test.chat.example.com.");
    assert_eq!(request["parameter"], "CDNCertificateArn");
    // The names of the environment's own certificate, each in its zone.
    assert_eq!(
        request["subject_alternative_names"],
        json!([
            {"domain_name": "*.test.chat.example.com", "hosted_zone": "test.chat.example.com."},
            {"domain_name": "api.chat.example.com", "hosted_zone": "chat.example.com."},
            {"domain_name": "web.test.chat.example.com", "hosted_zone": "test.chat.example.com."},
            {"domain_name": "www.example.com", "hosted_zone": "example.com."},
        ])
    );
    // Empty until the host has issued it: the distribution then has CloudFront's own certificate.
    assert_eq!(params["CDNCertificateArn"], "");
    assert_eq!(template["Parameters"]["CDNCertificateArn"]["Default"], "");
    let config = &props(&template, "CloudFrontDistribution")["DistributionConfig"];
    assert_eq!(config["ViewerCertificate"]["Fn::If"][0], "HasCDNCertificate");
    assert_eq!(config["ViewerCertificate"]["Fn::If"][1]["AcmCertificateArn"], json!({"Ref": "CDNCertificateArn"}));
    assert_eq!(config["ViewerCertificate"]["Fn::If"][2], json!({"Ref": "AWS::NoValue"}));
    assert_eq!(
        config["Aliases"]["Fn::If"][1],
        json!(["api.chat.example.com", "web.test.chat.example.com", "www.example.com"])
    );
    // Without a domain, or with `cdn.certificate`, nothing is asked for.
    let (plain, _) = render("cdn").unwrap();
    assert!(plain["Metadata"].get("ferry:certificate").is_none());
    let (imported, _) = render("cdn-static-assets").unwrap();
    assert!(imported["Metadata"].get("ferry:certificate").is_none());
}

ferry_plugin_sdk::schema_file_test!(ferry_plugin_environment::manifest::Manifest);
