//! The bundled "Load Balanced Web Service" plugin: a Fargate service behind
//! the environment's public Application Load Balancer.
//!
//! The task, IAM, service and autoscaling come from
//! [`ferry_plugin_sdk::workload`]; this crate adds what only a web service
//! has: the `http` section (target group, listener rules, aliases).

pub mod manifest;

use ferry_plugin_sdk::cfn::{self, Parameter, Resource, Template};
use ferry_plugin_sdk::diag::pointer;
use ferry_plugin_sdk::workload::render::ServiceOptions;
use ferry_plugin_sdk::workload::{self, LoadBalancerMetrics, TaskRender, TaskSpec};
use ferry_plugin_sdk::{Diagnostic, Plugin, PluginInfo, RenderContext, RenderError, Rendered, Severity, Value, json};
use indexmap::IndexMap;
use manifest::{Http, HttpHealthCheckArgs, HttpOrFalse, Manifest};

/// The manifest `type:` this plugin renders.
pub const MANIFEST_TYPE: &str = "Load Balanced Web Service";

/// Commented manifest written by `svc init`.
pub const MANIFEST_TEMPLATE: &str = include_str!("template.yml");

/// ALB rules allow five condition values in total (paths, hosts, source IPs).
const RULE_CONDITION_VALUES: usize = 5;

pub struct Lbws;

impl Plugin for Lbws {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "load-balanced-web-service".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Load Balanced Web Service: a Fargate service behind the environment's public load balancer"
                .into(),
            manifest_types: vec![MANIFEST_TYPE.into()],
            manifest_schema: ferry_plugin_sdk::manifest::schema_for::<Manifest>(),
            manifest_template: MANIFEST_TEMPLATE.into(),
        }
    }

    /// Checks what does not depend on the environment; aliases are checked
    /// against the environment at render time.
    fn validate(manifest: &Value) -> Vec<Diagnostic> {
        match ferry_plugin_sdk::parse_manifest::<Manifest>(manifest) {
            Ok(m) => check(&m, None),
            Err(diagnostics) => diagnostics,
        }
    }

    fn render(manifest: &Value, context: &RenderContext) -> Result<Rendered, RenderError> {
        let m: Manifest = ferry_plugin_sdk::parse_manifest(manifest)?;
        let diagnostics = check(&m, Some(context));
        if diagnostics.iter().any(|d| d.severity == Severity::Error) {
            return Err(RenderError::Invalid(diagnostics));
        }
        Ok(render(&m, context))
    }
}

#[cfg(target_arch = "wasm32")]
ferry_plugin_sdk::export_plugin!(Lbws, service);

/// The routing section; `check` has made sure it is there.
fn http_of(m: &Manifest) -> Option<&Http> {
    match &m.http {
        Some(HttpOrFalse::Http(h)) => Some(h),
        _ => None,
    }
}

/// `api` or `/api/` → `/api`; `/` stays `/`.
fn normalize_path(path: &str) -> String {
    let trimmed = path.trim().trim_matches('/');
    format!("/{trimmed}")
}

/// Every problem with the manifest; with a context, also what the target
/// environment cannot offer.
pub fn check(m: &Manifest, context: Option<&RenderContext>) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    if m.kind != MANIFEST_TYPE {
        out.push(
            Diagnostic::error("/type", format!("this plugin renders `{MANIFEST_TYPE}`, not `{}`", m.kind))
                .with_hint(format!("set `type: {MANIFEST_TYPE}`")),
        );
    }
    let spec = m.task_spec();
    out.extend(workload::check_task(&spec, true));
    if m.image.port.is_none() {
        out.push(
            Diagnostic::error("/image", "a load balanced web service needs `image.port`")
                .with_hint("add `port: 8080` (the port your container listens on)"),
        );
    }
    for (field, value) in [
        ("nlb", &m.nlb),
        ("observability", &m.observability),
        ("taskdef_overrides", &m.taskdef_overrides),
        ("publish", &m.publish),
    ] {
        if value.is_some() {
            out.push(Diagnostic::unsupported(pointer([field]), field));
        }
    }
    match &m.http {
        None => out.push(
            Diagnostic::error("", "missing required field `http`")
                .with_hint("add `http: {path: '/'}` to route requests to the service"),
        ),
        Some(HttpOrFalse::Disabled) => out.push(
            Diagnostic::error(
                "/http",
                "`http: false` needs a network load balancer (`nlb`), which ferry does not support yet",
            )
            .with_hint("route through the application load balancer with `http: {path: ...}`"),
        ),
        Some(HttpOrFalse::Http(http)) => check_http(http, &spec, context, &mut out),
    }
    out
}

