//! The bundled "Request-Driven Web Service" plugin: an internet-facing
//! service on AWS App Runner. App Runner runs the image, scales instances
//! with requests and terminates TLS itself, so there is no task definition,
//! no load balancer and no ECS service: the template is an
//! `AWS::AppRunner::Service` with its IAM roles, plus a VPC connector
//! (`network.vpc.placement`), a VPC ingress connection (`http.private`),
//! X-Ray tracing (`observability.tracing: awsxray`) and SNS topics
//! (`publish`, from [`ferry_plugin_sdk::workload::publish`]).
//!
//! `http.alias` has no CloudFormation resource (App Runner custom domains
//! are an API only): the template carries the request in its metadata
//! ([`CUSTOM_DOMAIN_METADATA_KEY`]) and the host associates the domain and
//! writes its records after the stack deploys.

pub mod manifest;

use ferry_plugin_sdk::cfn::{self, Parameter, Resource, Template};
use ferry_plugin_sdk::diag::pointer;
use ferry_plugin_sdk::dns;
use ferry_plugin_sdk::workload::publish;
use ferry_plugin_sdk::workload::render::{env_var_name, ids, secret_value_from};
use ferry_plugin_sdk::workload::{Secret, SubnetSelection, Variable};
use ferry_plugin_sdk::{Diagnostic, Plugin, PluginInfo, RenderContext, RenderError, Rendered, Severity, Value, json};
use indexmap::IndexMap;
use manifest::{HealthCheckArgs, Manifest};

/// The manifest `type:` this plugin renders.
pub const MANIFEST_TYPE: &str = "Request-Driven Web Service";

/// Commented manifest written by `svc init`.
pub const MANIFEST_TEMPLATE: &str = include_str!("template.yml");

/// Copilot's defaults for App Runner instances.
pub mod defaults {
    pub const CPU: u32 = 1024;
    pub const MEMORY: u32 = 2048;
    pub const PORT: u32 = 80;
    pub const HEALTH_PATH: &str = "/";
    pub const HEALTHY_THRESHOLD: u32 = 3;
    pub const UNHEALTHY_THRESHOLD: u32 = 3;
    pub const INTERVAL: u64 = 5;
    pub const TIMEOUT: u64 = 2;
}

/// Logical IDs of the template.
pub mod logical_ids {
    pub const SERVICE: &str = "Service";
    pub const INSTANCE_ROLE: &str = "InstanceRole";
    pub const ACCESS_ROLE: &str = "AccessRole";
    pub const VPC_CONNECTOR: &str = "VpcConnector";
    pub const SERVICE_SECURITY_GROUP: &str = "ServiceSecurityGroup";
    pub const ENV_SG_INGRESS: &str = "EnvironmentSecurityGroupIngressFromServiceSecurityGroup";
    pub const VPC_INGRESS_CONNECTION: &str = "AppRunnerVpcIngressConnection";
    /// ferry's own: the interface endpoint a private service is reached
    /// through, when `http.private.endpoint` names none (Copilot adds it to
    /// the environment stack through its env-controller Lambda).
    /// Condition: the image comes from a private ECR repository.
    pub const IS_ECR: &str = "NeedsAccessRole";
}

/// Metadata key of the custom-domain request the host carries out
/// (`{alias, hosted_zone, service_arn_output}`).
pub const CUSTOM_DOMAIN_METADATA_KEY: &str = "ferry:app-runner-custom-domain";
use logical_ids as lid;

/// App Runner's CPU units and the memory (MiB) each allows.
pub const INSTANCE_SIZES: &[(u32, &[u32])] = &[
    (256, &[512, 1024]),
    (512, &[1024]),
    (1024, &[2048, 3072, 4096]),
    (2048, &[4096, 6144]),
    (4096, &[8192, 10240, 12288]),
];

pub struct RequestDrivenWebService;

