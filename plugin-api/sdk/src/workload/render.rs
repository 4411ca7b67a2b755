//! CloudFormation for the shared sections: parameters, log group, IAM roles,
//! task definition, Cloud Map registration, Fargate service, autoscaling.
//!
//! Logical IDs and parameter names follow Copilot's templates so stacks
//! deployed by Copilot update in place when ferry takes them over.

use super::manifest::*;
use super::validate::scaling_value;
use super::{TaskSpec, defaults};
use crate::cfn::{self, Parameter, Resource, Template};
use crate::json;
use crate::protocol::RenderContext;
use indexmap::IndexMap;
use serde_json::Value;

/// Logical IDs used by the emitters (and by plugins that reference them).
pub mod ids {
    pub const LOG_GROUP: &str = "LogGroup";
    pub const EXECUTION_ROLE: &str = "ExecutionRole";
    pub const TASK_ROLE: &str = "TaskRole";
    pub const TASK_DEFINITION: &str = "TaskDefinition";
    pub const DISCOVERY_SERVICE: &str = "DiscoveryService";
    pub const SERVICE: &str = "Service";
    pub const SCALABLE_TARGET: &str = "AutoScalingTarget";
    pub const HAS_ENV_FILE: &str = "HasEnvFile";
    pub const ADDONS_STACK: &str = "AddonsStack";
}

/// CloudWatch dimensions a load-balanced workload scales on.
#[derive(Debug, Clone)]
pub struct LoadBalancerMetrics {
    /// `ALBRequestCountPerTarget` resource label: `<lb full name>/<tg full name>`.
    pub resource_label: Value,
    /// `LoadBalancer` dimension of `TargetResponseTime`.
    pub load_balancer: Value,
    /// `TargetGroup` dimension of `TargetResponseTime`.
    pub target_group: Value,
}

/// How the plugin attaches the service to a load balancer.
#[derive(Debug, Clone, Default)]
pub struct ServiceOptions {
    /// `LoadBalancers` entries of the ECS service.
    pub load_balancers: Vec<Value>,
    pub health_check_grace_period: Option<u64>,
    /// Resources that must exist first (listener rules attach the target group).
    pub depends_on: Vec<String>,
}

/// Renders the shared resources of one workload.
pub struct TaskRender<'a> {
    pub spec: &'a TaskSpec,
    pub context: &'a RenderContext,
    /// Extra variables for the main container (e.g. `COPILOT_LB_DNS`).
    pub extra_environment: Vec<(String, Value)>,
}

fn sub_partition(tail: &str) -> Value {
    cfn::sub(&format!("arn:${{AWS::Partition}}:{tail}"))
}

/// `prefix` (an `Fn::Sub` template) followed by `literal` verbatim, so user
/// text with `${` never reaches `Fn::Sub`.
fn sub_then_literal(prefix: &str, literal: &str) -> Value {
    cfn::join("", json!([cfn::sub(prefix), literal]))
}

/// `MyTableName` → `MY_TABLE_NAME`, as Copilot names addons outputs in the container.
pub fn env_var_name(output: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = output.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        if c.is_uppercase() && i > 0 {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if prev.is_lowercase() || prev.is_ascii_digit() || (prev.is_uppercase() && next_lower) {
                out.push('_');
            }
        }
        out.extend(c.to_uppercase());
    }
    out
}

fn addons_output(name: &str) -> Value {
    cfn::get_att(ids::ADDONS_STACK, &format!("Outputs.{name}"))
}

/// `ValueFrom` of a container secret.
pub fn secret_value_from(secret: &Secret) -> Value {
    match secret {
        Secret::Parameter(p) => json!(p),
        Secret::Map(SecretMap { secretsmanager: Some(s), .. }) if s.starts_with("arn:") => json!(s),
        Secret::Map(SecretMap { secretsmanager: Some(s), .. }) => {
            sub_then_literal("arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:", s)
        }
        Secret::Map(SecretMap { from_cfn: Some(f), .. }) => cfn::import_value(json!(f)),
        Secret::Map(_) => Value::Null,
    }
}

pub(crate) fn environment(vars: &IndexMap<String, Variable>) -> Vec<Value> {
    vars.iter()
        .map(|(name, var)| {
            let value = match var {
                Variable::Value(v) => json!(v),
                Variable::FromCfn(f) => cfn::import_value(json!(&f.from_cfn)),
            };
            json!({ "Name": name, "Value": value })
        })
        .collect()
}

pub(crate) fn secrets(secrets: &IndexMap<String, Secret>) -> Vec<Value> {
    secrets.iter().map(|(name, s)| json!({ "Name": name, "ValueFrom": secret_value_from(s) })).collect()
}

