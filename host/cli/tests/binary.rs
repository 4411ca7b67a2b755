//! The binary itself: version and the command groups a Copilot user looks for.
//! Having an integration test here also makes `cargo nextest run --workspace`
//! build `target/debug/ferry` with the test build's features, so CI compiles
//! the dependency tree once instead of once for `cargo build` and once for tests.

use assert_cmd::Command;

#[test]
fn version_names_the_crate_version() {
    let out = Command::cargo_bin("ferry").unwrap().arg("--version").assert().success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert_eq!(text.trim(), format!("ferry {}", env!("CARGO_PKG_VERSION")));
}

#[test]
fn help_lists_copilot_command_groups() {
    let out = Command::cargo_bin("ferry").unwrap().arg("--help").assert().success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    for group in ["app", "env", "svc", "job", "deploy", "secret", "plugin"] {
        assert!(
            text.lines().any(|l| l.trim_start().starts_with(&format!("{group} "))),
            "missing `{group}` in:\n{text}"
        );
    }
}
