//! Copilot's command tree as `docs/copilot-commands.md` records it, checked
//! against `ferry <command> --help`: every command exists and lists every
//! long flag (with Copilot's short form). No skip list. And the offline
//! behaviour of the Copilot flags and commands this page adds (the ones
//! that read AWS are in `command_surface_moto.rs`).

use crate::common;

use common::{example_copy, ferry, workspace_root};

/// One `## \`command\`` section of the page: its words and its `(long, short)` flags.
struct Documented {
    command: String,
    flags: Vec<(String, Option<String>)>,
}

fn documented() -> Vec<Documented> {
    let text = std::fs::read_to_string(workspace_root().join("docs/copilot-commands.md")).expect("read the page");
    let mut commands: Vec<Documented> = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("## `") {
            let command = rest.trim_end().trim_end_matches('`').to_string();
            commands.push(Documented { command, flags: Vec::new() });
            continue;
        }
        let Some(row) = line.strip_prefix("| `--") else { continue };
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let long = format!("--{}", cells[0].trim_end_matches('`'));
        let short = cells.get(1).map(|c| c.trim_matches('`')).filter(|c| !c.is_empty()).map(str::to_string);
        commands.last_mut().expect("a flag row under a command heading").flags.push((long, short));
    }
    commands
}

/// True when `help` has an option line for `long` (`-s, --long` with `short`).
fn lists(help: &str, long: &str, short: Option<&str>) -> bool {
    help.lines().map(str::trim_start).any(|line| {
        let wanted = match short {
            Some(short) => format!("{short}, {long}"),
            None => long.to_string(),
        };
        line.strip_prefix(&wanted).is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '=', '[', '<']))
    })
}

#[test]
fn the_page_records_copilots_51_commands_and_317_long_flags() {
    let commands = documented();
    assert_eq!(commands.len(), 51, "{:?}", commands.iter().map(|c| &c.command).collect::<Vec<_>>());
    let flags: usize = commands.iter().map(|c| c.flags.len()).sum();
    assert_eq!(flags, 317);
    for c in &commands {
        let mut seen = std::collections::HashSet::new();
        for (long, _) in &c.flags {
            assert!(seen.insert(long), "{long} is listed twice under `{}`", c.command);
        }
    }
}

#[test]
fn ferry_help_lists_every_copilot_command_and_flag() {
    let dir = tempfile::tempdir().unwrap();
    let commands = documented();
    let mut missing_commands = Vec::new();
    let mut missing_flags = Vec::new();
    let mut flags = 0;
    for c in &commands {
        let mut args: Vec<&str> = c.command.split_whitespace().collect();
        args.push("--help");
        let output = ferry(dir.path()).args(&args).output().expect("run ferry");
        let help = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            missing_commands.push(c.command.clone());
            continue;
        }
        for (long, short) in &c.flags {
            flags += 1;
            if !lists(&help, long, short.as_deref()) {
                let shown = short.as_ref().map(|s| format!("{s}, {long}")).unwrap_or(long.clone());
                missing_flags.push(format!("ferry {} {shown}", c.command));
            }
        }
    }
    let found = commands.len() - missing_commands.len();
    assert!(
        missing_commands.is_empty() && missing_flags.is_empty(),
        "{found} of {} commands; missing commands: {missing_commands:?}\n{} of {flags} flags missing:\n{}",
        commands.len(),
        missing_flags.len(),
        missing_flags.join("\n")
    );
}

#[test]
fn the_help_check_tells_a_listed_flag_from_a_mention() {
    let help = "Options:\n  -n, --name <NAME>\n          Name\n      --json\n          see --json-lines\n";
    assert!(lists(help, "--name", Some("-n")));
    assert!(lists(help, "--json", None));
    assert!(!lists(help, "--name", Some("-a")));
    assert!(!lists(help, "--json-lines", None), "a mention in a description is not an option line");
    assert!(!lists(help, "--na", None));
}

