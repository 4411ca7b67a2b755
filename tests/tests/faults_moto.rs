//! Deploys through injected faults end consistent.
//!
//! `scripts/fault_proxy.py` sits between ferry and the emulator and, from a
//! fixed seed, resets connections, answers 5xx and throttling errors, delays
//! and truncates responses. The chat example is deployed, redeployed with a
//! change and deleted through it, over and over. After every run the real
//! state (read straight from the emulator) is checked against what ferry
//! said:
//! - a run that succeeded left exactly what it reported: every stack
//!   complete, the Copilot SSM records in place, and a fault-free redeploy
//!   makes 0 mutating calls (a delete: no stack and no record left);
//! - a run that failed said why in one clean error (no panic), and a
//!   fault-free rerun of the same command converges.
//!
//! CI runs one cycle (3 runs); `bench/faults.sh` runs `FERRY_FAULT_RUNS`
//! (default 201) and prints the figures.

use crate::common;

use common::state::{DELETE, DEPLOY, check_deleted, check_deployed, settle};
use common::{edit, example_copy, run_on_moto};
use ferry_test_support::Moto;
use std::path::Path;
use std::process::{Child, Command, Stdio};

struct Proxy {
    child: Child,
    port: u16,
    stats: tempfile::NamedTempFile,
}

impl Proxy {
    fn start(moto: &Moto, seed: u64) -> Proxy {
        let python = common::workspace_root().join(".venv/bin/python");
        let python = if python.is_file() { python } else { "python3".into() };
        let port = ferry_test_support::free_port();
        let stats = tempfile::NamedTempFile::new().expect("stats file");
        let child = Command::new(python)
            .arg(common::workspace_root().join("scripts/fault_proxy.py"))
            .args(["--port", &port.to_string(), "--upstream", &moto.endpoint(), "--seed", &seed.to_string()])
            .args(["--reset", "0.02", "--error", "0.02", "--throttle", "0.03", "--slow", "0.02", "--truncate", "0.01"])
            .arg("--stats")
            .arg(stats.path())
            .stdout(Stdio::null())
            .spawn()
            .expect("start fault_proxy.py");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(std::time::Instant::now() < deadline, "fault_proxy did not listen on {port}");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Proxy { child, port, stats }
    }

    fn injected(&self) -> serde_json::Value {
        std::fs::read_to_string(self.stats.path()).ok().and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_default()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// ferry through the proxy, with the SDK's own retries (as in production).
fn through_faults(moto: &Moto, proxy: &Proxy, dir: &Path, args: &[&str]) -> (bool, String, String) {
    let output = common::ferry(dir)
        .envs(moto.env())
        .env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{}", proxy.port))
        .env_remove("AWS_MAX_ATTEMPTS")
        .env("CI", "true")
        .args(args)
        .output()
        .expect("run ferry");
    let text = |b: &[u8]| String::from_utf8_lossy(b).to_string();
    (output.status.success(), text(&output.stdout), text(&output.stderr))
}

#[derive(Default, Debug)]
struct Tally {
    runs: u32,
    succeeded: u32,
    failed_then_converged: u32,
}

/// One faulty run, then the check of what it said against what is there.
async fn faulty_run(moto: &Moto, proxy: &Proxy, dir: &Path, args: &[&str], what: &str, tally: &mut Tally) {
    tally.runs += 1;
    let (ok, _stdout, stderr) = through_faults(moto, proxy, dir, args);
    assert!(!stderr.contains("panicked"), "{what} panicked:\n{stderr}");
    if ok {
        tally.succeeded += 1;
    } else {
        assert!(stderr.contains("error"), "{what} failed without saying why:\n{stderr}");
        // Converges without faults, once what the emulator still runs of
        // an abandoned call has finished (see `settle`).
        settle().await;
        let rerun = common::ferry(dir).envs(moto.env()).env("CI", "true").args(args).output().expect("rerun");
        assert!(
            rerun.status.success(),
            "{what}: the fault-free rerun did not converge:\n{}\nafter the faulty run failed with:\n{stderr}",
            String::from_utf8_lossy(&rerun.stderr)
        );
        tally.failed_then_converged += 1;
    }
    if args == DELETE {
        check_deleted(what).await;
    } else {
        check_deployed(moto, dir, what).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn deploys_redeploys_and_deletes_through_injected_faults_end_consistent() {
    let runs: u32 = std::env::var("FERRY_FAULT_RUNS").ok().and_then(|r| r.parse().ok()).unwrap_or(3);
    let seed: u64 = std::env::var("FERRY_FAULT_SEED").ok().and_then(|r| r.parse().ok()).unwrap_or(7);
    let moto = Moto::start();
    moto.export_env();
    let proxy = Proxy::start(&moto, seed);
    let ws = example_copy("chat");
    let dir = ws.path();
    let mut tally = Tally::default();
    let mut cycle = 0;
    while tally.runs < runs {
        cycle += 1;
        run_on_moto(&moto, dir, &["app", "init"]);
        faulty_run(&moto, &proxy, dir, DEPLOY, &format!("deploy #{cycle}"), &mut tally).await;
        // A real update: the api's variables change every cycle.
        let manifest = "copilot/api/manifest.yml";
        let text = std::fs::read_to_string(dir.join(manifest)).expect("read");
        if !text.contains("FAULT_CYCLE") {
            edit(dir, manifest, "variables:\n", "variables:\n  FAULT_CYCLE: \"0\"\n");
        }
        let text = std::fs::read_to_string(dir.join(manifest)).expect("read");
        let start = text.find("FAULT_CYCLE: \"").expect("the variable") + "FAULT_CYCLE: \"".len();
        let end = start + text[start..].find('"').expect("closing quote");
        let changed = format!("{}{cycle}{}", &text[..start], &text[end..]);
        std::fs::write(dir.join(manifest), changed).expect("write");
        faulty_run(&moto, &proxy, dir, DEPLOY, &format!("redeploy #{cycle}"), &mut tally).await;
        faulty_run(&moto, &proxy, dir, DELETE, &format!("delete #{cycle}"), &mut tally).await;
    }
    println!(
        "fault injection (seed {seed}): {} runs, {} succeeded, {} failed and converged on rerun, 0 inconsistent; injected {}",
        tally.runs,
        tally.succeeded,
        tally.failed_then_converged,
        proxy.injected()
    );
    let injected = proxy.injected();
    let total: u64 =
        ["reset", "error", "throttle", "slow", "truncate"].iter().map(|k| injected[*k].as_u64().unwrap_or(0)).sum();
    assert!(total > 0, "the proxy injected no fault: {injected}");
}
