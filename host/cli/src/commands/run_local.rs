//! `run local`: a service's containers on this machine, as close to its ECS
//! task as an engine allows. The main container and its sidecars are built
//! (or pulled) and started with podman or docker; the first owns the network
//! namespace and publishes every port, the others join it, so they reach
//! each other on localhost. Each gets the manifest's variables for the
//! environment (overrides applied), its secrets read from SSM, Copilot's
//! `COPILOT_*` variables, the region and credentials (the deployed task
//! role's with `--use-task-role`, else the caller's). `--watch` rebuilds and
//! restarts on a change. Ctrl-C or SIGTERM stop and remove every container
//! the run started.

use crate::cli::RunLocal;
use crate::context::CommandContext;
use crate::output::Output;
use crate::render::process_env;
use anyhow::{Context, Result};
use ferry_aws::AwsContext;
use ferry_core::{Error as CoreError, Failure, Workspace, naming};
use ferry_image::{ContainerSpec, Engine, ImageBuild, LineSink, Network, RUN_LOCAL_LABEL, WorkloadBuilds};
use indexmap::IndexMap;
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::interactive;

/// How long a container gets to stop before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(2);

/// One container of the task as the manifest describes it.
#[derive(Debug, Clone)]
struct Container {
    /// `api`, or the sidecar's name.
    name: String,
    image: Image,
    /// Container ports (the main container's `image.port`, a sidecar's `port`).
    ports: Vec<u16>,
    variables: IndexMap<String, Value>,
    secrets: IndexMap<String, Value>,
    entrypoint: Option<Vec<String>>,
    command: Option<Vec<String>>,
}

#[derive(Debug, Clone)]
enum Image {
    Build(ImageBuild),
    Location(String),
}

/// `--env-var-override`: for one container, or all (`None`).
#[derive(Debug, Clone, PartialEq)]
struct VarOverride {
    container: Option<String>,
    key: String,
    value: String,
}

pub fn run(args: RunLocal, cx: &CommandContext) -> Result<()> {
    let out = &cx.out;
    if args.proxy {
        return Err(Failure::new("--proxy is not supported by ferry's `run local`")
            .why(format!(
                "Copilot proxies the containers' outbound requests into the environment's VPC through an SSM session \
                 to a bastion task and a local network ({}); ferry does not start that bastion",
                args.proxy_network
            ))
            .hint("run without --proxy and point the service at local stand-ins (--env-var-override KEY=VALUE)")
            .into());
    }
    let ws = cx.workspace(args.app.as_deref())?;
    let name = pick(args.name, ws.workload_names(), "--name", "Which workload?", "service or job")?;
    if !ws.workload_names().contains(&name) {
        return Err(Failure::new(format!("no service or job named `{name}` in this workspace"))
            .hint(format!("workloads here: {}", ws.workload_names().join(", ")))
            .into());
    }
    let env = pick(args.env, ws.environment_names(), "--env", "Which environment?", "environment")?;
    let manifest = ws.load_workload(&name)?;
    let effective = manifest.effective(&ws.app, &env, &process_env)?;
    let containers = containers(&ws.root, &name, &effective.value)
        .map_err(|(pointer, message)| CoreError::problem(effective.problem(&pointer, &message, None, false)))?;
    let overrides = args.env_var_override.iter().map(|o| parse_var_override(o)).collect::<Result<Vec<_>>>()?;
    for o in &overrides {
        if let Some(c) = &o.container
            && !containers.iter().any(|k| &k.name == c)
        {
            return Err(Failure::new(format!("--env-var-override names container `{c}`, which {name} does not have"))
                .hint(format!(
                    "containers of {name}: {}",
                    containers.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ")
                ))
                .into());
        }
    }
    let ports = publish_ports(&containers, &args.port_override)?;
    let plan = Plan { ws, workload: name, env, containers, overrides, ports };
    cx.block_on(async move {
        let engine = ferry_image::detect(args.builder.as_deref()).await?;
        engine.check_runs_containers()?;
        let cancel = crate::cancel::guard();
        let aws = AwsContext::load(None).await;
        let env_vars = plan.variables(&aws, args.use_task_role, out).await?;
        let result = plan.run(&engine, &env_vars, args.watch, out).await;
        let names = plan.container_names();
        out.status("Removing", &names.join(", "));
        let removed = engine.remove(&names, STOP_GRACE).await;
        drop(cancel);
        match (result, removed) {
            (Err(e), _) => Err(e),
            (Ok(()), Err(e)) => {
                Err(anyhow::Error::new(e).context("the containers of this run could not all be removed"))
            }
            (Ok(()), Ok(())) => {
                out.status("Stopped", &format!("{}: every container of the run is removed", plan.workload));
                Ok(())
            }
        }
    })
}

