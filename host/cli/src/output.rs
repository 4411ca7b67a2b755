//! The one place that writes to the terminal: colour, problems with source
//! snippets, tables and JSON. Commands describe what to show; this decides how.

use crate::cli::ColorChoice;
use anstream::{eprintln, println};
use anstyle::{AnsiColor, Style};
use ferry_core::{Location, Problem};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

const ERROR: Style = AnsiColor::Red.on_default().bold();
const WARNING: Style = AnsiColor::Yellow.on_default().bold();
const HINT: Style = AnsiColor::Cyan.on_default().bold();
const DIM: Style = Style::new().dimmed();
const BOLD: Style = Style::new().bold();
const GREEN: Style = AnsiColor::Green.on_default().bold();

/// The printer of one run: settings, and the turn that keeps a block of
/// output (a diff and the question after it) whole when tasks print at once.
#[derive(Clone)]
pub struct Output {
    verbose: bool,
    /// The command was given `--json`: errors are also a JSON object on stdout.
    json: bool,
    cwd: PathBuf,
    turn: Arc<Mutex<()>>,
}

impl Output {
    pub fn new(color: ColorChoice, verbose: bool, json: bool) -> Self {
        let choice = match color {
            ColorChoice::Auto => anstream::ColorChoice::Auto,
            ColorChoice::Always => anstream::ColorChoice::Always,
            ColorChoice::Never => anstream::ColorChoice::Never,
        };
        choice.write_global();
        Output { verbose, json, cwd: std::env::current_dir().unwrap_or_default(), turn: Arc::default() }
    }

    /// Holds the terminal for one block (a diff and its question): other
    /// tasks' blocks, engine lines and plugin logs wait until it is dropped.
    pub fn turn(&self) -> MutexGuard<'_, ()> {
        self.turn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Asks a yes/no question on a terminal; `None` when there is no
    /// terminal. Call it inside a [`Output::turn`] when tasks run at once.
    pub fn confirm(&self, question: &str, default: bool) -> Option<bool> {
        if !crate::commands::interactive() {
            return None;
        }
        dialoguer::Confirm::new().with_prompt(question).default(default).interact().ok()
    }

    /// One line of a container engine's output, prefixed with the service
    /// it builds (`[api] ...`), on stderr.
    pub fn engine_line(&self, label: &str, line: &str) {
        let _turn = self.turn();
        eprintln!("[{label}] {line}");
    }

    /// A line a plugin logged, shown with `--verbose`, prefixed with its name.
    pub fn plugin_log(&self, plugin: &str, level: &str, message: &str) {
        if self.verbose {
            let _turn = self.turn();
            for line in message.lines() {
                eprintln!("{DIM}[{plugin}]{DIM:#} {level}: {line}");
            }
        }
    }

    /// What the process built (`FERRY_DEBUG_COUNTERS=1`), one JSON line on stderr.
    pub fn debug_counters(&self, value: &serde_json::Value) {
        eprintln!("{value}");
    }

    /// A path as the user would type it: relative to where they are.
    pub fn path(&self, path: &Path) -> String {
        path.strip_prefix(&self.cwd).unwrap_or(path).display().to_string()
    }

    /// A line of progress or result on stderr (stdout stays machine-readable).
    pub fn status(&self, verb: &str, message: &str) {
        eprintln!("{GREEN}{verb:>12}{GREEN:#} {message}");
    }

    pub fn note(&self, message: &str) {
        eprintln!("{DIM}{message}{DIM:#}");
    }

    pub fn debug(&self, message: &str) {
        if self.verbose {
            eprintln!("{DIM}debug: {message}{DIM:#}");
        }
    }

    /// Writes data to stdout.
    pub fn data(&self, text: &str) {
        let mut stdout = anstream::stdout().lock();
        let _ = stdout.write_all(text.as_bytes());
        if !text.ends_with('\n') {
            let _ = stdout.write_all(b"\n");
        }
    }

    pub fn json(&self, value: &serde_json::Value) {
        self.data(&serde_json::to_string_pretty(value).unwrap_or_default());
    }

