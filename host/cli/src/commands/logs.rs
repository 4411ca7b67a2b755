//! `svc logs` and `job logs`: CloudWatch Logs of a workload.
//!
//! As Copilot: `svc logs --previous` reads the logs of the service's task
//! that stopped last; a job's log group also holds its state machine's
//! execution logs (streams `states/...`, Copilot's job template logs the
//! state machine there), shown only with `job logs --include-state-machine`.

use super::aws::session;
use super::compat::parse_rfc3339;
use crate::cli::LogsArgs;
use crate::context::CommandContext;
use crate::output::Output;
use anyhow::{Result, anyhow};
use ferry_aws::logs::{LogEvent, log_group, parse_since};
use ferry_core::Failure;
use std::collections::HashSet;
use std::time::Duration;

const DEFAULT_SINCE_MS: i64 = 3_600_000;

/// Which command reads the logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Service,
    Job,
}

/// The stream prefix of a state machine's execution logs (Copilot's).
const STATE_MACHINE_STREAMS: &str = "states";

pub fn run(args: LogsArgs, kind: Kind, cx: &CommandContext) -> Result<()> {
    let out = &cx.out;
    let app = cx.app_name(args.app.clone())?;
    check_kind_flags(&args, kind)?;
    let since = match &args.since {
        Some(text) => parse_since(text).map_err(|why| anyhow!("--since {why}"))?,
        None => DEFAULT_SINCE_MS,
    };
    let time = |flag: &str, text: &Option<String>| -> Result<Option<i64>> {
        text.as_deref()
            .map(|t| {
                parse_rfc3339(t).ok_or_else(|| {
                    anyhow::Error::from(
                        Failure::new(format!("{flag} `{t}` is not an RFC 3339 time"))
                            .hint(format!("{flag} 2006-01-02T15:04:05+00:00 (or ...Z)")),
                    )
                })
            })
            .transpose()
    };
    let start_time = time("--start-time", &args.start_time)?;
    let end_time = time("--end-time", &args.end_time)?;
    let mut filter = Filter {
        end: end_time,
        tasks: args.tasks.clone(),
        container: args.container.clone(),
        state_machine: kind == Kind::Service || args.include_state_machine,
    };
    let group = args.log_group.clone().unwrap_or_else(|| log_group(&app, &args.env, &args.name));
    cx.block_on(async {
        let session = session(false).await?;
        let now = now_ms();
        let mut default_start = now - since;
        if args.previous {
            let Some(task) = previous_task(&session, &app, &args).await? else {
                out.note(&format!(
                    "no stopped task of service `{}` in environment `{}` (ECS keeps stopped tasks for about an hour)",
                    args.name, args.env
                ));
                return Ok(());
            };
            out.status("Previous", &format!("task {} of {}", task.id(), args.name));
            filter.tasks = vec![task.id().to_string()];
            // Its whole life, unless a start was given.
            if args.since.is_none() {
                default_start = task.started_at.map(|t| t - 60_000).unwrap_or(0);
            }
        }
        let mut start = start_time.unwrap_or(default_start);
        let mut seen: HashSet<String> = HashSet::new();
        // Filtered here, so read everything in the window, then keep the newest `limit`.
        let read = if filter.is_empty() { args.limit as usize } else { usize::MAX };
        let mut events: Vec<LogEvent> =
            session.log_events(&group, start, read).await?.into_iter().filter(|e| filter.keeps(e)).collect();
        if events.len() > args.limit as usize {
            events.drain(..events.len() - args.limit as usize);
        }
        print_events(out, &events, args.json, &mut seen);
        if !args.follow {
            return Ok(());
        }
        if let Some(last) = events.last() {
            start = last.timestamp;
        }
        loop {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => return Ok(()),
                _ = tokio::time::sleep(Duration::from_secs(2)) => {}
            }
            let events = session.log_events(&group, start, 10_000).await?;
            if let Some(last) = events.last() {
                start = last.timestamp;
            }
            let events: Vec<LogEvent> = events.into_iter().filter(|e| filter.keeps(e)).collect();
            print_events(out, &events, args.json, &mut seen);
        }
    })
}

