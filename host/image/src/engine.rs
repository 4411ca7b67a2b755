//! The engines: finding one that works, and driving its build, login and
//! push as child processes with their output streamed and remembered.

use crate::{ImageBuild, ImageError, Probe};
use std::collections::VecDeque;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWriteExt, BufReader};

/// Receives every output line of an engine, as it comes.
pub type LineSink = Arc<dyn Fn(&str) + Send + Sync>;

/// How many of an engine's last output lines an error shows.
const TAIL: usize = 15;

/// The three engines ferry drives, in the order it looks for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineKind {
    Docker,
    Podman,
    Buildah,
}

impl EngineKind {
    pub const ALL: [EngineKind; 3] = [EngineKind::Docker, EngineKind::Podman, EngineKind::Buildah];

    pub fn name(self) -> &'static str {
        match self {
            EngineKind::Docker => "docker",
            EngineKind::Podman => "podman",
            EngineKind::Buildah => "buildah",
        }
    }

    fn from_name(name: &str) -> Option<EngineKind> {
        EngineKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// A usable engine: its kind and the program to run.
#[derive(Debug, Clone)]
pub struct Engine {
    pub kind: EngineKind,
    pub program: PathBuf,
}

/// Credentials for one registry, kept in a private directory that is
/// removed when the deploy ends (never the user's own docker or podman config).
#[derive(Debug)]
pub struct Login {
    pub registry: String,
    /// Plain HTTP is allowed only for loopback registries.
    pub insecure: bool,
    /// Set when the registry came from FERRY_ECR_REGISTRY (named in errors).
    pub overridden: bool,
    dir: tempfile::TempDir,
}

/// Registry credentials live in `<tmp>/ferry-registry-auth-<pid>-*`: the
/// pid lets a later run (or this one, exiting on a second signal) find
/// what a killed process left.
const REGISTRY_CREDENTIALS_PREFIX: &str = "ferry-registry-auth-";

/// Removes registry credential directories of process `pid`, or with
/// `None`, of processes of this machine that are gone (a kill -9 runs no
/// destructor). Best effort: what cannot be removed stays.
pub fn sweep_registry_credentials(pid: Option<u32>) {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(owner) = name
            .to_str()
            .and_then(|n| n.strip_prefix(REGISTRY_CREDENTIALS_PREFIX))
            .and_then(|rest| rest.split('-').next())
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        let remove = match pid {
            Some(pid) => owner == pid,
            None => cfg!(target_os = "linux") && !Path::new(&format!("/proc/{owner}")).exists(),
        };
        if remove {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Finds the engine to build with. `choice` (from `--builder` or
/// FERRY_BUILDER) is a name or a path and must work; otherwise docker with a
/// reachable daemon, then podman, then buildah.
pub async fn detect(choice: Option<&str>) -> Result<Engine, ImageError> {
    if let Some(choice) = choice.map(str::trim).filter(|c| !c.is_empty()) {
        let file = Path::new(choice).file_name().and_then(|f| f.to_str()).unwrap_or(choice);
        let Some(kind) = EngineKind::from_name(file) else {
            return Err(ImageError::Unusable {
                name: choice.into(),
                origin: "--builder / FERRY_BUILDER".into(),
                why: "it is not docker, podman or buildah".into(),
            });
        };
        let program = if choice.contains('/') { Some(PathBuf::from(choice)) } else { which(choice) };
        return match program {
            None => Err(ImageError::Unusable {
                name: choice.into(),
                origin: "--builder / FERRY_BUILDER".into(),
                why: "it is not on PATH".into(),
            }),
            Some(program) => {
                let engine = Engine { kind, program };
                engine.probe().await.map(|()| engine).map_err(|why| ImageError::Unusable {
                    name: choice.into(),
                    origin: "--builder / FERRY_BUILDER".into(),
                    why,
                })
            }
        };
    }
    let mut tried = Vec::new();
    for kind in EngineKind::ALL {
        let Some(program) = which(kind.name()) else {
            tried.push(Probe { name: kind.name().into(), why: "not on PATH".into() });
            continue;
        };
        let engine = Engine { kind, program };
        match engine.probe().await {
            Ok(()) => return Ok(engine),
            Err(why) => tried.push(Probe { name: kind.name().into(), why }),
        }
    }
    Err(ImageError::NoEngine { tried })
}

/// The first executable named `name` on PATH.
fn which(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0))
}

/// True for registries on this machine, the only ones ferry talks to over
/// plain HTTP (a test registry, a local mirror).
pub fn is_loopback(registry: &str) -> bool {
    let host = if let Some(rest) = registry.strip_prefix('[') {
        rest.split(']').next().unwrap_or_default()
    } else {
        registry.split(':').next().unwrap_or_default()
    };
    host == "localhost" || host == "::1" || host.parse::<std::net::Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
}

/// Output of a finished engine run.
struct Ran {
    success: bool,
    status: String,
    tail: Vec<String>,
}

impl Engine {
    pub fn name(&self) -> &'static str {
        self.kind.name()
    }

    /// Checks the engine can run; docker must also reach its daemon.
    async fn probe(&self) -> Result<(), String> {
        let args: &[&str] = match self.kind {
            EngineKind::Docker => &["version", "--format", "{{.Server.Version}}"],
            EngineKind::Podman | EngineKind::Buildah => &["--version"],
        };
        let mut cmd = tokio::process::Command::new(&self.program);
        cmd.args(args).stdin(Stdio::null()).kill_on_drop(true);
        let output = match tokio::time::timeout(Duration::from_secs(10), cmd.output()).await {
            Err(_) => return Err("did not answer within 10 s".into()),
            Ok(Err(e)) => return Err(format!("cannot run {}: {e}", self.program.display())),
            Ok(Ok(output)) => output,
        };
        if output.status.success() {
            return Ok(());
        }
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last = stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("no output").trim().to_string();
        Err(match self.kind {
            EngineKind::Docker => format!("daemon not reachable: {last}"),
            _ => last,
        })
    }

    /// Builds `spec`, tagging the result with every reference in `references`.
    /// `timestamp` (seconds since the epoch) is the image's creation time for
    /// podman and buildah: fixed, the same sources give the same digest, and
    /// concurrent builds sharing first steps still share one cache.
    pub async fn build(
        &self,
        service: &str,
        spec: &ImageBuild,
        references: &[String],
        timestamp: i64,
        sink: &LineSink,
    ) -> Result<(), ImageError> {
        let mut args: Vec<OsString> = vec!["build".into()];
        if self.kind != EngineKind::Docker {
            // buildah does not reuse layers unless asked; podman does by default.
            args.push("--layers".into());
            args.extend(["--timestamp".into(), timestamp.to_string().into()]);
        }
        args.push("-f".into());
        args.push(spec.dockerfile.clone().into());
        if let Some(target) = &spec.target {
            args.extend(["--target".into(), target.into()]);
        }
        for (key, value) in &spec.args {
            args.extend(["--build-arg".into(), format!("{key}={value}").into()]);
        }
        for from in &spec.cache_from {
            args.extend(["--cache-from".into(), from.into()]);
        }
        if let Some(platform) = &spec.platform {
            args.extend(["--platform".into(), platform.into()]);
        }
        for reference in references {
            args.extend(["-t".into(), reference.into()]);
        }
        args.push(spec.context.clone().into());
        let ran = self.run(&args, None, sink).await?;
        if ran.success {
            return Ok(());
        }
        Err(ImageError::BuildFailed {
            service: service.into(),
            engine: self.name().into(),
            status: ran.status,
            dockerfile: spec.dockerfile.display().to_string(),
            lines: ran.tail,
        })
    }

    /// Logs in to `registry` with a user and password (ECR's token), into a
    /// private credentials directory.
    pub async fn login(
        &self,
        registry: &str,
        user: &str,
        password: &str,
        overridden: bool,
        sink: &LineSink,
    ) -> Result<Login, ImageError> {
        let prefix = format!("{REGISTRY_CREDENTIALS_PREFIX}{}-", std::process::id());
        let dir = tempfile::Builder::new().prefix(&prefix).tempdir().map_err(|source| ImageError::Spawn {
            program: "a private directory for registry credentials".into(),
            source,
        })?;
        let login = Login { registry: registry.into(), insecure: is_loopback(registry), overridden, dir };
        let mut args = self.auth_args(&login, "login");
        args.extend(["-u".into(), user.into(), "--password-stdin".into(), registry.into()]);
        let ran = self.run(&args, Some(password), sink).await?;
        if ran.success {
            return Ok(login);
        }
        Err(self.registry_error(&login, "login", registry, ran))
    }

    /// Pushes `reference` (built locally under that name) and returns the
    /// digest of the manifest the registry now holds.
    pub async fn push(&self, login: &Login, reference: &str, sink: &LineSink) -> Result<String, ImageError> {
        let mut args = self.auth_args(login, "push");
        let digest_file = login.dir.path().join(format!("digest-{}", sanitize(reference)));
        match self.kind {
            EngineKind::Docker => args.push(reference.into()),
            EngineKind::Podman | EngineKind::Buildah => {
                args.extend(["--digestfile".into(), digest_file.clone().into()]);
                args.extend([reference.into(), format!("docker://{reference}").into()]);
            }
        }
        let ran = self.run(&args, None, sink).await?;
        if !ran.success {
            return Err(self.registry_error(login, "push", reference, ran));
        }
        let digest = match self.kind {
            // `docker push` ends with `<tag>: digest: sha256:... size: N`.
            EngineKind::Docker => ran.tail.iter().rev().find_map(|l| {
                l.split_once("digest: ").and_then(|(_, rest)| rest.split_whitespace().next()).map(str::to_string)
            }),
            _ => std::fs::read_to_string(&digest_file).ok().map(|d| d.trim().to_string()),
        };
        digest.filter(|d| d.starts_with("sha256:")).ok_or_else(|| ImageError::NoDigest {
            engine: self.name().into(),
            reference: reference.into(),
            hint: format!("check that {} pushed to {} (the lines it printed are above)", self.name(), login.registry),
        })
    }

    /// The subcommand with the flags that point it at the private credentials.
    fn auth_args(&self, login: &Login, action: &str) -> Vec<OsString> {
        match self.kind {
            EngineKind::Docker => vec!["--config".into(), login.dir.path().into(), action.into()],
            EngineKind::Podman | EngineKind::Buildah => {
                let mut args: Vec<OsString> =
                    vec![action.into(), "--authfile".into(), login.dir.path().join("auth.json").into()];
                if login.insecure {
                    args.push("--tls-verify=false".into());
                }
                args
            }
        }
    }

    /// Sorts a failed login or push into unreachable / refused token / other.
    fn registry_error(&self, login: &Login, action: &str, target: &str, ran: Ran) -> ImageError {
        let text = ran.tail.join("\n").to_ascii_lowercase();
        let unreachable = [
            "connection refused",
            "no such host",
            "i/o timeout",
            "network is unreachable",
            "no route to host",
            "timeout exceeded",
        ];
        let refused =
            ["unauthorized", "invalid username/password", "authentication required", "401", "403 forbidden", "denied"];
        if unreachable.iter().any(|s| text.contains(s)) {
            ImageError::Unreachable {
                registry: login.registry.clone(),
                engine: self.name().into(),
                action: action.into(),
                overridden: login.overridden,
                lines: ran.tail,
            }
        } else if refused.iter().any(|s| text.contains(s)) {
            ImageError::Unauthorized {
                registry: login.registry.clone(),
                engine: self.name().into(),
                action: action.into(),
                lines: ran.tail,
            }
        } else {
            ImageError::Failed {
                engine: self.name().into(),
                action: action.into(),
                target: target.into(),
                status: ran.status,
                lines: ran.tail,
            }
        }
    }

    /// Runs the engine, streaming each line to `sink` and keeping the last ones.
    async fn run(&self, args: &[OsString], stdin: Option<&str>, sink: &LineSink) -> Result<Ran, ImageError> {
        let spawn_error =
            |source: std::io::Error| ImageError::Spawn { program: self.program.display().to_string(), source };
        let mut child = tokio::process::Command::new(&self.program)
            .args(args)
            .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(spawn_error)?;
        if let (Some(text), Some(mut input)) = (stdin, child.stdin.take()) {
            input.write_all(text.as_bytes()).await.map_err(spawn_error)?;
            drop(input);
        }
        let tail = Arc::new(Mutex::new(VecDeque::with_capacity(TAIL)));
        let stdout = child.stdout.take().map(|s| forward(s, sink.clone(), tail.clone()));
        let stderr = child.stderr.take().map(|s| forward(s, sink.clone(), tail.clone()));
        if let Some(f) = stdout {
            f.await;
        }
        if let Some(f) = stderr {
            f.await;
        }
        let status = child.wait().await.map_err(spawn_error)?;
        let tail = tail.lock().unwrap_or_else(|e| e.into_inner()).iter().cloned().collect();
        let status_text = match status.code() {
            Some(code) => format!("status {code}"),
            None => "a signal".into(),
        };
        Ok(Ran { success: status.success(), status: status_text, tail })
    }
}

/// Streams one pipe line by line to the sink and into the shared tail, on
/// its own task so stdout and stderr are read together.
fn forward(
    pipe: impl AsyncRead + Unpin + Send + 'static,
    sink: LineSink,
    tail: Arc<Mutex<VecDeque<String>>>,
) -> impl std::future::Future<Output = ()> {
    let task = tokio::spawn(async move {
        let mut lines = BufReader::new(pipe).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            // Progress bars redraw with carriage returns; keep the last state.
            let line = line.rsplit('\r').next().unwrap_or_default().trim_end().to_string();
            if line.is_empty() {
                continue;
            }
            sink(&line);
            let mut tail = tail.lock().unwrap_or_else(|e| e.into_inner());
            if tail.len() == TAIL {
                tail.pop_front();
            }
            tail.push_back(line);
        }
    });
    async move {
        let _ = task.await;
    }
}

