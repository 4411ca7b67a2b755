//! Seeded fuzzing of the code that reads what users write: the manifest
//! loader (YAML with positions, `environments` overrides, `${VAR}`
//! interpolation, error locations), the override merge, and
//! `cfn.patches.yml` edits applied to templates.
//!
//! Inputs are mutations of the repository's own manifests (examples and
//! every plugin fixture, valid and invalid) and generated values shaped like
//! manifests. Each execution runs under `catch_unwind`: a panic is a finding,
//! and so is a broken property (the merge rules are checked as properties on
//! every generated pair). Execution `n` of seed `s` replays on its own
//! (`--seed s --from n --executions 1`), so a finding is reproducible
//! anywhere. Runs on stable Rust, so CI runs a bounded version of each target.

mod generate;
mod rng;
mod targets;

pub use rng::Rng;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// What is fuzzed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// YAML text → positions → effective manifest for an environment →
    /// error locations and rendering.
    Manifest,
    /// `${VAR}` replacement in generated values.
    Interpolate,
    /// The `environments.<env>` merge, checked against Copilot's rules.
    Merge,
    /// `cfn.patches.yml` operations on generated templates.
    Patches,
}

impl Target {
    pub const ALL: [Target; 4] = [Target::Manifest, Target::Interpolate, Target::Merge, Target::Patches];

    pub fn name(self) -> &'static str {
        match self {
            Target::Manifest => "manifest",
            Target::Interpolate => "interpolate",
            Target::Merge => "merge",
            Target::Patches => "patches",
        }
    }

    pub fn from_name(name: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.name() == name)
    }
}

/// Seed inputs read from the repository.
#[derive(Debug, Default, Clone)]
pub struct Corpus {
    pub manifests: Vec<String>,
}

impl Corpus {
    /// Every `*.yml` under `examples/` and the plugins' `tests/` folders of
    /// the repository at `root`.
    pub fn load(root: &Path) -> std::io::Result<Corpus> {
        let mut files = Vec::new();
        collect_yaml(&root.join("examples"), &mut files)?;
        for plugin in std::fs::read_dir(root.join("plugins"))? {
            let tests = plugin?.path().join("tests");
            if tests.is_dir() {
                collect_yaml(&tests, &mut files)?;
            }
        }
        files.sort();
        let manifests = files.iter().map(std::fs::read_to_string).collect::<Result<Vec<_>, _>>()?;
        if manifests.is_empty() {
            return Err(std::io::Error::other(format!("no YAML files under {}", root.display())));
        }
        Ok(Corpus { manifests })
    }
}

fn collect_yaml(dir: &Path, into: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if !dir.is_dir() {
        return Ok(());
    }
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "snapshots" || n == "target") {
                continue;
            }
            collect_yaml(&path, into)?;
        } else if path.extension().is_some_and(|e| e == "yml" || e == "yaml") {
            into.push(path);
        }
    }
    Ok(())
}

/// One panic or broken property, with what replays it.
#[derive(Debug, Clone)]
pub struct Finding {
    pub target: Target,
    pub seed: u64,
    pub execution: u64,
    pub message: String,
    /// The input, as text (YAML or JSON).
    pub input: String,
}

/// What one run of a target did.
#[derive(Debug, Clone)]
pub struct Report {
    pub target: Target,
    pub executions: u64,
    pub elapsed: Duration,
    pub findings: Vec<Finding>,
}

impl Report {
    pub fn per_second(&self) -> f64 {
        self.executions as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Runs executions `from..from + executions` of `target`; stops early
/// after `max_findings` findings.
pub fn run(target: Target, corpus: &Corpus, seed: u64, from: u64, executions: u64, max_findings: usize) -> Report {
    let (executions, elapsed, findings) = drive(
        seed,
        from,
        executions,
        max_findings,
        |rng| targets::input(target, corpus, rng),
        |input, rng| targets::check(target, input, rng),
    );
    let findings = findings
        .into_iter()
        .map(|(execution, message, input)| Finding { target, seed, execution, message, input: input.describe() })
        .collect();
    Report { target, executions, elapsed, findings }
}

/// The loop every target shares: execution `n` draws from its own
/// generator (so it replays alone), makes an input and checks it under
/// `catch_unwind`. Returns executions done, time taken, and the findings
/// as (execution, panic message, input).
pub fn drive<I>(
    seed: u64,
    from: u64,
    executions: u64,
    max_findings: usize,
    make: impl Fn(&mut Rng) -> I,
    check: impl Fn(&I, &mut Rng),
) -> (u64, Duration, Vec<(u64, String, I)>) {
    let quiet = QuietPanics::install();
    let started = Instant::now();
    let mut findings = Vec::new();
    let mut done = 0;
    for execution in from..from + executions {
        let mut rng = Rng::new(seed ^ execution.wrapping_mul(0xa076_1d64_78bd_642f));
        let input = make(&mut rng);
        done += 1;
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&input, &mut rng)));
        if let Err(payload) = outcome {
            findings.push((execution, panic_message(&payload), input));
            if findings.len() >= max_findings {
                break;
            }
        }
    }
    drop(quiet);
    (done, started.elapsed(), findings)
}

fn panic_message(payload: &Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "a panic without a message".into())
}

/// Panics are expected findings: they are reported once, by `run`, not
/// printed by the default hook on every execution.
type PanicHook = Box<dyn Fn(&std::panic::PanicHookInfo<'_>) + Sync + Send + 'static>;

struct QuietPanics(Option<PanicHook>);

impl QuietPanics {
    fn install() -> QuietPanics {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        QuietPanics(Some(previous))
    }
}

impl Drop for QuietPanics {
    fn drop(&mut self) {
        if let Some(previous) = self.0.take() {
            std::panic::set_hook(previous);
        }
    }
}
