//! `env deploy`, `svc deploy`, `job deploy` and `deploy`: render, make sure
//! the app's regional resources are there, then deploy each stack with a
//! live view; Ctrl-C undoes a half-made change after confirming.

use super::aws::{block_on, confirm, report_calls, session};
use crate::cli::{DeployAll, DeployFlags, EnvDeploy, WorkloadDeploy};
use crate::output::{DeployView, Output};
use crate::render::{self, EnvRenderSetup, ImageOptions, RenderedWorkload};
use anyhow::{Context, Result, anyhow, bail};
use ferry_aws::app::Session;
use ferry_aws::cfn::CloudFormationApi;
use ferry_aws::deploy::{DeployEvent, DeployOutcome, Deployable};
use ferry_aws::metadata::{EnvRecord, WorkloadRecord};
use ferry_core::{Workspace, naming};
use ferry_runtime::Registry;
use indexmap::IndexMap;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

/// Everything one deploy command works with.
pub(super) struct Ctx {
    pub(super) ws: Workspace,
    pub(super) registry: Registry,
    pub(super) session: Session,
    pub(super) view: DeployView,
    pub(super) flags: DeployFlags,
    pub(super) out: Output,
}

pub fn env(args: EnvDeploy, out: &Output) -> Result<()> {
    let ws = super::workspace(args.app.as_deref())?;
    block_on(async {
        let ctx = Ctx {
            registry: render::registry()?,
            session: session(args.flags.force).await?,
            view: DeployView::new(args.flags.json),
            flags: args.flags.clone(),
            out: out.clone(),
            ws,
        };
        let result = deploy_env(&ctx, &args.name, true).await;
        report_calls(&ctx.session, out, ctx.flags.json);
        result.map(|_| ())
    })
}

pub fn workload(args: WorkloadDeploy, out: &Output) -> Result<()> {
    let ws = super::workspace(args.app.as_deref())?;
    if !ws.workload_names().contains(&args.name) {
        bail!(
            "no service or job named `{}` in this workspace\nhint: workloads here: {}",
            args.name,
            ws.workload_names().join(", ")
        );
    }
    block_on(async {
        let ctx = Ctx {
            registry: render::registry()?,
            session: session(args.flags.force).await?,
            view: DeployView::new(args.flags.json),
            flags: args.flags.clone(),
            out: out.clone(),
            ws,
        };
        let result = async {
            let env = ctx.session.require_env(&ctx.ws.app, &args.env).await?;
            let rendered = render_for(&ctx, &env, &args.name, args.tag.as_deref())?;
            deploy_workload(&ctx, &env, rendered, true).await
        }
        .await;
        report_calls(&ctx.session, out, ctx.flags.json);
        result.map(|_| ())
    })
}

pub fn everything(args: DeployAll, out: &Output) -> Result<()> {
    let ws = super::workspace(args.app.as_deref())?;
    block_on(async {
        let ctx = Arc::new(Ctx {
            registry: render::registry()?,
            session: session(args.flags.force).await?,
            view: DeployView::new(args.flags.json),
            flags: args.flags.clone(),
            out: out.clone(),
            ws,
        });
        let result = async {
            let env = deploy_env(&ctx, &args.env, true).await?;
            let names = ctx.ws.workload_names();
            // Render everything first: a bad manifest stops the deploy before any stack changes.
            let mut rendered = Vec::new();
            let mut problems = Vec::new();
            for name in &names {
                match render_for(&ctx, &env, name, args.tag.as_deref()) {
                    Ok(r) => rendered.push(r),
                    Err(e) => problems.push(e),
                }
            }
            if let Some(first) = problems.into_iter().next() {
                return Err(first);
            }
            let limit = Arc::new(tokio::sync::Semaphore::new(args.concurrency as usize));
            let env = Arc::new(env);
            let mut tasks = tokio::task::JoinSet::new();
            for r in rendered {
                let (ctx, env, limit) = (ctx.clone(), env.clone(), limit.clone());
                tasks.spawn(async move {
                    let _permit = limit.acquire_owned().await;
                    let name = r.name.clone();
                    (name, deploy_workload(&ctx, &env, r, false).await)
                });
            }
            let mut failed = Vec::new();
            while let Some(joined) = tasks.join_next().await {
                let (name, result) = joined.map_err(|e| anyhow!("a deploy task failed: {e}"))?;
                if let Err(e) = result {
                    failed.push(format!("{name}: {e:#}"));
                }
            }
            if !failed.is_empty() {
                bail!("{} of {} workloads failed to deploy:\n{}", failed.len(), names.len(), failed.join("\n"));
            }
            Ok(())
        }
        .await;
        report_calls(&ctx.session, out, ctx.flags.json);
        result
    })
}

