//! What every command that talks to AWS shares: the async runtime, the
//! session, confirmation prompts, and the API-call summary.

use crate::output::Output;
use anyhow::{Context, Result};
use ferry_aws::app::{self, Session};

/// Runs an async command body on a fresh runtime.
pub fn block_on<T>(future: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?
        .block_on(future)
}

/// Connects with the standard credential chain and region.
pub async fn session(force: bool) -> Result<Session> {
    Ok(Session::connect(None, app::deploy_options(force)).await?)
}

/// Asks a yes/no question on a terminal; `None` when there is no terminal.
pub fn confirm(question: &str, default: bool) -> Option<bool> {
    if !super::interactive() {
        return None;
    }
    dialoguer::Confirm::new().with_prompt(question).default(default).interact().ok()
}

/// Refuses a destructive command without `--yes` when nobody can be asked.
pub fn confirm_or_yes(question: &str, yes: bool) -> Result<bool> {
    if yes {
        return Ok(true);
    }
    match confirm(question, false) {
        Some(answer) => Ok(answer),
        None => anyhow::bail!("{question}\nhint: there is no terminal to ask on: pass --yes to confirm"),
    }
}

/// Prints how many AWS requests the command sent (with `--verbose`, or as
/// the last event of a `--json` stream).
pub fn report_calls(session: &Session, out: &Output, json: bool) {
    let calls = &session.aws.calls;
    if json {
        let value = serde_json::json!({
            "event": "api_calls",
            "total": calls.total(),
            "mutating": calls.mutating(),
            "by_operation": calls.snapshot(),
        });
        out.data(&value.to_string());
    } else {
        out.debug(&format!("AWS requests: {} ({} mutating)", calls.total(), calls.mutating()));
        for (op, n) in calls.snapshot() {
            out.debug(&format!("  {op}: {n}"));
        }
    }
}
