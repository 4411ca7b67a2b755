//! Typed manifest sections shared by workload types, in Copilot's format.
//!
//! Every documented field has a type here; [`super::validate::check_task`]
//! checks them and [`super::render`] renders them.

use super::either::{Duration, OneOf, StringOrList, map_as, seq_as};
use crate::impl_one_of_deserialize;
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::{self, MapAccess, SeqAccess, Unexpected};
use serde_json::Value;

/// `image:` of the main container.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Image {
    /// Built by the host (`docker build`); the plugin only needs to know it exists.
    pub build: Option<BuildConfig>,
    /// An existing image to run instead of building one.
    pub location: Option<String>,
    /// ARN of a Secrets Manager secret with private registry credentials.
    pub credentials: Option<String>,
    /// The port the container listens on.
    pub port: Option<u32>,
    #[serde(default)]
    pub labels: IndexMap<String, String>,
    /// Container name → condition (`start`, `healthy`, `complete`, `success`).
    #[serde(default)]
    pub depends_on: IndexMap<String, String>,
    pub healthcheck: Option<ContainerHealthCheck>,
}

/// `image.build: path/to/Dockerfile` or a map.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[serde(untagged)]
pub enum BuildConfig {
    Dockerfile(String),
    Args(BuildArgs),
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BuildArgs {
    pub dockerfile: Option<String>,
    pub context: Option<String>,
    pub target: Option<String>,
    #[serde(default)]
    pub args: IndexMap<String, String>,
    #[serde(default)]
    pub cache_from: Vec<String>,
}

impl OneOf for BuildConfig {
    const EXPECTING: &'static str =
        "a Dockerfile path, or a map with `dockerfile`, `context`, `target`, `args`, `cache_from`";
    fn from_str<E: de::Error>(v: &str) -> Result<Self, E> {
        Ok(BuildConfig::Dockerfile(v.to_string()))
    }
    fn from_map<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        map_as(map).map(BuildConfig::Args)
    }
}
impl_one_of_deserialize!(BuildConfig);

/// Container health check (`image.healthcheck`, `sidecars.*.healthcheck`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ContainerHealthCheck {
    pub command: Option<StringOrList>,
    pub interval: Option<Duration>,
    pub retries: Option<u32>,
    pub timeout: Option<Duration>,
    pub start_period: Option<Duration>,
}

/// `platform: linux/arm64` or `{osfamily, architecture}`.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[serde(untagged)]
pub enum Platform {
    String(String),
    Args(PlatformArgs),
}

#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlatformArgs {
    pub osfamily: String,
    pub architecture: String,
}

impl OneOf for Platform {
    const EXPECTING: &'static str =
        "a string such as `linux/x86_64` or `linux/arm64`, or a map with `osfamily` and `architecture`";
    fn from_str<E: de::Error>(v: &str) -> Result<Self, E> {
        Ok(Platform::String(v.to_string()))
    }
    fn from_map<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        map_as(map).map(Platform::Args)
    }
}
impl_one_of_deserialize!(Platform);

/// A platform in ECS's terms (`RuntimePlatform`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedPlatform {
    /// `LINUX`, `WINDOWS_SERVER_2019_CORE`, ...
    pub os_family: &'static str,
    /// `X86_64` or `ARM64`.
    pub architecture: &'static str,
}

impl Default for ResolvedPlatform {
    fn default() -> Self {
        ResolvedPlatform { os_family: "LINUX", architecture: "X86_64" }
    }
}

impl ResolvedPlatform {
    pub fn is_windows(&self) -> bool {
        self.os_family.starts_with("WINDOWS")
    }
    pub fn is_arm(&self) -> bool {
        self.architecture == "ARM64"
    }
}

/// Platform strings Copilot accepts.
pub const PLATFORM_STRINGS: &[&str] =
    &["linux/x86_64", "linux/amd64", "linux/arm64", "linux/arm", "windows/x86_64", "windows/amd64"];
/// `platform.osfamily` values.
pub const OS_FAMILIES: &[&str] = &[
    "linux",
    "windows_server_2019_core",
    "windows_server_2019_full",
    "windows_server_2022_core",
    "windows_server_2022_full",
];