impl Plugin for RequestDrivenWebService {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "request-driven-web-service".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Request-Driven Web Service: an internet-facing service on AWS App Runner".into(),
            manifest_types: vec![MANIFEST_TYPE.into()],
            manifest_schema: ferry_plugin_sdk::manifest::schema_from_json(include_str!("../schema.json")),
            manifest_template: MANIFEST_TEMPLATE.into(),
        }
    }

    fn validate(manifest: &Value) -> Vec<Diagnostic> {
        match parse(manifest) {
            Ok(m) => check(&m, None),
            Err(diagnostics) => diagnostics,
        }
    }

    fn render(manifest: &Value, context: &RenderContext) -> Result<Rendered, RenderError> {
        let m = parse(manifest).map_err(RenderError::Invalid)?;
        let diagnostics = check(&m, Some(context));
        if diagnostics.iter().any(|d| d.severity == Severity::Error) {
            return Err(RenderError::Invalid(diagnostics));
        }
        Ok(render(&m, context))
    }
}

#[cfg(target_arch = "wasm32")]
ferry_plugin_sdk::export_plugin!(RequestDrivenWebService, service);

/// Top-level fields of ECS workloads that App Runner has no equivalent of,
/// with why: they are unknown fields here, with a better hint than a
/// did-you-mean.
pub const ECS_ONLY_FIELDS: &[(&str, &str)] = &[
    ("exec", "App Runner instances cannot be exec'd into"),
    ("sidecars", "App Runner runs a single container"),
    ("storage", "App Runner instances have no volumes"),
    ("logging", "App Runner sends the container's output to CloudWatch Logs itself"),
    ("entrypoint", "App Runner runs the image's entrypoint"),
    ("deployment", "App Runner deploys new versions itself"),
    ("env_file", "App Runner takes variables and secrets only"),
    ("taskdef_overrides", "there is no task definition"),
];

/// [`ferry_plugin_sdk::parse_manifest`], with the hint for ECS-only fields
/// replaced by why they do not exist for App Runner.
pub fn parse(manifest: &Value) -> Result<Manifest, Vec<Diagnostic>> {
    ferry_plugin_sdk::parse_manifest::<Manifest>(manifest).map_err(|diagnostics| {
        diagnostics
            .into_iter()
            .map(|mut d| {
                if let Some((field, why)) = ECS_ONLY_FIELDS.iter().find(|(f, _)| d.path == format!("/{f}")) {
                    d.hint = Some(format!("remove `{field}`: {why}"));
                }
                d
            })
            .collect()
    })
}

/// `public.ecr.aws/...` images are ECR Public; everything else App Runner
/// can run is a private ECR repository.
pub fn repository_type(uri: &str) -> &'static str {
    if uri.starts_with("public.ecr.aws/") { "ECR_PUBLIC" } else { "ECR" }
}

fn is_private_ecr(uri: &str) -> bool {
    let host = uri.split('/').next().unwrap_or_default();
    host.contains(".dkr.ecr.") && (host.ends_with(".amazonaws.com") || host.ends_with(".amazonaws.com.cn"))
}

/// Every problem with the manifest.
pub fn check(m: &Manifest, context: Option<&RenderContext>) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    if m.kind != MANIFEST_TYPE {
        out.push(
            Diagnostic::error("/type", format!("this plugin renders `{MANIFEST_TYPE}`, not `{}`", m.kind))
                .with_hint(format!("set `type: {MANIFEST_TYPE}`")),
        );
    }
    check_image(m, &mut out);
    check_instance(m, &mut out);
    if let Some(http) = &m.http {
        if let Some(alias) = &http.alias {
            check_alias(alias, context, &mut out);
        }
        if let Some(Some(endpoint)) = m.private_ingress()
            && !endpoint.starts_with("vpce-")
        {
            out.push(
                Diagnostic::error("/http/private/endpoint", format!("`{endpoint}` is not a VPC endpoint ID"))
                    .with_hint("use the ID of an interface endpoint for App Runner requests, such as `vpce-0123456789abcdef0`, or `private: true` to have ferry create one"),
            );
        }
        if let Some(hc) = &http.healthcheck {
            check_health(&hc.args(), &mut out);
        }
    }
    if let Some(subnets) = m.placement_subnets() {
        check_subnets(subnets, &mut out);
    }
    if let Some(count) = &m.count {
        let arn_ok =
            !count.starts_with("arn:") || count.contains(":apprunner:") && count.contains(":autoscalingconfiguration/");
        if count.trim().is_empty() || !arn_ok {
            out.push(
                Diagnostic::error("/count", format!("`{count}` does not name an App Runner auto scaling configuration"))
                    .with_hint("set `count` to the name of an auto scaling configuration (`aws apprunner list-auto-scaling-configurations`); App Runner scales instances within it"),
            );
        }
    }
    if let Some(command) = m.start_command()
        && command.trim().is_empty()
    {
        out.push(
            Diagnostic::error("/command", "`command` is empty")
                .with_hint("remove `command` to run the image's own command, or set the one to run"),
        );
    }
    if let Some(tracing) = m.tracing()
        && tracing != "awsxray"
    {
        out.push(
            Diagnostic::error("/observability/tracing", format!("unknown tracing vendor `{tracing}`"))
                .with_hint("App Runner traces with `awsxray`"),
        );
    }
    for (name, secret) in &m.secrets {
        if let Secret::Parameter(p) = secret
            && p.is_empty()
        {
            out.push(Diagnostic::error(pointer(["secrets", name.as_str()]), "empty SSM parameter name"));
        }
    }
    ferry_plugin_sdk::workload::validate::check_reserved_tags(m.tags.keys(), &mut out);
    if let Some(p) = &m.publish {
        publish::check_publish(p, &mut out);
    }
    out
}

