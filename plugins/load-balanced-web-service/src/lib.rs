//! The bundled "Load Balanced Web Service" plugin: a Fargate service behind
//! the environment's public Application Load Balancer.
//!
//! The task, IAM, service and autoscaling come from
//! [`ferry_plugin_sdk::workload`]; this crate adds what only a web service
//! has: the `http` section (target group, listener rules, aliases).

pub mod manifest;

use ferry_plugin_sdk::cfn::{self, Parameter, Resource, Template};
use ferry_plugin_sdk::workload::deployment::{self, Strategy};
use ferry_plugin_sdk::workload::http::{self as routing, Listeners, Routing, Rule};
use ferry_plugin_sdk::workload::nlb::{self, NlbRender};
use ferry_plugin_sdk::workload::publish;
use ferry_plugin_sdk::workload::render::ServiceOptions;
use ferry_plugin_sdk::workload::{self, LoadBalancerMetrics, TaskRender, TaskSpec};
use ferry_plugin_sdk::{Diagnostic, Plugin, PluginInfo, RenderContext, RenderError, Rendered, Value, json};
use indexmap::IndexMap;
use manifest::{Http, HttpOrFalse, Manifest};

/// The manifest `type:` this plugin renders.
pub const MANIFEST_TYPE: &str = "Load Balanced Web Service";

/// Commented manifest written by `svc init`.
pub const MANIFEST_TEMPLATE: &str = include_str!("template.yml");

pub struct Lbws;

