//! The CLI's application layer (issue 16): one context per command (one
//! wasmtime engine, one async runtime), one printer that keeps concurrent
//! diffs whole and shows plugin logs with `--verbose`, and one renderer for
//! errors: text on stderr, and with `--json` a JSON object on stdout with
//! `what`, `why`, `hint` and `location`.

use crate::common;

use common::{example_copy, ferry, line_of, run_on_moto as run};
use ferry_test_support::Moto;
use ferry_tests::fixtures;
use serde_json::Value;
use std::path::Path;

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).to_string()
}

/// The `{"event": "error", ...}` object a failed `--json` command printed on stdout.
fn json_error(output: &std::process::Output) -> Value {
    assert_eq!(output.status.code(), Some(1), "{}", stderr(output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|e| e["event"] == "error")
        .unwrap_or_else(|| panic!("no error object on stdout:\n{stdout}\nstderr:\n{}", stderr(output)))
}

/// The four workloads of the diff test, deployed at once.
const WORKLOADS: [&str; 4] = ["alpha", "bravo", "charlie", "delta"];

fn backend(name: &str) -> String {
    format!("name: {name}\ntype: Backend Service\nimage:\n  location: public.ecr.aws/nginx/nginx:latest\n  port: 80\n")
}

/// A workspace of app `layer` with environment `test` and four Backend
/// Services, after `app init`.
fn four_workloads(moto: &Moto) -> tempfile::TempDir {
    let ws = tempfile::tempdir().unwrap();
    let dir = ws.path();
    write(dir, "copilot/.workspace", "application: layer\n");
    write(dir, "copilot/environments/test/manifest.yml", "name: test\ntype: Environment\n");
    for name in WORKLOADS {
        write(dir, &format!("copilot/{name}/manifest.yml"), &backend(name));
    }
    run(moto, dir, &["app", "init"]);
    ws
}

/// With the endpoint down, `--json` gives the AWS error as an object: what
/// (the call that failed), the hint, no location; stderr keeps the text.
#[test]
fn an_aws_error_is_a_json_object_with_json() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let output = ferry(dir.path())
        .env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{port}"))
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-west-2")
        .env("AWS_MAX_ATTEMPTS", "1")
        .env("CI", "true")
        .args(["app", "ls", "--json"])
        .output()
        .unwrap();
    let error = json_error(&output);
    assert!(error["what"].as_str().is_some_and(|w| w.contains("ssm:GetParametersByPath cannot reach AWS")), "{error}");
    assert!(
        error["hint"].as_str().is_some_and(|h| h.starts_with("check the network, the region (AWS_REGION)")),
        "{error}"
    );
    assert!(error["location"].is_null(), "{error}");
    assert!(!error["what"].as_str().unwrap().contains("hint"), "the hint is data, not part of the message: {error}");
    let text = stderr(&output);
    assert!(text.contains("hint: check the network, the region (AWS_REGION), and AWS_ENDPOINT_URL"), "{text}");
    // Without --json, stdout stays empty.
    let output = ferry(dir.path())
        .env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{port}"))
        .env("AWS_REGION", "us-west-2")
        .env("AWS_MAX_ATTEMPTS", "1")
        .args(["app", "ls"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty(), "{}", String::from_utf8_lossy(&output.stdout));
}

/// A manifest mistake and a crashing plugin, each as a `--json` error
/// object; and a plugin's log lines, shown only with `--verbose`, each
/// prefixed with the plugin's name.
#[test]
fn manifest_errors_and_plugin_crashes_are_json_objects_and_plugin_logs_show_with_verbose() {
    let moto = Moto::start();
    let ws = tempfile::tempdir().unwrap();
    let dir = ws.path();
    write(dir, "copilot/.workspace", "application: layer\n");
    write(dir, "copilot/environments/test/manifest.yml", "name: test\ntype: Environment\n");
    write(dir, "copilot/alpha/manifest.yml", &format!("{}count: lots\n", backend("alpha")));
    write(dir, "copilot/evil/manifest.yml", "name: evil\ntype: Hostile Service\nattack: panic\n");
    write(dir, "copilot/chatty/manifest.yml", "name: chatty\ntype: Hostile Service\nattack: log\n");
    let installed = ferry(dir).args(["plugin", "install", fixtures::HOSTILE]).output().unwrap();
    assert!(installed.status.success(), "{}", stderr(&installed));
    run(&moto, dir, &["app", "init"]);
    run(&moto, dir, &["env", "deploy", "-n", "test"]);
    let deploy = |name: &str| {
        ferry(dir)
            .envs(moto.env())
            .env("CI", "true")
            .args(["svc", "deploy", "-n", name, "-e", "test", "--json"])
            .output()
            .unwrap()
    };

    let error = json_error(&deploy("alpha"));
    let line = line_of(dir, "copilot/alpha/manifest.yml", "count: lots");
    assert_eq!(error["location"]["file"], "copilot/alpha/manifest.yml", "{error}");
    assert_eq!(error["location"]["line"], line, "{error}");
    assert_eq!(error["pointer"], "/count", "{error}");
    assert!(error["what"].as_str().is_some_and(|w| !w.is_empty()), "{error}");
    assert!(error["problems"].as_array().is_some_and(|p| !p.is_empty()), "{error}");

    let output = deploy("evil");
    let error = json_error(&output);
    let what = error["what"].as_str().unwrap_or_default();
    assert!(what.contains("plugin `hostile` crashed") && what.contains("panics on purpose"), "{error}");
    assert_eq!(error["hint"], "this is a bug in the plugin; report it to its author", "{error}");
    assert!(error["location"].is_null(), "{error}");
    assert!(
        stderr(&output).contains("hint: this is a bug in the plugin; report it to its author"),
        "{}",
        stderr(&output)
    );

    let quiet = ferry(dir).args(["svc", "package", "-n", "chatty", "-e", "test"]).output().unwrap();
    assert!(quiet.status.success(), "{}", stderr(&quiet));
    assert!(!stderr(&quiet).contains("rendering with two log lines"), "logs only with --verbose: {}", stderr(&quiet));
    let verbose = ferry(dir).args(["svc", "package", "-n", "chatty", "-e", "test", "--verbose"]).output().unwrap();
    assert!(verbose.status.success(), "{}", stderr(&verbose));
    let logged: Vec<String> =
        stderr(&verbose).lines().filter(|l| l.starts_with("[hostile]")).map(str::to_string).collect();
    assert!(logged.iter().any(|l| l == "[hostile] info: rendering with two log lines"), "{}", stderr(&verbose));
    assert!(logged.iter().any(|l| l == "[hostile] info: the second line"), "{}", stderr(&verbose));
}

/// `deploy --diff --yes` of four workloads at once prints each diff whole:
/// between one diff's header and the next, only its own stack appears.
#[test]
fn concurrent_diffs_are_printed_whole() {
    let moto = Moto::start();
    let ws = four_workloads(&moto);
    let dir = ws.path();
    let stdout = run(&moto, dir, &["deploy", "-e", "test", "--diff", "--yes", "--concurrency", "4"]);
    let mut blocks: Vec<(String, Vec<&str>)> = Vec::new();
    for line in stdout.lines() {
        if let Some(stack) = line.strip_prefix("--- ").and_then(|l| l.strip_suffix(" (deployed)")) {
            blocks.push((stack.to_string(), Vec::new()));
        } else if let Some((_, lines)) = blocks.last_mut() {
            lines.push(line);
        }
    }
    let stacks: Vec<&str> = blocks.iter().map(|(s, _)| s.as_str()).collect();
    for name in WORKLOADS {
        let stack = format!("layer-test-{name}");
        assert_eq!(stacks.iter().filter(|s| **s == stack).count(), 1, "one diff of {stack}: {stacks:?}");
    }
    for (stack, lines) in &blocks {
        let own = stack.rsplit('-').next().unwrap_or_default();
        assert_eq!(lines.first().copied(), Some(format!("+++ {stack} (new)").as_str()), "{stack}:\n{stdout}");
        assert!(lines.iter().any(|l| l.contains(own)), "{stack}'s diff names it:\n{stdout}");
        for other in WORKLOADS.iter().filter(|w| **w != own) {
            assert!(
                !lines
                    .iter()
                    .any(|l| l.contains(&format!("layer-test-{other}")) || l.contains(&format!("\"{other}\""))),
                "the diff of {stack} has a line of {other}'s:\n{stdout}"
            );
        }
    }
}

/// `ferry deploy -e test` of the chat example (an environment, two services
/// and a job) builds one wasmtime engine and one async runtime.
#[test]
fn a_deploy_builds_one_engine_and_one_async_runtime() {
    let moto = Moto::start();
    let ws = example_copy("chat");
    let dir = ws.path();
    run(&moto, dir, &["app", "init"]);
    let output = ferry(dir)
        .envs(moto.env())
        .env("CI", "true")
        .env("FERRY_DEBUG_COUNTERS", "1")
        .args(["deploy", "-e", "test", "--tag", "v1", "--no-build", "--json"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let finished = stdout.lines().filter(|l| l.contains("\"stack_finished\"")).count();
    assert_eq!(finished, 4, "environment, two services and the job: {stdout}");
    let counters: Value = stderr(&output)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|e| e["event"] == "debug_counters")
        .unwrap_or_else(|| panic!("no counters: {}", stderr(&output)));
    assert_eq!(counters["engines"], 1, "{counters}");
    assert_eq!(counters["tokio_runtimes"], 1, "{counters}");
    assert_eq!(counters["registries"], 1, "{counters}");
    assert_eq!(counters["workspace_discoveries"], 1, "{counters}");
}