/// `placement: {subnets: [subnet-...]}`: App Runner's VPC connector takes IDs.
fn check_subnets(subnets: &SubnetSelection, out: &mut Vec<Diagnostic>) {
    match subnets {
        SubnetSelection::Ids(ids) if !ids.is_empty() && ids.iter().all(|id| !id.trim().is_empty()) => {}
        SubnetSelection::FromTags(_) => out.push(
            Diagnostic::error(
                "/network/vpc/placement/subnets/from_tags",
                "App Runner's VPC connector is rendered with subnet IDs, and `from_tags` needs a lookup this service type does not make",
            )
            .with_hint("list the subnet IDs: `placement: {subnets: [subnet-0123..., subnet-0456...]}`"),
        ),
        SubnetSelection::Ids(_) => out.push(
            Diagnostic::error("/network/vpc/placement/subnets", "`placement.subnets` must be a non-empty list of subnet IDs")
                .with_hint("`placement: {subnets: [subnet-0123456789abcdef0]}`, or `placement: private`"),
        ),
    }
}

/// Copilot's rule: an App Runner alias lives in the application's domain,
/// which must exist.
fn check_alias(alias: &str, context: Option<&RenderContext>, out: &mut Vec<Diagnostic>) {
    if !dns::is_domain_name(alias) {
        out.push(
            Diagnostic::error("/http/alias", format!("`{alias}` is not a domain name"))
                .with_hint("use a name such as `api.example.com`"),
        );
        return;
    }
    let Some(ctx) = context else { return };
    let Some(domain) = &ctx.app_domain else {
        out.push(
            Diagnostic::error("/http/alias", format!("application `{}` has no domain for the alias", ctx.app))
                .with_hint("run `ferry app init --domain <domain>` so ferry can validate and route the alias"),
        );
        return;
    };
    if !dns::is_within(alias, domain) {
        out.push(
            Diagnostic::error(
                "/http/alias",
                format!("alias `{alias}` is not under the application's domain `{domain}`"),
            )
            .with_hint(format!("use `{domain}` or a subdomain such as `{}.{domain}`", ctx.name)),
        );
    }
}

/// The hosted zone (by name, with the trailing dot) the alias records go
/// in: the most specific of the environment's, the application's and the
/// domain's zones.
pub fn alias_zone(alias: &str, ctx: &RenderContext) -> Option<String> {
    let domain = ctx.app_domain.as_ref()?;
    let env_zone = format!("{}.{}.{domain}", ctx.env, ctx.app);
    let app_zone = format!("{}.{domain}", ctx.app);
    let zone = if ctx.environment.dns_delegated && dns::is_within(alias, &env_zone) {
        env_zone
    } else if dns::is_within(alias, &app_zone) {
        app_zone
    } else {
        domain.clone()
    };
    Some(format!("{zone}."))
}

