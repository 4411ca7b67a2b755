//! The bundled `environment` plugin: everything the services of one
//! environment share — VPC, subnets, security group, ECS cluster, load
//! balancers, service discovery namespace and the roles ferry deploys with —
//! exported as `<app>-<env>-<Name>` exactly as Copilot's environment stacks do.

pub mod manifest;

use ferry_plugin_sdk::cfn::{self, Parameter, Resource, Template};
use ferry_plugin_sdk::protocol::WorkloadSummary;
use ferry_plugin_sdk::{Diagnostic, Plugin, PluginInfo, RenderContext, RenderError, Rendered, Value, json};
use manifest::{AccessLogs, AccessLogsConfig, Cdn, FlowLogs, Manifest, SecurityGroupRule, Subnet};

/// The manifest `type:` this plugin renders.
pub const MANIFEST_TYPE: &str = "Environment";
/// Commented manifest written by `ferry env init`.
pub const MANIFEST_TEMPLATE: &str = include_str!("template.yml");

const DEFAULT_VPC_CIDR: &str = "10.0.0.0/16";
const DEFAULT_PUBLIC_CIDRS: [&str; 2] = ["10.0.0.0/24", "10.0.1.0/24"];
const DEFAULT_PRIVATE_CIDRS: [&str; 2] = ["10.0.2.0/24", "10.0.3.0/24"];
const LBWS: &str = "Load Balanced Web Service";
const BACKEND: &str = "Backend Service";
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
            manifest_schema: ferry_plugin_sdk::manifest::schema_from_json(include_str!("../schema.json")),
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
    let vpc = m.network.as_ref().and_then(|n| n.vpc.as_ref());
    let imported = vpc.is_some_and(|v| v.id.is_some());
    let mut imported_subnet_ids = Vec::new();
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
        imported_subnet_ids = subnets.private.iter().chain(&subnets.public).filter_map(|s| s.id.clone()).collect();
        if imported && subnets.public.is_empty() && subnets.private.is_empty() {
            out.push(
                Diagnostic::error("/network/vpc/id", "an imported VPC needs its subnets")
                    .with_hint("list them under network.vpc.subnets.public and .private as `- id: subnet-...`"),
            );
        }
        if let Some(sg) = &vpc.security_group {
            for (dir, rules) in [("ingress", &sg.ingress), ("egress", &sg.egress)] {
                for (i, rule) in rules.iter().enumerate() {
                    check_rule(&mut out, &format!("/network/vpc/security_group/{dir}/{i}"), rule);
                }
            }
        }
        if let Some(FlowLogs::Config(config)) = &vpc.flow_logs
            && let Some(days) = config.retention
            && !LOG_RETENTION_DAYS.contains(&days)
        {
            out.push(
                Diagnostic::error(
                    "/network/vpc/flow_logs/retention",
                    format!("{days} is not a retention CloudWatch Logs accepts"),
                )
                .with_hint("use one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, ... days"),
            );
        }
    }
    if let Some(cdn) = &m.cdn {
        let config = cdn.config();
        if let Some(arn) = &config.certificate {
            if !is_acm_arn(arn) {
                out.push(
                    Diagnostic::error("/cdn/certificate", format!("`{arn}` is not an ACM certificate ARN"))
                        .with_hint("arn:aws:acm:us-east-1:<account>:certificate/<id>"),
                );
            } else if !arn.contains(":acm:us-east-1:") {
                out.push(
                    Diagnostic::error("/cdn/certificate", "a CloudFront certificate must be in us-east-1")
                        .with_hint("request or import the certificate in ACM in us-east-1 (N. Virginia)"),
                );
            }
        }
        if let Some(assets) = &config.static_assets {
            for (field, value) in [("alias", &assets.alias), ("location", &assets.location), ("path", &assets.path)] {
                if value.as_deref().is_none_or(str::is_empty) {
                    out.push(
                        Diagnostic::error(
                            format!("/cdn/static_assets/{field}"),
                            format!("`static_assets` needs `{field}`"),
                        )
                        .with_hint("alias: <domain>, location: <bucket>.s3.<region>.amazonaws.com, path: static/*"),
                    );
                }
            }
        }
    }
    if m.cdn_enabled() {
        let config = m.cdn.as_ref().map(Cdn::config).unwrap_or_default();
        let public_certificates = !m.public().certificates.is_empty();
        if public_certificates && config.certificate.is_none() {
            out.push(
                Diagnostic::error("/cdn", "`cdn.certificate` is required with `http.public.certificates`")
                    .with_hint("import the certificate of your aliases in ACM in us-east-1 and set `cdn.certificate`"),
            );
        } else if !public_certificates && config.certificate.is_some() && config.terminate_tls != Some(true) {
            out.push(
                Diagnostic::error(
                    "/cdn/terminate_tls",
                    "`cdn.terminate_tls` must be true when `cdn.certificate` is set without `http.public.certificates`",
                )
                .with_hint("add `terminate_tls: true` under `cdn`"),
            );
        }
    }
    let public = m.public();
    check_certificates(&mut out, "/http/public/certificates", &public.certificates);
    if let Some(AccessLogs::Config(config)) = &public.access_logs
        && config.bucket_name.as_deref() == Some("")
    {
        out.push(
            Diagnostic::error("/http/public/access_logs/bucket_name", "`bucket_name` is empty")
                .with_hint("name an existing bucket, or use `access_logs: true` for one ferry creates"),
        );
    }
    if let Some(deprecated) = &public.security_groups {
        out.push(
            Diagnostic::warning(
                "/http/public/security_groups",
                "`http.public.security_groups` is deprecated: `ingress.restrict_to` is read as `http.public.ingress`",
            )
            .with_hint("write `http.public.ingress.cdn` / `http.public.ingress.source_ips` instead"),
        );
        if public.ingress.is_some() && deprecated.ingress.is_some() {
            out.push(
                Diagnostic::error(
                    "/http/public/security_groups/ingress",
                    "`http.public.security_groups.ingress` and `http.public.ingress` are both set",
                )
                .with_hint("keep only `http.public.ingress`"),
            );
        }
        if deprecated.ingress.as_ref().and_then(|i| i.from_vpc).is_some() {
            out.push(
                Diagnostic::error(
                    "/http/public/security_groups/ingress/from_vpc",
                    "a public load balancer already allows ingress from the VPC",
                )
                .with_hint("for the internal load balancer, use `http.private.ingress.vpc`"),
            );
        }
    }
    let ingress = m.public_ingress();
    let ingress_path = if public.ingress.is_some() {
        "/http/public/ingress"
    } else {
        "/http/public/security_groups/ingress/restrict_to"
    };
    for (i, ip) in ingress.source_ips.iter().enumerate() {
        if !is_cidr(ip) {
            out.push(
                Diagnostic::error(
                    format!("{ingress_path}/source_ips/{i}"),
                    format!("`{ip}` is not an IPv4 CIDR block"),
                )
                .with_hint("for example 203.0.113.0/24, or 198.51.100.7/32 for one address"),
            );
        }
    }
    if ingress.cdn == Some(true) && !m.cdn_enabled() {
        out.push(
            Diagnostic::error(
                format!("{ingress_path}/cdn"),
                "ingress can be limited to CloudFront only when `cdn` is enabled",
            )
            .with_hint("add `cdn: true` to the manifest, or remove `ingress.cdn`"),
        );
    }
    if let Some(private) = m.private() {
        check_certificates(&mut out, "/http/private/certificates", &private.certificates);
        for (i, id) in private.subnets.iter().enumerate() {
            if !is_ec2_id(id, "subnet") {
                out.push(Diagnostic::error(format!("/http/private/subnets/{i}"), format!("`{id}` is not a subnet id")));
            } else if imported && !imported_subnet_ids.contains(id) {
                out.push(
                    Diagnostic::error(
                        format!("/http/private/subnets/{i}"),
                        format!("subnet `{id}` is not imported in `network.vpc.subnets`"),
                    )
                    .with_hint("the internal load balancer goes in subnets the environment imports"),
                );
            }
        }
        if !private.subnets.is_empty() && !imported {
            out.push(
                Diagnostic::error("/http/private/subnets", "`http.private.subnets` needs an imported VPC")
                    .with_hint("ferry places the internal load balancer in the private subnets it creates"),
            );
        }
        if let Some(deprecated) = &private.security_groups {
            out.push(
                Diagnostic::warning(
                    "/http/private/security_groups",
                    "`http.private.security_groups` is deprecated: `ingress.from_vpc` is read as `http.private.ingress.vpc`",
                )
                .with_hint("write `http.private.ingress.vpc: true` instead"),
            );
            if private.ingress.is_some() && deprecated.ingress.is_some() {
                out.push(
                    Diagnostic::error(
                        "/http/private/security_groups/ingress",
                        "`http.private.security_groups.ingress` and `http.private.ingress` are both set",
                    )
                    .with_hint("keep only `http.private.ingress`"),
                );
            }
            if deprecated.ingress.as_ref().and_then(|i| i.restrict_to.as_ref()).is_some() {
                out.push(
                    Diagnostic::error(
                        "/http/private/security_groups/ingress/restrict_to",
                        "`restrict_to` is for the public load balancer",
                    )
                    .with_hint("use `http.public.ingress`"),
                );
            }
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

fn check_rule(out: &mut Vec<Diagnostic>, path: &str, rule: &SecurityGroupRule) {
    if !is_cidr(&rule.cidr) {
        out.push(Diagnostic::error(format!("{path}/cidr"), format!("`{}` is not an IPv4 CIDR block", rule.cidr)));
    }
    if !["tcp", "udp", "icmp", "-1"].contains(&rule.ip_protocol.as_str()) {
        out.push(
            Diagnostic::error(format!("{path}/ip_protocol"), format!("unknown protocol `{}`", rule.ip_protocol))
                .with_hint("use tcp, udp, icmp or -1 (all)"),
        );
    }
    if rule.ports.bounds().is_none() {
        out.push(
            Diagnostic::error(format!("{path}/ports"), "`ports` is not a port or a `<from>-<to>` range")
                .with_hint("for example `ports: 5432` or `ports: 0-65535` (from ≤ to, both 0-65535)"),
        );
    }
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

    let names = |keep: &dyn Fn(&WorkloadSummary) -> bool| -> String {
        ctx.workloads.iter().filter(|w| keep(w)).map(|w| w.name.as_str()).collect::<Vec<_>>().join(",")
    };
    // Copilot's feature parameters: each names the workloads that need a
    // shared resource, which exists only while the list is not empty.
    let features = [
        ("ALBWorkloads", "Services behind the public load balancer", names(&|w| w.kind == LBWS && w.behind_env_alb)),
        (
            "InternalALBWorkloads",
            "Backend services behind the internal load balancer",
            names(&|w| w.kind == BACKEND && w.behind_env_alb),
        ),
        ("EFSWorkloads", "Workloads that mount the environment's EFS file system", names(&|w| w.efs_managed)),
        ("NATWorkloads", "Workloads in private subnets that need NAT", names(&|w| w.private_placement)),
        (
            "AppRunnerPrivateWorkloads",
            "Request-Driven Web Services reachable only from the VPC",
            names(&|w| w.apprunner_private),
        ),
    ];
    for (name, description, value) in features {
        t.parameter(name, Parameter::string().default("").description(description));
        params.insert(name.to_string(), json!(value));
    }
    t.parameter(
        "ServiceDiscoveryEndpoint",
        Parameter::string().description("Private DNS namespace of the environment"),
    );
    params.insert("ServiceDiscoveryEndpoint".to_string(), json!(format!("{}.{}.local", ctx.env, ctx.app)));

    let not_empty = |p: &str| cfn::not(cfn::equals(cfn::ref_(p), json!("")));
    t.condition("CreateALB", not_empty("ALBWorkloads"));
    t.condition("CreateInternalALB", not_empty("InternalALBWorkloads"));
    t.condition("CreateEFS", not_empty("EFSWorkloads"));

    let vpc = m.network.as_ref().and_then(|n| n.vpc.clone()).unwrap_or_default();
    let network = match &vpc.id {
        Some(id) => imported_network(&vpc, id),
        None => {
            t.condition("CreateNATGateways", not_empty("NATWorkloads"));
            t.condition("CreateAppRunnerVPCEndpoint", not_empty("AppRunnerPrivateWorkloads"));
            created_network(&mut t, &vpc)
        }
    };
    let retention = match &vpc.flow_logs {
        Some(FlowLogs::Enabled(true)) => Some(DEFAULT_FLOW_LOG_RETENTION),
        Some(FlowLogs::Config(config)) => Some(config.retention.unwrap_or(DEFAULT_FLOW_LOG_RETENTION)),
        _ => None,
    };
    if let Some(days) = retention {
        flow_logs_resources(&mut t, &network, days);
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
    let access_logs = m.public().access_logs.as_ref().and_then(AccessLogs::settings);
    if let Some(settings) = &access_logs
        && settings.bucket_name.is_none()
    {
        access_logs_bucket(&mut t, settings);
    }
    let domain = environment_domain(&mut t, &mut params, m, ctx);
    let certificates: Vec<Value> = match &domain {
        Some(_) => vec![cfn::ref_(HTTPS_CERTIFICATE)],
        None => m.public().certificates.iter().cloned().map(Value::String).collect(),
    };
    public_load_balancer(&mut t, m, &network, access_logs.as_ref(), &certificates);
    if m.cdn_enabled() {
        cdn(&mut t, &mut params, m, ctx, domain.as_deref());
    }
    internal_load_balancer(&mut t, m, &network);
    efs(&mut t, &network);
    if vpc.id.is_none() {
        app_runner_endpoint(&mut t, &network);
    }
    outputs(&mut t, &network, m, vpc.id.is_none());
    if let (Some(_), Some(app_domain)) = (&domain, &ctx.app_domain) {
        domain_outputs(&mut t, app_domain);
    }
    Rendered { template: t, parameters: params }
}

fn imported_network(vpc: &manifest::Vpc, id: &str) -> Network {
    let subnets = vpc.subnets.clone().unwrap_or_default();
    let ids = |list: &[Subnet]| list.iter().filter_map(|s| s.id.clone()).map(Value::String).collect::<Vec<_>>();
    Network { vpc_id: json!(id), public: ids(&subnets.public), private: ids(&subnets.private) }
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
    Network { vpc_id: cfn::ref_("VPC"), public, private }
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
        "VpcFlowLogGroup",
        Resource::new("AWS::Logs::LogGroup")
            .prop(
                "LogGroupName",
                cfn::join("-", json!([cfn::ref_("AppName"), cfn::ref_("EnvironmentName"), "FlowLogs"])),
            )
            .prop("RetentionInDays", days)
            .describe("A log group for the VPC's flow logs"),
    );
    t.resource(
        "FlowLog",
        Resource::new("AWS::EC2::FlowLog")
            .prop("DeliverLogsPermissionArn", cfn::get_att("FlowLogRole", "Arn"))
            .prop("LogDestinationType", "cloud-watch-logs")
            .prop("LogGroupName", cfn::ref_("VpcFlowLogGroup"))
            .prop("MaxAggregationInterval", 60)
            .prop("ResourceId", network.vpc_id.clone())
            .prop("ResourceType", "VPC")
            .prop("TrafficType", "ALL")
            .describe("Records the IP traffic of the VPC"),
    );
    t.resource(
        "FlowLogRole",
        Resource::new("AWS::IAM::Role")
            .prop(
                "AssumeRolePolicyDocument",
                cfn::policy_document(vec![json!({
                    "Effect": "Allow",
                    "Principal": { "Service": "vpc-flow-logs.amazonaws.com" },
                    "Action": "sts:AssumeRole",
                    "Condition": {
                        "StringEquals": { "aws:SourceAccount": cfn::ref_("AWS::AccountId") },
                        "ArnLike": { "aws:SourceArn": cfn::sub("arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:vpc-flow-log/*") }
                    }
                })]),
            )
            .prop(
                "Policies",
                json!([{
                    "PolicyName": "GrantAccesstoEC2toPublishFlowlogs",
                    "PolicyDocument": cfn::policy_document(vec![json!({
                        "Effect": "Allow",
                        "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
                                   "logs:DescribeLogGroups", "logs:DescribeLogStreams"],
                        "Resource": "*"
                    })])
                }]),
            )
            .describe("A role that lets VPC flow logs write to CloudWatch Logs"),
    );
}

fn rule_json(rule: &SecurityGroupRule) -> Value {
    let (from, to) = rule.ports.bounds().unwrap_or_default();
    json!({ "IpProtocol": &rule.ip_protocol, "FromPort": from, "ToPort": to, "CidrIp": &rule.cidr })
}

fn security_group(t: &mut Template, network: &Network, vpc: &manifest::Vpc) {
    let sg = vpc.security_group.clone().unwrap_or_default();
    let mut resource = Resource::new("AWS::EC2::SecurityGroup")
        .prop(
            "GroupDescription",
            cfn::join("", json!([cfn::ref_("AppName"), "-", cfn::ref_("EnvironmentName"), "EnvironmentSecurityGroup"])),
        )
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
        "Ingress from other containers in the same security group",
    );
}