#[test]
fn a_copilot_flag_without_meaning_for_ferry_is_accepted_with_one_note() {
    let ws = example_copy("chat");
    let output = ferry(ws.path())
        .args(["svc", "package", "-n", "api", "-e", "test", "--allow-downgrade"])
        .output()
        .expect("run ferry");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let notes: Vec<&str> = stderr.lines().filter(|l| l.contains("--allow-downgrade")).collect();
    assert_eq!(notes.len(), 1, "{stderr}");
    assert!(notes[0].starts_with("note: --allow-downgrade has no effect in ferry"), "{stderr}");
    assert!(!stderr.contains("unexpected argument"), "{stderr}");
    // The template is the one without the flag.
    let plain = ferry(ws.path()).args(["svc", "package", "-n", "api", "-e", "test"]).output().unwrap();
    assert_eq!(output.stdout, plain.stdout);
}

#[test]
fn env_init_on_an_environment_with_a_manifest_keeps_it_and_succeeds() {
    let ws = example_copy("chat");
    let path = ws.path().join("copilot/environments/test/manifest.yml");
    let before = std::fs::read_to_string(&path).unwrap();
    let output = ferry(ws.path()).env("CI", "true").args(["env", "init", "-n", "test"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("already has a manifest"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), before, "the manifest is kept as it was");
}

fn env_init(ws: &std::path::Path, name: &str, flags: &[&str]) -> String {
    let mut args = vec!["env", "init", "-n", name];
    args.extend_from_slice(flags);
    let output = ferry(ws).env("CI", "true").args(&args).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    std::fs::read_to_string(ws.join(format!("copilot/environments/{name}/manifest.yml"))).unwrap()
}

fn yaml(text: &str) -> serde_json::Value {
    yaml_serde::from_str(text).expect("the manifest is YAML")
}

#[test]
fn env_init_import_flags_write_the_manifest_copilot_would() {
    let ws = example_copy("chat");
    let text = env_init(
        ws.path(),
        "imported",
        &[
            "--import-vpc-id",
            "vpc-0123456789abcdef0",
            "--import-public-subnets",
            "subnet-0000000000000000a,subnet-0000000000000000b",
            "--import-private-subnets",
            "subnet-0000000000000000c,subnet-0000000000000000d",
            "--import-cert-arns",
            "arn:aws:acm:us-west-2:123456789012:certificate/11111111-2222-3333-4444-555555555555",
            "--internal-alb-allow-vpc-ingress",
            "--container-insights",
        ],
    );
    let m = yaml(&text);
    assert_eq!(m["network"]["vpc"]["id"], "vpc-0123456789abcdef0");
    assert_eq!(m["network"]["vpc"]["subnets"]["public"][1]["id"], "subnet-0000000000000000b");
    assert_eq!(m["network"]["vpc"]["subnets"]["private"][0]["id"], "subnet-0000000000000000c");
    assert_eq!(
        m["http"]["public"]["certificates"][0],
        "arn:aws:acm:us-west-2:123456789012:certificate/11111111-2222-3333-4444-555555555555"
    );
    assert_eq!(m["http"]["private"]["ingress"]["vpc"], true);
    assert_eq!(m["observability"]["container_insights"], true);
    assert!(text.contains("# Put a CloudFront"), "the template's comments stay: {text}");
    // The environment plugin renders it.
    let out = ferry(ws.path()).args(["env", "package", "-n", "imported"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let template: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let text = template.to_string();
    assert!(text.contains("vpc-0123456789abcdef0"), "the imported VPC is used");
}

#[test]
fn env_init_override_flags_set_cidrs_and_zones() {
    let ws = example_copy("chat");
    let text = env_init(
        ws.path(),
        "custom",
        &[
            "--override-vpc-cidr",
            "10.1.0.0/16",
            "--override-az-names",
            "us-west-2b,us-west-2c",
            "--override-public-cidrs",
            "10.1.0.0/24,10.1.1.0/24",
            "--override-private-cidrs",
            "10.1.2.0/24,10.1.3.0/24",
        ],
    );
    let m = yaml(&text);
    assert_eq!(m["network"]["vpc"]["cidr"], "10.1.0.0/16");
    assert_eq!(m["network"]["vpc"]["subnets"]["public"][0]["cidr"], "10.1.0.0/24");
    assert_eq!(m["network"]["vpc"]["subnets"]["public"][1]["az"], "us-west-2c");
    assert_eq!(m["network"]["vpc"]["subnets"]["private"][1]["cidr"], "10.1.3.0/24");
    let out = ferry(ws.path()).args(["env", "package", "-n", "custom"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let template = String::from_utf8_lossy(&out.stdout);
    assert!(template.contains("10.1.0.0/16") && template.contains("us-west-2c"), "{template}");
    // One zone per subnet, or a clear error.
    let out = ferry(ws.path())
        .env("CI", "true")
        .args(["env", "init", "-n", "odd", "--override-az-names", "us-west-2a"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--override-az-names has 1 zones"));
}

#[test]
fn env_init_credentials_flags_are_accepted_with_a_note() {
    let ws = example_copy("chat");
    let output = ferry(ws.path())
        .env("CI", "true")
        .args(["env", "init", "-n", "qa", "--profile", "prod-admin", "--region", "eu-west-1", "--default-config"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert_eq!(stderr.lines().filter(|l| l.starts_with("note: --profile has no effect")).count(), 1, "{stderr}");
    assert_eq!(stderr.lines().filter(|l| l.starts_with("note: --region has no effect")).count(), 1, "{stderr}");
}

#[test]
fn svc_init_copilot_flags_shape_the_manifest() {
    let ws = example_copy("chat");
    ferry(ws.path())
        .env("CI", "true")
        .args([
            "svc",
            "init",
            "-n",
            "worker",
            "--svc-type",
            "Worker Service",
            "--image",
            "nginx:1.27",
            "--subscribe-topics",
            "api:orders,api:refunds",
        ])
        .assert()
        .success();
    let m = yaml(&std::fs::read_to_string(ws.path().join("copilot/worker/manifest.yml")).unwrap());
    assert_eq!(m["subscribe"]["topics"][0]["name"], "orders");
    assert_eq!(m["subscribe"]["topics"][1]["service"], "api");
    assert!(m["subscribe"]["queue"].is_object(), "the template's queue settings stay");
    // A topic flag on a type without topics is an error, not silently dropped.
    let out = ferry(ws.path())
        .env("CI", "true")
        .args(["svc", "init", "-n", "web2", "-t", "Backend Service", "--image", "x", "--port", "80"])
        .args(["--subscribe-topics", "api:orders"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--subscribe-topics is for a Worker Service"));
}

#[test]
fn job_init_retries_and_timeout_reach_the_template() {
    let ws = example_copy("chat");
    ferry(ws.path())
        .env("CI", "true")
        .args(["job", "init", "-n", "nightly", "--job-type", "Scheduled Job", "--image", "busybox:1.36"])
        .args(["-s", "@daily", "--retries", "3", "--timeout", "1h"])
        .assert()
        .success();
    let m = yaml(&std::fs::read_to_string(ws.path().join("copilot/nightly/manifest.yml")).unwrap());
    assert_eq!(m["retries"], 3);
    assert_eq!(m["timeout"], "1h");
    let out = ferry(ws.path()).args(["job", "package", "-n", "nightly", "-e", "test"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let template = String::from_utf8_lossy(&out.stdout);
    assert!(template.contains("\\\"MaxAttempts\\\": 3"), "three retries in the state machine: {template}");
    assert!(template.contains("3600"), "a one-hour timeout: {template}");
}

#[test]
fn svc_show_manifest_prints_the_manifest_for_that_environment() {
    let ws = example_copy("chat");
    let out = ferry(ws.path()).args(["svc", "show", "-n", "api", "--manifest", "prod"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let m = yaml(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(m["name"], "api");
    assert!(m.get("environments").is_none(), "the prod overrides are merged, not listed");
}

#[test]
fn completion_scripts_cover_the_command_tree() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let out = ferry(dir.path()).args(["completion", shell]).output().unwrap();
        assert!(out.status.success(), "{shell}: {}", String::from_utf8_lossy(&out.stderr));
        let script = String::from_utf8_lossy(&out.stdout);
        for word in ["override", "upgrade", "import-vpc-id", "subscribe-topics"] {
            assert!(script.contains(word), "{shell} completion lacks {word}");
        }
    }
    let out = ferry(dir.path()).args(["completion", "tcsh"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "an unknown shell is a usage error");
}

#[test]
fn bash_completion_script_loads_in_bash() {
    let dir = tempfile::tempdir().unwrap();
    let out = ferry(dir.path()).args(["completion", "bash"]).output().unwrap();
    let script = dir.path().join("ferry.bash");
    std::fs::write(&script, &out.stdout).unwrap();
    let Ok(status) = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!("source {} && complete -p ferry", script.display()))
        .output()
    else {
        panic!("bash is needed for this test");
    };
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    assert!(String::from_utf8_lossy(&status.stdout).contains("ferry"));
}

#[test]
fn version_prints_text_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let out = ferry(dir.path()).arg("version").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with(&format!("ferry {} (built for ", env!("CARGO_PKG_VERSION"))), "{text}");
    let out = ferry(dir.path()).args(["version", "--json"]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(v["os"], std::env::consts::OS);
    assert_eq!(v["arch"], std::env::consts::ARCH);
}

#[test]
fn docs_prints_the_address_and_opens_no_browser_without_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    // A browser opener that leaves a mark if it is ever started.
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let marker = dir.path().join("opened");
    for name in ["xdg-open", "open"] {
        let path = bin.join(name);
        std::fs::write(&path, format!("#!/bin/sh\ntouch {}\n", marker.display())).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
    }
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    for ci in [true, false] {
        let mut cmd = ferry(dir.path());
        cmd.env("PATH", &path).arg("docs");
        if ci {
            cmd.env("CI", "true");
        } else {
            cmd.env_remove("CI");
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success());
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.trim().starts_with("https://") && text.contains("/docs"), "{text}");
    }
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(!marker.exists(), "no browser is started without a terminal");
}

fn package(ws: &std::path::Path, args: &[&str]) -> String {
    let out = ferry(ws).args(args).output().unwrap();
    assert!(out.status.success(), "ferry {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).to_string()
}

#[test]
fn svc_override_skeleton_applies_then_carries_a_patch() {
    let ws = example_copy("chat");
    let before = package(ws.path(), &["svc", "package", "-n", "api", "-e", "test"]);
    let out = ferry(ws.path()).env("CI", "true").args(["svc", "override", "-n", "api"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let path = ws.path().join("copilot/api/overrides/cfn.patches.yml");
    let skeleton = std::fs::read_to_string(&path).unwrap();
    assert!(skeleton.contains("#   /Resources/TaskDefinition"), "the resources are listed: {skeleton}");
    // The skeleton applies as is: the template does not change.
    assert_eq!(package(ws.path(), &["svc", "package", "-n", "api", "-e", "test"]), before);
    // A patch written into it is applied.
    let patched = skeleton
        .replace("[]\n", "- op: replace\n  path: /Resources/LogGroup/Properties/RetentionInDays\n  value: 400\n");
    std::fs::write(&path, patched).unwrap();
    let after: serde_json::Value =
        serde_json::from_str(&package(ws.path(), &["svc", "package", "-n", "api", "-e", "test"])).unwrap();
    assert_eq!(after["Resources"]["LogGroup"]["Properties"]["RetentionInDays"], 400);
    // A second run does not overwrite it.
    let again = ferry(ws.path()).args(["svc", "override", "-n", "api"]).output().unwrap();
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists already"));
}

#[test]
fn env_override_patches_every_environment() {
    let ws = example_copy("chat");
    let before = package(ws.path(), &["env", "package", "-n", "test"]);
    ferry(ws.path()).args(["env", "override", "--skip-resources"]).assert().success();
    let path = ws.path().join("copilot/environments/overrides/cfn.patches.yml");
    let skeleton = std::fs::read_to_string(&path).unwrap();
    assert!(!skeleton.contains("#   /Resources/"), "--skip-resources lists none");
    assert_eq!(package(ws.path(), &["env", "package", "-n", "test"]), before, "the skeleton applies as is");
    std::fs::write(&path, "- op: add\n  path: /Metadata\n  value: {Owner: platform-team}\n").unwrap();
    for env in ["test", "prod"] {
        let t: serde_json::Value = serde_json::from_str(&package(ws.path(), &["env", "package", "-n", env])).unwrap();
        assert_eq!(t["Metadata"]["Owner"], "platform-team", "{env}");
    }
}

#[test]
fn pipeline_override_skeleton_applies_at_package_time() {
    let ws = example_copy("chat");
    ferry(ws.path())
        .env("CI", "true")
        .args(["pipeline", "init", "-n", "release", "-u", "https://github.com/acme/chat", "-b", "main"])
        .args(["-e", "test"])
        .assert()
        .success();
    let before = package(ws.path(), &["pipeline", "package", "-n", "release"]);
    ferry(ws.path()).args(["pipeline", "override", "-n", "release"]).assert().success();
    let path = ws.path().join("copilot/pipelines/release/overrides/cfn.patches.yml");
    assert!(std::fs::read_to_string(&path).unwrap().contains("/Resources/"), "resources listed");
    assert_eq!(package(ws.path(), &["pipeline", "package", "-n", "release"]), before);
    std::fs::write(&path, "- op: add\n  path: /Metadata/Team\n  value: release-eng\n").unwrap();
    let t: serde_json::Value =
        serde_json::from_str(&package(ws.path(), &["pipeline", "package", "-n", "release"])).unwrap();
    assert_eq!(t["Metadata"]["Team"], "release-eng");
}

#[test]
fn override_with_cdk_is_refused_with_a_hint() {
    let ws = example_copy("chat");
    let out = ferry(ws.path()).args(["svc", "override", "-n", "api", "--tool", "cdk"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--tool cdk is not supported by ferry"), "{stderr}");
    assert!(stderr.contains("YAML patches"), "{stderr}");
    assert!(!ws.path().join("copilot/api/overrides").exists(), "nothing is written");
}

#[test]
fn logs_time_flags_are_checked_before_aws_is_called() {
    let ws = example_copy("chat");
    let out = ferry(ws.path())
        .args(["svc", "logs", "-n", "api", "-e", "test", "--start-time", "yesterday"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--start-time `yesterday` is not an RFC 3339 time"), "{stderr}");
}

#[test]
fn svc_init_sources_and_ingress_type_reach_the_manifest() {
    let ws = example_copy("chat");
    ferry(ws.path())
        .env("CI", "true")
        .args(["svc", "init", "-n", "site", "-t", "Static Site", "--sources", "dist,public/index.html"])
        .assert()
        .success();
    let m = yaml(&std::fs::read_to_string(ws.path().join("copilot/site/manifest.yml")).unwrap());
    assert_eq!(m["files"][0]["source"], "dist");
    assert_eq!(m["files"][1]["source"], "public/index.html");
    assert_eq!(m["files"].as_array().unwrap().len(), 2, "the template's example source is replaced");

    ferry(ws.path())
        .env("CI", "true")
        .args([
            "svc",
            "init",
            "-n",
            "inside",
            "-t",
            "Request-Driven Web Service",
            "--image",
            "public.ecr.aws/nginx/nginx:latest",
        ])
        .args(["--port", "80", "--ingress-type", "Environment"])
        .assert()
        .success();
    let m = yaml(&std::fs::read_to_string(ws.path().join("copilot/inside/manifest.yml")).unwrap());
    assert_eq!(m["http"]["private"], true, "reachable from the environment only");
    let out = ferry(ws.path()).args(["svc", "package", "-n", "inside", "-e", "test"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}
