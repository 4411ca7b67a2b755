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
    /// Services: package.
    #[command(subcommand)]
    Svc(SvcCommand),
    /// Jobs: package.
    #[command(subcommand)]
    Job(JobCommand),
    /// Environments: package.
    #[command(subcommand)]
    Env(EnvCommand),
    /// Render an environment and every workload of the workspace for it.
    Package(PackageAll),
    /// Plugins: list and inspect.
    #[command(subcommand)]
    Plugin(PluginCommand),
}

#[derive(Debug, Subcommand)]
pub enum SvcCommand {
    /// Write a commented manifest for a new service (copilot/<name>/manifest.yml).
    Init(WorkloadInit),
    /// Write the CloudFormation template and parameters of a service (offline).
    Package(WorkloadPackage),
}

#[derive(Debug, Subcommand)]
pub enum JobCommand {
    /// Write a commented manifest for a new job (copilot/<name>/manifest.yml).
    Init(WorkloadInit),
    /// Write the CloudFormation template and parameters of a job (offline).
    Package(WorkloadPackage),
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
}

#[derive(Debug, Subcommand)]
pub enum EnvCommand {
    /// Write a commented manifest for a new environment (copilot/environments/<name>/manifest.yml).
    Init {
        /// Name of the environment.
        #[arg(short, long)]
        name: Option<String>,
        /// Application name (defaults to the workspace's).
        #[arg(short, long)]
        app: Option<String>,
    },
    /// Write the CloudFormation template and parameters of an environment (offline).
    Package(EnvPackage),
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
}
