//! `ferry run local` with a real engine (podman from Debian, in a private
//! vfs store): examples/chat's `api` is built and started against the
//! emulator, a request to its published port answers, its container got the
//! manifest's variable, its SSM secret, Copilot's variables and a
//! `--env-var-override`; then SIGINT stops the run and no container of it is
//! left (`podman ps -a`).
//!
//! This sandbox's kernel refuses `setrlimit` raises and mounts cgroup v2
//! beside v1 ("hybrid"), which crun rejects; the test's `containers.conf`
//! therefore points podman at a small crun wrapper (rlimits dropped from the
//! OCI config, the v2 mount hidden in a private mount namespace) with
//! cgroups disabled. ferry itself runs exactly what it runs elsewhere.

use crate::common;

use common::{example_copy, ferry_on_moto_process};
use ferry_test_support::{ContainerStorage, Moto, free_port};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A private podman world: vfs store, chroot builds, and the runtime wrapper.
struct LocalEngine {
    storage: ContainerStorage,
    dir: tempfile::TempDir,
}

impl LocalEngine {
    fn new() -> Option<LocalEngine> {
        which("podman")?;
        let dir = tempfile::tempdir().expect("tempdir");
        let wrapper = dir.path().join("bin/crun");
        std::fs::create_dir_all(wrapper.parent().unwrap()).unwrap();
        std::fs::write(
            &wrapper,
            r#"#!/bin/sh
# crun for this sandbox: no rlimits (setrlimit is refused), no cgroup v2 mount
# beside v1 (crun refuses hybrid cgroups).
bundle=""
prev=""
for a in "$@"; do
  if [ "$prev" = "--bundle" ] || [ "$prev" = "-b" ]; then bundle="$a"; fi
  prev="$a"
done
if [ -n "$bundle" ] && [ -f "$bundle/config.json" ]; then
  jq 'del(.process.rlimits)' "$bundle/config.json" > "$bundle/config.json.ferry" && mv "$bundle/config.json.ferry" "$bundle/config.json"
fi
exec unshare -m --propagation unchanged sh -c 'umount -l /sys/fs/cgroup/unified 2>/dev/null; exec /usr/bin/crun "$@"' crun "$@"
"#,
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::write(
            dir.path().join("containers.conf"),
            format!(
                "[containers]\ncgroups = \"disabled\"\n\n[engine]\nruntime = \"crun\"\n\n[engine.runtimes]\ncrun = [\"{}\"]\n",
                wrapper.display()
            ),
        )
        .unwrap();
        Some(LocalEngine { storage: ContainerStorage::new(), dir })
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        let mut env = self.storage.env();
        env.push(("CONTAINERS_CONF", self.dir.path().join("containers.conf").display().to_string()));
        env
    }

    fn podman(&self, args: &[&str]) -> (bool, String) {
        let out = Command::new("podman").args(args).envs(self.env()).output().expect("podman");
        let mut text = String::from_utf8_lossy(&out.stdout).to_string();
        text.push_str(&String::from_utf8_lossy(&out.stderr));
        (out.status.success(), text)
    }
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?).map(|d| d.join(name)).find(|p| p.is_file())
}

/// A plain HTTP GET on loopback: (status line, body).
fn http_get(port: u16, path: &str) -> Option<(String, String)> {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    Some((head.lines().next()?.to_string(), body.to_string()))
}

/// Collects a child's stderr on a thread.
fn collect(child: &mut std::process::Child) -> Arc<Mutex<String>> {
    let text = Arc::new(Mutex::new(String::new()));
    let stderr = child.stderr.take().expect("piped stderr");
    let sink = text.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let mut t = sink.lock().unwrap();
            t.push_str(&line);
            t.push('\n');
        }
    });
    text
}

async fn put_secret(name: &str, value: &str) {
    let aws = ferry_aws::AwsContext::load(None).await;
    aws.ssm()
        .put_parameter()
        .name(name)
        .value(value)
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .send()
        .await
        .expect("PutParameter");
}

fn wait_exit(child: &mut std::process::Child, within: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    None
}