/// A value from its flag, else the only choice, else asked on a terminal,
/// else an error naming the flag.
fn pick(value: Option<String>, choices: Vec<String>, flag: &str, prompt: &str, what: &str) -> Result<String> {
    if let Some(value) = value {
        return Ok(value);
    }
    match choices.len() {
        0 => Err(Failure::new(format!("this workspace has no {what}"))
            .hint(format!("create one first (`ferry {} init`)", if what == "environment" { "env" } else { "svc" }))
            .into()),
        1 => Ok(choices[0].clone()),
        _ if interactive() => {
            let choice = dialoguer::Select::new().with_prompt(prompt).items(&choices).default(0).interact()?;
            Ok(choices[choice].clone())
        }
        _ => Err(Failure::new(format!("{flag} is required: there is no terminal to ask on"))
            .hint(format!("pass {flag} with one of: {}", choices.join(", ")))
            .into()),
    }
}

/// The containers of an effective manifest: the main one, then each sidecar.
/// An error is (JSON pointer, message).
fn containers(root: &Path, workload: &str, manifest: &Value) -> Result<Vec<Container>, (String, String)> {
    let builds = WorkloadBuilds::from_manifest(root, manifest).map_err(|e| (e.pointer, e.message))?;
    let main_image = match (builds.main, manifest.pointer("/image/location").and_then(Value::as_str)) {
        (_, Some(location)) => Image::Location(location.to_string()),
        (Some(build), None) => Image::Build(build),
        (None, None) => {
            return Err(("/image".into(), "the manifest has neither `image.build` nor `image.location`".into()));
        }
    };
    let mut ports = Vec::new();
    if let Some(port) = manifest.pointer("/image/port") {
        ports.push(port_of(port).ok_or(("/image/port".to_string(), format!("`image.port` {port} is not a port")))?);
    }
    let mut all = vec![Container {
        name: workload.to_string(),
        image: main_image,
        ports,
        variables: map_at(manifest, "/variables"),
        secrets: map_at(manifest, "/secrets"),
        entrypoint: words(manifest.get("entrypoint")),
        command: words(manifest.get("command")),
    }];
    if let Some(Value::Object(sidecars)) = manifest.get("sidecars") {
        for (name, sidecar) in sidecars {
            let at = format!("/sidecars/{}", name.replace('~', "~0").replace('/', "~1"));
            let image = match sidecar.get("image") {
                Some(Value::String(location)) => Image::Location(location.clone()),
                Some(Value::Object(map)) => {
                    match (map.get("location").and_then(Value::as_str), builds.sidecars.get(name)) {
                        (Some(location), _) => Image::Location(location.to_string()),
                        (None, Some(build)) => Image::Build(build.clone()),
                        (None, None) => {
                            return Err((format!("{at}/image"), format!("sidecar `{name}` has no image to run")));
                        }
                    }
                }
                _ => return Err((format!("{at}/image"), format!("sidecar `{name}` has no image to run"))),
            };
            let mut ports = Vec::new();
            if let Some(port) = sidecar.get("port").filter(|p| !p.is_null()) {
                ports.push(port_of(port).ok_or((format!("{at}/port"), format!("sidecar port {port} is not a port")))?);
            }
            all.push(Container {
                name: name.clone(),
                image,
                ports,
                variables: map_at(sidecar, "/variables"),
                secrets: map_at(sidecar, "/secrets"),
                entrypoint: words(sidecar.get("entrypoint")),
                command: words(sidecar.get("command")),
            });
        }
    }
    Ok(all)
}

fn map_at(value: &Value, pointer: &str) -> IndexMap<String, Value> {
    match value.pointer(pointer) {
        Some(Value::Object(map)) => map.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        _ => IndexMap::new(),
    }
}

