//! The bundled `environment` plugin: everything the services of one
//! environment share — VPC, subnets, security group, ECS cluster, load
//! balancers, service discovery namespace and the roles ferry deploys with —
//! exported as `<app>-<env>-<Name>` exactly as Copilot's environment stacks do.

pub mod manifest;

use ferry_plugin_sdk::cfn::{self, Parameter, Resource, Template};
use ferry_plugin_sdk::{Diagnostic, Plugin, PluginInfo, RenderContext, RenderError, Rendered, Value, json};
use manifest::{Manifest, Subnet};

/// The manifest `type:` this plugin renders.
pub const MANIFEST_TYPE: &str = "Environment";
/// Commented manifest written by `ferry env init`.
pub const MANIFEST_TEMPLATE: &str = include_str!("template.yml");

const DEFAULT_VPC_CIDR: &str = "10.0.0.0/16";
const DEFAULT_PUBLIC_CIDRS: [&str; 2] = ["10.0.0.0/24", "10.0.1.0/24"];
const DEFAULT_PRIVATE_CIDRS: [&str; 2] = ["10.0.2.0/24", "10.0.3.0/24"];
const DEFAULT_SSL_POLICY: &str = "ELBSecurityPolicy-TLS13-1-2-2021-06";
const DEFAULT_FLOW_LOG_RETENTION: u64 = 14;
/// Retention values CloudWatch Logs accepts.
const LOG_RETENTION_DAYS: &[u64] =
    &[1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

pub struct Environment;

impl Plugin for Environment {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "environment".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Environment: VPC, ECS cluster, load balancers and service discovery shared by services"
                .into(),
            manifest_types: vec![MANIFEST_TYPE.into()],
            manifest_schema: ferry_plugin_sdk::manifest::schema_for::<Manifest>(),
            manifest_template: MANIFEST_TEMPLATE.into(),
        }
    }

    fn validate(manifest: &Value) -> Vec<Diagnostic> {
        ferry_plugin_sdk::manifest::validate_with(manifest, |m: &Manifest| check(m))
    }

    fn render(manifest: &Value, context: &RenderContext) -> Result<Rendered, RenderError> {
        ferry_plugin_sdk::manifest::render_with(manifest, |m: &Manifest| check(m), |m| render(m, context))
    }
}

ferry_plugin_sdk::export_plugin!(Environment, environment);

// ---- validation -----------------------------------------------------------

fn is_cidr(text: &str) -> bool {
    let Some((ip, prefix)) = text.split_once('/') else { return false };
    let octets: Vec<&str> = ip.split('.').collect();
    octets.len() == 4 && octets.iter().all(|o| o.parse::<u8>().is_ok()) && prefix.parse::<u8>().is_ok_and(|p| p <= 32)
}

/// The `index`-th /24 block of an IPv4 CIDR block (validated earlier).
fn nth_slash24(cidr: &str, index: usize) -> Option<String> {
    let (address, _) = cidr.split_once('/')?;
    let octets: Vec<u32> = address.split('.').map(|o| o.parse().ok()).collect::<Option<_>>()?;
    let base = octets.iter().fold(0u32, |acc, o| (acc << 8) | o) & 0xFFFF_FF00;
    let block = base.checked_add(u32::try_from(index).ok()?.checked_mul(256)?)?;
    let [a, b, c, d] = block.to_be_bytes();
    Some(format!("{a}.{b}.{c}.{d}/24"))
}

fn cidr_prefix(text: &str) -> Option<u8> {
    text.split_once('/')?.1.parse().ok()
}

/// `<prefix>-` followed by 8 or 17 hex digits, as EC2 ids are.
fn is_ec2_id(text: &str, prefix: &str) -> bool {
    text.strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('-'))
        .is_some_and(|hex| matches!(hex.len(), 8 | 17) && hex.chars().all(|c| c.is_ascii_hexdigit()))
}

fn is_acm_arn(text: &str) -> bool {
    text.starts_with("arn:") && text.contains(":acm:") && text.contains(":certificate/")
}