fn cluster(t: &mut Template, m: &Manifest) {
    // Like Copilot, the setting is written only when the manifest has it, so
    // the account's default applies otherwise.
    let insights = m.observability.as_ref().and_then(|o| o.container_insights.as_ref()).map(|v| match v {
        Value::Bool(true) => "enabled",
        Value::String(mode) if mode == "enhanced" => "enhanced",
        _ => "disabled",
    });
    t.resource(
        "Cluster",
        Resource::new("AWS::ECS::Cluster")
            .prop("CapacityProviders", json!(["FARGATE", "FARGATE_SPOT"]))
            .prop("Configuration", json!({ "ExecuteCommandConfiguration": { "Logging": "DEFAULT" } }))
            .opt_prop("ClusterSettings", insights.map(|v| json!([{ "Name": "containerInsights", "Value": v }])))
            .describe("An ECS cluster where the environment's services and jobs run"),
    );
}

/// The ELB service account of each region, which writes access logs
/// (Copilot's `RegionalConfigs` mapping).
const ELB_ACCOUNTS: &[(&str, &str)] = &[
    ("us-east-1", "127311923021"),
    ("us-east-2", "033677994240"),
    ("us-west-1", "027434742980"),
    ("us-west-2", "797873946194"),
    ("af-south-1", "098369216593"),
    ("ca-central-1", "985666609251"),
    ("eu-central-1", "054676820928"),
    ("eu-west-1", "156460612806"),
    ("eu-west-2", "652711504416"),
    ("eu-south-1", "635631232127"),
    ("eu-west-3", "009996457667"),
    ("eu-north-1", "897822967062"),
    ("ap-east-1", "754344448648"),
    ("ap-northeast-1", "582318560864"),
    ("ap-northeast-2", "600734575887"),
    ("ap-northeast-3", "383597477331"),
    ("ap-southeast-1", "114774131450"),
    ("ap-southeast-2", "783225319266"),
    ("ap-southeast-3", "589379963580"),
    ("ap-south-1", "718504428378"),
    ("me-south-1", "076674570225"),
    ("sa-east-1", "507241528517"),
    ("us-gov-west-1", "048591011584"),
    ("us-gov-east-1", "190560391635"),
    ("cn-north-1", "638102146993"),
    ("cn-northwest-1", "037604701340"),
];

