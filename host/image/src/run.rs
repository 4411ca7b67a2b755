//! Running containers on this machine (`ferry run local`): start them
//! detached with the engine ferry found, stream their logs, and remove them.
//!
//! The first container of a run owns the network namespace and publishes
//! every port; the others join it (`--network container:<first>`), so the
//! containers of a run reach each other on `localhost` as the containers of
//! one ECS task do (awsvpc). Variable values are handed to the engine through
//! its own environment (`--env NAME` without a value), never on its command
//! line, where any user of the machine could read a secret.

use crate::{Engine, EngineKind, ImageError, LineSink};
use std::ffi::OsString;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};

/// The label every container of a `run local` carries, valued
/// `<app>/<workload>`: what a later run (or the user) finds leftovers by.
pub const RUN_LOCAL_LABEL: &str = "ferry.run-local";

/// How the container joins the run's network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Network {
    /// Owns the namespace; publishes `host:container` port pairs on 127.0.0.1.
    Publish(Vec<(u16, u16)>),
    /// Joins the namespace of the named container.
    Join(String),
}

/// One container to start.
#[derive(Debug, Clone)]
pub struct ContainerSpec {
    /// The engine's name for it (unique on the machine).
    pub name: String,
    pub image: String,
    /// Variables, in order; values reach the engine through its environment.
    pub env: Vec<(String, String)>,
    pub network: Network,
    /// Overrides the image's entrypoint (each element one argument).
    pub entrypoint: Option<Vec<String>>,
    /// Overrides the image's command.
    pub command: Option<Vec<String>>,
    /// Labels (`key=value`).
    pub labels: Vec<(String, String)>,
}

impl Engine {
    /// The engine can run containers (buildah only builds).
    pub fn check_runs_containers(&self) -> Result<(), ImageError> {
        if self.kind == EngineKind::Buildah {
            return Err(ImageError::Unusable {
                name: "buildah".into(),
                origin: "the engines found".into(),
                why: "buildah builds images but does not run containers".into(),
            });
        }
        Ok(())
    }

    /// The arguments of `run -d` for `spec` (values of variables excluded).
    pub fn run_args(&self, spec: &ContainerSpec) -> Vec<OsString> {
        let mut args: Vec<OsString> = vec!["run".into(), "-d".into(), "--name".into(), spec.name.clone().into()];
        for (key, value) in &spec.labels {
            args.extend(["--label".into(), format!("{key}={value}").into()]);
        }
        match &spec.network {
            Network::Publish(ports) => {
                for (host, container) in ports {
                    args.extend(["-p".into(), format!("127.0.0.1:{host}:{container}").into()]);
                }
            }
            Network::Join(owner) => args.extend(["--network".into(), format!("container:{owner}").into()]),
        }
        for (key, _) in &spec.env {
            args.extend(["--env".into(), key.clone().into()]);
        }
        if let Some(entrypoint) = &spec.entrypoint {
            // Both engines take one program here; the rest goes before the command.
            if let Some(first) = entrypoint.first() {
                args.extend(["--entrypoint".into(), first.clone().into()]);
            }
        }
        args.push(spec.image.clone().into());
        if let Some(entrypoint) = &spec.entrypoint {
            args.extend(entrypoint.iter().skip(1).map(OsString::from));
        }
        if let Some(command) = &spec.command {
            args.extend(command.iter().map(OsString::from));
        }
        args
    }

    /// Starts `spec` detached.
    pub async fn start(&self, spec: &ContainerSpec, sink: &LineSink) -> Result<(), ImageError> {
        let args = self.run_args(spec);
        let mut cmd = self.command(&args);
        for (key, value) in &spec.env {
            cmd.env(key, value);
        }
        let output = self.output(cmd).await?;
        if output.0 {
            return Ok(());
        }
        for line in &output.1 {
            sink(line);
        }
        Err(ImageError::Failed {
            engine: self.name().into(),
            action: "run".into(),
            target: format!("{} ({})", spec.name, spec.image),
            status: output.2,
            lines: output.1,
        })
    }

    /// Stops and removes these containers (those that exist), giving each
    /// `grace` to stop before it is killed.
    pub async fn remove(&self, names: &[String], grace: Duration) -> Result<(), ImageError> {
        if names.is_empty() {
            return Ok(());
        }
        let mut args: Vec<OsString> = vec!["rm".into(), "-f".into()];
        if self.kind == EngineKind::Podman {
            args.extend(["-t".into(), grace.as_secs().to_string().into(), "--ignore".into()]);
        } else {
            // docker rm -f kills at once; stop first for a graceful end.
            let mut stop: Vec<OsString> = vec!["stop".into(), "-t".into(), grace.as_secs().to_string().into()];
            stop.extend(names.iter().map(OsString::from));
            let _ = self.output(self.command(&stop)).await;
        }
        args.extend(names.iter().map(OsString::from));
        let (ok, lines, status) = self.output(self.command(&args)).await?;
        // docker says "No such container" for one already gone: that is the goal.
        if ok || lines.iter().all(|l| l.contains("No such container") || l.contains("no such container")) {
            return Ok(());
        }
        Err(ImageError::Failed {
            engine: self.name().into(),
            action: "rm".into(),
            target: names.join(", "),
            status,
            lines,
        })
    }