fn check_http(http: &Http, spec: &TaskSpec, context: Option<&RenderContext>, out: &mut Vec<Diagnostic>) {
    let Some(path) = &http.path else {
        out.push(
            Diagnostic::error("/http", "missing required field `path`")
                .with_hint("add `path: '/'` to receive every request"),
        );
        return;
    };
    if path.trim().is_empty() || path.contains(char::is_whitespace) || path.contains('*') {
        out.push(
            Diagnostic::error("/http/path", format!("`{path}` is not a path"))
                .with_hint("use a path such as `/` or `/api` (no spaces or wildcards)"),
        );
    }
    if http.additional_rules.is_some() {
        out.push(Diagnostic::unsupported("/http/additional_rules", "http.additional_rules"));
    }
    if let Some(v) = &http.version
        && !["http1", "http2", "grpc"].contains(&v.to_ascii_lowercase().as_str())
    {
        out.push(
            Diagnostic::error("/http/version", format!("unknown protocol version `{v}`"))
                .with_hint("expected http1, http2 or grpc"),
        );
    }
    // Target container and port.
    let target = http.target_container.as_deref().unwrap_or(&spec.name);
    if target != spec.name {
        match spec.sidecars.get(target) {
            None => out.push(
                Diagnostic::error("/http/target_container", format!("no container named `{target}`")).with_hint(
                    format!(
                        "use `{}` or one of the sidecars: {}",
                        spec.name,
                        spec.sidecars.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                ),
            ),
            Some(s) if s.port.is_none() && http.target_port.is_none() => out.push(
                Diagnostic::error("/http/target_container", format!("sidecar `{target}` exposes no port"))
                    .with_hint(format!("set `sidecars.{target}.port` or `http.target_port`")),
            ),
            Some(_) => {}
        }
    }
    if let Some(p) = http.target_port
        && !(1..=65535).contains(&p)
    {
        out.push(
            Diagnostic::error("/http/target_port", format!("port {p} is out of range"))
                .with_hint("use a port from 1 to 65535"),
        );
    }
    // Health check.
    if let Some(hc) = &http.healthcheck {
        let short = matches!(hc, manifest::HttpHealthCheck::Path(_));
        check_target_health(&hc.args(), "/http/healthcheck", short, out);
    }
    if let Some(d) = http.deregistration_delay
        && (!d.is_whole_seconds() || d.secs() > 3600)
    {
        out.push(
            Diagnostic::error(
                "/http/deregistration_delay",
                "the deregistration delay is whole seconds from 0s to 3600s",
            )
            .with_hint("e.g. 60s"),
        );
    }
    // Source IPs.
    for (i, ip) in http.allowed_source_ips.iter().enumerate() {
        if !is_cidr(ip) {
            out.push(
                Diagnostic::error(
                    pointer(["http", "allowed_source_ips", &i.to_string()]),
                    format!("`{ip}` is not a CIDR block"),
                )
                .with_hint("e.g. 10.24.34.0/23"),
            );
        }
    }
    let path_values = if normalize_path(path) == "/" { 1 } else { 2 };
    let aliases = http.alias.as_ref().map(|a| a.entries()).unwrap_or_default();
    let ip_budget = RULE_CONDITION_VALUES - path_values - usize::from(!aliases.is_empty());
    if http.allowed_source_ips.len() > ip_budget {
        out.push(
            Diagnostic::error(
                "/http/allowed_source_ips",
                format!("{} source IP blocks do not fit in one listener rule", http.allowed_source_ips.len()),
            )
            .with_hint(format!(
                "a rule holds five condition values; with this path and alias at most {ip_budget} CIDR blocks fit"
            )),
        );
    }
    // Aliases.
    for (i, (name, _)) in aliases.iter().enumerate() {
        let p = match &http.alias {
            Some(manifest::Alias::One(_)) => "/http/alias".to_string(),
            _ => pointer(["http", "alias", &i.to_string()]),
        };
        if name.trim().is_empty() || name.contains(char::is_whitespace) || name.contains('/') {
            out.push(Diagnostic::error(&p, format!("`{name}` is not a domain name")));
        }
    }
    if let (Some(ctx), false) = (context, aliases.is_empty()) {
        check_aliases(http, &aliases, ctx, out);
    }
}

fn check_target_health(a: &HttpHealthCheckArgs, base: &str, short: bool, out: &mut Vec<Diagnostic>) {
    let field = |f: &str| if short { base.to_string() } else { format!("{base}/{f}") };
    if let Some(p) = &a.path
        && !p.starts_with('/')
    {
        out.push(Diagnostic::error(field("path"), format!("health check path `{p}` must start with `/`")));
    }
    if let Some(p) = a.port
        && !(1..=65535).contains(&p)
    {
        out.push(
            Diagnostic::error(field("port"), format!("port {p} is out of range"))
                .with_hint("use a port from 1 to 65535"),
        );
    }
    for (name, v) in [("healthy_threshold", a.healthy_threshold), ("unhealthy_threshold", a.unhealthy_threshold)] {
        if let Some(v) = v
            && !(2..=10).contains(&v)
        {
            out.push(Diagnostic::error(field(name), format!("{name} {v} is out of range")).with_hint("use 2 to 10"));
        }
    }
    let secs = |d: Option<workload::Duration>, name: &str, lo: u64, hi: u64, out: &mut Vec<Diagnostic>| {
        if let Some(d) = d
            && (!d.is_whole_seconds() || !(lo..=hi).contains(&d.secs()))
        {
            out.push(Diagnostic::error(field(name), format!("{name} must be whole seconds from {lo}s to {hi}s")));
        }
    };
    secs(a.interval, "interval", 5, 300, out);
    secs(a.timeout, "timeout", 2, 120, out);
    secs(a.grace_period, "grace_period", 0, 2_147_483_647, out);
    if let (Some(i), Some(t)) = (a.interval, a.timeout)
        && t >= i
    {
        out.push(Diagnostic::error(field("timeout"), "the health check timeout must be shorter than its interval"));
    }
}

fn is_cidr(text: &str) -> bool {
    let Some((ip, bits)) = text.split_once('/') else { return false };
    let Ok(bits) = bits.parse::<u8>() else { return false };
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(_)) => bits <= 32,
        Ok(std::net::IpAddr::V6(_)) => bits <= 128,
        Err(_) => false,
    }
}

