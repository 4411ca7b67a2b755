//! What every command that talks to AWS shares: the session, confirmation
//! of destructive commands, and the API-call summary. (The async runtime is
//! the command's one, [`crate::context::CommandContext::block_on`].)

use crate::output::Output;
use anyhow::Result;
use ferry_aws::app::{self, Session};
use ferry_core::Failure;

/// Connects with the standard credential chain and region.
pub async fn session(force: bool) -> Result<Session> {
    Ok(Session::connect(None, app::deploy_options(force)).await?)
}

/// Refuses a destructive command without `--yes` when nobody can be asked.
pub fn confirm_or_yes(out: &Output, question: &str, yes: bool) -> Result<bool> {
    if yes {
        return Ok(true);
    }
    let _turn = out.turn();
    match out.confirm(question, false) {
        Some(answer) => Ok(answer),
        None => Err(Failure::new(question).hint("there is no terminal to ask on: pass --yes to confirm").into()),
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
