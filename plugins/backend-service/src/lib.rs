//! The bundled "Backend Service" plugin: a Fargate service other services
//! reach inside the VPC — through Cloud Map (`<svc>.<env>.<app>.local`) and,
//! with an `http` section, through the environment's internal Application
//! Load Balancer. It is never exposed to the internet.
//!
//! The task, IAM, service, discovery and autoscaling come from
//! [`ferry_plugin_sdk::workload`]; routing from [`workload::http`] (the same
//! target group and listener rules the Load Balanced Web Service uses, on the
//! internal listeners); SNS topics from [`workload::publish`].

pub mod manifest;

use ferry_plugin_sdk::cfn::{self, Resource, Template};
use ferry_plugin_sdk::workload::deployment;
use ferry_plugin_sdk::workload::http::{self as routing, Listeners, Routing, Rule};
use ferry_plugin_sdk::workload::publish;
use ferry_plugin_sdk::workload::render::ServiceOptions;
use ferry_plugin_sdk::workload::{self, LoadBalancerMetrics, SecurityGroups, TaskRender, TaskSpec};
use ferry_plugin_sdk::{Diagnostic, Plugin, PluginInfo, RenderContext, RenderError, Rendered, Value, json};
use indexmap::IndexMap;
use manifest::{Http, Manifest};

/// The manifest `type:` this plugin renders.
pub const MANIFEST_TYPE: &str = "Backend Service";

/// Commented manifest written by `svc init`.
pub const MANIFEST_TEMPLATE: &str = include_str!("template.yml");

/// Environment exports of the internal load balancer's listeners.
const INTERNAL_HTTP_LISTENER: &str = "InternalHTTPListenerArn";
const INTERNAL_HTTPS_LISTENER: &str = "InternalHTTPSListenerArn";

pub struct BackendService;

impl Plugin for BackendService {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "backend-service".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Backend Service: a Fargate service reachable only inside the VPC (service discovery, optionally the internal load balancer)".into(),
            manifest_types: vec![MANIFEST_TYPE.into()],
            manifest_schema: ferry_plugin_sdk::manifest::schema_from_json(include_str!("../schema.json")),
            manifest_template: MANIFEST_TEMPLATE.into(),
        }
    }

    /// Checks what does not depend on the environment; the internal load
    /// balancer and aliases are checked against it at render time.
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
ferry_plugin_sdk::export_plugin!(BackendService, service);

/// Every problem with the manifest; with a context, also what the target
/// environment cannot offer.
pub fn check(m: &Manifest, context: Option<&RenderContext>) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    out.extend(workload::check_type(&m.kind, MANIFEST_TYPE));
    let spec = m.task_spec();
    out.extend(workload::check_task(&spec, m.http().is_some()));
    if let Some(p) = &m.publish {
        publish::check_publish(p, &mut out);
    }
    if let Some(http) = m.http() {
        check_http(http, &spec, context, &mut out);
    }
    out
}

fn check_http(http: &Http, spec: &TaskSpec, context: Option<&RenderContext>, out: &mut Vec<Diagnostic>) {
    let Some(path) = &http.path else {
        out.push(
            Diagnostic::error("/http", "missing required field `path`")
                .with_hint("add `path: '/'` to receive every request of the internal load balancer"),
        );
        return;
    };
    if http.alb.as_deref().is_some_and(|a| a.trim().is_empty()) {
        out.push(
            Diagnostic::error("/http/alb", "`alb` is empty")
                .with_hint("name an existing internal application load balancer, by name or ARN"),
        );
    }
    if let Some(fields) = http.routing_fields() {
        routing::check_routing(&fields, spec, out);
    }
    routing::check_additional_rules(&http.additional_rules, path, spec, out);
    deployment::check_routing_for_strategy(spec, http.additional_rules.len(), false, out);
    let target = http.target_container.as_deref().unwrap_or(&spec.name);
    if target == spec.name && routing::target_port(spec, target, http.target_port).is_none() {
        out.push(
            Diagnostic::error("/image", "routing through the internal load balancer needs `image.port`")
                .with_hint("add `port: 8080` (the port your container listens on)"),
        );
    }
    if http.hosted_zone.is_some() && http.alias.is_none() {
        out.push(
            Diagnostic::error("/http/hosted_zone", "`hosted_zone` needs `alias`")
                .with_hint("add `alias: <name>` for the record, or remove `hosted_zone`"),
        );
    }
    let Some(ctx) = context else { return };
    // No `http.private` needed: like Copilot's, the environment creates its
    // internal load balancer whenever a Backend Service routes through it.
    let env = &ctx.environment;
    // On an imported load balancer its own certificates decide the names.
    if http.alias.is_some() && http.alb.is_none() && !env.internal_https_listener {
        out.push(
            Diagnostic::error(
                "/http/alias",
                format!(
                    "the internal load balancer of environment `{}` has no HTTPS listener, and aliases need one",
                    ctx.env
                ),
            )
            .with_hint("import certificates with `http.private.certificates` in the environment manifest"),
        );
    }
}

