//! Valid Copilot manifests that ferry used to refuse, through the binary:
//! a scaling target written as `{value, cooldown}` next to `count.range`,
//! and a worker queue's `retention` in days (Copilot's own sample).

use crate::common;

use common::{edit, example_copy, ferry};

fn package(dir: &std::path::Path, args: &[&str]) -> String {
    let output = ferry(dir).args(args).output().expect("run ferry");
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(output.status.success(), "ferry {} failed:\n{stderr}", args.join(" "));
    stdout
}

#[test]
fn scaling_target_with_its_own_cooldown_next_to_a_range_is_accepted() {
    let ws = example_copy("chat");
    let frontend = "copilot/frontend/manifest.yml";
    edit(
        ws.path(),
        frontend,
        "      cpu_percentage: 70\n",
        "      cpu_percentage:\n        value: 70\n        cooldown:\n          out: 2m30s\n",
    );
    let out = package(ws.path(), &["svc", "package", "-n", "frontend", "-e", "prod"]);
    assert!(out.contains("AutoScalingPolicyECSServiceAverageCPUUtilization"), "{out}");
    assert!(out.contains("\"ScaleOutCooldown\": 150"), "{out}");
}

#[test]
fn worker_queue_retention_in_days_is_accepted() {
    let ws = example_copy("chat");
    let manifest = "name: worker\ntype: Worker Service\nimage:\n  build: api/Dockerfile\nsubscribe:\n  queue:\n    retention: 5d\n";
    std::fs::create_dir_all(ws.path().join("copilot/worker")).unwrap();
    std::fs::write(ws.path().join("copilot/worker/manifest.yml"), manifest).unwrap();
    let out = package(ws.path(), &["svc", "package", "-n", "worker", "-e", "test"]);
    assert!(out.contains("\"MessageRetentionPeriod\": 432000"), "{out}");
}