/// Renders and deploys the environment stack, then records it in Copilot's layout.
async fn deploy_env(ctx: &Ctx, env: &str, confirm_abort: bool) -> Result<EnvRecord> {
    let app = ctx.ws.app.clone();
    let app_record = ctx.session.require_app(&app).await?;
    let setup = EnvRenderSetup::load(&ctx.ws, &app, env)?;
    let rendered = render::render_environment(&ctx.ws, &ctx.registry, &setup)?;
    let account = app_record.account.clone();
    let tags = app_tags(&app_record);
    ctx.session.ensure_regional(&app, &account, &[], &tags).await?;
    let mut stack = rendered.stack;
    stack.tags.extend(tags);
    let deployable = Deployable {
        name: stack.name.clone(),
        template: stack.template,
        parameters: stack.parameters,
        tags: stack.tags,
        description: format!("environment {env} of application {app}"),
    };
    run_stack(ctx, &deployable, rendered.descriptions, confirm_abort).await?;
    let outputs = ctx.session.cfn.describe_stack(&deployable.name).await?.map(|s| s.outputs).unwrap_or_default();
    let region = ctx.session.region.clone();
    let role = |output: &str, name: &str| {
        outputs.get(output).cloned().unwrap_or_else(|| format!("arn:aws:iam::{account}:role/{app}-{env}-{name}"))
    };
    let record = EnvRecord {
        app: app.clone(),
        name: env.to_string(),
        region: region.clone(),
        account_id: account.clone(),
        registry_url: format!("{account}.dkr.ecr.{region}.amazonaws.com"),
        execution_role_arn: role("CFNExecutionRoleARN", "CFNExecutionRole"),
        manager_role_arn: role("EnvironmentManagerRoleARN", "EnvManagerRole"),
        // Keep what Copilot (or a newer ferry) stored that this version does not know.
        extra: ctx.session.require_env(&app, env).await.map(|r| r.extra).unwrap_or_default(),
    };
    ctx.session.meta.put_env(&record).await?;
    Ok(record)
}

fn app_tags(app: &ferry_aws::metadata::AppRecord) -> IndexMap<String, String> {
    app.tags.clone().unwrap_or_default()
}

/// Renders a workload for an environment with its image resolved.
fn render_for(ctx: &Ctx, env: &EnvRecord, name: &str, tag: Option<&str>) -> Result<RenderedWorkload> {
    let setup = EnvRenderSetup::load(&ctx.ws, &ctx.ws.app, &env.name)?;
    // `--tag` names the image of workloads that build theirs; `image.location` stays as written.
    let rendered = render::render_workload(&ctx.ws, &ctx.registry, &setup, name, &ImageOptions::default())?;
    let needs_image = rendered.stack.parameters.get("ContainerImage").is_some_and(|uri| uri.is_empty());
    if needs_image && let Some(tag) = tag {
        let image = ImageOptions { tag: Some(tag.to_string()), registry: Some(env.registry_url.clone()) };
        return render::render_workload(&ctx.ws, &ctx.registry, &setup, name, &image);
    }
    if needs_image {
        bail!(
            "`{name}` builds its image (`image.build`), and ferry cannot build images yet\nhint: push an image to {}/{} and pass its tag with --tag, or set `image.location` in copilot/{name}/manifest.yml",
            env.registry_url,
            naming::ecr_repository(&ctx.ws.app, name)
        );
    }
    Ok(rendered)
}

/// Deploys one rendered workload and records it.
async fn deploy_workload(
    ctx: &Ctx,
    env: &EnvRecord,
    rendered: RenderedWorkload,
    confirm_abort: bool,
) -> Result<DeployOutcome> {
    let app = &ctx.ws.app;
    let kind = ctx.ws.load_workload(&rendered.name)?.kind.clone();
    let app_record = ctx.session.require_app(app).await?;
    let tags = app_tags(&app_record);
    let regional =
        ctx.session.ensure_regional(app, &env.account_id, std::slice::from_ref(&rendered.name), &tags).await?;
    let mut stack = rendered.stack;
    stack.tags.extend(tags);
    if let Some(addons) = &rendered.addons_template {
        let bucket = regional.bucket.ok_or_else(|| {
            anyhow!(
                "`{}` has addons, and the app's artifact bucket is not known\nhint: run `ferry app init` again to repair the app's regional resources",
                rendered.name
            )
        })?;
        let url = ctx.session.upload_template(&bucket, &rendered.name, addons).await?;
        stack.parameters.insert("AddonsTemplateURL".into(), url);
    }
    let deployable = Deployable {
        name: stack.name.clone(),
        template: stack.template,
        parameters: stack.parameters,
        tags: stack.tags,
        description: format!("{kind} {} in environment {} of application {app}", rendered.name, env.name),
    };
    let outcome = run_stack(ctx, &deployable, rendered.descriptions, confirm_abort).await?;
    let extra = ctx
        .session
        .meta
        .workloads(app)
        .await?
        .into_iter()
        .find(|w| w.name == rendered.name)
        .map(|w| w.extra)
        .unwrap_or_default();
    let record = WorkloadRecord { app: app.clone(), name: rendered.name.clone(), kind, extra };
    ctx.session.meta.put_workload(&record).await?;
    Ok(outcome)
}