/// The internal load balancer's full name (`app/<name>/<id>`), cut from its
/// HTTP listener's ARN (`...:listener/app/<name>/<id>/<listener id>`): the
/// environment does not export the name itself.
fn internal_lb_full_name() -> Value {
    let parts = cfn::split("/", cfn::env_import(INTERNAL_HTTP_LISTENER));
    cfn::join("/", json!([cfn::select(1, parts.clone()), cfn::select(2, parts.clone()), cfn::select(3, parts)]))
}

fn deny_default_security_group(spec: &TaskSpec) -> bool {
    spec.network
        .as_ref()
        .and_then(|n| n.vpc.as_ref())
        .and_then(|v| v.security_groups.as_ref())
        .is_some_and(SecurityGroups::deny_default)
}

fn render(m: &Manifest, ctx: &RenderContext) -> Rendered {
    let spec = m.task_spec();
    let http = m.http();
    let mut t = Template::new();
    t.description = Some(format!("CloudFormation template for the {MANIFEST_TYPE} `{}`, rendered by ferry.", m.name));
    let mut values = IndexMap::new();

    let imported = http.and_then(|h| h.alb.as_deref()).map(|alb| routing::imported_alb(alb, ctx));
    let mut extra_environment = Vec::new();
    if http.is_some() {
        let lb_dns = match &imported {
            Some(alb) => json!(&alb.dns_name),
            None => cfn::env_import("InternalLoadBalancerDNS"),
        };
        extra_environment.push(("COPILOT_LB_DNS".to_string(), lb_dns));
    }
    if let Some(var) = m.publish.as_ref().and_then(publish::topic_arns_variable) {
        extra_environment.push(var);
    }
    let task = TaskRender { spec: &spec, context: ctx, extra_environment };
    task.parameters(&mut t, &mut values);

    let aliases = http.and_then(|h| h.alias.as_ref()).map(|a| a.entries()).unwrap_or_default();
    let target_container = http.and_then(|h| h.target_container.clone()).unwrap_or_else(|| m.name.clone());
    let https = ctx.environment.internal_https_listener;
    let routing = http.map(|h| {
        let main = Rule {
            path: routing::normalize_path(h.path.as_deref().unwrap_or("/")),
            healthcheck: h.healthcheck.as_ref().map(|c| c.args()).unwrap_or_default(),
            version: h.version.as_deref(),
            deregistration_delay: h.deregistration_delay,
            stickiness: h.stickiness == Some(true),
            allowed_source_ips: &h.allowed_source_ips,
            aliases: aliases.iter().map(|(n, _)| n.clone()).collect(),
            // Copilot's Backend Service redirects whenever its listener is HTTPS.
            redirect_to_https: true,
            target_container: target_container.clone(),
            target_port: routing::target_port(&spec, &target_container, h.target_port),
        };
        let mut rules = vec![main];
        rules.extend(h.additional_rules.iter().map(|r| Rule { redirect_to_https: true, ..r.rule(&spec, true) }));
        Routing {
            service: &m.name,
            rules,
            listeners: match &imported {
                Some(alb) => Listeners::imported(alb),
                None => Listeners::environment(INTERNAL_HTTP_LISTENER, https.then_some(INTERNAL_HTTPS_LISTENER)),
            },
        }
    });
    if let Some(routing) = &routing {
        routing.parameters_with(&mut t, &mut values, false);
        routing.path_condition(&mut t);
    }

    task.log_group(&mut t);
    task.execution_role(&mut t);
    task.task_role_with_policies(&mut t, m.publish.as_ref().and_then(publish::publish_policy).into_iter().collect());
    task.task_definition(&mut t);
    task.discovery_service(&mut t);

    let mut options = ServiceOptions::default();
    let mut service_group = None;
    if let (Some(routing), Some(h)) = (&routing, http) {
        routing.target_groups(&mut t);
        options.depends_on = routing.listener_rules(&mut t, &mut values);
        options.load_balancers = routing.service_load_balancers();
        let shift = deployment::render_traffic_shift(
            &spec,
            routing,
            &mut t,
            &mut values,
            &options.depends_on,
            &mut options.load_balancers,
        );
        options.depends_on.extend(shift);
        options.health_check_grace_period = Some(routing.health_check_grace_period());
        match &imported {
            Some(alb) => routing::imported_alb_resources(&mut t, alb, &aliases, h.hosted_zone.as_deref()),
            None => alias_records(&mut t, h, &aliases),
        }
        if imported.is_none() && deny_default_security_group(&spec) {
            service_group = Some(internal_lb_ingress(&mut t));
        }
    }
    if let Some(p) = &m.publish {
        publish::render_publish(p, &mut t);
    }

    task.service(&mut t, options);
    if let Some(group) = service_group
        && let Some(groups) = t
            .resources
            .get_mut(workload::render::ids::SERVICE)
            .and_then(|s| s.pointer_mut("/Properties/NetworkConfiguration/AwsvpcConfiguration/SecurityGroups"))
            .and_then(Value::as_array_mut)
    {
        groups.push(group);
    }
    let target_group = routing::target_group_id(0, imported.is_some());
    let metrics = routing.as_ref().map(|_| {
        let lb = match &imported {
            Some(alb) => json!(alb.full_name()),
            None => internal_lb_full_name(),
        };
        let tg = cfn::get_att(&target_group, "TargetGroupFullName");
        LoadBalancerMetrics {
            resource_label: cfn::join("/", json!([lb.clone(), tg.clone()])),
            load_balancer: lb,
            target_group: tg,
        }
    });
    task.autoscaling(&mut t, metrics.as_ref());

    // No URL output: it would only repeat the environment's import of the
    // internal load balancer's DNS name (cfn-lint W6001); the service
    // knows it as COPILOT_LB_DNS.
    if routing.is_some() {
        t.output("TargetGroupARN", cfn::ref_(&target_group), None);
    }
    Rendered { template: t, parameters: values }
}

