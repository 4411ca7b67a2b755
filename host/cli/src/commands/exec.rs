//! `svc exec` (and the handoff `task exec` shares): ECS Exec into a running
//! container. ECS opens a Session Manager session (`ExecuteCommand`); the
//! Session Manager plugin carries the terminal, started exactly as the AWS
//! CLI starts it. ferry checks the plugin is there before asking ECS, so a
//! missing plugin costs no session.

use super::aws::session;
use crate::cli::SvcExec;
use crate::context::CommandContext;
use anyhow::Result;
use ferry_aws::app::Session;
use ferry_aws::exec::{self, PLUGIN, PLUGIN_INSTALL_URL};
use ferry_aws::task::{EcsTasks, TaskApi, TaskState};
use ferry_core::{Failure, naming};
use std::path::PathBuf;

/// The installed plugin, or an error naming it and how to install it.
pub(crate) fn require_plugin() -> Result<PathBuf> {
    exec::find_plugin(std::env::var_os("PATH").as_deref()).ok_or_else(|| {
        Failure::new(format!("`{PLUGIN}` is not installed (not found on PATH)"))
            .why("ECS Exec sessions run through AWS's Session Manager plugin, as with `aws ecs execute-command`")
            .hint(format!("install the Session Manager plugin ({PLUGIN_INSTALL_URL}), make sure `{PLUGIN}` is on PATH, and run the command again"))
            .into()
    })
}

/// Picks the task to exec in: the one whose ID starts with `task_id`, else the first.
pub(crate) fn pick_task<'a>(tasks: &'a [TaskState], task_id: Option<&str>, what: &str) -> Result<&'a TaskState> {
    let running: Vec<&TaskState> = tasks.iter().filter(|t| t.last_status == "RUNNING").collect();
    let chosen = match task_id {
        Some(prefix) => running.iter().find(|t| t.id().starts_with(prefix)).copied(),
        None => running.first().copied(),
    };
    chosen.ok_or_else(|| {
        let ids: Vec<&str> = running.iter().map(|t| t.id()).collect();
        let failure = match task_id {
            Some(prefix) => Failure::new(format!("no running task of {what} has an ID starting with `{prefix}`")).hint(
                if ids.is_empty() {
                    "it has no running task".to_string()
                } else {
                    format!("its running tasks: {}", ids.join(", "))
                },
            ),
            None => Failure::new(format!("{what} has no running task"))
                .hint("start one first, or wait until ECS reports it RUNNING"),
        };
        failure.into()
    })
}

/// Opens the session and hands it to the plugin; returns when the plugin
/// exits, with its exit status as the command's.
pub(crate) async fn hand_over(
    session: &Session,
    plugin: &PathBuf,
    cluster: &str,
    task: &TaskState,
    container: &str,
    command: &str,
) -> Result<()> {
    let runtime_id =
        task.containers.iter().find(|c| c.name == container).and_then(|c| c.runtime_id.clone()).ok_or_else(|| {
            Failure::new(format!("container `{container}` of task {} has no runtime ID yet", task.id()))
                .hint("the container is still starting: try again in a few seconds")
        })?;
    let opened = exec::execute_command(&session.aws.ecs(), cluster, &task.arn, container, command).await.map_err(|e| {
        let hint = if e.message.contains("not enabled") {
            "the task was started without ECS Exec: for a service set `exec: true` in its manifest and deploy it; `ferry task run` turns it on for its tasks"
        } else {
            "the caller needs ecs:ExecuteCommand, and the task role the ssmmessages:* permissions (`exec: true` grants them)"
        };
        Failure::new(format!("ECS did not open an exec session in task {}", task.id())).hint(hint).because(e)
    })?;
    let target = exec::target(cluster, &task.arn, &runtime_id);
    let profile = std::env::var("AWS_PROFILE").unwrap_or_default();
    let args = exec::plugin_args(&opened, &session.region, &profile, &target, &exec::ecs_endpoint(&session.region));
    let status = tokio::process::Command::new(plugin)
        .args(&args)
        .status()
        .await
        .map_err(|e| Failure::new(format!("cannot start {}", plugin.display())).because(e))?;
    match status.code() {
        Some(0) => Ok(()),
        code => Err(super::task::Exit::new(
            code.unwrap_or(1),
            format!("{PLUGIN} exited with {}", code.map(|c| format!("code {c}")).unwrap_or_else(|| "a signal".into())),
        )
        .into()),
    }
}

pub fn svc(args: SvcExec, cx: &CommandContext) -> Result<()> {
    let app = cx.app_name(args.app.clone())?;
    if args.yes {
        cx.out.note("--yes: ferry does not install or update the Session Manager plugin; it uses the one on PATH");
    }
    cx.block_on(async {
        let plugin = require_plugin()?;
        let session = session(false).await?;
        let stack = naming::workload_stack(&app, &args.env, &args.name);
        let resources = session.cfn.stack_resources(&stack).await.unwrap_or_default();
        if resources.is_empty() {
            return Err(Failure::new(format!("service `{}` is not deployed to environment `{}`", args.name, args.env))
                .hint(format!("deploy it first: `ferry svc deploy -n {} -e {}`", args.name, args.env))
                .into());
        }
        let Some((cluster, service)) = resources
            .iter()
            .find(|r| r.resource_type == "AWS::ECS::Service" && !r.physical_id.is_empty())
            .and_then(|r| ferry_aws::service_deployments::split_service_arn(&r.physical_id))
        else {
            let why = if resources.iter().any(|r| r.resource_type == "AWS::AppRunner::Service") {
                "it is a Request-Driven Web Service: App Runner instances cannot be exec'd into"
            } else {
                "its stack has no ECS service"
            };
            return Err(Failure::new(format!("cannot exec into `{}`", args.name))
                .why(why)
                .hint("`ferry svc exec` works on ECS services (Load Balanced, Backend and Worker Services)")
                .into());
        };
        let ecs = session.aws.ecs();
        if !exec::service_exec_enabled(&ecs, &cluster, &service).await? {
            return Err(Failure::new(format!("ECS Exec is not enabled for service `{}` in `{}`", args.name, args.env))
                .hint(format!(
                    "set `exec: true` in copilot/{}/manifest.yml and deploy it (`ferry svc deploy -n {} -e {}`)",
                    args.name, args.name, args.env
                ))
                .into());
        }
        let tasks_api = EcsTasks::new(ecs);
        let arns = tasks_api.list_tasks(&cluster, None, Some(&service)).await?;
        let tasks = tasks_api.describe_tasks(&cluster, &arns).await?;
        let task = pick_task(&tasks, args.task_id.as_deref(), &format!("service `{}`", args.name))?;
        let container = match &args.container {
            Some(c) => c.clone(),
            None if task.containers.iter().any(|c| c.name == args.name) => args.name.clone(),
            None => task.containers.first().map(|c| c.name.clone()).unwrap_or_else(|| args.name.clone()),
        };
        if !task.containers.iter().any(|c| c.name == container) {
            let names: Vec<&str> = task.containers.iter().map(|c| c.name.as_str()).collect();
            return Err(Failure::new(format!("task {} has no container `{container}`", task.id()))
                .hint(format!("its containers: {}", names.join(", ")))
                .into());
        }
        cx.out.status("Exec", &format!("`{}` in container {container} of task {}", args.command, task.id()));
        hand_over(&session, &plugin, &cluster, task, &container, &args.command).await
    })
}