impl Platform {
    /// Maps the manifest's spelling to ECS's, or says what is accepted.
    pub fn resolve(&self) -> Result<ResolvedPlatform, (String, String)> {
        match self {
            Platform::String(s) => match s.as_str() {
                "linux/x86_64" | "linux/amd64" => Ok(ResolvedPlatform::default()),
                "linux/arm64" | "linux/arm" => Ok(ResolvedPlatform { os_family: "LINUX", architecture: "ARM64" }),
                "windows/x86_64" | "windows/amd64" => {
                    Ok(ResolvedPlatform { os_family: "WINDOWS_SERVER_2019_CORE", architecture: "X86_64" })
                }
                other => Err((
                    format!("unknown platform `{other}`"),
                    format!("expected one of: {}", PLATFORM_STRINGS.join(", ")),
                )),
            },
            Platform::Args(args) => {
                let os_family = match args.osfamily.to_ascii_lowercase().as_str() {
                    "linux" => "LINUX",
                    "windows_server_2019_core" => "WINDOWS_SERVER_2019_CORE",
                    "windows_server_2019_full" => "WINDOWS_SERVER_2019_FULL",
                    "windows_server_2022_core" => "WINDOWS_SERVER_2022_CORE",
                    "windows_server_2022_full" => "WINDOWS_SERVER_2022_FULL",
                    other => {
                        return Err((
                            format!("unknown osfamily `{other}`"),
                            format!("expected one of: {}", OS_FAMILIES.join(", ")),
                        ));
                    }
                };
                let architecture = match args.architecture.to_ascii_lowercase().as_str() {
                    "x86_64" | "amd64" => "X86_64",
                    "arm64" | "arm" => "ARM64",
                    other => {
                        return Err((format!("unknown architecture `{other}`"), "expected x86_64 or arm64".into()));
                    }
                };
                Ok(ResolvedPlatform { os_family, architecture })
            }
        }
    }
}

/// `count: 3` or `count: {range, cpu_percentage, ...}`.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[serde(untagged)]
pub enum Count {
    Fixed(u32),
    Advanced(Box<AdvancedCount>),
}

impl OneOf for Count {
    const EXPECTING: &'static str = "a number of tasks, or a map with `range` and scaling targets (`cpu_percentage`, `memory_percentage`, `requests`, `response_time`) or `spot`";
    fn from_u64<E: de::Error>(v: u64) -> Result<Self, E> {
        u32::try_from(v).map(Count::Fixed).map_err(|_| E::invalid_value(Unexpected::Unsigned(v), &"a task count"))
    }
    fn from_map<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        map_as(map).map(|a| Count::Advanced(Box::new(a)))
    }
}
impl_one_of_deserialize!(Count);

#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AdvancedCount {
    pub range: Option<Range>,
    pub cooldown: Option<Cooldown>,
    pub cpu_percentage: Option<ScalingTarget>,
    pub memory_percentage: Option<ScalingTarget>,
    pub requests: Option<ScalingTarget>,
    pub response_time: Option<ScalingTarget>,
    /// Run this many tasks on Fargate Spot (without `range`).
    pub spot: Option<u32>,
    /// Worker Service only: scale on the queue backlog per task.
    pub queue_delay: Option<QueueDelay>,
}

/// `count.queue_delay`: keep the backlog per task at
/// `acceptable_latency / msg_processing_time` messages.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QueueDelay {
    /// How long a message may wait in the queue.
    pub acceptable_latency: Option<Duration>,
    /// How long one task takes to process one message, on average.
    pub msg_processing_time: Option<Duration>,
    pub cooldown: Option<Cooldown>,
}

impl QueueDelay {
    /// Messages one task may have waiting: `acceptable_latency / msg_processing_time`,
    /// rounded down; `None` when either is missing or the processing time is zero.
    pub fn backlog_per_task(&self) -> Option<u64> {
        let latency = self.acceptable_latency?.millis;
        let processing = self.msg_processing_time?.millis;
        (processing > 0).then(|| latency / processing)
    }
}