/// Checks what CloudFormation or EC2 would refuse later, with the field's path.
pub fn check(m: &Manifest) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    if m.kind != MANIFEST_TYPE {
        out.push(Diagnostic::error("/type", format!("this plugin renders `{MANIFEST_TYPE}`, not `{}`", m.kind)));
    }
    if let Some(cdn) = &m.cdn
        && cdn != &Value::Bool(false)
    {
        out.push(Diagnostic::unsupported("/cdn", "cdn"));
    }
    let vpc = m.network.as_ref().and_then(|n| n.vpc.as_ref());
    let imported = vpc.is_some_and(|v| v.id.is_some());
    if let Some(vpc) = vpc {
        if let Some(id) = &vpc.id
            && !is_ec2_id(id, "vpc")
        {
            out.push(
                Diagnostic::error("/network/vpc/id", format!("`{id}` is not a VPC id"))
                    .with_hint("VPC ids look like vpc-0123456789abcdef0"),
            );
        }
        if let Some(cidr) = &vpc.cidr {
            if imported {
                out.push(
                    Diagnostic::error("/network/vpc/cidr", "`cidr` cannot be set for an imported VPC")
                        .with_hint("remove `cidr`, or remove `id` to let ferry create the VPC"),
                );
            } else if !is_cidr(cidr) {
                out.push(
                    Diagnostic::error("/network/vpc/cidr", format!("`{cidr}` is not an IPv4 CIDR block"))
                        .with_hint("for example 10.0.0.0/16"),
                );
            } else if cidr_prefix(cidr).is_some_and(|p| !(16..=22).contains(&p))
                && vpc.subnets.as_ref().is_none_or(|s| s.public.is_empty())
            {
                out.push(
                    Diagnostic::error("/network/vpc/cidr", format!("`{cidr}` must be a /16 to /22 block"))
                        .with_hint("ferry carves four /24 subnets out of it unless you list `subnets`"),
                );
            }
        }
        let subnets = vpc.subnets.clone().unwrap_or_default();
        for (kind, list) in [("public", &subnets.public), ("private", &subnets.private)] {
            check_subnets(&mut out, kind, list, imported);
        }
        if imported && subnets.public.is_empty() && subnets.private.is_empty() {
            out.push(
                Diagnostic::error("/network/vpc/id", "an imported VPC needs its subnets")
                    .with_hint("list them under network.vpc.subnets.public and .private as `- id: subnet-...`"),
            );
        }
        if let Some(sg) = &vpc.security_group {
            for (dir, rules) in [("ingress", &sg.ingress), ("egress", &sg.egress)] {
                for (i, rule) in rules.iter().enumerate() {
                    let path = format!("/network/vpc/security_group/{dir}/{i}");
                    if !is_cidr(&rule.cidr) {
                        out.push(Diagnostic::error(
                            format!("{path}/cidr"),
                            format!("`{}` is not an IPv4 CIDR block", rule.cidr),
                        ));
                    }
                    if !["tcp", "udp", "icmp", "-1"].contains(&rule.ip_protocol.as_str()) {
                        out.push(
                            Diagnostic::error(
                                format!("{path}/ip_protocol"),
                                format!("unknown protocol `{}`", rule.ip_protocol),
                            )
                            .with_hint("use tcp, udp, icmp or -1 (all)"),
                        );
                    }
                    if rule.from_port > rule.to_port {
                        out.push(Diagnostic::error(format!("{path}/from_port"), "from_port is greater than to_port"));
                    }
                }
            }
        }
        if let Some(flow_logs) = &vpc.flow_logs {
            match flow_logs {
                Value::Bool(_) => {}
                Value::Object(map) => {
                    for (key, value) in map {
                        if key != "retention" {
                            out.push(
                                Diagnostic::error(
                                    format!("/network/vpc/flow_logs/{key}"),
                                    format!("unknown field `{key}`"),
                                )
                                .with_hint("flow_logs takes `retention` (days)"),
                            );
                        } else if !value.as_u64().is_some_and(|d| LOG_RETENTION_DAYS.contains(&d)) {
                            out.push(
                                Diagnostic::error(
                                    "/network/vpc/flow_logs/retention",
                                    format!("{value} is not a retention CloudWatch Logs accepts"),
                                )
                                .with_hint("use one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, ... days"),
                            );
                        }
                    }
                }
                other => out.push(
                    Diagnostic::error("/network/vpc/flow_logs", format!("wrong type: found {other}"))
                        .with_hint("use `true`, `false` or `{retention: 14}`"),
                ),
            }
        }
    }
    if let Some(public) = m.http.as_ref().and_then(|h| h.public.as_ref()) {
        check_certificates(&mut out, "/http/public/certificates", &public.certificates);
        if public.access_logs.as_ref().is_some_and(|v| v != &Value::Bool(false)) {
            out.push(Diagnostic::unsupported("/http/public/access_logs", "http.public.access_logs"));
        }
        if let Some(ingress) = &public.ingress {
            if ingress.cdn == Some(true) {
                out.push(Diagnostic::unsupported("/http/public/ingress/cdn", "http.public.ingress.cdn"));
            }
            for (i, ip) in ingress.source_ips.iter().enumerate() {
                if !is_cidr(ip) {
                    out.push(
                        Diagnostic::error(
                            format!("/http/public/ingress/source_ips/{i}"),
                            format!("`{ip}` is not an IPv4 CIDR block"),
                        )
                        .with_hint("for example 203.0.113.0/24, or 198.51.100.7/32 for one address"),
                    );
                }
            }
        }
    }
    if let Some(private) = m.http.as_ref().and_then(|h| h.private.as_ref()) {
        check_certificates(&mut out, "/http/private/certificates", &private.certificates);
        for (i, id) in private.internal_alb_subnets.iter().enumerate() {
            if !is_ec2_id(id, "subnet") {
                out.push(Diagnostic::error(
                    format!("/http/private/internal_alb_subnets/{i}"),
                    format!("`{id}` is not a subnet id"),
                ));
            }
        }
        if !private.internal_alb_subnets.is_empty() && !imported {
            out.push(
                Diagnostic::error("/http/private/internal_alb_subnets", "internal_alb_subnets needs an imported VPC")
                    .with_hint("ferry places the internal load balancer in the private subnets it creates"),
            );
        }
    }
    if let Some(insights) = m.observability.as_ref().and_then(|o| o.container_insights.as_ref()) {
        let ok = matches!(insights, Value::Bool(_)) || insights.as_str() == Some("enhanced");
        if !ok {
            out.push(
                Diagnostic::error("/observability/container_insights", format!("wrong value: {insights}"))
                    .with_hint("use true, false or `enhanced`"),
            );
        }
    }
    out
}

fn check_subnets(out: &mut Vec<Diagnostic>, kind: &str, list: &[Subnet], imported: bool) {
    for (i, subnet) in list.iter().enumerate() {
        let path = format!("/network/vpc/subnets/{kind}/{i}");
        match (imported, &subnet.id, &subnet.cidr) {
            (true, None, _) => out.push(
                Diagnostic::error(path, "a subnet of an imported VPC needs its `id`")
                    .with_hint("write `- id: subnet-...`"),
            ),
            (true, Some(_), Some(_)) => {
                out.push(Diagnostic::error(format!("{path}/cidr"), "an imported subnet cannot set `cidr`"))
            }
            (false, Some(_), _) => out.push(
                Diagnostic::error(format!("{path}/id"), "subnet `id` needs an imported VPC (`network.vpc.id`)")
                    .with_hint("import the VPC too, or give `cidr` and `az` for subnets ferry creates"),
            ),
            (false, None, None) => out
                .push(Diagnostic::error(path, "a subnet needs a `cidr`").with_hint("for example `cidr: 10.0.0.0/24`")),
            (false, None, Some(cidr)) if !is_cidr(cidr) => {
                out.push(Diagnostic::error(format!("{path}/cidr"), format!("`{cidr}` is not an IPv4 CIDR block")))
            }
            _ => {}
        }
    }
    if !imported && !list.is_empty() && list.len() < 2 {
        out.push(
            Diagnostic::error(
                format!("/network/vpc/subnets/{kind}"),
                format!("at least two {kind} subnets are needed"),
            )
            .with_hint("load balancers need subnets in two availability zones"),
        );
    }
}