fn check_image(m: &Manifest, out: &mut Vec<Diagnostic>) {
    let image = &m.image;
    match (&image.build, &image.location) {
        (Some(_), Some(_)) => out
            .push(Diagnostic::error("/image", "`build` and `location` are mutually exclusive").with_hint(
                "keep `build` to have ferry build and push the image, or `location` to run an existing one",
            )),
        (None, None) => out.push(
            Diagnostic::error("/image", "missing `build` or `location`")
                .with_hint("add `build: Dockerfile`, or `location: <ECR or ECR Public image URI>`"),
        ),
        (None, Some(location)) if !location.starts_with("public.ecr.aws/") && !is_private_ecr(location) => out.push(
            Diagnostic::error(
                "/image/location",
                format!("App Runner runs images from Amazon ECR or ECR Public only, not `{location}`"),
            )
            .with_hint("push the image to ECR, use a `public.ecr.aws/...` image, or use `build`"),
        ),
        _ => {}
    }
    if let Some(port) = image.port
        && !(1..=65535).contains(&port)
    {
        out.push(Diagnostic::error("/image/port", format!("port {port} is out of range 1-65535")));
    }
}

fn check_instance(m: &Manifest, out: &mut Vec<Diagnostic>) {
    let cpu = m.cpu.unwrap_or(defaults::CPU);
    let memory = m.memory.unwrap_or(defaults::MEMORY);
    match INSTANCE_SIZES.iter().find(|(c, _)| *c == cpu) {
        None => {
            let allowed: Vec<String> = INSTANCE_SIZES.iter().map(|(c, _)| c.to_string()).collect();
            out.push(
                Diagnostic::error("/cpu", format!("App Runner has no instances with {cpu} CPU units"))
                    .with_hint(format!("use one of: {}", allowed.join(", "))),
            );
        }
        Some((_, memories)) if !memories.contains(&memory) => {
            let allowed: Vec<String> = memories.iter().map(u32::to_string).collect();
            let path = if m.memory.is_some() { "/memory" } else { "/cpu" };
            out.push(
                Diagnostic::error(path, format!("App Runner instances with {cpu} CPU units cannot have {memory} MiB"))
                    .with_hint(format!("with cpu {cpu}, memory is one of: {}", allowed.join(", "))),
            );
        }
        _ => {}
    }
    if let Some(platform) = &m.platform {
        match platform.resolve() {
            Ok(p) if !p.is_windows() && !p.is_arm() => {}
            Ok(_) => out.push(
                Diagnostic::error("/platform", "App Runner runs linux/x86_64 images only")
                    .with_hint("remove `platform`, or set `platform: linux/x86_64` (and build an x86_64 image)"),
            ),
            Err((message, hint)) => out.push(Diagnostic::error("/platform", message).with_hint(hint)),
        }
    }
}

fn check_health(a: &HealthCheckArgs, out: &mut Vec<Diagnostic>) {
    if let Some(path) = &a.path
        && !path.starts_with('/')
    {
        out.push(
            Diagnostic::error("/http/healthcheck/path", format!("health check path `{path}` must start with `/`"))
                .with_hint(format!("use `/{path}`")),
        );
    }
    for (field, value) in [("healthy_threshold", a.healthy_threshold), ("unhealthy_threshold", a.unhealthy_threshold)] {
        if let Some(v) = value
            && !(1..=20).contains(&v)
        {
            out.push(Diagnostic::error(
                pointer(["http", "healthcheck", field]),
                format!("{field} {v} is out of range 1-20"),
            ));
        }
    }
    for (field, value) in [("interval", a.interval), ("timeout", a.timeout)] {
        if let Some(d) = value
            && (!d.is_whole_seconds() || !(1..=20).contains(&d.secs()))
        {
            out.push(
                Diagnostic::error(pointer(["http", "healthcheck", field]), format!("{field} must be 1s to 20s"))
                    .with_hint("App Runner counts health check times in whole seconds"),
            );
        }
    }
}

fn addons_output(name: &str) -> Value {
    cfn::get_att(ids::ADDONS_STACK, &format!("Outputs.{name}"))
}

/// App Runner takes secrets as ARNs: SSM parameter names become ARNs.
fn secret_arn(secret: &Secret) -> Value {
    match secret {
        Secret::Parameter(p) if p.starts_with("arn:") => json!(p),
        Secret::Parameter(p) => cfn::join(
            "",
            json!([
                cfn::sub("arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/"),
                p.trim_start_matches('/')
            ]),
        ),
        other => secret_value_from(other),
    }
}