const NOT_STARTED: u8 = 0;
const CREATING: u8 = 1;
const UPDATING: u8 = 2;

/// Deploys one stack with progress; on Ctrl-C undoes what CloudFormation started.
pub(super) async fn run_stack(
    ctx: &Ctx,
    stack: &Deployable,
    descriptions: HashMap<String, String>,
    confirm_abort: bool,
) -> Result<DeployOutcome> {
    if ctx.flags.diff && !show_diff(ctx, stack).await? {
        bail!("deploy of {} cancelled; nothing was changed", stack.name);
    }
    let view = &ctx.view;
    view.describe(&stack.name, descriptions);
    view.start(&stack.name, "deploying");
    let deployer = ctx.session.deployer();
    let phase = AtomicU8::new(NOT_STARTED);
    let mut observe = |event: DeployEvent| {
        if let DeployEvent::Started { create, .. } = &event {
            phase.store(if *create { CREATING } else { UPDATING }, Ordering::SeqCst);
        }
        view.event(&event);
    };
    let result = tokio::select! {
        result = deployer.deploy(stack, &mut observe) => result,
        _ = tokio::signal::ctrl_c() => {
            view.finish(&stack.name, "interrupted", false);
            return Err(interrupted(ctx, stack, phase.load(Ordering::SeqCst), confirm_abort).await);
        }
    };
    match result {
        Ok(outcome) => {
            let label = match outcome {
                DeployOutcome::UpToDate => "up to date",
                DeployOutcome::Created => "created",
                DeployOutcome::Updated => "updated",
            };
            view.finish(&stack.name, label, true);
            Ok(outcome)
        }
        Err(e) => {
            view.finish(&stack.name, "failed", false);
            Err(anyhow::Error::new(e).context(format!("deploy of stack {} failed", stack.name)))
        }
    }
}

/// After Ctrl-C: a create is deleted, an update cancelled (after asking on a terminal).
async fn interrupted(ctx: &Ctx, stack: &Deployable, phase: u8, confirm_abort: bool) -> anyhow::Error {
    let deployer = ctx.session.deployer();
    let (create, question) = match phase {
        CREATING => (true, format!("Delete the half-created stack {}?", stack.name)),
        UPDATING => (false, format!("Cancel the update of {} (CloudFormation rolls it back)?", stack.name)),
        _ => return anyhow!("interrupted before CloudFormation started changing {}; nothing was changed", stack.name),
    };
    let go = if confirm_abort { confirm(&question, true).unwrap_or(true) } else { true };
    if !go {
        return anyhow!(
            "interrupted; {} is still being {} in CloudFormation\nhint: follow it with `aws cloudformation describe-stacks --stack-name {}`",
            stack.name,
            if create { "created" } else { "updated" },
            stack.name
        );
    }
    match deployer.abort(&stack.name, create).await {
        Ok(()) if create => anyhow!("interrupted: deleting the half-created stack {}", stack.name),
        Ok(()) => anyhow!("interrupted: the update of {} is cancelled and rolls back", stack.name),
        Err(e) => anyhow!(
            "interrupted, and undoing the change failed: {e}\nhint: {} it in the CloudFormation console",
            if create { "delete" } else { "cancel the update of" }
        ),
    }
}

/// Prints the template and parameter diff against the deployed stack and
/// asks whether to go on. False means stop.
async fn show_diff(ctx: &Ctx, stack: &Deployable) -> Result<bool> {
    let cfn = &ctx.session.cfn;
    let live = cfn.describe_stack(&stack.name).await?;
    let (old_template, old_parameters) = match &live {
        Some(state) => {
            let body = cfn.get_template(&stack.name).await?;
            let value: serde_json::Value = serde_json::from_str(&body).unwrap_or(serde_json::Value::String(body));
            (value, state.parameters.clone())
        }
        None => (serde_json::Value::Null, IndexMap::new()),
    };
    let pretty = |v: &serde_json::Value| serde_json::to_string_pretty(v).unwrap_or_default();
    let old = format!("{}\n--- parameters\n{}", pretty(&old_template), pretty(&serde_json::json!(old_parameters)));
    let new = format!("{}\n--- parameters\n{}", pretty(&stack.template), pretty(&serde_json::json!(stack.parameters)));
    let out = &ctx.out;
    if old == new {
        out.status("Unchanged", &format!("{}: the template and parameters match the deployed stack", stack.name));
        return Ok(true);
    }
    out.diff(&format!("{} (deployed)", stack.name), &format!("{} (new)", stack.name), &old, &new);
    if ctx.flags.yes {
        return Ok(true);
    }
    match confirm("Continue with the deployment?", false) {
        Some(answer) => Ok(answer),
        None => Err(anyhow!("--diff asks before deploying, and there is no terminal to ask on"))
            .context("hint: add --yes to deploy after showing the diff"),
    }
}