fn check_certificates(out: &mut Vec<Diagnostic>, path: &str, certificates: &[String]) {
    for (i, arn) in certificates.iter().enumerate() {
        if !is_acm_arn(arn) {
            out.push(
                Diagnostic::error(format!("{path}/{i}"), format!("`{arn}` is not an ACM certificate ARN"))
                    .with_hint("arn:aws:acm:<region>:<account>:certificate/<id>"),
            );
        }
    }
}

// ---- rendering ------------------------------------------------------------

fn export(name: &str) -> Option<Value> {
    Some(cfn::sub(&format!("${{AppName}}-${{EnvironmentName}}-{name}")))
}

fn name_tag(suffix: &str) -> Value {
    json!([cfn::tag("Name", cfn::sub(&format!("copilot-${{AppName}}-${{EnvironmentName}}{suffix}")))])
}

/// Subnet ids as a list, for a resource property.
struct Network {
    vpc_id: Value,
    vpc_cidr: Value,
    public: Vec<Value>,
    private: Vec<Value>,
}

fn render(m: &Manifest, ctx: &RenderContext) -> Rendered {
    let mut t = Template::new();
    t.description = Some(format!(
        "CloudFormation environment template for `{}` of application `{}`, rendered by ferry.",
        ctx.env, ctx.app
    ));
    let mut params = indexmap::IndexMap::new();

    let lb_services: Vec<&str> =
        ctx.workloads.iter().filter(|w| w.kind == "Load Balanced Web Service").map(|w| w.name.as_str()).collect();
    let private_http = m.http.as_ref().and_then(|h| h.private.as_ref());
    let internal_services: Vec<&str> = if private_http.is_some() {
        ctx.workloads.iter().filter(|w| w.kind == "Backend Service").map(|w| w.name.as_str()).collect()
    } else {
        Vec::new()
    };
    let nat_services: Vec<&str> =
        ctx.workloads.iter().filter(|w| w.private_placement).map(|w| w.name.as_str()).collect();

    t.parameter(
        "ALBWorkloads",
        Parameter::string().default("").description("Services behind the public load balancer"),
    );
    t.parameter(
        "InternalALBWorkloads",
        Parameter::string().default("").description("Services behind the internal load balancer"),
    );
    t.parameter(
        "NATWorkloads",
        Parameter::string().default("").description("Workloads in private subnets that need NAT"),
    );
    t.parameter(
        "ServiceDiscoveryEndpoint",
        Parameter::string().description("Private DNS namespace of the environment"),
    );
    params.insert("ALBWorkloads".to_string(), json!(lb_services.join(",")));
    params.insert("InternalALBWorkloads".to_string(), json!(internal_services.join(",")));
    params.insert("NATWorkloads".to_string(), json!(nat_services.join(",")));
    params.insert("ServiceDiscoveryEndpoint".to_string(), json!(format!("{}.{}.local", ctx.env, ctx.app)));

    let not_empty = |p: &str| cfn::not(cfn::equals(cfn::ref_(p), json!("")));
    t.condition("CreateALB", not_empty("ALBWorkloads"));
    if private_http.is_some() {
        t.condition("CreateInternalALB", not_empty("InternalALBWorkloads"));
    }

    let vpc = m.network.as_ref().and_then(|n| n.vpc.clone()).unwrap_or_default();
    let network = match &vpc.id {
        Some(id) => imported_network(&vpc, id),
        None => {
            t.condition("CreateNATGateways", not_empty("NATWorkloads"));
            created_network(&mut t, &vpc)
        }
    };
    if let Some(flow_logs) = &vpc.flow_logs {
        let retention = match flow_logs {
            Value::Bool(true) => Some(DEFAULT_FLOW_LOG_RETENTION),
            Value::Object(map) => {
                Some(map.get("retention").and_then(Value::as_u64).unwrap_or(DEFAULT_FLOW_LOG_RETENTION))
            }
            _ => None,
        };
        if let Some(days) = retention {
            flow_logs_resources(&mut t, &network, days);
        }
    }

    security_group(&mut t, &network, &vpc);
    cluster(&mut t, m);
    t.resource(
        "ServiceDiscoveryNamespace",
        Resource::new("AWS::ServiceDiscovery::PrivateDnsNamespace")
            .prop("Name", cfn::ref_("ServiceDiscoveryEndpoint"))
            .prop("Vpc", network.vpc_id.clone())
            .describe("A private DNS namespace so services find each other as <service>.<env>.<app>.local"),
    );
    roles(&mut t);
    public_load_balancer(&mut t, m, &network);
    if let Some(private) = private_http {
        internal_load_balancer(&mut t, private, &network);
    }
    outputs(&mut t, &network, m, vpc.id.is_none());
    Rendered { template: t, parameters: params }
}

fn imported_network(vpc: &manifest::Vpc, id: &str) -> Network {
    let subnets = vpc.subnets.clone().unwrap_or_default();
    let ids = |list: &[Subnet]| list.iter().filter_map(|s| s.id.clone()).map(Value::String).collect::<Vec<_>>();
    Network {
        vpc_id: json!(id),
        // The imported VPC's CIDR is not known offline; the internal ALB then
        // admits the environment security group only.
        vpc_cidr: Value::Null,
        public: ids(&subnets.public),
        private: ids(&subnets.private),
    }
}