/// CloudFront's origin-facing managed prefix list in each region
/// (`com.amazonaws.global.cloudfront.origin-facing`). Copilot looks it up
/// with EC2 at deploy time; ferry renders offline, so the ids are mapped.
const CLOUDFRONT_PREFIX_LISTS: &[(&str, &str)] = &[
    ("ap-northeast-1", "pl-58a04531"),
    ("ap-northeast-2", "pl-22a6434b"),
    ("ap-northeast-3", "pl-31a14458"),
    ("ap-south-1", "pl-9aa247f3"),
    ("ap-southeast-1", "pl-31a34658"),
    ("ap-southeast-2", "pl-b8a742d1"),
    ("ca-central-1", "pl-38a64351"),
    ("eu-central-1", "pl-a3a144ca"),
    ("eu-north-1", "pl-fab65393"),
    ("eu-west-1", "pl-4fa04526"),
    ("eu-west-2", "pl-93a247fa"),
    ("eu-west-3", "pl-75b1541c"),
    ("sa-east-1", "pl-5da64334"),
    ("us-east-1", "pl-3b927c52"),
    ("us-east-2", "pl-b6a144df"),
    ("us-west-1", "pl-4ea04527"),
    ("us-west-2", "pl-82a045eb"),
];

fn regional_configs(t: &mut Template) {
    let mut regions = serde_json::Map::new();
    for (region, account) in ELB_ACCOUNTS {
        regions.insert(region.to_string(), json!({ "ElbAccountId": account }));
    }
    for (region, list) in CLOUDFRONT_PREFIX_LISTS {
        let entry = regions.entry(region.to_string()).or_insert_with(|| json!({}));
        entry["CloudFrontPrefixListId"] = json!(list);
    }
    t.mappings.insert("RegionalConfigs".to_string(), Value::Object(regions));
}

fn find_in_regional_configs(key: &str) -> Value {
    json!({ "Fn::FindInMap": ["RegionalConfigs", cfn::ref_("AWS::Region"), key] })
}