/// `range: 1-10` or `{min, max, spot_from}`.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[serde(untagged)]
pub enum Range {
    String(String),
    Args(RangeArgs),
}

#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RangeArgs {
    pub min: u32,
    pub max: u32,
    /// Tasks beyond this many-minus-one run on Fargate Spot.
    pub spot_from: Option<u32>,
}

impl OneOf for Range {
    const EXPECTING: &'static str = "a range such as `1-10`, or a map with `min`, `max` and optionally `spot_from`";
    fn from_str<E: de::Error>(v: &str) -> Result<Self, E> {
        match parse_range(v) {
            Some(_) => Ok(Range::String(v.to_string())),
            None => Err(E::invalid_value(Unexpected::Str(v), &"a range such as `1-10` (min-max)")),
        }
    }
    fn from_map<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        map_as(map).map(Range::Args)
    }
}
impl_one_of_deserialize!(Range);

fn parse_range(text: &str) -> Option<(u32, u32)> {
    let (min, max) = text.split_once('-')?;
    Some((min.trim().parse().ok()?, max.trim().parse().ok()?))
}

impl Range {
    /// (min, max).
    pub fn bounds(&self) -> (u32, u32) {
        match self {
            Range::String(s) => parse_range(s).unwrap_or((1, 1)),
            Range::Args(a) => (a.min, a.max),
        }
    }
    pub fn spot_from(&self) -> Option<u32> {
        match self {
            Range::String(_) => None,
            Range::Args(a) => a.spot_from,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Cooldown {
    #[serde(rename = "in")]
    pub scale_in: Option<Duration>,
    #[serde(rename = "out")]
    pub scale_out: Option<Duration>,
}

/// A scaling target: `70` (or `2s` for `response_time`), or `{value, cooldown}`.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[serde(untagged)]
pub enum ScalingTarget {
    Number(f64),
    Duration(String),
    Args(ScalingTargetArgs),
}

#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScalingTargetArgs {
    pub value: Value,
    pub cooldown: Option<Cooldown>,
}

impl OneOf for ScalingTarget {
    const EXPECTING: &'static str =
        "a target value (a number, or a duration for `response_time`), or a map with `value` and `cooldown`";
    fn from_u64<E: de::Error>(v: u64) -> Result<Self, E> {
        Ok(ScalingTarget::Number(v as f64))
    }
    fn from_f64<E: de::Error>(v: f64) -> Result<Self, E> {
        Ok(ScalingTarget::Number(v))
    }
    fn from_str<E: de::Error>(v: &str) -> Result<Self, E> {
        Ok(ScalingTarget::Duration(v.to_string()))
    }
    fn from_map<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        map_as(map).map(ScalingTarget::Args)
    }
}
impl_one_of_deserialize!(ScalingTarget);

impl ScalingTarget {
    /// The raw value and the target's own cooldown.
    pub fn parts(&self) -> (Value, Option<&Cooldown>) {
        match self {
            ScalingTarget::Number(n) => (serde_json::json!(n), None),
            ScalingTarget::Duration(d) => (Value::String(d.clone()), None),
            ScalingTarget::Args(a) => (a.value.clone(), a.cooldown.as_ref()),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Deployment {
    /// `default` or `recreate` (stop old tasks before starting new ones).
    pub rolling: Option<String>,
    /// Alarms that roll a deployment back.
    pub rollback_alarms: Option<RollbackAlarms>,
    /// How ECS moves traffic to a new revision: `rolling` (the default),
    /// `blue_green`, `canary` or `linear` (the last three need a load balancer).
    pub strategy: Option<String>,
    /// How long ECS watches the new revision (and keeps the old one) before
    /// the deployment is complete, in whole minutes (e.g. `10m`; at most `24h`).
    pub bake_time: Option<super::Duration>,
    /// `strategy: canary`: the share of traffic the new revision gets first.
    pub canary: Option<super::deployment::Canary>,
    /// `strategy: linear`: traffic moves in equal steps.
    pub linear: Option<super::deployment::Linear>,
    /// Requests carrying this header reach the new revision before any
    /// production traffic does (blue/green, canary, linear).
    pub test_traffic: Option<super::deployment::TestTraffic>,
}

/// `rollback_alarms: [alarm names]` or `{cpu_utilization, memory_utilization}`
/// (Copilot creates those alarms).
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[serde(untagged)]
pub enum RollbackAlarms {
    Names(Vec<String>),
    Args(RollbackAlarmArgs),
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RollbackAlarmArgs {
    /// Roll back when the service's average CPU reaches this percentage.
    pub cpu_utilization: Option<f64>,
    /// Roll back when the service's average memory reaches this percentage.
    pub memory_utilization: Option<f64>,
}

impl OneOf for RollbackAlarms {
    const EXPECTING: &'static str =
        "a list of CloudWatch alarm names, or a map with `cpu_utilization` and/or `memory_utilization`";
    fn from_seq<'de, A: SeqAccess<'de>>(seq: A) -> Result<Self, A::Error> {
        seq_as(seq).map(RollbackAlarms::Names)
    }
    fn from_map<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        map_as(map).map(RollbackAlarms::Args)
    }
}
impl_one_of_deserialize!(RollbackAlarms);

/// A `variables:` value: a scalar, or `{from_cfn: export-name}`.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[serde(untagged)]
pub enum Variable {
    Value(String),
    FromCfn(FromCfn),
}

#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FromCfn {
    /// Name of a CloudFormation export.
    pub from_cfn: String,
}

impl OneOf for Variable {
    const EXPECTING: &'static str = "a string, number or boolean, or a map `{from_cfn: <export name>}`";
    fn from_str<E: de::Error>(v: &str) -> Result<Self, E> {
        Ok(Variable::Value(v.to_string()))
    }
    fn from_u64<E: de::Error>(v: u64) -> Result<Self, E> {
        Ok(Variable::Value(v.to_string()))
    }
    fn from_i64<E: de::Error>(v: i64) -> Result<Self, E> {
        Ok(Variable::Value(v.to_string()))
    }
    fn from_f64<E: de::Error>(v: f64) -> Result<Self, E> {
        Ok(Variable::Value(v.to_string()))
    }
    fn from_bool<E: de::Error>(v: bool) -> Result<Self, E> {
        Ok(Variable::Value(v.to_string()))
    }
    fn from_map<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        map_as(map).map(Variable::FromCfn)
    }
}
impl_one_of_deserialize!(Variable);

/// A `secrets:` value: an SSM parameter name, path or ARN, a Secrets Manager
/// ARN, `{secretsmanager: name[:json-key...]}` or `{from_cfn: export}`.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[serde(untagged)]
pub enum Secret {
    Parameter(String),
    Map(SecretMap),
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecretMap {
    pub secretsmanager: Option<String>,
    pub from_cfn: Option<String>,
}

impl OneOf for Secret {
    const EXPECTING: &'static str =
        "an SSM parameter name, path or ARN, or a map `{secretsmanager: <name or ARN>}` or `{from_cfn: <export name>}`";
    fn from_str<E: de::Error>(v: &str) -> Result<Self, E> {
        Ok(Secret::Parameter(v.to_string()))
    }
    fn from_map<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        let m: SecretMap = map_as(map)?;
        match (&m.secretsmanager, &m.from_cfn) {
            (Some(_), None) | (None, Some(_)) => Ok(Secret::Map(m)),
            _ => Err(de::Error::invalid_value(Unexpected::Map, &"exactly one of `secretsmanager` or `from_cfn`")),
        }
    }
}
impl_one_of_deserialize!(Secret);

#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Storage {
    /// Ephemeral storage in GiB (20 to 200).
    pub ephemeral: Option<u32>,
    pub readonly_fs: Option<bool>,
    /// Volume name → an EFS file system (managed or imported) or a bind mount.
    #[serde(default)]
    pub volumes: IndexMap<String, Volume>,
}

/// One `storage.volumes` entry.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Volume {
    /// `true` (the environment's managed file system), a file system ID, or its settings.
    pub efs: Option<Efs>,
    /// Where the main container mounts the volume.
    pub path: Option<String>,
    /// Mount read-only (Copilot's default: `true`).
    pub read_only: Option<bool>,
}

