//! The task-level field families every ECS workload type shares, rendered
//! with Copilot's logical IDs and shapes: `storage.volumes` (EFS and bind
//! mounts), `logging` through FireLens, `observability.tracing`,
//! `network.connect` (Service Connect), `network.vpc.placement.subnets`,
//! `deployment.rollback_alarms`, sidecars' `env_file` and `mount_points`, and
//! `taskdef_overrides`.
//!
//! Where Copilot asks its environment-controller Lambda for the managed file
//! system's ID, ferry imports the environment stack's `FilesystemID` export.

use super::TaskSpec;
use super::manifest::*;
use super::render::{TaskRender, environment, ids, log_configuration, secrets};
use crate::cfn::{self, Parameter, Resource, Template};
use crate::diag::{Diagnostic, pointer};
use crate::json;
use indexmap::IndexMap;
use serde_json::Value;

/// Logical IDs and names of the families' resources (Copilot's).
pub mod family_ids {
    pub const ACCESS_POINT: &str = "AccessPoint";
    pub const CPU_ROLLBACK_ALARM: &str = "CPURollbackAlarm";
    pub const MEMORY_ROLLBACK_ALARM: &str = "MemoryRollbackAlarm";
    /// The FireLens log router container.
    pub const FIRELENS_CONTAINER: &str = "firelens_log_router";
    /// The X-Ray (AWS Distro for OpenTelemetry) collector container.
    pub const XRAY_CONTAINER: &str = "aws-otel-collector";
    pub const XRAY_IMAGE: &str = "public.ecr.aws/aws-observability/aws-otel-collector:v0.17.0";
    /// Parameter and condition of the log router's env file.
    pub const LOGGING_ENV_FILE: &str = "LoggingEnvFileARN";
    pub const HAS_LOGGING_ENV_FILE: &str = "HasLoggingEnvFile";
    /// Environment stack export of the managed EFS file system's ID.
    pub const FILESYSTEM_EXPORT: &str = "FilesystemID";
    /// Port name Service Connect publishes.
    pub const SERVICE_CONNECT_PORT: &str = "TargetPort";
}

/// `api-gateway` → `ApiGateway`: a container name as a logical ID part.
pub fn logical_id_safe(name: &str) -> String {
    let mut out = String::new();
    for word in name.split(|c: char| !c.is_ascii_alphanumeric()) {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            out.extend(chars);
        }
    }
    out
}

/// Parameter and condition names of a sidecar's env file.
pub fn sidecar_env_file_ids(sidecar: &str) -> (String, String) {
    let safe = logical_id_safe(sidecar);
    (format!("EnvFileARNFor{safe}"), format!("HasEnvFileFor{safe}"))
}