fn created_network(t: &mut Template, vpc: &manifest::Vpc) -> Network {
    let cidr = vpc.cidr.clone().unwrap_or_else(|| DEFAULT_VPC_CIDR.to_string());
    t.resource(
        "VPC",
        Resource::new("AWS::EC2::VPC")
            .prop("CidrBlock", json!(cidr))
            .prop("EnableDnsHostnames", true)
            .prop("EnableDnsSupport", true)
            .prop("InstanceTenancy", "default")
            .prop("Tags", name_tag(""))
            .describe("A virtual private network for the environment's resources"),
    );
    t.resource(
        "InternetGateway",
        Resource::new("AWS::EC2::InternetGateway")
            .prop("Tags", name_tag(""))
            .describe("An internet gateway for the public subnets"),
    );
    t.resource(
        "InternetGatewayAttachment",
        Resource::new("AWS::EC2::VPCGatewayAttachment")
            .prop("InternetGatewayId", cfn::ref_("InternetGateway"))
            .prop("VpcId", cfn::ref_("VPC"))
            .describe("Connects the internet gateway to the VPC"),
    );
    t.resource(
        "PublicRouteTable",
        Resource::new("AWS::EC2::RouteTable")
            .prop("VpcId", cfn::ref_("VPC"))
            .prop("Tags", name_tag("-public"))
            .describe("Routes of the public subnets"),
    );
    t.resource(
        "DefaultPublicRoute",
        Resource::new("AWS::EC2::Route")
            .depends_on("InternetGatewayAttachment")
            .prop("RouteTableId", cfn::ref_("PublicRouteTable"))
            .prop("DestinationCidrBlock", "0.0.0.0/0")
            .prop("GatewayId", cfn::ref_("InternetGateway"))
            .describe("Sends internet traffic of the public subnets through the internet gateway"),
    );

    let subnets = vpc.subnets.clone().unwrap_or_default();
    let explicit = vpc.cidr.is_some() && subnets.public.is_empty() && subnets.private.is_empty();
    // With a custom VPC CIDR and no subnets listed, the first four /24 blocks
    // of it are used (what `Fn::Cidr [cidr, 4, 8]` picks, written out so the
    // template says which addresses each subnet gets); otherwise Copilot's
    // default blocks or the listed ones.
    let vpc_cidr = vpc.cidr.clone().unwrap_or_else(|| DEFAULT_VPC_CIDR.to_string());
    let carve = |index: usize| json!(nth_slash24(&vpc_cidr, index).unwrap_or_default());
    let pick = |list: &[Subnet], defaults: [&str; 2], offset: usize| -> Vec<(Value, Value)> {
        if list.is_empty() {
            (0..2)
                .map(|i| {
                    let cidr = if explicit { carve(offset + i) } else { json!(defaults[i]) };
                    (cidr, cfn::select(i, cfn::get_azs()))
                })
                .collect()
        } else {
            list.iter()
                .enumerate()
                .map(|(i, s)| {
                    let az = s.az.clone().map(Value::String).unwrap_or_else(|| cfn::select(i % 2, cfn::get_azs()));
                    (json!(s.cidr.clone().unwrap_or_default()), az)
                })
                .collect()
        }
    };
    let public_specs = pick(&subnets.public, DEFAULT_PUBLIC_CIDRS, 0);
    let private_specs = pick(&subnets.private, DEFAULT_PRIVATE_CIDRS, 2);

    let mut public = Vec::new();
    for (i, (cidr, az)) in public_specs.into_iter().enumerate() {
        let id = format!("PublicSubnet{}", i + 1);
        subnet(t, &id, cidr, az, true, &format!("-pub{i}"));
        associate(t, &id, "PublicRouteTable", "Routes the public subnet through the internet gateway");
        public.push(cfn::ref_(&id));
    }
    let mut private = Vec::new();
    for (i, (cidr, az)) in private_specs.into_iter().enumerate() {
        let n = i + 1;
        let id = format!("PrivateSubnet{n}");
        subnet(t, &id, cidr, az, false, &format!("-priv{i}"));
        t.resource(
            &format!("PrivateRouteTable{n}"),
            Resource::new("AWS::EC2::RouteTable")
                .prop("VpcId", cfn::ref_("VPC"))
                .prop("Tags", name_tag(&format!("-priv{i}")))
                .describe("Routes of a private subnet"),
        );
        associate(t, &id, &format!("PrivateRouteTable{n}"), "Attaches the private subnet to its route table");
        // NAT gateways cost money: they exist only while a private workload needs one.
        let public_subnet = format!("PublicSubnet{}", (i % public.len().max(1)) + 1);
        t.resource(
            &format!("NatGateway{n}Attachment"),
            Resource::new("AWS::EC2::EIP")
                .condition("CreateNATGateways")
                .depends_on("InternetGatewayAttachment")
                .prop("Domain", "vpc")
                .describe("An elastic IP for a NAT gateway"),
        );
        t.resource(
            &format!("NatGateway{n}"),
            Resource::new("AWS::EC2::NatGateway")
                .condition("CreateNATGateways")
                .prop("AllocationId", cfn::get_att(&format!("NatGateway{n}Attachment"), "AllocationId"))
                .prop("SubnetId", cfn::ref_(&public_subnet))
                .prop("Tags", name_tag(&format!("-nat{i}")))
                .describe("A NAT gateway so private tasks reach the internet"),
        );
        t.resource(
            &format!("PrivateRoute{n}"),
            Resource::new("AWS::EC2::Route")
                .condition("CreateNATGateways")
                .prop("RouteTableId", cfn::ref_(&format!("PrivateRouteTable{n}")))
                .prop("DestinationCidrBlock", "0.0.0.0/0")
                .prop("NatGatewayId", cfn::ref_(&format!("NatGateway{n}")))
                .describe("Sends internet traffic of a private subnet through its NAT gateway"),
        );
        private.push(cfn::ref_(&id));
    }
    Network { vpc_id: cfn::ref_("VPC"), vpc_cidr: cfn::get_att("VPC", "CidrBlock"), public, private }
}