fn depends_on(deps: &IndexMap<String, String>) -> Option<Value> {
    if deps.is_empty() {
        return None;
    }
    Some(Value::Array(
        deps.iter().map(|(c, cond)| json!({ "ContainerName": c, "Condition": cond.to_ascii_uppercase() })).collect(),
    ))
}

fn labels(labels: &IndexMap<String, String>) -> Option<Value> {
    (!labels.is_empty()).then(|| json!(labels))
}

fn health_check(hc: &ContainerHealthCheck) -> Option<Value> {
    let command = hc.command.as_ref()?.to_args().ok()?;
    let secs = |d: Option<crate::workload::Duration>, default: u64| d.map(|d| d.secs()).unwrap_or(default);
    Some(json!({
        "Command": command,
        "Interval": secs(hc.interval, 10),
        "Retries": hc.retries.unwrap_or(2),
        "Timeout": secs(hc.timeout, 5),
        "StartPeriod": secs(hc.start_period, 0),
    }))
}

fn args(value: &Option<crate::workload::StringOrList>) -> Option<Vec<String>> {
    value.as_ref().and_then(|v| v.to_args().ok())
}

pub(crate) fn log_configuration() -> Value {
    json!({
        "LogDriver": "awslogs",
        "Options": {
            "awslogs-region": cfn::ref_("AWS::Region"),
            "awslogs-group": cfn::ref_(ids::LOG_GROUP),
            "awslogs-stream-prefix": "copilot"
        }
    })
}

