//! Templates shaped like the ones Copilot deploys, built from a workspace's
//! manifests: Copilot's logical IDs, its create-only property values, its
//! `Metadata` (`Version`, `aws:copilot:description`) and its Lambda-backed
//! helpers (the environment controller, the rule-priority function, and for
//! an app with a domain the DNS delegation, certificate and custom-domain
//! functions, with the HTTPS listener and rules they serve). Shapes
//! follow `internal/pkg/template/templates/` of aws/copilot-cli (environment
//! `cf.yml`, `workloads/services/{lb-web,backend,worker}`, `workloads/jobs/
//! scheduled-job`, the `partials/cf/` they include); only what adoption
//! compares and what the emulator needs to create them is spelled out.
//!
//! With `stand_in`, each custom resource's type becomes
//! `Custom::FerryStandIn<Type>`, which the moto shim creates without a
//! Lambda and which records whether its delete ran.

use serde_json::{Map, Value, json};
use std::path::Path;

/// The Copilot release the templates claim to come from.
pub const VERSION: &str = "v1.34.1";

#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    LoadBalancedWebService,
    BackendService,
    WorkerService,
    ScheduledJob,
}

/// What the shapes need from one manifest.
#[derive(Debug, Clone)]
pub struct Workload {
    pub name: String,
    pub kind: Kind,
    pub port: Option<u64>,
    pub path: Option<String>,
    pub image: String,
    pub topics: Vec<String>,
    pub schedule: Option<String>,
    /// `http.alias`: the names (a string, or a list of strings and `{name}` maps).
    pub aliases: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct App {
    pub name: String,
    pub env: String,
    /// The application's domain (`domain:` in `.workspace`; Copilot's
    /// `app init --domain`).
    pub domain: Option<String>,
    pub workloads: Vec<Workload>,
}

impl App {
    /// Reads `copilot/.workspace` and every `copilot/<name>/manifest.yml`.
    pub fn from_workspace(root: &Path, env: &str) -> App {
        let read = |p: &Path| -> Value {
            let text = std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            yaml_serde::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        };
        let ws = read(&root.join("copilot/.workspace"));
        let mut workloads = Vec::new();
        let mut dirs: Vec<_> = std::fs::read_dir(root.join("copilot")).unwrap().flatten().map(|e| e.path()).collect();
        dirs.sort();
        for dir in dirs {
            let file = dir.join("manifest.yml");
            if !file.exists() || dir.ends_with("environments") {
                continue;
            }
            let m = read(&file);
            let text = |ptr: &str| m.pointer(ptr).and_then(Value::as_str).map(str::to_string);
            let kind = match text("/type").as_deref() {
                Some("Load Balanced Web Service") => Kind::LoadBalancedWebService,
                Some("Backend Service") => Kind::BackendService,
                Some("Worker Service") => Kind::WorkerService,
                Some("Scheduled Job") => Kind::ScheduledJob,
                other => panic!("no Copilot shape for {other:?}"),
            };
            let list = |ptr: &str| m.pointer(ptr).and_then(Value::as_array).cloned().unwrap_or_default();
            workloads.push(Workload {
                name: text("/name").unwrap(),
                kind,
                port: m.pointer("/image/port").and_then(Value::as_u64),
                path: text("/http/path"),
                image: text("/image/location").unwrap_or_default(),
                topics: list("/publish/topics").iter().filter_map(|t| t["name"].as_str().map(str::to_string)).collect(),
                schedule: text("/on/schedule"),
                aliases: match m.pointer("/http/alias") {
                    Some(Value::String(name)) => vec![name.clone()],
                    Some(Value::Array(names)) => names
                        .iter()
                        .filter_map(|a| a.as_str().or_else(|| a["name"].as_str()).map(str::to_string))
                        .collect(),
                    _ => Vec::new(),
                },
            });
        }
        App {
            name: ws["application"].as_str().unwrap().to_string(),
            env: env.to_string(),
            domain: ws["domain"].as_str().map(str::to_string),
            workloads,
        }
    }

    pub fn workload(&self, name: &str) -> &Workload {
        self.workloads.iter().find(|w| w.name == name).unwrap()
    }

    /// The environment controller's view: which workloads need the public load balancer.
    pub fn alb_workloads(&self) -> String {
        let mut names: Vec<&str> =
            self.workloads.iter().filter(|w| w.kind == Kind::LoadBalancedWebService).map(|w| w.name.as_str()).collect();
        names.sort();
        names.join(",")
    }