/// CRC-32 (IEEE) of the workload name: Copilot's default POSIX user and
/// group of the managed file system's access point.
pub fn managed_uid(workload: &str) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for byte in workload.bytes() {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

fn env_file_policy(name: Value, arn_param: &str) -> Value {
    json!({
        "PolicyName": name,
        "PolicyDocument": cfn::policy_document(vec![
            json!({"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": [cfn::ref_(arn_param)]}),
            json!({"Effect": "Allow", "Action": ["s3:GetBucketLocation"],
                   "Resource": [cfn::select(0, cfn::split("/", cfn::ref_(arn_param)))]}),
        ]),
    })
}

fn mount_point(volume: &str, path: &str, read_only: Option<bool>) -> Value {
    json!({"SourceVolume": volume, "ContainerPath": path, "ReadOnly": read_only.unwrap_or(true)})
}

fn string_or_import(v: &StringOrFromCfn) -> Value {
    match v {
        StringOrFromCfn::String(s) => json!(s),
        StringOrFromCfn::FromCfn(f) => cfn::import_value(json!(&f.from_cfn)),
    }
}

impl TaskRender<'_> {
    fn storage_volumes(&self) -> Option<&IndexMap<String, Volume>> {
        self.spec.storage.as_ref().map(|s| &s.volumes).filter(|v| !v.is_empty())
    }

    fn firelens(&self) -> Option<&Logging> {
        self.spec.logging.as_ref().filter(|l| l.is_firelens())
    }

    /// `observability.tracing: awsxray`.
    pub fn tracing(&self) -> bool {
        self.spec
            .observability
            .as_ref()
            .and_then(|o| o.tracing.as_deref())
            .is_some_and(|t| t.eq_ignore_ascii_case("awsxray"))
    }

    /// Service Connect alias when `network.connect` is on (`None`: the service's name).
    pub fn service_connect(&self) -> Option<Option<&str>> {
        self.spec.network.as_ref().and_then(Network::connect)
    }

    /// Parameters the families add: env files of the log router and sidecars.
    pub(crate) fn family_parameters(&self, t: &mut Template, values: &mut IndexMap<String, Value>) {
        if self.firelens().is_some_and(|l| l.env_file.is_some()) {
            t.parameter(
                family_ids::LOGGING_ENV_FILE,
                Parameter::string().default("").description("S3 ARN of the log router's env file"),
            );
            values.insert(family_ids::LOGGING_ENV_FILE.into(), json!(""));
            t.condition(
                family_ids::HAS_LOGGING_ENV_FILE,
                cfn::not(cfn::equals(cfn::ref_(family_ids::LOGGING_ENV_FILE), json!(""))),
            );
        }
        for (name, sidecar) in &self.spec.sidecars {
            if sidecar.env_file.is_none() {
                continue;
            }
            let (param, condition) = sidecar_env_file_ids(name);
            t.parameter(
                &param,
                Parameter::string().default("").description(&format!("S3 ARN of sidecar {name}'s env file")),
            );
            values.insert(param.clone(), json!(""));
            t.condition(&condition, cfn::not(cfn::equals(cfn::ref_(&param), json!(""))));
        }
    }

    /// The execution role's policies for the log router's and sidecars' env files.
    pub(crate) fn env_file_policies(&self) -> Vec<Value> {
        let mut out = Vec::new();
        if self.firelens().is_some_and(|l| l.env_file.is_some()) {
            out.push(cfn::if_(
                family_ids::HAS_LOGGING_ENV_FILE,
                env_file_policy(json!("LoggingEnvFile"), family_ids::LOGGING_ENV_FILE),
                cfn::no_value(),
            ));
        }
        for (name, sidecar) in &self.spec.sidecars {
            if sidecar.env_file.is_some() {
                let (param, condition) = sidecar_env_file_ids(name);
                out.push(cfn::if_(
                    &condition,
                    env_file_policy(json!(format!("EnvFileFor{}", logical_id_safe(name))), &param),
                    cfn::no_value(),
                ));
            }
        }
        out
    }

    /// Secrets the log router and the FireLens driver read (for the execution role).
    pub(crate) fn logging_secrets(&self) -> Vec<&Secret> {
        self.firelens().map(|l| l.secrets.values().chain(l.secret_options.values()).collect()).unwrap_or_default()
    }

    /// The image of a sidecar written as a map: its `location`, or for a
    /// `build` the image the host built and pushed (pinned by digest), else
    /// Copilot's `<sidecar>-latest` tag in the workload's ECR repository.
    pub(crate) fn sidecar_built_image(&self, name: &str, args: &SidecarImageArgs) -> Value {
        if let Some(location) = &args.location {
            return json!(location);
        }
        if args.build.is_none() {
            return Value::Null;
        }
        match self.context.sidecar_images.get(name) {
            Some(image) => json!(&image.uri),
            None => cfn::sub(&format!(
                "${{AWS::AccountId}}.dkr.ecr.${{AWS::Region}}.${{AWS::URLSuffix}}/{}/{}:{name}-latest",
                self.context.app, self.spec.name
            )),
        }
    }

    /// `Volumes` of the task definition.
    pub(crate) fn task_volumes(&self) -> Option<Value> {
        let volumes = self.storage_volumes()?;
        let list: Vec<Value> = volumes
            .iter()
            .map(|(name, v)| match v.source() {
                VolumeSource::Managed { .. } => json!({
                    "Name": name,
                    "EFSVolumeConfiguration": {
                        "FilesystemId": cfn::env_import(family_ids::FILESYSTEM_EXPORT),
                        "RootDirectory": "/",
                        "TransitEncryption": "ENABLED",
                        "AuthorizationConfig": {
                            "AccessPointId": cfn::ref_(family_ids::ACCESS_POINT),
                            "IAM": "ENABLED"
                        }
                    }
                }),
                VolumeSource::Imported { id, root_dir, auth } => {
                    let mut authz = serde_json::Map::new();
                    if let Some(ap) = auth.and_then(|a| a.access_point_id.as_ref()) {
                        authz.insert("AccessPointId".into(), json!(ap));
                    }
                    let iam = auth.and_then(|a| a.iam).unwrap_or(false);
                    authz.insert("IAM".into(), json!(if iam { "ENABLED" } else { "DISABLED" }));
                    json!({
                        "Name": name,
                        "EFSVolumeConfiguration": {
                            "FilesystemId": string_or_import(&id),
                            "RootDirectory": root_dir.unwrap_or("/"),
                            "TransitEncryption": "ENABLED",
                            "AuthorizationConfig": Value::Object(authz)
                        }
                    })
                }
                VolumeSource::Bind => json!({"Name": name}),
            })
            .collect();
        Some(Value::Array(list))
    }

    /// The main container's `MountPoints` (volumes with a `path`).
    pub(crate) fn main_mount_points(&self) -> Option<Value> {
        let volumes = self.storage_volumes()?;
        let list: Vec<Value> = volumes
            .iter()
            .filter_map(|(name, v)| v.path.as_deref().map(|p| mount_point(name, p, v.read_only)))
            .collect();
        (!list.is_empty()).then_some(Value::Array(list))
    }

    /// `COPILOT_MOUNT_POINTS`: volume name → container path, as Copilot sets it.
    pub(crate) fn mount_points_variable(&self) -> Option<Value> {
        let volumes = self.storage_volumes()?;
        let map: serde_json::Map<String, Value> =
            volumes.iter().filter_map(|(name, v)| v.path.as_ref().map(|p| (name.clone(), json!(p)))).collect();
        (!map.is_empty()).then(|| json!({"Name": "COPILOT_MOUNT_POINTS", "Value": Value::Object(map).to_string()}))
    }

    pub(crate) fn sidecar_mount_points(&self, sidecar: &Sidecar) -> Option<Value> {
        let list: Vec<Value> = sidecar
            .mount_points
            .iter()
            .filter_map(|m| Some(mount_point(m.source_volume.as_deref()?, m.path.as_deref()?, m.read_only)))
            .collect();
        (!list.is_empty()).then_some(Value::Array(list))
    }

    pub(crate) fn sidecar_environment_files(&self, name: &str, sidecar: &Sidecar) -> Option<Value> {
        sidecar.env_file.as_ref()?;
        let (param, condition) = sidecar_env_file_ids(name);
        Some(json!([cfn::if_(&condition, json!({"Type": "s3", "Value": cfn::ref_(&param)}), cfn::no_value())]))
    }

    /// The task role's EFS policies: one per imported file system, one for
    /// the managed file system's access point.
    pub(crate) fn efs_policies(&self) -> Vec<Value> {
        let Some(volumes) = self.storage_volumes() else { return Vec::new() };
        let mut out = Vec::new();
        for v in volumes.values() {
            let VolumeSource::Imported { id, auth, .. } = v.source() else { continue };
            let write = v.read_only == Some(false);
            let mut actions = vec!["elasticfilesystem:ClientMount"];
            if write {
                actions.push("elasticfilesystem:ClientWrite");
            }
            let (name, resource) = match &id {
                StringOrFromCfn::String(fs) => (
                    json!(format!("GrantEFSAccess{fs}")),
                    cfn::sub(&format!(
                        "arn:${{AWS::Partition}}:elasticfilesystem:${{AWS::Region}}:${{AWS::AccountId}}:file-system/{fs}"
                    )),
                ),
                StringOrFromCfn::FromCfn(f) => (
                    cfn::join("", json!(["GrantEFSAccess", cfn::import_value(json!(&f.from_cfn))])),
                    cfn::join(
                        "/",
                        json!([
                            cfn::sub(
                                "arn:${AWS::Partition}:elasticfilesystem:${AWS::Region}:${AWS::AccountId}:file-system"
                            ),
                            cfn::import_value(json!(&f.from_cfn))
                        ]),
                    ),
                ),
            };
            let mut statement = json!({"Effect": "Allow", "Action": actions, "Resource": [resource]});
            if let Some(ap) = auth.and_then(|a| a.access_point_id.as_ref()) {
                statement["Condition"] = json!({"StringEquals": {
                    "elasticfilesystem:AccessPointArn": cfn::sub(&format!(
                        "arn:${{AWS::Partition}}:elasticfilesystem:${{AWS::Region}}:${{AWS::AccountId}}:access-point/{ap}"
                    ))
                }});
            }
            out.push(json!({"PolicyName": name, "PolicyDocument": cfn::policy_document(vec![statement])}));
        }
        if self.spec.storage.as_ref().and_then(Storage::managed_volume).is_some() {
            out.push(json!({
                "PolicyName": "GrantAccessCopilotManagedEFS",
                "PolicyDocument": cfn::policy_document(vec![json!({
                    "Effect": "Allow",
                    "Action": ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"],
                    "Condition": {"StringEquals": {
                        "elasticfilesystem:AccessPointArn": cfn::get_att(family_ids::ACCESS_POINT, "Arn")
                    }},
                    "Resource": [cfn::join("/", json!([
                        cfn::sub("arn:${AWS::Partition}:elasticfilesystem:${AWS::Region}:${AWS::AccountId}:file-system"),
                        cfn::env_import(family_ids::FILESYSTEM_EXPORT)
                    ]))]
                })]),
            }));
        }
        out
    }

    /// The access point of the workload's directory on the managed file system.
    pub(crate) fn access_point(&self, t: &mut Template) {
        let Some((_, uid, gid)) = self.spec.storage.as_ref().and_then(Storage::managed_volume) else { return };
        let default = managed_uid(&self.spec.name);
        let (uid, gid) = (uid.unwrap_or(default).to_string(), gid.unwrap_or(default).to_string());
        t.resource(
            family_ids::ACCESS_POINT,
            Resource::new("AWS::EFS::AccessPoint")
                .prop("ClientToken", cfn::sub("${AppName}-${EnvName}-${WorkloadName}"))
                .prop("FileSystemId", cfn::env_import(family_ids::FILESYSTEM_EXPORT))
                .prop("PosixUser", json!({"Uid": &uid, "Gid": &gid}))
                .prop(
                    "RootDirectory",
                    json!({
                        "Path": cfn::sub("/${WorkloadName}"),
                        "CreationInfo": {"OwnerUid": uid, "OwnerGid": gid, "Permissions": "0755"}
                    }),
                )
                .describe("An EFS access point to the workload's directory of the environment's file system"),
        );
    }

    /// The main container's `LogConfiguration`: FireLens when configured.
    pub(crate) fn main_log_configuration(&self) -> Value {
        let Some(logging) = self.firelens() else { return log_configuration() };
        let mut c = serde_json::Map::new();
        c.insert("LogDriver".into(), json!("awsfirelens"));
        if !logging.destination.is_empty() {
            let options: serde_json::Map<String, Value> =
                logging.destination.iter().map(|(k, v)| (k.clone(), json!(v.text()))).collect();
            c.insert("Options".into(), Value::Object(options));
        }
        if !logging.secret_options.is_empty() {
            c.insert("SecretOptions".into(), json!(secrets(&logging.secret_options)));
        }
        Value::Object(c)
    }

    /// The FireLens log router container, before the user's sidecars.
    pub(crate) fn firelens_container(&self) -> Option<Value> {
        let logging = self.firelens()?;
        let mut env = self.copilot_environment();
        env.extend(environment(&logging.variables));
        let mut options = serde_json::Map::new();
        options.insert("enable-ecs-log-metadata".into(), json!(logging.enable_metadata.unwrap_or(true).to_string()));
        if let Some(path) = &logging.config_file_path {
            options.insert("config-file-type".into(), json!("file"));
            options.insert("config-file-value".into(), json!(path));
        }
        let mut c = serde_json::Map::new();
        c.insert("Name".into(), json!(family_ids::FIRELENS_CONTAINER));
        c.insert("Image".into(), json!(logging.image.as_deref().unwrap_or(DEFAULT_FIRELENS_IMAGE)));
        c.insert("Environment".into(), json!(env));
        if logging.env_file.is_some() {
            c.insert(
                "EnvironmentFiles".into(),
                json!([cfn::if_(
                    family_ids::HAS_LOGGING_ENV_FILE,
                    json!({"Type": "s3", "Value": cfn::ref_(family_ids::LOGGING_ENV_FILE)}),
                    cfn::no_value()
                )]),
            );
        }
        if !logging.secrets.is_empty() {
            c.insert("Secrets".into(), json!(secrets(&logging.secrets)));
        }
        c.insert("FirelensConfiguration".into(), json!({"Type": "fluentbit", "Options": options}));
        c.insert("LogConfiguration".into(), log_configuration());
        Some(Value::Object(c))
    }

    /// The X-Ray collector sidecar of `observability.tracing: awsxray`.
    pub(crate) fn xray_container(&self) -> Option<Value> {
        self.tracing().then(|| {
            json!({
                "Name": family_ids::XRAY_CONTAINER,
                "Image": family_ids::XRAY_IMAGE,
                "Command": ["--config=/etc/ecs/ecs-xray.yaml"],
                "LogConfiguration": log_configuration(),
            })
        })
    }

    /// The task role policy the X-Ray collector needs.
    pub(crate) fn xray_policy(&self) -> Option<Value> {
        self.tracing().then(|| {
            json!({
                "PolicyName": "AWSDistroOpenTelemetryPolicy",
                "PolicyDocument": cfn::policy_document(vec![json!({
                    "Effect": "Allow",
                    "Action": [
                        "logs:PutLogEvents",
                        "logs:CreateLogGroup",
                        "logs:CreateLogStream",
                        "logs:DescribeLogStreams",
                        "logs:DescribeLogGroups",
                        "xray:PutTraceSegments",
                        "xray:PutTelemetryRecords",
                        "xray:GetSamplingRules",
                        "xray:GetSamplingTargets",
                        "xray:GetSamplingStatisticSummaries"
                    ],
                    "Resource": "*"
                })]),
            })
        })
    }

    /// The service's `ServiceConnectConfiguration`: a client of the
    /// environment's namespace, and a server when the main container has a port.
    pub(crate) fn service_connect_configuration(&self) -> Option<Value> {
        let alias = self.service_connect()?;
        let mut config = json!({
            "Enabled": true,
            "Namespace": cfn::sub("${EnvName}.${AppName}.local"),
            "LogConfiguration": log_configuration(),
        });
        if self.spec.image.port.is_some() {
            config["Services"] = json!([{
                "PortName": family_ids::SERVICE_CONNECT_PORT,
                "DiscoveryName": cfn::join("-", json!([cfn::ref_("WorkloadName"), "sc"])),
                "ClientAliases": [{
                    "Port": cfn::ref_("ContainerPort"),
                    "DnsName": alias.map(|a| json!(a)).unwrap_or_else(|| cfn::ref_("WorkloadName")),
                }]
            }]);
        }
        Some(config)
    }

    /// `Subnets` of the service: the manifest's IDs, the ones its tags
    /// select (looked up by the host at deploy; offline the environment's
    /// private subnets stand in), or the environment's public or private
    /// subnets.
    pub fn service_subnets(&self) -> Value {
        match (self.placement_subnets(), &self.context.placement_subnets) {
            (Some(SubnetSelection::Ids(ids)), _) => json!(ids),
            (Some(SubnetSelection::FromTags(_)), Some(found)) => json!(found),
            (Some(SubnetSelection::FromTags(_)), None) | (None, _) => {
                cfn::split(",", cfn::env_import(self.subnets_export()))
            }
        }
    }

    fn placement_subnets(&self) -> Option<&SubnetSelection> {
        match self.spec.network.as_ref()?.vpc.as_ref()?.placement.as_ref()? {
            Placement::Subnets(s) => Some(&s.subnets),
            _ => None,
        }
    }

    /// CloudWatch alarms of `rollback_alarms: {cpu_utilization, memory_utilization}`.
    pub(crate) fn rollback_alarms(&self, t: &mut Template) {
        let Some(RollbackAlarms::Args(args)) = self.spec.deployment.as_ref().and_then(|d| d.rollback_alarms.as_ref())
        else {
            return;
        };
        let alarms = [
            (family_ids::CPU_ROLLBACK_ALARM, "CopilotRollbackCPUAlarm", "CPUUtilization", "CPU", args.cpu_utilization),
            (
                family_ids::MEMORY_ROLLBACK_ALARM,
                "CopilotRollbackMemAlarm",
                "MemoryUtilization",
                "memory",
                args.memory_utilization,
            ),
        ];
        for (id, suffix, metric, what, threshold) in alarms {
            let Some(threshold) = threshold else { continue };
            let name = rollback_alarm_name(&self.context.app, &self.context.env, &self.spec.name, suffix);
            t.resource(
                id,
                Resource::new("AWS::CloudWatch::Alarm")
                    .prop(
                        "AlarmDescription",
                        format!(
                            "Roll back ECS service if {what} utilization is greater than or equal to {threshold}% twice in 2 minutes."
                        ),
                    )
                    .prop("AlarmName", name)
                    .prop("Namespace", "AWS/ECS")
                    .prop(
                        "Dimensions",
                        json!([
                            {"Name": "ClusterName", "Value": cfn::env_import("ClusterId")},
                            {"Name": "ServiceName", "Value": cfn::get_att(ids::SERVICE, "Name")}
                        ]),
                    )
                    .prop("MetricName", metric)
                    .prop("ComparisonOperator", "GreaterThanOrEqualToThreshold")
                    .prop("DatapointsToAlarm", 2)
                    .prop("EvaluationPeriods", 2)
                    .prop("Period", 60)
                    .prop("Statistic", "Average")
                    .prop("Threshold", threshold)
                    .prop("Unit", "Percent")
                    .describe(&format!("A CloudWatch alarm on {what} utilization that rolls a deployment back")),
            );
        }
    }

    /// `DeploymentConfiguration.Alarms` of the service.
    pub(crate) fn deployment_alarms(&self) -> Option<Value> {
        let alarms = self.spec.deployment.as_ref()?.rollback_alarms.as_ref()?;
        let names: Vec<Value> = match alarms {
            RollbackAlarms::Names(names) => names.iter().map(|n| json!(n)).collect(),
            // The names themselves, not `Ref`s: the alarms reference the
            // service, so a `Ref` back would be a cycle.
            RollbackAlarms::Args(a) => {
                [(a.cpu_utilization, "CopilotRollbackCPUAlarm"), (a.memory_utilization, "CopilotRollbackMemAlarm")]
                    .into_iter()
                    .filter(|(t, _)| t.is_some())
                    .map(|(_, suffix)| {
                        json!(rollback_alarm_name(&self.context.app, &self.context.env, &self.spec.name, suffix))
                    })
                    .collect()
            }
        };
        (!names.is_empty()).then(|| json!({"AlarmNames": names, "Enable": true, "Rollback": true}))
    }
}