fn render(m: &Manifest, ctx: &RenderContext) -> Rendered {
    let mut t = Template::new();
    t.description = Some(format!("CloudFormation template for the {MANIFEST_TYPE} `{}`, rendered by ferry.", m.name));
    let mut values = IndexMap::new();
    parameters(m, ctx, &mut t, &mut values);
    t.condition(lid::IS_ECR, cfn::equals(cfn::ref_("ImageRepositoryType"), json!("ECR")));

    t.resource(
        lid::ACCESS_ROLE,
        Resource::new("AWS::IAM::Role")
            .condition(lid::IS_ECR)
            .prop("AssumeRolePolicyDocument", cfn::assume_role_policy("build.apprunner.amazonaws.com"))
            .prop(
                "ManagedPolicyArns",
                json!([cfn::sub(
                    "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSAppRunnerServicePolicyForECRAccess"
                )]),
            )
            .describe("An IAM role App Runner uses to pull the image from ECR"),
    );
    instance_role(m, ctx, &mut t);
    if m.needs_vpc_connector() {
        vpc_connector(m, ctx, &mut t);
    }
    if let Some(p) = &m.publish {
        publish::render_publish(p, &mut t);
    }
    service(m, ctx, &mut t);
    if let Some(endpoint) = m.private_ingress() {
        vpc_ingress(m, endpoint, &mut t);
    }
    if let Some(alias) = m.alias() {
        t.metadata.insert(
            CUSTOM_DOMAIN_METADATA_KEY.into(),
            json!({"alias": alias, "hosted_zone": alias_zone(alias, ctx), "service_arn_output": "ServiceArn"}),
        );
        t.output("CustomDomain", json!(format!("https://{alias}")), None);
    }
    t.output("ServiceURL", cfn::sub(&format!("https://${{{}.ServiceUrl}}", lid::SERVICE)), None);
    t.output("ServiceArn", cfn::get_att(lid::SERVICE, "ServiceArn"), None);
    Rendered { template: t, parameters: values }
}

fn parameters(m: &Manifest, ctx: &RenderContext, t: &mut Template, values: &mut IndexMap<String, Value>) {
    let image = ctx.image.as_ref().map(|i| i.uri.clone()).or_else(|| m.image.location.clone()).unwrap_or_default();
    t.parameter(
        "ContainerImage",
        Parameter::string().description("Image App Runner runs; empty until the host has built and pushed it"),
    );
    t.parameter(
        "ImageRepositoryType",
        Parameter::string()
            .allowed(&["ECR", "ECR_PUBLIC"])
            .description("Where the image is: a private ECR repository or ECR Public"),
    );
    t.parameter("ContainerPort", Parameter::string().description("Port the container listens on"));
    t.parameter("InstanceCPU", Parameter::string().description("CPU units of each App Runner instance"));
    t.parameter("InstanceMemory", Parameter::string().description("Memory (MiB) of each App Runner instance"));
    values.insert("ImageRepositoryType".into(), json!(repository_type(&image)));
    values.insert("ContainerImage".into(), json!(image));
    values.insert("ContainerPort".into(), json!(m.image.port.unwrap_or(defaults::PORT).to_string()));
    values.insert("InstanceCPU".into(), json!(m.cpu.unwrap_or(defaults::CPU).to_string()));
    values.insert("InstanceMemory".into(), json!(m.memory.unwrap_or(defaults::MEMORY).to_string()));
    // Keep values in declaration order.
    let order = ["ContainerImage", "ImageRepositoryType", "ContainerPort", "InstanceCPU", "InstanceMemory"];
    values.sort_by_key(|k, _| order.iter().position(|o| o == k).unwrap_or(usize::MAX));
}