    /// A table with a bold header; columns padded to the widest cell.
    pub fn table(&self, header: &[&str], rows: &[Vec<String>]) {
        let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
        for row in rows {
            for (i, cell) in row.iter().enumerate() {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
        let line = |cells: Vec<String>| {
            cells
                .iter()
                .enumerate()
                .map(|(i, c)| if i + 1 == cells.len() { c.clone() } else { format!("{c:<w$}", w = widths[i]) })
                .collect::<Vec<_>>()
                .join("  ")
        };
        println!("{BOLD}{}{BOLD:#}", line(header.iter().map(|h| h.to_string()).collect()));
        for row in rows {
            println!("{}", line(row.clone()));
        }
    }

    /// A unified diff of two texts on stdout, with three lines of context.
    pub fn diff(&self, old_label: &str, new_label: &str, old: &str, new: &str) {
        let diff = similar::TextDiff::from_lines(old, new);
        let mut stdout = anstream::stdout().lock();
        let _ = writeln!(stdout, "{ERROR}--- {old_label}{ERROR:#}\n{GREEN}+++ {new_label}{GREEN:#}");
        for group in diff.grouped_ops(3) {
            for op in group {
                for change in diff.iter_changes(&op) {
                    let (sign, style) = match change.tag() {
                        similar::ChangeTag::Delete => ("-", ERROR),
                        similar::ChangeTag::Insert => ("+", GREEN),
                        similar::ChangeTag::Equal => (" ", DIM),
                    };
                    let line = change.to_string_lossy();
                    let _ = write!(stdout, "{style}{sign}{}{style:#}", line);
                    if !line.ends_with('\n') {
                        let _ = writeln!(stdout);
                    }
                }
            }
            let _ = writeln!(stdout, "{DIM}...{DIM:#}");
        }
    }

    /// One log event: time, stream, message.
    pub fn log_line(&self, timestamp_ms: i64, stream: &str, message: &str) {
        let secs = timestamp_ms.div_euclid(1000);
        let (h, m, s) = ((secs / 3600) % 24, (secs / 60) % 60, secs % 60);
        let short = stream.rsplit('/').next().unwrap_or(stream);
        let short: String = short.chars().take(8).collect();
        self.data(&format!("{DIM}{h:02}:{m:02}:{s:02}Z {short}{DIM:#} {message}"));
    }

    pub fn warning(&self, problem: &Problem) {
        self.problem(problem);
    }

    /// Renders an error and its causes, the one way every error is shown;
    /// problems in the user's files are shown with their location, the
    /// source line and a hint. With `--json` the error is also one JSON
    /// object on stdout: `{"event": "error", "what", "why", "hint", "location", ...}`.
    pub fn error(&self, err: &anyhow::Error) {
        if self.json {
            let mut stdout = anstream::stdout().lock();
            let _ = writeln!(stdout, "{}", error_json(err, &self.cwd));
        }
        if let Some(problems) = problems_of(err) {
            for problem in problems {
                self.problem(problem);
            }
            let errors = problems.iter().filter(|p| !p.warning).count();
            if errors > 1 {
                eprintln!("{ERROR}error{ERROR:#}: {errors} problems found");
            }
            return;
        }
        eprintln!("{ERROR}error{ERROR:#}: {err}");
        for cause in err.chain().skip(1) {
            eprintln!("  {DIM}caused by:{DIM:#} {cause}");
        }
        let (why, hints) = advice(err);
        if let Some(why) = why {
            eprintln!("{BOLD}why{BOLD:#}: {why}");
        }
        for hint in hints {
            eprintln!("{HINT}hint{HINT:#}: {hint}");
        }
    }

    fn problem(&self, problem: &Problem) {
        let (label, style) = if problem.warning { ("warning", WARNING) } else { ("error", ERROR) };
        eprintln!("{style}{label}{style:#}{BOLD}: {}{BOLD:#}", problem.what);
        if let Some(location) = &problem.location {
            self.snippet(location, problem.pointer.as_deref());
        } else if let Some(pointer) = &problem.pointer {
            eprintln!("  {DIM}-->{DIM:#} manifest path {pointer}");
        }
        if let Some(why) = &problem.why {
            eprintln!("   {DIM}={DIM:#} {BOLD}why{BOLD:#}: {why}");
        }
        if let Some(hint) = &problem.hint {
            let mut lines = hint.lines();
            eprintln!("   {DIM}={DIM:#} {HINT}hint{HINT:#}: {}", lines.next().unwrap_or_default());
            for line in lines {
                eprintln!("           {line}");
            }
        }
    }

    fn snippet(&self, location: &Location, pointer: Option<&str>) {
        let place = format!("{}:{}:{}", self.path(&location.file), location.line, location.column);
        match pointer.filter(|p| !p.is_empty()) {
            Some(pointer) => eprintln!("  {DIM}-->{DIM:#} {place} {DIM}({pointer}){DIM:#}"),
            None => eprintln!("  {DIM}-->{DIM:#} {place}"),
        }
        if let Some(source) = &location.source_line {
            let number = location.line.to_string();
            let pad = " ".repeat(number.len());
            let caret_pad = " ".repeat(location.column.saturating_sub(1));
            eprintln!("  {pad} {DIM}|{DIM:#}");
            eprintln!("  {DIM}{number} |{DIM:#} {source}");
            eprintln!("  {pad} {DIM}|{DIM:#} {caret_pad}{ERROR}^{ERROR:#}");
        }
    }
}

/// The problems in the user's files an error is about, if it is about them.
fn problems_of(err: &anyhow::Error) -> Option<&[Problem]> {
    err.chain()
        .filter_map(|cause| cause.downcast_ref::<ferry_core::Error>())
        .map(|core| core.problems())
        .find(|problems| !problems.is_empty())
}

/// The why and hint one error carries as data, read from the error types
/// that carry them.
fn explain(cause: &(dyn std::error::Error + 'static)) -> (Option<String>, Option<String>) {
    use ferry_core::Explain;
    macro_rules! explained {
        ($($t:ty),*) => {
            $(if let Some(e) = cause.downcast_ref::<$t>() {
                return (Explain::why(e), Explain::hint(e));
            })*
        };
    }
    explained!(
        ferry_core::Failure,
        ferry_core::upload::UploadError,
        ferry_aws::AwsError,
        ferry_aws::lease::Held,
        ferry_aws::deploy::DeployError,
        ferry_aws::app::OpsError,
        ferry_runtime::PluginError,
        ferry_runtime::WorkspacePluginsError,
        ferry_runtime::LockError,
        ferry_runtime::TrustError
    );
    if let Some(e) = cause.downcast_ref::<ferry_image::ImageError>() {
        return (None, e.hint());
    }
    (None, None)
}

/// The first why and every distinct hint of an error's chain, outermost first.
pub fn advice(err: &anyhow::Error) -> (Option<String>, Vec<String>) {
    let mut why = None;
    let mut hints: Vec<String> = Vec::new();
    for cause in err.chain() {
        let (w, h) = explain(cause);
        why = why.or(w);
        if let Some(h) = h
            && !hints.contains(&h)
        {
            hints.push(h);
        }
    }
    (why, hints)
}

/// A failure as text: its message, then its hint on a line of its own.
pub fn with_hint(failure: &ferry_core::Failure) -> String {
    match &failure.hint {
        Some(hint) => format!("{}\nhint: {hint}", failure.what),
        None => failure.what.clone(),
    }
}

/// An error in one line for a list of failures (`name: what (hint: ...)`),
/// its hints kept.
pub fn inline(err: &anyhow::Error) -> String {
    let (_, hints) = advice(err);
    let mut text = format!("{err:#}");
    for hint in hints {
        text.push_str(&format!(" (hint: {hint})"));
    }
    text
}

/// The JSON error object of `--json`: what went wrong, why, what to do and
/// where (for problems in the user's files, every problem too).
pub fn error_json(err: &anyhow::Error, cwd: &Path) -> serde_json::Value {
    let location = |l: &Location| {
        serde_json::json!({
            "file": l.file.strip_prefix(cwd).unwrap_or(&l.file).display().to_string(),
            "line": l.line,
            "column": l.column,
        })
    };
    let problem = |p: &Problem| {
        serde_json::json!({
            "what": p.what, "why": p.why, "hint": p.hint,
            "location": p.location.as_ref().map(location), "pointer": p.pointer,
            "severity": if p.warning { "warning" } else { "error" },
        })
    };
    if let Some(problems) = problems_of(err) {
        let first = problems.iter().find(|p| !p.warning).unwrap_or(&problems[0]);
        return serde_json::json!({
            "event": "error",
            "what": first.what,
            "why": first.why,
            "hint": first.hint,
            "location": first.location.as_ref().map(location),
            "pointer": first.pointer,
            "problems": problems.iter().map(problem).collect::<Vec<_>>(),
        });
    }
    let (why, hints) = advice(err);
    serde_json::json!({
        "event": "error",
        "what": err.to_string(),
        "why": why,
        "hint": (!hints.is_empty()).then(|| hints.join("\n")),
        "location": null,
        "causes": err.chain().skip(1).map(|c| c.to_string()).collect::<Vec<_>>(),
    })
}

/// How deploy progress is shown: a live view on a terminal, plain lines
/// in logs, or one JSON object per line for CI systems.
pub struct DeployView {
    json: bool,
    live: Option<indicatif::MultiProgress>,
    bars: std::sync::Mutex<std::collections::HashMap<String, indicatif::ProgressBar>>,
    /// Resource descriptions from the plugins, by stack then logical ID.
    descriptions: std::sync::Mutex<std::collections::HashMap<String, std::collections::HashMap<String, String>>>,
}

impl DeployView {
    pub fn new(json: bool) -> Self {
        use std::io::IsTerminal;
        let live = (!json && std::io::stderr().is_terminal() && std::env::var_os("CI").is_none())
            .then(indicatif::MultiProgress::new);
        DeployView { json, live, bars: Default::default(), descriptions: Default::default() }
    }

    /// Remembers what each resource of a stack is, to label its events.
    pub fn describe(&self, stack: &str, descriptions: std::collections::HashMap<String, String>) {
        self.descriptions.lock().unwrap_or_else(|e| e.into_inner()).insert(stack.to_string(), descriptions);
    }

    /// One JSON event line on stdout.
    pub fn emit(&self, value: serde_json::Value) {
        if self.json {
            let mut stdout = anstream::stdout().lock();
            let _ = writeln!(stdout, "{value}");
        }
    }

    /// A line above the live view (or on stderr).
    pub fn line(&self, text: String) {
        if self.json {
            return;
        }
        match &self.live {
            Some(live) => {
                let _ = live.println(text);
            }
            None => eprintln!("{text}"),
        }
    }

    /// A stack starts: a spinner on a terminal.
    pub fn start(&self, stack: &str, verb: &str) {
        self.emit(serde_json::json!({"event": "stack_started", "stack": stack, "action": verb}));
        if let Some(live) = &self.live {
            let bar = live.add(indicatif::ProgressBar::new_spinner());
            bar.set_style(
                indicatif::ProgressStyle::with_template("{spinner:.green} {prefix:.bold} {wide_msg:.dim}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            bar.set_prefix(stack.to_string());
            bar.set_message(verb.to_string());
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            self.bars.lock().unwrap_or_else(|e| e.into_inner()).insert(stack.to_string(), bar);
        } else {
            self.line(format!("{GREEN}{verb:>12}{GREEN:#} {stack}"));
        }
    }

    /// A deploy event of one stack.
    pub fn event(&self, event: &ferry_aws::DeployEvent) {
        use ferry_aws::DeployEvent;
        match event {
            DeployEvent::DeletingFailedStack { stack } => {
                self.emit(serde_json::json!({"event": "deleting_failed_stack", "stack": stack}));
                self.line(format!("{WARNING}{:>12}{WARNING:#} {stack}: left by a failed create", "Deleting"));
            }
            DeployEvent::WaitingForOther { stack, status } => {
                self.emit(serde_json::json!({"event": "waiting_for_stack", "stack": stack, "status": status}));
                self.line(format!(
                    "{WARNING}{:>12}{WARNING:#} {stack}: {status}, an operation this run did not start; going on when it settles",
                    "Waiting"
                ));
            }
            DeployEvent::ChangeSetCreated { stack, change_set } => {
                self.emit(serde_json::json!({"event": "change_set_created", "stack": stack, "change_set": change_set}));
            }
            DeployEvent::Executing { stack, create } => {
                self.emit(serde_json::json!({"event": "stack_execute_requested", "stack": stack, "create": create}));
            }
            DeployEvent::Started { stack, create } => {
                self.emit(serde_json::json!({"event": "stack_executing", "stack": stack, "create": create}));
            }
            DeployEvent::Replacing { stack, changes } => {
                crate::commands::replacement_guard::show(self, stack, changes);
            }
            DeployEvent::Resource { stack, event } => {
                let description = self
                    .descriptions
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .get(stack)
                    .and_then(|d| d.get(&event.logical_id))
                    .cloned();
                self.emit(serde_json::json!({
                    "event": "resource", "stack": stack, "logical_id": event.logical_id,
                    "type": event.resource_type, "status": event.status, "reason": event.reason,
                    "description": description,
                }));
                let style = if event.failed() {
                    ERROR
                } else if event.status.ends_with("_COMPLETE") {
                    GREEN
                } else {
                    DIM
                };
                let label = description.unwrap_or_else(|| event.resource_type.clone());
                let reason = event.reason.as_deref().map(|r| format!(" — {r}")).unwrap_or_default();
                let text =
                    format!("  {style}{:<20}{style:#} {} {DIM}{label}{reason}{DIM:#}", event.status, event.logical_id);
                let bar = self.bars.lock().unwrap_or_else(|e| e.into_inner()).get(stack).cloned();
                match bar {
                    Some(bar) if !event.failed() && !event.status.ends_with("_COMPLETE") => {
                        bar.set_message(format!("{} {}", event.logical_id, event.status));
                    }
                    _ => self.line(text),
                }
            }
        }
    }

    /// A stack finished (`outcome` is created / updated / up to date / deleted / failed).
    pub fn finish(&self, stack: &str, outcome: &str, ok: bool) {
        self.emit(serde_json::json!({"event": "stack_finished", "stack": stack, "outcome": outcome, "ok": ok}));
        if let Some(bar) = self.bars.lock().unwrap_or_else(|e| e.into_inner()).remove(stack) {
            bar.finish_and_clear();
        }
        let (style, mark) = if ok { (GREEN, "✔") } else { (ERROR, "✘") };
        self.line(format!("{style}{mark:>12}{style:#} {stack} {DIM}{outcome}{DIM:#}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_core::Failure;

    #[test]
    fn a_failure_is_a_json_object_with_its_hint_and_causes() {
        let io = std::io::Error::other("disk on fire");
        let err = anyhow::Error::from(Failure::new("cannot write the template").hint("free some space").because(io))
            .context("package of api failed");
        let json = error_json(&err, Path::new("/"));
        assert_eq!(json["event"], "error");
        assert_eq!(json["what"], "package of api failed");
        assert_eq!(json["hint"], "free some space");
        assert_eq!(json["causes"], serde_json::json!(["cannot write the template", "disk on fire"]));
        assert!(json["location"].is_null());
        assert_eq!(
            inline(&err),
            "package of api failed: cannot write the template: disk on fire (hint: free some space)"
        );
    }

    #[test]
    fn problems_are_a_json_object_with_their_location() {
        let location = Location { file: "/ws/copilot/api/manifest.yml".into(), line: 4, column: 3, source_line: None };
        let problem = Problem::new("`count` must be a number")
            .at(Some(location))
            .pointer("/count")
            .why("Copilot reads it as an integer")
            .hint("write `count: 2`");
        let err = anyhow::Error::from(ferry_core::Error::problem(problem)).context("cannot render api");
        let json = error_json(&err, Path::new("/ws"));
        assert_eq!(json["what"], "`count` must be a number");
        assert_eq!(json["why"], "Copilot reads it as an integer");
        assert_eq!(json["hint"], "write `count: 2`");
        assert_eq!(json["location"], serde_json::json!({"file": "copilot/api/manifest.yml", "line": 4, "column": 3}));
        assert_eq!(json["pointer"], "/count");
        assert_eq!(json["problems"].as_array().map(Vec::len), Some(1));
    }

    #[test]
    fn hints_come_from_every_error_type_that_carries_one() {
        let aws = ferry_aws::AwsError::new("ssm:GetParameter", None, ferry_aws::AwsErrorKind::NoRegion, "none set");
        let err = anyhow::Error::from(aws).context("cannot list apps");
        let (_, hints) = advice(&err);
        assert_eq!(hints.len(), 1, "{hints:?}");
        assert!(hints[0].starts_with("set AWS_REGION"), "{hints:?}");
        assert!(!format!("{err:#}").contains("hint"), "the message carries no hint: {err:#}");
    }
}