fn start_run(moto: &Moto, engine: &LocalEngine, dir: &Path, args: &[&str]) -> std::process::Child {
    ferry_on_moto_process(moto, dir)
        .envs(engine.env())
        .env_remove("FERRY_BUILDER")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ferry")
}

#[tokio::test(flavor = "multi_thread")]
async fn runs_the_chat_api_locally_and_ctrl_c_removes_its_containers() {
    let Some(engine) = LocalEngine::new() else {
        eprintln!("\n\n*** SKIPPED: no podman on this machine: `run local` cannot be tested here ***\n\n");
        return;
    };
    let moto = Moto::start();
    moto.export_env();
    put_secret("DB_PASSWORD", "hunter2-local").await;
    let ws = example_copy("chat");
    let dir = ws.path();
    std::fs::copy("/bin/busybox", dir.join("api/busybox")).expect("busybox-static is installed (scripts/setup.sh)");
    let port = free_port();
    let port_override = format!("{port}:8080");
    let mut child = start_run(
        &moto,
        &engine,
        dir,
        &[
            "run",
            "local",
            "-n",
            "api",
            "-e",
            "test",
            "--port-override",
            &port_override,
            "--env-var-override",
            "GREETING=hello local",
        ],
    );
    let stderr = collect(&mut child);

    // The build runs in a vfs store on 2 shared cores: give it time.
    let deadline = Instant::now() + Duration::from_secs(300);
    let answer = loop {
        if let Some(answer) = http_get(port, "/") {
            break answer;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("ferry run local ended ({status}) before serving\n{}", stderr.lock().unwrap());
        }
        assert!(Instant::now() < deadline, "nothing answered on port {port}\n{}", stderr.lock().unwrap());
        std::thread::sleep(Duration::from_millis(250));
    };
    assert!(answer.0.contains("200"), "{answer:?}");
    assert!(answer.1.contains("chat api"), "the api's page: {answer:?}");

    // What the container was given.
    let (ok, listed) =
        engine.podman(&["ps", "-a", "--filter", "label=ferry.run-local=chat/api", "--format", "{{.Names}}"]);
    assert!(ok, "{listed}");
    assert_eq!(listed.trim(), "ferry-local-chat-api-api", "one container, named for the app and service");
    let (ok, env) = engine.podman(&[
        "inspect",
        "--format",
        "{{range .Config.Env}}{{println .}}{{end}}",
        "ferry-local-chat-api-api",
    ]);
    assert!(ok, "{env}");
    for expected in [
        "TABLE_REGION=us-west-2",
        "DB_PASSWORD=hunter2-local",
        "GREETING=hello local",
        "COPILOT_APPLICATION_NAME=chat",
        "COPILOT_ENVIRONMENT_NAME=test",
        "COPILOT_SERVICE_NAME=api",
        "COPILOT_SERVICE_DISCOVERY_ENDPOINT=test.chat.local",
        "AWS_REGION=us-west-2",
        "AWS_ACCESS_KEY_ID=testing",
    ] {
        assert!(env.lines().any(|l| l == expected), "{expected} missing from the container's environment:\n{env}");
    }
    let text = stderr.lock().unwrap().clone();
    assert!(text.contains("not deployed to test"), "without a deployed task role it says so:\n{text}");
    assert!(!text.contains("hunter2-local"), "the secret is never printed:\n{text}");

    // Ctrl-C: the run stops and removes what it started.
    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
    let status = wait_exit(&mut child, Duration::from_secs(60))
        .unwrap_or_else(|| panic!("ferry did not stop within 60 s of SIGINT\n{}", stderr.lock().unwrap()));
    std::thread::sleep(Duration::from_millis(200));
    let text = stderr.lock().unwrap().clone();
    assert!(status.success(), "{status}\n{text}");
    assert!(text.contains("every container of the run is removed"), "{text}");
    let (ok, left) = engine.podman(&["ps", "-a", "--format", "{{.Names}}"]);
    assert!(ok, "{left}");
    assert_eq!(left.trim(), "", "containers left after Ctrl-C:\n{left}");
    assert!(http_get(port, "/").is_none(), "the port is closed");
}

