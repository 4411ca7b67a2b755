//! `task run`, `task exec`, `task delete`: one-off tasks on ECS, in the
//! stack Copilot keeps them in (`task-<group>`, see [`ferry_aws::task`]), so
//! a group started by Copilot can be run again, exec'd into or deleted by
//! ferry and the other way round.

use super::aws::{confirm_or_yes, report_calls, session};
use crate::cli::{TaskDelete, TaskExec, TaskRun};
use crate::context::CommandContext;
use crate::output::{DeployView, Output};
use anyhow::{Result, anyhow};
use ferry_aws::app::Session;
use ferry_aws::task::{self, EcsTasks, RunRequest, TaskApi, TaskSpec, TaskState};
use ferry_core::{Failure, naming};
use indexmap::IndexMap;
use std::collections::HashSet;
use std::time::Duration;

const POLL: Duration = Duration::from_secs(3);
/// How long `--follow` follows (the tasks keep running in ECS after).
const FOLLOW_FOR: Duration = Duration::from_secs(24 * 3600);
const START_WAIT: Duration = Duration::from_secs(600);

/// An error that ends ferry with a given exit code (a followed task's).
#[derive(Debug)]
pub struct Exit {
    pub code: i32,
    pub message: String,
}

impl Exit {
    pub fn new(code: i32, message: impl Into<String>) -> Self {
        Exit { code, message: message.into() }
    }
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Exit {}

/// The process exit code for a failed command: a followed task's (or the
/// exec session's) own code, else 1. Codes outside 1..=255 become 1.
pub fn exit_code(err: &anyhow::Error) -> u8 {
    err.chain()
        .find_map(|e| e.downcast_ref::<Exit>())
        .map(|exit| u8::try_from(exit.code).ok().filter(|c| *c != 0).unwrap_or(1))
        .unwrap_or(1)
}

/// `key=value` pairs of a flag, in order.
fn pairs(flag: &str, values: &[String], example: &str) -> Result<IndexMap<String, String>> {
    let mut map = IndexMap::new();
    for pair in values.iter().filter(|p| !p.trim().is_empty()) {
        let Some((k, v)) = pair.split_once('=') else {
            return Err(Failure::new(format!("{flag} `{pair}` is not key=value"))
                .hint(format!("e.g. {flag} {example}"))
                .into());
        };
        map.insert(k.trim().to_string(), v.trim().to_string());
    }
    Ok(map)
}

/// Where the tasks run.
struct Placement {
    cluster: String,
    subnets: Vec<String>,
    security_groups: Vec<String>,
    public_ip: bool,
    app: String,
    env: String,
}

pub fn run(args: TaskRun, cx: &CommandContext) -> Result<()> {
    if let Some(source) = &args.generate_cmd {
        return generate_cmd(source, &args, cx);
    }
    let group = match &args.group {
        Some(g) => g.clone(),
        None => std::env::current_dir()?
            .file_name()
            .map(|n| n.to_string_lossy().to_lowercase())
            .ok_or_else(|| anyhow!("the current directory has no name to call the task group by: pass -n"))?,
    };
    naming::check_name(&group).map_err(|why| {
        Failure::new(format!("invalid task group name `{group}`: {why}"))
            .hint("pass a name with -n, e.g. -n db-migrate")
    })?;
    if args.env.is_none() && !args.default && args.subnets.is_empty() && args.cluster.is_none() {
        return Err(Failure::new("where should the tasks run?")
            .hint("pass --env <environment> (its cluster, subnets and security group), --default (the default cluster and VPC), or --subnets")
            .into());
    }
    // Copilot uploads the file as it is and names it in the task
    // definition's `EnvironmentFiles`: ECS reads it when a task starts.
    let env_file = match &args.env_file {
        Some(path) => Some((
            path.clone(),
            std::fs::read(path).map_err(|e| {
                Failure::new(format!("cannot read --env-file {}", path.display()))
                    .because(e)
                    .hint("give the path of a .env file (VARIABLE=VALUE lines)")
            })?,
        )),
        None => None,
    };
    let env_vars = pairs("--env-vars", &args.env_vars, "LOG_LEVEL=debug,MODE=once")?;
    let secrets = pairs("--secrets", &args.secrets, "DB_PASSWORD=/copilot/myapp/test/secrets/DB_PASSWORD")?;
    let resource_tags = pairs("--resource-tags", &args.resource_tags, "team=data")?;
    let command = match &args.command {
        Some(c) => task::split_command(c).map_err(|why| Failure::new(format!("--command {why}")))?,
        None => Vec::new(),
    };
    let entrypoint = match &args.entrypoint {
        Some(c) => task::split_command(c).map_err(|why| Failure::new(format!("--entrypoint {why}")))?,
        None => Vec::new(),
    };
    if !secrets.is_empty() {
        let names: Vec<&str> = secrets.keys().map(String::as_str).collect();
        let question = format!(
            "Grant the tasks' execution role access to the secrets {} (needed to inject them)?",
            names.join(", ")
        );
        if !confirm_or_yes(&cx.out, &question, args.acknowledge_secrets_access)
            .map_err(|e| e.context("--secrets needs consent: pass --acknowledge-secrets-access"))?
        {
            return Err(Failure::new("the tasks were not started: access to the secrets was not granted").into());
        }
    }
    if args.image.is_none() {
        // Checked before the stack is deployed for it.
        dockerfile_and_context(&args, &cx.out)?;
        pairs("--build-args", &args.build_args, "GO_VERSION=1.22")?;
    }
    let app = match (&args.env, &args.app) {
        (Some(_), _) => Some(cx.app_name(args.app.clone())?),
        _ => args.app.clone(),
    };
    let out = &cx.out;
    let view = DeployView::new(args.json);
    cx.block_on(async {
        let session = session(false).await?;
        let result = async {
            let placement = placement(&session, &args, app.as_deref()).await?;
            let mut spec = TaskSpec {
                group: group.clone(),
                cpu: args.cpu,
                memory: args.memory,
                image: args.image.clone().unwrap_or_default(),
                task_role: args.task_role.clone().unwrap_or_default(),
                execution_role: args.execution_role.clone().unwrap_or_default(),
                command,
                entrypoint,
                os: args.platform_os.clone().unwrap_or_default(),
                arch: args.platform_arch.clone().unwrap_or_default(),
                app: placement.app.clone(),
                env: placement.env.clone(),
                env_vars,
                secrets,
                env_file_arn: String::new(),
            };
            // As Copilot: the stack first (it makes the repository and the
            // env files' bucket), then the env file and the image go there,
            // then the stack again with them.
            deploy_stack(&session, &view, &spec, &resource_tags).await?;
            let mut again = false;
            if let Some((path, content)) = env_file {
                spec.env_file_arn = upload_env_file(&session, &view, &group, &path, content).await?;
                again = true;
            }
            if spec.image.is_empty() {
                spec.image = build_and_push(&session, &args, &group, out).await?;
                again = true;
            }
            if again {
                deploy_stack(&session, &view, &spec, &resource_tags).await?;
            }

            let api = EcsTasks::new(session.aws.ecs());
            let request = RunRequest {
                cluster: placement.cluster.clone(),
                task_definition: task::family(&group),
                count: args.count,
                subnets: placement.subnets.clone(),
                security_groups: placement.security_groups.clone(),
                assign_public_ip: placement.public_ip,
            };
            let arns = api.run_task(&request).await.map_err(|e| {
                let hint = if placement.cluster == "default" {
                    "with --default the account needs a cluster named `default`: `aws ecs create-cluster`".to_string()
                } else {
                    format!("check that cluster {} exists and the subnets and security groups belong to one VPC", placement.cluster)
                };
                Failure::new(format!("ECS did not start the tasks of `{group}`")).hint(hint).because(e)
            })?;
            for arn in &arns {
                view.emit(serde_json::json!({"event": "task_started", "group": group, "task": arn, "cluster": placement.cluster}));
            }
            let tasks = task::wait_started(&api, &placement.cluster, &arns, poll(&session), START_WAIT).await?;
            for t in &tasks {
                view.emit(serde_json::json!({"event": "task_status", "task": t.arn, "status": t.last_status}));
                view.line(format!("{:>12} task {} of {group}: {}", "Started", t.id(), t.last_status.to_lowercase()));
            }
            if !args.follow {
                view.line(format!(
                    "{:>12} follow its logs with `ferry task run ... --follow`, or read /copilot/{group} (log group); stop it with `ferry task delete -n {group}`",
                    "Note"
                ));
                return Ok(());
            }
            follow(&session, &api, &view, out, &group, &placement.cluster, &arns, args.json).await
        }
        .await;
        report_calls(&session, out, args.json);
        result
    })
}

/// Streams the tasks' log events until every task has stopped; a non-zero
/// exit code of theirs becomes ferry's.
#[allow(clippy::too_many_arguments)]
async fn follow(
    session: &Session,
    api: &EcsTasks,
    view: &DeployView,
    out: &Output,
    group: &str,
    cluster: &str,
    arns: &[String],
    json: bool,
) -> Result<()> {
    let log_group = task::log_group(group);
    let streams: Vec<String> = arns.iter().map(|a| task::log_stream(group, task::task_id(a))).collect();
    let mut seen: HashSet<String> = HashSet::new();
    let start = std::cell::Cell::new(now_ms() - 60_000);
    let mut print_new = |events: Vec<ferry_aws::logs::LogEvent>| {
        for event in events.into_iter().filter(|e| streams.contains(&e.stream)) {
            let key = if event.id.is_empty() {
                format!("{}{}{}", event.timestamp, event.stream, event.message)
            } else {
                event.id.clone()
            };
            if !seen.insert(key) {
                continue;
            }
            start.set(start.get().max(event.timestamp));
            if json {
                out.data(&serde_json::json!({"event": "log", "timestamp": event.timestamp, "stream": event.stream, "message": event.message}).to_string());
            } else {
                out.log_line(event.timestamp, &event.stream, &event.message);
            }
        }
    };
    let mut stopped = false;
    let ending = loop {
        // The log group may not hold a stream before the container logs.
        if let Ok(events) = session.log_events(&log_group, start.get(), 10_000).await {
            print_new(events);
        }
        if stopped {
            break task::wait_stopped(api, cluster, arns, poll(session), FOLLOW_FOR, &mut |_| {}).await?;
        }
        let tasks: Vec<TaskState> = api.describe_tasks(cluster, arns).await?;
        if !tasks.is_empty() && tasks.iter().all(TaskState::stopped) {
            // One more read: the last lines reach the log group after the stop.
            stopped = true;
            continue;
        }
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {
                view.line(format!("{:>12} stopped following; the tasks keep running (`ferry task delete -n {group}` stops them)", "Note"));
                return Ok(());
            }
            _ = tokio::time::sleep(poll(session)) => {}
        }
    };
    view.emit(serde_json::json!({"event": "tasks_stopped", "group": group, "exit_code": ending.exit_code, "detail": ending.detail, "tasks": ending.tasks}));
    if ending.exit_code != 0 {
        let detail = ending.detail.unwrap_or_else(|| format!("a task of {group} failed"));
        return Err(Failure::new(format!("task group `{group}` failed: {detail}"))
            .hint(format!(
                "read its logs in /copilot/{group}; ferry exits with the task's exit code ({})",
                ending.exit_code
            ))
            .because(Exit::new(ending.exit_code, format!("exit code {}", ending.exit_code)))
            .into());
    }
    view.line(format!("{:>12} every task of {group} exited with code 0", "Stopped"));
    Ok(())
}