/// `efs: true`, `efs: fs-1234` or `efs: {id, root_dir, auth, uid, gid}`.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[serde(untagged)]
pub enum Efs {
    Enabled(bool),
    Id(String),
    Config(EfsConfig),
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EfsConfig {
    /// An existing file system: its ID or `{from_cfn: export}`. Without it
    /// (and with `uid`/`gid`) the environment's managed file system is used.
    pub id: Option<StringOrFromCfn>,
    /// Directory of the file system to mount (default `/`).
    pub root_dir: Option<String>,
    pub auth: Option<EfsAuth>,
    /// POSIX user of the managed file system's access point.
    pub uid: Option<u32>,
    /// POSIX group of the managed file system's access point.
    pub gid: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EfsAuth {
    /// Mount with the task role's IAM identity.
    pub iam: Option<bool>,
    /// An EFS access point to mount through (needs `iam: true`).
    pub access_point_id: Option<String>,
}

impl OneOf for Efs {
    const EXPECTING: &'static str =
        "`true` (the managed file system), a file system ID, or a map with `id`, `root_dir`, `auth`, `uid`, `gid`";
    fn from_bool<E: de::Error>(v: bool) -> Result<Self, E> {
        Ok(Efs::Enabled(v))
    }
    fn from_str<E: de::Error>(v: &str) -> Result<Self, E> {
        Ok(Efs::Id(v.to_string()))
    }
    fn from_map<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        map_as(map).map(Efs::Config)
    }
}
impl_one_of_deserialize!(Efs);

/// What a volume is backed by, as Copilot decides it.
#[derive(Debug, Clone, PartialEq)]
pub enum VolumeSource<'a> {
    /// The environment's managed file system, through an access point of the workload's own.
    Managed { uid: Option<u32>, gid: Option<u32> },
    /// An existing file system.
    Imported { id: StringOrFromCfn, root_dir: Option<&'a str>, auth: Option<&'a EfsAuth> },
    /// Task storage shared between the containers (no `efs`).
    Bind,
}