/// `8080`, `"8080"` or `"8080/tcp"`.
fn port_of(value: &Value) -> Option<u16> {
    match value {
        Value::Number(n) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
        Value::String(s) => s.split('/').next()?.trim().parse().ok(),
        _ => None,
    }
}

/// `entrypoint` / `command`: a list, or a string split as a shell would
/// (quotes group words; no expansion).
fn words(value: Option<&Value>) -> Option<Vec<String>> {
    match value? {
        Value::Array(items) => {
            Some(items.iter().map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())).collect())
        }
        // The plugin refused an unsplittable command at render time.
        Value::String(text) => ferry_plugin_protocol::shell::split_words(text).ok(),
        _ => None,
    }
}

fn parse_var_override(text: &str) -> Result<VarOverride> {
    let bad = || {
        Failure::new(format!("--env-var-override `{text}` is not [container:]KEY=VALUE"))
            .hint("for example --env-var-override LOG_LEVEL=debug or --env-var-override nginx:PORT=8081")
    };
    let (left, value) = text.split_once('=').ok_or_else(bad)?;
    let (container, key) = match left.split_once(':') {
        Some((c, k)) => (Some(c.trim().to_string()), k.trim().to_string()),
        None => (None, left.trim().to_string()),
    };
    if key.is_empty() || container.as_deref() == Some("") {
        return Err(bad().into());
    }
    Ok(VarOverride { container, key, value: value.to_string() })
}

/// `host:container` port pairs to publish: every container port on the same
/// local port unless `--port-override` moves it.
fn publish_ports(containers: &[Container], overrides: &[String]) -> Result<Vec<(u16, u16)>> {
    let mut ports: Vec<(u16, u16)> = containers.iter().flat_map(|c| c.ports.iter().map(|p| (*p, *p))).collect();
    for text in overrides {
        let parsed = text
            .split_once(':')
            .and_then(|(h, c)| Some((h.trim().parse::<u16>().ok()?, c.trim().parse::<u16>().ok()?)));
        let Some((host, container)) = parsed else {
            return Err(Failure::new(format!("--port-override `{text}` is not <host port>:<container port>"))
                .hint("for example --port-override 5000:80 binds localhost:5000 to the service's port 80")
                .into());
        };
        match ports.iter_mut().find(|(_, c)| *c == container) {
            Some(pair) => pair.0 = host,
            None => ports.push((host, container)),
        }
    }
    let mut seen = std::collections::HashSet::new();
    for (host, _) in &ports {
        if !seen.insert(*host) {
            return Err(Failure::new(format!("local port {host} is published twice"))
                .hint("move one with --port-override <another port>:<container port>")
                .into());
        }
    }
    Ok(ports)
}

struct Plan {
    ws: Workspace,
    workload: String,
    env: String,
    containers: Vec<Container>,
    overrides: Vec<VarOverride>,
    ports: Vec<(u16, u16)>,
}

/// Why the run loop ended or restarts.
enum Next {
    Stop,
    Changed(PathBuf),
    Exited(String, Option<i64>),
}

impl Plan {
    fn label_value(&self) -> String {
        format!("{}/{}", self.ws.app, self.workload)
    }

    fn container_name(&self, container: &str) -> String {
        format!("ferry-local-{}-{}-{container}", self.ws.app, self.workload)
    }

    fn container_names(&self) -> Vec<String> {
        self.containers.iter().map(|c| self.container_name(&c.name)).collect()
    }

    fn local_image(&self, container: &str) -> String {
        if container == self.workload {
            format!("localhost/ferry-local/{}-{}:latest", self.ws.app, self.workload)
        } else {
            format!("localhost/ferry-local/{}-{}-{container}:latest", self.ws.app, self.workload)
        }
    }

