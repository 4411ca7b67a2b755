//! `kill -9` of ferry at random points of a deploy (or an app delete), then
//! a rerun of the same command, which must converge: the stacks, the
//! Copilot records and the deploy lease end as a clean run leaves them.
//!
//! CI runs 2; `bench/consistency.sh` runs 50 and prints the figures. The
//! kill points come from a fixed seed (`FERRY_KILL_SEED`).

use crate::common;

use common::state::{DELETE, DEPLOY, check_deleted, check_deployed, settle};
use common::{edit, example_copy, run_on_moto};
use ferry_test_support::Moto;
use std::time::{Duration, Instant};

/// A small deterministic generator (xorshift): the kill points repeat per seed.
struct Points(u64);

impl Points {
    fn next_ms(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % below
    }
}

/// Starts `args`, kills it with SIGKILL after `after`; `None` when the kill
/// landed before the run ended by itself, else how long the run took.
fn kill_after(moto: &Moto, dir: &std::path::Path, args: &[&str], after: Duration) -> Option<Duration> {
    let mut child = common::ferry_on_moto_process(moto, dir)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn ferry");
    let start = Instant::now();
    while start.elapsed() < after {
        if child.try_wait().expect("try_wait").is_some() {
            return Some(start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill(); // SIGKILL
    let _ = child.wait();
    None
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_killed_at_any_point_converges_on_rerun() {
    let runs: u32 = std::env::var("FERRY_KILL_RUNS").ok().and_then(|r| r.parse().ok()).unwrap_or(2);
    let seed: u64 = std::env::var("FERRY_KILL_SEED").ok().and_then(|r| r.parse().ok()).unwrap_or(0x5eed);
    let mut points = Points(seed | 1);
    let moto = Moto::start();
    moto.export_env();
    let ws = example_copy("chat");
    let dir = ws.path();
    run_on_moto(&moto, dir, &["app", "init"]);
    edit(dir, "copilot/api/manifest.yml", "variables:\n", "variables:\n  KILL_RUN: \"0\"\n");
    let (mut killed, mut finished_first) = (0, 0);
    // Kill points fall inside a run: the bounds start wide and shrink to
    // the longest run seen finishing by itself (a loaded machine is slower).
    let (mut deploy_bound, mut delete_bound) = (6_000u64, 3_000u64);
    for run in 1..=runs {
        // Every fifth run kills an app delete; the others a deploy with a change.
        let delete = run % 5 == 0;
        let args = if delete { DELETE } else { DEPLOY };
        if !delete {
            let manifest = dir.join("copilot/api/manifest.yml");
            let text = std::fs::read_to_string(&manifest).expect("read");
            let at = text.find("KILL_RUN: \"").expect("variable") + "KILL_RUN: \"".len();
            let end = at + text[at..].find('"').expect("quote");
            std::fs::write(&manifest, format!("{}{run}{}", &text[..at], &text[end..])).expect("write");
        }
        let bound = if delete { &mut delete_bound } else { &mut deploy_bound };
        let after = Duration::from_millis(points.next_ms(*bound));
        match kill_after(&moto, dir, args, after) {
            None => {
                settle().await;
                killed += 1;
            }
            Some(took) => {
                finished_first += 1;
                *bound = (took.as_millis() as u64).clamp(200, *bound);
            }
        }
        // The rerun converges, whatever the killed run left (a half-made
        // change set, a stack mid-update, its lease, registry credentials).
        run_on_moto(&moto, dir, args);
        let what = format!("run {run} killed after {} ms", after.as_millis());
        if delete {
            check_deleted(&what).await;
            run_on_moto(&moto, dir, &["app", "init"]);
        } else {
            check_deployed(&moto, dir, &what).await;
        }
        let lease =
            ferry_aws::AwsContext::load(None).await.ssm().get_parameter().name("/ferry/leases/chat/test").send().await;
        assert!(lease.is_err(), "{what}: the rerun released the lease it took over");
    }
    println!(
        "kill -9 (seed {seed}): {runs} runs, {killed} killed mid-run, {finished_first} finished before the kill, {runs} converged on rerun"
    );
}