fn subnet(t: &mut Template, id: &str, cidr: Value, az: Value, public: bool, tag: &str) {
    t.resource(
        id,
        Resource::new("AWS::EC2::Subnet")
            .prop("CidrBlock", cidr)
            .prop("VpcId", cfn::ref_("VPC"))
            .prop("AvailabilityZone", az)
            .prop("MapPublicIpOnLaunch", public)
            .prop("Tags", name_tag(tag))
            .describe(if public {
                "A public subnet for load balancers and public tasks"
            } else {
                "A private subnet for tasks without public addresses"
            }),
    );
}

fn associate(t: &mut Template, subnet: &str, table: &str, description: &str) {
    t.resource(
        &format!("{subnet}RouteTableAssociation"),
        Resource::new("AWS::EC2::SubnetRouteTableAssociation")
            .prop("RouteTableId", cfn::ref_(table))
            .prop("SubnetId", cfn::ref_(subnet))
            .describe(description),
    );
}

/// Lets everything in security group `source` reach security group `group`.
fn ingress_from_group(
    t: &mut Template,
    id: &str,
    condition: Option<&str>,
    group: &str,
    source: &str,
    description: &str,
) {
    let mut resource = Resource::new("AWS::EC2::SecurityGroupIngress")
        .prop("Description", description)
        .prop("GroupId", cfn::ref_(group))
        .prop("IpProtocol", -1)
        .prop("SourceSecurityGroupId", cfn::ref_(source))
        .describe(description);
    if let Some(condition) = condition {
        resource = resource.condition(condition);
    }
    t.resource(id, resource);
}

fn flow_logs_resources(t: &mut Template, network: &Network, days: u64) {
    t.resource(
        "FlowLogGroup",
        Resource::new("AWS::Logs::LogGroup")
            .prop("LogGroupName", cfn::sub("/copilot/${AppName}-${EnvironmentName}-vpc-flow-logs"))
            .prop("RetentionInDays", days)
            .describe("A log group for the VPC's flow logs"),
    );
    t.resource(
        "FlowLogRole",
        Resource::new("AWS::IAM::Role")
            .prop("AssumeRolePolicyDocument", cfn::assume_role_policy("vpc-flow-logs.amazonaws.com"))
            .prop(
                "Policies",
                json!([{
                    "PolicyName": "publish-flow-logs",
                    "PolicyDocument": cfn::policy_document(vec![json!({
                        "Effect": "Allow",
                        "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                        "Resource": cfn::get_att("FlowLogGroup", "Arn")
                    })])
                }]),
            )
            .describe("A role that lets VPC flow logs write to CloudWatch Logs"),
    );
    t.resource(
        "FlowLog",
        Resource::new("AWS::EC2::FlowLog")
            .prop("ResourceId", network.vpc_id.clone())
            .prop("ResourceType", "VPC")
            .prop("TrafficType", "ALL")
            .prop("LogDestinationType", "cloud-watch-logs")
            .prop("LogGroupName", cfn::ref_("FlowLogGroup"))
            .prop("DeliverLogsPermissionArn", cfn::get_att("FlowLogRole", "Arn"))
            .describe("Records the VPC's network traffic"),
    );
}

fn rule_json(rule: &manifest::SecurityGroupRule) -> Value {
    // EC2 ignores ports for "all protocols"; leaving them out says so.
    if rule.ip_protocol == "-1" {
        return json!({ "IpProtocol": "-1", "CidrIp": rule.cidr });
    }
    json!({ "IpProtocol": rule.ip_protocol, "FromPort": rule.from_port, "ToPort": rule.to_port, "CidrIp": rule.cidr })
}

fn security_group(t: &mut Template, network: &Network, vpc: &manifest::Vpc) {
    let sg = vpc.security_group.clone().unwrap_or_default();
    let mut resource = Resource::new("AWS::EC2::SecurityGroup")
        .prop("GroupDescription", cfn::sub("${AppName}-${EnvironmentName}-EnvironmentSecurityGroup"))
        .prop("VpcId", network.vpc_id.clone())
        .prop("Tags", name_tag("-env"))
        .describe("The security group shared by the environment's services");
    if !sg.ingress.is_empty() {
        resource = resource.prop("SecurityGroupIngress", Value::Array(sg.ingress.iter().map(rule_json).collect()));
    }
    if !sg.egress.is_empty() {
        resource = resource.prop("SecurityGroupEgress", Value::Array(sg.egress.iter().map(rule_json).collect()));
    }
    t.resource("EnvironmentSecurityGroup", resource);
    ingress_from_group(
        t,
        "EnvironmentSecurityGroupIngressFromSelf",
        None,
        "EnvironmentSecurityGroup",
        "EnvironmentSecurityGroup",
        "Services of the environment reach each other",
    );
}

fn cluster(t: &mut Template, m: &Manifest) {
    let insights = match m.observability.as_ref().and_then(|o| o.container_insights.as_ref()) {
        Some(Value::Bool(true)) => "enabled",
        Some(Value::String(mode)) if mode == "enhanced" => "enhanced",
        _ => "disabled",
    };
    t.resource(
        "Cluster",
        Resource::new("AWS::ECS::Cluster")
            .prop("CapacityProviders", json!(["FARGATE", "FARGATE_SPOT"]))
            .prop("Configuration", json!({ "ExecuteCommandConfiguration": { "Logging": "DEFAULT" } }))
            .prop("ClusterSettings", json!([{ "Name": "containerInsights", "Value": insights }]))
            .describe("An ECS cluster where the environment's services and jobs run"),
    );
}

