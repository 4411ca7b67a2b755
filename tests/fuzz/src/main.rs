//! `ferry-fuzz [--target NAME|all] [--executions N] [--seed S] [--from N] [--root DIR]`
//!
//! Runs the targets, prints one line of figures per target, writes each
//! finding (its input and how to replay it) under `target/fuzz-findings/`,
//! and exits 1 when there was any.

use ferry_fuzz::{Corpus, Target, run};
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    match main_inner() {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            eprintln!(
                "usage: ferry-fuzz [--target manifest|interpolate|merge|patches|all] [--executions N] [--seed S] [--from N] [--root DIR]"
            );
            ExitCode::from(2)
        }
    }
}

fn main_inner() -> Result<ExitCode, String> {
    let mut targets = Target::ALL.to_vec();
    let mut executions = 100_000u64;
    let mut seed = 1u64;
    let mut from = 0u64;
    let mut root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--target" => {
                let name = value()?;
                targets = if name == "all" {
                    Target::ALL.to_vec()
                } else {
                    vec![Target::from_name(&name).ok_or_else(|| format!("no target `{name}`"))?]
                };
            }
            "--executions" => executions = number(&value()?)?,
            "--seed" => seed = number(&value()?)?,
            "--from" => from = number(&value()?)?,
            "--root" => root = PathBuf::from(value()?),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    let corpus = Corpus::load(&root).map_err(|e| format!("cannot read the corpus under {}: {e}", root.display()))?;
    let findings_dir = root.join("target/fuzz-findings");
    println!("corpus: {} YAML files; seed {seed}", corpus.manifests.len());
    println!("{:<12} {:>12} {:>10} {:>12} {:>9}", "target", "executions", "seconds", "exec/s", "findings");
    let mut total = 0;
    for target in targets {
        let report = run(target, &corpus, seed, from, executions, 20);
        println!(
            "{:<12} {:>12} {:>10.1} {:>12.0} {:>9}",
            target.name(),
            report.executions,
            report.elapsed.as_secs_f64(),
            report.per_second(),
            report.findings.len()
        );
        for finding in &report.findings {
            std::fs::create_dir_all(&findings_dir).map_err(|e| e.to_string())?;
            let file = findings_dir.join(format!("{}-{}-{}.txt", target.name(), finding.seed, finding.execution));
            let replay = format!(
                "--target {} --seed {} --from {} --executions 1",
                target.name(),
                finding.seed,
                finding.execution
            );
            std::fs::write(&file, format!("# {}\n# replay: ferry-fuzz {replay}\n{}", finding.message, finding.input))
                .map_err(|e| e.to_string())?;
            println!("  finding: {} ({})", finding.message, file.display());
        }
        total += report.findings.len();
    }
    Ok(if total == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

fn number(text: &str) -> Result<u64, String> {
    text.replace('_', "").parse().map_err(|_| format!("`{text}` is not a number"))
}
