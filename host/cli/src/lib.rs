//! The `ferry` command line: parses arguments, builds the command's
//! [`context::CommandContext`] (workspace, plugin runtime, async runtime, printer),
//! runs one command, renders the result or the error. Everything
//! substantial lives in the library crates.

mod cancel;
mod cli;
mod commands;
mod context;
mod output;
mod render;

use clap::Parser;
use cli::{AppCommand, Command, EnvCommand, JobCommand, PipelineCommand, PluginCommand, SvcCommand, TaskCommand};
use std::process::ExitCode;

/// Runs ferry with the process's arguments and returns its exit code.
pub fn run() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // clap prints usage errors itself (exit 2) and help/version (exit 0).
            let _ = err.print();
            return ExitCode::from(if err.use_stderr() { 2 } else { 0 });
        }
    };
    let out = output::Output::new(cli.global.color, cli.global.verbose, wants_json(&cli.command));
    let cx = context::CommandContext::new(out);
    let code = match commands::dispatch(cli, &cx) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if err.downcast_ref::<commands::compat::Exit>().is_some() => {
            ExitCode::from(err.downcast_ref::<commands::compat::Exit>().map_or(1, |e| e.0))
        }
        Err(err) => {
            cx.out.error(&err);
            // A followed one-off task passes its container's exit code on.
            ExitCode::from(commands::exit_code(&err))
        }
    };
    cx.report_counters();
    code
}

/// True when the command was asked for JSON output (`--json`): its error is
/// then a JSON object too.
fn wants_json(command: &Command) -> bool {
    match command {
        Command::App(AppCommand::Ls { json } | AppCommand::Show { json, .. }) => *json,
        Command::App(_) => false,
        Command::Svc(SvcCommand::Deploy(a)) | Command::Job(JobCommand::Deploy(a)) => a.flags.json,
        Command::Svc(SvcCommand::Ls(a)) | Command::Job(JobCommand::Ls(a)) | Command::Env(EnvCommand::Ls(a)) => a.json,
        Command::Svc(SvcCommand::Show(a)) | Command::Job(JobCommand::Show(a)) => a.json,
        Command::Svc(SvcCommand::Status(a)) => a.json,
        Command::Svc(SvcCommand::Rollback(a)) => a.json,
        Command::Svc(SvcCommand::Logs(a)) | Command::Job(JobCommand::Logs(a)) => a.json,
        Command::Svc(SvcCommand::Pause(a)) => a.json,
        Command::Svc(SvcCommand::Resume(a)) => a.json,
        Command::Job(JobCommand::Run(a)) => a.json,
        Command::Task(TaskCommand::Run(a)) => a.json,
        Command::Task(_) => false,
        Command::Svc(_) | Command::Job(_) => false,
        Command::Env(EnvCommand::Deploy(a)) => a.flags.json,
        Command::Env(EnvCommand::Show(a)) => a.json,
        Command::Env(EnvCommand::Upgrade(a)) => a.json,
        Command::Version(a) => a.json,
        Command::Completion(_) | Command::Docs(_) => false,
        Command::Env(_) => false,
        Command::Deploy(a) => a.flags.json,
        Command::Secret(_) | Command::Package(_) => false,
        Command::Plugin(PluginCommand::Ls { json } | PluginCommand::Inspect { json, .. }) => *json,
        Command::Plugin(PluginCommand::Build(a)) => a.json,
        Command::Plugin(PluginCommand::Install(a)) => a.json,
        Command::Plugin(_) => false,
        Command::Pipeline(PipelineCommand::Deploy(a)) => a.flags.json,
        Command::Pipeline(PipelineCommand::Ls(a)) => a.json,
        Command::Pipeline(PipelineCommand::Show(a)) => a.pipeline.json,
        Command::Pipeline(PipelineCommand::Status(a)) => a.json,
        Command::Pipeline(_) => false,
        Command::Storage(_) => false,
        Command::Adopt(a) => a.json,
        Command::Run(_) | Command::Init(_) => false,
    }
}