/// `<app>-<env>-<svc>-<suffix>`, shortened to CloudWatch's 255 characters
/// by trimming the app, env and service names alike.
pub fn rollback_alarm_name(app: &str, env: &str, svc: &str, suffix: &str) -> String {
    const MAX: usize = 255;
    let full = format!("{app}-{env}-{svc}-{suffix}");
    if full.len() <= MAX {
        return full;
    }
    let room = MAX - suffix.len() - 3;
    let each = room / 3;
    let cut = |s: &str| s.chars().take(each).collect::<String>();
    format!("{}-{}-{}-{suffix}", cut(app), cut(env), cut(svc))
}

/// Applies `taskdef_overrides` to the rendered `TaskDefinition`'s properties.
pub(crate) fn apply_taskdef_overrides(t: &mut Template, overrides: &[TaskDefOverride]) {
    let Some(Value::Object(resource)) = t.resources.get_mut(ids::TASK_DEFINITION) else { return };
    let properties = resource.entry("Properties").or_insert_with(|| json!({}));
    for rule in overrides {
        if let Ok(segments) = parse_override_path(&rule.path) {
            set_path(properties, &segments, rule.value.clone());
        }
    }
}

/// One step of a `taskdef_overrides` path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathSegment {
    Key(String),
    Index(usize),
    /// `[-]`: append to the list.
    Append,
}