impl TaskRender<'_> {
    pub(crate) fn copilot_environment(&self) -> Vec<Value> {
        let mut env = vec![
            json!({"Name": "COPILOT_APPLICATION_NAME", "Value": cfn::ref_("AppName")}),
            json!({"Name": "COPILOT_ENVIRONMENT_NAME", "Value": cfn::ref_("EnvName")}),
            json!({"Name": "COPILOT_SERVICE_NAME", "Value": cfn::ref_("WorkloadName")}),
            json!({"Name": "COPILOT_SERVICE_DISCOVERY_ENDPOINT", "Value": cfn::sub("${EnvName}.${AppName}.local")}),
        ];
        for (name, value) in &self.extra_environment {
            env.push(json!({"Name": name, "Value": value}));
        }
        env
    }

    /// Copilot's workload parameters shared by every type, with their
    /// values: ContainerImage, ContainerPort (when the image has a port),
    /// TaskCPU, TaskMemory, TaskCount, LogRetention, EnvFileARN.
    pub fn parameters(&self, t: &mut Template, values: &mut IndexMap<String, Value>) {
        self.shared_parameters(t, values, true);
    }

    /// The parameters of a task that no ECS service keeps running (a job):
    /// those of [`TaskRender::parameters`] without TaskCount.
    pub fn job_parameters(&self, t: &mut Template, values: &mut IndexMap<String, Value>) {
        self.shared_parameters(t, values, false);
    }

    fn shared_parameters(&self, t: &mut Template, values: &mut IndexMap<String, Value>, with_count: bool) {
        let spec = self.spec;
        let image = self
            .context
            .image
            .as_ref()
            .map(|i| i.uri.clone())
            .or_else(|| spec.image.location.clone())
            .unwrap_or_default();
        t.parameter(
            "ContainerImage",
            Parameter::string()
                .description("Image the main container runs; empty until the host has built and pushed it"),
        );
        values.insert("ContainerImage".into(), json!(image));
        if let Some(port) = spec.image.port {
            t.parameter("ContainerPort", Parameter::number().description("Port the main container listens on"));
            values.insert("ContainerPort".into(), json!(port.to_string()));
        }
        t.parameter("TaskCPU", Parameter::string().description("CPU units of the task"));
        values.insert("TaskCPU".into(), json!(spec.cpu().to_string()));
        t.parameter("TaskMemory", Parameter::string().description("Memory (MiB) of the task"));
        values.insert("TaskMemory".into(), json!(spec.memory().to_string()));
        if with_count {
            t.parameter("TaskCount", Parameter::number().description("Tasks to run (the minimum when autoscaling)"));
            values.insert("TaskCount".into(), json!(spec.desired_count().to_string()));
        }
        t.parameter("LogRetention", Parameter::number().description("Days to keep the task's logs"));
        values.insert("LogRetention".into(), json!(spec.log_retention().to_string()));
        t.parameter(
            "EnvFileARN",
            Parameter::string().default("").description("S3 ARN of the uploaded env_file; empty when there is none"),
        );
        values.insert("EnvFileARN".into(), json!(""));
        t.condition(ids::HAS_ENV_FILE, cfn::not(cfn::equals(cfn::ref_("EnvFileARN"), json!(""))));
        self.family_parameters(t, values);
    }

    pub fn log_group(&self, t: &mut Template) {
        t.resource(
            ids::LOG_GROUP,
            Resource::new("AWS::Logs::LogGroup")
                .prop("LogGroupName", cfn::sub("/copilot/${AppName}-${EnvName}-${WorkloadName}"))
                .prop("RetentionInDays", cfn::ref_("LogRetention"))
                .deletion_policy("Retain")
                .describe("A CloudWatch log group holding the task's logs"),
        );
    }

    fn all_secrets(&self) -> impl Iterator<Item = &Secret> {
        self.spec
            .secrets
            .values()
            .chain(self.spec.sidecars.values().flat_map(|s| s.secrets.values()))
            .chain(self.logging_secrets())
    }

    /// The role ECS uses to start the task: pull images, write logs, read
    /// the secrets the manifest names.
    pub fn execution_role(&self, t: &mut Template) {
        let mut ssm = vec![sub_partition(
            "ssm:${AWS::Region}:${AWS::AccountId}:parameter/copilot/${AppName}/${EnvName}/secrets/*",
        )];
        let mut secretsmanager = Vec::new();
        let mut imported = Vec::new();
        for secret in self.all_secrets() {
            match secret {
                Secret::Parameter(p) if p.starts_with("arn:") && p.contains(":secretsmanager:") => {
                    secretsmanager.push(json!(secret_arn_resource(p)));
                }
                Secret::Parameter(p) if p.starts_with("arn:") => ssm.push(json!(p)),
                Secret::Parameter(p) => ssm.push(sub_then_literal(
                    "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/",
                    p.trim_start_matches('/'),
                )),
                Secret::Map(SecretMap { secretsmanager: Some(s), .. }) if s.starts_with("arn:") => {
                    secretsmanager.push(json!(secret_arn_resource(s)))
                }
                Secret::Map(SecretMap { secretsmanager: Some(s), .. }) => {
                    let name = s.split(':').next().unwrap_or(s);
                    secretsmanager.push(sub_then_literal(
                        "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:",
                        &format!("{name}-*"),
                    ));
                }
                Secret::Map(SecretMap { from_cfn: Some(f), .. }) => imported.push(cfn::import_value(json!(f))),
                Secret::Map(_) => {}
            }
        }
        let credentials = self
            .spec
            .image
            .credentials
            .iter()
            .chain(self.spec.sidecars.values().filter_map(|s| s.credentials_parameter.as_ref()));
        for c in credentials {
            secretsmanager.push(json!(c));
        }
        if let Some(addons) = &self.context.addons {
            imported.extend(addons.secrets.iter().map(|s| addons_output(s)));
        }
        dedup(&mut ssm);
        dedup(&mut secretsmanager);
        dedup(&mut imported);
        let mut statements = vec![json!({
            "Effect": "Allow",
            "Action": ["ssm:GetParameters"],
            "Resource": ssm,
        })];
        if !secretsmanager.is_empty() {
            statements.push(json!({
                "Effect": "Allow",
                "Action": ["secretsmanager:GetSecretValue"],
                "Resource": secretsmanager,
            }));
        }
        if !imported.is_empty() {
            statements.push(json!({
                "Effect": "Allow",
                "Action": ["ssm:GetParameters", "secretsmanager:GetSecretValue"],
                "Resource": imported,
            }));
        }
        statements.push(json!({
            "Effect": "Allow",
            "Action": ["kms:Decrypt"],
            "Resource": sub_partition("kms:${AWS::Region}:${AWS::AccountId}:key/*"),
        }));
        let env_file = cfn::if_(
            ids::HAS_ENV_FILE,
            json!({
                "PolicyName": "EnvFile",
                "PolicyDocument": cfn::policy_document(vec![
                    json!({"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": [cfn::ref_("EnvFileARN")]}),
                    json!({"Effect": "Allow", "Action": ["s3:GetBucketLocation"],
                           "Resource": [cfn::select(0, cfn::split("/", cfn::ref_("EnvFileARN")))]}),
                ]),
            }),
            cfn::no_value(),
        );
        let mut policies = vec![
            json!({
                "PolicyName": "Secrets",
                "PolicyDocument": cfn::policy_document(statements),
            }),
            env_file,
        ];
        policies.extend(self.env_file_policies());
        t.resource(
            ids::EXECUTION_ROLE,
            Resource::new("AWS::IAM::Role")
                .prop("AssumeRolePolicyDocument", cfn::assume_role_policy("ecs-tasks.amazonaws.com"))
                .prop(
                    "ManagedPolicyArns",
                    json!([sub_partition("iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy")]),
                )
                .prop("Policies", Value::Array(policies))
                .describe("An IAM role ECS uses to pull the image, write logs and read secrets"),
        );
    }

    /// The role the containers run as: exec channels and addons policies.
    pub fn task_role(&self, t: &mut Template) {
        self.task_role_with_policies(t, Vec::new());
    }

    /// [`TaskRender::task_role`] plus inline policies of the plugin's own
    /// (e.g. [`super::publish::publish_policy`]), after the exec policy.
    pub fn task_role_with_policies(&self, t: &mut Template, extra_policies: Vec<Value>) {
        let mut role = Resource::new("AWS::IAM::Role")
            .prop("AssumeRolePolicyDocument", cfn::assume_role_policy("ecs-tasks.amazonaws.com"))
            .describe("An IAM role the containers run as");
        if let Some(addons) = &self.context.addons
            && !addons.managed_policies.is_empty()
        {
            let arns: Vec<Value> = addons.managed_policies.iter().map(|p| addons_output(p)).collect();
            role = role.prop("ManagedPolicyArns", arns);
        }
        let mut policies = Vec::new();
        if self.spec.exec() {
            policies.push(json!({
                "PolicyName": "ExecuteCommand",
                "PolicyDocument": cfn::policy_document(vec![json!({
                    "Effect": "Allow",
                    "Action": [
                        "ssmmessages:CreateControlChannel",
                        "ssmmessages:OpenControlChannel",
                        "ssmmessages:CreateDataChannel",
                        "ssmmessages:OpenDataChannel"
                    ],
                    "Resource": "*"
                })]),
            }));
        }
        policies.extend(self.efs_policies());
        policies.extend(extra_policies);
        policies.extend(self.xray_policy());
        if !policies.is_empty() {
            role = role.prop("Policies", Value::Array(policies));
        }
        t.resource(ids::TASK_ROLE, role);
    }

    fn main_container(&self) -> Value {
        let spec = self.spec;
        let mut env = self.copilot_environment();
        env.extend(environment(&spec.variables));
        env.extend(self.mount_points_variable());
        let mut secret_list = secrets(&spec.secrets);
        if let Some(addons) = &self.context.addons {
            for v in &addons.variables {
                env.push(json!({"Name": env_var_name(v), "Value": addons_output(v)}));
            }
            for s in &addons.secrets {
                secret_list.push(json!({"Name": env_var_name(s), "ValueFrom": addons_output(s)}));
            }
        }
        let mut c = serde_json::Map::new();
        c.insert("Name".into(), json!(&spec.name));
        c.insert("Image".into(), cfn::ref_("ContainerImage"));
        c.insert("Essential".into(), json!(true));
        if spec.image.port.is_some() {
            let mut mapping = json!({"ContainerPort": cfn::ref_("ContainerPort"), "Protocol": "tcp"});
            if self.service_connect().is_some() {
                mapping["Name"] = json!(super::families::family_ids::SERVICE_CONNECT_PORT);
            }
            c.insert("PortMappings".into(), json!([mapping]));
        }
        c.insert("Environment".into(), json!(env));
        c.insert(
            "EnvironmentFiles".into(),
            cfn::if_(ids::HAS_ENV_FILE, json!([{"Type": "s3", "Value": cfn::ref_("EnvFileARN")}]), cfn::no_value()),
        );
        if !secret_list.is_empty() {
            c.insert("Secrets".into(), json!(secret_list));
        }
        if let Some(entry) = args(&spec.entrypoint) {
            c.insert("EntryPoint".into(), json!(entry));
        }
        if let Some(command) = args(&spec.command) {
            c.insert("Command".into(), json!(command));
        }
        if let Some(hc) = spec.image.healthcheck.as_ref().and_then(health_check) {
            c.insert("HealthCheck".into(), hc);
        }
        if let Some(d) = depends_on(&spec.image.depends_on) {
            c.insert("DependsOn".into(), d);
        }
        if let Some(l) = labels(&spec.image.labels) {
            c.insert("DockerLabels".into(), l);
        }
        if spec.storage.as_ref().and_then(|s| s.readonly_fs) == Some(true) {
            c.insert("ReadonlyRootFilesystem".into(), json!(true));
        }
        if let Some(creds) = &spec.image.credentials {
            c.insert("RepositoryCredentials".into(), json!({"CredentialsParameter": creds}));
        }
        if let Some(mounts) = self.main_mount_points() {
            c.insert("MountPoints".into(), mounts);
        }
        c.insert("LogConfiguration".into(), self.main_log_configuration());
        Value::Object(c)
    }

    fn sidecar_container(&self, name: &str, s: &Sidecar) -> Value {
        let mut c = serde_json::Map::new();
        c.insert("Name".into(), json!(name));
        match &s.image {
            Some(SidecarImage::Uri(uri)) => {
                c.insert("Image".into(), json!(uri));
            }
            Some(SidecarImage::Build(args)) => {
                c.insert("Image".into(), self.sidecar_built_image(name, args));
            }
            None => {}
        }
        c.insert("Essential".into(), json!(s.essential.unwrap_or(true)));
        if let Some(Ok((port, protocol))) = s.port.as_ref().map(SidecarPort::parse) {
            c.insert("PortMappings".into(), json!([{"ContainerPort": port, "Protocol": protocol}]));
        }
        let mut env = self.copilot_environment();
        env.extend(environment(&s.variables));
        c.insert("Environment".into(), json!(env));
        if let Some(files) = self.sidecar_environment_files(name, s) {
            c.insert("EnvironmentFiles".into(), files);
        }
        let secret_list = secrets(&s.secrets);
        if !secret_list.is_empty() {
            c.insert("Secrets".into(), json!(secret_list));
        }
        if let Some(entry) = args(&s.entrypoint) {
            c.insert("EntryPoint".into(), json!(entry));
        }
        if let Some(command) = args(&s.command) {
            c.insert("Command".into(), json!(command));
        }
        if let Some(hc) = s.healthcheck.as_ref().and_then(health_check) {
            c.insert("HealthCheck".into(), hc);
        }
        if let Some(d) = depends_on(&s.depends_on) {
            c.insert("DependsOn".into(), d);
        }
        if let Some(l) = labels(&s.labels) {
            c.insert("DockerLabels".into(), l);
        }
        if let Some(creds) = &s.credentials_parameter {
            c.insert("RepositoryCredentials".into(), json!({"CredentialsParameter": creds}));
        }
        if let Some(mounts) = self.sidecar_mount_points(s) {
            c.insert("MountPoints".into(), mounts);
        }
        c.insert("LogConfiguration".into(), log_configuration());
        Value::Object(c)
    }

    pub fn task_definition(&self, t: &mut Template) {
        let spec = self.spec;
        let platform = spec.platform();
        let mut containers = vec![self.main_container()];
        containers.extend(self.firelens_container());
        containers.extend(self.xray_container());
        for (name, s) in &spec.sidecars {
            containers.push(self.sidecar_container(name, s));
        }
        t.resource(
            ids::TASK_DEFINITION,
            Resource::new("AWS::ECS::TaskDefinition")
                .prop("Family", cfn::sub("${AppName}-${EnvName}-${WorkloadName}"))
                .prop("NetworkMode", "awsvpc")
                .prop("RequiresCompatibilities", json!(["FARGATE"]))
                .prop("Cpu", cfn::ref_("TaskCPU"))
                .prop("Memory", cfn::ref_("TaskMemory"))
                .prop("ExecutionRoleArn", cfn::get_att(ids::EXECUTION_ROLE, "Arn"))
                .prop("TaskRoleArn", cfn::get_att(ids::TASK_ROLE, "Arn"))
                .prop(
                    "RuntimePlatform",
                    json!({
                        "OperatingSystemFamily": platform.os_family,
                        "CpuArchitecture": platform.architecture,
                    }),
                )
                .opt_prop(
                    "EphemeralStorage",
                    spec.storage.as_ref().and_then(|s| s.ephemeral).map(|size| json!({"SizeInGiB": size})),
                )
                .prop("ContainerDefinitions", json!(containers))
                .opt_prop("Volumes", self.task_volumes())
                .describe("An ECS task definition: the containers, their image, size and settings"),
        );
        self.access_point(t);
        if let Some(overrides) = &spec.taskdef_overrides {
            super::families::apply_taskdef_overrides(t, overrides);
        }
    }

    /// Cloud Map registration: `<svc>.<env>.<app>.local`.
    pub fn discovery_service(&self, t: &mut Template) {
        let mut records = vec![json!({"Type": "A", "TTL": 10})];
        if self.spec.image.port.is_some() {
            records.push(json!({"Type": "SRV", "TTL": 10}));
        }
        t.resource(
            ids::DISCOVERY_SERVICE,
            Resource::new("AWS::ServiceDiscovery::Service")
                .prop("Name", cfn::ref_("WorkloadName"))
                .prop("Description", cfn::sub("Discovery Service for the Copilot service ${WorkloadName}"))
                .prop("DnsConfig", json!({"RoutingPolicy": "MULTIVALUE", "DnsRecords": records}))
                .prop("HealthCheckCustomConfig", json!({"FailureThreshold": 1}))
                .prop("NamespaceId", cfn::env_import("ServiceDiscoveryNamespaceID"))
                .describe("A Cloud Map service so other services reach this one at <svc>.<env>.<app>.local"),
        );
        t.output(
            "DiscoveryServiceARN",
            cfn::get_att(ids::DISCOVERY_SERVICE, "Arn"),
            Some(cfn::sub("${AWS::StackName}-DiscoveryServiceARN")),
        );
    }

    /// The task's security groups: the environment's (unless
    /// `deny_default`), the manifest's, and the addons' outputs.
    pub fn security_groups(&self) -> Vec<Value> {
        let groups = self.spec.network.as_ref().and_then(|n| n.vpc.as_ref()).and_then(|v| v.security_groups.as_ref());
        let mut out = Vec::new();
        if !groups.is_some_and(SecurityGroups::deny_default) {
            out.push(cfn::env_import("EnvironmentSecurityGroup"));
        }
        for g in groups.map(SecurityGroups::groups).unwrap_or_default() {
            out.push(match g {
                StringOrFromCfn::String(s) => json!(s),
                StringOrFromCfn::FromCfn(f) => cfn::import_value(json!(&f.from_cfn)),
            });
        }
        if let Some(addons) = &self.context.addons {
            out.extend(addons.security_groups.iter().map(|s| addons_output(s)));
        }
        out
    }

    /// The export holding the subnets the task runs in (`PublicSubnets` or
    /// `PrivateSubnets`, comma-separated IDs), by network placement.
    pub fn subnets_export(&self) -> &'static str {
        if self.spec.public_placement() { "PublicSubnets" } else { "PrivateSubnets" }
    }

    fn capacity_provider_strategy(&self) -> Option<Value> {
        let Some(Count::Advanced(count)) = &self.spec.count else {
            return None;
        };
        if let Some(spot_from) = count.range.as_ref().and_then(Range::spot_from) {
            return Some(json!([
                {"CapacityProvider": "FARGATE", "Base": spot_from.saturating_sub(1), "Weight": 0},
                {"CapacityProvider": "FARGATE_SPOT", "Weight": 1}
            ]));
        }
        count.spot.map(|_| json!([{"CapacityProvider": "FARGATE_SPOT", "Weight": 1}]))
    }

    /// The Fargate service.
    pub fn service(&self, t: &mut Template, options: ServiceOptions) {
        let spec = self.spec;
        let recreate = spec.deployment.as_ref().and_then(|d| d.rolling.as_deref()) == Some("recreate");
        let (min, max) = if recreate { (0, 100) } else { (100, 200) };
        let public = spec.public_placement();
        let mut deployment = json!({
            "MinimumHealthyPercent": min,
            "MaximumPercent": max,
            "DeploymentCircuitBreaker": {"Enable": true, "Rollback": true}
        });
        if let Some(alarms) = self.deployment_alarms() {
            deployment["Alarms"] = alarms;
        }
        super::deployment::configure(spec, &mut deployment);
        let mut registry = serde_json::Map::new();
        registry.insert("RegistryArn".into(), cfn::get_att(ids::DISCOVERY_SERVICE, "Arn"));
        if spec.image.port.is_some() {
            registry.insert("Port".into(), cfn::ref_("ContainerPort"));
        }
        let mut service = Resource::new("AWS::ECS::Service")
            .prop("Cluster", cfn::env_import("ClusterId"))
            .prop("TaskDefinition", cfn::ref_(ids::TASK_DEFINITION))
            .prop("DesiredCount", cfn::ref_("TaskCount"));
        service = match self.capacity_provider_strategy() {
            Some(strategy) => service.prop("CapacityProviderStrategy", strategy),
            None => service.prop("LaunchType", "FARGATE"),
        };
        service = service
            .prop("PlatformVersion", "LATEST")
            .prop("PropagateTags", "SERVICE")
            .prop("EnableExecuteCommand", spec.exec())
            .prop("DeploymentConfiguration", deployment)
            .prop(
                "NetworkConfiguration",
                json!({"AwsvpcConfiguration": {
                    "AssignPublicIp": if public { "ENABLED" } else { "DISABLED" },
                    "Subnets": self.service_subnets(),
                    "SecurityGroups": self.security_groups(),
                }}),
            )
            // Registered in Cloud Map only when the plugin emitted the discovery
            // service (a Worker Service has none: nothing connects to it).
            .opt_prop(
                "ServiceRegistries",
                t.has_resource(ids::DISCOVERY_SERVICE).then(|| json!([Value::Object(registry)])),
            )
            .opt_prop("ServiceConnectConfiguration", self.service_connect_configuration())
            .describe("An ECS service keeping the tasks running on Fargate");
        if !options.load_balancers.is_empty() {
            service = service
                .prop("LoadBalancers", json!(options.load_balancers))
                .opt_prop("HealthCheckGracePeriodSeconds", options.health_check_grace_period);
        }
        for d in &options.depends_on {
            service = service.depends_on(d);
        }
        t.resource(ids::SERVICE, service);
        self.rollback_alarms(t);
    }

    /// Target tracking on the service's desired count when `count.range` is set.
    pub fn autoscaling(&self, t: &mut Template, lb: Option<&LoadBalancerMetrics>) {
        let Some(Count::Advanced(count)) = &self.spec.count else {
            return;
        };
        let Some(range) = &count.range else { return };
        let (min, max) = range.bounds();
        t.resource(
            ids::SCALABLE_TARGET,
            Resource::new("AWS::ApplicationAutoScaling::ScalableTarget")
                .prop("MinCapacity", min)
                .prop("MaxCapacity", max)
                .prop(
                    "ResourceId",
                    cfn::join(
                        "/",
                        json!(["service", cfn::env_import("ClusterId"), cfn::get_att(ids::SERVICE, "Name")]),
                    ),
                )
                .prop("ScalableDimension", "ecs:service:DesiredCount")
                .prop("ServiceNamespace", "ecs")
                .prop(
                    "RoleARN",
                    sub_partition("iam::${AWS::AccountId}:role/aws-service-role/ecs.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService"),
                )
                .describe("An autoscaling target keeping the task count within the range"),
        );
        let cooldowns = |own: Option<&Cooldown>| scaling_cooldowns(count, own);
        let metrics: [(&str, &str, &Option<ScalingTarget>); 4] = [
            ("cpu_percentage", "AutoScalingPolicyECSServiceAverageCPUUtilization", &count.cpu_percentage),
            ("memory_percentage", "AutoScalingPolicyECSServiceAverageMemoryUtilization", &count.memory_percentage),
            ("requests", "AutoScalingPolicyALBSumRequestCountPerTarget", &count.requests),
            ("response_time", "AutoScalingPolicyALBAverageResponseTime", &count.response_time),
        ];
        for (metric, logical_id, target) in metrics {
            let Some(target) = target else { continue };
            let (value, own_cooldown) = target.parts();
            let Ok(value) = scaling_value(metric, &value) else {
                continue;
            };
            let (scale_in, scale_out) = cooldowns(own_cooldown);
            let mut config = serde_json::Map::new();
            match metric {
                "cpu_percentage" => {
                    config.insert(
                        "PredefinedMetricSpecification".into(),
                        json!({"PredefinedMetricType": "ECSServiceAverageCPUUtilization"}),
                    );
                }
                "memory_percentage" => {
                    config.insert(
                        "PredefinedMetricSpecification".into(),
                        json!({"PredefinedMetricType": "ECSServiceAverageMemoryUtilization"}),
                    );
                }
                "requests" => {
                    let Some(lb) = lb else { continue };
                    config.insert(
                        "PredefinedMetricSpecification".into(),
                        json!({"PredefinedMetricType": "ALBRequestCountPerTarget", "ResourceLabel": &lb.resource_label}),
                    );
                }
                _ => {
                    let Some(lb) = lb else { continue };
                    config.insert(
                        "CustomizedMetricSpecification".into(),
                        json!({
                            "MetricName": "TargetResponseTime",
                            "Namespace": "AWS/ApplicationELB",
                            "Dimensions": [
                                {"Name": "LoadBalancer", "Value": &lb.load_balancer},
                                {"Name": "TargetGroup", "Value": &lb.target_group}
                            ],
                            "Statistic": "Average",
                            "Unit": "Seconds"
                        }),
                    );
                }
            }
            config.insert("TargetValue".into(), json!(value));
            config.insert("ScaleInCooldown".into(), json!(scale_in));
            config.insert("ScaleOutCooldown".into(), json!(scale_out));
            t.resource(
                logical_id,
                Resource::new("AWS::ApplicationAutoScaling::ScalingPolicy")
                    .prop("PolicyName", cfn::join("-", json!([cfn::get_att(ids::SERVICE, "Name"), logical_id])))
                    .prop("PolicyType", "TargetTrackingScaling")
                    .prop("ScalingTargetId", cfn::ref_(ids::SCALABLE_TARGET))
                    .prop("TargetTrackingScalingPolicyConfiguration", Value::Object(config))
                    .describe(&format!("A target-tracking policy scaling on {metric}")),
            );
        }
    }
}