fn alias_pointer(http: &Http, i: usize) -> String {
    match &http.alias {
        Some(manifest::Alias::One(_)) => "/http/alias".to_string(),
        _ => pointer(["http", "alias", &i.to_string()]),
    }
}

fn check_aliases(http: &Http, aliases: &[(String, Option<String>)], ctx: &RenderContext, out: &mut Vec<Diagnostic>) {
    let env = &ctx.environment;
    if !env.https_listener {
        out.push(
            Diagnostic::error("/http/alias", format!("environment `{}` has no HTTPS listener, and aliases need one", ctx.env))
                .with_hint("give the app a domain (`app init --domain`) and redeploy the environment, or import certificates with `http.public.certificates` in the environment manifest"),
        );
        return;
    }
    if !env.public_certificates.is_empty() {
        return; // The user's certificates decide which names are valid.
    }
    let Some(domain) = &ctx.app_domain else {
        out.push(
            Diagnostic::error("/http/alias", format!("application `{}` has no domain for the alias", ctx.app))
                .with_hint("run `app init --domain <domain>`, or import a certificate for the alias in the environment manifest"),
        );
        return;
    };
    if !env.dns_delegated {
        out.push(
            Diagnostic::error(
                "/http/alias",
                format!("the domain `{domain}` is not delegated to environment `{}`", ctx.env),
            )
            .with_hint("redeploy the environment so it creates its hosted zone, or import a certificate"),
        );
        return;
    }
    for (i, (name, zone)) in aliases.iter().enumerate() {
        let within = name == domain || name.ends_with(&format!(".{domain}"));
        if !within && zone.is_none() && http.hosted_zone.is_none() {
            out.push(
                Diagnostic::error(
                    alias_pointer(http, i),
                    format!("alias `{name}` is not under the application's domain `{domain}`"),
                )
                .with_hint(format!(
                    "use `{domain}` or a subdomain such as `{}.{domain}`, or import a certificate for `{name}`",
                    ctx.name
                )),
            );
        }
    }
}