    /// Every container's variables, in the order they win: Copilot's, the
    /// region and credentials, the manifest's variables, its secrets, then
    /// `--env-var-override`.
    async fn variables(
        &self,
        aws: &AwsContext,
        use_task_role: bool,
        out: &Output,
    ) -> Result<HashMap<String, Vec<(String, String)>>> {
        let app = &self.ws.app;
        let region = aws.require_region()?;
        let mut common: Vec<(String, String)> = vec![
            ("COPILOT_APPLICATION_NAME".into(), app.clone()),
            ("COPILOT_ENVIRONMENT_NAME".into(), self.env.clone()),
            ("COPILOT_SERVICE_NAME".into(), self.workload.clone()),
            ("COPILOT_SERVICE_DISCOVERY_ENDPOINT".into(), format!("{}.{app}.local", self.env)),
            ("AWS_REGION".into(), region.clone()),
            ("AWS_DEFAULT_REGION".into(), region),
        ];
        let stack = naming::workload_stack(app, &self.env, &self.workload);
        let credentials = if use_task_role {
            match ferry_aws::run_local::task_role_arn(aws, &stack).await? {
                Some(role) => {
                    let session = format!("ferry-run-local-{}", self.workload);
                    let creds = ferry_aws::run_local::assume_role(aws, &role, &session).await.map_err(|e| {
                        anyhow::Error::new(e).context(format!(
                            "cannot assume the task role {role} of {} in {} (hint: allow your principal to sts:AssumeRole it, or pass --use-task-role=false)",
                            self.workload, self.env
                        ))
                    })?;
                    out.status("Assumed", &format!("the task role {role}"));
                    Some(creds)
                }
                None => {
                    out.note(&format!(
                        "{} is not deployed to {} (no stack {stack} with a TaskRole): the containers get your own credentials; pass --use-task-role=false to say so",
                        self.workload, self.env
                    ));
                    None
                }
            }
        } else {
            None
        };
        let credentials = match credentials {
            Some(c) => Some(c),
            None => match ferry_aws::run_local::own_credentials(aws).await {
                Ok(c) => Some(c),
                Err(e) => {
                    out.note(&format!("the containers get no AWS credentials: {e}"));
                    None
                }
            },
        };
        if let Some(c) = &credentials {
            common.extend(c.variables());
        }

        let needs_exports = self
            .containers
            .iter()
            .any(|c| c.variables.values().chain(c.secrets.values()).any(|v| v.get("from_cfn").is_some()));
        let exports = if needs_exports { ferry_aws::run_local::exports(aws).await? } else { HashMap::new() };
        let export = |name: &str, what: &str| -> Result<String> {
            exports.get(name).cloned().ok_or_else(|| {
                Failure::new(format!(
                    "{what} reads the CloudFormation export `{name}`, which this region does not have"
                ))
                .hint("deploy the stack that exports it, or override the variable with --env-var-override")
                .into()
            })
        };

        let mut all = HashMap::new();
        for container in &self.containers {
            let mut vars: IndexMap<String, String> = common.iter().cloned().collect();
            let overridden = |key: &str| {
                self.overrides
                    .iter()
                    .any(|o| o.key == key && o.container.as_deref().is_none_or(|c| c == container.name))
            };
            for (key, value) in &container.variables {
                let text = match value {
                    Value::String(s) => s.clone(),
                    Value::Object(map) if map.contains_key("from_cfn") => {
                        if overridden(key) {
                            continue;
                        }
                        let name = map["from_cfn"].as_str().unwrap_or_default();
                        export(name, &format!("variable {key} of {}", container.name))?
                    }
                    Value::Null => continue,
                    other => other.to_string(),
                };
                vars.insert(key.clone(), text);
            }
            for (key, value) in &container.secrets {
                if overridden(key) {
                    continue;
                }
                let parameter = match value {
                    Value::String(name) => name.clone(),
                    Value::Object(map) if map.contains_key("from_cfn") => {
                        let name = map["from_cfn"].as_str().unwrap_or_default();
                        export(name, &format!("secret {key} of {}", container.name))?
                    }
                    Value::Object(map) if map.contains_key("secretsmanager") => {
                        return Err(Failure::new(format!(
                            "secret {key} of {} is in Secrets Manager, which `run local` does not read",
                            container.name
                        ))
                        .why("ferry reads secrets for local runs from SSM Parameter Store only")
                        .hint(format!("pass its value with --env-var-override {key}=<value> (it stays off the engine's command line)"))
                        .into());
                    }
                    other => {
                        return Err(Failure::new(format!(
                            "secret {key} of {}: {other} is not an SSM parameter name",
                            container.name
                        ))
                        .hint("secrets: {NAME: <SSM parameter name or ARN>}")
                        .into());
                    }
                };
                if parameter.starts_with("arn:") && parameter.contains(":secretsmanager:") {
                    return Err(Failure::new(format!(
                        "secret {key} of {} is in Secrets Manager ({parameter}), which `run local` does not read",
                        container.name
                    ))
                    .hint(format!("pass its value with --env-var-override {key}=<value>"))
                    .into());
                }
                let value = ferry_aws::run_local::ssm_value(aws, &parameter)
                    .await
                    .with_context(|| format!("cannot read secret {key} of {} from SSM", container.name))?;
                vars.insert(key.clone(), value);
            }
            for o in &self.overrides {
                if o.container.as_deref().is_none_or(|c| c == container.name) {
                    vars.insert(o.key.clone(), o.value.clone());
                }
            }
            all.insert(container.name.clone(), vars.into_iter().collect());
        }
        Ok(all)
    }

