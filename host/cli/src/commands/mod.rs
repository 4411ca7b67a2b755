//! One module per command (`<noun>_<verb>.rs`).

mod init;
mod package;
mod plugin_inspect;
mod plugin_ls;

use crate::cli::{Cli, Command, EnvCommand, JobCommand, PluginCommand, SvcCommand};
use crate::output::Output;
use anyhow::{Result, bail};
use ferry_core::Workspace;

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
        Command::Plugin(PluginCommand::Ls { json }) => plugin_ls::run(json, out),
        Command::Plugin(PluginCommand::Inspect { name, json }) => plugin_inspect::run(&name, json, out),
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
