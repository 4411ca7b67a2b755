//! The bounded CI run of every fuzz target: a fixed seed and a few thousand
//! executions each, so a regression that panics on mutated manifests or
//! breaks a merge rule fails here. `bench/fuzz.sh` runs a million each.

use ferry_fuzz::{Corpus, Target, run};
use std::path::Path;

fn corpus() -> Corpus {
    Corpus::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")).expect("the repository's YAML files")
}

fn bounded(target: Target, executions: u64) {
    let corpus = corpus();
    assert!(corpus.manifests.len() > 100, "the corpus is the plugins' fixtures: {} files", corpus.manifests.len());
    let report = run(target, &corpus, 20261204, 0, executions, 5);
    assert_eq!(report.executions, executions);
    let findings: Vec<String> = report
        .findings
        .iter()
        .map(|f| format!("execution {}: {}\n--- input ---\n{}", f.execution, f.message, f.input))
        .collect();
    assert!(findings.is_empty(), "{} findings:\n{}", findings.len(), findings.join("\n\n"));
}

#[test]
fn manifest_loader_survives_mutated_manifests() {
    bounded(Target::Manifest, 3_000);
}

#[test]
fn interpolation_keeps_structure_and_is_deterministic() {
    bounded(Target::Interpolate, 20_000);
}

#[test]
fn override_merge_follows_copilots_rules() {
    bounded(Target::Merge, 20_000);
}

#[test]
fn patches_never_panic_and_round_trip() {
    bounded(Target::Patches, 20_000);
}

/// The harness itself: a check that panics is reported as a finding with
/// the execution that replays it alone, and the run stops at the limit.
#[test]
fn a_panicking_check_is_a_finding_that_replays_alone() {
    let make = |rng: &mut ferry_fuzz::Rng| rng.next_u64();
    let check = |drawn: &u64, _: &mut ferry_fuzz::Rng| assert!(!drawn.is_multiple_of(5), "{drawn} is a multiple of 5");
    let (done, _, findings) = ferry_fuzz::drive(99, 0, 1_000, 3, make, check);
    assert_eq!(findings.len(), 3, "a fifth of the draws fail");
    let (execution, message, input) = &findings[0];
    assert!(done < 1_000 && done == execution_of_last(&findings) + 1, "stopped at the third finding");
    assert_eq!(message, &format!("{input} is a multiple of 5"));
    let (_, _, replayed) = ferry_fuzz::drive(99, *execution, 1, 3, make, check);
    assert_eq!(replayed.len(), 1);
    assert_eq!(replayed[0].2, *input, "execution {execution} draws the same input alone");
}

fn execution_of_last(findings: &[(u64, String, u64)]) -> u64 {
    findings.last().map(|f| f.0).unwrap_or_default()
}
