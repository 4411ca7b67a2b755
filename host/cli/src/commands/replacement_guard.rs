//! How the replacement guard ([`ferry_aws::guard`]) speaks on the command
//! line: the removals and replacements of resources that hold state or
//! traffic, listed by `--diff` before it asks, and as a warning when
//! `--allow-replacement` lets them run. Refusals are errors of the deploy.

use crate::output::DeployView;
use anstyle::{AnsiColor, Style};
use ferry_aws::guard::GuardedChange;

const WARNING: Style = AnsiColor::Yellow.on_default().bold();
const DIM: Style = Style::new().dimmed();

/// Lists `changes` of `stack` (nothing when empty): a `replacements` JSON
/// event, and one line per change saying whether it is allowed.
pub(crate) fn show(view: &DeployView, stack: &str, changes: &[GuardedChange]) {
    if changes.is_empty() {
        return;
    }
    view.emit(serde_json::json!({"event": "replacements", "stack": stack, "changes": changes}));
    view.line(format!(
        "{WARNING}{:>12}{WARNING:#} {stack}: this update removes or replaces what holds state or traffic",
        "Replacing"
    ));
    for change in changes {
        let verdict = if change.allowed {
            "allowed by --allow-replacement".to_string()
        } else {
            format!("refused unless --allow-replacement {}", change.logical_id)
        };
        view.line(format!("{:>12} - {change} {DIM}({verdict}){DIM:#}", ""));
    }
}