/// Copilot's paths: keys separated by `.`, list indexes as `[0]`, `[-]` to
/// append (`ContainerDefinitions[0].Ulimits[-]`). Paths that would rename the
/// family or a container are refused, as Copilot refuses them.
pub fn parse_override_path(path: &str) -> Result<Vec<PathSegment>, String> {
    if path.trim().is_empty() {
        return Err("the path is empty".into());
    }
    let mut out = Vec::new();
    for part in path.split('.') {
        let (key, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if key.is_empty() {
            return Err(format!("`{part}` has no key before its index"));
        }
        out.push(PathSegment::Key(key.to_string()));
        while !rest.is_empty() {
            let Some(end) = rest.find(']').filter(|_| rest.starts_with('[')) else {
                return Err(format!("`{part}` has an unclosed or stray bracket"));
            };
            let inner = &rest[1..end];
            out.push(match inner {
                "-" => PathSegment::Append,
                n => PathSegment::Index(n.parse().map_err(|_| format!("`[{n}]` is not a list index or `[-]`"))?),
            });
            rest = &rest[end + 1..];
        }
    }
    if let Some(i) = out.iter().position(|s| *s == PathSegment::Append)
        && i + 1 != out.len()
    {
        return Err("`[-]` (append) can only end a path".into());
    }
    match out.as_slice() {
        [PathSegment::Key(k)] if k == "Family" => Err("the task definition's `Family` cannot be overridden".into()),
        [PathSegment::Key(k), PathSegment::Index(_), PathSegment::Key(n)]
            if k == "ContainerDefinitions" && n == "Name" =>
        {
            Err("a container's `Name` cannot be overridden".into())
        }
        _ => Ok(out),
    }
}

fn set_path(node: &mut Value, segments: &[PathSegment], value: Value) {
    let Some((first, rest)) = segments.split_first() else {
        *node = value;
        return;
    };
    match first {
        PathSegment::Key(k) => {
            if !node.is_object() {
                *node = json!({});
            }
            let Some(map) = node.as_object_mut() else { return };
            let next_is_list = matches!(rest.first(), Some(PathSegment::Index(_) | PathSegment::Append));
            let child = map.entry(k.clone()).or_insert_with(|| if next_is_list { json!([]) } else { json!({}) });
            set_path(child, rest, value);
        }
        PathSegment::Index(i) => {
            if let Some(child) = node.as_array_mut().and_then(|list| list.get_mut(*i)) {
                set_path(child, rest, value);
            }
        }
        PathSegment::Append => {
            if !node.is_array() {
                *node = json!([]);
            }
            if let Some(list) = node.as_array_mut() {
                list.push(value);
            }
        }
    }
}

/// Copilot's rule for container and EFS paths.
fn valid_path(path: &str) -> bool {
    !path.is_empty()
        && path.len() <= 242
        && path.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '/'))
}