fn roles(t: &mut Template) {
    t.resource(
        "CloudformationExecutionRole",
        Resource::new("AWS::IAM::Role")
            .prop("RoleName", cfn::sub("${AppName}-${EnvironmentName}-CFNExecutionRole"))
            .prop("AssumeRolePolicyDocument", cfn::assume_role_policy("cloudformation.amazonaws.com"))
            .prop(
                "Policies",
                json!([{
                    "PolicyName": "executeCfn",
                    "PolicyDocument": cfn::policy_document(vec![
                        json!({
                            "Effect": "Allow",
                            "Action": [
                                "ecs:*", "ec2:*", "elasticloadbalancing:*", "application-autoscaling:*",
                                "servicediscovery:*", "route53:*", "logs:*", "cloudwatch:*", "events:*",
                                "states:*", "sqs:*", "sns:*", "s3:*", "dynamodb:*", "rds:*", "kms:*",
                                "secretsmanager:*", "ssm:GetParameter", "ssm:GetParameters", "apprunner:*",
                                "cloudfront:*", "elasticfilesystem:*", "lambda:*", "cloudformation:*"
                            ],
                            "Resource": "*"
                        }),
                        json!({
                            "Effect": "Allow",
                            "Action": [
                                "iam:CreateRole", "iam:DeleteRole", "iam:GetRole", "iam:PassRole", "iam:TagRole",
                                "iam:UntagRole", "iam:UpdateRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy",
                                "iam:GetRolePolicy", "iam:AttachRolePolicy", "iam:DetachRolePolicy",
                                "iam:CreatePolicy", "iam:DeletePolicy", "iam:GetPolicy", "iam:CreatePolicyVersion",
                                "iam:DeletePolicyVersion", "iam:ListPolicyVersions", "iam:CreateServiceLinkedRole"
                            ],
                            "Resource": "*"
                        })
                    ])
                }]),
            )
            .describe("The role CloudFormation assumes to create the environment's workloads"),
    );
    t.resource(
        "EnvironmentManagerRole",
        Resource::new("AWS::IAM::Role")
            .prop("RoleName", cfn::sub("${AppName}-${EnvironmentName}-EnvManagerRole"))
            .prop(
                "AssumeRolePolicyDocument",
                cfn::policy_document(vec![json!({
                    "Effect": "Allow",
                    "Principal": { "AWS": cfn::sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root") },
                    "Action": "sts:AssumeRole"
                })]),
            )
            .prop(
                "Policies",
                json!([{
                    "PolicyName": "root",
                    "PolicyDocument": cfn::policy_document(vec![
                        json!({
                            "Effect": "Allow",
                            "Action": [
                                "cloudformation:CreateChangeSet", "cloudformation:CreateStack",
                                "cloudformation:DeleteChangeSet", "cloudformation:DeleteStack",
                                "cloudformation:Describe*", "cloudformation:DetectStackDrift",
                                "cloudformation:ExecuteChangeSet", "cloudformation:GetTemplate*",
                                "cloudformation:List*", "cloudformation:UpdateStack", "cloudformation:CancelUpdateStack",
                                "cloudformation:TagResource"
                            ],
                            "Resource": cfn::sub("arn:${AWS::Partition}:cloudformation:${AWS::Region}:${AWS::AccountId}:stack/${AppName}-${EnvironmentName}*")
                        }),
                        json!({
                            "Effect": "Allow",
                            "Action": [
                                "ecs:Describe*", "ecs:List*", "ecs:ExecuteCommand", "ecs:RunTask", "ecs:StopTask",
                                "ecs:UpdateService", "ecs:TagResource", "logs:Describe*", "logs:Get*",
                                "logs:FilterLogEvents", "logs:StartLiveTail", "elasticloadbalancing:Describe*",
                                "cloudwatch:Describe*", "cloudwatch:GetMetricData", "application-autoscaling:Describe*",
                                "servicediscovery:List*", "servicediscovery:Get*", "states:Describe*",
                                "states:StartExecution", "ssm:GetParameter*", "ssm:PutParameter", "ssm:AddTagsToResource",
                                "tag:GetResources", "iam:PassRole", "ec2:Describe*"
                            ],
                            "Resource": "*"
                        })
                    ])
                }]),
            )
            .describe("The role ferry assumes to deploy and operate the environment"),
    );
}

fn public_load_balancer(t: &mut Template, m: &Manifest, network: &Network) {
    let public = m.http.as_ref().and_then(|h| h.public.clone()).unwrap_or_default();
    let sources = match public.ingress.as_ref().map(|i| i.source_ips.clone()).unwrap_or_default() {
        list if list.is_empty() => vec!["0.0.0.0/0".to_string()],
        list => list,
    };
    let ingress: Vec<Value> = sources
        .iter()
        .flat_map(|cidr| {
            [80, 443].map(|port| {
                json!({ "CidrIp": cidr, "Description": format!("HTTP{} from {cidr}", if port == 443 { "S" } else { "" }),
                        "FromPort": port, "ToPort": port, "IpProtocol": "tcp" })
            })
        })
        .collect();
    t.resource(
        "PublicHTTPLoadBalancerSecurityGroup",
        Resource::new("AWS::EC2::SecurityGroup")
            .condition("CreateALB")
            .prop("GroupDescription", "Access to the public facing load balancer")
            .prop("SecurityGroupIngress", Value::Array(ingress))
            .prop("VpcId", network.vpc_id.clone())
            .prop("Tags", name_tag("-lb"))
            .describe("The security group of the public load balancer"),
    );
    ingress_from_group(
        t,
        "EnvironmentSecurityGroupIngressFromPublicALB",
        Some("CreateALB"),
        "EnvironmentSecurityGroup",
        "PublicHTTPLoadBalancerSecurityGroup",
        "Ingress from the public load balancer",
    );
    t.resource(
        "PublicLoadBalancer",
        Resource::new("AWS::ElasticLoadBalancingV2::LoadBalancer")
            .condition("CreateALB")
            .prop("Scheme", "internet-facing")
            .prop("SecurityGroups", json!([cfn::get_att("PublicHTTPLoadBalancerSecurityGroup", "GroupId")]))
            .prop("Subnets", Value::Array(network.public.clone()))
            .prop("Type", "application")
            .describe("An application load balancer that routes internet traffic to services"),
    );
    t.resource(
        "DefaultHTTPTargetGroup",
        Resource::new("AWS::ElasticLoadBalancingV2::TargetGroup")
            .condition("CreateALB")
            .prop("HealthCheckIntervalSeconds", 10)
            .prop("HealthyThresholdCount", 2)
            .prop("Port", 80)
            .prop("Protocol", "HTTP")
            .prop("TargetType", "ip")
            .prop("VpcId", network.vpc_id.clone())
            .describe("The load balancer's default target group, for requests no service claims"),
    );
    let https = !public.certificates.is_empty();
    let http_action = if https {
        json!([{ "Type": "redirect", "RedirectConfig": { "Protocol": "HTTPS", "Port": "443", "Host": "#{host}",
                 "Path": "/#{path}", "Query": "#{query}", "StatusCode": "HTTP_301" } }])
    } else {
        json!([{ "Type": "forward", "TargetGroupArn": cfn::ref_("DefaultHTTPTargetGroup") }])
    };
    t.resource(
        "HTTPListener",
        Resource::new("AWS::ElasticLoadBalancingV2::Listener")
            .condition("CreateALB")
            .prop("DefaultActions", http_action)
            .prop("LoadBalancerArn", cfn::ref_("PublicLoadBalancer"))
            .prop("Port", 80)
            .prop("Protocol", "HTTP")
            .describe(if https { "An HTTP listener that redirects to HTTPS" } else { "An HTTP listener on port 80" }),
    );
    if https {
        t.resource(
            "HTTPSListener",
            Resource::new("AWS::ElasticLoadBalancingV2::Listener")
                .condition("CreateALB")
                .prop("Certificates", json!([{ "CertificateArn": public.certificates[0] }]))
                .prop(
                    "DefaultActions",
                    json!([{ "Type": "forward", "TargetGroupArn": cfn::ref_("DefaultHTTPTargetGroup") }]),
                )
                .prop("LoadBalancerArn", cfn::ref_("PublicLoadBalancer"))
                .prop("Port", 443)
                .prop("Protocol", "HTTPS")
                .prop("SslPolicy", public.ssl_policy.clone().unwrap_or_else(|| DEFAULT_SSL_POLICY.to_string()))
                .describe("An HTTPS listener on port 443 with the imported certificates"),
        );
        if public.certificates.len() > 1 {
            let extra: Vec<Value> = public.certificates[1..].iter().map(|c| json!({ "CertificateArn": c })).collect();
            t.resource(
                "HTTPSImportCertificate",
                Resource::new("AWS::ElasticLoadBalancingV2::ListenerCertificate")
                    .condition("CreateALB")
                    .prop("ListenerArn", cfn::ref_("HTTPSListener"))
                    .prop("Certificates", Value::Array(extra))
                    .describe("Additional certificates of the HTTPS listener"),
            );
        }
    }
}

fn internal_load_balancer(t: &mut Template, private: &manifest::PrivateHttp, network: &Network) {
    let mut ingress = Vec::new();
    if private.ingress.as_ref().and_then(|i| i.vpc) == Some(true) && !network.vpc_cidr.is_null() {
        ingress.push(json!({ "CidrIp": network.vpc_cidr, "Description": "Ingress from the VPC", "IpProtocol": -1 }));
    }
    let mut sg = Resource::new("AWS::EC2::SecurityGroup")
        .condition("CreateInternalALB")
        .prop("GroupDescription", "Access to the internal load balancer")
        .prop("VpcId", network.vpc_id.clone())
        .prop("Tags", name_tag("-internal-lb"))
        .describe("The security group of the internal load balancer");
    if !ingress.is_empty() {
        sg = sg.prop("SecurityGroupIngress", Value::Array(ingress));
    }
    t.resource("InternalLoadBalancerSecurityGroup", sg);
    ingress_from_group(
        t,
        "InternalLoadBalancerSecurityGroupIngressFromEnvironment",
        Some("CreateInternalALB"),
        "InternalLoadBalancerSecurityGroup",
        "EnvironmentSecurityGroup",
        "Ingress from services of the environment",
    );
    ingress_from_group(
        t,
        "EnvironmentSecurityGroupIngressFromInternalALB",
        Some("CreateInternalALB"),
        "EnvironmentSecurityGroup",
        "InternalLoadBalancerSecurityGroup",
        "Ingress from the internal load balancer",
    );
    let subnets = if private.internal_alb_subnets.is_empty() {
        Value::Array(network.private.clone())
    } else {
        json!(private.internal_alb_subnets)
    };
    t.resource(
        "InternalLoadBalancer",
        Resource::new("AWS::ElasticLoadBalancingV2::LoadBalancer")
            .condition("CreateInternalALB")
            .prop("Scheme", "internal")
            .prop("SecurityGroups", json!([cfn::get_att("InternalLoadBalancerSecurityGroup", "GroupId")]))
            .prop("Subnets", subnets)
            .prop("Type", "application")
            .describe("An internal application load balancer for backend services"),
    );
    t.resource(
        "DefaultInternalHTTPTargetGroup",
        Resource::new("AWS::ElasticLoadBalancingV2::TargetGroup")
            .condition("CreateInternalALB")
            .prop("HealthCheckIntervalSeconds", 10)
            .prop("HealthyThresholdCount", 2)
            .prop("Port", 80)
            .prop("Protocol", "HTTP")
            .prop("TargetType", "ip")
            .prop("VpcId", network.vpc_id.clone())
            .describe("The internal load balancer's default target group"),
    );
    t.resource(
        "InternalHTTPListener",
        Resource::new("AWS::ElasticLoadBalancingV2::Listener")
            .condition("CreateInternalALB")
            .prop(
                "DefaultActions",
                json!([{ "Type": "forward", "TargetGroupArn": cfn::ref_("DefaultInternalHTTPTargetGroup") }]),
            )
            .prop("LoadBalancerArn", cfn::ref_("InternalLoadBalancer"))
            .prop("Port", 80)
            .prop("Protocol", "HTTP")
            .describe("The internal load balancer's HTTP listener"),
    );
    if let Some(first) = private.certificates.first() {
        t.resource(
            "InternalHTTPSListener",
            Resource::new("AWS::ElasticLoadBalancingV2::Listener")
                .condition("CreateInternalALB")
                .prop("Certificates", json!([{ "CertificateArn": first }]))
                .prop(
                    "DefaultActions",
                    json!([{ "Type": "forward", "TargetGroupArn": cfn::ref_("DefaultInternalHTTPTargetGroup") }]),
                )
                .prop("LoadBalancerArn", cfn::ref_("InternalLoadBalancer"))
                .prop("Port", 443)
                .prop("Protocol", "HTTPS")
                .prop("SslPolicy", private.ssl_policy.clone().unwrap_or_else(|| DEFAULT_SSL_POLICY.to_string()))
                .describe("The internal load balancer's HTTPS listener"),
        );
    }
}

fn outputs(t: &mut Template, network: &Network, m: &Manifest, created: bool) {
    t.output("VpcId", network.vpc_id.clone(), export("VpcId"));
    t.output("PublicSubnets", cfn::join(",", Value::Array(network.public.clone())), export("PublicSubnets"));
    t.output("PrivateSubnets", cfn::join(",", Value::Array(network.private.clone())), export("PrivateSubnets"));
    t.output("ClusterId", cfn::ref_("Cluster"), export("ClusterId"));
    t.output("EnvironmentSecurityGroup", cfn::ref_("EnvironmentSecurityGroup"), export("EnvironmentSecurityGroup"));
    t.conditional_output(
        "PublicLoadBalancerDNS",
        "CreateALB",
        cfn::get_att("PublicLoadBalancer", "DNSName"),
        export("PublicLoadBalancerDNS"),
    );
    t.conditional_output(
        "PublicLoadBalancerFullName",
        "CreateALB",
        cfn::get_att("PublicLoadBalancer", "LoadBalancerFullName"),
        export("PublicLoadBalancerFullName"),
    );
    t.conditional_output(
        "CanonicalHostedZoneID",
        "CreateALB",
        cfn::get_att("PublicLoadBalancer", "CanonicalHostedZoneID"),
        export("CanonicalHostedZoneID"),
    );
    t.conditional_output("HTTPListenerArn", "CreateALB", cfn::ref_("HTTPListener"), export("HTTPListenerArn"));
    if t.has_resource("HTTPSListener") {
        t.conditional_output("HTTPSListenerArn", "CreateALB", cfn::ref_("HTTPSListener"), export("HTTPSListenerArn"));
    }
    t.conditional_output(
        "DefaultHTTPTargetGroup",
        "CreateALB",
        cfn::ref_("DefaultHTTPTargetGroup"),
        export("DefaultHTTPTargetGroup"),
    );
    t.conditional_output(
        "LoadBalancerURL",
        "CreateALB",
        cfn::sub(if t.has_resource("HTTPSListener") {
            "https://${PublicLoadBalancer.DNSName}"
        } else {
            "http://${PublicLoadBalancer.DNSName}"
        }),
        None,
    );
    if m.http.as_ref().and_then(|h| h.private.as_ref()).is_some() {
        let internal = [
            ("InternalLoadBalancerDNS", cfn::get_att("InternalLoadBalancer", "DNSName")),
            ("InternalHTTPListenerArn", cfn::ref_("InternalHTTPListener")),
            ("InternalLoadBalancerSecurityGroup", cfn::ref_("InternalLoadBalancerSecurityGroup")),
        ];
        for (name, value) in internal {
            t.conditional_output(name, "CreateInternalALB", value, export(name));
        }
        if t.has_resource("InternalHTTPSListener") {
            t.conditional_output(
                "InternalHTTPSListenerArn",
                "CreateInternalALB",
                cfn::ref_("InternalHTTPSListener"),
                export("InternalHTTPSListenerArn"),
            );
        }
    }
    t.output(
        "ServiceDiscoveryNamespaceID",
        cfn::get_att("ServiceDiscoveryNamespace", "Id"),
        export("ServiceDiscoveryNamespaceID"),
    );
    t.output(
        "EnvironmentManagerRoleARN",
        cfn::get_att("EnvironmentManagerRole", "Arn"),
        export("EnvironmentManagerRoleARN"),
    );
    t.output("CFNExecutionRoleARN", cfn::get_att("CloudformationExecutionRole", "Arn"), export("CFNExecutionRoleARN"));
    if created {
        t.output("PublicRouteTableID", cfn::ref_("PublicRouteTable"), export("PublicRouteTableID"));
        let tables: Vec<Value> =
            (1..=network.private.len()).map(|n| cfn::ref_(&format!("PrivateRouteTable{n}"))).collect();
        t.output("PrivateRouteTableIDs", cfn::join(",", Value::Array(tables)), export("PrivateRouteTableIDs"));
        t.output("InternetGatewayID", cfn::ref_("InternetGateway"), export("InternetGatewayID"));
    }
}

#[cfg(test)]
mod cidr_tests {
    use super::nth_slash24;

    #[test]
    fn carves_consecutive_slash24_blocks() {
        assert_eq!(nth_slash24("10.1.0.0/16", 0).as_deref(), Some("10.1.0.0/24"));
        assert_eq!(nth_slash24("10.1.0.0/16", 3).as_deref(), Some("10.1.3.0/24"));
        assert_eq!(nth_slash24("172.16.4.0/22", 2).as_deref(), Some("172.16.6.0/24"));
    }
}