fn access_logs_bucket(t: &mut Template, settings: &AccessLogsConfig) {
    regional_configs(t);
    let mut object =
        vec![json!("arn:"), cfn::ref_("AWS::Partition"), json!(":s3:::"), cfn::ref_("ELBAccessLogsBucket")];
    if let Some(prefix) = &settings.prefix {
        object.extend([json!("/"), json!(prefix)]);
    }
    object.extend([json!("/AWSLogs/"), cfn::ref_("AWS::AccountId"), json!("/*")]);
    t.resource(
        "ELBAccessLogsBucketPolicy",
        Resource::new("AWS::S3::BucketPolicy")
            .condition("CreateALB")
            .depends_on("ELBAccessLogsBucket")
            .prop("Bucket", cfn::ref_("ELBAccessLogsBucket"))
            .prop(
                "PolicyDocument",
                cfn::policy_document(vec![json!({
                    "Action": ["s3:PutObject"],
                    "Effect": "Allow",
                    "Resource": [cfn::join("", Value::Array(object))],
                    "Principal": { "AWS": cfn::join("", json!([
                        cfn::sub("arn:${AWS::Partition}:iam::"),
                        find_in_regional_configs("ElbAccountId"),
                        ":root"
                    ])) }
                })]),
            )
            .describe("Lets the region's load balancer service write access logs to the bucket"),
    );
    t.resource(
        "ELBAccessLogsBucket",
        Resource::new("AWS::S3::Bucket")
            .prop("VersioningConfiguration", json!({ "Status": "Enabled" }))
            .prop(
                "BucketEncryption",
                json!({ "ServerSideEncryptionConfiguration": [
                    { "ServerSideEncryptionByDefault": { "SSEAlgorithm": "AES256" } }
                ] }),
            )
            .prop(
                "PublicAccessBlockConfiguration",
                json!({ "BlockPublicAcls": true, "BlockPublicPolicy": true,
                        "IgnorePublicAcls": true, "RestrictPublicBuckets": true }),
            )
            .describe("An S3 bucket for the public load balancer's access logs"),
    );
}

/// One ingress rule per source on `port`: the CloudFront prefix list, the
/// listed CIDRs, or anyone.
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

fn public_ingress(m: &Manifest, port: u16) -> Value {
    let ingress = m.public_ingress();
    let mut rules = Vec::new();
    if ingress.cdn == Some(true) {
        rules.push(json!({
            "SourcePrefixListId": find_in_regional_configs("CloudFrontPrefixListId"),
            "Description": format!("Allow ingress from the CloudFront prefix list on port {port}"),
            "FromPort": port, "IpProtocol": "tcp", "ToPort": port
        }));
    }
    for cidr in &ingress.source_ips {
        rules.push(json!({
            "CidrIp": cidr, "Description": format!("Allow ingress from source IP {cidr} on port {port}"),
            "FromPort": port, "IpProtocol": "tcp", "ToPort": port
        }));
    }
    if rules.is_empty() {
        rules.push(json!({
            "CidrIp": "0.0.0.0/0", "Description": format!("Allow from anyone on port {port}"),
            "FromPort": port, "IpProtocol": "tcp", "ToPort": port
        }));
    }
    Value::Array(rules)
}

fn public_load_balancer(
    t: &mut Template,
    m: &Manifest,
    network: &Network,
    access_logs: Option<&AccessLogsConfig>,
    certificates: &[Value],
) {
    let public = m.public();
    let https = !certificates.is_empty();
    if m.public_ingress().cdn == Some(true) && !t.mappings.contains_key("RegionalConfigs") {
        regional_configs(t);
    }
    t.resource(
        "PublicHTTPLoadBalancerSecurityGroup",
        Resource::new("AWS::EC2::SecurityGroup")
            .condition("CreateALB")
            .prop("GroupDescription", "HTTP access to the public facing load balancer")
            .prop("SecurityGroupIngress", public_ingress(m, 80))
            .prop("VpcId", network.vpc_id.clone())
            .prop("Tags", name_tag("-lb-http"))
            .describe("A security group for the public load balancer allowing HTTP traffic"),
    );
    ingress_from_group(
        t,
        "EnvironmentHTTPSecurityGroupIngressFromPublicALB",
        Some("CreateALB"),
        "EnvironmentSecurityGroup",
        "PublicHTTPLoadBalancerSecurityGroup",
        "HTTP ingress from the public ALB",
    );
    let mut security_groups = vec![cfn::get_att("PublicHTTPLoadBalancerSecurityGroup", "GroupId")];
    if https {
        t.resource(
            "PublicHTTPSLoadBalancerSecurityGroup",
            Resource::new("AWS::EC2::SecurityGroup")
                .condition("CreateALB")
                .prop("GroupDescription", "HTTPS access to the public facing load balancer")
                .prop("SecurityGroupIngress", public_ingress(m, 443))
                .prop("VpcId", network.vpc_id.clone())
                .prop("Tags", name_tag("-lb-https"))
                .describe("A security group for the public load balancer allowing HTTPS traffic"),
        );
        ingress_from_group(
            t,
            "EnvironmentHTTPSSecurityGroupIngressFromPublicALB",
            Some("CreateALB"),
            "EnvironmentSecurityGroup",
            "PublicHTTPSLoadBalancerSecurityGroup",
            "HTTPS ingress from the public ALB",
        );
        security_groups.push(cfn::get_att("PublicHTTPSLoadBalancerSecurityGroup", "GroupId"));
    }
    let attributes = match access_logs {
        None => json!([{ "Key": "access_logs.s3.enabled", "Value": "false" }]),
        Some(settings) => {
            let mut list = vec![json!({ "Key": "access_logs.s3.enabled", "Value": "true" })];
            if let Some(prefix) = &settings.prefix {
                list.push(json!({ "Key": "access_logs.s3.prefix", "Value": prefix }));
            }
            let bucket =
                settings.bucket_name.clone().map(Value::String).unwrap_or_else(|| cfn::ref_("ELBAccessLogsBucket"));
            list.push(json!({ "Key": "access_logs.s3.bucket", "Value": bucket }));
            Value::Array(list)
        }
    };
    let mut alb = Resource::new("AWS::ElasticLoadBalancingV2::LoadBalancer")
        .condition("CreateALB")
        .prop("LoadBalancerAttributes", attributes)
        .prop("Scheme", "internet-facing")
        .prop("SecurityGroups", Value::Array(security_groups))
        .prop("Subnets", Value::Array(network.public.clone()))
        .prop("Type", "application")
        .describe("An application load balancer that routes internet traffic to services");
    if t.has_resource("ELBAccessLogsBucketPolicy") {
        alb = alb.depends_on("ELBAccessLogsBucketPolicy");
    }
    t.resource("PublicLoadBalancer", alb);
    t.resource(
        "DefaultHTTPTargetGroup",
        default_target_group("CreateALB", network)
            .describe("The load balancer's default target group, for requests no service claims"),
    );
    t.resource(
        "HTTPListener",
        Resource::new("AWS::ElasticLoadBalancingV2::Listener")
            .condition("CreateALB")
            .prop(
                "DefaultActions",
                json!([{ "TargetGroupArn": cfn::ref_("DefaultHTTPTargetGroup"), "Type": "forward" }]),
            )
            .prop("LoadBalancerArn", cfn::ref_("PublicLoadBalancer"))
            .prop("Port", 80)
            .prop("Protocol", "HTTP")
            .describe("A load balancer listener to route HTTP traffic"),
    );
    if https {
        https_listener(
            t,
            "HTTPSListener",
            "HTTPSImportCertificate",
            "CreateALB",
            "PublicLoadBalancer",
            "DefaultHTTPTargetGroup",
            certificates,
            public.ssl_policy.as_deref(),
            "A load balancer listener to route HTTPS traffic",
        );
    }
}

