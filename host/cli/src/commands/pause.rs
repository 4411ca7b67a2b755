//! `svc pause` / `svc resume`: App Runner's PauseService / ResumeService for
//! a Request-Driven Web Service, as Copilot does; other service types have
//! nothing to pause and are refused with what to do instead.

use super::aws::{confirm_or_yes, report_calls, session};
use crate::cli::{SvcPause, SvcResume};
use crate::context::CommandContext;
use anyhow::Result;
use ferry_aws::app::Session;
use ferry_aws::cfn::CloudFormationApi;
use ferry_aws::pause::{self, Action, AppRunner, SERVICE_ARN_OUTPUT};
use ferry_core::{Failure, naming};
use std::time::Duration;

const POLL: Duration = Duration::from_secs(3);
const WAIT: Duration = Duration::from_secs(900);

pub fn pause(args: SvcPause, cx: &CommandContext) -> Result<()> {
    let question =
        format!("Pause service `{}` in environment `{}`? It serves no requests until resumed.", args.name, args.env);
    if !confirm_or_yes(&cx.out, &question, args.yes)? {
        return Ok(());
    }
    act(&args.name, &args.env, args.app.clone(), args.json, Action::Pause, cx)
}

pub fn resume(args: SvcResume, cx: &CommandContext) -> Result<()> {
    act(&args.name, &args.env, args.app.clone(), args.json, Action::Resume, cx)
}

fn act(name: &str, env: &str, app: Option<String>, json: bool, action: Action, cx: &CommandContext) -> Result<()> {
    let app = cx.app_name(app)?;
    cx.block_on(async {
        let session = session(false).await?;
        let result = async {
            let arn = app_runner_service(&session, &app, env, name, action).await?;
            cx.out.status(
                if action == Action::Pause { "Pausing" } else { "Resuming" },
                &format!("{name} in {env} ({arn})"),
            );
            let status = pause::run(
                &AppRunner::new(session.aws.apprunner()),
                &arn,
                action,
                session.options.poll.min(POLL),
                WAIT,
            )
            .await
            .map_err(|e| {
                Failure::new(format!("cannot {} service `{name}` in `{env}`", action.verb()))
                    .hint(match action {
                        Action::Pause => "only a running service can be paused; `ferry svc show` tells its state",
                        Action::Resume => "only a paused service can be resumed",
                    })
                    .because(e)
            })?;
            if json {
                cx.out.json(&serde_json::json!({"service": name, "env": env, "service_arn": arn, "status": status}));
            } else {
                cx.out.status(
                    if action == Action::Pause { "Paused" } else { "Resumed" },
                    &format!("{name} in {env}: {}", status.to_lowercase()),
                );
            }
            Ok(())
        }
        .await;
        if !json {
            report_calls(&session, &cx.out, false);
        }
        result
    })
}

/// The App Runner service of a Request-Driven Web Service, or why there is none.
async fn app_runner_service(session: &Session, app: &str, env: &str, name: &str, action: Action) -> Result<String> {
    let stack = naming::workload_stack(app, env, name);
    let state = session.cfn.describe_stack(&stack).await?.ok_or_else(|| {
        Failure::new(format!("service `{name}` is not deployed to environment `{env}`"))
            .hint(format!("deploy it first: `ferry svc deploy -n {name} -e {env}`"))
    })?;
    if let Some(arn) =
        state.outputs.get(SERVICE_ARN_OUTPUT).filter(|a| a.starts_with("arn:") && a.contains(":apprunner:"))
    {
        return Ok(arn.clone());
    }
    let kind = session
        .meta
        .workloads(app)
        .await
        .ok()
        .and_then(|records| records.into_iter().find(|w| w.name == name).map(|w| w.kind))
        .unwrap_or_else(|| "not a Request-Driven Web Service".into());
    Err(Failure::new(format!("`svc {}` is only supported for Request-Driven Web Services", action.verb()))
        .why(format!("`{name}` is a {kind}: there is no App Runner service to {}", action.verb()))
        .hint(match action {
            Action::Pause => "to stop an ECS service's tasks, set `count: 0` in its manifest and deploy it",
            Action::Resume => "to start an ECS service's tasks again, set its `count` in the manifest and deploy it",
        })
        .into())
}