/// (scale-in, scale-out) cooldown seconds of one scaling target: its own
/// cooldown, else `count.cooldown`, else Copilot's defaults.
pub fn scaling_cooldowns(count: &AdvancedCount, own: Option<&Cooldown>) -> (u64, u64) {
    let pick = |f: fn(&Cooldown) -> Option<crate::workload::Duration>, default: u64| {
        own.and_then(f).or_else(|| count.cooldown.as_ref().and_then(f)).map(|d| d.secs()).unwrap_or(default)
    };
    (pick(|c| c.scale_in, defaults::SCALE_IN_COOLDOWN), pick(|c| c.scale_out, defaults::SCALE_OUT_COOLDOWN))
}

/// Appends an inline policy (`{PolicyName, PolicyDocument}`) to the task
/// role [`TaskRender::task_role`] emitted, e.g. queue or topic access.
/// Does nothing when there is no task role yet.
pub fn add_task_role_policy(t: &mut Template, policy: Value) {
    let Some(Value::Object(role)) = t.resources.get_mut(ids::TASK_ROLE) else { return };
    let properties = role.entry("Properties").or_insert_with(|| json!({}));
    let Some(properties) = properties.as_object_mut() else { return };
    match properties.entry("Policies").or_insert_with(|| json!([])) {
        Value::Array(list) => list.push(policy),
        other => *other = json!([policy]),
    }
}

