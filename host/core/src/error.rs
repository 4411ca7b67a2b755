//! Errors that tell the user what is wrong, where, why, and what to do.

use std::fmt;
use std::path::PathBuf;

/// A place in a source file (1-based line and column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    /// The text of that line, for a caret under the column.
    pub source_line: Option<String>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

/// One user-facing problem: what, where, why, and a hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// What is wrong, in one line.
    pub what: String,
    /// Where it is, when it is in a file.
    pub location: Option<Location>,
    /// The manifest path (JSON pointer) when known, e.g. `/http/healthcheck`.
    pub pointer: Option<String>,
    /// Why it is a problem, when that is not obvious from `what`.
    pub why: Option<String>,
    /// What the user can do about it.
    pub hint: Option<String>,
    /// Warnings do not stop a command.
    pub warning: bool,
}

impl Problem {
    pub fn new(what: impl Into<String>) -> Self {
        Problem { what: what.into(), location: None, pointer: None, why: None, hint: None, warning: false }
    }

    pub fn at(mut self, location: Option<Location>) -> Self {
        self.location = location;
        self
    }

    pub fn pointer(mut self, pointer: impl Into<String>) -> Self {
        self.pointer = Some(pointer.into());
        self
    }

    pub fn why(mut self, why: impl Into<String>) -> Self {
        self.why = Some(why.into());
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn hint_opt(mut self, hint: Option<String>) -> Self {
        self.hint = hint;
        self
    }

    pub fn warning(mut self) -> Self {
        self.warning = true;
        self
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(location) = &self.location {
            write!(f, "{location}: ")?;
        }
        write!(f, "{}", self.what)?;
        if let Some(why) = &self.why {
            write!(f, ": {why}")?;
        }
        if let Some(hint) = &self.hint {
            write!(f, " (hint: {hint})")?;
        }
        Ok(())
    }
}

/// Everything that can go wrong in ferry-core.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// One or more problems in the user's files.
    #[error("{}", .0.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n"))]
    Problems(Vec<Problem>),
    /// A file could not be read or written.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    pub fn problem(problem: Problem) -> Self {
        Error::Problems(vec![problem])
    }

    pub fn read(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { action: "read", path: path.into(), source }
    }

    pub fn write(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { action: "write", path: path.into(), source }
    }

    /// The problems, when this error is about the user's files.
    pub fn problems(&self) -> &[Problem] {
        match self {
            Error::Problems(problems) => problems,
            Error::Io { .. } => &[],
        }
    }
}

impl From<Problem> for Error {
    fn from(problem: Problem) -> Self {
        Error::problem(problem)
    }
}

/// Closest candidate to `word` for a "did you mean" hint.
pub fn did_you_mean<'a, I>(word: &str, candidates: I) -> Option<String>
where
    I: IntoIterator<Item = &'a str>,
{
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&word.to_lowercase(), &c.to_lowercase()), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c.to_string())
}

/// An error a person can act on, as data: what went wrong, why (when that
/// is not obvious) and what to do. The binary renders these (text or JSON);
/// no message carries its hint pasted in.
#[derive(Debug)]
pub struct Failure {
    /// What went wrong, in one line.
    pub what: String,
    /// Why it is a problem.
    pub why: Option<String>,
    /// What the user can do about it.
    pub hint: Option<String>,
    /// The error underneath, shown as its cause.
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl Failure {
    pub fn new(what: impl Into<String>) -> Self {
        Failure { what: what.into(), why: None, hint: None, source: None }
    }

    /// The error this one comes from.
    pub fn because(mut self, source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        self.source = Some(source.into());
        self
    }

    pub fn why(mut self, why: impl Into<String>) -> Self {
        self.why = Some(why.into());
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.what)
    }
}

impl std::error::Error for Failure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// The why and hint an error type carries as data, for the one renderer.
pub trait Explain {
    /// Why it went wrong, when the message does not say.
    fn why(&self) -> Option<String> {
        None
    }
    /// What the user can do about it.
    fn hint(&self) -> Option<String>;
}

impl Explain for Failure {
    fn why(&self) -> Option<String> {
        self.why.clone()
    }
    fn hint(&self) -> Option<String> {
        self.hint.clone()
    }
}