    /// The environment controller's `Aliases`: the aliases of each service
    /// behind the public load balancer, as JSON (`{"web":["a.example.com"]}`).
    pub fn aliases(&self) -> String {
        let map: Map<String, Value> = self
            .workloads
            .iter()
            .filter(|w| w.kind == Kind::LoadBalancedWebService && !w.aliases.is_empty())
            .map(|w| (w.name.clone(), json!(w.aliases)))
            .collect();
        if map.is_empty() { String::new() } else { Value::Object(map).to_string() }
    }
}

fn sub(text: &str) -> Value {
    json!({"Fn::Sub": text})
}

fn r(name: &str) -> Value {
    json!({"Ref": name})
}

fn att(resource: &str, attribute: &str) -> Value {
    json!({"Fn::GetAtt": [resource, attribute]})
}

fn import(name: &str) -> Value {
    json!({"Fn::ImportValue": sub(&format!("${{AppName}}-${{EnvName}}-{name}"))})
}

fn lambda_role(policy: Value) -> Value {
    json!({"Type": "AWS::IAM::Role", "Properties": {
        "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"Service": ["lambda.amazonaws.com"]}, "Action": ["sts:AssumeRole"]}]},
        "Path": "/",
        "ManagedPolicyArns": [sub("arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")],
        "Policies": [{"PolicyName": "Access", "PolicyDocument": {"Version": "2012-10-17", "Statement": [policy]}}]}})
}

fn task_role() -> Value {
    json!({"Type": "AWS::IAM::Role", "Properties": {
        "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]}}})
}

/// A Lambda function Copilot ships as a helper (its code in Copilot's bucket;
/// inline here, the emulator never runs it).
fn function(handler: &str, role: &str) -> Value {
    json!({"Type": "AWS::Lambda::Function", "Properties": {
        "Code": {"ZipFile": "exports.handler = async () => ({});"},
        "Handler": handler, "Timeout": 900, "MemorySize": 512,
        "Role": att(role, "Arn"), "Runtime": "nodejs16.x"}})
}

struct Template {
    description: &'static str,
    parameters: Map<String, Value>,
    conditions: Map<String, Value>,
    resources: Map<String, Value>,
    outputs: Map<String, Value>,
    stand_in: bool,
}

impl Template {
    fn new(description: &'static str, parameters: &[&str], stand_in: bool) -> Template {
        Template {
            description,
            // Copilot declares counts and ports as numbers.
            parameters: parameters
                .iter()
                .map(|p| {
                    let number = matches!(*p, "TaskCount" | "ContainerPort" | "TargetPort" | "LogRetention");
                    (p.to_string(), json!({"Type": if number { "Number" } else { "String" }}))
                })
                .collect(),
            conditions: Map::new(),
            resources: Map::new(),
            outputs: Map::new(),
            stand_in,
        }
    }

    fn add(&mut self, id: &str, what: &str, mut resource: Value) {
        resource["Metadata"] = json!({"aws:copilot:description": what});
        self.resources.insert(id.to_string(), resource);
    }

    /// A Lambda-backed custom resource of Copilot's type `kind`.
    fn custom(&mut self, id: &str, kind: &str, what: &str, properties: Value) {
        let kind = if self.stand_in { format!("Custom::FerryStandIn{kind}") } else { format!("Custom::{kind}") };
        self.add(id, what, json!({"Type": kind, "Properties": properties}));
    }

    fn output(&mut self, id: &str, value: Value, export: Option<&str>) {
        let mut output = json!({"Value": value});
        if let Some(name) = export {
            output["Export"] = json!({"Name": sub(name)});
        }
        self.outputs.insert(id.to_string(), output);
    }

    fn build(self) -> Value {
        json!({
            "AWSTemplateFormatVersion": "2010-09-09",
            "Description": self.description,
            "Metadata": {"Version": VERSION},
            "Parameters": self.parameters,
            "Conditions": self.conditions,
            "Resources": self.resources,
            "Outputs": self.outputs,
        })
    }
}

/// Copilot's environment template for `app`, with its parameters as the
/// environment controller left them.
pub fn environment(app: &App, stand_in: bool) -> (Value, Vec<(String, String)>) {
    let mut t = Template::new(
        "CloudFormation environment template for infrastructure shared among Copilot workloads.",
        &[
            "AppName",
            "EnvironmentName",
            "ALBWorkloads",
            "InternalALBWorkloads",
            "EFSWorkloads",
            "NATWorkloads",
            "AppRunnerPrivateWorkloads",
            "ServiceDiscoveryEndpoint",
            "AppDNSName",
            "AppDNSDelegationRole",
            "Aliases",
            "CreateHTTPSListener",
        ],
        stand_in,
    );
    let not_empty = |p: &str| json!({"Fn::Not": [{"Fn::Equals": [r(p), ""]}]});
    t.conditions.insert("CreateALB".into(), not_empty("ALBWorkloads"));
    t.conditions.insert("CreateInternalALB".into(), not_empty("InternalALBWorkloads"));
    t.conditions.insert("CreateEFS".into(), not_empty("EFSWorkloads"));
    t.conditions.insert("CreateNATGateways".into(), not_empty("NATWorkloads"));
    t.conditions.insert("DelegateDNS".into(), not_empty("AppDNSName"));
    t.conditions.insert("HasAliases".into(), not_empty("Aliases"));
    t.conditions.insert(
        "ExportHTTPSListener".into(),
        json!({"Fn::And": [{"Condition": "CreateALB"}, {"Fn::Equals": [r("CreateHTTPSListener"), "true"]}]}),
    );
    t.add(
        "VPC",
        "A private virtual network",
        json!({"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.0.0.0/16", "EnableDnsHostnames": true, "EnableDnsSupport": true, "InstanceTenancy": "default"}}),
    );
    t.add(
        "PublicRouteTable",
        "A route table",
        json!({"Type": "AWS::EC2::RouteTable", "Properties": {"VpcId": r("VPC")}}),
    );
    t.add("InternetGateway", "An Internet Gateway", json!({"Type": "AWS::EC2::InternetGateway"}));
    t.add(
        "InternetGatewayAttachment",
        "Attaches the gateway",
        json!({"Type": "AWS::EC2::VPCGatewayAttachment", "Properties": {"InternetGatewayId": r("InternetGateway"), "VpcId": r("VPC")}}),
    );
    t.add(
        "DefaultPublicRoute",
        "A default route",
        json!({"Type": "AWS::EC2::Route", "DependsOn": "InternetGatewayAttachment", "Properties": {"RouteTableId": r("PublicRouteTable"), "DestinationCidrBlock": "0.0.0.0/0", "GatewayId": r("InternetGateway")}}),
    );
    for (i, (kind, cidr)) in
        [("Public", "10.0.0.0/24"), ("Public", "10.0.1.0/24"), ("Private", "10.0.2.0/24"), ("Private", "10.0.3.0/24")]
            .iter()
            .enumerate()
    {
        let n = i % 2 + 1;
        let id = format!("{kind}Subnet{n}");
        t.add(
            &id,
            "A subnet",
            json!({"Type": "AWS::EC2::Subnet", "Properties": {"CidrBlock": cidr, "VpcId": r("VPC"),
                "AvailabilityZone": {"Fn::Select": [(n - 1).to_string(), {"Fn::GetAZs": ""}]},
                "MapPublicIpOnLaunch": *kind == "Public"}}),
        );
        let table = if *kind == "Public" {
            "PublicRouteTable".to_string()
        } else {
            let table = format!("PrivateRouteTable{n}");
            t.add(&table, "A route table", json!({"Type": "AWS::EC2::RouteTable", "Properties": {"VpcId": r("VPC")}}));
            table
        };
        t.add(
            &format!("{id}RouteTableAssociation"),
            "Associates the subnet",
            json!({"Type": "AWS::EC2::SubnetRouteTableAssociation", "Properties": {"RouteTableId": r(&table), "SubnetId": r(&id)}}),
        );
    }
    t.add(
        "EnvironmentSecurityGroup",
        "A security group for the workloads",
        json!({"Type": "AWS::EC2::SecurityGroup", "Properties": {
            "GroupDescription": {"Fn::Join": ["", [r("AppName"), "-", r("EnvironmentName"), "EnvironmentSecurityGroup"]]},
            "VpcId": r("VPC")}}),
    );
    t.add(
        "EnvironmentSecurityGroupIngressFromSelf",
        "Lets workloads reach each other",
        json!({"Type": "AWS::EC2::SecurityGroupIngress", "Properties": {"GroupId": r("EnvironmentSecurityGroup"), "IpProtocol": -1, "SourceSecurityGroupId": r("EnvironmentSecurityGroup")}}),
    );
    t.add("Cluster", "An ECS cluster", json!({"Type": "AWS::ECS::Cluster", "Properties": {"ClusterSettings": [{"Name": "containerInsights", "Value": "disabled"}]}}));
    t.add(
        "ServiceDiscoveryNamespace",
        "A private DNS namespace",
        json!({"Type": "AWS::ServiceDiscovery::PrivateDnsNamespace", "Properties": {"Name": r("ServiceDiscoveryEndpoint"), "Vpc": r("VPC")}}),
    );
    public_load_balancer_group(&mut t, "HTTP", 80, "CreateALB");
    t.add(
        "PublicLoadBalancer",
        "An Application Load Balancer",
        json!({"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer", "Condition": "CreateALB", "Properties": {
            "Scheme": "internet-facing", "Type": "application",
            "SecurityGroups": [att("PublicHTTPLoadBalancerSecurityGroup", "GroupId")],
            "Subnets": [r("PublicSubnet1"), r("PublicSubnet2")]}}),
    );
    t.add(
        "DefaultHTTPTargetGroup",
        "A default target group",
        json!({"Type": "AWS::ElasticLoadBalancingV2::TargetGroup", "Condition": "CreateALB", "Properties": {
            "HealthCheckIntervalSeconds": 10, "HealthyThresholdCount": 2, "HealthCheckTimeoutSeconds": 5,
            "Port": 80, "Protocol": "HTTP", "TargetType": "ip", "VpcId": r("VPC")}}),
    );
    t.add(
        "HTTPListener",
        "A load balancer listener for HTTP",
        json!({"Type": "AWS::ElasticLoadBalancingV2::Listener", "Condition": "CreateALB", "Properties": {
            "DefaultActions": [{"TargetGroupArn": r("DefaultHTTPTargetGroup"), "Type": "forward"}],
            "LoadBalancerArn": r("PublicLoadBalancer"), "Port": 80, "Protocol": "HTTP"}}),
    );
    domain_helpers(&mut t);
    t.add(
        "FileSystem",
        "An EFS file system",
        json!({"Type": "AWS::EFS::FileSystem", "Condition": "CreateEFS", "Properties": {"Encrypted": true, "PerformanceMode": "generalPurpose", "ThroughputMode": "bursting"}}),
    );
    let role = |service: &str| {
        json!({"Type": "AWS::IAM::Role", "Properties": {
            "RoleName": sub(&format!("${{AppName}}-${{EnvironmentName}}-{service}")),
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                "Principal": {"Service": ["cloudformation.amazonaws.com"]}, "Action": ["sts:AssumeRole"]}]},
            "Path": "/"}})
    };
    t.add("CloudformationExecutionRole", "The role CloudFormation deploys with", role("CFNExecutionRole"));
    t.add("EnvironmentManagerRole", "The role Copilot manages the environment with", role("EnvManagerRole"));
    let export = |name: &str| format!("${{AppName}}-${{EnvironmentName}}-{name}");
    t.output("VpcId", r("VPC"), Some(&export("VpcId")));
    t.output(
        "PublicSubnets",
        json!({"Fn::Join": [",", [r("PublicSubnet1"), r("PublicSubnet2")]]}),
        Some(&export("PublicSubnets")),
    );
    t.output(
        "PrivateSubnets",
        json!({"Fn::Join": [",", [r("PrivateSubnet1"), r("PrivateSubnet2")]]}),
        Some(&export("PrivateSubnets")),
    );
    t.output("ClusterId", r("Cluster"), Some(&export("ClusterId")));
    t.output("EnvironmentSecurityGroup", r("EnvironmentSecurityGroup"), Some(&export("EnvironmentSecurityGroup")));
    t.output(
        "ServiceDiscoveryNamespaceID",
        att("ServiceDiscoveryNamespace", "Id"),
        Some(&export("ServiceDiscoveryNamespaceID")),
    );
    t.output("EnvironmentManagerRoleARN", att("EnvironmentManagerRole", "Arn"), None);
    t.output("CFNExecutionRoleARN", att("CloudformationExecutionRole", "Arn"), None);
    for (id, value, name, condition) in [
        ("PublicLoadBalancerDNS", att("PublicLoadBalancer", "DNSName"), "PublicLoadBalancerDNS", "CreateALB"),
        (
            "PublicLoadBalancerHostedZone",
            att("PublicLoadBalancer", "CanonicalHostedZoneID"),
            "CanonicalHostedZoneID",
            "CreateALB",
        ),
        ("HTTPListenerArn", r("HTTPListener"), "HTTPListenerArn", "CreateALB"),
        ("HTTPSListenerArn", r("HTTPSListener"), "HTTPSListenerArn", "ExportHTTPSListener"),
        ("EnvironmentHostedZone", r("EnvironmentHostedZone"), "HostedZone", "DelegateDNS"),
        ("EnvironmentSubdomain", sub("${EnvironmentName}.${AppName}.${AppDNSName}"), "SubDomain", "DelegateDNS"),
    ] {
        t.output(id, value, Some(&export(name)));
        t.outputs[id]["Condition"] = json!(condition);
    }
    let parameters = vec![
        ("AppName".to_string(), app.name.clone()),
        ("EnvironmentName".to_string(), app.env.clone()),
        ("ALBWorkloads".to_string(), app.alb_workloads()),
        ("InternalALBWorkloads".to_string(), String::new()),
        ("EFSWorkloads".to_string(), String::new()),
        ("NATWorkloads".to_string(), String::new()),
        ("AppRunnerPrivateWorkloads".to_string(), String::new()),
        ("ServiceDiscoveryEndpoint".to_string(), format!("{}.{}.local", app.env, app.name)),
        ("AppDNSName".to_string(), app.domain.clone().unwrap_or_default()),
        (
            "AppDNSDelegationRole".to_string(),
            app.domain
                .as_ref()
                .map(|_| format!("arn:aws:iam::123456789012:role/{}-DNSDelegationRole", app.name))
                .unwrap_or_default(),
        ),
        ("Aliases".to_string(), app.domain.as_ref().map(|_| app.aliases()).unwrap_or_default()),
        ("CreateHTTPSListener".to_string(), app.domain.is_some().to_string()),
    ];
    (t.build(), parameters)
}

