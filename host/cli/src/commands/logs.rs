//! `svc logs` and `job logs`: CloudWatch Logs of a workload.

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

pub fn run(args: LogsArgs, cx: &CommandContext) -> Result<()> {
    let out = &cx.out;
    let app = cx.app_name(args.app.clone())?;
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
    let filter = Filter { end: end_time, tasks: args.tasks.clone(), container: args.container.clone() };
    let group = args.log_group.clone().unwrap_or_else(|| log_group(&app, &args.env, &args.name));
    cx.block_on(async {
        let session = session(false).await?;
        let now = now_ms();
        let mut start = start_time.unwrap_or(now - since);
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

/// `--end-time`, `--tasks` and `--container`: which events to print.
struct Filter {
    end: Option<i64>,
    tasks: Vec<String>,
    container: Option<String>,
}

impl Filter {
    fn is_empty(&self) -> bool {
        self.end.is_none() && self.tasks.is_empty() && self.container.is_none()
    }

    /// Streams are `<prefix>/<container>/<task ID>` (awslogs with the
    /// `copilot` prefix); a task ID prefix is enough, as in Copilot.
    fn keeps(&self, event: &LogEvent) -> bool {
        if self.end.is_some_and(|end| event.timestamp >= end) {
            return false;
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