    /// Names of the containers (running or not) carrying `label=value`.
    pub async fn containers_labelled(&self, label: &str, value: &str) -> Result<Vec<String>, ImageError> {
        let args: Vec<OsString> = vec![
            "ps".into(),
            "-a".into(),
            "--filter".into(),
            format!("label={label}={value}").into(),
            "--format".into(),
            "{{.Names}}".into(),
        ];
        let (ok, lines, status) = self.output(self.command(&args)).await?;
        if !ok {
            return Err(ImageError::Failed {
                engine: self.name().into(),
                action: "ps".into(),
                target: format!("containers labelled {label}={value}"),
                status,
                lines,
            });
        }
        Ok(lines.into_iter().map(|l| l.trim().to_string()).filter(|l| !l.is_empty()).collect())
    }

    /// The exit code of a stopped container (`None` while it runs or when
    /// the engine cannot say).
    pub async fn exit_code(&self, name: &str) -> Option<i64> {
        let args: Vec<OsString> =
            vec!["inspect".into(), "--format".into(), "{{.State.Running}} {{.State.ExitCode}}".into(), name.into()];
        let (ok, lines, _) = self.output(self.command(&args)).await.ok()?;
        let line = lines.first().filter(|_| ok)?;
        let (running, code) = line.trim().split_once(' ')?;
        if running == "true" { None } else { code.parse().ok() }
    }

    /// Streams a container's output to `sink` until it stops; resolves then.
    pub async fn follow_logs(&self, name: &str, sink: LineSink) {
        let mut cmd = self.command(&["logs".into(), "-f".into(), name.into()]);
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let Ok(mut child) = cmd.spawn() else { return };
        let mut tasks = Vec::new();
        if let Some(out) = child.stdout.take() {
            let sink = sink.clone();
            tasks.push(tokio::spawn(async move {
                let mut lines = BufReader::new(out).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    sink(line.trim_end());
                }
            }));
        }
        if let Some(err) = child.stderr.take() {
            tasks.push(tokio::spawn(async move {
                let mut lines = BufReader::new(err).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    sink(line.trim_end());
                }
            }));
        }
        for task in tasks {
            let _ = task.await;
        }
        let _ = child.wait().await;
    }

    fn command(&self, args: &[OsString]) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(&self.program);
        cmd.args(args).stdin(Stdio::null()).kill_on_drop(true);
        cmd
    }

    /// Runs to the end: (success, output lines, status text).
    async fn output(&self, mut cmd: tokio::process::Command) -> Result<(bool, Vec<String>, String), ImageError> {
        let output = cmd
            .output()
            .await
            .map_err(|source| ImageError::Spawn { program: self.program.display().to_string(), source })?;
        let mut lines: Vec<String> = String::from_utf8_lossy(&output.stdout).lines().map(str::to_string).collect();
        lines.extend(String::from_utf8_lossy(&output.stderr).lines().map(str::to_string));
        let status = match output.status.code() {
            Some(code) => format!("status {code}"),
            None => "a signal".into(),
        };
        Ok((output.status.success(), lines, status))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(network: Network) -> ContainerSpec {
        ContainerSpec {
            name: "ferry-local-chat-api-api".into(),
            image: "localhost/ferry-local/chat-api:latest".into(),
            env: vec![("DB_PASSWORD".into(), "s3cret".into()), ("A".into(), "1".into())],
            network,
            entrypoint: Some(vec!["/bin/sh".into(), "-c".into()]),
            command: Some(vec!["echo hi".into()]),
            labels: vec![(RUN_LOCAL_LABEL.into(), "chat/api".into())],
        }
    }

    #[test]
    fn values_never_reach_the_command_line_and_ports_bind_loopback() {
        let engine = Engine { kind: EngineKind::Podman, program: "/usr/bin/podman".into() };
        let args: Vec<String> = engine
            .run_args(&spec(Network::Publish(vec![(8080, 80)])))
            .into_iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert!(!args.iter().any(|a| a.contains("s3cret")), "{args:?}");
        let joined = args.join(" ");
        assert_eq!(
            joined,
            "run -d --name ferry-local-chat-api-api --label ferry.run-local=chat/api -p 127.0.0.1:8080:80 \
             --env DB_PASSWORD --env A --entrypoint /bin/sh localhost/ferry-local/chat-api:latest -c echo hi"
        );
        let joined: Vec<String> = engine
            .run_args(&spec(Network::Join("owner".into())))
            .into_iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert!(joined.join(" ").contains("--network container:owner"), "{joined:?}");
        assert!(!joined.iter().any(|a| a == "-p"), "{joined:?}");
    }

    #[test]
    fn buildah_cannot_run() {
        let engine = Engine { kind: EngineKind::Buildah, program: "/usr/bin/buildah".into() };
        let e = engine.check_runs_containers().unwrap_err().to_string();
        assert!(e.contains("does not run containers"), "{e}");
    }
}
