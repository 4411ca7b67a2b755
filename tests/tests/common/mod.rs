//! Shared by the end-to-end tests: where the binary is, temp workspaces,
//! and one compile cache for the whole run.

pub mod state;

use assert_cmd::Command;
use std::path::{Path, PathBuf};

pub fn workspace_root() -> PathBuf {
    ferry_test_support::workspace_root()
}

/// The `ferry` binary cargo built next to this test executable.
pub fn ferry_bin() -> PathBuf {
    if let Some(path) = std::env::var_os("FERRY_BIN") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("current_exe");
    let dir = exe.parent().and_then(Path::parent).expect("test binary lives in target/<profile>/deps");
    let bin = dir.join(format!("ferry{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.is_file(),
        "{} is missing: run the tests with `cargo nextest run --workspace` (or `cargo build -p ferry` first)",
        bin.display()
    );
    bin
}

/// A `ferry` command run in `dir`, with a compile cache shared by all tests
/// of this run and no colour.
pub fn ferry(dir: &Path) -> Command {
    let mut cmd = Command::new(ferry_bin());
    cmd.current_dir(dir)
        .env("FERRY_CACHE_DIR", workspace_root().join("target/test-plugin-cache"))
        .env("FERRY_COLOR", "never")
        .env_remove("RUST_BACKTRACE");
    cmd
}

/// The environment [`ferry`] and [`run_on_moto`] give, on a plain
/// `std::process::Command`: for tests that read a run's output while it
/// goes on, or signal and kill it.
pub fn ferry_on_moto_process(moto: &ferry_test_support::Moto, dir: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(ferry_bin());
    cmd.current_dir(dir)
        .env("FERRY_CACHE_DIR", workspace_root().join("target/test-plugin-cache"))
        .env("FERRY_COLOR", "never")
        .env_remove("RUST_BACKTRACE")
        .env("CI", "true")
        .envs(moto.env());
    cmd
}

/// Copies `examples/<name>` into a temp dir so a test may edit it.
pub fn example_copy(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_dir(&workspace_root().join("examples").join(name), dir.path());
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read example dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// Replaces `from` with `to` in a file of a test workspace; the text must be there.
pub fn edit(root: &Path, file: &str, from: &str, to: &str) {
    let path = root.join(file);
    let text = std::fs::read_to_string(&path).expect("read");
    assert!(text.contains(from), "{file} does not contain {from:?}");
    std::fs::write(&path, text.replacen(from, to, 1)).expect("write");
}

/// Line number (1-based) of the first line of `file` containing `needle`.
pub fn line_of(root: &Path, file: &str, needle: &str) -> usize {
    let text = std::fs::read_to_string(root.join(file)).expect("read");
    text.lines().position(|l| l.contains(needle)).map(|i| i + 1).unwrap_or_else(|| panic!("{needle:?} not in {file}"))
}

/// Runs ferry against the emulator as CI would (no prompts) and returns its
/// stdout; a failure shows both streams.
pub fn run_on_moto(moto: &ferry_test_support::Moto, dir: &Path, args: &[&str]) -> String {
    let output = ferry(dir).envs(moto.env()).env("CI", "true").args(args).output().expect("run ferry");
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(output.status.success(), "ferry {} failed\nstdout:\n{stdout}\nstderr:\n{stderr}", args.join(" "));
    stdout
}

/// Runs ferry against the emulator, expecting it to fail; returns stderr.
pub fn fail_on_moto(moto: &ferry_test_support::Moto, dir: &Path, args: &[&str], why: &str) -> String {
    let output = ferry(dir).envs(moto.env()).env("CI", "true").args(args).output().expect("run ferry");
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(!output.status.success(), "ferry {} succeeded: {why}\nstderr:\n{stderr}", args.join(" "));
    stderr
}

/// The JSON events of a `--json` event stream, one per line.
pub fn json_events(stream: &str) -> Vec<serde_json::Value> {
    stream.lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
}

/// The first event named `name` of a `--json` event stream.
pub fn json_event(stream: &str, name: &str) -> serde_json::Value {
    json_events(stream)
        .into_iter()
        .find(|e| e["event"] == name)
        .unwrap_or_else(|| panic!("no {name} event in:\n{stream}"))
}
