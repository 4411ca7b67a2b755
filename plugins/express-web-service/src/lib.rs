//! The bundled "Express Web Service" plugin: an internet-facing (or
//! VPC-internal) HTTPS service on ECS Express Mode — the successor AWS
//! points App Runner users to. One `AWS::ECS::ExpressGatewayService` gets
//! the container an HTTPS endpoint on a load balancer ECS shares between
//! Express services, autoscaling and logs; the template adds the three IAM
//! roles it needs (task execution, task, infrastructure), the log group,
//! and SNS topics (`publish`).
//!
//! The service runs in the environment's cluster and subnets: public
//! subnets give an internet-facing endpoint, `network.vpc.placement:
//! private` an internal one. The IAM roles, log group and parameters come
//! from [`ferry_plugin_sdk::workload`], as for the ECS workload types.

pub mod manifest;

use ferry_plugin_sdk::cfn::{self, Parameter, Resource, Template};
use ferry_plugin_sdk::diag::pointer;
use ferry_plugin_sdk::workload::render::{env_var_name, ids, secret_value_from};
use ferry_plugin_sdk::workload::{
    self, AdvancedCount, Count, Placement, SubnetSelection, TaskRender, TaskSpec, Variable, publish,
};
use ferry_plugin_sdk::{Diagnostic, Plugin, PluginInfo, RenderContext, RenderError, Rendered, Value, json};
use indexmap::IndexMap;
use manifest::Manifest;

/// The manifest `type:` this plugin renders.
pub const MANIFEST_TYPE: &str = "Express Web Service";

/// Commented manifest written by `svc init`.
pub const MANIFEST_TEMPLATE: &str = include_str!("template.yml");

/// Defaults where the manifest says nothing.
pub mod defaults {
    /// ECS Express Mode's default container port.
    pub const PORT: u32 = 80;
    /// ECS Express Mode's default health check path.
    pub const HEALTH_PATH: &str = "/ping";
    /// ECS Express Mode's default target value of a scaling metric.
    pub const TARGET_VALUE: u32 = 60;
}

/// Logical IDs of the template.
pub mod logical_ids {
    /// Not `Service`: that is the App Runner service of a Request-Driven
    /// Web Service, and `svc migrate --deploy` runs both in one stack until
    /// the Express one is healthy (CloudFormation cannot change the type of
    /// a logical ID).
    pub const SERVICE: &str = "ExpressService";
    /// The role ECS uses to create and manage the load balancer, target
    /// groups, security groups and scaling of the service.
    pub const INFRASTRUCTURE_ROLE: &str = "InfrastructureRole";
}
use logical_ids as lid;

/// The AWS managed policy of an Express service's infrastructure role.
pub const INFRASTRUCTURE_POLICY: &str = "AmazonECSInfrastructureRoleforExpressGatewayServices";

/// Top-level fields of Copilot's ECS workloads that the Express resource
/// has no property for, with why: unknown fields here, with this hint.
pub const UNSUPPORTED_FIELDS: &[(&str, &str)] = &[
    ("exec", "ECS Express Mode does not enable ECS Exec"),
    ("sidecars", "an Express service runs one container"),
    ("storage", "an Express service has no volumes"),
    ("logging", "ECS Express Mode sends the container's output to the service's log group itself"),
    ("entrypoint", "the resource takes a command only: the image's entrypoint runs"),
    ("deployment", "ECS Express Mode deploys new revisions itself"),
    ("env_file", "the resource takes variables and secrets only"),
    ("taskdef_overrides", "ECS manages the task definition"),
    ("platform", "Express services run linux/x86_64 on Fargate"),
    ("observability", "an Express service runs no tracing sidecar"),
];

pub struct ExpressWebService;

impl Plugin for ExpressWebService {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "express-web-service".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Express Web Service: an HTTPS service on ECS Express Mode (the successor of App Runner)"
                .into(),
            manifest_types: vec![MANIFEST_TYPE.into()],
            manifest_schema: ferry_plugin_sdk::manifest::schema_from_json(include_str!("../schema.json")),
            manifest_template: MANIFEST_TEMPLATE.into(),
        }
    }

    fn validate(manifest: &Value) -> Vec<Diagnostic> {
        match parse(manifest) {
            Ok(m) => check(&m),
            Err(diagnostics) => diagnostics,
        }
    }

    fn render(manifest: &Value, context: &RenderContext) -> Result<Rendered, RenderError> {
        let m = parse(manifest).map_err(RenderError::Invalid)?;
        let diagnostics = check(&m);
        if diagnostics.iter().any(|d| d.severity == ferry_plugin_sdk::Severity::Error) {
            return Err(RenderError::Invalid(diagnostics));
        }
        Ok(render(&m, context))
    }
}

