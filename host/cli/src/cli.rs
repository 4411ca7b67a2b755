//! Command-line shape. Names and flags follow Copilot's so muscle memory and
//! scripts carry over; every prompt has a flag.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "ferry",
    version,
    about = "Ship containers to AWS from Copilot manifests, extended by WebAssembly plugins"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// When to use colour.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, env = "FERRY_COLOR")]
    pub color: ColorChoice,
    /// Show more detail (plugin logs, timings).
    #[arg(short, long, global = true)]
    pub verbose: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Applications: init, ls, show, delete.
    #[command(subcommand)]
    App(AppCommand),
    /// Services: init, package, deploy, ls, show, status, logs, delete.
    #[command(subcommand)]
    Svc(SvcCommand),
    /// Jobs: init, package, deploy, ls, show, logs, delete.
    #[command(subcommand)]
    Job(JobCommand),
    /// Environments: init, package, deploy, ls, show, delete.
    #[command(subcommand)]
    Env(EnvCommand),
    /// Deploy an environment, then every service and job of the workspace to it.
    Deploy(DeployAll),
    /// Secrets in SSM Parameter Store, one SecureString per environment.
    #[command(subcommand)]
    Secret(SecretCommand),
    /// Render an environment and every workload of the workspace for it.
    Package(PackageAll),
    /// Plugins: ls, inspect, new, build, install, remove, trust, untrust.
    #[command(subcommand)]
    Plugin(PluginCommand),
    /// Release pipelines: init, package, deploy, ls, show, status, delete, override.
    #[command(subcommand)]
    Pipeline(PipelineCommand),
    /// One-off tasks: run, exec, delete.
    #[command(subcommand)]
    Task(TaskCommand),
    /// Run a workload on this machine: local.
    #[command(subcommand)]
    Run(RunCommand),
    /// From a directory with a Dockerfile to a deployed service: create the
    /// application, write the service's manifest, and (with --deploy) deploy
    /// it to a `test` environment. Prompts on a terminal; flags only otherwise.
    Init(InitAll),
    /// Storage: init (S3, DynamoDB, Aurora or a plugin's storage type, as addons).
    #[command(subcommand)]
    Storage(StorageCommand),
    /// Take over the stacks Copilot deployed for this app, in place: plan
    /// (--plan), then retire Copilot's helpers without running their delete
    /// handlers and deploy ferry's templates.
    Adopt(AdoptArgs),
    /// Print the shell completion script for bash, zsh, fish or powershell.
    #[command(
        after_help = "Examples:\n  source <(ferry completion bash)\n  ferry completion zsh > \"${fpath[1]}/_ferry\"\n  ferry completion fish > ~/.config/fish/completions/ferry.fish"
    )]
    Completion(CompletionArgs),
    /// Print ferry's version and the platform it was built for.
    Version(VersionArgs),
    /// Print the documentation's address (and open it in a browser on a terminal).
    Docs(DocsArgs),
}

#[derive(Debug, Args)]
pub struct AdoptArgs {
    /// Only this environment (and its services and jobs) [default: every
    /// environment of the workspace Copilot deployed].
    #[arg(short, long)]
    pub env: Option<String>,
    /// Application name (defaults to the workspace's).
    #[arg(short, long)]
    pub app: Option<String>,
    /// Only read and compare: per stack, the resources kept, replaced,
    /// removed and added, and the custom resources to retire. Changes nothing.
    #[arg(long)]
    pub plan: bool,
    /// Do not ask before changing the stacks.
    #[arg(long)]
    pub yes: bool,
    /// Print JSON lines (one object per stack, then deploy events).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct CompletionArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct VersionArgs {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DocsArgs {
    /// Only print the address, never open a browser.
    #[arg(long)]
    pub print: bool,
}

/// Copilot's `--allow-downgrade`: accepted with a note (ferry compares
/// templates, not versions).
#[derive(Debug, Args, Clone, Default)]
pub struct AllowDowngrade {
    /// Copilot's flag to let an older version update what a newer one
    /// deployed; ferry compares templates, not versions, so it has no effect.
    #[arg(long)]
    pub allow_downgrade: bool,
}

/// `svc|job|env|pipeline override`: scaffold the YAML patch file ferry applies.
#[derive(Debug, Args)]
pub struct OverrideArgs {
    /// Name of the service, job, environment or pipeline.
    #[arg(short, long)]
    pub name: Option<String>,
    /// Environment whose template the resource list comes from (services and jobs).
    #[arg(short, long)]
    pub env: Option<String>,
    /// Application name (defaults to the workspace's).
    #[arg(short, long)]
    pub app: Option<String>,
    /// Infrastructure-as-code tool: `yamlpatch` (the default; `cdk` is not supported by ferry).
    #[arg(long, default_value = "yamlpatch")]
    pub tool: String,
    /// Copilot's language of a CDK override; ferry has no CDK overrides.
    #[arg(long)]
    pub cdk_language: Option<String>,
    /// Write the skeleton without the resource list (ferry never asks).
    #[arg(long)]
    pub skip_resources: bool,
}

#[derive(Debug, Subcommand)]
pub enum SvcCommand {
    /// Write a commented manifest for a new service (copilot/<name>/manifest.yml).
    Init(SvcInit),
    /// Write the CloudFormation template and parameters of a service (offline).
    Package(WorkloadPackage),
    /// Deploy a service to an environment.
    Deploy(WorkloadDeploy),
    /// List the app's services.
    Ls(ListArgs),
    /// Show a service: type, and where it is deployed with its endpoints.
    Show(ShowWorkload),
    /// ECS service, tasks, target health and alarms of a deployed service.
    Status(StatusArgs),
    /// Log events of a service (CloudWatch Logs).
    Logs(LogsArgs),
    /// Delete a service from one environment, or from all and its record.
    Delete(DeleteWorkload),
    /// Rewrite a Request-Driven Web Service (App Runner) into an Express Web Service (ECS Express Mode).
    Migrate(SvcMigrate),
    /// Roll a service back: stop its ECS deployment in progress with rollback,
    /// or return to the previous revision.
    Rollback(SvcRollback),
    /// Run a command in a running container of a service (ECS Exec, through
    /// the Session Manager plugin); needs `exec: true` in its manifest.
    Exec(SvcExec),
    /// Pause a Request-Driven Web Service's App Runner service in an environment.
    Pause(SvcPause),
    /// Resume a paused Request-Driven Web Service.
    Resume(SvcResume),
    /// Write the service's overrides/cfn.patches.yml skeleton (YAML patches applied at package time).
    Override(OverrideArgs),
}