/// FNV-1a: a stable hash (std's `DefaultHasher` may change between releases).
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// Listener rule priority. Deeper paths get lower numbers so they win over
/// shorter prefixes (`/api/v2` before `/api` before `/`); within a depth the
/// service name's hash spreads services apart so they do not collide.
pub fn rule_priority(service: &str, path: &str, index: usize) -> u64 {
    let depth = path.split('/').filter(|s| !s.is_empty()).count().min(4) as u64;
    let bucket = 4 - depth;
    bucket * 10_000 + 1 + fnv1a(service) % 9_800 + index as u64
}

/// The hosted zone an alias' A record goes in, when ferry creates it.
fn alias_zone(name: &str, zone: &Option<String>, http: &Http, ctx: &RenderContext) -> Option<(&'static str, String)> {
    if let Some(z) = zone.as_ref().or(http.hosted_zone.as_ref()) {
        return Some(("HostedZoneId", z.clone()));
    }
    if !ctx.environment.public_certificates.is_empty() || !ctx.environment.dns_delegated {
        return None;
    }
    let domain = ctx.app_domain.as_ref()?;
    let env_zone = format!("{}.{}.{domain}", ctx.env, ctx.app);
    let app_zone = format!("{}.{domain}", ctx.app);
    let zone = if name.ends_with(&format!(".{env_zone}")) {
        env_zone
    } else if name.ends_with(&format!(".{app_zone}")) {
        app_zone
    } else {
        domain.clone()
    };
    Some(("HostedZoneName", format!("{zone}.")))
}

fn logical_id(base: &str, i: usize) -> String {
    if i == 0 { base.to_string() } else { format!("{base}{i}") }
}