#[cfg(target_arch = "wasm32")]
ferry_plugin_sdk::export_plugin!(ExpressWebService, service);

/// [`ferry_plugin_sdk::parse_manifest`], with the hint for ECS fields the
/// resource cannot take replaced by why.
pub fn parse(manifest: &Value) -> Result<Manifest, Vec<Diagnostic>> {
    ferry_plugin_sdk::parse_manifest::<Manifest>(manifest).map_err(|diagnostics| {
        diagnostics
            .into_iter()
            .map(|mut d| {
                if let Some((field, why)) = UNSUPPORTED_FIELDS.iter().find(|(f, _)| d.path == format!("/{f}")) {
                    d.hint = Some(format!("remove `{field}`: {why}"));
                }
                d
            })
            .collect()
    })
}

/// Every problem with the manifest. Nothing depends on the environment.
pub fn check(m: &Manifest) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    out.extend(workload::check_type(&m.kind, MANIFEST_TYPE));
    let spec = m.task_spec();
    // The shared checks: image source, cpu/memory pairs Fargate allows,
    // count ranges and targets, variables and secrets.
    out.extend(workload::check_task(&spec, true));
    check_image(m, &mut out);
    check_count(m, &mut out);
    if let Some((path, at)) = m.health_path() {
        check_health_path(path, at, &mut out);
    }
    if let Some(alias) = m.http.as_ref().and_then(|h| h.alias.as_ref()) {
        out.push(
            Diagnostic::error("/http/alias", format!("an Express service cannot be given the custom domain `{alias}`"))
                .with_hint("remove `alias`: AWS::ECS::ExpressGatewayService has no custom-domain property, and ECS serves the service on its own domain with its own certificate (the `Endpoint` that `svc show` prints)"),
        );
    }
    if let Some(network) = &m.network {
        if network.connect.is_some() {
            out.push(
                Diagnostic::error("/network/connect", "an Express service cannot join Service Connect")
                    .with_hint("remove `connect`; other services reach it through its endpoint"),
            );
        }
        if let Some(Placement::Subnets(p)) = network.vpc.as_ref().and_then(|v| v.placement.as_ref())
            && let SubnetSelection::FromTags(_) = &p.subnets
        {
            out.push(
                Diagnostic::error(
                    "/network/vpc/placement/subnets/from_tags",
                    "an Express service is rendered with subnet IDs, and `from_tags` needs a lookup this type does not make",
                )
                .with_hint("list the subnet IDs: `placement: {subnets: [subnet-0123..., subnet-0456...]}`"),
            );
        }
    }
    ferry_plugin_sdk::workload::validate::check_reserved_tags(m.tags.keys(), &mut out);
    if let Some(p) = &m.publish {
        publish::check_publish(p, &mut out);
    }
    out
}

fn check_image(m: &Manifest, out: &mut Vec<Diagnostic>) {
    let image = &m.image;
    for (field, set) in [
        ("depends_on", !image.depends_on.is_empty()),
        ("healthcheck", image.healthcheck.is_some()),
        ("labels", !image.labels.is_empty()),
    ] {
        if set {
            out.push(
                Diagnostic::error(pointer(["image", field]), format!("an Express service's container has no `{field}`"))
                    .with_hint(format!(
                        "remove `image.{field}`: the resource's container takes an image, a port, a command, variables, secrets and registry credentials only"
                    )),
            );
        }
    }
}

/// The scaling settings the resource has: a task range and one target
/// (CPU, memory or requests per task), as whole numbers.
fn check_count(m: &Manifest, out: &mut Vec<Diagnostic>) {
    let Some(Count::Advanced(count)) = &m.count else { return };
    let no_equivalent = |field: &str, why: &str| {
        Diagnostic::error(pointer(["count", field]), format!("an Express service has no `count.{field}`"))
            .with_hint(format!("remove `{field}`: {why}"))
    };
    if count.spot.is_some() {
        out.push(no_equivalent("spot", "ECS Express Mode runs tasks on Fargate, not Fargate Spot"));
    }
    if count.range.as_ref().and_then(workload::Range::spot_from).is_some() {
        out.push(
            Diagnostic::error("/count/range/spot_from", "an Express service has no `count.range.spot_from`")
                .with_hint("remove `spot_from`: ECS Express Mode runs tasks on Fargate, not Fargate Spot"),
        );
    }
    if count.cooldown.is_some() {
        out.push(no_equivalent("cooldown", "ECS Express Mode sets the scaling cooldowns itself"));
    }
    if count.response_time.is_some() {
        out.push(no_equivalent(
            "response_time",
            "ECS Express Mode scales on CPU, memory or requests per task; use `requests`",
        ));
    }
    let targets: Vec<&str> = targets_of(count).into_iter().map(|(field, _, _)| field).collect();
    if targets.len() > 1 {
        out.push(
            Diagnostic::error(
                pointer(["count", targets[1]]),
                format!("an Express service scales on one metric, and `count` names {}", targets.join(", ")),
            )
            .with_hint("keep one of `cpu_percentage`, `memory_percentage`, `requests`"),
        );
    }
    for (field, target, _) in targets_of(count) {
        let (value, cooldown) = target.parts();
        if cooldown.is_some() {
            out.push(
                Diagnostic::error(pointer(["count", field, "cooldown"]), "an Express service has no scaling cooldowns")
                    .with_hint(format!("write `{field}: <value>`: ECS Express Mode sets the cooldowns itself")),
            );
        }
        if value.as_f64().is_some_and(|v| v.fract() != 0.0) {
            out.push(
                Diagnostic::error(pointer(["count", field]), format!("the {field} target must be a whole number"))
                    .with_hint("the resource's `AutoScalingTargetValue` is an integer"),
            );
        }
    }
}

