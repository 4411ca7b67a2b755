//! `job run`: starts a Scheduled Job's Step Functions state machine now, as
//! Copilot does; `--follow` prints the job's logs until the execution ends.

use super::aws::{report_calls, session};
use crate::cli::JobRun;
use crate::context::CommandContext;
use crate::output::DeployView;
use anyhow::Result;
use ferry_aws::cfn::CloudFormationApi;
use ferry_aws::job_run::{self, STATE_MACHINE_OUTPUT, STATE_MACHINE_TYPE, StateMachineApi, StepFunctions};
use ferry_aws::logs::log_group;
use ferry_core::{Failure, naming};
use std::collections::HashSet;
use std::time::Duration;

const POLL: Duration = Duration::from_secs(3);
const FOLLOW_FOR: Duration = Duration::from_secs(24 * 3600);

pub fn run(args: JobRun, cx: &CommandContext) -> Result<()> {
    let app = cx.app_name(args.app.clone())?;
    let out = &cx.out;
    let view = DeployView::new(args.json);
    cx.block_on(async {
        let session = session(false).await?;
        let result = async {
            let stack = naming::workload_stack(&app, &args.env, &args.name);
            let state = session.cfn.describe_stack(&stack).await?.ok_or_else(|| {
                Failure::new(format!("job `{}` is not deployed to environment `{}`", args.name, args.env))
                    .hint(format!("deploy it first: `ferry job deploy -n {} -e {}`", args.name, args.env))
            })?;
            let machine = match state.outputs.get(STATE_MACHINE_OUTPUT).filter(|a| !a.is_empty()) {
                Some(arn) => arn.clone(),
                None => session
                    .cfn
                    .stack_resources(&stack)
                    .await?
                    .into_iter()
                    .find(|r| r.resource_type == STATE_MACHINE_TYPE && !r.physical_id.is_empty())
                    .map(|r| r.physical_id)
                    .ok_or_else(|| {
                        Failure::new(format!("`{}` has no state machine to start", args.name))
                            .why("`job run` starts a Scheduled Job's Step Functions state machine; this stack has none")
                            .hint("is it a service? `ferry svc deploy` redeploys a service, `ferry task run` runs one-off tasks")
                    })?,
            };
            let api = StepFunctions::new(session.aws.sfn());
            let execution = api.start(&machine).await.map_err(|e| {
                Failure::new(format!("cannot start job `{}` in `{}`", args.name, args.env))
                    .hint("the caller needs states:StartExecution on the job's state machine")
                    .because(e)
            })?;
            view.emit(serde_json::json!({"event": "execution_started", "job": args.name, "env": args.env, "state_machine": machine, "execution": execution}));
            view.line(format!("{:>12} job {} in {}: execution {execution}", "Started", args.name, args.env));
            if !args.follow {
                return Ok(());
            }
            let group = log_group(&app, &args.env, &args.name);
            let mut seen: HashSet<String> = HashSet::new();
            let mut start = now_ms() - 60_000;
            let (session_ref, group_ref) = (&session, &group);
            let ended = loop {
                if let Ok(events) = session_ref.log_events(group_ref, start, 10_000).await {
                    for event in events {
                        let key = format!("{}{}{}{}", event.id, event.timestamp, event.stream, event.message);
                        if seen.insert(key) {
                            start = start.max(event.timestamp);
                            if args.json {
                                out.data(&serde_json::json!({"event": "log", "timestamp": event.timestamp, "stream": event.stream, "message": event.message}).to_string());
                            } else {
                                out.log_line(event.timestamp, &event.stream, &event.message);
                            }
                        }
                    }
                }
                let state = job_run::follow(&api, &execution, Duration::ZERO, Duration::ZERO, &mut |_| {}).await;
                match state {
                    Ok(end) => break end,
                    Err(e) if e.message.contains("still running") => {}
                    Err(e) => return Err(e.into()),
                }
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {
                        view.line(format!("{:>12} stopped following; the execution goes on", "Note"));
                        return Ok(());
                    }
                    _ = tokio::time::sleep(poll(session_ref)) => {}
                }
                if start > now_ms() + FOLLOW_FOR.as_millis() as i64 {
                    break job_run::Execution { arn: execution.clone(), status: "RUNNING".into(), error: None, cause: None };
                }
            };
            view.emit(serde_json::json!({"event": "execution_finished", "execution": ended.arn, "status": ended.status, "error": ended.error, "cause": ended.cause}));
            if ended.status != "SUCCEEDED" {
                return Err(Failure::new(format!("job `{}` {}: {}", args.name, ended.status.to_lowercase(), ended.error.clone().unwrap_or_default()))
                    .why(ended.cause.unwrap_or_else(|| "the state machine's execution did not succeed".into()))
                    .hint(format!("read its logs: `ferry job logs -n {} -e {}`", args.name, args.env))
                    .into());
            }
            view.line(format!("{:>12} job {} in {}", "Succeeded", args.name, args.env));
            Ok(())
        }
        .await;
        report_calls(&session, out, args.json);
        result
    })
}

/// How often ECS or Step Functions is asked: quickly against a local emulator.
fn poll(session: &ferry_aws::app::Session) -> Duration {
    session.options.poll.min(POLL)
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}