fn render(m: &Manifest, ctx: &RenderContext) -> Rendered {
    let spec = m.task_spec();
    let Some(http) = http_of(m) else {
        return Rendered::default();
    };
    let mut t = Template::new();
    t.description = Some(format!("CloudFormation template for the {MANIFEST_TYPE} `{}`, rendered by ferry.", m.name));
    let mut values = IndexMap::new();
    let task = TaskRender {
        spec: &spec,
        context: ctx,
        extra_environment: vec![("COPILOT_LB_DNS".into(), cfn::env_import("PublicLoadBalancerDNS"))],
    };
    task.parameters(&mut t, &mut values);

    // Web-service parameters (Copilot's names).
    let path = normalize_path(http.path.as_deref().unwrap_or("/"));
    let target_container = http.target_container.clone().unwrap_or_else(|| m.name.clone());
    let target_port = http.target_port.or_else(|| {
        if target_container == m.name {
            m.image.port
        } else {
            m.sidecars.get(&target_container).and_then(|s| s.port.as_ref()).and_then(|p| p.parse().ok()).map(|(p, _)| p)
        }
    });
    let https = ctx.environment.https_listener;
    let aliases = http.alias.as_ref().map(|a| a.entries()).unwrap_or_default();
    let params: [(&str, Parameter, Value); 5] = [
        (
            "TargetContainer",
            Parameter::string().description("Container the load balancer sends traffic to"),
            json!(target_container),
        ),
        (
            "TargetPort",
            Parameter::number().description("Port of the target container"),
            json!(target_port.unwrap_or(80).to_string()),
        ),
        (
            "HTTPSEnabled",
            Parameter::string()
                .allowed(&["true", "false"])
                .description("The environment's load balancer has an HTTPS listener"),
            json!(https.to_string()),
        ),
        ("RulePath", Parameter::string().description("Path prefix routed to this service"), json!(path)),
        (
            "DNSDelegated",
            Parameter::string()
                .allowed(&["true", "false"])
                .description("The app's domain is delegated to the environment"),
            json!(ctx.environment.dns_delegated.to_string()),
        ),
    ];
    for (name, p, v) in params {
        t.parameter(name, p);
        values.insert(name.to_string(), v);
    }
    t.condition("IsDefaultRootPath", cfn::equals(cfn::ref_("RulePath"), json!("/")));
    t.condition("IsHTTPS", cfn::equals(cfn::ref_("HTTPSEnabled"), json!("true")));

    task.log_group(&mut t);
    task.execution_role(&mut t);
    task.task_role(&mut t);
    task.task_definition(&mut t);
    task.discovery_service(&mut t);

    // Target group.
    let hc = http.healthcheck.as_ref().map(|h| h.args()).unwrap_or_default();
    let version = http.version.as_deref().unwrap_or("http1").to_ascii_lowercase();
    let grpc = version == "grpc";
    let matcher = if grpc {
        json!({"GrpcCode": hc.success_codes.clone().unwrap_or_else(|| "0".into())})
    } else {
        json!({"HttpCode": hc.success_codes.clone().unwrap_or_else(|| "200".into())})
    };
    let mut attributes = vec![json!({
        "Key": "deregistration_delay.timeout_seconds",
        "Value": http.deregistration_delay.map(|d| d.secs()).unwrap_or(60).to_string()
    })];
    if http.stickiness == Some(true) {
        attributes.push(json!({"Key": "stickiness.enabled", "Value": "true"}));
        attributes.push(json!({"Key": "stickiness.type", "Value": "lb_cookie"}));
    }
    t.resource(
        "TargetGroup",
        Resource::new("AWS::ElasticLoadBalancingV2::TargetGroup")
            .prop("HealthCheckPath", hc.path.clone().unwrap_or_else(|| "/".into()))
            .prop("HealthCheckPort", hc.port.map(|p| p.to_string()).unwrap_or_else(|| "traffic-port".into()))
            .prop("Matcher", matcher)
            .opt_prop("HealthyThresholdCount", hc.healthy_threshold)
            .opt_prop("UnhealthyThresholdCount", hc.unhealthy_threshold)
            .opt_prop("HealthCheckIntervalSeconds", hc.interval.map(|d| d.secs()))
            .opt_prop("HealthCheckTimeoutSeconds", hc.timeout.map(|d| d.secs()))
            .prop("Port", cfn::ref_("TargetPort"))
            .prop("Protocol", "HTTP")
            .prop(
                "ProtocolVersion",
                match version.as_str() {
                    "grpc" => "GRPC",
                    "http2" => "HTTP2",
                    _ => "HTTP1",
                },
            )
            .prop("TargetType", "ip")
            .prop("VpcId", cfn::env_import("VpcId"))
            .prop("TargetGroupAttributes", json!(attributes))
            .describe("A target group the load balancer sends the service's requests to"),
    );

    // Listener rules: one per chunk of aliases that fits in a rule.
    let path_values = if path == "/" { 1 } else { 2 };
    let path_condition = json!({
        "Field": "path-pattern",
        "PathPatternConfig": {"Values": cfn::if_(
            "IsDefaultRootPath",
            json!(["/*"]),
            json!([cfn::ref_("RulePath"), cfn::sub("${RulePath}/*")]),
        )}
    });
    let host_budget = RULE_CONDITION_VALUES.saturating_sub(path_values + http.allowed_source_ips.len()).max(1);
    let alias_names: Vec<&str> = aliases.iter().map(|(n, _)| n.as_str()).collect();
    let chunks: Vec<Vec<&str>> = if alias_names.is_empty() {
        vec![Vec::new()]
    } else {
        alias_names.chunks(host_budget).map(<[&str]>::to_vec).collect()
    };
    let forward = json!([{"Type": "forward", "TargetGroupArn": cfn::ref_("TargetGroup")}]);
    let redirect = json!([{"Type": "redirect", "RedirectConfig": {
        "Protocol": "HTTPS", "Port": "443", "Host": "#{host}", "Path": "/#{path}",
        "Query": "#{query}", "StatusCode": "HTTP_301"
    }}]);
    let redirect_to_https = https && http.redirect_to_https.unwrap_or(true);
    let mut rule_ids = Vec::new();
    for (i, hosts) in chunks.iter().enumerate() {
        let mut conditions = vec![path_condition.clone()];
        if !hosts.is_empty() {
            conditions.push(json!({"Field": "host-header", "HostHeaderConfig": {"Values": hosts}}));
        }
        if !http.allowed_source_ips.is_empty() {
            conditions.push(json!({"Field": "source-ip", "SourceIpConfig": {"Values": http.allowed_source_ips}}));
        }
        let priority = rule_priority(&m.name, &path, i);
        let mut rule = |id: String, listener: &str, actions: &Value, what: &str| {
            t.resource(
                &id,
                Resource::new("AWS::ElasticLoadBalancingV2::ListenerRule")
                    .prop("ListenerArn", cfn::env_import(listener))
                    .prop("Priority", priority)
                    .prop("Conditions", json!(conditions))
                    .prop("Actions", actions.clone())
                    .describe(what),
            );
            rule_ids.push(id);
        };
        if https {
            rule(
                logical_id("HTTPSListenerRule", i),
                "HTTPSListenerArn",
                &forward,
                "A load balancer rule sending HTTPS requests for this service's path to its target group",
            );
            if redirect_to_https {
                rule(
                    logical_id("HTTPRedirectRule", i),
                    "HTTPListenerArn",
                    &redirect,
                    "A load balancer rule redirecting HTTP requests to HTTPS",
                );
            } else {
                rule(
                    logical_id("HTTPListenerRule", i),
                    "HTTPListenerArn",
                    &forward,
                    "A load balancer rule sending HTTP requests for this service's path to its target group",
                );
            }
        } else {
            rule(
                logical_id("HTTPListenerRule", i),
                "HTTPListenerArn",
                &forward,
                "A load balancer rule sending HTTP requests for this service's path to its target group",
            );
        }
    }

    // A records for aliases ferry can place.
    for (i, (name, zone)) in aliases.iter().enumerate() {
        let Some((key, zone)) = alias_zone(name, zone, http, ctx) else { continue };
        t.resource(
            &logical_id("AliasRecord", i),
            Resource::new("AWS::Route53::RecordSet")
                .prop(key, zone)
                .prop("Name", name.as_str())
                .prop("Type", "A")
                .prop(
                    "AliasTarget",
                    json!({
                        "DNSName": cfn::env_import("PublicLoadBalancerDNS"),
                        "HostedZoneId": cfn::env_import("CanonicalHostedZoneID"),
                    }),
                )
                .describe(&format!("A DNS record pointing {name} at the load balancer")),
        );
    }

    task.service(
        &mut t,
        ServiceOptions {
            load_balancers: vec![json!({
                "ContainerName": cfn::ref_("TargetContainer"),
                "ContainerPort": cfn::ref_("TargetPort"),
                "TargetGroupArn": cfn::ref_("TargetGroup"),
            })],
            health_check_grace_period: Some(hc.grace_period.map(|d| d.secs()).unwrap_or(60)),
            depends_on: rule_ids,
        },
    );
    let lb_full_name = cfn::env_import("PublicLoadBalancerFullName");
    let tg_full_name = cfn::get_att("TargetGroup", "TargetGroupFullName");
    task.autoscaling(
        &mut t,
        Some(&LoadBalancerMetrics {
            resource_label: cfn::join("/", json!([lb_full_name, tg_full_name])),
            load_balancer: lb_full_name.clone(),
            target_group: tg_full_name.clone(),
        }),
    );

    let lb_dns = cfn::env_import("PublicLoadBalancerDNS");
    let host = match aliases.first() {
        Some((name, _)) => json!(name),
        None => lb_dns.clone(),
    };
    t.output(
        "URL",
        cfn::if_(
            "IsHTTPS",
            cfn::join("", json!(["https://", host, cfn::if_("IsDefaultRootPath", json!(""), cfn::ref_("RulePath"))])),
            cfn::join("", json!(["http://", lb_dns, cfn::if_("IsDefaultRootPath", json!(""), cfn::ref_("RulePath"))])),
        ),
        None,
    );
    t.output("TargetGroupARN", cfn::ref_("TargetGroup"), None);
    Rendered { template: t, parameters: values }
}