fn sanitize(reference: &str) -> String {
    reference.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_left_by_a_dead_process_are_swept_and_a_live_ones_only_on_its_own_exit() {
        let tmp = std::env::temp_dir();
        let dead = tmp.join(format!("{REGISTRY_CREDENTIALS_PREFIX}4000000007-x1"));
        let own = tmp.join(format!("{REGISTRY_CREDENTIALS_PREFIX}{}-x2", std::process::id()));
        for dir in [&dead, &own] {
            std::fs::create_dir_all(dir).unwrap();
            std::fs::write(dir.join("config.json"), "{}").unwrap();
        }
        sweep_registry_credentials(None);
        assert!(!dead.exists(), "a gone process's credentials are removed");
        assert!(own.exists(), "a live process's are not");
        sweep_registry_credentials(Some(std::process::id()));
        assert!(!own.exists(), "and its own are removed when it exits on a signal");
    }

    #[test]
    fn loopback_registries() {
        for r in ["127.0.0.1:5000", "localhost:5000", "localhost", "[::1]:5000", "127.1.2.3"] {
            assert!(is_loopback(r), "{r}");
        }
        for r in ["123456789012.dkr.ecr.us-west-2.amazonaws.com", "10.0.0.1:5000", "localhost.example.com"] {
            assert!(!is_loopback(r), "{r}");
        }
    }

    /// A PATH holding only the given fake programs.
    fn path_with(scripts: &[(&str, &str)]) -> tempfile::TempDir {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        for (name, body) in scripts {
            let p = dir.path().join(name);
            std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        dir
    }

    // PATH is process-wide: these tests run one per process under nextest,
    // and each sets it before spawning anything.
    #[tokio::test]
    async fn detection_order_and_the_error_naming_what_was_tried() {
        let dir = path_with(&[
            ("docker", "echo 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock.' >&2; exit 1"),
            ("buildah", "echo 'buildah version 1.28.2'"),
        ]);
        // SAFETY: set before any thread of this test process reads the environment.
        unsafe { std::env::set_var("PATH", dir.path()) };
        let engine = detect(None).await.unwrap();
        assert_eq!(engine.kind, EngineKind::Buildah, "docker without a daemon and no podman: buildah");
        let forced = detect(Some("podman")).await.unwrap_err().to_string();
        assert!(
            forced.contains("`podman` (from --builder / FERRY_BUILDER) cannot be used: it is not on PATH"),
            "{forced}"
        );
        let forced = detect(Some("docker")).await.unwrap_err().to_string();
        assert!(forced.contains("daemon not reachable: Cannot connect to the Docker daemon"), "{forced}");
        let unknown = detect(Some("nerdctl")).await.unwrap_err().to_string();
        assert!(unknown.contains("not docker, podman or buildah"), "{unknown}");
        std::fs::remove_file(dir.path().join("buildah")).unwrap();
        let none_err = detect(None).await.unwrap_err();
        let none = format!("{none_err}\nhint: {}", none_err.hint().unwrap_or_default());
        assert!(
            none.starts_with(
                "no container engine to build images with; tried docker (daemon not reachable: Cannot connect to the Docker daemon at unix:///var/run/docker.sock.), podman (not on PATH), buildah (not on PATH)"
            ),
            "{none}"
        );
        assert!(none.contains("hint: install docker"), "{none}");
    }

    #[tokio::test]
    async fn registry_failures_are_sorted_by_cause() {
        let engine = Engine { kind: EngineKind::Podman, program: "/bin/sh".into() };
        let login = |registry: &str| Login {
            registry: registry.into(),
            insecure: true,
            overridden: true,
            dir: tempfile::tempdir().unwrap(),
        };
        let ran = |line: &str| Ran { success: false, status: "status 125".into(), tail: vec![line.into()] };
        let e = engine.registry_error(
            &login("127.0.0.1:1"),
            "login",
            "127.0.0.1:1",
            ran("Error: pinging container registry 127.0.0.1:1: Get \"http://127.0.0.1:1/v2/\": dial tcp 127.0.0.1:1: connect: connection refused"),
        );
        assert!(matches!(e, ImageError::Unreachable { .. }), "{e}");
        assert!(e.hint().unwrap_or_default().contains("(FERRY_ECR_REGISTRY is set)"), "{e}");
        let e = engine.registry_error(
            &login("r"),
            "login",
            "r",
            ran("Error: logging into \"r\": invalid username/password"),
        );
        assert!(matches!(e, ImageError::Unauthorized { .. }), "{e}");
        assert!(e.to_string().contains("token is expired or invalid"), "{e}");
        let e = engine.registry_error(&login("r"), "push", "r/x:1", ran("Error: something else"));
        assert!(
            e.to_string().starts_with("podman push of r/x:1 failed: exited with status 125\n  | Error: something else"),
            "{e}"
        );
    }

    #[tokio::test]
    async fn run_streams_lines_and_keeps_the_tail() {
        let engine = Engine { kind: EngineKind::Podman, program: "/bin/sh".into() };
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink: LineSink = {
            let seen = seen.clone();
            Arc::new(move |l: &str| seen.lock().unwrap().push(l.to_string()))
        };
        let script = "i=0; while [ $i -lt 20 ]; do i=$((i+1)); echo out$i; done; echo 'progress 10%\rprogress 100%' >&2; read x; echo got=$x >&2; exit 3";
        let ran = engine.run(&["-c".into(), script.into()], Some("secret\n"), &sink).await.unwrap();
        assert!(!ran.success);
        assert_eq!(ran.status, "status 3");
        assert_eq!(ran.tail.len(), TAIL);
        assert_eq!(ran.tail.last().map(String::as_str), Some("got=secret"));
        assert!(ran.tail.contains(&"progress 100%".to_string()), "{:?}", ran.tail);
        assert_eq!(seen.lock().unwrap().len(), 22);
    }
}