impl Volume {
    pub fn source(&self) -> VolumeSource<'_> {
        match &self.efs {
            None | Some(Efs::Enabled(false)) => VolumeSource::Bind,
            Some(Efs::Enabled(true)) => VolumeSource::Managed { uid: None, gid: None },
            Some(Efs::Id(id)) => {
                VolumeSource::Imported { id: StringOrFromCfn::String(id.clone()), root_dir: None, auth: None }
            }
            Some(Efs::Config(c)) => match &c.id {
                Some(id) => {
                    VolumeSource::Imported { id: id.clone(), root_dir: c.root_dir.as_deref(), auth: c.auth.as_ref() }
                }
                None if c.uid.is_some() || c.gid.is_some() => VolumeSource::Managed { uid: c.uid, gid: c.gid },
                None => VolumeSource::Bind,
            },
        }
    }
}

impl Storage {
    /// The one volume on the managed file system, when there is one.
    pub fn managed_volume(&self) -> Option<(&str, Option<u32>, Option<u32>)> {
        self.volumes.iter().find_map(|(name, v)| match v.source() {
            VolumeSource::Managed { uid, gid } => Some((name.as_str(), uid, gid)),
            _ => None,
        })
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Logging {
    /// Days to keep the log group's events.
    pub retention: Option<u32>,
    /// The FireLens log router's image (default: AWS for Fluent Bit).
    pub image: Option<String>,
    /// Options of the `awsfirelens` log driver (where the logs go).
    #[serde(default)]
    pub destination: IndexMap<String, Scalar>,
    /// Add the ECS metadata to each log line (default `true`).
    #[serde(rename = "enableMetadata")]
    pub enable_metadata: Option<bool>,
    /// Log driver options read from secrets.
    #[serde(rename = "secretOptions", default)]
    pub secret_options: IndexMap<String, Secret>,
    /// A Fluent Bit configuration file inside the router's image.
    #[serde(rename = "configFilePath")]
    pub config_file_path: Option<String>,
    /// An env file for the log router.
    pub env_file: Option<String>,
    #[serde(default)]
    pub variables: IndexMap<String, Variable>,
    #[serde(default)]
    pub secrets: IndexMap<String, Secret>,
}

/// Copilot's default FireLens log router image.
pub const DEFAULT_FIRELENS_IMAGE: &str = "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable";

impl Logging {
    /// Whether the logs go through a FireLens log router (anything besides `retention`).
    pub fn is_firelens(&self) -> bool {
        self.image.is_some()
            || !self.destination.is_empty()
            || self.enable_metadata.is_some()
            || !self.secret_options.is_empty()
            || self.config_file_path.is_some()
            || self.env_file.is_some()
            || !self.variables.is_empty()
            || !self.secrets.is_empty()
    }
}

/// A scalar written as a string, number or boolean, kept as text.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[serde(untagged)]
pub enum Scalar {
    String(String),
    Number(f64),
    Bool(bool),
}

impl Scalar {
    pub fn text(&self) -> String {
        match self {
            Scalar::String(s) => s.clone(),
            Scalar::Number(n) => n.to_string(),
            Scalar::Bool(b) => b.to_string(),
        }
    }
}

impl OneOf for Scalar {
    const EXPECTING: &'static str = "a string, number or boolean";
    fn from_str<E: de::Error>(v: &str) -> Result<Self, E> {
        Ok(Scalar::String(v.to_string()))
    }
    fn from_u64<E: de::Error>(v: u64) -> Result<Self, E> {
        Ok(Scalar::String(v.to_string()))
    }
    fn from_i64<E: de::Error>(v: i64) -> Result<Self, E> {
        Ok(Scalar::String(v.to_string()))
    }
    fn from_f64<E: de::Error>(v: f64) -> Result<Self, E> {
        Ok(Scalar::Number(v))
    }
    fn from_bool<E: de::Error>(v: bool) -> Result<Self, E> {
        Ok(Scalar::Bool(v))
    }
}
impl_one_of_deserialize!(Scalar);

#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Network {
    /// Service Connect: `true` or `{alias}`.
    pub connect: Option<Connect>,
    pub vpc: Option<Vpc>,
}

/// `connect: true` or `connect: {alias: name}`.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[serde(untagged)]
pub enum Connect {
    Enabled(bool),
    Args(ConnectArgs),
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectArgs {
    /// The name clients use instead of the service's name.
    pub alias: Option<String>,
}

impl OneOf for Connect {
    const EXPECTING: &'static str = "`true`/`false`, or a map with `alias`";
    fn from_bool<E: de::Error>(v: bool) -> Result<Self, E> {
        Ok(Connect::Enabled(v))
    }
    fn from_map<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        map_as(map).map(Connect::Args)
    }
}
impl_one_of_deserialize!(Connect);

impl Network {
    /// Service Connect's alias (`None` for the service name) when it is on.
    pub fn connect(&self) -> Option<Option<&str>> {
        match &self.connect {
            None | Some(Connect::Enabled(false)) => None,
            Some(Connect::Enabled(true)) => Some(None),
            Some(Connect::Args(a)) => Some(a.alias.as_deref()),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Vpc {
    pub placement: Option<Placement>,
    pub security_groups: Option<SecurityGroups>,
}

/// `placement: public | private` or `{subnets: [...]}`.
#[derive(Debug, Clone, PartialEq)]
pub enum Placement {
    Public,
    Private,
    Subnets(PlacementSubnets),
}

/// `placement: {subnets: [ids]}` or `{subnets: {from_tags: {key: value(s)}}}`.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlacementSubnets {
    pub subnets: SubnetSelection,
}

#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[serde(untagged)]
pub enum SubnetSelection {
    Ids(Vec<String>),
    FromTags(SubnetTags),
}

#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SubnetTags {
    /// Tag key → value or values: the environment's subnets carrying them.
    pub from_tags: IndexMap<String, StringOrList>,
}

impl OneOf for SubnetSelection {
    const EXPECTING: &'static str = "a list of subnet IDs, or a map `{from_tags: {key: value}}`";
    fn from_seq<'de, A: SeqAccess<'de>>(seq: A) -> Result<Self, A::Error> {
        seq_as(seq).map(SubnetSelection::Ids)
    }
    fn from_map<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        map_as(map).map(SubnetSelection::FromTags)
    }
}
impl_one_of_deserialize!(SubnetSelection);

impl JsonSchema for Placement {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Placement".into()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let subnets = generator.subschema_for::<PlacementSubnets>();
        schemars::json_schema!({
            "anyOf": [
                {"type": "string", "enum": ["public", "private"]},
                subnets
            ]
        })
    }
}