/// `--previous` and `--include-state-machine` where they mean something,
/// as Copilot has them: on `svc logs` and on `job logs`, not with `--tasks`.
fn check_kind_flags(args: &LogsArgs, kind: Kind) -> Result<()> {
    if args.previous && kind == Kind::Job {
        return Err(Failure::new("--previous reads the last stopped task of a service, and this is `job logs`")
            .hint("each run of a job is a task of its own: pass --tasks <task ID>, or --since")
            .into());
    }
    if args.previous && !args.tasks.is_empty() {
        return Err(Failure::new("--previous and --tasks both choose the tasks; pass one of them").into());
    }
    if args.include_state_machine && kind == Kind::Service {
        return Err(Failure::new("--include-state-machine is for a job's state machine, and this is `svc logs`")
            .hint("`ferry job logs -n <job> -e <env> --include-state-machine`")
            .into());
    }
    if args.include_state_machine && !args.tasks.is_empty() {
        return Err(Failure::new("--include-state-machine cannot be combined with --tasks")
            .why("an execution of the state machine cannot be tied to a task without reading every execution's logs")
            .into());
    }
    Ok(())
}

/// The service's task that stopped last (`--previous`).
async fn previous_task(
    session: &ferry_aws::app::Session,
    app: &str,
    args: &LogsArgs,
) -> Result<Option<ferry_aws::task::StoppedTask>> {
    let stack = ferry_core::naming::workload_stack(app, &args.env, &args.name);
    let resources = session.cfn.stack_resources(&stack).await.unwrap_or_default();
    let service = resources
        .iter()
        .find(|r| r.resource_type == "AWS::ECS::Service" && !r.physical_id.is_empty())
        .and_then(|r| ferry_aws::service_deployments::split_service_arn(&r.physical_id));
    let Some((cluster, service)) = service else {
        let why = if resources.is_empty() {
            format!("it is not deployed to environment `{}` (no stack {stack})", args.env)
        } else {
            "its stack has no ECS service (a Request-Driven Web Service or a Static Site has no tasks)".to_string()
        };
        return Err(Failure::new(format!("--previous: `{}` has no stopped ECS tasks to read", args.name))
            .why(why)
            .hint("--previous works on Load Balanced, Backend and Worker Services")
            .into());
    };
    Ok(ferry_aws::task::last_stopped_service_task(&session.aws.ecs(), &cluster, &service).await?)
}

/// `--end-time`, `--tasks`, `--container` and a job's state machine
/// streams: which events to print.
struct Filter {
    end: Option<i64>,
    tasks: Vec<String>,
    container: Option<String>,
    /// Whether streams `states/...` are shown (a job's, with `--include-state-machine`).
    state_machine: bool,
}

impl Filter {
    fn is_empty(&self) -> bool {
        self.end.is_none() && self.tasks.is_empty() && self.container.is_none() && self.state_machine
    }

    /// Streams are `<prefix>/<container>/<task ID>` (awslogs with the
    /// `copilot` prefix); a task ID prefix is enough, as in Copilot.
    fn keeps(&self, event: &LogEvent) -> bool {
        if self.end.is_some_and(|end| event.timestamp >= end) {
            return false;
        }
        if event.stream.starts_with(STATE_MACHINE_STREAMS) {
            // A state machine's stream has no task or container.
            return self.state_machine && self.tasks.is_empty() && self.container.is_none();
        }
        let mut parts = event.stream.rsplitn(3, '/');
        let task = parts.next().unwrap_or_default();
        let container = parts.next().unwrap_or_default();
        if !self.tasks.is_empty() && !self.tasks.iter().any(|t| !t.is_empty() && task.starts_with(t.as_str())) {
            return false;
        }
        self.container.as_deref().is_none_or(|c| c == container)
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// Prints events not printed before (following re-reads the last millisecond).
fn print_events(out: &Output, events: &[LogEvent], json: bool, seen: &mut HashSet<String>) {
    for event in events {
        let key = if event.id.is_empty() {
            format!("{}{}{}", event.timestamp, event.stream, event.message)
        } else {
            event.id.clone()
        };
        if !seen.insert(key) {
            continue;
        }
        if json {
            out.data(&serde_json::to_string(event).unwrap_or_default());
        } else {
            out.log_line(event.timestamp, &event.stream, &event.message);
        }
    }
}