fn targets_of(count: &AdvancedCount) -> Vec<(&'static str, &workload::ScalingTarget, &'static str)> {
    [
        ("cpu_percentage", count.cpu_percentage.as_ref(), "AVERAGE_CPU"),
        ("memory_percentage", count.memory_percentage.as_ref(), "AVERAGE_MEMORY"),
        ("requests", count.requests.as_ref(), "REQUEST_COUNT_PER_TARGET"),
    ]
    .into_iter()
    .filter_map(|(field, target, metric)| target.map(|t| (field, t, metric)))
    .collect()
}

/// A path the load balancer can request: absolute, no spaces, no query.
fn check_health_path(path: &str, at: &str, out: &mut Vec<Diagnostic>) {
    let problem = if !path.starts_with('/') {
        Some(format!("health check path `{path}` must start with `/`"))
    } else if path.len() > 1024 {
        Some("health check path is longer than 1024 characters".to_string())
    } else if path.contains(|c: char| c.is_whitespace() || c.is_control() || c == '?' || c == '#') {
        Some(format!("health check path `{path}` has a space, a query or a fragment"))
    } else {
        None
    };
    if let Some(message) = problem {
        let fixed = format!("/{}", path.trim().trim_start_matches('/').split(['?', '#', ' ']).next().unwrap_or(""));
        out.push(Diagnostic::error(at, message).with_hint(format!("use a path such as `{fixed}`")));
    }
}

/// The scaling target of the resource: `count: N` pins the task count,
/// `count: {range, <metric>}` scales within the range on that metric.
fn scaling_target(m: &Manifest) -> Value {
    let spec = m.task_spec();
    match &m.count {
        None | Some(Count::Fixed(_)) => {
            let n = spec.desired_count();
            json!({"MinTaskCount": n, "MaxTaskCount": n})
        }
        Some(Count::Advanced(count)) => {
            let (min, max) = count.range.as_ref().map(workload::Range::bounds).unwrap_or((1, 1));
            let mut target = json!({"MinTaskCount": min, "MaxTaskCount": max});
            if let Some((_, t, metric)) = targets_of(count).into_iter().next() {
                target["AutoScalingMetric"] = json!(metric);
                let value = t.parts().0.as_f64().map(|v| v as u64).unwrap_or(u64::from(defaults::TARGET_VALUE));
                target["AutoScalingTargetValue"] = json!(value);
            }
            target
        }
    }
}

fn render(m: &Manifest, ctx: &RenderContext) -> Rendered {
    let spec: TaskSpec = m.task_spec();
    let mut t = Template::new();
    t.description = Some(format!("CloudFormation template for the {MANIFEST_TYPE} `{}`, rendered by ferry.", m.name));
    let mut values = IndexMap::new();
    let task = TaskRender { spec: &spec, context: ctx, extra_environment: Vec::new() };
    task.parameters(&mut t, &mut values);
    // The resource scales itself: no TaskCount; the port always has a value.
    t.parameters.shift_remove("TaskCount");
    values.shift_remove("TaskCount");
    if !values.contains_key("ContainerPort") {
        t.parameter("ContainerPort", Parameter::number().description("Port the main container listens on"));
        values.insert("ContainerPort".into(), json!(defaults::PORT.to_string()));
    }

    task.log_group(&mut t);
    task.execution_role(&mut t);
    task.task_role_with_policies(&mut t, m.publish.as_ref().and_then(publish::publish_policy).into_iter().collect());
    t.resource(
        lid::INFRASTRUCTURE_ROLE,
        Resource::new("AWS::IAM::Role")
            .prop("AssumeRolePolicyDocument", cfn::assume_role_policy("ecs.amazonaws.com"))
            .prop(
                "ManagedPolicyArns",
                json!([cfn::sub(&format!(
                    "arn:${{AWS::Partition}}:iam::aws:policy/service-role/{INFRASTRUCTURE_POLICY}"
                ))]),
            )
            .describe("An IAM role ECS uses to manage the load balancer, security groups and scaling of the service"),
    );
    if let Some(p) = &m.publish {
        publish::render_publish(p, &mut t);
    }
    service(m, &task, ctx, &mut t);
    t.output("ServiceURL", cfn::sub(&format!("https://${{{}.Endpoint}}", lid::SERVICE)), None);
    t.output("ServiceArn", cfn::get_att(lid::SERVICE, "ServiceArn"), None);
    Rendered { template: t, parameters: values }
}