/// Checks of the families' fields, located by JSON pointer.
pub(crate) fn check_families(spec: &TaskSpec, out: &mut Vec<Diagnostic>) {
    check_volumes(spec, out);
    check_logging(spec, out);
    if let Some(RollbackAlarms::Args(a)) = spec.deployment.as_ref().and_then(|d| d.rollback_alarms.as_ref()) {
        for (field, value) in [("cpu_utilization", a.cpu_utilization), ("memory_utilization", a.memory_utilization)] {
            if let Some(v) = value
                && !(v > 0.0 && v <= 100.0)
            {
                out.push(
                    Diagnostic::error(
                        pointer(["deployment", "rollback_alarms", field]),
                        format!("{v} is not a percentage"),
                    )
                    .with_hint("use a threshold above 0 and at most 100"),
                );
            }
        }
    }
    if let Some(RollbackAlarms::Names(names)) = spec.deployment.as_ref().and_then(|d| d.rollback_alarms.as_ref()) {
        for (i, n) in names.iter().enumerate() {
            if n.trim().is_empty() {
                out.push(Diagnostic::error(
                    pointer(["deployment", "rollback_alarms", &i.to_string()]),
                    "empty alarm name",
                ));
            }
        }
    }
    if let Some(tracing) = spec.observability.as_ref().and_then(|o| o.tracing.as_deref())
        && !tracing.eq_ignore_ascii_case("awsxray")
    {
        out.push(
            Diagnostic::error("/observability/tracing", format!("unknown tracing vendor `{tracing}`"))
                .with_hint("the one Copilot supports is `awsxray`"),
        );
    }
    if let Some(SubnetSelection::Ids(ids)) =
        spec.network.as_ref().and_then(|n| n.vpc.as_ref()).and_then(|v| v.placement.as_ref()).and_then(|p| match p {
            Placement::Subnets(s) => Some(&s.subnets),
            _ => None,
        })
        && ids.is_empty()
    {
        out.push(
            Diagnostic::error("/network/vpc/placement/subnets", "the subnet list is empty")
                .with_hint("list subnet IDs, or use `placement: private`"),
        );
    }
    if let Some(SubnetSelection::FromTags(tags)) =
        spec.network.as_ref().and_then(|n| n.vpc.as_ref()).and_then(|v| v.placement.as_ref()).and_then(|p| match p {
            Placement::Subnets(s) => Some(&s.subnets),
            _ => None,
        })
        && tags.from_tags.is_empty()
    {
        out.push(
            Diagnostic::error("/network/vpc/placement/subnets/from_tags", "no tags to select subnets by")
                .with_hint("add a tag such as `from_tags: {org: bi}`, or list subnet IDs"),
        );
    }
    for (i, rule) in spec.taskdef_overrides.iter().flatten().enumerate() {
        if let Err(why) = parse_override_path(&rule.path) {
            out.push(
                Diagnostic::error(
                    pointer(["taskdef_overrides", &i.to_string(), "path"]),
                    format!("cannot apply `{}`: {why}", rule.path),
                )
                .with_hint("a path of the task definition's properties, e.g. `ContainerDefinitions[0].Ulimits[-]`"),
            );
        }
    }
}