/// How often ECS or Step Functions is asked: quickly against a local emulator.
fn poll(session: &ferry_aws::app::Session) -> Duration {
    session.options.poll.min(POLL)
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

async fn deploy_stack(
    session: &Session,
    view: &DeployView,
    spec: &TaskSpec,
    tags: &IndexMap<String, String>,
) -> Result<()> {
    let stack = spec.deployable(tags);
    view.start(&stack.name, "deploying");
    // A task stack is Copilot's shape by design (either tool runs the
    // other's group again), with nothing an update could break: the
    // refusal to update a stack Copilot deployed does not apply.
    let result = session.deployer().adopting().deploy(&stack, &mut |event| view.event(&event)).await;
    match result {
        Ok(outcome) => {
            let text = match outcome {
                ferry_aws::DeployOutcome::UpToDate => "up to date",
                ferry_aws::DeployOutcome::Created => "created",
                ferry_aws::DeployOutcome::Updated => "updated",
            };
            view.finish(&stack.name, text, true);
            Ok(())
        }
        Err(e) => {
            view.finish(&stack.name, "failed", false);
            Err(Failure::new(format!("cannot deploy the task stack {}", stack.name)).because(e).into())
        }
    }
}

/// The Dockerfile (`--dockerfile`, else `./Dockerfile`, as Copilot) and
/// the build context (`--build-context`, else the Dockerfile's directory).
fn dockerfile_and_context(args: &TaskRun, out: &Output) -> Result<(std::path::PathBuf, std::path::PathBuf)> {
    let cwd = std::env::current_dir()?;
    let dockerfile = cwd.join(args.dockerfile.as_deref().unwrap_or("Dockerfile"));
    if !dockerfile.is_file() {
        return Err(Failure::new(format!("there is no Dockerfile at {}", out.path(&dockerfile)))
            .hint("pass --dockerfile <path>, or --image <image> to run an existing image")
            .into());
    }
    let context = match &args.build_context {
        Some(c) => cwd.join(c),
        None => dockerfile.parent().map(|p| p.to_path_buf()).unwrap_or_else(|| cwd.clone()),
    };
    Ok((dockerfile, context))
}

/// Uploads `--env-file` to the bucket of the group's stack; its S3 ARN.
async fn upload_env_file(
    session: &Session,
    view: &DeployView,
    group: &str,
    path: &std::path::Path,
    content: Vec<u8>,
) -> Result<String> {
    let stack = task::stack_name(group);
    let state = ferry_aws::cfn::CloudFormationApi::describe_stack(&session.cfn, &stack).await?;
    let bucket = state.and_then(|s| s.outputs.get(task::BUCKET_OUTPUT).cloned()).filter(|b| !b.is_empty());
    let bucket = bucket.ok_or_else(|| {
        Failure::new(format!("the task stack {stack} has no `{}` output to upload --env-file to", task::BUCKET_OUTPUT))
            .hint(format!("delete the task group (`ferry task delete -n {group}`) and run it again"))
    })?;
    let arn = task::upload_env_file(&session.aws, &bucket, path, content).await.map_err(|e| {
        Failure::new(format!("cannot upload --env-file {} to s3://{bucket}", path.display())).because(e)
    })?;
    view.emit(serde_json::json!({"event": "env_file_uploaded", "file": path, "arn": arn}));
    view.line(format!("{:>12} {} to {arn}", "Uploaded", path.display()));
    Ok(arn)
}

/// Builds the Dockerfile and pushes it to the group's repository; the image
/// pinned by digest.
async fn build_and_push(session: &Session, args: &TaskRun, group: &str, out: &Output) -> Result<String> {
    use ferry_image::{ImageBuild, LineSink};
    use std::sync::Arc;
    let cwd = std::env::current_dir()?;
    let (dockerfile, context) = dockerfile_and_context(args, out)?;
    let build_args = pairs("--build-args", &args.build_args, "GO_VERSION=1.22")?;
    let spec =
        ImageBuild { dockerfile, context, target: None, args: build_args, cache_from: Vec::new(), platform: None };
    let engine = ferry_image::detect(args.builder.as_deref()).await?;
    let ecr = ferry_aws::ecr::Ecr::new(session.aws.ecr());
    let auth = ecr.authorization().await?;
    let overridden = std::env::var(super::image::REGISTRY_OVERRIDE).ok().filter(|r| !r.trim().is_empty());
    let registry = overridden.clone().unwrap_or_else(|| auth.registry.clone());
    let (label, out2) = (group.to_string(), out.clone());
    let sink: LineSink = Arc::new(move |line: &str| out2.engine_line(&label, line));
    let login = engine.login(&registry, &auth.user, &auth.password, overridden.is_some(), &sink).await?;
    let uri = format!("{registry}/{}", task::repository(group));
    let mut references = vec![format!("{uri}:latest")];
    if let Some(tag) = &args.tag {
        references.push(format!("{uri}:{tag}"));
    }
    out.status("Building", &format!("{group} with {} ({})", engine.name(), engine.program.display()));
    engine.build(group, &spec, &references, ferry_image::source_time(&cwd), &sink).await?;
    let mut digest = String::new();
    for reference in &references {
        digest = engine.push(&login, reference, &sink).await?;
    }
    let pinned = format!("{uri}@{digest}");
    out.status("Pushed", &pinned);
    Ok(pinned)
}

/// The cluster, subnets and security groups the flags name.
async fn placement(session: &Session, args: &TaskRun, app: Option<&str>) -> Result<Placement> {
    let mut placement = Placement {
        cluster: args.cluster.clone().unwrap_or_else(|| "default".into()),
        subnets: args.subnets.clone(),
        security_groups: Vec::new(),
        public_ip: true,
        app: String::new(),
        env: String::new(),
    };
    if let (Some(env), Some(app)) = (&args.env, app) {
        session.require_env(app, env).await?;
        let stack = naming::environment_stack(app, env);
        let state =
            ferry_aws::cfn::CloudFormationApi::describe_stack(&session.cfn, &stack).await?.ok_or_else(|| {
                Failure::new(format!("environment `{env}` has no stack {stack}"))
                    .hint(format!("deploy it: `ferry env deploy -n {env}`"))
            })?;
        let output = |key: &str| state.outputs.get(key).cloned().unwrap_or_default();
        placement.cluster = output("ClusterId");
        let public: Vec<String> =
            output("PublicSubnets").split(',').filter(|s| !s.is_empty()).map(str::to_string).collect();
        if public.is_empty() {
            // An environment without public subnets: its private ones, no public IP (a NAT or endpoints reach ECR).
            placement.subnets =
                output("PrivateSubnets").split(',').filter(|s| !s.is_empty()).map(str::to_string).collect();
            placement.public_ip = false;
        } else {
            placement.subnets = public;
        }
        placement.security_groups =
            vec![output("EnvironmentSecurityGroup")].into_iter().filter(|s| !s.is_empty()).collect();
        if placement.cluster.is_empty() || placement.subnets.is_empty() {
            return Err(Failure::new(format!("environment `{env}`'s stack has no cluster or subnets in its outputs"))
                .hint(format!("redeploy it: `ferry env deploy -n {env}`"))
                .into());
        }
        placement.app = app.to_string();
        placement.env = env.clone();
    } else if placement.subnets.is_empty() {
        // --default (or --cluster alone): the default VPC's default subnets.
        let (subnets, group) = default_vpc(session).await?;
        placement.subnets = subnets;
        placement.security_groups.extend(group);
    } else if args.security_groups.is_empty() {
        placement.security_groups.extend(subnet_vpc_default_group(session, &placement.subnets[0]).await?);
    }
    for extra in &args.security_groups {
        if !placement.security_groups.contains(extra) {
            placement.security_groups.push(extra.clone());
        }
    }
    Ok(placement)
}

/// The default VPC's default-for-AZ subnets and its `default` security group.
async fn default_vpc(session: &Session) -> Result<(Vec<String>, Option<String>)> {
    let (vpc, subnets) = task::default_vpc(&session.aws).await?.ok_or_else(|| {
        Failure::new("this account and region have no default VPC")
            .hint("pass --env <environment>, or --subnets and --security-groups")
    })?;
    if subnets.is_empty() {
        return Err(Failure::new(format!("the default VPC {vpc} has no default subnets"))
            .hint("pass --subnets")
            .into());
    }
    Ok((subnets, task::vpc_default_group(&session.aws, &vpc).await?))
}

async fn subnet_vpc_default_group(session: &Session, subnet: &str) -> Result<Option<String>> {
    match task::subnet_vpc(&session.aws, subnet).await? {
        Some(vpc) => Ok(task::vpc_default_group(&session.aws, &vpc).await?),
        None => Err(Failure::new(format!("subnet {subnet} does not exist")).hint("check --subnets").into()),
    }
}

/// The cluster a task group runs in: the environment's, or `default`.
async fn cluster_of(session: &Session, env: Option<&str>, app: Option<String>, cx: &CommandContext) -> Result<String> {
    let Some(env) = env else { return Ok("default".into()) };
    let app = cx.app_name(app)?;
    let stack = naming::environment_stack(&app, env);
    let state = ferry_aws::cfn::CloudFormationApi::describe_stack(&session.cfn, &stack).await?;
    state.and_then(|s| s.outputs.get("ClusterId").cloned()).filter(|c| !c.is_empty()).ok_or_else(|| {
        Failure::new(format!("environment `{env}` of `{app}` is not deployed"))
            .hint(format!("deploy it: `ferry env deploy -n {env}`"))
            .into()
    })
}

pub fn exec(args: TaskExec, cx: &CommandContext) -> Result<()> {
    if args.env.is_none() && !args.default {
        return Err(Failure::new("which cluster do the tasks run in?")
            .hint("pass --env <environment>, or --default")
            .into());
    }
    cx.block_on(async {
        let plugin = super::exec::require_plugin()?;
        let session = session(false).await?;
        let cluster = cluster_of(&session, args.env.as_deref(), args.app.clone(), cx).await?;
        let api = EcsTasks::new(session.aws.ecs());
        let arns = api.list_tasks(&cluster, Some(&task::family(&args.name)), None).await?;
        let tasks = api.describe_tasks(&cluster, &arns).await?;
        let chosen = super::exec::pick_task(&tasks, args.task_id.as_deref(), &format!("task group `{}`", args.name))?;
        let container = chosen.containers.first().map(|c| c.name.clone()).unwrap_or_else(|| args.name.clone());
        cx.out.status("Exec", &format!("`{}` in task {} of {}", args.command, chosen.id(), args.name));
        super::exec::hand_over(&session, &plugin, &cluster, chosen, &container, &args.command).await
    })
}

pub fn delete(args: TaskDelete, cx: &CommandContext) -> Result<()> {
    if args.env.is_none() && !args.default {
        return Err(Failure::new("which cluster did the tasks run in?")
            .hint("pass --env <environment>, or --default")
            .into());
    }
    let question = format!("Stop the running tasks of `{}` and delete its stack, repository and logs?", args.name);
    if !confirm_or_yes(&cx.out, &question, args.yes)? {
        return Ok(());
    }
    let view = DeployView::new(false);
    cx.block_on(async {
        let session = session(false).await?;
        let stack = task::stack_name(&args.name);
        let exists = ferry_aws::cfn::CloudFormationApi::describe_stack(&session.cfn, &stack).await?.is_some();
        let cluster = cluster_of(&session, args.env.as_deref(), args.app.clone(), cx).await;
        let api = EcsTasks::new(session.aws.ecs());
        let mut stopped = 0;
        if let Ok(cluster) = &cluster {
            for arn in api.list_tasks(cluster, Some(&task::family(&args.name)), None).await.unwrap_or_default() {
                api.stop_task(cluster, &arn, "Task stopped because the task group was deleted (ferry task delete)")
                    .await?;
                stopped += 1;
            }
        }
        if !exists && stopped == 0 {
            return Err(Failure::new(format!("there is no task group `{}`", args.name))
                .hint(format!("its stack {stack} does not exist in this account and region"))
                .into());
        }
        if stopped > 0 {
            cx.out.status("Stopped", &format!("{stopped} running task(s) of {}", args.name));
        }
        let emptied = task::empty_repository(&session.aws.ecr(), &task::repository(&args.name)).await?;
        if emptied > 0 {
            cx.out.status("Emptied", &format!("{} ({emptied} image(s))", task::repository(&args.name)));
        }
        // The env files' bucket (versioned) must be empty for the stack to go.
        let state = ferry_aws::cfn::CloudFormationApi::describe_stack(&session.cfn, &stack).await?;
        if let Some(bucket) = state.and_then(|s| s.outputs.get(task::BUCKET_OUTPUT).cloned()) {
            let emptied = ferry_aws::upload::empty_bucket(&session.aws, &bucket).await?;
            if emptied > 0 {
                cx.out.status("Emptied", &format!("s3://{bucket} ({emptied} env file version(s))"));
            }
        }
        if exists {
            view.start(&stack, "deleting");
            session.delete_stack(&stack, &mut |e| view.event(&e)).await?;
            view.finish(&stack, "deleted", true);
        }
        Ok(())
    })
}

/// `--generate-cmd`: a `ferry task run` command with every flag filled from
/// a deployed service or job's task definition.
fn generate_cmd(source: &str, args: &TaskRun, cx: &CommandContext) -> Result<()> {
    let parts: Vec<&str> = source.split('/').collect();
    cx.block_on(async {
        let session = session(false).await?;
        let ecs = session.aws.ecs();
        let (definition, placement_flags) = match parts.as_slice() {
            [app, env, name] => {
                let stack = naming::workload_stack(app, env, name);
                let resources = session.cfn.stack_resources(&stack).await?;
                let definition = resources
                    .iter()
                    .find(|r| r.resource_type == "AWS::ECS::TaskDefinition")
                    .map(|r| r.physical_id.clone())
                    .ok_or_else(|| {
                        Failure::new(format!("`{name}` in `{env}` has no ECS task definition"))
                            .hint("give a deployed ECS service or job as <app>/<env>/<name>")
                    })?;
                (definition, format!("--app {app} --env {env}"))
            }
            [cluster, service] => {
                let definition = task::service_task_definition(&ecs, cluster, service)
                    .await?
                    .ok_or_else(|| Failure::new(format!("cluster {cluster} has no service {service}")))?;
                (definition, format!("--cluster {cluster}"))
            }
            _ => {
                return Err(Failure::new(format!(
                    "--generate-cmd `{source}` is neither <app>/<env>/<name> nor <cluster>/<service>"
                ))
                .hint("e.g. --generate-cmd chat/test/api")
                .into());
            }
        };
        let def = task::describe_definition(&ecs, &definition).await?;
        let group = args.group.clone().unwrap_or_else(|| parts.last().copied().unwrap_or("task").to_string());
        cx.out.data(&generated_command(&group, &def, &placement_flags));
        Ok(())
    })
}

/// The command `--generate-cmd` prints, one flag a line.
fn generated_command(group: &str, def: &task::DefinitionSummary, placement: &str) -> String {
    let quote = |s: &str| {
        if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:=@,".contains(c)) {
            s.to_string()
        } else {
            format!("'{}'", s.replace('\'', r"'\''"))
        }
    };
    let join = |pairs: &[(String, String)]| pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",");
    let mut command = vec!["ferry task run".to_string(), format!("--task-group-name {group}")];
    let mut flag = |name: &str, value: Option<String>| {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            command.push(format!("--{name} {}", quote(&value)));
        }
    };
    flag("image", def.image.clone());
    flag("cpu", def.cpu.clone());
    flag("memory", def.memory.clone());
    flag("task-role", def.task_role.clone());
    flag("execution-role", def.execution_role.clone());
    flag("env-vars", Some(join(&def.env_vars)));
    flag("secrets", Some(join(&def.secrets)));
    flag("command", Some(def.command.join(" ")));
    flag("entrypoint", Some(def.entrypoint.join(" ")));
    command.push(placement.to_string());
    command.join(" \\\n  ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_pass_through() {
        let err: anyhow::Error = Failure::new("task failed").because(Exit::new(3, "exit code 3")).into();
        assert_eq!(exit_code(&err), 3);
        assert_eq!(exit_code(&anyhow!("other")), 1);
        assert_eq!(exit_code(&Exit::new(300, "x").into()), 1);
        assert_eq!(exit_code(&Exit::new(0, "x").into()), 1, "a failure never exits 0");
    }

    #[test]
    fn generated_commands_quote_what_a_shell_would_split() {
        let def = task::DefinitionSummary {
            image: Some("repo/api@sha256:abc".into()),
            cpu: Some("256".into()),
            env_vars: vec![("A".into(), "1".into()), ("B".into(), "two words".into())],
            command: vec!["python".into(), "app.py".into()],
            ..Default::default()
        };
        let text = generated_command("api", &def, "--app chat --env test");
        assert_eq!(
            text,
            "ferry task run \\\n  --task-group-name api \\\n  --image repo/api@sha256:abc \\\n  --cpu 256 \\\n  --env-vars 'A=1,B=two words' \\\n  --command 'python app.py' \\\n  --app chat --env test"
        );
    }
}