    /// Builds, starts and watches until Ctrl-C / SIGTERM (or, without
    /// --watch, until the main container exits).
    async fn run(
        &self,
        engine: &Engine,
        vars: &HashMap<String, Vec<(String, String)>>,
        watch: bool,
        out: &Output,
    ) -> Result<()> {
        let leftovers = engine.containers_labelled(RUN_LOCAL_LABEL, &self.label_value()).await?;
        if !leftovers.is_empty() {
            out.note(&format!("removing containers an earlier run left: {}", leftovers.join(", ")));
            engine.remove(&leftovers, STOP_GRACE).await?;
        }
        let mut watcher = if watch { Some(Watcher::new(&self.ws.root)) } else { None };
        loop {
            let built = tokio::select! {
                built = self.build(engine, out) => built,
                _ = crate::cancel::cancelled() => return Ok(()),
            };
            if let Err(e) = built {
                let Some(watcher) = watcher.as_mut() else { return Err(e) };
                out.error(&e);
                out.note("waiting for a change to build again (Ctrl-C to stop)");
                tokio::select! {
                    path = watcher.next_change() => { out.status("Changed", &path.display().to_string()); continue; }
                    _ = crate::cancel::cancelled() => return Ok(()),
                }
            }
            if crate::cancel::is_cancelled() {
                return Ok(());
            }
            self.start(engine, vars, out).await?;
            let next = self.wait(engine, watcher.as_mut(), out).await;
            match next {
                Next::Stop => return Ok(()),
                Next::Changed(path) => {
                    out.status("Changed", &format!("{}: rebuilding and restarting", path.display()));
                    engine.remove(&self.container_names(), STOP_GRACE).await?;
                }
                Next::Exited(container, code) => {
                    let how = code.map(|c| format!("status {c}")).unwrap_or_else(|| "an unknown status".into());
                    match watcher.as_mut() {
                        None => {
                            return Err(Failure::new(format!("container {container} exited with {how}"))
                                .hint(
                                    "its last lines are above; fix it and run again (the run's containers are removed)",
                                )
                                .into());
                        }
                        Some(watcher) => {
                            out.note(&format!(
                                "container {container} exited with {how}; waiting for a change (Ctrl-C to stop)"
                            ));
                            engine.remove(&self.container_names(), STOP_GRACE).await?;
                            tokio::select! {
                                path = watcher.next_change() => out.status("Changed", &path.display().to_string()),
                                _ = crate::cancel::cancelled() => return Ok(()),
                            }
                        }
                    }
                }
            }
        }
    }

    /// Builds the images the manifest builds, one at a time (podman shares one store).
    async fn build(&self, engine: &Engine, out: &Output) -> Result<()> {
        let timestamp = ferry_image::source_time(&self.ws.root);
        for container in &self.containers {
            if let Image::Build(spec) = &container.image {
                let image = self.local_image(&container.name);
                out.status("Building", &format!("{} with {} as {image}", container.name, engine.name()));
                engine.build(&container.name, spec, &[image], timestamp, &sink(out, &container.name)).await?;
            }
        }
        Ok(())
    }

