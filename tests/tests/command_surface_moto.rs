//! Copilot's flags and commands that read or change AWS, through the real
//! `ferry` binary against the emulator: `app|env upgrade` (nothing to
//! upgrade, then an upgrade), `package --diff` exit codes, `--resources`,
//! `--resource-tags`, `--no-rollback`, `--detach`, `ls --local`,
//! `deploy -n name/priority --deploy-env=false`, and the `svc logs` filters.

use crate::common;

use common::{ferry, json_events as events, run_on_moto as run};
use ferry_test_support::Moto;
use serde_json::Value;
use std::path::Path;

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

const ENVIRONMENT: &str = "name: test
type: Environment
observability:
  container_insights: false
";

fn backend(name: &str) -> String {
    format!(
        "name: {name}
type: Backend Service
image:
  location: public.ecr.aws/nginx/nginx:latest
  port: 80
"
    )
}

async fn aws(moto: &Moto) -> ferry_aws::AwsContext {
    moto.export_env();
    ferry_aws::AwsContext::load(None).await
}

async fn stack_tags(aws: &ferry_aws::AwsContext, stack: &str) -> Vec<(String, String)> {
    let out = aws.cloudformation().describe_stacks().stack_name(stack).send().await.expect("DescribeStacks");
    out.stacks()[0]
        .tags()
        .iter()
        .map(|t| (t.key().unwrap_or_default().to_string(), t.value().unwrap_or_default().to_string()))
        .collect()
}

async fn stack_exists(aws: &ferry_aws::AwsContext, stack: &str) -> bool {
    aws.cloudformation().describe_stacks().stack_name(stack).send().await.is_ok()
}