fn default_target_group(condition: &str, network: &Network) -> Resource {
    Resource::new("AWS::ElasticLoadBalancingV2::TargetGroup")
        .condition(condition)
        .prop("HealthCheckIntervalSeconds", 10)
        .prop("HealthyThresholdCount", 2)
        .prop("HealthCheckTimeoutSeconds", 5)
        .prop("Port", 80)
        .prop("Protocol", "HTTP")
        .prop("TargetGroupAttributes", json!([{ "Key": "deregistration_delay.timeout_seconds", "Value": "60" }]))
        .prop("TargetType", "ip")
        .prop("VpcId", network.vpc_id.clone())
}

/// An HTTPS listener with the first certificate, plus Copilot's
/// `<prefix>2`, `<prefix>3`, ... listener certificates for the others.
#[allow(clippy::too_many_arguments)]
fn https_listener(
    t: &mut Template,
    id: &str,
    extra_prefix: &str,
    condition: &str,
    load_balancer: &str,
    target_group: &str,
    certificates: &[Value],
    ssl_policy: Option<&str>,
    description: &str,
) {
    t.resource(
        id,
        Resource::new("AWS::ElasticLoadBalancingV2::Listener")
            .condition(condition)
            .prop("Certificates", json!([{ "CertificateArn": &certificates[0] }]))
            .prop("DefaultActions", json!([{ "TargetGroupArn": cfn::ref_(target_group), "Type": "forward" }]))
            .prop("LoadBalancerArn", cfn::ref_(load_balancer))
            .prop("Port", 443)
            .prop("Protocol", "HTTPS")
            .opt_prop("SslPolicy", ssl_policy)
            .describe(description),
    );
    for (i, arn) in certificates.iter().enumerate().skip(1) {
        t.resource(
            &format!("{extra_prefix}{}", i + 1),
            Resource::new("AWS::ElasticLoadBalancingV2::ListenerCertificate")
                .condition(condition)
                .prop("ListenerArn", cfn::ref_(id))
                .prop("Certificates", json!([{ "CertificateArn": arn }]))
                .describe("An additional certificate of the HTTPS listener"),
        );
    }
}

// ---- the environment's domain ---------------------------------------------

/// Copilot's logical IDs for the environment's zone.
const ENVIRONMENT_HOSTED_ZONE: &str = "EnvironmentHostedZone";
/// ferry's own IDs: Copilot's `DelegateDNSAction` and `HTTPSCert` are
/// Lambda-backed custom resources, and CloudFormation refuses to change the
/// type of a resource in place, so the native resources take new names.
const DELEGATION_RECORD: &str = "EnvironmentDomainDelegationRecordSet";
const HTTPS_CERTIFICATE: &str = "HTTPSCertificate";
/// Parameters with the zone IDs of the app's domain (host facts at deploy).
const APP_ZONE_PARAMETER: &str = "AppHostedZoneID";
const DOMAIN_ZONE_PARAMETER: &str = "DomainHostedZoneID";

/// `<env>.<app>.<domain>`, delegated from `<app>.<domain>`, with the HTTPS
/// certificate of the public load balancer, when the app has a domain and
/// the manifest imports no public certificates (Copilot's `DelegateDNS`
/// without `http.public.certificates`). Returns the environment's zone name.
fn environment_domain(
    t: &mut Template,
    params: &mut indexmap::IndexMap<String, Value>,
    m: &Manifest,
    ctx: &RenderContext,
) -> Option<String> {
    let domain = ctx.app_domain.as_ref()?;
    if !m.public().certificates.is_empty() {
        return None;
    }
    let app_zone = format!("{}.{domain}", ctx.app);
    let env_zone = format!("{}.{app_zone}", ctx.env);
    t.parameter(
        APP_ZONE_PARAMETER,
        Parameter::string().description(&format!("ID of the hosted zone {app_zone} (the app's roles stack)")),
    );
    params.insert(APP_ZONE_PARAMETER.into(), json!(ctx.app_hosted_zone_id.clone().unwrap_or_default()));
    t.resource(
        ENVIRONMENT_HOSTED_ZONE,
        Resource::new("AWS::Route53::HostedZone")
            .prop(
                "HostedZoneConfig",
                json!({ "Comment": cfn::sub(&format!(
                    "HostedZone for environment ${{EnvironmentName}} - ${{EnvironmentName}}.${{AppName}}.{domain}"
                )) }),
            )
            .prop("Name", cfn::sub(&format!("${{EnvironmentName}}.${{AppName}}.{domain}")))
            .describe("A Route 53 Hosted Zone for the environment's subdomain"),
    );
    t.resource(
        DELEGATION_RECORD,
        Resource::new("AWS::Route53::RecordSet")
            .prop("HostedZoneId", cfn::ref_(APP_ZONE_PARAMETER))
            .prop("Name", cfn::sub(&format!("${{EnvironmentName}}.${{AppName}}.{domain}.")))
            .prop("Type", "NS")
            .prop("TTL", 60)
            .prop("ResourceRecords", cfn::get_att(ENVIRONMENT_HOSTED_ZONE, "NameServers"))
            .describe("Delegates the environment's subdomain from the application's hosted zone"),
    );
    // What Copilot's certificate covers: the environment's name, its
    // wildcard, and the aliases of the services behind the public load
    // balancer that are under the app's domain.
    let mut names = vec![format!("*.{env_zone}")];
    let mut aliases: Vec<String> = ctx
        .workloads
        .iter()
        .filter(|w| w.kind == LBWS && w.behind_env_alb)
        .flat_map(|w| w.aliases.iter().map(|a| a.to_ascii_lowercase()))
        .filter(|a| ferry_plugin_sdk::dns::is_within(a, domain))
        .collect();
    aliases.sort();
    aliases.dedup();
    names.extend(aliases.into_iter().filter(|a| a != &env_zone));
    let mut needs_domain_zone = false;
    let zone_of = |name: &str, needs_domain_zone: &mut bool| {
        if ferry_plugin_sdk::dns::is_within(name, &env_zone) {
            cfn::ref_(ENVIRONMENT_HOSTED_ZONE)
        } else if ferry_plugin_sdk::dns::is_within(name, &app_zone) {
            cfn::ref_(APP_ZONE_PARAMETER)
        } else {
            *needs_domain_zone = true;
            cfn::ref_(DOMAIN_ZONE_PARAMETER)
        }
    };
    let mut validation = vec![json!({ "DomainName": &env_zone, "HostedZoneId": cfn::ref_(ENVIRONMENT_HOSTED_ZONE) })];
    for name in &names {
        validation.push(json!({ "DomainName": name, "HostedZoneId": zone_of(name, &mut needs_domain_zone) }));
    }
    if needs_domain_zone {
        t.parameter(
            DOMAIN_ZONE_PARAMETER,
            Parameter::string().description(&format!("ID of the hosted zone {domain} (the app's record)")),
        );
        params.insert(DOMAIN_ZONE_PARAMETER.into(), json!(ctx.domain_hosted_zone_id.clone().unwrap_or_default()));
    }
    t.resource(
        HTTPS_CERTIFICATE,
        Resource::new("AWS::CertificateManager::Certificate")
            // Validation records in the environment's zone answer only once
            // the zone is delegated.
            .depends_on(DELEGATION_RECORD)
            .prop("DomainName", json!(&env_zone))
            .prop("SubjectAlternativeNames", json!(names))
            .prop("ValidationMethod", "DNS")
            .prop("DomainValidationOptions", Value::Array(validation))
            .describe("An ACM certificate for the environment's domain, validated through DNS"),
    );
    Some(env_zone)
}