    async fn start(&self, engine: &Engine, vars: &HashMap<String, Vec<(String, String)>>, out: &Output) -> Result<()> {
        let owner = self.container_name(&self.containers[0].name);
        for (i, container) in self.containers.iter().enumerate() {
            let image = match &container.image {
                Image::Build(_) => self.local_image(&container.name),
                Image::Location(location) => location.clone(),
            };
            let spec = ContainerSpec {
                name: self.container_name(&container.name),
                image,
                env: vars.get(&container.name).cloned().unwrap_or_default(),
                network: if i == 0 { Network::Publish(self.ports.clone()) } else { Network::Join(owner.clone()) },
                entrypoint: container.entrypoint.clone(),
                command: container.command.clone(),
                labels: vec![
                    (RUN_LOCAL_LABEL.to_string(), self.label_value()),
                    ("ferry.run-local.env".to_string(), self.env.clone()),
                ],
            };
            engine.start(&spec, &sink(out, &container.name)).await?;
            out.status("Started", &format!("{} ({})", container.name, spec.name));
        }
        for (host, container) in &self.ports {
            out.status("Listening", &format!("http://localhost:{host} -> port {container}"));
        }
        out.note("Ctrl-C stops and removes the containers");
        Ok(())
    }

    /// Streams logs until a signal, a change (with --watch) or the first
    /// container stopping.
    async fn wait(&self, engine: &Engine, watcher: Option<&mut Watcher>, out: &Output) -> Next {
        let mut logs = tokio::task::JoinSet::new();
        for container in &self.containers {
            let (engine, name, shown, sink) = (
                engine.clone(),
                self.container_name(&container.name),
                container.name.clone(),
                sink(out, &container.name),
            );
            logs.spawn(async move {
                engine.follow_logs(&name, sink).await;
                (shown, name)
            });
        }
        let change = async {
            match watcher {
                Some(w) => w.next_change().await,
                None => std::future::pending().await,
            }
        };
        let next = tokio::select! {
            _ = crate::cancel::cancelled() => Next::Stop,
            path = change => Next::Changed(path),
            Some(Ok((shown, name))) = logs.join_next() => {
                // A terminal's Ctrl-C reaches the engine's `logs` too: not an exit.
                tokio::time::sleep(Duration::from_millis(200)).await;
                if crate::cancel::is_cancelled() {
                    Next::Stop
                } else {
                    Next::Exited(shown, engine.exit_code(&name).await)
                }
            }
        };
        logs.abort_all();
        next
    }
}

fn sink(out: &Output, label: &str) -> LineSink {
    let (out, label) = (out.clone(), label.to_string());
    Arc::new(move |line: &str| out.engine_line(&label, line))
}

/// Polls the workspace for changes (every half second, debounced: a change
/// counts once the tree has been still for a moment). `.git`, `copilot/` and
/// `target/` are ignored.
struct Watcher {
    root: PathBuf,
    last: HashMap<PathBuf, (SystemTime, u64)>,
}

const IGNORED: &[&str] = &[".git", "copilot", "target", "node_modules"];

impl Watcher {
    fn new(root: &Path) -> Watcher {
        Watcher { root: root.to_path_buf(), last: snapshot(root) }
    }

    /// The first changed path once the tree is still again.
    async fn next_change(&mut self) -> PathBuf {
        loop {
            tokio::time::sleep(Duration::from_millis(500)).await;
            let now = snapshot(&self.root);
            let Some(changed) = first_difference(&self.last, &now) else { continue };
            // Debounce: wait until a snapshot equals the one before it.
            let mut settled = now;
            loop {
                tokio::time::sleep(Duration::from_millis(300)).await;
                let again = snapshot(&self.root);
                if again == settled {
                    break;
                }
                settled = again;
            }
            self.last = settled;
            return changed.strip_prefix(&self.root).map(Path::to_path_buf).unwrap_or(changed);
        }
    }
}

fn snapshot(root: &Path) -> HashMap<PathBuf, (SystemTime, u64)> {
    let mut files = HashMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                let ignored = dir == root && entry.file_name().to_str().is_some_and(|n| IGNORED.contains(&n));
                if !ignored && !entry.file_type().is_ok_and(|t| t.is_symlink()) {
                    stack.push(path);
                }
            } else {
                files.insert(path, (meta.modified().unwrap_or(SystemTime::UNIX_EPOCH), meta.len()));
            }
        }
    }
    files
}