/// CNAME records for aliases with a hosted zone (the environment exports the
/// internal load balancer's DNS name, not its canonical zone, so no A alias).
fn alias_records(t: &mut Template, http: &Http, aliases: &[(String, Option<String>)]) {
    for (i, (name, zone)) in aliases.iter().enumerate() {
        let Some(zone) = zone.as_ref().or(http.hosted_zone.as_ref()) else { continue };
        let id = if i == 0 { "AliasRecord".to_string() } else { format!("AliasRecord{i}") };
        t.resource(
            &id,
            Resource::new("AWS::Route53::RecordSet")
                .prop("HostedZoneId", zone.as_str())
                .prop("Name", name.as_str())
                .prop("Type", "CNAME")
                .prop("TTL", "60")
                .prop("ResourceRecords", json!([cfn::env_import("InternalLoadBalancerDNS")]))
                .describe(&format!("A DNS record pointing {name} at the internal load balancer")),
        );
    }
}

/// With `deny_default` the tasks leave the environment security group, which
/// is what lets the internal load balancer in: give them a group of their
/// own that admits it on the target port. Returns the group's ID.
fn internal_lb_ingress(t: &mut Template) -> Value {
    t.resource(
        "ServiceSecurityGroup",
        Resource::new("AWS::EC2::SecurityGroup")
            .prop("GroupDescription", cfn::sub("Tasks of ${AppName}-${EnvName}-${WorkloadName}"))
            .prop("VpcId", cfn::env_import("VpcId"))
            .describe("A security group for the tasks, admitting the internal load balancer"),
    );
    t.resource(
        "ServiceSecurityGroupIngressFromInternalALB",
        Resource::new("AWS::EC2::SecurityGroupIngress")
            .prop("GroupId", cfn::get_att("ServiceSecurityGroup", "GroupId"))
            .prop("SourceSecurityGroupId", cfn::env_import("InternalLoadBalancerSecurityGroup"))
            .prop("IpProtocol", "tcp")
            .prop("FromPort", cfn::ref_("TargetPort"))
            .prop("ToPort", cfn::ref_("TargetPort"))
            .prop("Description", "Ingress from the internal load balancer")
            .describe("A rule letting the internal load balancer reach the tasks"),
    );
    cfn::get_att("ServiceSecurityGroup", "GroupId")
}