impl OneOf for Placement {
    const EXPECTING: &'static str = "`public`, `private`, or a map `{subnets: [...]}`";
    fn from_str<E: de::Error>(v: &str) -> Result<Self, E> {
        match v {
            "public" => Ok(Placement::Public),
            "private" => Ok(Placement::Private),
            _ => Err(E::invalid_value(Unexpected::Str(v), &"`public` or `private`")),
        }
    }
    fn from_map<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        map_as(map).map(Placement::Subnets)
    }
}
impl_one_of_deserialize!(Placement);

/// `security_groups: [sg-1, {from_cfn: x}]` or `{groups: [...], deny_default}`.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[serde(untagged)]
pub enum SecurityGroups {
    List(Vec<StringOrFromCfn>),
    Args(SecurityGroupsArgs),
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecurityGroupsArgs {
    #[serde(default)]
    pub groups: Vec<StringOrFromCfn>,
    /// Leave out the environment's default security group.
    pub deny_default: Option<bool>,
}

impl OneOf for SecurityGroups {
    const EXPECTING: &'static str = "a list of security group IDs, or a map with `groups` and `deny_default`";
    fn from_seq<'de, A: SeqAccess<'de>>(seq: A) -> Result<Self, A::Error> {
        seq_as(seq).map(SecurityGroups::List)
    }
    fn from_map<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        map_as(map).map(SecurityGroups::Args)
    }
}
impl_one_of_deserialize!(SecurityGroups);