fn first_difference(
    before: &HashMap<PathBuf, (SystemTime, u64)>,
    after: &HashMap<PathBuf, (SystemTime, u64)>,
) -> Option<PathBuf> {
    let mut changed: Vec<&PathBuf> = after.iter().filter(|(p, v)| before.get(*p) != Some(v)).map(|(p, _)| p).collect();
    changed.extend(before.keys().filter(|p| !after.contains_key(*p)));
    changed.sort();
    changed.first().map(|p| (*p).clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn containers_ports_and_overrides_of_a_manifest() {
        let dir = tempfile::tempdir().unwrap();
        for d in ["api", "logs"] {
            std::fs::create_dir_all(dir.path().join(d)).unwrap();
            std::fs::write(dir.path().join(d).join("Dockerfile"), "FROM scratch\n").unwrap();
        }
        let manifest = json!({
            "name": "api",
            "image": {"build": "api/Dockerfile", "port": 8080},
            "variables": {"A": "1"},
            "secrets": {"DB": "DB_PASSWORD"},
            "command": "httpd -f -p '8080 x'",
            "sidecars": {
                "nginx": {"image": "public.ecr.aws/nginx/nginx:latest", "port": "80/tcp", "variables": {"B": 2}},
                "logs": {"image": {"build": "logs/Dockerfile"}}
            }
        });
        let all = containers(dir.path(), "api", &manifest).unwrap();
        let names: Vec<&str> = all.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["api", "nginx", "logs"]);
        assert!(matches!(&all[0].image, Image::Build(b) if b.dockerfile.ends_with("api/Dockerfile")));
        assert!(matches!(&all[1].image, Image::Location(l) if l == "public.ecr.aws/nginx/nginx:latest"));
        assert!(matches!(&all[2].image, Image::Build(_)));
        assert_eq!(
            all[0].command.as_deref(),
            Some(&["httpd".to_string(), "-f".into(), "-p".into(), "8080 x".into()][..])
        );
        assert_eq!(all[1].ports, [80]);
        let ports = publish_ports(&all, &["5000:8080".into()]).unwrap();
        assert_eq!(ports, [(5000, 8080), (80, 80)]);
        let clash = publish_ports(&all, &["80:8080".into()]).unwrap_err().to_string();
        assert!(clash.contains("local port 80 is published twice"), "{clash}");
        let bad = publish_ports(&all, &["x:80".into()]).unwrap_err().to_string();
        assert!(bad.contains("is not <host port>:<container port>"), "{bad}");

        let no_image = containers(dir.path(), "api", &json!({"name": "api"})).unwrap_err();
        assert_eq!(no_image.0, "/image");
    }

    #[test]
    fn var_overrides() {
        assert_eq!(
            parse_var_override("nginx:PORT=80=81").unwrap(),
            VarOverride { container: Some("nginx".into()), key: "PORT".into(), value: "80=81".into() }
        );
        assert_eq!(
            parse_var_override("LOG_LEVEL=").unwrap(),
            VarOverride { container: None, key: "LOG_LEVEL".into(), value: "".into() }
        );
        assert!(parse_var_override("NOVALUE").is_err());
        assert!(parse_var_override(":K=V").is_err());
    }

    #[tokio::test]
    async fn the_watcher_ignores_git_and_copilot_and_settles() {
        let dir = tempfile::tempdir().unwrap();
        for d in [".git", "copilot/api", "src"] {
            std::fs::create_dir_all(dir.path().join(d)).unwrap();
        }
        std::fs::write(dir.path().join("src/main.txt"), "1").unwrap();
        let mut watcher = Watcher::new(dir.path());
        std::fs::write(dir.path().join(".git/index"), "x").unwrap();
        std::fs::write(dir.path().join("copilot/api/manifest.yml"), "x").unwrap();
        let none = tokio::time::timeout(Duration::from_millis(1500), watcher.next_change()).await;
        assert!(none.is_err(), "a change under .git or copilot/ is ignored: {none:?}");
        std::fs::write(dir.path().join("src/main.txt"), "22").unwrap();
        let changed = tokio::time::timeout(Duration::from_secs(5), watcher.next_change()).await.unwrap();
        assert_eq!(changed, Path::new("src/main.txt"));
    }
}