fn check_volumes(spec: &TaskSpec, out: &mut Vec<Diagnostic>) {
    let volumes = spec.storage.as_ref().map(|s| &s.volumes);
    let mut managed = None;
    for (name, v) in volumes.into_iter().flatten() {
        let base = pointer(["storage", "volumes", name]);
        match &v.path {
            None => out.push(
                Diagnostic::error(&base, format!("volume `{name}` has no `path`"))
                    .with_hint("add `path: /where/the/container/mounts/it`"),
            ),
            Some(p) if !valid_path(p) => out.push(
                Diagnostic::error(format!("{base}/path"), format!("`{p}` is not a valid container path"))
                    .with_hint("use letters, digits, `-`, `.`, `_` and `/`, at most 242 characters"),
            ),
            Some(_) => {}
        }
        match v.source() {
            VolumeSource::Managed { uid, gid } => {
                if let Some(first) = managed.replace(name.as_str()) {
                    out.push(
                        Diagnostic::error(
                            format!("{base}/efs"),
                            format!("volume `{first}` already uses the managed file system"),
                        )
                        .with_hint(
                            "a workload gets one directory of the environment's file system: keep one managed volume",
                        ),
                    );
                }
                if uid.is_some() != gid.is_some() {
                    out.push(
                        Diagnostic::error(format!("{base}/efs"), "`uid` and `gid` go together")
                            .with_hint("set both, or neither (Copilot then derives them from the workload's name)"),
                    );
                }
                if uid == Some(0) {
                    out.push(
                        Diagnostic::error(format!("{base}/efs/uid"), "the access point cannot run as root (uid 0)")
                            .with_hint("use a non-zero uid"),
                    );
                }
            }
            VolumeSource::Imported { id, root_dir, auth } => {
                if let Some(Efs::Config(c)) = &v.efs
                    && (c.uid.is_some() || c.gid.is_some())
                {
                    out.push(
                        Diagnostic::error(
                            format!("{base}/efs"),
                            "`uid` and `gid` are for the managed file system only",
                        )
                        .with_hint("remove `uid`/`gid`, or remove `id` to use the environment's file system"),
                    );
                }
                if matches!(&id, StringOrFromCfn::String(s) if s.trim().is_empty()) {
                    out.push(Diagnostic::error(format!("{base}/efs/id"), "empty file system ID"));
                }
                if let Some(dir) = root_dir
                    && !valid_path(dir)
                {
                    out.push(
                        Diagnostic::error(format!("{base}/efs/root_dir"), format!("`{dir}` is not a valid directory"))
                            .with_hint("use letters, digits, `-`, `.`, `_` and `/`"),
                    );
                }
                if let Some(ap) = auth.and_then(|a| a.access_point_id.as_ref()) {
                    if auth.and_then(|a| a.iam) != Some(true) {
                        out.push(
                            Diagnostic::error(
                                format!("{base}/efs/auth/iam"),
                                format!("access point `{ap}` needs `iam: true`"),
                            )
                            .with_hint("ECS mounts through an access point only with IAM authorization"),
                        );
                    }
                    if root_dir.is_some_and(|d| d != "/") {
                        out.push(
                            Diagnostic::error(
                                format!("{base}/efs/root_dir"),
                                "`root_dir` must be `/` with an access point",
                            )
                            .with_hint("the access point sets the directory; remove `root_dir`"),
                        );
                    }
                }
            }
            VolumeSource::Bind => {}
        }
    }
    for (sidecar, s) in &spec.sidecars {
        for (i, m) in s.mount_points.iter().enumerate() {
            let base = pointer(["sidecars", sidecar, "mount_points", &i.to_string()]);
            match &m.source_volume {
                None => out.push(
                    Diagnostic::error(&base, "the mount point has no `source_volume`")
                        .with_hint("name a volume of `storage.volumes`"),
                ),
                Some(v) if !volumes.is_some_and(|vs| vs.contains_key(v)) => out.push(
                    Diagnostic::error(format!("{base}/source_volume"), format!("no volume `{v}` in `storage.volumes`"))
                        .with_hint("declare the volume under `storage.volumes` first"),
                ),
                Some(_) => {}
            }
            match &m.path {
                None => out.push(
                    Diagnostic::error(&base, "the mount point has no `path`")
                        .with_hint("add `path: /where/the/sidecar/mounts/it`"),
                ),
                Some(p) if !valid_path(p) => out.push(
                    Diagnostic::error(format!("{base}/path"), format!("`{p}` is not a valid container path"))
                        .with_hint("use letters, digits, `-`, `.`, `_` and `/`, at most 242 characters"),
                ),
                Some(_) => {}
            }
        }
    }
}