#[derive(Debug, Args)]
pub struct SvcRollback {
    /// Name of the service.
    #[arg(short, long)]
    pub name: String,
    /// Environment it runs in.
    #[arg(short, long)]
    pub env: String,
    /// Application name (defaults to the workspace's).
    #[arg(short, long)]
    pub app: Option<String>,
    /// Print events as JSON lines.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct SvcMigrate {
    /// Name of the Request-Driven Web Service.
    #[arg(short, long)]
    pub name: String,
    /// The type to migrate to.
    #[arg(long, default_value = "Express Web Service")]
    pub to: String,
    /// Print the plan and the new manifest; write nothing.
    #[arg(long, conflicts_with = "deploy")]
    pub dry_run: bool,
    /// Deploy the Express service to this environment beside the App Runner
    /// one, wait until it is healthy, then (asking first) delete the App Runner service.
    #[arg(long, value_name = "ENV")]
    pub deploy: Option<String>,
    /// Application name (defaults to the workspace's).
    #[arg(short, long)]
    pub app: Option<String>,
    #[command(flatten)]
    pub image: ImageFlags,
    #[command(flatten)]
    pub flags: DeployFlags,
}

#[derive(Debug, Subcommand)]
pub enum JobCommand {
    /// Write a commented manifest for a new job (copilot/<name>/manifest.yml).
    Init(JobInit),
    /// Write the CloudFormation template and parameters of a job (offline).
    Package(WorkloadPackage),
    /// Deploy a job to an environment.
    Deploy(WorkloadDeploy),
    /// List the app's jobs.
    Ls(ListArgs),
    /// Show a job: type, and where it is deployed.
    Show(ShowWorkload),
    /// Log events of a job (CloudWatch Logs).
    Logs(LogsArgs),
    /// Delete a job from one environment, or from all and its record.
    Delete(DeleteWorkload),
    /// Run a Scheduled Job now: start its Step Functions state machine.
    Run(JobRun),
    /// Write the job's overrides/cfn.patches.yml skeleton (YAML patches applied at package time).
    Override(OverrideArgs),
}

/// How a deploy behaves; shared by every deploy command.
#[derive(Debug, Args, Clone, Default)]
pub struct DeployFlags {
    /// Deploy even when nothing changed.
    #[arg(long)]
    pub force: bool,
    /// Show the template diff against the deployed stack, then ask.
    #[arg(long)]
    pub diff: bool,
    /// Do not ask for confirmation (needed with --diff when there is no terminal).
    #[arg(long)]
    pub yes: bool,
    /// Print events as JSON lines (one object per line) instead of progress.
    #[arg(long)]
    pub json: bool,
    /// When another run is deploying the same environment, wait for it
    /// instead of refusing.
    #[arg(long)]
    pub wait_for_lock: bool,
    /// Let the update remove or replace this resource (a logical ID) that holds
    /// state or traffic; repeatable, or `all`. Without it such updates are refused.
    #[arg(long = "allow-replacement", value_name = "LOGICAL_ID|all")]
    pub allow_replacement: Vec<String>,
    /// Show the template diff and deploy without asking (--diff --yes).
    #[arg(long)]
    pub diff_yes: bool,
    /// Start the change and return without waiting for CloudFormation to finish.
    #[arg(long)]
    pub detach: bool,
    /// Leave a failed stack as it is instead of rolling it back (not for production:
    /// the next deploy may need a manual rollback first).
    #[arg(long)]
    pub no_rollback: bool,
    /// Extra tags on the deployed stacks: key=value,key=value.
    #[arg(long, value_delimiter = ',', value_name = "KEY=VALUE")]
    pub resource_tags: Vec<String>,
    #[command(flatten)]
    pub downgrade: AllowDowngrade,
}

#[derive(Debug, Args)]
pub struct WorkloadDeploy {
    /// Name of the service or job.
    #[arg(short, long)]
    pub name: String,
    /// Environment to deploy to.
    #[arg(short, long)]
    pub env: String,
    /// Application name (defaults to the workspace's).
    #[arg(short, long)]
    pub app: Option<String>,
    #[command(flatten)]
    pub image: ImageFlags,
    #[command(flatten)]
    pub flags: DeployFlags,
}

/// How workloads with `image.build` get their image; shared by the deploy commands.
#[derive(Debug, Args, Clone)]
pub struct ImageFlags {
    /// Extra tag for the images ferry builds and pushes (the git short SHA of a
    /// clean tree is always added); with --no-build, the tag of an image
    /// already pushed to the workload's ECR repository.
    #[arg(long)]
    pub tag: Option<String>,
    /// Container engine to build with: docker, podman or buildah, or a path to
    /// one [default: the first that works, in that order].
    #[arg(long, env = "FERRY_BUILDER")]
    pub builder: Option<String>,
    /// Do not build: deploy the image already pushed with --tag.
    #[arg(long, requires = "tag")]
    pub no_build: bool,
}

#[derive(Debug, Args)]
pub struct DeployAll {
    /// Environment to deploy (and deploy every workload to).
    #[arg(short, long)]
    pub env: String,
    /// Only these services or jobs (comma-separated or repeated), each with an
    /// optional priority `name/N`: lower numbers deploy first. Without it, every
    /// workload of the workspace, after the environment.
    #[arg(short, long, value_delimiter = ',')]
    pub name: Vec<String>,
    /// Every workload of the workspace (with --name: in addition to the priorities given).
    #[arg(long)]
    pub all: bool,
    /// Deploy the environment first: the default without --name/--all;
    /// `--deploy-env=false` skips it.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub deploy_env: Option<bool>,
    /// Write the environment's manifest (default configuration) when it has none.
    #[arg(long)]
    pub init_env: bool,
    /// Copilot registers workloads first; ferry needs no registration (accepted with a note).
    #[arg(long)]
    pub init_wkld: bool,
    #[command(flatten)]
    pub credentials: CredentialFlags,
    /// Application name (defaults to the workspace's).
    #[arg(short, long)]
    pub app: Option<String>,
    #[command(flatten)]
    pub image: ImageFlags,
    /// Workload stacks deployed (and images built) at the same time.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=16))]
    pub concurrency: u16,
    #[command(flatten)]
    pub flags: DeployFlags,
}