/// Runs ferry on the emulator; (exit code, stdout, stderr).
fn exit_of(moto: &Moto, dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out = ferry(dir).envs(moto.env()).env("CI", "true").args(args).output().expect("run ferry");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

fn json(out: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("no JSON ({e}):\n{out}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn copilot_flags_and_upgrades_on_the_emulator() {
    let moto = Moto::start();
    let aws = aws(&moto).await;
    let ws = tempfile::tempdir().unwrap();
    let dir = ws.path();
    write(dir, "copilot/.workspace", "application: surf\n");
    write(dir, "copilot/environments/test/manifest.yml", ENVIRONMENT);
    for name in ["web", "other", "old"] {
        write(dir, &format!("copilot/{name}/manifest.yml"), &backend(name));
    }

    run(&moto, dir, &["app", "init"]);
    let (code, _, stderr) = exit_of(&moto, dir, &["app", "upgrade"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("nothing to upgrade"), "{stderr}");

    run(&moto, dir, &["env", "deploy", "-n", "test"]);
    // Deployed with this ferry's template: nothing to upgrade, and --diff finds nothing.
    let (code, _, stderr) = exit_of(&moto, dir, &["env", "upgrade", "-n", "test"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("environment test already has ferry") && stderr.contains("nothing to upgrade"));
    let (code, _, stderr) = exit_of(&moto, dir, &["env", "package", "-n", "test", "--diff"]);
    assert_eq!(code, Some(0), "no diff: {stderr}");
    // A template this ferry renders differently: --diff shows it and exits 1; upgrade deploys it.
    write(dir, "copilot/environments/test/manifest.yml", &ENVIRONMENT.replace("false", "true"));
    let (code, stdout, _) = exit_of(&moto, dir, &["env", "package", "-n", "test", "--diff"]);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("+") && stdout.contains("containerInsights"), "{stdout}");
    let (code, _, stderr) = exit_of(&moto, dir, &["env", "upgrade", "--all"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("Upgraded") && stderr.contains("environment test"), "{stderr}");
    let (code, _, _) = exit_of(&moto, dir, &["env", "package", "-n", "test", "--diff"]);
    assert_eq!(code, Some(0));

    let shown = json(&run(&moto, dir, &["env", "show", "-n", "test", "--resources", "--json"]));
    let resources = shown["resources"].as_array().expect("resources listed");
    assert!(resources.iter().any(|r| r["type"] == "AWS::ECS::Cluster"), "{shown}");

    // --resource-tags and --no-rollback on a workload deploy.
    let stream = run(
        &moto,
        dir,
        &["svc", "deploy", "-n", "web", "-e", "test", "--resource-tags", "team=surf,cost-center=42", "--no-rollback"],
    );
    let _ = stream;
    let tags = stack_tags(&aws, "surf-test-web").await;
    assert!(tags.contains(&("team".into(), "surf".into())), "{tags:?}");
    assert!(tags.contains(&("cost-center".into(), "42".into())), "{tags:?}");
    assert!(tags.contains(&("copilot-service".into(), "web".into())), "Copilot's tags stay: {tags:?}");
    // The same tags again: up to date, and svc package --diff agrees there is nothing to deploy.
    let (code, _, stderr) = exit_of(&moto, dir, &["svc", "package", "-n", "web", "-e", "test", "--diff"]);
    assert_eq!(code, Some(0), "{stderr}");

    let shown = json(&run(&moto, dir, &["svc", "show", "-n", "web", "--resources", "--json"]));
    let resources = shown["deployments"][0]["resources"].as_array().expect("resources listed");
    assert!(resources.iter().any(|r| r["type"] == "AWS::ECS::Service"), "{shown}");

    // deploy -n with a priority and --deploy-env=false: only that workload, no environment change.
    let stream =
        run(&moto, dir, &["deploy", "-e", "test", "-n", "other/1", "-n", "old/2", "--deploy-env=false", "--json"]);
    let started: Vec<String> = events(&stream)
        .into_iter()
        .filter(|e| e["event"] == "stack_finished")
        .map(|e| e["stack"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(started, ["surf-test-other", "surf-test-old"], "in priority order, no environment: {stream}");
    assert!(stack_exists(&aws, "surf-test-other").await && stack_exists(&aws, "surf-test-old").await);

    // ls --local: `old` is recorded in AWS but no longer in this workspace.
    std::fs::remove_dir_all(dir.join("copilot/old")).unwrap();
    let all = json(&run(&moto, dir, &["svc", "ls", "--json"]));
    let local = json(&run(&moto, dir, &["svc", "ls", "--local", "--json"]));
    let names = |v: &Value| -> Vec<String> {
        let mut n: Vec<String> =
            v["services"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap().to_string()).collect();
        n.sort();
        n
    };
    assert_eq!(names(&all), ["old", "other", "web"]);
    assert_eq!(names(&local), ["other", "web"]);

    // --detach: a change is started and the command returns.
    write(dir, "copilot/web/manifest.yml", &(backend("web") + "count: 2\n"));
    let (code, _, stderr) = exit_of(&moto, dir, &["svc", "deploy", "-n", "web", "-e", "test", "--detach"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("updating (detached)"), "{stderr}");

    // svc logs filters: task, container and time window.
    let group = ferry_aws::logs::log_group("surf", "test", "web");
    let logs = aws.logs();
    let _ = logs.create_log_group().log_group_name(&group).send().await;
    // Recent events (CloudWatch refuses old ones), on a whole minute ten minutes ago.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    let base: i64 = (now / 60_000 - 10) * 60_000;
    let (start, end) = (rfc3339(base), rfc3339(base + 30_000));
    for (stream, offset, message) in [
        ("copilot/web/aaaa1111", 0, "first from aaaa"),
        ("copilot/web/bbbb2222", 1_000, "first from bbbb"),
        ("copilot/sidecar/aaaa1111", 2_000, "sidecar of aaaa"),
        ("copilot/web/aaaa1111", 60_000, "late from aaaa"),
    ] {
        let _ = logs.create_log_stream().log_group_name(&group).log_stream_name(stream).send().await;
        logs.put_log_events()
            .log_group_name(&group)
            .log_stream_name(stream)
            .log_events(
                aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                    .timestamp(base + offset)
                    .message(message)
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .expect("PutLogEvents");
    }
    let messages = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["svc", "logs", "-n", "web", "-e", "test", "--json", "--start-time", &start];
        all.extend_from_slice(args);
        run(&moto, dir, &all).lines().map(|l| json(l)["message"].as_str().unwrap_or_default().to_string()).collect()
    };
    assert_eq!(messages(&[]), ["first from aaaa", "first from bbbb", "sidecar of aaaa", "late from aaaa"]);
    assert_eq!(messages(&["--tasks", "aaaa"]), ["first from aaaa", "sidecar of aaaa", "late from aaaa"]);
    assert_eq!(messages(&["--tasks", "aaaa", "--container", "web"]), ["first from aaaa", "late from aaaa"]);
    assert_eq!(messages(&["--end-time", &end]), ["first from aaaa", "first from bbbb", "sidecar of aaaa"]);
    assert_eq!(messages(&["--limit", "1"]), ["late from aaaa"]);
}

/// `ms` since the epoch as an RFC 3339 UTC time (whole seconds).
fn rfc3339(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem / 60 % 60, rem % 60)
}

#[test]
fn rfc3339_of_known_times() {
    assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
    assert_eq!(rfc3339(1_709_164_800_000), "2024-02-29T00:00:00Z");
    assert_eq!(rfc3339(1_136_214_245_000), "2006-01-02T15:04:05Z");
}