/// Copilot's outputs (and exports) of the environment's zone.
fn domain_outputs(t: &mut Template, domain: &str) {
    t.output("EnvironmentHostedZone", cfn::ref_(ENVIRONMENT_HOSTED_ZONE), export("HostedZone"));
    t.output(
        "EnvironmentSubdomain",
        cfn::sub(&format!("${{EnvironmentName}}.${{AppName}}.{domain}")),
        export("SubDomain"),
    );
}

/// Parameter with the ARN of the us-east-1 certificate ferry issues for
/// the distribution (Copilot's `CertificateReplicator`), and the condition
/// that it is filled.
const CDN_CERTIFICATE_PARAMETER: &str = "CDNCertificateArn";
const HAS_CDN_CERTIFICATE: &str = "HasCDNCertificate";
/// Template metadata under which the environment asks the host for it.
pub const CERTIFICATE_METADATA_KEY: &str = "ferry:certificate";

fn cdn(
    t: &mut Template,
    params: &mut indexmap::IndexMap<String, Value>,
    m: &Manifest,
    ctx: &RenderContext,
    env_zone: Option<&str>,
) {
    let config = m.cdn.as_ref().map(Cdn::config).unwrap_or_default();
    let terminate_tls = config.terminate_tls == Some(true);
    let origin = "copilot-${AppName}-${EnvironmentName}-origin";
    let all_methods = json!(["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"]);
    let mut distribution = json!({
        "DefaultCacheBehavior": {
            "AllowedMethods": &all_methods,
            // Managed policies: CachingDisabled and AllViewer.
            "CachePolicyId": "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
            "TargetOriginId": cfn::sub(origin),
            "OriginRequestPolicyId": "216adef6-5c7f-47e4-b989-5492eafa07d3",
            "ViewerProtocolPolicy": if terminate_tls { "redirect-to-https" } else { "allow-all" }
        },
        "Enabled": true,
        "IPV6Enabled": true,
        "Origins": [{
            "Id": cfn::sub(origin),
            "DomainName": cfn::get_att("PublicLoadBalancer", "DNSName"),
            "CustomOriginConfig": {
                "OriginProtocolPolicy": if terminate_tls { "http-only" } else { "match-viewer" }
            }
        }]
    });
    let assets = config.static_assets.clone().filter(|a| a.location.is_some());
    if let Some(assets) = &assets {
        t.resource(
            "CloudFrontOriginAccessControl",
            Resource::new("AWS::CloudFront::OriginAccessControl")
                .prop(
                    "OriginAccessControlConfig",
                    json!({
                        "Description": "Access control for static s3 origin",
                        "Name": cfn::sub("copilot-${AppName}-${EnvironmentName}-origin-access-control"),
                        "OriginAccessControlOriginType": "s3",
                        "SigningBehavior": "always",
                        "SigningProtocol": "sigv4"
                    }),
                )
                .describe("Access control so the static assets bucket is read only through CloudFront"),
        );
        let s3 = "copilot-${AppName}-${EnvironmentName}-s3";
        distribution["Origins"].as_array_mut().expect("origins").push(json!({
            "Id": cfn::sub(s3),
            "DomainName": &assets.location,
            "OriginAccessControlId": cfn::ref_("CloudFrontOriginAccessControl"),
            "S3OriginConfig": { "OriginAccessIdentity": "" }
        }));
        distribution["CacheBehaviors"] = json!([{
            "AllowedMethods": all_methods,
            "ViewerProtocolPolicy": "allow-all",
            // Managed policy CachingOptimized.
            "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
            "TargetOriginId": cfn::sub(s3),
            "PathPattern": &assets.path
        }]);
    }
    if let Some(certificate) = &config.certificate {
        // Copilot gathers the aliases of the load-balanced services (and the
        // static alias) with a Lambda; ferry knows them from the workspace.
        let mut aliases: Vec<String> = ctx
            .workloads
            .iter()
            .filter(|w| w.kind == LBWS)
            .flat_map(|w| w.aliases.iter().cloned())
            .chain(assets.as_ref().and_then(|a| a.alias.clone()))
            .collect();
        aliases.sort();
        aliases.dedup();
        if !aliases.is_empty() {
            distribution["Aliases"] = json!(aliases);
        }
        distribution["ViewerCertificate"] = json!({
            "AcmCertificateArn": certificate,
            "MinimumProtocolVersion": "TLSv1",
            "SslSupportMethod": "sni-only"
        });
    }
    if let (None, Some(env_zone), Some(domain)) = (&config.certificate, env_zone, ctx.app_domain.as_deref()) {
        cdn_certificate(
            t,
            params,
            &mut distribution,
            ctx,
            env_zone,
            domain,
            assets.as_ref().and_then(|a| a.alias.clone()),
        );
    }
    t.resource(
        "CloudFrontDistribution",
        Resource::new("AWS::CloudFront::Distribution")
            .condition("CreateALB")
            .prop("DistributionConfig", distribution)
            .describe("A CloudFront distribution for global content delivery in front of the public load balancer"),
    );
}

/// Copilot replicates the environment's certificate to us-east-1 with its
/// `CertificateReplicator` Lambda for a distribution of an environment with
/// a domain and no `cdn.certificate`: ferry asks the host for a certificate
/// of the same names there (`Metadata["ferry:certificate"]`, each name
/// validated in its zone). The distribution serves it, with the aliases,
/// once the host has filled `CDNCertificateArn`; until then (an offline
/// `env package`, the first deploy, before the environment's zone exists)
/// it has CloudFront's default certificate.
fn cdn_certificate(
    t: &mut Template,
    params: &mut indexmap::IndexMap<String, Value>,
    distribution: &mut Value,
    ctx: &RenderContext,
    env_zone: &str,
    domain: &str,
    static_alias: Option<String>,
) {
    let app_zone = format!("{}.{domain}", ctx.app);
    let zone_of = |name: &str| {
        let zone = if ferry_plugin_sdk::dns::is_within(name, env_zone) {
            env_zone
        } else if ferry_plugin_sdk::dns::is_within(name, &app_zone) {
            &app_zone
        } else {
            domain
        };
        format!("{zone}.")
    };
    let mut aliases: Vec<String> = ctx
        .workloads
        .iter()
        .filter(|w| w.kind == LBWS && w.behind_env_alb)
        .flat_map(|w| w.aliases.iter().map(|a| a.to_ascii_lowercase()))
        .chain(static_alias.map(|a| a.to_ascii_lowercase()))
        .filter(|a| ferry_plugin_sdk::dns::is_within(a, domain))
        .collect();
    aliases.sort();
    aliases.dedup();
    let names: Vec<Value> = std::iter::once(format!("*.{env_zone}"))
        .chain(aliases.iter().filter(|a| a.as_str() != env_zone).cloned())
        .map(|name| json!({ "domain_name": &name, "hosted_zone": zone_of(&name) }))
        .collect();
    t.metadata.insert(
        CERTIFICATE_METADATA_KEY.into(),
        json!({
            "region": "us-east-1",
            "domain_name": env_zone,
            "hosted_zone": format!("{env_zone}."),
            "parameter": CDN_CERTIFICATE_PARAMETER,
            "subject_alternative_names": names,
        }),
    );
    t.parameter(
        CDN_CERTIFICATE_PARAMETER,
        Parameter::string()
            .default("")
            .description("ARN of the us-east-1 certificate ferry issued for the distribution"),
    );
    params.insert(CDN_CERTIFICATE_PARAMETER.into(), json!(""));
    t.condition(HAS_CDN_CERTIFICATE, cfn::not(cfn::equals(cfn::ref_(CDN_CERTIFICATE_PARAMETER), json!(""))));
    if !aliases.is_empty() {
        distribution["Aliases"] = cfn::if_(HAS_CDN_CERTIFICATE, json!(aliases), cfn::ref_("AWS::NoValue"));
    }
    distribution["ViewerCertificate"] = cfn::if_(
        HAS_CDN_CERTIFICATE,
        json!({
            "AcmCertificateArn": cfn::ref_(CDN_CERTIFICATE_PARAMETER),
            "MinimumProtocolVersion": "TLSv1",
            "SslSupportMethod": "sni-only"
        }),
        cfn::ref_("AWS::NoValue"),
    );
}