impl Plugin for Lbws {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "load-balanced-web-service".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Load Balanced Web Service: a Fargate service behind the environment's public load balancer"
                .into(),
            manifest_types: vec![MANIFEST_TYPE.into()],
            manifest_schema: ferry_plugin_sdk::manifest::schema_from_json(include_str!("../schema.json")),
            manifest_template: MANIFEST_TEMPLATE.into(),
        }
    }

    /// Checks what does not depend on the environment; aliases are checked
    /// against the environment at render time.
    fn validate(manifest: &Value) -> Vec<Diagnostic> {
        ferry_plugin_sdk::manifest::validate_with(manifest, |m: &Manifest| check(m, None))
    }

    fn render(manifest: &Value, context: &RenderContext) -> Result<Rendered, RenderError> {
        ferry_plugin_sdk::manifest::render_with(
            manifest,
            |m: &Manifest| check(m, Some(context)),
            |m| render(m, context),
        )
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

/// Every problem with the manifest; with a context, also what the target
/// environment cannot offer.
pub fn check(m: &Manifest, context: Option<&RenderContext>) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    out.extend(workload::check_type(&m.kind, MANIFEST_TYPE));
    let spec = m.task_spec();
    out.extend(workload::check_task(&spec, true));
    if m.image.port.is_none() {
        out.push(
            Diagnostic::error("/image", "a load balanced web service needs `image.port`")
                .with_hint("add `port: 8080` (the port your container listens on)"),
        );
    }
    if let Some(p) = &m.publish {
        publish::check_publish(p, &mut out);
    }
    match (&m.http, &m.nlb) {
        (None, None) => out.push(
            Diagnostic::error("", "missing required field `http`")
                .with_hint("add `http: {path: '/'}` to route requests to the service, or `nlb: {port: 80/tcp}`"),
        ),
        (Some(HttpOrFalse::Disabled), None) => out.push(
            Diagnostic::error("/http", "`http: false` leaves the service with no load balancer")
                .with_hint("add `nlb: {port: 80/tcp}` for a network load balancer, or route with `http: {path: ...}`"),
        ),
        (Some(HttpOrFalse::Http(http)), _) => check_http(http, &spec, context, &mut out),
        _ => {}
    }
    if http_of(m).is_none() && Strategy::of(&spec).shifts_traffic() {
        out.push(
            Diagnostic::error(
                "/deployment/strategy",
                "a traffic-shifting strategy needs `http` (an Application Load Balancer route)",
            )
            .with_hint("route requests with `http.path`, or use `strategy: rolling` with `nlb`"),
        );
    }
    if let Some(n) = &m.nlb {
        nlb::check_nlb(n, &spec, &mut out);
        if let Some(ctx) = context
            && n.needs_certificate()
            && (!ctx.environment.dns_delegated || ctx.app_domain.is_none())
        {
            out.push(
                Diagnostic::error("/nlb/port", "a TLS listener needs a certificate for the app's domain")
                    .with_hint(format!(
                        "run `app init --domain <domain>` and deploy environment `{}` so its domain is delegated, or listen with `tcp`",
                        ctx.env
                    )),
            );
        }
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
    routing::check_additional_rules(&http.additional_rules, path, spec, out);
    // With HTTPS and `redirect_to_https: false`, HTTP forwards too: two production rules.
    let https = context.is_some_and(|c| match &http.alb {
        Some(_) => c.imported_alb.as_ref().is_some_and(|a| a.https_listener_arn.is_some()),
        None => c.environment.https_listener,
    });
    let http_forwards_too = https && http.redirect_to_https == Some(false) && http.alb.is_none();
    deployment::check_routing_for_strategy(spec, http.additional_rules.len(), http_forwards_too, out);
    if http.alb.as_deref().is_some_and(|a| a.trim().is_empty()) {
        out.push(
            Diagnostic::error("/http/alb", "`alb` is empty")
                .with_hint("name an existing application load balancer, by name or ARN"),
        );
    }
    if let Some(fields) = http.routing_fields() {
        routing::check_routing(&fields, spec, out);
    }
    let aliases = http.alias.as_ref().map(|a| a.entries()).unwrap_or_default();
    // On an imported load balancer its own certificates decide the names.
    if let (Some(ctx), false, None) = (context, aliases.is_empty(), &http.alb) {
        check_aliases(http, &aliases, ctx, out);
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
                    http.alias.as_ref().map(|a| a.pointer(i)).unwrap_or_default(),
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

/// Listener rule priority (kept here for callers of this crate).
pub use routing::rule_priority;

fn render(m: &Manifest, ctx: &RenderContext) -> Rendered {
    let spec = m.task_spec();
    let http = http_of(m);
    let mut t = Template::new();
    t.description = Some(format!("CloudFormation template for the {MANIFEST_TYPE} `{}`, rendered by ferry.", m.name));
    let mut values = IndexMap::new();
    let imported = http.and_then(|h| h.alb.as_deref()).map(|alb| routing::imported_alb(alb, ctx));
    // The load balancer's DNS name: the environment's export, or the imported one's.
    let lb_dns = match &imported {
        Some(alb) => json!(&alb.dns_name),
        None => cfn::env_import("PublicLoadBalancerDNS"),
    };
    let mut extra_environment = Vec::new();
    if http.is_some() {
        extra_environment.push(("COPILOT_LB_DNS".to_string(), lb_dns.clone()));
    }
    extra_environment.extend(m.publish.as_ref().and_then(publish::topic_arns_variable));
    let task = TaskRender { spec: &spec, context: ctx, extra_environment };
    task.parameters(&mut t, &mut values);

    // Web-service parameters (Copilot's names).
    let https = ctx.environment.https_listener;
    let aliases = http.and_then(|h| h.alias.as_ref()).map(|a| a.entries()).unwrap_or_default();
    let routing = http.map(|http| {
        let target_container = http.target_container.clone().unwrap_or_else(|| m.name.clone());
        let target_port = routing::target_port(&spec, &target_container, http.target_port);
        let main = Rule {
            path: routing::normalize_path(http.path.as_deref().unwrap_or("/")),
            healthcheck: http.healthcheck.as_ref().map(|h| h.args()).unwrap_or_default(),
            version: http.version.as_deref(),
            deregistration_delay: http.deregistration_delay,
            stickiness: http.stickiness == Some(true),
            allowed_source_ips: &http.allowed_source_ips,
            aliases: aliases.iter().map(|(n, _)| n.clone()).collect(),
            redirect_to_https: http.redirect_to_https.unwrap_or(true),
            target_container,
            target_port,
        };
        let mut rules = vec![main];
        rules.extend(http.additional_rules.iter().map(|r| r.rule(&spec, true)));
        Routing {
            service: &m.name,
            rules,
            listeners: match &imported {
                Some(alb) => Listeners::imported(alb),
                None => Listeners::environment("HTTPListenerArn", https.then_some("HTTPSListenerArn")),
            },
        }
    });
    let listeners = m.nlb.as_ref().map(|n| nlb::resolve(n, &spec)).unwrap_or_default();
    let nlb_render = m.nlb.as_ref().map(|n| {
        let aliases = n.aliases();
        let alias_zones = aliases.iter().map(|a| nlb_alias_zone(a, ctx)).collect();
        let env_zone = ctx.app_domain.as_ref().map(|d| format!("{}.{}.{d}", ctx.env, ctx.app));
        NlbRender {
            listeners: &listeners,
            aliases,
            alias_zones,
            dns_delegated: ctx.environment.dns_delegated,
            env_zone,
        }
    });
    match &routing {
        Some(routing) => routing.parameters(&mut t, &mut values),
        None => {
            // Copilot declares the target parameters with or without an ALB.
            let first = listeners.first();
            t.parameter(
                "TargetContainer",
                Parameter::string().description("Container the load balancer sends traffic to"),
            );
            t.parameter("TargetPort", Parameter::number().description("Port of the target container"));
            values.insert(
                "TargetContainer".into(),
                json!(first.map(|l| l.target_container.clone()).unwrap_or_else(|| m.name.clone())),
            );
            values.insert("TargetPort".into(), json!(first.map(|l| l.target_port).unwrap_or(80).to_string()));
        }
    }
    t.parameter(
        "DNSDelegated",
        Parameter::string().allowed(&["true", "false"]).description("The app's domain is delegated to the environment"),
    );
    values.insert("DNSDelegated".to_string(), json!(ctx.environment.dns_delegated.to_string()));
    if let Some(routing) = &routing {
        routing.conditions(&mut t);
    }
    if let Some(r) = &nlb_render {
        nlb::parameters(r, &mut t, &mut values);
    }

    task.log_group(&mut t);
    task.execution_role(&mut t);
    task.task_role_with_policies(&mut t, m.publish.as_ref().and_then(publish::publish_policy).into_iter().collect());
    task.task_definition(&mut t);
    task.discovery_service(&mut t);
    let mut depends_on = Vec::new();
    let mut load_balancers = Vec::new();
    if let (Some(routing), Some(http)) = (&routing, http) {
        routing.target_groups(&mut t);
        depends_on = routing.listener_rules(&mut t, &mut values);
        load_balancers = routing.service_load_balancers();
        let shift =
            deployment::render_traffic_shift(&spec, routing, &mut t, &mut values, &depends_on, &mut load_balancers);
        depends_on.extend(shift);
        if let Some(alb) = &imported {
            routing::imported_alb_resources(&mut t, alb, &aliases, http.hosted_zone.as_deref());
        }
        // A records for aliases ferry can place on the environment's load balancer.
        for (i, (name, zone)) in aliases.iter().enumerate().filter(|_| imported.is_none()) {
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
    }
    if let Some(r) = &nlb_render {
        let (ids, lbs) = nlb::render(r, &mut t);
        depends_on.extend(ids);
        load_balancers.extend(lbs);
        nlb::expose_target_ports(&listeners, (&m.name, m.image.port), &mut t);
    }

    if let Some(p) = &m.publish {
        publish::render_publish(p, &mut t);
    }

    let grace_period = match (&routing, &m.nlb) {
        (Some(routing), _) => routing.health_check_grace_period(),
        (None, Some(n)) => n.grace_period().unwrap_or(60),
        (None, None) => 60,
    };
    task.service(&mut t, ServiceOptions { load_balancers, health_check_grace_period: Some(grace_period), depends_on });
    let target_group = routing::target_group_id(0, imported.is_some());
    let metrics = routing.as_ref().map(|_| {
        let lb_full_name = match &imported {
            Some(alb) => json!(alb.full_name()),
            None => cfn::env_import("PublicLoadBalancerFullName"),
        };
        let tg_full_name = cfn::get_att(&target_group, "TargetGroupFullName");
        LoadBalancerMetrics {
            resource_label: cfn::join("/", json!([&lb_full_name, &tg_full_name])),
            load_balancer: lb_full_name.clone(),
            target_group: tg_full_name.clone(),
        }
    });
    task.autoscaling(&mut t, metrics.as_ref());

    if routing.is_some() {
        let host = match aliases.first() {
            Some((name, _)) => json!(name),
            None => lb_dns.clone(),
        };
        t.output(
            "URL",
            cfn::if_(
                "IsHTTPS",
                cfn::join(
                    "",
                    json!(["https://", host, cfn::if_("IsDefaultRootPath", json!(""), cfn::ref_("RulePath"))]),
                ),
                cfn::join(
                    "",
                    json!(["http://", lb_dns, cfn::if_("IsDefaultRootPath", json!(""), cfn::ref_("RulePath"))]),
                ),
            ),
            None,
        );
        t.output("TargetGroupARN", cfn::ref_(&target_group), None);
    }
    Rendered { template: t, parameters: values }
}

/// The hosted zone (by name) of an NLB alias: the environment's, the app's
/// or the domain's zone, whichever the alias falls in.
fn nlb_alias_zone(name: &str, ctx: &RenderContext) -> Option<String> {
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
    Some(format!("{zone}."))
}