fn instance_role(m: &Manifest, ctx: &RenderContext, t: &mut Template) {
    let mut role = Resource::new("AWS::IAM::Role")
        .prop("AssumeRolePolicyDocument", cfn::assume_role_policy("tasks.apprunner.amazonaws.com"))
        .describe("An IAM role the App Runner instances run as");
    let managed: Vec<Value> =
        ctx.addons.iter().flat_map(|a| a.managed_policies.iter().map(|p| addons_output(p))).collect();
    if !managed.is_empty() {
        role = role.prop("ManagedPolicyArns", managed);
    }
    let mut policies = vec![json!({
        "PolicyName": "DenyIAM",
        "PolicyDocument": cfn::policy_document(vec![json!({"Effect": "Deny", "Action": "iam:*", "Resource": "*"})]),
    })];
    let mut ssm = Vec::new();
    let mut secretsmanager = Vec::new();
    let mut other = Vec::new();
    for secret in m.secrets.values() {
        match secret {
            Secret::Parameter(p) if p.starts_with("arn:") && p.contains(":ssm:") => ssm.push(secret_arn(secret)),
            Secret::Parameter(p) if p.starts_with("arn:") => secretsmanager.push(secret_arn(secret)),
            Secret::Parameter(_) => ssm.push(secret_arn(secret)),
            Secret::Map(s) if s.secretsmanager.is_some() => {
                secretsmanager.push(secret_manager_arn_pattern(s.secretsmanager.as_deref().unwrap_or_default()))
            }
            Secret::Map(_) => other.push(secret_arn(secret)),
        }
    }
    let addon_secrets: Vec<Value> =
        ctx.addons.iter().flat_map(|a| a.secrets.iter().map(|s| addons_output(s))).collect();
    let mut statements = Vec::new();
    if !ssm.is_empty() {
        statements.push(json!({"Effect": "Allow", "Action": ["ssm:GetParameters"], "Resource": ssm}));
    }
    secretsmanager.extend(addon_secrets);
    if !secretsmanager.is_empty() {
        statements
            .push(json!({"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"], "Resource": secretsmanager}));
    }
    // `from_cfn` exports may name an SSM parameter or a Secrets Manager secret.
    if !other.is_empty() {
        statements.push(json!({
            "Effect": "Allow",
            "Action": ["ssm:GetParameters", "secretsmanager:GetSecretValue"],
            "Resource": other,
        }));
    }
    if !statements.is_empty() {
        statements.push(json!({
            "Effect": "Allow",
            "Action": ["kms:Decrypt"],
            "Resource": cfn::sub("arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/*"),
        }));
        policies.push(json!({"PolicyName": "ReadSecrets", "PolicyDocument": cfn::policy_document(statements)}));
    }
    if let Some(p) = m.publish.as_ref().and_then(publish::publish_policy) {
        policies.push(p);
    }
    if m.tracing().is_some() {
        policies.push(json!({
            "PolicyName": "EnableAWSXRayTracing",
            "PolicyDocument": cfn::policy_document(vec![json!({
                "Effect": "Allow",
                "Action": [
                    "xray:PutTraceSegments",
                    "xray:PutTelemetryRecords",
                    "xray:GetSamplingRules",
                    "xray:GetSamplingTargets",
                    "xray:GetSamplingStatisticSummaries",
                    "ssm:GetParameters"
                ],
                "Resource": "*",
            })]),
        }));
    }
    role = role.prop("Policies", Value::Array(policies));
    t.resource(lid::INSTANCE_ROLE, role);
}

/// What an IAM policy names for a `{secretsmanager: name[:key...]}`
/// secret: its ARN without the JSON key, with a wildcard for the random
/// suffix Secrets Manager appends to names.
fn secret_manager_arn_pattern(name: &str) -> Value {
    if name.starts_with("arn:") {
        json!(format!("{}*", name.splitn(8, ':').take(7).collect::<Vec<_>>().join(":")))
    } else {
        let base = name.split(':').next().unwrap_or_default();
        cfn::join(
            "",
            json!([
                cfn::sub("arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:"),
                base,
                "*"
            ]),
        )
    }
}

fn copilot_tags(m: &Manifest) -> Vec<Value> {
    let mut tags = vec![
        cfn::tag("copilot-application", cfn::ref_("AppName")),
        cfn::tag("copilot-environment", cfn::ref_("EnvName")),
        cfn::tag("copilot-service", cfn::ref_("WorkloadName")),
    ];
    tags.extend(m.tags.iter().map(|(k, v)| cfn::tag(k, v.as_str())));
    tags
}