/// Drops repeated values, keeping the first of each.
fn dedup(values: &mut Vec<Value>) {
    let mut seen = Vec::new();
    values.retain(|v| {
        if seen.contains(v) {
            false
        } else {
            seen.push(v.clone());
            true
        }
    });
}

/// The resource part of a Secrets Manager ARN (`arn:...:secret:name-AbCdEf`),
/// without a JSON key or version suffix.
fn secret_arn_resource(arn: &str) -> String {
    arn.split(':').take(7).collect::<Vec<_>>().join(":")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addons_output_names_become_env_vars() {
        assert_eq!(env_var_name("MyTableName"), "MY_TABLE_NAME");
        assert_eq!(env_var_name("DBSecret"), "DB_SECRET");
        assert_eq!(env_var_name("bucket2Name"), "BUCKET2_NAME");
    }

    #[test]
    fn task_role_policies_are_appended() {
        let mut t = Template::new();
        add_task_role_policy(&mut t, json!({"PolicyName": "Ignored"}));
        assert!(!t.has_resource(ids::TASK_ROLE), "no role, nothing to add to");
        t.resource(ids::TASK_ROLE, Resource::new("AWS::IAM::Role"));
        add_task_role_policy(&mut t, json!({"PolicyName": "A"}));
        add_task_role_policy(&mut t, json!({"PolicyName": "B"}));
        assert_eq!(
            t.resources[ids::TASK_ROLE]["Properties"]["Policies"],
            json!([{"PolicyName": "A"}, {"PolicyName": "B"}])
        );
    }

    #[test]
    fn queue_delay_backlog_per_task() {
        let d = |s: &str| Some(crate::workload::Duration::parse(s).unwrap());
        let q = QueueDelay { acceptable_latency: d("10m"), msg_processing_time: d("250ms"), cooldown: None };
        assert_eq!(q.backlog_per_task(), Some(2400));
        let q = QueueDelay { acceptable_latency: d("1m"), msg_processing_time: None, cooldown: None };
        assert_eq!(q.backlog_per_task(), None);
        let count =
            AdvancedCount { cooldown: Some(Cooldown { scale_in: d("30s"), scale_out: None }), ..Default::default() };
        let own = Cooldown { scale_in: None, scale_out: d("90s") };
        assert_eq!(scaling_cooldowns(&count, Some(&own)), (30, 90));
        assert_eq!(scaling_cooldowns(&AdvancedCount::default(), None), (120, 60));
    }

    #[test]
    fn secret_arn_loses_json_key() {
        assert_eq!(
            secret_arn_resource("arn:aws:secretsmanager:us-east-1:1:secret:db-AbC:password::"),
            "arn:aws:secretsmanager:us-east-1:1:secret:db-AbC"
        );
    }
}
