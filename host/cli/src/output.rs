//! The one place that writes to the terminal: colour, problems with source
//! snippets, tables and JSON. Commands describe what to show; this decides how.

use crate::cli::ColorChoice;
use anstream::{eprintln, println};
use anstyle::{AnsiColor, Style};
use ferry_core::{Location, Problem};
use std::io::Write;
use std::path::{Path, PathBuf};

const ERROR: Style = AnsiColor::Red.on_default().bold();
const WARNING: Style = AnsiColor::Yellow.on_default().bold();
const HINT: Style = AnsiColor::Cyan.on_default().bold();
const DIM: Style = Style::new().dimmed();
const BOLD: Style = Style::new().bold();
const GREEN: Style = AnsiColor::Green.on_default().bold();

/// Terminal output settings for one run.
pub struct Output {
    verbose: bool,
    cwd: PathBuf,
}

impl Output {
    pub fn new(color: ColorChoice, verbose: bool) -> Self {
        let choice = match color {
            ColorChoice::Auto => anstream::ColorChoice::Auto,
            ColorChoice::Always => anstream::ColorChoice::Always,
            ColorChoice::Never => anstream::ColorChoice::Never,
        };
        choice.write_global();
        Output { verbose, cwd: std::env::current_dir().unwrap_or_default() }
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

    pub fn warning(&self, problem: &Problem) {
        self.problem(problem);
    }

    /// Renders an error and its causes; problems in the user's files are
    /// shown with their location, the source line and a hint.
    pub fn error(&self, err: &anyhow::Error) {
        for cause in err.chain() {
            if let Some(core) = cause.downcast_ref::<ferry_core::Error>()
                && !core.problems().is_empty()
            {
                let problems = core.problems();
                for problem in problems {
                    self.problem(problem);
                }
                let errors = problems.iter().filter(|p| !p.warning).count();
                if errors > 1 {
                    eprintln!("{ERROR}error{ERROR:#}: {errors} problems found");
                }
                return;
            }
        }
        eprintln!("{ERROR}error{ERROR:#}: {err}");
        for cause in err.chain().skip(1) {
            eprintln!("  {DIM}caused by:{DIM:#} {cause}");
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