/// Copilot's connector: its own security group, which the environment's
/// security group admits, on the private subnets or the listed ones.
fn vpc_connector(m: &Manifest, ctx: &RenderContext, t: &mut Template) {
    t.resource(
        lid::SERVICE_SECURITY_GROUP,
        Resource::new("AWS::EC2::SecurityGroup")
            .prop(
                "GroupDescription",
                cfn::join("", json!([cfn::ref_("AppName"), "-", cfn::ref_("EnvName"), cfn::ref_("WorkloadName")])),
            )
            .prop("VpcId", cfn::env_import("VpcId"))
            .prop("Tags", json!([cfn::tag("Name", cfn::sub("copilot-${AppName}-${EnvName}-${WorkloadName}"))]))
            .describe("A security group for your addons/ resources to allow ingress from your service"),
    );
    t.resource(
        lid::ENV_SG_INGRESS,
        Resource::new("AWS::EC2::SecurityGroupIngress")
            .prop("GroupId", cfn::env_import("EnvironmentSecurityGroup"))
            .prop("IpProtocol", "-1")
            .prop("SourceSecurityGroupId", cfn::ref_(lid::SERVICE_SECURITY_GROUP))
            .describe("Allow ingress from the app runner service to services in your environment"),
    );
    let subnets = match m.placement_subnets() {
        Some(SubnetSelection::Ids(ids)) => json!(ids),
        // Refused by `validate` (App Runner needs IDs); the environment's private subnets otherwise.
        Some(SubnetSelection::FromTags(_)) | None => cfn::split(",", cfn::env_import("PrivateSubnets")),
    };
    let mut groups = vec![cfn::ref_(lid::SERVICE_SECURITY_GROUP)];
    groups.extend(ctx.addons.iter().flat_map(|a| a.security_groups.iter().map(|g| addons_output(g))));
    t.resource(
        lid::VPC_CONNECTOR,
        Resource::new("AWS::AppRunner::VpcConnector")
            .prop("Subnets", subnets)
            .prop("SecurityGroups", groups)
            .prop("Tags", copilot_tags(m))
            .describe("A VPC connector to link your service to subnets in your environment"),
    );
}

/// `http.private`: the service is reachable only through an interface
/// endpoint in the environment's VPC.
fn vpc_ingress(m: &Manifest, endpoint: Option<&str>, t: &mut Template) {
    // Without `endpoint`, the environment's App Runner endpoint, which the
    // environment stack creates while a private service needs it
    // (`AppRunnerPrivateWorkloads`), as in Copilot.
    let endpoint_id = match endpoint {
        Some(id) => json!(id),
        None => cfn::env_import("AppRunnerVpcEndpointId"),
    };
    t.resource(
        lid::VPC_INGRESS_CONNECTION,
        Resource::new("AWS::AppRunner::VpcIngressConnection")
            .prop("ServiceArn", cfn::get_att(lid::SERVICE, "ServiceArn"))
            .prop("IngressVpcConfiguration", json!({"VpcId": cfn::env_import("VpcId"), "VpcEndpointId": endpoint_id}))
            .prop("Tags", copilot_tags(m))
            .describe("The ingress connection from your environment to this service"),
    );
}

fn environment(m: &Manifest, ctx: &RenderContext) -> Vec<Value> {
    let mut env = vec![
        json!({"Name": "COPILOT_APPLICATION_NAME", "Value": cfn::ref_("AppName")}),
        json!({"Name": "COPILOT_ENVIRONMENT_NAME", "Value": cfn::ref_("EnvName")}),
        json!({"Name": "COPILOT_SERVICE_NAME", "Value": cfn::ref_("WorkloadName")}),
    ];
    if m.needs_vpc_connector() {
        env.push(
            json!({"Name": "COPILOT_SERVICE_DISCOVERY_ENDPOINT", "Value": cfn::sub("${EnvName}.${AppName}.local")}),
        );
    }
    if let Some((name, value)) = m.publish.as_ref().and_then(publish::topic_arns_variable) {
        env.push(json!({"Name": name, "Value": value}));
    }
    for output in ctx.addons.iter().flat_map(|a| a.variables.iter()) {
        env.push(json!({"Name": env_var_name(output), "Value": addons_output(output)}));
    }
    for (name, var) in &m.variables {
        let value = match var {
            Variable::Value(v) => json!(v),
            Variable::FromCfn(f) => cfn::import_value(json!(&f.from_cfn)),
        };
        env.push(json!({"Name": name, "Value": value}));
    }
    env
}