impl SecurityGroups {
    pub fn groups(&self) -> &[StringOrFromCfn] {
        match self {
            SecurityGroups::List(l) => l,
            SecurityGroups::Args(a) => &a.groups,
        }
    }
    pub fn deny_default(&self) -> bool {
        match self {
            SecurityGroups::List(_) => false,
            SecurityGroups::Args(a) => a.deny_default.unwrap_or(false),
        }
    }
}

/// A literal ID or `{from_cfn: export-name}`.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[serde(untagged)]
pub enum StringOrFromCfn {
    String(String),
    FromCfn(FromCfn),
}

impl OneOf for StringOrFromCfn {
    const EXPECTING: &'static str = "a string, or a map `{from_cfn: <export name>}`";
    fn from_str<E: de::Error>(v: &str) -> Result<Self, E> {
        Ok(StringOrFromCfn::String(v.to_string()))
    }
    fn from_map<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        map_as(map).map(StringOrFromCfn::FromCfn)
    }
}
impl_one_of_deserialize!(StringOrFromCfn);

/// A sidecar container.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Sidecar {
    /// `8080` or `8080/tcp`.
    pub port: Option<SidecarPort>,
    pub image: Option<SidecarImage>,
    pub essential: Option<bool>,
    #[serde(rename = "credentialsParameter")]
    pub credentials_parameter: Option<String>,
    #[serde(default)]
    pub variables: IndexMap<String, Variable>,
    #[serde(default)]
    pub secrets: IndexMap<String, Secret>,
    /// An env file for the sidecar.
    pub env_file: Option<String>,
    /// Volumes of `storage.volumes` the sidecar mounts.
    #[serde(default)]
    pub mount_points: Vec<SidecarMountPoint>,
    #[serde(default)]
    pub labels: IndexMap<String, String>,
    #[serde(default)]
    pub depends_on: IndexMap<String, String>,
    pub healthcheck: Option<ContainerHealthCheck>,
    pub command: Option<StringOrList>,
    pub entrypoint: Option<StringOrList>,
}

/// `port: 8080` or `port: "8080/udp"`.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[serde(untagged)]
pub enum SidecarPort {
    Number(u32),
    String(String),
}