/// The public load balancer's security group for one protocol, open to all.
fn public_load_balancer_group(t: &mut Template, protocol: &str, port: u16, condition: &str) {
    t.add(
        &format!("Public{protocol}LoadBalancerSecurityGroup"),
        &format!("{protocol} to the load balancer"),
        json!({"Type": "AWS::EC2::SecurityGroup", "Condition": condition, "Properties": {
            "GroupDescription": format!("{protocol} access to the public facing load balancer"), "VpcId": r("VPC"),
            "SecurityGroupIngress": [{"CidrIp": "0.0.0.0/0", "IpProtocol": "tcp", "FromPort": port, "ToPort": port}]}}),
    );
}

/// What Copilot's environment template holds for an app with a domain
/// (without imported public certificates, which leave all of it out): the
/// environment's hosted zone, the HTTPS listener on the certificate
/// `HTTPSCert` issues, and the Lambda-backed helpers behind them
/// (`DelegateDNSAction` delegates the zone from the app's, `HTTPSCert`
/// requests and validates the certificate, `CustomDomainAction` writes the
/// aliases' A records), their functions and their role. Conditional on the
/// domain (`DelegateDNS`) and the aliases (`HasAliases`), as Copilot's.
fn domain_helpers(t: &mut Template) {
    public_load_balancer_group(t, "HTTPS", 443, "ExportHTTPSListener");
    let mut role =
        lambda_role(json!({"Effect": "Allow", "Action": ["acm:RequestCertificate", "acm:DescribeCertificate",
        "route53:ChangeResourceRecordSets", "route53:ListResourceRecordSets", "sts:AssumeRole"], "Resource": "*"}));
    role["Condition"] = json!("DelegateDNS");
    t.add("CustomResourceRole", "An IAM role to manage certificates and Route53 hosted zones", role);
    t.add(
        "EnvironmentHostedZone",
        "A Route 53 Hosted Zone for the environment's subdomain",
        json!({"Type": "AWS::Route53::HostedZone", "Condition": "DelegateDNS", "Properties": {
            "HostedZoneConfig": {"Comment": sub("HostedZone for environment ${EnvironmentName} - ${EnvironmentName}.${AppName}.${AppDNSName}")},
            "Name": sub("${EnvironmentName}.${AppName}.${AppDNSName}")}}),
    );
    for (id, handler, condition) in [
        ("CertificateValidationFunction", "index.certificateRequestHandler", "DelegateDNS"),
        ("CustomDomainFunction", "index.handler", "HasAliases"),
        ("DNSDelegationFunction", "index.domainDelegationHandler", "DelegateDNS"),
    ] {
        let mut f = function(handler, "CustomResourceRole");
        f["Condition"] = json!(condition);
        t.resources.insert(id.into(), f);
    }
    t.custom(
        "DelegateDNSAction",
        "DNSDelegationFunction",
        "Delegate DNS for environment subdomain",
        json!({"ServiceToken": att("DNSDelegationFunction", "Arn"), "DomainName": sub("${AppName}.${AppDNSName}"),
            "SubdomainName": sub("${EnvironmentName}.${AppName}.${AppDNSName}"),
            "NameServers": att("EnvironmentHostedZone", "NameServers"), "RootDNSRole": r("AppDNSDelegationRole")}),
    );
    t.custom(
        "HTTPSCert",
        "CertificateValidationFunction",
        "Request and validate an ACM certificate for your domain",
        json!({"ServiceToken": att("CertificateValidationFunction", "Arn"), "AppName": r("AppName"),
            "EnvName": r("EnvironmentName"), "DomainName": r("AppDNSName"), "Aliases": r("Aliases"),
            "EnvHostedZoneId": r("EnvironmentHostedZone"), "Region": r("AWS::Region"),
            "RootDNSRole": r("AppDNSDelegationRole")}),
    );
    t.custom(
        "CustomDomainAction",
        "CustomDomainFunction",
        "Add an A-record to the hosted zone for the domain alias",
        json!({"ServiceToken": att("CustomDomainFunction", "Arn"), "AppName": r("AppName"),
            "EnvName": r("EnvironmentName"), "Aliases": r("Aliases"), "AppDNSRole": r("AppDNSDelegationRole"),
            "DomainName": r("AppDNSName"), "PublicAccessDNS": att("PublicLoadBalancer", "DNSName"),
            "PublicAccessHostedZone": att("PublicLoadBalancer", "CanonicalHostedZoneID")}),
    );
    for (id, condition, depends) in [
        ("DelegateDNSAction", "DelegateDNS", json!(["DNSDelegationFunction", "EnvironmentHostedZone"])),
        (
            "HTTPSCert",
            "DelegateDNS",
            json!(["CertificateValidationFunction", "EnvironmentHostedZone", "DelegateDNSAction"]),
        ),
        ("CustomDomainAction", "HasAliases", json!([])),
    ] {
        t.resources[id]["Condition"] = json!(condition);
        if depends != json!([]) {
            t.resources[id]["DependsOn"] = depends;
        }
    }
    t.add(
        "HTTPSListener",
        "A load balancer listener to route HTTPS traffic",
        json!({"Type": "AWS::ElasticLoadBalancingV2::Listener", "Condition": "ExportHTTPSListener", "Properties": {
            "Certificates": [{"CertificateArn": r("HTTPSCert")}],
            "DefaultActions": [{"TargetGroupArn": r("DefaultHTTPTargetGroup"), "Type": "forward"}],
            "LoadBalancerArn": r("PublicLoadBalancer"), "Port": 443, "Protocol": "HTTPS"}}),
    );
}