fn service(m: &Manifest, ctx: &RenderContext, t: &mut Template) {
    let mut image_config = json!({
        "Port": cfn::ref_("ContainerPort"),
        "RuntimeEnvironmentVariables": environment(m, ctx),
    });
    let mut secrets: Vec<Value> =
        m.secrets.iter().map(|(name, s)| json!({"Name": name, "Value": secret_arn(s)})).collect();
    for output in ctx.addons.iter().flat_map(|a| a.secrets.iter()) {
        secrets.push(json!({"Name": env_var_name(output), "Value": addons_output(output)}));
    }
    if !secrets.is_empty() {
        image_config["RuntimeEnvironmentSecrets"] = Value::Array(secrets);
    }
    let hc = m.http.as_ref().and_then(|h| h.healthcheck.as_ref()).map(|h| h.args()).unwrap_or_default();
    if let Some(command) = m.start_command() {
        image_config["StartCommand"] = json!(command);
    }
    let mut network = if m.needs_vpc_connector() {
        json!({"EgressConfiguration": {"EgressType": "VPC", "VpcConnectorArn": cfn::get_att(lid::VPC_CONNECTOR, "VpcConnectorArn")}})
    } else {
        json!({"EgressConfiguration": {"EgressType": "DEFAULT"}})
    };
    if m.private_ingress().is_some() {
        network["IngressConfiguration"] = json!({"IsPubliclyAccessible": false});
    }
    // Copilot points at App Runner's default X-Ray configuration rather than creating one.
    let observability = m.tracing().map(|_| {
        json!({"ObservabilityEnabled": true, "ObservabilityConfigurationArn": cfn::sub(
            "arn:${AWS::Partition}:apprunner:${AWS::Region}:${AWS::AccountId}:observabilityconfiguration/DefaultConfiguration/1/00000000000000000000000000000001"
        )})
    });
    let scaling = m.count.as_ref().map(|count| {
        if count.starts_with("arn:") {
            json!(count)
        } else {
            cfn::sub(&format!(
                "arn:${{AWS::Partition}}:apprunner:${{AWS::Region}}:${{AWS::AccountId}}:autoscalingconfiguration/{count}"
            ))
        }
    });
    t.resource(
        lid::SERVICE,
        Resource::new("AWS::AppRunner::Service")
            .prop("ServiceName", cfn::sub("${AppName}-${EnvName}-${WorkloadName}"))
            .prop(
                "SourceConfiguration",
                json!({
                    "AuthenticationConfiguration": cfn::if_(
                        lid::IS_ECR,
                        json!({"AccessRoleArn": cfn::get_att(lid::ACCESS_ROLE, "Arn")}),
                        cfn::no_value(),
                    ),
                    "AutoDeploymentsEnabled": false,
                    "ImageRepository": {
                        "ImageIdentifier": cfn::ref_("ContainerImage"),
                        "ImageRepositoryType": cfn::ref_("ImageRepositoryType"),
                        "ImageConfiguration": image_config,
                    },
                }),
            )
            .prop(
                "InstanceConfiguration",
                json!({
                    "Cpu": cfn::ref_("InstanceCPU"),
                    "Memory": cfn::ref_("InstanceMemory"),
                    "InstanceRoleArn": cfn::get_att(lid::INSTANCE_ROLE, "Arn"),
                }),
            )
            .prop(
                "HealthCheckConfiguration",
                json!({
                    "Protocol": "HTTP",
                    "Path": hc.path.as_deref().unwrap_or(defaults::HEALTH_PATH),
                    "HealthyThreshold": hc.healthy_threshold.unwrap_or(defaults::HEALTHY_THRESHOLD),
                    "UnhealthyThreshold": hc.unhealthy_threshold.unwrap_or(defaults::UNHEALTHY_THRESHOLD),
                    "Interval": hc.interval.map(|d| d.secs()).unwrap_or(defaults::INTERVAL),
                    "Timeout": hc.timeout.map(|d| d.secs()).unwrap_or(defaults::TIMEOUT),
                }),
            )
            .prop("NetworkConfiguration", network)
            .opt_prop("ObservabilityConfiguration", observability)
            .opt_prop("AutoScalingConfigurationArn", scaling)
            .prop("Tags", copilot_tags(m))
            .describe("The App Runner service running the image"),
    );
}