impl OneOf for SidecarPort {
    const EXPECTING: &'static str = "a port number, or `<port>/<tcp|udp>`";
    fn from_u64<E: de::Error>(v: u64) -> Result<Self, E> {
        Ok(SidecarPort::Number(u32::try_from(v).unwrap_or(u32::MAX)))
    }
    fn from_str<E: de::Error>(v: &str) -> Result<Self, E> {
        Ok(SidecarPort::String(v.to_string()))
    }
}
impl_one_of_deserialize!(SidecarPort);

impl SidecarPort {
    /// (port, protocol) or why the text is not a port.
    pub fn parse(&self) -> Result<(u32, &str), String> {
        match self {
            SidecarPort::Number(n) => Ok((*n, "tcp")),
            SidecarPort::String(s) => {
                let (port, protocol) = s.split_once('/').unwrap_or((s, "tcp"));
                let port = port.parse().map_err(|_| format!("`{s}` is not a port such as `8080` or `8080/tcp`"))?;
                match protocol {
                    "tcp" | "udp" => Ok((port, protocol)),
                    other => Err(format!("unknown protocol `{other}`: expected tcp or udp")),
                }
            }
        }
    }
}

/// `sidecars.<name>.mount_points[]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SidecarMountPoint {
    /// A volume of `storage.volumes`.
    pub source_volume: Option<String>,
    /// Where the sidecar mounts it.
    pub path: Option<String>,
    /// Mount read-only (default `true`).
    pub read_only: Option<bool>,
}

/// A sidecar's `image`: a URI, or `{build, location, credentials, ...}`.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[serde(untagged)]
pub enum SidecarImage {
    Uri(String),
    Build(SidecarImageArgs),
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SidecarImageArgs {
    /// Built by the host like the main image.
    pub build: Option<BuildConfig>,
    /// An existing image.
    pub location: Option<String>,
}

impl OneOf for SidecarImage {
    const EXPECTING: &'static str = "an image URI, or a map `{build: ...}`";
    fn from_str<E: de::Error>(v: &str) -> Result<Self, E> {
        Ok(SidecarImage::Uri(v.to_string()))
    }
    fn from_map<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        map_as(map).map(SidecarImage::Build)
    }
}
impl_one_of_deserialize!(SidecarImage);

/// `http: false` (no load balancer rule) or the routing section `H` of the
/// workload type (Load Balanced Web Service, Backend Service).
#[derive(Debug, Clone, PartialEq)]
pub enum HttpOrFalse<H> {
    Disabled,
    Http(Box<H>),
}

impl<H> HttpOrFalse<H> {
    /// The routing section, when there is one.
    pub fn http(&self) -> Option<&H> {
        match self {
            HttpOrFalse::Http(h) => Some(h),
            HttpOrFalse::Disabled => None,
        }
    }
}

impl<H: JsonSchema> JsonSchema for HttpOrFalse<H> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "HttpOrFalse".into()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let http = generator.subschema_for::<H>();
        schemars::json_schema!({ "anyOf": [{ "const": false }, http] })
    }
}

impl<H: for<'de> Deserialize<'de>> OneOf for HttpOrFalse<H> {
    const EXPECTING: &'static str = "`false`, or a map with `path` and routing settings";
    fn from_bool<E: de::Error>(v: bool) -> Result<Self, E> {
        if v {
            Err(E::invalid_value(
                Unexpected::Bool(true),
                &"`false`, or a map with `path` (`http: true` says nothing about where to route)",
            ))
        } else {
            Ok(HttpOrFalse::Disabled)
        }
    }
    fn from_map<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        map_as(map).map(|h| HttpOrFalse::Http(Box::new(h)))
    }
}

impl<'de, H: for<'a> Deserialize<'a>> Deserialize<'de> for HttpOrFalse<H> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        super::either::deserialize_one_of(d)
    }
}

/// `observability:` — `tracing: awsxray` adds the X-Ray collector sidecar.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Observability {
    /// `awsxray`.
    pub tracing: Option<String>,
}

/// One `taskdef_overrides` rule: set `value` at `path` of the task
/// definition's properties (`ContainerDefinitions[0].Ulimits[-]`).
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskDefOverride {
    pub path: String,
    pub value: Value,
}