/// AWS credentials for this run (Copilot's environment-account flags).
#[derive(Debug, Args, Clone, Default)]
pub struct CredentialFlags {
    /// Named AWS profile to use.
    #[arg(long)]
    pub profile: Option<String>,
    /// AWS region to use.
    #[arg(long)]
    pub region: Option<String>,
    /// AWS access key ID to use (with --aws-secret-access-key).
    #[arg(long, requires = "aws_secret_access_key")]
    pub aws_access_key_id: Option<String>,
    /// AWS secret access key to use (visible in your shell history: prefer a profile).
    #[arg(long, requires = "aws_access_key_id")]
    pub aws_secret_access_key: Option<String>,
    /// AWS session token of temporary credentials.
    #[arg(long, requires = "aws_access_key_id")]
    pub aws_session_token: Option<String>,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Application name (defaults to the workspace's).
    #[arg(short, long)]
    pub app: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Only those of this workspace (without it: every one recorded in AWS).
    #[arg(long)]
    pub local: bool,
}

#[derive(Debug, Args)]
pub struct ShowWorkload {
    /// Name of the service or job.
    #[arg(short, long)]
    pub name: String,
    /// Application name (defaults to the workspace's).
    #[arg(short, long)]
    pub app: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Print the manifest as it applies to this environment (its
    /// `environments.<env>` overrides merged) instead of the summary.
    #[arg(long, value_name = "ENV")]
    pub manifest: Option<String>,
    /// Also list the resources of each deployed stack.
    #[arg(long)]
    pub resources: bool,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Name of the service.
    #[arg(short, long)]
    pub name: String,
    /// Environment it runs in.
    #[arg(short, long)]
    pub env: String,
    /// Application name (defaults to the workspace's).
    #[arg(short, long)]
    pub app: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// Name of the service or job.
    #[arg(short, long)]
    pub name: String,
    /// Environment it runs in.
    #[arg(short, long)]
    pub env: String,
    /// Application name (defaults to the workspace's).
    #[arg(short, long)]
    pub app: Option<String>,
    /// Only events newer than this, e.g. 30s, 10m, 2h (default: the last hour).
    #[arg(long)]
    pub since: Option<String>,
    /// Keep printing new events until interrupted.
    #[arg(long)]
    pub follow: bool,
    /// At most this many events (before following).
    #[arg(long, default_value_t = 100)]
    pub limit: u32,
    /// Print one JSON object per event.
    #[arg(long)]
    pub json: bool,
    /// Only events at or after this time (RFC 3339, e.g. 2026-01-02T15:04:05Z).
    #[arg(long, conflicts_with = "since")]
    pub start_time: Option<String>,
    /// Only events before this time (RFC 3339).
    #[arg(long, conflicts_with = "follow")]
    pub end_time: Option<String>,
    /// Only events of these task IDs (comma-separated; a prefix is enough).
    #[arg(long, value_delimiter = ',')]
    pub tasks: Vec<String>,
    /// Only events of this container.
    #[arg(long)]
    pub container: Option<String>,
    /// Read this log group instead of the workload's.
    #[arg(long)]
    pub log_group: Option<String>,
    /// `svc logs`: the logs of the service's task that stopped last.
    #[arg(short, long)]
    pub previous: bool,
    /// `job logs`: also the log events of the job's state machine executions.
    #[arg(long)]
    pub include_state_machine: bool,
    /// Copilot's logs of the last N job executions (accepted with a note: ferry reads by time).
    #[arg(long)]
    pub last: Option<u32>,
}

#[derive(Debug, Args)]
pub struct DeleteWorkload {
    /// Name of the service or job.
    #[arg(short, long)]
    pub name: String,
    /// Only remove it from this environment (keeps its record).
    #[arg(short, long)]
    pub env: Option<String>,
    /// Application name (defaults to the workspace's).
    #[arg(short, long)]
    pub app: Option<String>,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub yes: bool,
}

#[derive(Debug, Subcommand)]
pub enum AppCommand {
    /// Create the application in AWS: roles stack, StackSet, SSM record (and copilot/.workspace).
    Init {
        /// Application name (defaults to the workspace's).
        name: Option<String>,
        /// Domain name (Route 53 hosted zone) for aliases.
        #[arg(long)]
        domain: Option<String>,
        /// Tags for every stack of the app: key=value,key=value.
        #[arg(long, value_delimiter = ',')]
        resource_tags: Vec<String>,
        /// IAM policy (name or ARN) to set as permissions boundary of the app's
        /// roles (accepted with a note: not applied yet).
        #[arg(long)]
        permissions_boundary: Option<String>,
    },
    /// List applications in this account and region.
    Ls {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show an application: environments and workloads.
    Show {
        /// Application name (defaults to the workspace's).
        #[arg(short, long)]
        name: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Redeploy the application's roles stack and StackSet with this ferry's
    /// templates, or say there is nothing to upgrade.
    Upgrade {
        /// Application name (defaults to the workspace's).
        #[arg(short, long)]
        name: Option<String>,
    },
    /// Delete the application: every workload and environment stack, the
    /// StackSet, the roles stack and every /copilot/ parameter of it.
    Delete {
        /// Application name (defaults to the workspace's).
        #[arg(short, long)]
        name: Option<String>,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum SecretCommand {
    /// Store a secret as a SecureString per environment:
    /// /copilot/<app>/<env>/secrets/<name>. Values are never echoed.
    Init(SecretInit),
}

#[derive(Debug, Args)]
pub struct SecretInit {
    /// Name of the secret (the key manifests reference).
    #[arg(short, long, required_unless_present = "cli_input_yaml")]
    pub name: Option<String>,
    /// Values per environment: env=value,env=value (visible in your shell
    /// history: prefer stdin or --cli-input-yaml).
    #[arg(long, value_delimiter = ',')]
    pub values: Vec<String>,
    /// Read the value from standard input, for these environments (repeatable).
    #[arg(short, long = "env")]
    pub envs: Vec<String>,
    /// A YAML file of secrets: `NAME: {env: value, ...}`.
    #[arg(long)]
    pub cli_input_yaml: Option<PathBuf>,
    /// Replace values that exist.
    #[arg(long)]
    pub overwrite: bool,
    /// Application name (defaults to the workspace's).
    #[arg(short, long)]
    pub app: Option<String>,
}

#[derive(Debug, Args)]
pub struct WorkloadInit {
    /// Name of the service or job.
    #[arg(short, long)]
    pub name: Option<String>,
    /// Manifest type, e.g. "Load Balanced Web Service" (see `ferry plugin ls`).
    #[arg(short = 't', long = "type")]
    pub kind: Option<String>,
    /// Dockerfile to build the image from.
    #[arg(short, long, conflicts_with = "image")]
    pub dockerfile: Option<String>,
    /// Existing image to run instead of building one.
    #[arg(short, long)]
    pub image: Option<String>,
    /// Port the container listens on (default: the Dockerfile's EXPOSE).
    #[arg(long)]
    pub port: Option<u16>,
    /// Schedule of a job: @daily, @every 5m, a cron expression, rate(...) or none.
    #[arg(long)]
    pub schedule: Option<String>,
    /// Application name (defaults to the workspace's).
    #[arg(short, long)]
    pub app: Option<String>,
}

/// `svc init`: Copilot's flags, turned into [`WorkloadInit`] and manifest edits.
#[derive(Debug, Args)]
pub struct SvcInit {
    /// Name of the service.
    #[arg(short, long)]
    pub name: Option<String>,
    /// Service type, e.g. "Load Balanced Web Service" (see `ferry plugin ls`).
    #[arg(short = 't', long = "svc-type", visible_alias = "type")]
    pub kind: Option<String>,
    /// Dockerfile to build the image from.
    #[arg(short, long, conflicts_with = "image")]
    pub dockerfile: Option<String>,
    /// Existing image to run instead of building one.
    #[arg(short, long)]
    pub image: Option<String>,
    /// Port the container listens on (default: the Dockerfile's EXPOSE).
    #[arg(long)]
    pub port: Option<u16>,
    /// Request-Driven Web Service: who may reach it, `Internet` or `Environment` (only the VPC).
    #[arg(long, value_parser = ["Internet", "Environment"])]
    pub ingress_type: Option<String>,
    /// Worker Service: SNS topics to subscribe to, `service:topic` (repeatable or comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub subscribe_topics: Vec<String>,
    /// Worker Service: subscribe to no topic.
    #[arg(long, conflicts_with = "subscribe_topics")]
    pub no_subscribe: bool,
    /// Static Site: files or directories to upload (repeatable or comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub sources: Vec<String>,
    /// Application name (defaults to the workspace's).
    #[arg(short, long)]
    pub app: Option<String>,
    #[command(flatten)]
    pub downgrade: AllowDowngrade,
}

/// `job init`: Copilot's flags, turned into [`WorkloadInit`] and manifest edits.
#[derive(Debug, Args)]
pub struct JobInit {
    /// Name of the job.
    #[arg(short, long)]
    pub name: Option<String>,
    /// Job type, e.g. "Scheduled Job".
    #[arg(short = 't', long = "job-type", visible_alias = "type")]
    pub kind: Option<String>,
    /// Dockerfile to build the image from.
    #[arg(short, long, conflicts_with = "image")]
    pub dockerfile: Option<String>,
    /// Existing image to run instead of building one.
    #[arg(short, long)]
    pub image: Option<String>,
    /// When the job runs: @daily, @every 5m, a cron expression, rate(...) or none.
    #[arg(short, long)]
    pub schedule: Option<String>,
    /// Times to retry a failed run.
    #[arg(long)]
    pub retries: Option<u32>,
    /// Time limit of a run, retries included, e.g. 1h30m or 900s.
    #[arg(long)]
    pub timeout: Option<String>,
    /// Application name (defaults to the workspace's).
    #[arg(short, long)]
    pub app: Option<String>,
    #[command(flatten)]
    pub downgrade: AllowDowngrade,
}

#[derive(Debug, Args)]
pub struct WorkloadPackage {
    /// Name of the service or job.
    #[arg(short, long, required_unless_present = "all", conflicts_with = "all")]
    pub name: Option<String>,
    /// Environment to render for.
    #[arg(short, long)]
    pub env: String,
    /// Application name (defaults to the workspace's).
    #[arg(short, long)]
    pub app: Option<String>,
    /// Image tag to deploy (needs --registry until ferry reads it from AWS).
    #[arg(long)]
    pub tag: Option<String>,
    /// ECR registry host for --tag, e.g. 123456789012.dkr.ecr.us-west-2.amazonaws.com.
    #[arg(long, requires = "tag")]
    pub registry: Option<String>,
    /// Write files here instead of printing the template.
    #[arg(long)]
    pub output_dir: Option<PathBuf>,
    /// Render every workload of the workspace, in parallel (needs --output-dir).
    #[arg(long, requires = "output_dir")]
    pub all: bool,
    /// Build and push images and upload addons to the app's artifact bucket
    /// exactly as `svc deploy` does, and write templates that reference them
    /// (what a release pipeline's build runs); needs AWS credentials.
    #[arg(long, conflicts_with = "registry")]
    pub upload_assets: bool,
    /// Container engine for --upload-assets: docker, podman or buildah, or a path.
    #[arg(long, env = "FERRY_BUILDER", requires = "upload_assets")]
    pub builder: Option<String>,
    /// Print the diff against the deployed stack and exit: 0 when there is
    /// none, 1 when there are changes, 2 on error.
    #[arg(long, conflicts_with_all = ["all", "output_dir"])]
    pub diff: bool,
    #[command(flatten)]
    pub downgrade: AllowDowngrade,
}

#[derive(Debug, Subcommand)]
pub enum EnvCommand {
    /// Write a commented manifest for a new environment (copilot/environments/<name>/manifest.yml);
    /// an environment that has one keeps it.
    Init(Box<EnvInit>),
    /// Write the CloudFormation template and parameters of an environment (offline).
    Package(EnvPackage),
    /// Deploy an environment (creates it the first time).
    Deploy(EnvDeploy),
    /// List the app's environments.
    Ls(ListArgs),
    /// Show an environment: region, account, stack status and outputs.
    Show(EnvShow),
    /// Redeploy environments with this ferry's templates, or say there is nothing to upgrade.
    Upgrade(EnvUpgrade),
    /// Write the environments' overrides/cfn.patches.yml skeleton (YAML patches applied at package time).
    Override(OverrideArgs),
    /// Delete an environment (its workloads must be deleted first).
    Delete {
        /// Name of the environment.
        #[arg(short, long)]
        name: String,
        /// Application name (defaults to the workspace's).
        #[arg(short, long)]
        app: Option<String>,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, Args)]
pub struct EnvShow {
    /// Name of the environment.
    #[arg(short, long)]
    pub name: String,
    /// Application name (defaults to the workspace's).
    #[arg(short, long)]
    pub app: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Print the environment's manifest instead of the summary.
    #[arg(long)]
    pub manifest: bool,
    /// Also list the stack's resources.
    #[arg(long)]
    pub resources: bool,
}

#[derive(Debug, Args)]
pub struct EnvUpgrade {
    /// Name of the environment.
    #[arg(short, long, required_unless_present = "all", conflicts_with = "all")]
    pub name: Option<String>,
    /// Every environment of the workspace.
    #[arg(long)]
    pub all: bool,
    /// Application name (defaults to the workspace's).
    #[arg(short, long)]
    pub app: Option<String>,
    /// Print events as JSON lines.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct EnvInit {
    /// Name of the environment.
    #[arg(short, long)]
    pub name: Option<String>,
    /// Application name (defaults to the workspace's).
    #[arg(short, long)]
    pub app: Option<String>,
    /// Use the default network configuration without asking.
    #[arg(long, conflicts_with_all = ["import_vpc_id", "override_vpc_cidr", "override_az_names", "override_public_cidrs", "override_private_cidrs", "internal_alb_subnets"])]
    pub default_config: bool,
    /// Import this VPC instead of creating one.
    #[arg(long, help_heading = "Import existing resources")]
    pub import_vpc_id: Option<String>,
    /// Public subnets of the imported VPC (comma-separated).
    #[arg(long, value_delimiter = ',', requires = "import_vpc_id", help_heading = "Import existing resources")]
    pub import_public_subnets: Vec<String>,
    /// Private subnets of the imported VPC (comma-separated).
    #[arg(long, value_delimiter = ',', requires = "import_vpc_id", help_heading = "Import existing resources")]
    pub import_private_subnets: Vec<String>,
    /// ACM certificates for the public load balancer (comma-separated ARNs).
    #[arg(long, value_delimiter = ',', help_heading = "Import existing resources")]
    pub import_cert_arns: Vec<String>,
    /// CIDR of the VPC ferry creates [default: 10.0.0.0/16].
    #[arg(long, conflicts_with = "import_vpc_id", help_heading = "Configure default resources")]
    pub override_vpc_cidr: Option<String>,
    /// Availability zones of the subnets ferry creates (comma-separated).
    #[arg(long, value_delimiter = ',', conflicts_with = "import_vpc_id", help_heading = "Configure default resources")]
    pub override_az_names: Vec<String>,
    /// CIDRs of the public subnets [default: 10.0.0.0/24,10.0.1.0/24].
    #[arg(long, value_delimiter = ',', conflicts_with = "import_vpc_id", help_heading = "Configure default resources")]
    pub override_public_cidrs: Vec<String>,
    /// CIDRs of the private subnets [default: 10.0.2.0/24,10.0.3.0/24].
    #[arg(long, value_delimiter = ',', conflicts_with = "import_vpc_id", help_heading = "Configure default resources")]
    pub override_private_cidrs: Vec<String>,
    /// Subnets of the internal load balancer (default: the private subnets).
    #[arg(long, value_delimiter = ',', help_heading = "Configure default resources")]
    pub internal_alb_subnets: Vec<String>,
    /// Let the VPC reach the internal load balancer on ports 80 and 443.
    #[arg(long, help_heading = "Configure default resources")]
    pub internal_alb_allow_vpc_ingress: bool,
    /// Turn on CloudWatch Container Insights.
    #[arg(long, help_heading = "Telemetry")]
    pub container_insights: bool,
    /// Copilot's credentials of the environment's account: `env init` only writes
    /// the manifest, so they are accepted with a note (`env deploy` uses your AWS setup).
    #[command(flatten)]
    pub credentials: CredentialFlags,
    #[command(flatten)]
    pub downgrade: AllowDowngrade,
}

#[derive(Debug, Args)]
pub struct EnvDeploy {
    /// Name of the environment.
    #[arg(short, long)]
    pub name: String,
    /// Application name (defaults to the workspace's).
    #[arg(short, long)]
    pub app: Option<String>,
    #[command(flatten)]
    pub flags: DeployFlags,
}

#[derive(Debug, Args)]
pub struct EnvPackage {
    /// Name of the environment.
    #[arg(short, long)]
    pub name: String,
    /// Application name (defaults to the workspace's).
    #[arg(short, long)]
    pub app: Option<String>,
    /// Write files here instead of printing the template.
    #[arg(long)]
    pub output_dir: Option<PathBuf>,
    /// Print the diff against the deployed stack and exit: 0 when there is
    /// none, 1 when there are changes, 2 on error.
    #[arg(long, conflicts_with = "output_dir")]
    pub diff: bool,
    /// Copilot's forced update; packaging changes nothing (accepted with a note).
    #[arg(long)]
    pub force: bool,
    /// Copilot's asset upload; an environment stack has no assets in ferry (accepted with a note).
    #[arg(long)]
    pub upload_assets: bool,
    #[command(flatten)]
    pub downgrade: AllowDowngrade,
}

#[derive(Debug, Args)]
pub struct PackageAll {
    /// Environment to render.
    #[arg(short, long)]
    pub env: String,
    /// Application name (defaults to the workspace's).
    #[arg(short, long)]
    pub app: Option<String>,
    /// Directory for the templates.
    #[arg(long)]
    pub output_dir: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// List the plugins ferry knows.
    Ls {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show one plugin: kind, version, manifest types, ABI version, digest, schema.
    Inspect {
        /// Plugin name (see `ferry plugin ls`).
        name: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Scaffold a plugin crate: Cargo.toml, src/lib.rs, a sample manifest, a snapshot test and a README.
    New(PluginNew),
    /// Build a plugin crate for wasm32-wasip2 and check the component it produces.
    Build(PluginBuild),
    /// Install a plugin into this workspace (copilot/plugins/), pinned by sha256 in copilot/plugins.lock.
    Install(PluginInstall),
    /// Remove an installed plugin from this workspace and its lock.
    Remove {
        /// Plugin name (see `ferry plugin ls`).
        name: String,
    },
    /// Trust a native plugin pinned in this workspace's lock (e.g. after cloning the
    /// project): recorded for you only, in your config directory, for this workspace
    /// and this exact file. Native plugins are NOT sandboxed.
    Trust {
        /// Plugin name (see `ferry plugin ls`).
        name: String,
    },
    /// Withdraw your trust in a native plugin of this workspace.
    Untrust {
        /// Plugin name (see `ferry plugin ls`).
        name: String,
    },
}

/// What a scaffolded plugin produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PluginKindArg {
    Service,
    Job,
    PipelineProvider,
    Environment,
    /// A storage type offered by `storage init` (plugin ABI 0.4).
    Storage,
}

#[derive(Debug, Args)]
pub struct PluginNew {
    /// Plugin (and crate) name, lowercase kebab-case, e.g. `queue-processor`.
    pub name: String,
    /// What the plugin produces.
    #[arg(long, value_enum, default_value = "service")]
    pub kind: PluginKindArg,
    /// The manifest `type:` it renders (default: the name in title case, e.g. `Queue Processor`).
    #[arg(long = "type")]
    pub manifest_type: Option<String>,
    /// Directory to create (default: ./<name>).
    #[arg(long)]
    pub path: Option<PathBuf>,
    /// Use this ferry-plugin-sdk checkout (the `plugin-api/sdk` directory) as a path dependency.
    /// Default: the SDK of the ferry checkout around the current directory or the ferry binary,
    /// else a git dependency on ferry's repository at this ferry's version.
    #[arg(long, env = "FERRY_PLUGIN_SDK")]
    pub sdk_path: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct PluginBuild {
    /// The plugin crate (default: the current directory).
    pub dir: Option<PathBuf>,
    /// Build without touching the network (cargo --offline).
    #[arg(long)]
    pub offline: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct PluginInstall {
    /// A `.wasm` component path, an `https://` URL, an `oci://` reference, or (with
    /// --trust-native) a native library path.
    pub source: String,
    /// Let this plugin replace bundled plugins that claim the same manifest types (recorded in the lock).
    #[arg(long)]
    pub override_bundled: bool,
    /// Refuse the plugin unless its sha256 is this (hex), e.g. the digest its author published.
    #[arg(long)]
    pub sha256: Option<String>,
    /// Install a native library (.so, .dylib, .dll) from a local path. Native plugins are NOT
    /// sandboxed: they run with all of ferry's permissions. Your trust is recorded for you
    /// only (in your config directory), for this workspace and this exact file.
    #[arg(long)]
    pub trust_native: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum PipelineCommand {
    /// Write copilot/pipelines/<name>/manifest.yml and buildspec.yml.
    Init(PipelineInit),
    /// Write the pipeline's CloudFormation template and parameters (offline).
    Package(PipelinePackage),
    /// Deploy the pipeline stack (pipeline-<app>-<name>).
    Deploy(PipelineDeploy),
    /// List the app's deployed pipelines.
    Ls(PipelineLs),
    /// Show a pipeline: source, stages and actions.
    Show(PipelineShow),
    /// What each stage and action of a pipeline is doing.
    Status(PipelineName),
    /// Delete a pipeline's stack.
    Delete(PipelineDelete),
    /// Write the pipeline's overrides/cfn.patches.yml skeleton (YAML patches applied at package time).
    Override(OverrideArgs),
}

#[derive(Debug, Args)]
pub struct PipelineInit {
    /// Name of the pipeline (default: <app>-<repository>).
    #[arg(short, long)]
    pub name: Option<String>,
    /// Repository URL (default: the `origin` remote of the git repository).
    #[arg(short, long)]
    pub url: Option<String>,
    /// What the pipeline deploys: `Workloads` (ferry's pipelines deploy the
    /// workloads; `Environments` is refused with a note).
    #[arg(short, long, default_value = "Workloads")]
    pub pipeline_type: String,
    /// Branch the pipeline follows (default: the checked-out branch, else main).
    #[arg(short = 'b', long)]
    pub git_branch: Option<String>,
    /// Environments to deploy to, in order (comma-separated; default: all of the workspace's).
    #[arg(short, long, value_delimiter = ',')]
    pub environments: Vec<String>,
    /// Source provider (default: the installed provider that accepts the URL).
    #[arg(long)]
    pub provider: Option<String>,
    /// Name of the application (must match the workspace).
    #[arg(short, long)]
    pub app: Option<String>,
}

#[derive(Debug, Args)]
pub struct PipelinePackage {
    /// Name of the pipeline (default: the only one of the workspace).
    #[arg(short, long)]
    pub name: Option<String>,
    /// Write <stack>.stack.json and <stack>.params.json here instead of printing the template.
    #[arg(long)]
    pub output_dir: Option<PathBuf>,
    #[arg(short, long)]
    pub app: Option<String>,
}

#[derive(Debug, Args)]
pub struct PipelineDeploy {
    /// Name of the pipeline (default: the only one of the workspace).
    #[arg(short, long)]
    pub name: Option<String>,
    #[arg(short, long)]
    pub app: Option<String>,
    /// The ferry binary the pipeline's build runs, uploaded to the app's
    /// artifact bucket (default: this one; give a Linux build for the
    /// CodeBuild image's architecture when deploying from another system).
    #[arg(long, value_name = "PATH")]
    pub ferry_binary: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub flags: DeployFlags,
}

#[derive(Debug, Args)]
pub struct PipelineLs {
    /// Name of the application (default: the workspace's).
    #[arg(short, long)]
    pub app: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Only the pipelines of this workspace.
    #[arg(long)]
    pub local: bool,
}

#[derive(Debug, Args)]
pub struct PipelineName {
    /// Name of the pipeline (default: the only one of the workspace).
    #[arg(short, long)]
    pub name: Option<String>,
    /// Name of the application (default: the workspace's).
    #[arg(short, long)]
    pub app: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct PipelineShow {
    #[command(flatten)]
    pub pipeline: PipelineName,
    /// Also list the stack's resources.
    #[arg(long)]
    pub resources: bool,
}

#[derive(Debug, Args)]
pub struct PipelineDelete {
    /// Name of the pipeline (default: the only one of the workspace).
    #[arg(short, long)]
    pub name: Option<String>,
    /// Name of the application (default: the workspace's).
    #[arg(short, long)]
    pub app: Option<String>,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub yes: bool,
    /// Copilot's deletion of a source secret; ferry's pipelines use connections
    /// and keep no secret (accepted with a note).
    #[arg(long)]
    pub delete_secret: bool,
}

#[derive(Debug, Subcommand)]
pub enum StorageCommand {
    /// Add a storage resource as a workload addon (copilot/<workload>/addons/) or an
    /// environment addon (copilot/environments/addons/): S3, DynamoDB, Aurora, or any
    /// installed storage plugin's type.
    Init(StorageInit),
}

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
ferry storage init -n my-bucket -t S3 -w frontend -l workload\n  \
ferry storage init -t DynamoDB -n my-table -w frontend --partition-key Email:S --sort-key UserId:N --no-lsi\n  \
ferry storage init -n my-cluster -t Aurora -w frontend -l environment --engine PostgreSQL")]
pub struct StorageInit {
    /// Name of the storage resource to create.
    #[arg(short = 'n', long)]
    pub name: Option<String>,
    /// Type of storage to add: "DynamoDB", "S3", "Aurora", or a storage plugin's type.
    #[arg(short = 't', long = "storage-type")]
    pub storage_type: Option<String>,
    /// Name of the service or job that accesses the storage resource.
    #[arg(short = 'w', long)]
    pub workload: Option<String>,
    /// Whether the storage is created and deleted with a workload or with each environment:
    /// "workload" or "environment".
    #[arg(short = 'l', long)]
    pub lifecycle: Option<String>,
    /// The workload that needs access to an environment storage resource: writes only its
    /// access file. Use with --name and --storage-type (and --engine for Aurora).
    #[arg(long = "add-ingress-from")]
    pub add_ingress_from: Option<String>,
    /// DynamoDB: partition key, as '<keyName>:<dataType>' (S, N or B).
    #[arg(long = "partition-key", help_heading = "DynamoDB Flags")]
    pub partition_key: Option<String>,
    /// DynamoDB, optional: sort key, as '<keyName>:<dataType>'.
    #[arg(long = "sort-key", help_heading = "DynamoDB Flags")]
    pub sort_key: Option<String>,
    /// DynamoDB, optional: no sort key.
    #[arg(long = "no-sort", help_heading = "DynamoDB Flags")]
    pub no_sort: bool,
    /// DynamoDB, optional: attribute to use as an alternate sort key (local secondary
    /// index), as '<keyName>:<dataType>'; up to 5 times.
    #[arg(long = "lsi", help_heading = "DynamoDB Flags")]
    pub lsi: Vec<String>,
    /// DynamoDB, optional: no alternate sort keys.
    #[arg(long = "no-lsi", help_heading = "DynamoDB Flags")]
    pub no_lsi: bool,
    /// Aurora: the database engine, "MySQL" or "PostgreSQL" (default PostgreSQL).
    #[arg(long, help_heading = "Aurora Serverless Flags")]
    pub engine: Option<String>,
    /// Aurora: the initial database to create in the cluster.
    #[arg(long = "initial-db", help_heading = "Aurora Serverless Flags")]
    pub initial_db: Option<String>,
    /// Aurora, optional: an existing DB cluster parameter group to use.
    #[arg(long = "parameter-group", help_heading = "Aurora Serverless Flags")]
    pub parameter_group: Option<String>,
    /// Aurora, optional: the Aurora Serverless version; only "v2" (v1 has reached its end of life).
    #[arg(long = "serverless-version", help_heading = "Aurora Serverless Flags")]
    pub serverless_version: Option<String>,
    /// Application name (default: the workspace's).
    #[arg(short = 'a', long)]
    pub app: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum RunCommand {
    /// Run a service's containers (and its sidecars) on this machine with
    /// podman or docker: the manifest's variables for the environment, its
    /// secrets read from SSM, Copilot's COPILOT_* variables and AWS
    /// credentials; one network namespace, as in an ECS task. Ctrl-C stops
    /// and removes every container it started.
    Local(RunLocal),
}

#[derive(Debug, Args)]
pub struct RunLocal {
    /// Name of the service or job.
    #[arg(short, long)]
    pub name: Option<String>,
    /// Name of the environment whose overrides, secrets and task role are used
    /// (default: the workspace's only environment).
    #[arg(short, long)]
    pub env: Option<String>,
    /// Name of the application (defaults to the workspace's).
    #[arg(short, long)]
    pub app: Option<String>,
    /// Override a variable passed to the containers: [container]:KEY=VALUE
    /// (without a container, every container); comma-separated or repeated.
    #[arg(long, value_delimiter = ',', value_name = "[CONTAINER:]KEY=VALUE")]
    pub env_var_override: Vec<String>,
    /// Publish a container port on another local port: <host port>:<container port>,
    /// e.g. 5000:80 binds localhost:5000 to the service's port 80; comma-separated or repeated.
    #[arg(long, value_delimiter = ',', value_name = "HOST:CONTAINER")]
    pub port_override: Vec<String>,
    /// Watch the workspace and rebuild and restart the containers when a file
    /// changes (`.git` and `copilot/` are ignored).
    #[arg(long)]
    pub watch: bool,
    /// Give the containers temporary credentials of the deployed service's task
    /// role (STS AssumeRole) instead of your own; `--use-task-role=false` to turn off.
    #[arg(long, num_args = 0..=1, default_value_t = true, default_missing_value = "true", require_equals = true, action = clap::ArgAction::Set)]
    pub use_task_role: bool,
    /// Proxy outbound requests to the environment's VPC (not supported by ferry yet: refused).
    #[arg(long)]
    pub proxy: bool,
    /// Network for --proxy (CIDR).
    #[arg(long, default_value = "172.20.0.0/16", value_name = "CIDR")]
    pub proxy_network: String,
    /// Container engine: docker or podman, or a path to one [default: the first that works].
    #[arg(long, env = "FERRY_BUILDER")]
    pub builder: Option<String>,
}

#[derive(Debug, Args)]
pub struct InitAll {
    /// Name of the application (default: the workspace's, if there is one).
    #[arg(short, long)]
    pub app: Option<String>,
    /// Name of the service or job.
    #[arg(short, long)]
    pub name: Option<String>,
    /// Type of the service or job, e.g. "Load Balanced Web Service", "Backend Service", "Scheduled Job".
    #[arg(short = 't', long = "type", value_name = "TYPE")]
    pub kind: Option<String>,
    /// Path to the Dockerfile (relative to this directory).
    #[arg(short, long, conflicts_with = "image")]
    pub dockerfile: Option<String>,
    /// The location of an existing image to run instead of building one.
    #[arg(short, long)]
    pub image: Option<String>,
    /// The port the service listens on (default: the Dockerfile's EXPOSE).
    #[arg(long)]
    pub port: Option<u16>,
    /// Schedule of a job: "0 * * * *", @daily, @every 1h30m, rate(10 minutes), cron(...), none.
    #[arg(long)]
    pub schedule: Option<String>,
    /// Jobs: how many times to retry a failed run.
    #[arg(long)]
    pub retries: Option<u32>,
    /// Jobs: the total time a run may take, retries included, e.g. 2h, 1h30m, 900s.
    #[arg(long)]
    pub timeout: Option<String>,
    /// Deploy to a `test` environment (created when missing) without asking.
    #[arg(long)]
    pub deploy: bool,
    /// Extra tag for the image ferry builds (see `svc deploy --tag`).
    #[arg(long)]
    pub tag: Option<String>,
    /// Container engine to build with: docker, podman or buildah, or a path to one.
    #[arg(long, env = "FERRY_BUILDER")]
    pub builder: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum TaskCommand {
    /// Run one-off tasks: the task group's stack (`task-<group>`: ECR repository,
    /// log group, task definition, roles), the image built or given, then the tasks.
    Run(Box<TaskRun>),
    /// Run a command in a running container of a one-off task (ECS Exec).
    Exec(TaskExec),
    /// Stop a task group's running tasks and delete its stack and images.
    Delete(TaskDelete),
}

#[derive(Debug, Args)]
pub struct TaskRun {
    /// The group name of the task: tasks of one group share their stack,
    /// ECR repository, log group and task definition [default: the directory's name].
    #[arg(short = 'n', long = "task-group-name")]
    pub group: Option<String>,
    /// Path to the Docker build context [default: the Dockerfile's directory].
    #[arg(long, conflicts_with = "image")]
    pub build_context: Option<String>,
    /// Path to the Dockerfile to build [default: Dockerfile].
    #[arg(long, conflicts_with = "image")]
    pub dockerfile: Option<String>,
    /// Build arguments for the Dockerfile (KEY=VALUE, repeatable or comma-separated).
    #[arg(long, value_delimiter = ',', conflicts_with = "image")]
    pub build_args: Vec<String>,
    /// An existing image to run instead of building one.
    #[arg(short, long)]
    pub image: Option<String>,
    /// The image tag to push in addition to `latest`.
    #[arg(long)]
    pub tag: Option<String>,
    /// Container engine to build with: docker, podman or buildah, or a path.
    #[arg(long, env = "FERRY_BUILDER")]
    pub builder: Option<String>,
    /// Name of the application (defaults to the workspace's).
    #[arg(long, conflicts_with_all = ["default", "subnets"])]
    pub app: Option<String>,
    /// The short name or full ARN of the cluster to run the tasks in.
    #[arg(long, conflicts_with_all = ["env", "default"])]
    pub cluster: Option<String>,
    /// Run the tasks in the default cluster and the default VPC's subnets.
    #[arg(long, conflicts_with_all = ["env", "subnets"])]
    pub default: bool,
    /// Name of the environment to run the tasks in (its cluster, public subnets and security group).
    #[arg(long, conflicts_with = "subnets")]
    pub env: Option<String>,
    /// Additional security group IDs for the tasks (repeatable or comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub security_groups: Vec<String>,
    /// The subnet IDs for the tasks (repeatable or comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub subnets: Vec<String>,
    /// Grant the tasks' execution role access to the --secrets without asking.
    #[arg(long)]
    pub acknowledge_secrets_access: bool,
    /// The command passed to the container, overriding the image's (split as a shell would).
    #[arg(long)]
    pub command: Option<String>,
    /// The number of tasks to start.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=10))]
    pub count: u32,
    /// CPU units for each task.
    #[arg(long, default_value_t = 256)]
    pub cpu: u32,
    /// The entrypoint of the container, overriding the image's.
    #[arg(long)]
    pub entrypoint: Option<String>,
    /// A file of VARIABLE=VALUE lines for the container; --env-vars win over it.
    #[arg(long)]
    pub env_file: Option<PathBuf>,
    /// Environment variables of the container: key=value,key=value.
    #[arg(long, value_delimiter = ',')]
    pub env_vars: Vec<String>,
    /// The ARN of the role the container agent uses (pulling the image, reading secrets).
    #[arg(long)]
    pub execution_role: Option<String>,
    /// Memory of each task, in MiB.
    #[arg(long, default_value_t = 512)]
    pub memory: u32,
    /// Architecture of the task: X86_64 or ARM64 (with --platform-os).
    #[arg(long, requires = "platform_os")]
    pub platform_arch: Option<String>,
    /// Operating system of the task, e.g. LINUX or WINDOWS_SERVER_2022_CORE (with --platform-arch).
    #[arg(long, requires = "platform_arch")]
    pub platform_os: Option<String>,
    /// Tags for the task group's stack: key=value,key=value.
    #[arg(long, value_delimiter = ',')]
    pub resource_tags: Vec<String>,
    /// Secrets of the container: VARIABLE=<SSM parameter name or ARN, or Secrets Manager ARN>, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub secrets: Vec<String>,
    /// The ARN of the role the tasks use to call AWS.
    #[arg(long)]
    pub task_role: Option<String>,
    /// Stream the tasks' logs until they stop; ferry then exits with their exit code.
    #[arg(long)]
    pub follow: bool,
    /// Print a `ferry task run` command with every flag filled from a deployed
    /// service or job (`<app>/<env>/<name>`) or an ECS service (`<cluster>/<service>`).
    #[arg(long, value_name = "APP/ENV/NAME|CLUSTER/SERVICE")]
    pub generate_cmd: Option<String>,
    /// Print events as JSON lines.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct TaskExec {
    /// Name of the task group.
    #[arg(short, long)]
    pub name: String,
    /// Name of the environment the tasks run in.
    #[arg(short, long, conflicts_with = "default")]
    pub env: Option<String>,
    /// Name of the application (defaults to the workspace's).
    #[arg(short, long, conflicts_with = "default")]
    pub app: Option<String>,
    /// The tasks run in the default cluster.
    #[arg(long)]
    pub default: bool,
    /// The command to run in the container.
    #[arg(short, long, default_value = "/bin/bash")]
    pub command: String,
    /// ID (or a prefix of it) of the task to exec in [default: the first running one].
    #[arg(long)]
    pub task_id: Option<String>,
}

#[derive(Debug, Args)]
pub struct TaskDelete {
    /// Name of the task group.
    #[arg(short, long)]
    pub name: String,
    /// Name of the environment the tasks ran in.
    #[arg(short, long, conflicts_with = "default")]
    pub env: Option<String>,
    /// Name of the application (defaults to the workspace's).
    #[arg(short, long, conflicts_with = "default")]
    pub app: Option<String>,
    /// The tasks ran in the default cluster.
    #[arg(long)]
    pub default: bool,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct SvcExec {
    /// Name of the service.
    #[arg(short, long)]
    pub name: String,
    /// Name of the environment.
    #[arg(short, long)]
    pub env: String,
    /// Name of the application (defaults to the workspace's).
    #[arg(short, long)]
    pub app: Option<String>,
    /// The command to run in the container.
    #[arg(short, long, default_value = "/bin/bash")]
    pub command: String,
    /// The container to exec in [default: the service's main container].
    #[arg(long)]
    pub container: Option<String>,
    /// ID (or a prefix of it) of the task to exec in [default: the first running one].
    #[arg(long)]
    pub task_id: Option<String>,
    /// Accepted for Copilot's scripts (it updates the Session Manager plugin);
    /// ferry never installs software: it names the plugin when it is missing.
    #[arg(long)]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct SvcPause {
    /// Name of the Request-Driven Web Service.
    #[arg(short, long)]
    pub name: String,
    /// Name of the environment.
    #[arg(short, long)]
    pub env: String,
    /// Name of the application (defaults to the workspace's).
    #[arg(short, long)]
    pub app: Option<String>,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub yes: bool,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct SvcResume {
    /// Name of the Request-Driven Web Service.
    #[arg(short, long)]
    pub name: String,
    /// Name of the environment.
    #[arg(short, long)]
    pub env: String,
    /// Name of the application (defaults to the workspace's).
    #[arg(short, long)]
    pub app: Option<String>,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct JobRun {
    /// Name of the job.
    #[arg(short, long)]
    pub name: String,
    /// Name of the environment.
    #[arg(short, long)]
    pub env: String,
    /// Name of the application (defaults to the workspace's).
    #[arg(short, long)]
    pub app: Option<String>,
    /// Follow the execution (and print the job's logs) until it ends; ferry
    /// fails when the execution does.
    #[arg(long)]
    pub follow: bool,
    /// Print events as JSON lines.
    #[arg(long)]
    pub json: bool,
}