/// Copilot's template of one service or job, and its parameters.
pub fn workload(app: &App, w: &Workload, stand_in: bool) -> (Value, Vec<(String, String)>) {
    let service = w.kind != Kind::ScheduledJob;
    let mut parameters = vec![
        "AppName",
        "EnvName",
        "WorkloadName",
        "ContainerImage",
        "TaskCPU",
        "TaskMemory",
        "TaskCount",
        "LogRetention",
        "AddonsTemplateURL",
        "EnvFileARN",
    ];
    if w.port.is_some() {
        parameters.push("ContainerPort");
    }
    if w.kind == Kind::LoadBalancedWebService {
        parameters.extend(["TargetContainer", "TargetPort", "HTTPSEnabled", "RulePath", "DNSDelegated"]);
    }
    if w.kind == Kind::ScheduledJob {
        parameters.push("Schedule");
    }
    let mut t =
        Template::new("CloudFormation template that represents a workload on Amazon ECS.", &parameters, stand_in);
    t.add(
        "LogGroup",
        "A CloudWatch log group to hold your service logs",
        json!({"Type": "AWS::Logs::LogGroup", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain", "Properties": {
            "LogGroupName": sub("/copilot/${AppName}-${EnvName}-${WorkloadName}"), "RetentionInDays": r("LogRetention")}}),
    );
    t.add("ExecutionRole", "An IAM role to pull images and write logs", task_role());
    t.add("TaskRole", "An IAM role for your containers", task_role());
    let mut container = json!({"Name": r("WorkloadName"), "Image": r("ContainerImage"), "Essential": true,
        "LogConfiguration": {"LogDriver": "awslogs", "Options": {"awslogs-region": r("AWS::Region"),
            "awslogs-group": r("LogGroup"), "awslogs-stream-prefix": "copilot"}}});
    if let Some(port) = w.port {
        container["PortMappings"] = json!([{"ContainerPort": port}]);
    }
    t.add(
        "TaskDefinition",
        "An ECS task definition",
        json!({"Type": "AWS::ECS::TaskDefinition", "DependsOn": "LogGroup", "Properties": {
            "Family": sub("${AppName}-${EnvName}-${WorkloadName}"), "RequiresCompatibilities": ["FARGATE"],
            "NetworkMode": "awsvpc", "Cpu": r("TaskCPU"), "Memory": r("TaskMemory"),
            "ExecutionRoleArn": att("ExecutionRole", "Arn"), "TaskRoleArn": att("TaskRole", "Arn"),
            "ContainerDefinitions": [container]}}),
    );
    // Every workload template includes the environment controller.
    // With the app's domain the environment has an HTTPS listener, and the
    // controller also passes the service's aliases on (`Aliases`).
    let https = app.domain.is_some() && w.kind == Kind::LoadBalancedWebService;
    let aliased = https && !w.aliases.is_empty();
    let controller = match w.kind {
        Kind::LoadBalancedWebService if aliased => json!(["ALBWorkloads", "Aliases"]),
        Kind::LoadBalancedWebService => json!(["ALBWorkloads"]),
        _ => json!([]),
    };
    let mut action = json!({"ServiceToken": att("EnvControllerFunction", "Arn"), "Workload": r("WorkloadName"),
        "EnvStack": sub("${AppName}-${EnvName}"), "Parameters": controller});
    if aliased {
        action["Aliases"] = json!(w.aliases);
    }
    t.custom("EnvControllerAction", "EnvControllerFunction", "Update your environment's shared resources", action);
    t.resources.insert("EnvControllerFunction".into(), function("index.handler", "EnvControllerRole"));
    t.add(
        "EnvControllerRole",
        "An IAM role to update your environment stack",
        lambda_role(json!({"Effect": "Allow", "Action": ["cloudformation:DescribeStacks", "cloudformation:UpdateStack"],
            "Resource": sub("arn:${AWS::Partition}:cloudformation:${AWS::Region}:${AWS::AccountId}:stack/${AppName}-${EnvName}/*")})),
    );
    let mut depends = vec![json!("EnvControllerAction")];
    if w.kind == Kind::LoadBalancedWebService {
        t.add(
            "TargetGroup",
            "A target group to connect the load balancer to your service",
            json!({"Type": "AWS::ElasticLoadBalancingV2::TargetGroup", "Properties": {
                "HealthCheckPath": "/", "Port": r("ContainerPort"), "Protocol": "HTTP",
                "TargetGroupAttributes": [{"Key": "deregistration_delay.timeout_seconds", "Value": 60}],
                "TargetType": "ip", "VpcId": import("VpcId")}}),
        );
        t.resources.insert(
            "RulePriorityFunction".into(),
            function("index.nextAvailableRulePriorityHandler", "RulePriorityFunctionRole"),
        );
        t.add(
            "RulePriorityFunctionRole",
            "An IAM Role to describe load balancer rules for assigning a priority",
            lambda_role(json!({"Effect": "Allow", "Action": ["elasticloadbalancing:DescribeRules"], "Resource": "*"})),
        );
        let path = json!({"Field": "path-pattern", "PathPatternConfig": {"Values": ["/*"]}});
        // A rule-priority custom resource and a listener rule on one listener.
        let priority = |t: &mut Template, id: &str, protocol: &str, listener: &str| {
            t.custom(
                id,
                "RulePriorityFunction",
                &format!("A custom resource assigning priority for {protocol} listener rules"),
                json!({"ServiceToken": att("RulePriorityFunction", "Arn"), "RulePath": [r("RulePath")],
                    "ListenerArn": import(listener), "Priority": "1000"}),
            );
        };
        let rule =
            |t: &mut Template, id: &str, what: &str, actions: Value, conditions: Value, listener: &str, by: &str| {
                t.add(
                    id,
                    what,
                    json!({"Type": "AWS::ElasticLoadBalancingV2::ListenerRule", "Properties": {
                    "Actions": actions, "Conditions": conditions, "ListenerArn": import(listener),
                    "Priority": att(by, "Priority")}}),
                );
            };
        let forward = json!([{"TargetGroupArn": r("TargetGroup"), "Type": "forward"}]);
        if https {
            // Copilot's `https-listener` partial: one priority for both
            // listeners, HTTP redirected to HTTPS for the service's hosts.
            let hosts = if aliased {
                json!(w.aliases)
            } else {
                json!([{"Fn::Join": [".", [r("WorkloadName"), import("SubDomain")]]}])
            };
            let host = json!({"Field": "host-header", "HostHeaderConfig": {"Values": hosts}});
            priority(&mut t, "HTTPSRulePriorityAction", "HTTPS", "HTTPSListenerArn");
            let redirect = json!([{"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443",
                "Host": "#{host}", "Path": "/#{path}", "Query": "#{query}", "StatusCode": "HTTP_301"}}]);
            rule(
                &mut t,
                "HTTPListenerRuleWithDomain",
                "An HTTP listener rule that redirects HTTP to HTTPS",
                redirect,
                json!([host.clone(), path.clone()]),
                "HTTPListenerArn",
                "HTTPSRulePriorityAction",
            );
            rule(
                &mut t,
                "HTTPSListenerRule",
                "An HTTPS listener rule for forwarding HTTPS traffic to your tasks",
                forward,
                json!([host, path]),
                "HTTPSListenerArn",
                "HTTPSRulePriorityAction",
            );
            depends.extend([json!("HTTPListenerRuleWithDomain"), json!("HTTPSListenerRule")]);
        } else {
            priority(&mut t, "HTTPRulePriorityAction", "HTTP", "HTTPListenerArn");
            rule(
                &mut t,
                "HTTPListenerRule",
                "A HTTP listener rule for forwarding HTTP traffic",
                forward,
                json!([path]),
                "HTTPListenerArn",
                "HTTPRulePriorityAction",
            );
            depends.push(json!("HTTPListenerRule"));
        }
    }
    for topic in &w.topics {
        t.add(
            &format!("{topic}SNSTopic"),
            "A SNS topic to broadcast messages",
            json!({"Type": "AWS::SNS::Topic", "Properties": {
                "TopicName": sub(&format!("${{AppName}}-${{EnvName}}-${{WorkloadName}}-{topic}")),
                "KmsMasterKeyId": "alias/aws/sns"}}),
        );
    }
    if w.kind == Kind::WorkerService {
        t.add(
            "EventsQueue",
            "An events SQS queue to buffer messages",
            json!({"Type": "AWS::SQS::Queue", "Properties": {"KmsMasterKeyId": "alias/aws/sqs"}}),
        );
    }
    if service {
        if w.port.is_some() {
            t.add(
                "DiscoveryService",
                "Service discovery for your services to communicate within the VPC",
                json!({"Type": "AWS::ServiceDiscovery::Service", "Properties": {
                    "Description": "Discovery Service for the Copilot services", "Name": r("WorkloadName"),
                    "DnsConfig": {"RoutingPolicy": "MULTIVALUE", "DnsRecords": [{"TTL": 10, "Type": "A"}, {"TTL": 10, "Type": "SRV"}]},
                    "HealthCheckCustomConfig": {"FailureThreshold": 1},
                    "NamespaceId": import("ServiceDiscoveryNamespaceID")}}),
            );
        }
        let public = w.kind == Kind::LoadBalancedWebService;
        let mut properties = json!({
            "PlatformVersion": "LATEST", "Cluster": import("ClusterId"), "TaskDefinition": r("TaskDefinition"),
            "DesiredCount": r("TaskCount"), "LaunchType": "FARGATE", "PropagateTags": "SERVICE",
            "DeploymentConfiguration": {"MinimumHealthyPercent": 100, "MaximumPercent": 200,
                "DeploymentCircuitBreaker": {"Enable": true, "Rollback": true}},
            "NetworkConfiguration": {"AwsvpcConfiguration": {
                "AssignPublicIp": if public { "ENABLED" } else { "DISABLED" },
                "Subnets": {"Fn::Split": [",", import(if public { "PublicSubnets" } else { "PrivateSubnets" })]},
                "SecurityGroups": [import("EnvironmentSecurityGroup")]}}});
        if w.port.is_some() {
            properties["ServiceRegistries"] =
                json!([{"RegistryArn": att("DiscoveryService", "Arn"), "Port": r("ContainerPort")}]);
        }
        if public {
            properties["LoadBalancers"] = json!([{"ContainerName": r("TargetContainer"),
                "ContainerPort": r("TargetPort"), "TargetGroupArn": r("TargetGroup")}]);
            properties["HealthCheckGracePeriodSeconds"] = json!(60);
        }
        t.add(
            "Service",
            "An ECS service to run and maintain your tasks in the environment cluster",
            json!({"Type": "AWS::ECS::Service", "DependsOn": depends, "Properties": properties}),
        );
    } else {
        t.add(
            "StateMachine",
            "A state machine to invoke your job",
            json!({"Type": "AWS::StepFunctions::StateMachine", "Properties": {
                "StateMachineName": sub("${AppName}-${EnvName}-${WorkloadName}"),
                "RoleArn": att("StateMachineRole", "Arn"),
                "DefinitionString": "{\"StartAt\":\"Run\",\"States\":{\"Run\":{\"Type\":\"Pass\",\"End\":true}}}"}}),
        );
        t.add("StateMachineRole", "A role for the state machine", task_role());
        t.add(
            "Rule",
            "An EventBridge rule to trigger the state machine",
            json!({"Type": "AWS::Events::Rule", "Properties": {"ScheduleExpression": r("Schedule"), "State": "ENABLED",
                "Targets": [{"Arn": r("StateMachine"), "Id": "statemachine", "RoleArn": att("StateMachineRole", "Arn")}]}}),
        );
    }
    let mut values = vec![
        ("AppName", app.name.clone()),
        ("EnvName", app.env.clone()),
        ("WorkloadName", w.name.clone()),
        ("ContainerImage", w.image.clone()),
        ("TaskCPU", "256".into()),
        ("TaskMemory", "512".into()),
        ("TaskCount", "1".into()),
        ("LogRetention", "30".into()),
        ("AddonsTemplateURL", String::new()),
        ("EnvFileARN", String::new()),
    ];
    if let Some(port) = w.port {
        values.push(("ContainerPort", port.to_string()));
    }
    if w.kind == Kind::LoadBalancedWebService {
        values.extend([
            ("TargetContainer", w.name.clone()),
            ("TargetPort", w.port.unwrap_or(80).to_string()),
            ("HTTPSEnabled", https.to_string()),
            ("RulePath", w.path.clone().unwrap_or_else(|| "/".into())),
            ("DNSDelegated", app.domain.is_some().to_string()),
        ]);
    }
    if let Some(schedule) = &w.schedule {
        let expression = if schedule == "@daily" { "cron(0 0 * * ? *)".to_string() } else { schedule.clone() };
        values.push(("Schedule", expression));
    }
    (t.build(), values.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}