fn addons_output(name: &str) -> Value {
    cfn::get_att(ids::ADDONS_STACK, &format!("Outputs.{name}"))
}

fn service(m: &Manifest, task: &TaskRender, ctx: &RenderContext, t: &mut Template) {
    let mut environment = vec![
        json!({"Name": "COPILOT_APPLICATION_NAME", "Value": cfn::ref_("AppName")}),
        json!({"Name": "COPILOT_ENVIRONMENT_NAME", "Value": cfn::ref_("EnvName")}),
        json!({"Name": "COPILOT_SERVICE_NAME", "Value": cfn::ref_("WorkloadName")}),
    ];
    for (name, var) in &m.variables {
        let value = match var {
            Variable::Value(v) => json!(v),
            Variable::FromCfn(f) => cfn::import_value(json!(&f.from_cfn)),
        };
        environment.push(json!({"Name": name, "Value": value}));
    }
    if let Some((name, value)) = m.publish.as_ref().and_then(publish::topic_arns_variable) {
        environment.push(json!({"Name": name, "Value": value}));
    }
    let mut secrets: Vec<Value> =
        m.secrets.iter().map(|(name, s)| json!({"Name": name, "ValueFrom": secret_value_from(s)})).collect();
    if let Some(addons) = &ctx.addons {
        for v in &addons.variables {
            environment.push(json!({"Name": env_var_name(v), "Value": addons_output(v)}));
        }
        for s in &addons.secrets {
            secrets.push(json!({"Name": env_var_name(s), "ValueFrom": addons_output(s)}));
        }
    }

    let mut container = json!({
        "Image": cfn::ref_("ContainerImage"),
        "ContainerPort": cfn::ref_("ContainerPort"),
    });
    if let Some(command) = m.command.as_ref().and_then(|c| c.to_args().ok()) {
        container["Command"] = json!(command);
    }
    container["Environment"] = json!(environment);
    if !secrets.is_empty() {
        container["Secrets"] = json!(secrets);
    }
    container["AwsLogsConfiguration"] = json!({"LogGroup": cfn::ref_(ids::LOG_GROUP), "LogStreamPrefix": "copilot"});
    if let Some(creds) = &m.image.credentials {
        container["RepositoryCredentials"] = json!({"CredentialsParameter": creds});
    }

    let subnets = match m.network.as_ref().and_then(|n| n.vpc.as_ref()).and_then(|v| v.placement.as_ref()) {
        Some(Placement::Subnets(p)) => match &p.subnets {
            SubnetSelection::Ids(ids) => json!(ids),
            SubnetSelection::FromTags(_) => json!([]),
        },
        _ => cfn::split(",", cfn::env_import(task.subnets_export())),
    };
    let mut resource = Resource::new("AWS::ECS::ExpressGatewayService")
        .prop("ServiceName", cfn::sub("${AppName}-${EnvName}-${WorkloadName}"))
        .prop("Cluster", cfn::env_import("ClusterId"))
        .prop("Cpu", cfn::ref_("TaskCPU"))
        .prop("Memory", cfn::ref_("TaskMemory"))
        .prop("ExecutionRoleArn", cfn::get_att(ids::EXECUTION_ROLE, "Arn"))
        .prop("TaskRoleArn", cfn::get_att(ids::TASK_ROLE, "Arn"))
        .prop("InfrastructureRoleArn", cfn::get_att(lid::INFRASTRUCTURE_ROLE, "Arn"))
        .prop("PrimaryContainer", container)
        .prop("NetworkConfiguration", json!({"Subnets": subnets, "SecurityGroups": task.security_groups()}))
        .prop("ScalingTarget", scaling_target(m))
        .prop("HealthCheckPath", m.health_path().map(|(p, _)| p).unwrap_or(defaults::HEALTH_PATH));
    if !m.tags.is_empty() {
        resource = resource.prop("Tags", m.tags.iter().map(|(k, v)| cfn::tag(k, v.as_str())).collect::<Vec<_>>());
    }
    t.resource(lid::SERVICE, resource.describe("The ECS Express Mode service: container, endpoint, scaling and logs"));
}