/// Deployed first (images prebuilt: `--no-build`), the service's task role
/// is assumed through STS and its temporary credentials reach the
/// container; `--watch` rebuilds and restarts on a change to the sources
/// (not on one under `copilot/`); SIGTERM removes everything too.
#[tokio::test(flavor = "multi_thread")]
async fn task_role_credentials_and_watch_rebuild_then_sigterm_cleans_up() {
    let Some(engine) = LocalEngine::new() else {
        eprintln!("\n\n*** SKIPPED: no podman on this machine: `run local` cannot be tested here ***\n\n");
        return;
    };
    let moto = Moto::start();
    moto.export_env();
    put_secret("DB_PASSWORD", "hunter2-local").await;
    let ws = example_copy("chat");
    let dir = ws.path();
    std::fs::copy("/bin/busybox", dir.join("api/busybox")).expect("busybox-static is installed");
    for args in [
        &["app", "init"][..],
        &["env", "deploy", "-n", "test"],
        &["svc", "deploy", "-n", "api", "-e", "test", "--tag", "v1", "--no-build"],
    ] {
        common::run_on_moto(&moto, dir, args);
    }
    let port = free_port();
    let port_override = format!("{port}:8080");
    let mut child = start_run(
        &moto,
        &engine,
        dir,
        &["run", "local", "-n", "api", "-e", "test", "--watch", "--port-override", &port_override],
    );
    let stderr = collect(&mut child);
    let serves = |needle: &str, within: Duration| {
        let deadline = Instant::now() + within;
        loop {
            if let Some((_, body)) = http_get(port, "/")
                && body.contains(needle)
            {
                return;
            }
            assert!(child_alive(&stderr), "ferry ended");
            assert!(Instant::now() < deadline, "port {port} never served {needle:?}\n{}", stderr.lock().unwrap());
            std::thread::sleep(Duration::from_millis(250));
        }
    };
    serves("chat api", Duration::from_secs(300));
    let text = stderr.lock().unwrap().clone();
    assert!(text.contains("Assumed") && text.contains("the task role arn:aws:iam::123456789012:role/"), "{text}");
    let (ok, env) = engine.podman(&[
        "inspect",
        "--format",
        "{{range .Config.Env}}{{println .}}{{end}}",
        "ferry-local-chat-api-api",
    ]);
    assert!(ok, "{env}");
    assert!(env.lines().any(|l| l.starts_with("AWS_SESSION_TOKEN=") && l.len() > "AWS_SESSION_TOKEN=".len()), "{env}");
    assert!(!env.lines().any(|l| l == "AWS_ACCESS_KEY_ID=testing"), "the role's keys, not the caller's:\n{env}");

    // A change under copilot/ is not a source change; one in api/www is.
    std::fs::write(dir.join("copilot/api/notes.txt"), "not a source\n").unwrap();
    std::thread::sleep(Duration::from_secs(2));
    assert!(!stderr.lock().unwrap().contains("Changed"), "{}", stderr.lock().unwrap());
    std::fs::write(dir.join("api/www/index.html"), "<h1>chat api v2</h1>\n").unwrap();
    serves("chat api v2", Duration::from_secs(300));
    assert!(stderr.lock().unwrap().contains("rebuilding and restarting"), "{}", stderr.lock().unwrap());

    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status = wait_exit(&mut child, Duration::from_secs(60))
        .unwrap_or_else(|| panic!("ferry did not stop within 60 s of SIGTERM\n{}", stderr.lock().unwrap()));
    std::thread::sleep(Duration::from_millis(200));
    assert!(status.success(), "{status}\n{}", stderr.lock().unwrap());
    let (ok, left) = engine.podman(&["ps", "-a", "--format", "{{.Names}}"]);
    assert!(ok, "{left}");
    assert_eq!(left.trim(), "", "containers left after SIGTERM:\n{left}");
}

/// False once the collected stderr shows ferry's final error line.
fn child_alive(stderr: &Arc<Mutex<String>>) -> bool {
    !stderr.lock().unwrap().lines().any(|l| l.starts_with("error:"))
}