fn internal_load_balancer(t: &mut Template, m: &Manifest, network: &Network) {
    let private = m.private().unwrap_or_default();
    let https = !private.certificates.is_empty();
    t.resource(
        "InternalLoadBalancerSecurityGroup",
        Resource::new("AWS::EC2::SecurityGroup")
            .condition("CreateInternalALB")
            .prop("GroupDescription", "Access to the internal load balancer")
            .prop("VpcId", network.vpc_id.clone())
            .prop("Tags", name_tag("-internal-lb"))
            .describe("A security group for the internal load balancer"),
    );
    ingress_from_group(
        t,
        "EnvironmentSecurityGroupIngressFromInternalALB",
        Some("CreateInternalALB"),
        "EnvironmentSecurityGroup",
        "InternalLoadBalancerSecurityGroup",
        "Ingress from the internal ALB",
    );
    ingress_from_group(
        t,
        "InternalALBIngressFromEnvironmentSecurityGroup",
        Some("CreateInternalALB"),
        "InternalLoadBalancerSecurityGroup",
        "EnvironmentSecurityGroup",
        "Ingress from the env security group",
    );
    if m.private_vpc_ingress() {
        let mut ports = vec![("InternalLoadBalancerSecurityGroupIngressFromHttp", 80)];
        if https {
            ports.push(("InternalLoadBalancerSecurityGroupIngressFromHttps", 443));
        }
        for (id, port) in ports {
            t.resource(
                id,
                Resource::new("AWS::EC2::SecurityGroupIngress")
                    .condition("CreateInternalALB")
                    .prop("Description", format!("Allow from within the VPC on port {port}"))
                    .prop("CidrIp", "0.0.0.0/0")
                    .prop("FromPort", port)
                    .prop("ToPort", port)
                    .prop("IpProtocol", "tcp")
                    .prop("GroupId", cfn::ref_("InternalLoadBalancerSecurityGroup"))
                    .describe("An inbound rule to the internal load balancer from within the VPC"),
            );
        }
    }
    let subnets =
        if private.subnets.is_empty() { Value::Array(network.private.clone()) } else { json!(private.subnets) };
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
        default_target_group("CreateInternalALB", network)
            .describe("The internal load balancer's default target group"),
    );
    t.resource(
        "InternalHTTPListener",
        Resource::new("AWS::ElasticLoadBalancingV2::Listener")
            .condition("CreateInternalALB")
            .prop(
                "DefaultActions",
                json!([{ "TargetGroupArn": cfn::ref_("DefaultInternalHTTPTargetGroup"), "Type": "forward" }]),
            )
            .prop("LoadBalancerArn", cfn::ref_("InternalLoadBalancer"))
            .prop("Port", 80)
            .prop("Protocol", "HTTP")
            .describe("An internal load balancer listener to route HTTP traffic"),
    );
    if https {
        https_listener(
            t,
            "InternalHTTPSListener",
            "InternalHTTPSImportCertificate",
            "CreateInternalALB",
            "InternalLoadBalancer",
            "DefaultInternalHTTPTargetGroup",
            &private.certificates.iter().cloned().map(Value::String).collect::<Vec<_>>(),
            private.ssl_policy.as_deref(),
            "An internal load balancer listener to route HTTPS traffic",
        );
    } else {
        t.resource(
            "InternalWorkloadsHostedZone",
            Resource::new("AWS::Route53::HostedZone")
                .condition("CreateInternalALB")
                .prop("Name", cfn::sub("${EnvironmentName}.${AppName}.internal"))
                .prop("VPCs", json!([{ "VPCId": &network.vpc_id, "VPCRegion": cfn::ref_("AWS::Region") }]))
                .describe("A private hosted zone <env>.<app>.internal for backends behind the internal load balancer"),
        );
    }
}

fn efs(t: &mut Template, network: &Network) {
    t.resource(
        "FileSystem",
        Resource::new("AWS::EFS::FileSystem")
            .condition("CreateEFS")
            .prop("BackupPolicy", json!({ "Status": "ENABLED" }))
            .prop("Encrypted", true)
            .prop(
                "FileSystemPolicy",
                json!({
                    "Version": "2012-10-17",
                    "Id": "CopilotEFSPolicy",
                    "Statement": [
                        {
                            "Sid": "AllowIAMFromTaggedRoles",
                            "Effect": "Allow",
                            "Principal": { "AWS": "*" },
                            "Action": ["elasticfilesystem:ClientWrite", "elasticfilesystem:ClientMount"],
                            "Condition": {
                                "Bool": { "elasticfilesystem:AccessedViaMountTarget": true },
                                "StringEquals": {
                                    "iam:ResourceTag/copilot-application": cfn::sub("${AppName}"),
                                    "iam:ResourceTag/copilot-environment": cfn::sub("${EnvironmentName}")
                                }
                            }
                        },
                        {
                            "Sid": "DenyUnencryptedAccess",
                            "Effect": "Deny",
                            "Principal": "*",
                            "Action": "elasticfilesystem:*",
                            "Condition": { "Bool": { "aws:SecureTransport": false } }
                        }
                    ]
                }),
            )
            .prop("LifecyclePolicies", json!([{ "TransitionToIA": "AFTER_30_DAYS" }]))
            .prop("PerformanceMode", "generalPurpose")
            .prop("ThroughputMode", "bursting")
            .describe("An EFS file system for persistent task storage"),
    );
    t.resource(
        "EFSSecurityGroup",
        Resource::new("AWS::EC2::SecurityGroup")
            .condition("CreateEFS")
            .prop(
                "GroupDescription",
                cfn::join("", json!([cfn::ref_("AppName"), "-", cfn::ref_("EnvironmentName"), "EFSSecurityGroup"])),
            )
            .prop("VpcId", network.vpc_id.clone())
            .prop("Tags", name_tag("-efs"))
            .describe("A security group so containers reach the EFS file system"),
    );
    ingress_from_group(
        t,
        "EFSSecurityGroupIngressFromEnvironment",
        Some("CreateEFS"),
        "EFSSecurityGroup",
        "EnvironmentSecurityGroup",
        "Ingress from containers in the Environment Security Group.",
    );
    for (i, subnet) in network.private.iter().enumerate() {
        t.resource(
            &format!("MountTarget{}", i + 1),
            Resource::new("AWS::EFS::MountTarget")
                .condition("CreateEFS")
                .prop("FileSystemId", cfn::ref_("FileSystem"))
                .prop("SubnetId", subnet.clone())
                .prop("SecurityGroups", json!([cfn::ref_("EFSSecurityGroup")]))
                .describe("A mount target of the EFS file system in a private subnet"),
        );
    }
}

