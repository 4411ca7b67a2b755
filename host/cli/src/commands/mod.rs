//! One module per command (`<noun>_<verb>.rs`).

mod app;
mod aws;
mod delete;
mod deploy;
mod fetch;
mod image;
mod init;
mod inspect;
mod logs;
mod package;
mod pipeline;
mod plugin_build;
mod plugin_inspect;
mod plugin_install;
mod plugin_ls;
mod plugin_new;
mod plugin_trust;
mod secret;
mod svc_migrate;

use crate::cli::{AppCommand, Cli, Command, EnvCommand, JobCommand, PluginCommand, SecretCommand, SvcCommand};
use crate::output::Output;
use anyhow::{Result, bail};
use ferry_core::Workspace;
use inspect::Family;
use std::io::IsTerminal;

pub fn dispatch(cli: Cli, out: &Output) -> Result<()> {
    match cli.command {
        Command::Svc(SvcCommand::Package(args)) | Command::Job(JobCommand::Package(args)) => {
            package::workloads(args, out)
        }
        Command::Svc(SvcCommand::Init(args)) => init::workload(args, init::Noun::Service, out),
        Command::Job(JobCommand::Init(args)) => init::workload(args, init::Noun::Job, out),
        Command::Env(EnvCommand::Init { name, app }) => init::environment(name, app, out),
        Command::Env(EnvCommand::Package(args)) => package::environment(args, out),
        Command::Package(args) => package::everything(args, out),
        Command::App(AppCommand::Init { name, domain, resource_tags }) => app::init(name, domain, resource_tags, out),
        Command::App(AppCommand::Ls { json }) => app::ls(json, out),
        Command::App(AppCommand::Show { name, json }) => app::show(name, json, out),
        Command::App(AppCommand::Delete { name, yes }) => app::delete(name, yes, out),
        Command::Env(EnvCommand::Deploy(args)) => deploy::env(args, out),
        Command::Env(EnvCommand::Ls(args)) => inspect::env_ls(args, out),
        Command::Env(EnvCommand::Show { name, app, json }) => inspect::env_show(name, app, json, out),
        Command::Env(EnvCommand::Delete { name, app, yes }) => delete::environment(name, app, yes, out),
        Command::Svc(SvcCommand::Deploy(args)) | Command::Job(JobCommand::Deploy(args)) => deploy::workload(args, out),
        Command::Svc(SvcCommand::Ls(args)) => inspect::workload_ls(args, Family::Services, out),
        Command::Job(JobCommand::Ls(args)) => inspect::workload_ls(args, Family::Jobs, out),
        Command::Svc(SvcCommand::Show(args)) => inspect::workload_show(args, Family::Services, out),
        Command::Job(JobCommand::Show(args)) => inspect::workload_show(args, Family::Jobs, out),
        Command::Svc(SvcCommand::Status(args)) => inspect::svc_status(args, out),
        Command::Svc(SvcCommand::Logs(args)) | Command::Job(JobCommand::Logs(args)) => logs::run(args, out),
        Command::Svc(SvcCommand::Migrate(args)) => svc_migrate::run(args, out),
        Command::Svc(SvcCommand::Delete(args)) | Command::Job(JobCommand::Delete(args)) => delete::workload(args, out),
        Command::Deploy(args) => deploy::everything(args, out),
        Command::Secret(SecretCommand::Init(args)) => secret::init(args, out),
        Command::Plugin(PluginCommand::Ls { json }) => plugin_ls::run(json, out),
        Command::Plugin(PluginCommand::Inspect { name, json }) => plugin_inspect::run(&name, json, out),
        Command::Pipeline(command) => pipeline::run(command, out),
        Command::Plugin(PluginCommand::New(args)) => plugin_new::run(args, out),
        Command::Plugin(PluginCommand::Build(args)) => plugin_build::run(args, out),
        Command::Plugin(PluginCommand::Install(args)) => plugin_install::install(args, out),
        Command::Plugin(PluginCommand::Remove { name }) => plugin_install::remove(&name, out),
        Command::Plugin(PluginCommand::Trust { name }) => plugin_trust::trust(&name, out),
        Command::Plugin(PluginCommand::Untrust { name }) => plugin_trust::untrust(&name, out),
    }
}

/// The app named by `--app` (read commands may look at any app of the
/// account), else the one of the current workspace.
fn app_name(app: Option<String>) -> Result<String> {
    match app {
        Some(app) => Ok(app),
        None => Ok(workspace(None)?.app),
    }
}

/// The workspace of the current directory; `--app` must match it.
fn workspace(app: Option<&str>) -> Result<Workspace> {
    let cwd = std::env::current_dir()?;
    let ws = Workspace::discover(&cwd)?;
    if let Some(app) = app
        && app != ws.app
    {
        bail!(
            "--app {app} does not match this workspace's application `{}` (copilot/.workspace)\nhint: drop --app, or run ferry from {app}'s project directory",
            ws.app
        );
    }
    Ok(ws)
}

/// The workspace for a command that deploys from it or writes into it: it
/// must be private to the user (see [`Workspace::check_private`]); reading
/// and packaging need only [`workspace`].
fn workspace_to_act_on(app: Option<&str>) -> Result<Workspace> {
    let ws = workspace(app)?;
    ws.check_private()?;
    Ok(ws)
}

/// A person is there to answer prompts: a terminal on both ends, not CI.
pub(crate) fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal() && std::env::var_os("CI").is_none()
}
