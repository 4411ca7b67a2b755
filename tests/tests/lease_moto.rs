//! Concurrent runs on one environment: the deploy lease (`/ferry/leases/<app>/<env>`)
//! makes the later run refuse (naming the holder) or queue behind it with
//! `--wait-for-lock`; a lease whose local holder died is taken over at once.

use crate::common;

use common::{example_copy, fail_on_moto, json_events, run_on_moto};
use ferry_test_support::Moto;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Instant;

const LEASE: &str = "/ferry/leases/chat/test";

async fn ssm(moto: &Moto) -> aws_sdk_ssm::Client {
    moto.export_env();
    ferry_aws::AwsContext::load(None).await.ssm()
}

async fn put_lease(client: &aws_sdk_ssm::Client, host: &str, pid: u32, expires_in: i64) {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let holder = serde_json::json!({
        "token": format!("{host}:{pid}:test"), "user": "bob", "host": host, "pid": pid,
        "command": "ferry deploy -e test", "acquired_at": now - 5, "expires_at": now + expires_in,
    });
    client
        .put_parameter()
        .name(LEASE)
        .value(holder.to_string())
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .overwrite(true)
        .send()
        .await
        .expect("PutParameter");
}

async fn lease_exists(client: &aws_sdk_ssm::Client) -> bool {
    client.get_parameter().name(LEASE).send().await.is_ok()
}

fn this_host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").expect("hostname").trim().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_refuses_while_another_holds_the_environment_and_takes_over_a_dead_ones_lease() {
    let moto = Moto::start();
    let ws = example_copy("chat");
    let dir = ws.path();
    run_on_moto(&moto, dir, &["app", "init"]);
    let client = ssm(&moto).await;

    // A live holder on another machine: refused, named, nothing deployed.
    put_lease(&client, "build-7", 4242, 120).await;
    let stderr = fail_on_moto(&moto, dir, &["env", "deploy", "-n", "test"], "the environment is locked");
    assert!(
        stderr.contains("environment `test` of app `chat` is being deployed by bob@build-7 (pid 4242) running `ferry deploy -e test`"),
        "{stderr}"
    );
    assert!(stderr.contains("--wait-for-lock"), "the hint says how to queue: {stderr}");
    let cfn = ferry_aws::AwsContext::load(None).await.cloudformation();
    assert!(cfn.describe_stacks().stack_name("chat-test").send().await.is_err(), "nothing was deployed");
    assert!(lease_exists(&client).await, "the other run's lease is left alone");

    // A holder of this machine whose process is gone (kill -9): taken over
    // at once, released at the end.
    put_lease(&client, &this_host(), u32::MAX - 7, 120).await;
    let stream = run_on_moto(&moto, dir, &["env", "deploy", "-n", "test", "--json"]);
    let events = json_events(&stream);
    assert!(events.iter().any(|e| e["event"] == "lock_acquired"), "{stream}");
    assert!(events.iter().any(|e| e["event"] == "lock_released"), "{stream}");
    assert!(!lease_exists(&client).await, "the lease is gone after the run");

    // The lease is bookkeeping: a no-op redeploy still reports 0 mutating calls.
    let stream = run_on_moto(&moto, dir, &["env", "deploy", "-n", "test", "--json"]);
    let calls = events_named(&stream, "api_calls");
    assert_eq!(calls.first().map(|c| c["mutating"].clone()), Some(serde_json::json!(0)), "{stream}");
}

fn events_named(stream: &str, name: &str) -> Vec<serde_json::Value> {
    json_events(stream).into_iter().filter(|e| e["event"] == name).collect()
}

/// Two `env deploy --wait-for-lock` started together: both succeed, one
/// waits for the other, and their lease-holding intervals do not overlap.
/// `FERRY_CONCURRENT_PAIRS` pairs (1 in CI, 20 in `bench/consistency.sh`).
#[tokio::test(flavor = "multi_thread")]
async fn concurrent_deploys_of_one_environment_run_one_after_the_other() {
    let moto = Moto::start();
    let ws = example_copy("chat");
    let dir = ws.path();
    run_on_moto(&moto, dir, &["app", "init"]);
    let pairs: u32 = std::env::var("FERRY_CONCURRENT_PAIRS").ok().and_then(|r| r.parse().ok()).unwrap_or(1);
    let mut contended = 0;
    for pair in 0..pairs {
        let start = Instant::now();
        let runs: Vec<_> = (0..2)
            .map(|_| {
                // The test reads stdout line by line while the run goes on.
                let mut child = common::ferry_on_moto_process(&moto, dir);
                child
                    .args(["env", "deploy", "-n", "test", "--json", "--wait-for-lock"])
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped());
                let mut child = child.spawn().expect("spawn ferry");
                let pid = child.id();
                let stdout = child.stdout.take().expect("stdout");
                let reader = std::thread::spawn(move || {
                    // (time seen, event) for every JSON line, as it arrives.
                    BufReader::new(stdout)
                        .lines()
                        .map_while(Result::ok)
                        .filter_map(|l| {
                            serde_json::from_str::<serde_json::Value>(&l).ok().map(|v| (start.elapsed(), v))
                        })
                        .collect::<Vec<_>>()
                });
                (pid, child, reader)
            })
            .collect();
        let mut outcomes = Vec::new();
        for (pid, child, reader) in runs {
            let output = child.wait_with_output().expect("wait");
            let events = reader.join().expect("reader");
            assert!(output.status.success(), "run {pid} failed: {}", String::from_utf8_lossy(&output.stderr));
            let at = |name: &str| {
                events
                    .iter()
                    .find(|(_, e)| e["event"] == name)
                    .map(|(t, _)| *t)
                    .unwrap_or_else(|| panic!("{name}: {events:?}"))
            };
            let waited: Vec<_> =
                events.iter().filter(|(_, e)| e["event"] == "lock_waiting").map(|(_, e)| e.clone()).collect();
            outcomes.push((pid, at("lock_acquired"), at("lock_released"), waited));
        }
        let (first, second) =
            if outcomes[0].1 <= outcomes[1].1 { (&outcomes[0], &outcomes[1]) } else { (&outcomes[1], &outcomes[0]) };
        assert!(first.2 <= second.1, "the later run took the lease only after the first released it: {outcomes:?}");
        assert!(first.3.is_empty(), "the first run did not wait: {:?}", first.3);
        // The first pair creates the environment, so its runs always meet;
        // later pairs (no-op redeploys) may not, and must then not wait.
        assert!(pair > 0 || second.3.len() == 1, "the second run of the first pair waited: {outcomes:?}");
        if let Some(waited) = second.3.first() {
            assert_eq!(second.3.len(), 1, "the second run waited once: {:?}", second.3);
            assert_eq!(waited["holder"]["pid"], first.0, "and named the first run as the holder");
            contended += 1;
        }
    }
    println!(
        "concurrent deploys: {pairs} pairs, {pairs} serialized ({contended} met the other run's lease and waited)"
    );
}