fn app_runner_endpoint(t: &mut Template, network: &Network) {
    t.resource(
        "AppRunnerVpcEndpointSecurityGroup",
        Resource::new("AWS::EC2::SecurityGroup")
            .condition("CreateAppRunnerVPCEndpoint")
            .prop("GroupDescription", cfn::sub("${AppName}-${EnvironmentName}-AppRunnerVpcEndpointSecurityGroup"))
            .prop("VpcId", network.vpc_id.clone())
            .prop("Tags", name_tag("-app-runner-vpc-endpoint"))
            .describe("A security group for App Runner private services"),
    );
    ingress_from_group(
        t,
        "AppRunnerVpcEndpointSecurityGroupIngressFromEnvironment",
        Some("CreateAppRunnerVPCEndpoint"),
        "AppRunnerVpcEndpointSecurityGroup",
        "EnvironmentSecurityGroup",
        "Ingress from services in the environment",
    );
    t.resource(
        "AppRunnerVpcEndpoint",
        Resource::new("AWS::EC2::VPCEndpoint")
            .condition("CreateAppRunnerVPCEndpoint")
            .prop("VpcEndpointType", "Interface")
            .prop("VpcId", network.vpc_id.clone())
            .prop("SecurityGroupIds", json!([cfn::ref_("AppRunnerVpcEndpointSecurityGroup")]))
            .prop("ServiceName", cfn::sub("com.amazonaws.${AWS::Region}.apprunner.requests"))
            .prop("SubnetIds", Value::Array(network.private.clone()))
            .describe("A VPC endpoint connecting the environment to App Runner for private services"),
    );
}

fn outputs(t: &mut Template, network: &Network, m: &Manifest, created: bool) {
    t.output("VpcId", network.vpc_id.clone(), export("VpcId"));
    // An imported VPC without public (or private) subnets has no such list.
    if !network.public.is_empty() {
        t.output("PublicSubnets", cfn::join(",", Value::Array(network.public.clone())), export("PublicSubnets"));
    }
    if !network.private.is_empty() {
        t.output("PrivateSubnets", cfn::join(",", Value::Array(network.private.clone())), export("PrivateSubnets"));
    }
    t.output("ClusterId", cfn::ref_("Cluster"), export("ClusterId"));
    t.output("EnvironmentSecurityGroup", cfn::ref_("EnvironmentSecurityGroup"), export("EnvironmentSecurityGroup"));
    let conditional: Vec<(&str, &str, Value, &str)> = vec![
        ("PublicLoadBalancerDNS", "CreateALB", cfn::get_att("PublicLoadBalancer", "DNSName"), "PublicLoadBalancerDNS"),
        (
            "PublicLoadBalancerFullName",
            "CreateALB",
            cfn::get_att("PublicLoadBalancer", "LoadBalancerFullName"),
            "PublicLoadBalancerFullName",
        ),
        (
            "CanonicalHostedZoneID",
            "CreateALB",
            cfn::get_att("PublicLoadBalancer", "CanonicalHostedZoneID"),
            "CanonicalHostedZoneID",
        ),
        ("HTTPListenerArn", "CreateALB", cfn::ref_("HTTPListener"), "HTTPListenerArn"),
        ("DefaultHTTPTargetGroup", "CreateALB", cfn::ref_("DefaultHTTPTargetGroup"), "DefaultHTTPTargetGroup"),
        (
            "InternalLoadBalancerDNS",
            "CreateInternalALB",
            cfn::get_att("InternalLoadBalancer", "DNSName"),
            "InternalLoadBalancerDNS",
        ),
        (
            "InternalLoadBalancerFullName",
            "CreateInternalALB",
            cfn::get_att("InternalLoadBalancer", "LoadBalancerFullName"),
            "InternalLoadBalancerFullName",
        ),
        (
            "InternalLoadBalancerHostedZone",
            "CreateInternalALB",
            cfn::get_att("InternalLoadBalancer", "CanonicalHostedZoneID"),
            "InternalLoadBalancerCanonicalHostedZoneID",
        ),
        ("InternalHTTPListenerArn", "CreateInternalALB", cfn::ref_("InternalHTTPListener"), "InternalHTTPListenerArn"),
        (
            "InternalLoadBalancerSecurityGroup",
            "CreateInternalALB",
            cfn::ref_("InternalLoadBalancerSecurityGroup"),
            "InternalLoadBalancerSecurityGroup",
        ),
        ("ManagedFileSystemID", "CreateEFS", cfn::ref_("FileSystem"), "FilesystemID"),
    ];
    for (name, condition, value, export_name) in conditional {
        t.conditional_output(name, condition, value, export(export_name));
    }
    if t.has_resource("HTTPSListener") {
        t.conditional_output("HTTPSListenerArn", "CreateALB", cfn::ref_("HTTPSListener"), export("HTTPSListenerArn"));
    }
    if t.has_resource("InternalHTTPSListener") {
        t.conditional_output(
            "InternalHTTPSListenerArn",
            "CreateInternalALB",
            cfn::ref_("InternalHTTPSListener"),
            export("InternalHTTPSListenerArn"),
        );
    }
    if t.has_resource("InternalWorkloadsHostedZone") {
        t.conditional_output(
            "InternalWorkloadsHostedZone",
            "CreateInternalALB",
            cfn::ref_("InternalWorkloadsHostedZone"),
            export("InternalWorkloadsHostedZoneID"),
        );
        t.conditional_output(
            "InternalWorkloadsHostedZoneName",
            "CreateInternalALB",
            cfn::sub("${EnvironmentName}.${AppName}.internal"),
            export("InternalWorkloadsHostedZoneName"),
        );
    }
    if t.has_resource("CloudFrontDistribution") {
        t.conditional_output(
            "CloudFrontDomainName",
            "CreateALB",
            cfn::get_att("CloudFrontDistribution", "DomainName"),
            export("CloudFrontDomainName"),
        );
    }
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
    t.conditional_output(
        "PublicALBAccessible",
        "CreateALB",
        json!(if m.public_ingress().cdn == Some(true) { "false" } else { "true" }),
        None,
    );
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
        t.conditional_output(
            "AppRunnerVpcEndpointId",
            "CreateAppRunnerVPCEndpoint",
            cfn::ref_("AppRunnerVpcEndpoint"),
            export("AppRunnerVpcEndpointId"),
        );
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
