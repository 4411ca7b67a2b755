//! `svc logs` and `job logs`: CloudWatch Logs of a workload.

use super::aws::session;
use crate::cli::LogsArgs;
use crate::context::CommandContext;
use crate::output::Output;
use anyhow::{Result, anyhow};
use ferry_aws::logs::{LogEvent, log_group, parse_since};
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
    let group = log_group(&app, &args.env, &args.name);
    cx.block_on(async {
        let session = session(false).await?;
        let now = now_ms();
        let mut start = now - since;
        let mut seen: HashSet<String> = HashSet::new();
        let events = session.log_events(&group, start, args.limit as usize).await?;
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
            print_events(out, &events, args.json, &mut seen);
        }
    })
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