fn check_logging(spec: &TaskSpec, out: &mut Vec<Diagnostic>) {
    let Some(logging) = spec.logging.as_ref() else { return };
    if logging.image.as_deref().is_some_and(|i| i.trim().is_empty()) {
        out.push(Diagnostic::error("/logging/image", "empty log router image"));
    }
    if spec.sidecars.contains_key(family_ids::FIRELENS_CONTAINER) && logging.is_firelens() {
        out.push(
            Diagnostic::error(
                pointer(["sidecars", family_ids::FIRELENS_CONTAINER]),
                format!("`{}` is the name of the FireLens log router `logging` adds", family_ids::FIRELENS_CONTAINER),
            )
            .with_hint("rename the sidecar"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_is_copilots_uid() {
        // crc32.ChecksumIEEE("123456789") is the CRC-32 check value.
        assert_eq!(managed_uid("123456789"), 0xCBF4_3926);
        assert_eq!(managed_uid(""), 0);
    }

    #[test]
    fn override_paths_parse_and_refuse() {
        assert_eq!(
            parse_override_path("ContainerDefinitions[0].Ulimits[-]").unwrap(),
            vec![
                PathSegment::Key("ContainerDefinitions".into()),
                PathSegment::Index(0),
                PathSegment::Key("Ulimits".into()),
                PathSegment::Append
            ]
        );
        assert!(parse_override_path("Family").is_err());
        assert!(parse_override_path("ContainerDefinitions[1].Name").is_err());
        assert!(parse_override_path("Ulimits[-].Name").is_err());
        assert!(parse_override_path("A[x]").is_err());
        assert!(parse_override_path("").is_err());
    }

    #[test]
    fn overrides_set_append_and_create() {
        let mut t = Template::new();
        t.resource(
            ids::TASK_DEFINITION,
            Resource::new("AWS::ECS::TaskDefinition").prop("ContainerDefinitions", json!([{"Name": "web"}])),
        );
        let rules = vec![
            TaskDefOverride { path: "ContainerDefinitions[0].Ulimits[-]".into(), value: json!({"Name": "nofile"}) },
            TaskDefOverride { path: "ContainerDefinitions[0].Ulimits[-]".into(), value: json!({"Name": "core"}) },
            TaskDefOverride { path: "PidMode".into(), value: json!("task") },
            TaskDefOverride { path: "ContainerDefinitions[5].Privileged".into(), value: json!(true) },
        ];
        apply_taskdef_overrides(&mut t, &rules);
        let props = &t.resources[ids::TASK_DEFINITION]["Properties"];
        assert_eq!(props["ContainerDefinitions"][0]["Ulimits"], json!([{"Name": "nofile"}, {"Name": "core"}]));
        assert_eq!(props["PidMode"], json!("task"));
        assert_eq!(props["ContainerDefinitions"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn long_alarm_names_fit() {
        let long = "a".repeat(200);
        let name = rollback_alarm_name(&long, &long, &long, "CopilotRollbackCPUAlarm");
        assert!(name.len() <= 255, "{}", name.len());
        assert!(name.ends_with("-CopilotRollbackCPUAlarm"));
        assert_eq!(rollback_alarm_name("a", "b", "c", "X"), "a-b-c-X");
    }
}
