//! The commands: one module per noun (`app.rs`, `deploy.rs`, ...) or per
//! plugin verb (`plugin_<verb>.rs`); each gets the command's [`Context`].

mod adopt;
mod app;
mod assets;
mod aws;
pub(crate) mod compat;
mod completion;
mod delete;
mod deploy;
mod domains;
mod exec;
mod fetch;
mod image;
mod init;
mod init_all;
mod inspect;
mod job_run;
mod logs;
pub(crate) mod override_;
mod package;
mod pause;
mod pipeline;
mod plugin_build;
mod plugin_inspect;
mod plugin_install;
mod plugin_ls;
mod plugin_new;
mod plugin_trust;
pub(crate) mod replacement_guard;
mod run_local;
mod secret;
mod storage;
mod svc_migrate;
mod svc_rollback;
mod task;
mod upgrade;
mod version;

pub(crate) use task::exit_code;

use crate::cli::{
    AppCommand, Cli, Command, EnvCommand, JobCommand, PluginCommand, RunCommand, SecretCommand, StorageCommand,
    SvcCommand, TaskCommand,
};
use crate::context::CommandContext;
use anyhow::Result;
use inspect::Family;
use std::io::IsTerminal;

pub fn dispatch(cli: Cli, cx: &CommandContext) -> Result<()> {
    compat::print_notes(&cx.out, &cli.command);
    if let Command::Deploy(args) = &cli.command {
        compat::apply_credentials(&args.credentials);
    }
    match cli.command {
        Command::Svc(SvcCommand::Package(args)) | Command::Job(JobCommand::Package(args)) => {
            package::workloads(args, cx)
        }
        Command::Svc(SvcCommand::Init(args)) => init::service(args, cx),
        Command::Job(JobCommand::Init(args)) => init::job(args, cx),
        Command::Env(EnvCommand::Init(args)) => init::environment_with(*args, cx),
        Command::Env(EnvCommand::Package(args)) => package::environment(args, cx),
        Command::Package(args) => package::everything(args, cx),
        Command::App(AppCommand::Init { name, domain, resource_tags, permissions_boundary: _ }) => {
            app::init(name, domain, resource_tags, cx)
        }
        Command::App(AppCommand::Upgrade { name }) => upgrade::app(name, cx),
        Command::Env(EnvCommand::Upgrade(args)) => upgrade::env(args, cx),
        Command::Svc(SvcCommand::Override(args)) => override_::run(args, override_::Target::Service, cx),
        Command::Job(JobCommand::Override(args)) => override_::run(args, override_::Target::Job, cx),
        Command::Env(EnvCommand::Override(args)) => override_::run(args, override_::Target::Environment, cx),
        Command::Completion(args) => completion::run(args, cx),
        Command::Version(args) => version::version(args, cx),
        Command::Docs(args) => version::docs(args, cx),
        Command::App(AppCommand::Ls { json }) => app::ls(json, cx),
        Command::App(AppCommand::Show { name, json }) => app::show(name, json, cx),
        Command::App(AppCommand::Delete { name, yes }) => app::delete(name, yes, cx),
        Command::Env(EnvCommand::Deploy(args)) => deploy::env(args, cx),
        Command::Env(EnvCommand::Ls(args)) => inspect::env_ls(args, cx),
        Command::Env(EnvCommand::Show(args)) => inspect::env_show(args, cx),
        Command::Env(EnvCommand::Delete { name, app, yes }) => delete::environment(name, app, yes, cx),
        Command::Svc(SvcCommand::Deploy(args)) | Command::Job(JobCommand::Deploy(args)) => deploy::workload(args, cx),
        Command::Svc(SvcCommand::Ls(args)) => inspect::workload_ls(args, Family::Services, cx),
        Command::Job(JobCommand::Ls(args)) => inspect::workload_ls(args, Family::Jobs, cx),
        Command::Svc(SvcCommand::Show(args)) => inspect::workload_show(args, Family::Services, cx),
        Command::Job(JobCommand::Show(args)) => inspect::workload_show(args, Family::Jobs, cx),
        Command::Svc(SvcCommand::Status(args)) => inspect::svc_status(args, cx),
        Command::Svc(SvcCommand::Logs(args)) => logs::run(args, logs::Kind::Service, cx),
        Command::Job(JobCommand::Logs(args)) => logs::run(args, logs::Kind::Job, cx),
        Command::Svc(SvcCommand::Migrate(args)) => svc_migrate::run(args, cx),
        Command::Svc(SvcCommand::Rollback(args)) => svc_rollback::run(args, cx),
        Command::Svc(SvcCommand::Delete(args)) | Command::Job(JobCommand::Delete(args)) => delete::workload(args, cx),
        Command::Deploy(args) => deploy::everything(args, cx),
        Command::Secret(SecretCommand::Init(args)) => secret::init(args, cx),
        Command::Plugin(PluginCommand::Ls { json }) => plugin_ls::run(json, cx),
        Command::Plugin(PluginCommand::Inspect { name, json }) => plugin_inspect::run(&name, json, cx),
        Command::Pipeline(command) => pipeline::run(command, cx),
        Command::Adopt(args) => adopt::run(args, cx),
        Command::Plugin(PluginCommand::New(args)) => plugin_new::run(args, cx),
        Command::Plugin(PluginCommand::Build(args)) => plugin_build::run(args, cx),
        Command::Plugin(PluginCommand::Install(args)) => plugin_install::install(args, cx),
        Command::Plugin(PluginCommand::Remove { name }) => plugin_install::remove(&name, cx),
        Command::Plugin(PluginCommand::Trust { name }) => plugin_trust::trust(&name, cx),
        Command::Plugin(PluginCommand::Untrust { name }) => plugin_trust::untrust(&name, cx),
        Command::Storage(StorageCommand::Init(args)) => storage::init(args, cx),
        Command::Run(RunCommand::Local(args)) => run_local::run(args, cx),
        Command::Init(args) => init_all::run(args, cx),
        Command::Task(TaskCommand::Run(args)) => task::run(*args, cx),
        Command::Task(TaskCommand::Exec(args)) => task::exec(args, cx),
        Command::Task(TaskCommand::Delete(args)) => task::delete(args, cx),
        Command::Job(JobCommand::Run(args)) => job_run::run(args, cx),
        Command::Svc(SvcCommand::Exec(args)) => exec::svc(args, cx),
        Command::Svc(SvcCommand::Pause(args)) => pause::pause(args, cx),
        Command::Svc(SvcCommand::Resume(args)) => pause::resume(args, cx),
    }
}

/// A person is there to answer prompts: a terminal on both ends, not CI.
pub(crate) fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal() && std::env::var_os("CI").is_none()
}
