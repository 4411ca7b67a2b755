//! `env deploy`, `svc deploy`, `job deploy` and `deploy`: render, make sure
//! the app's regional resources are there, then deploy each stack with a
//! live view; Ctrl-C undoes a half-made change after confirming.

use super::aws::{report_calls, session};
use super::image;
use crate::cli::{DeployAll, DeployFlags, EnvDeploy, ImageFlags, WorkloadDeploy};
use crate::context::CommandContext;
use crate::output::{DeployView, Output};
use crate::render::{self, EnvRenderSetup, ImageOptions, PushedImages, RenderedWorkload};
use anyhow::{Context, Result, anyhow, bail};
use ferry_aws::app::Session;
use ferry_aws::cfn::CloudFormationApi;
use ferry_aws::deploy::{DeployEvent, DeployOutcome, Deployable, Undo};
use ferry_aws::lease::{self, Holder, Lease, LeaseError, WhenHeld};
use ferry_aws::metadata::{EnvRecord, WorkloadRecord};
use ferry_core::{Failure, Workspace, naming};
use ferry_runtime::Registry;
use indexmap::IndexMap;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

/// Everything one deploy command works with.
pub(super) struct Ctx {
    pub(super) ws: Workspace,
    pub(super) registry: Arc<Registry>,
    pub(super) session: Session,
    pub(super) view: DeployView,
    pub(super) flags: DeployFlags,
    pub(super) out: Output,
    /// While the command lives, Ctrl-C / SIGTERM cancel it instead of
    /// killing it mid-change (held, never read).
    #[allow(dead_code)]
    pub(super) cancel: crate::cancel::Guard,
}

impl Ctx {
    /// The deploy world of one command: its registry, an AWS session with
    /// the command's `--force`, and the progress view.
    pub(super) async fn new(cx: &CommandContext, ws: Workspace, flags: &DeployFlags) -> Result<Ctx> {
        let mut flags = flags.clone();
        // Copilot's `--diff-yes`: the diff, and no question after it.
        if flags.diff_yes {
            flags.diff = true;
            flags.yes = true;
        }
        // Checked before anything is touched.
        super::compat::parse_tags("--resource-tags", &flags.resource_tags)?;
        let flags = &flags;
        // Registry credentials a killed earlier run left behind.
        ferry_image::sweep_registry_credentials(None);
        Ok(Ctx {
            registry: cx.registry()?,
            session: session(flags.force).await?,
            view: DeployView::new(flags.json),
            flags: flags.clone(),
            out: cx.out.clone(),
            ws,
            cancel: crate::cancel::guard(),
        })
    }

    /// Takes environment `env`'s deploy lease, so concurrent runs on one
    /// environment go one after the other (`--wait-for-lock`) or the later
    /// one refuses, naming the run it found.
    pub(super) async fn lock(&self, env: &str) -> Result<Lease> {
        let when_held = if self.flags.wait_for_lock { WhenHeld::Wait } else { WhenHeld::Refuse };
        let command =
            std::iter::once("ferry".to_string()).chain(std::env::args().skip(1)).collect::<Vec<_>>().join(" ");
        let view = &self.view;
        let on_wait = |holder: &Holder| {
            view.emit(serde_json::json!({"event": "lock_waiting", "env": env, "holder": holder}));
            view.line(format!("{:>12} for {} (environment `{env}`)", "Waiting", holder.describe()));
        };
        match lease::acquire(&self.session.aws, &self.ws.app, env, &command, when_held, &on_wait).await {
            Ok(lease) => {
                view.emit(serde_json::json!({"event": "lock_acquired", "env": env, "parameter": lease::parameter_name(&self.ws.app, env)}));
                Ok(lease)
            }
            Err(LeaseError::Held(held)) => Err(anyhow::Error::new(held)),
            Err(LeaseError::Aws(e)) => {
                Err(anyhow::Error::new(e).context(format!("could not take the deploy lock of environment `{env}`")))
            }
        }
    }

    /// Gives the lease back; a failure to is only worth a line, since the
    /// lease lapses by itself.
    pub(super) async fn unlock(&self, lease: Lease) {
        let lapses = lease.holder().expires_at;
        if let Err(e) = lease.release().await {
            self.view.line(format!(
                "warning: the deploy lock was not released ({e}); it lapses by itself at {lapses} (Unix time)"
            ));
        }
        self.view.emit(serde_json::json!({"event": "lock_released"}));
    }
}

pub fn env(args: EnvDeploy, cx: &CommandContext) -> Result<()> {
    let out = &cx.out;
    let ws = cx.workspace_to_act_on(args.app.as_deref())?;
    cx.block_on(async {
        let ctx = Ctx::new(cx, ws, &args.flags).await?;
        let lease = ctx.lock(&args.name).await?;
        let result = deploy_env(&ctx, &args.name, true).await;
        ctx.unlock(lease).await;
        report_calls(&ctx.session, out, ctx.flags.json);
        result.map(|_| ())
    })
}

pub fn workload(args: WorkloadDeploy, cx: &CommandContext) -> Result<()> {
    let out = &cx.out;
    let ws = cx.workspace_to_act_on(args.app.as_deref())?;
    if !ws.workload_names().contains(&args.name) {
        return Err(Failure::new(format!("no service or job named `{}` in this workspace", args.name))
            .hint(format!("workloads here: {}", ws.workload_names().join(", ")))
            .into());
    }
    cx.block_on(async {
        let ctx = Ctx::new(cx, ws, &args.flags).await?;
        let lease = ctx.lock(&args.env).await?;
        let result = async {
            let env = ctx.session.require_env(&ctx.ws.app, &args.env).await?;
            let setup = render::env_setup(&ctx.ws, &ctx.ws.app, &env.name)?;
            // A bad manifest stops the deploy before a (slow) image build.
            render_for(&ctx, &setup, &env, &args.name, None, false)?;
            let names = std::slice::from_ref(&args.name);
            let shared = Shared::load(&ctx, &env, names).await?;
            let images = resolve_images(&ctx, &env, names, &args.image, 1).await?;
            let setup = with_lookups(&ctx, setup, names).await?;
            let rendered = render_for(&ctx, &setup, &env, &args.name, images.get(&args.name), true)?;
            deploy_workload(&ctx, &env, &shared, rendered, true).await
        }
        .await;
        ctx.unlock(lease).await;
        report_calls(&ctx.session, out, ctx.flags.json);
        result.map(|_| ())
    })
}

/// One workload deployed as `svc deploy` deploys it, with `adjust` given
/// the rendered template and parameters first: `svc migrate --deploy` keeps
/// the old service's resources beside the new ones for a first pass.
pub(super) async fn workload_adjusted(
    ctx: &Ctx,
    env: &EnvRecord,
    name: &str,
    image: &ImageFlags,
    adjust: &dyn Fn(&mut serde_json::Value, &mut IndexMap<String, String>),
) -> Result<DeployOutcome> {
    let setup = render::env_setup(&ctx.ws, &ctx.ws.app, &env.name)?;
    render_for(ctx, &setup, env, name, None, false)?;
    let names = [name.to_string()];
    let shared = Shared::load(ctx, env, &names).await?;
    let images = resolve_images(ctx, env, &names, image, 1).await?;
    let setup = with_lookups(ctx, setup, &names).await?;
    let mut rendered = render_for(ctx, &setup, env, name, images.get(name), true)?;
    adjust(&mut rendered.stack.template, &mut rendered.stack.parameters);
    deploy_workload(ctx, env, &shared, rendered, true).await
}

/// `deploy -n a/1 -n b/2 -n c/1 [--all]`: the workloads in groups deployed
/// one after the other, lowest priority number first (names without one
/// deploy after the numbered ones); `--all` adds every other workload as a
/// last group. Without names: every workload, one group.
fn deploy_groups(ws: &Workspace, names: &[String], all: bool) -> Result<Vec<Vec<String>>> {
    let known = ws.workload_names();
    if names.is_empty() {
        return Ok(vec![known]);
    }
    let mut by_priority: std::collections::BTreeMap<u32, Vec<String>> = std::collections::BTreeMap::new();
    for entry in names {
        let (name, priority) = match entry.split_once('/') {
            Some((name, n)) => (
                name,
                n.parse::<u32>().map_err(|_| {
                    Failure::new(format!("--name `{entry}`: `{n}` is not a priority number"))
                        .hint("--name api/1 --name worker/2 (lower numbers deploy first)")
                })?,
            ),
            None => (entry.as_str(), u32::MAX),
        };
        if !known.iter().any(|k| k == name) {
            return Err(Failure::new(format!("no service or job named `{name}` in this workspace"))
                .hint(format!("workloads here: {}", known.join(", ")))
                .into());
        }
        by_priority.entry(priority).or_default().push(name.to_string());
    }
    let mut groups: Vec<Vec<String>> = by_priority.into_values().collect();
    if all {
        let named: Vec<&String> = groups.iter().flatten().collect();
        let rest: Vec<String> = known.iter().filter(|k| !named.contains(k)).cloned().collect();
        if !rest.is_empty() {
            groups.push(rest);
        }
    }
    Ok(groups)
}

pub fn everything(args: DeployAll, cx: &CommandContext) -> Result<()> {
    let out = &cx.out;
    let ws = cx.workspace_to_act_on(args.app.as_deref())?;
    let groups = deploy_groups(&ws, &args.name, args.all)?;
    // Copilot deploys the environment only when asked (--deploy-env); ferry's
    // own `deploy -e ENV` (no names) always did.
    let with_env = args.deploy_env.unwrap_or(args.name.is_empty() && !args.all);
    if args.init_env && !ws.copilot_dir.join("environments").join(&args.env).join("manifest.yml").is_file() {
        super::init::environment(Some(args.env.clone()), args.app.clone(), cx)?;
    }
    cx.block_on(async {
        let ctx = Arc::new(Ctx::new(cx, ws, &args.flags).await?);
        let lease = ctx.lock(&args.env).await?;
        let result = async {
            let env = if with_env || (args.init_env && ctx.session.require_env(&ctx.ws.app, &args.env).await.is_err()) {
                deploy_env(&ctx, &args.env, true).await?
            } else {
                ctx.session.require_env(&ctx.ws.app, &args.env).await?
            };
            let setup = render::env_setup(&ctx.ws, &ctx.ws.app, &env.name)?;
            let names: Vec<String> = groups.iter().flatten().cloned().collect();
            // Render everything first: a bad manifest stops the deploy before
            // any image build or stack change; images are built before any
            // workload stack changes too.
            let mut problems = Vec::new();
            for name in &names {
                if let Err(e) = render_for(&ctx, &setup, &env, name, None, false) {
                    problems.push(e);
                }
            }
            if let Some(first) = problems.into_iter().next() {
                return Err(first);
            }
            // Every workload's repository in one StackSet update, before the
            // concurrent deploys (concurrent StackSet updates would collide).
            let shared = Arc::new(Shared::load(&ctx, &env, &names).await?);
            let images = resolve_images(&ctx, &env, &names, &args.image, args.concurrency as usize).await?;
            let setup = with_lookups(&ctx, setup, &names).await?;
            let mut rendered = HashMap::new();
            for name in &names {
                rendered.insert(name.clone(), render_for(&ctx, &setup, &env, name, images.get(name), true)?);
            }
            if crate::cancel::is_cancelled() {
                return Err(interrupted_before_workloads(&env.name, &names));
            }
            let limit = Arc::new(tokio::sync::Semaphore::new(args.concurrency as usize));
            let env = Arc::new(env);
            for group in &groups {
                let mut tasks = tokio::task::JoinSet::new();
                for r in group.iter().filter_map(|name| rendered.remove(name)) {
                    let (ctx, env, shared, limit) = (ctx.clone(), env.clone(), shared.clone(), limit.clone());
                    tasks.spawn(async move {
                        let _permit = limit.acquire_owned().await;
                        let name = r.name.clone();
                        // Queued work does not start once the command is interrupted.
                        if crate::cancel::is_cancelled() {
                            return (name.clone(), Err(not_started(&name)));
                        }
                        (name, deploy_workload(&ctx, &env, &shared, r, false).await)
                    });
                }
                let mut failed = Vec::new();
                let mut never_started = Vec::new();
                while let Some(joined) = tasks.join_next().await {
                    let (name, result) = joined.map_err(|e| anyhow!("a deploy task failed: {e}"))?;
                    match result {
                        Err(e) if e.downcast_ref::<NotStarted>().is_some() => never_started.push(name),
                        Err(e) => failed.push(format!("{name}: {}", crate::output::inline(&e))),
                        Ok(_) => {}
                    }
                }
                never_started.sort();
                if crate::cancel::is_cancelled() {
                    let mut what = failed.clone();
                    if !never_started.is_empty() {
                        what.push(format!("not started (nothing changed): {}", never_started.join(", ")));
                    }
                    ctx.view.emit(
                    serde_json::json!({"event": "interrupted", "not_started": never_started, "interrupted": failed}),
                );
                    return Err(Failure::new(format!(
                        "interrupted; environment `{}` and the workloads not named here are deployed:\n{}",
                        env.name,
                        what.join("\n")
                    ))
                    .hint(format!("run `ferry deploy -e {}` again to finish", env.name))
                    .into());
                }
                if !failed.is_empty() {
                    bail!("{} of {} workloads failed to deploy:\n{}", failed.len(), names.len(), failed.join("\n"));
                }
            }
            Ok(())
        }
        .await;
        ctx.unlock(lease).await;
        report_calls(&ctx.session, out, ctx.flags.json);
        result
    })
}

/// Renders and deploys the environment stack, then records it in Copilot's layout.
async fn deploy_env(ctx: &Ctx, env: &str, confirm_abort: bool) -> Result<EnvRecord> {
    Ok(deploy_env_outcome(ctx, env, confirm_abort).await?.0)
}

/// [`deploy_env`], also saying whether the stack changed (`env upgrade`).
pub(super) async fn deploy_env_outcome(ctx: &Ctx, env: &str, confirm_abort: bool) -> Result<(EnvRecord, bool)> {
    let app = ctx.ws.app.clone();
    let app_record = ctx.session.require_app(&app).await?;
    let mut setup = render::env_setup(&ctx.ws, &app, env)?;
    if let Some(domain) = &setup.app_domain {
        // The environment delegates its zone from the app's and validates its
        // certificate in the app's zones: their IDs, as app init recorded them.
        let zones = ferry_aws::domain::app_zones(&ctx.session.cfn, &app_record, domain).await?;
        setup.domain_hosted_zone_id = Some(zones.domain);
        setup.app_hosted_zone_id = Some(zones.app);
    }
    let rendered = off_async(|| render::render_environment(&ctx.ws, &ctx.registry, &setup))?;
    let account = app_record.account.clone();
    let tags = app_tags(&app_record);
    let regional = ctx.session.ensure_regional(&app, &account, &[], &tags).await?;
    let mut stack = rendered.stack;
    stack.tags.extend(tags);
    // `copilot/environments/addons/`: uploaded as a workload's are.
    let shared = Shared { tags: IndexMap::new(), bucket: regional.bucket, records: HashMap::new() };
    upload_addons(ctx, &shared, "environments", rendered.addons_template.as_ref(), &mut stack.parameters).await?;
    let mut deployable = Deployable {
        name: stack.name.clone(),
        template: stack.template,
        parameters: stack.parameters,
        tags: stack.tags,
        description: format!("environment {env} of application {app}"),
    };
    // CloudFront's certificate (us-east-1), validated in the environment's
    // zone: issued first when the zone exists, else once the stack made it.
    let cdn_certificate = super::domains::environment_certificate(ctx, env, &deployable.template)?;
    if let Some(request) = &cdn_certificate
        && super::domains::certificate_zones_exist(ctx, request).await
    {
        let arn = issue_certificate(ctx, &deployable, request).await?;
        deployable.parameters.insert(request.parameter.clone(), arn);
    }
    let mut changed =
        run_stack(ctx, &deployable, rendered.descriptions.clone(), confirm_abort).await? != DeployOutcome::UpToDate;
    if let Some(request) = &cdn_certificate
        && deployable.parameters.get(&request.parameter).is_none_or(String::is_empty)
    {
        let arn = issue_certificate(ctx, &deployable, request).await?;
        deployable.parameters.insert(request.parameter.clone(), arn);
        changed |= run_stack(ctx, &deployable, rendered.descriptions, confirm_abort).await? != DeployOutcome::UpToDate;
    }
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
    Ok((record, changed))
}

/// Runs a plugin call on a thread of its own, outside the async runtime:
/// plugins run synchronously, and their WASI streams (a panic message on
/// stderr) block on a runtime of their own, which tokio forbids inside
/// async code.
fn off_async<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| s.spawn(f).join()).unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

fn app_tags(app: &ferry_aws::metadata::AppRecord) -> IndexMap<String, String> {
    app.tags.clone().unwrap_or_default()
}

/// Renders a workload for an environment with the image ferry built for it
/// (`None` for workloads that name theirs). `complete` requires an image:
/// the first, checking render of a deploy runs before images are built.
pub(super) fn render_for(
    ctx: &Ctx,
    setup: &EnvRenderSetup,
    env: &EnvRecord,
    name: &str,
    image: Option<&PushedImages>,
    complete: bool,
) -> Result<RenderedWorkload> {
    let options = ImageOptions { pushed: image.cloned(), ..ImageOptions::default() };
    let rendered = off_async(|| render::render_workload(&ctx.ws, &ctx.registry, setup, name, &options))?;
    let no_image = rendered.stack.parameters.get("ContainerImage").is_some_and(|uri| uri.is_empty());
    if complete && no_image {
        return Err(Failure::new(format!("`{name}` has no image to deploy")).hint(format!("set `image.build` (ferry builds and pushes it to {}/{}) or `image.location` in copilot/{name}/manifest.yml", env.registry_url, naming::ecr_repository(&ctx.ws.app, name))).into());
    }
    Ok(rendered)
}

/// Looks up what the manifests of `names` (for this environment, overrides
/// applied) name in the account, as Copilot's deploy step does (see
/// docs/architecture.md "Lookups the host makes at deploy"): the load
/// balancer of `http.alb`, the subnets `network.vpc.placement.subnets.from_tags`
/// selects. Nothing found stops the deploy here, before any stack change.
pub(super) async fn with_lookups(ctx: &Ctx, mut setup: EnvRenderSetup, names: &[String]) -> Result<EnvRenderSetup> {
    let mut vpc_id = None;
    for name in names {
        let manifest = ctx.ws.load_workload(name)?;
        let effective = manifest.effective(&setup.app, &setup.env, &render::process_env)?;
        if let Some(tags) =
            effective.value.pointer("/network/vpc/placement/subnets/from_tags").and_then(|t| t.as_object())
        {
            let tags: Vec<(String, Vec<String>)> = tags
                .iter()
                .map(|(k, v)| {
                    let values = match v {
                        serde_json::Value::Array(items) => items
                            .iter()
                            .map(|i| i.as_str().map(str::to_string).unwrap_or_else(|| i.to_string()))
                            .collect(),
                        serde_json::Value::String(s) => vec![s.clone()],
                        other => vec![other.to_string()],
                    };
                    (k.clone(), values)
                })
                .collect();
            if vpc_id.is_none() {
                let stack = naming::environment_stack(&setup.app, &setup.env);
                let outputs = ctx.session.cfn.describe_stack(&stack).await?.map(|s| s.outputs).unwrap_or_default();
                vpc_id = Some(outputs.get("VpcId").cloned().ok_or_else(|| {
                    Failure::new(format!("the stack {stack} has no VpcId output"))
                        .hint(format!("deploy the environment first (`ferry env deploy -n {}`)", setup.env))
                })?);
            }
            let vpc = vpc_id.as_deref().unwrap_or_default();
            let found = ferry_aws::subnets::from_tags(&ctx.session.aws, vpc, &tags).await.with_context(|| {
                format!(
                    "cannot place `{name}` (network.vpc.placement.subnets.from_tags in copilot/{name}/manifest.yml)"
                )
            })?;
            setup.placement_subnets.insert(name.clone(), found);
        }
        let Some(alb) = effective.value.pointer("/http/alb").and_then(|v| v.as_str()) else { continue };
        let found = ferry_aws::imported_alb::resolve(&ctx.session.aws, alb).await.with_context(|| {
            format!("cannot attach `{name}` to the load balancer `{alb}` (http.alb in copilot/{name}/manifest.yml)")
        })?;
        setup.imported_albs.insert(
            name.clone(),
            ferry_plugin_protocol::ImportedAlb {
                arn: found.arn,
                name: found.name,
                dns_name: found.dns_name,
                hosted_zone_id: found.hosted_zone_id,
                http_listener_arn: found.http_listener_arn,
                https_listener_arn: found.https_listener_arn,
                security_groups: found.security_groups,
            },
        );
    }
    Ok(setup)
}

/// Builds and pushes the images of the workloads in `names` that build theirs,
/// into the repositories [`Shared::load`] made sure the StackSet holds.
pub(super) async fn resolve_images(
    ctx: &Ctx,
    env: &EnvRecord,
    names: &[String],
    flags: &ImageFlags,
    concurrency: usize,
) -> Result<HashMap<String, PushedImages>> {
    image::resolve(&ctx.ws, &ctx.session, env, names, flags, concurrency, &ctx.view, &ctx.out).await
}

/// What every workload deploy of one command needs from AWS, read once:
/// the app's tags, its regional resources (with every deployed workload's
/// repository), and the records ferry keeps fields of.
pub(super) struct Shared {
    tags: IndexMap<String, String>,
    bucket: Option<String>,
    records: HashMap<String, WorkloadRecord>,
}

impl Shared {
    pub(super) async fn load(ctx: &Ctx, env: &EnvRecord, names: &[String]) -> Result<Shared> {
        let app = &ctx.ws.app;
        let tags = app_tags(&ctx.session.require_app(app).await?);
        let regional = ctx.session.ensure_regional(app, &env.account_id, names, &tags).await?;
        let records = ctx.session.meta.workloads(app).await?.into_iter().map(|w| (w.name.clone(), w)).collect();
        Ok(Shared { tags, bucket: regional.bucket, records })
    }
}

/// Uploads a workload's addons template (if it has one) to the app's
/// artifact bucket and points the stack's `AddonsTemplateURL` at it.
pub(super) async fn upload_addons(
    ctx: &Ctx,
    shared: &Shared,
    name: &str,
    addons: Option<&serde_json::Value>,
    parameters: &mut IndexMap<String, String>,
) -> Result<()> {
    let Some(addons) = addons else { return Ok(()) };
    let bucket = shared.bucket.as_ref().ok_or_else(|| {
        anyhow::Error::from(
            Failure::new(format!("`{name}` has addons, and the app's artifact bucket is not known"))
                .hint("run `ferry app init` again to repair the app's regional resources"),
        )
    })?;
    let url = ctx.session.upload_template(bucket, name, addons).await?;
    parameters.insert("AddonsTemplateURL".into(), url);
    Ok(())
}

/// Deploys one rendered workload and records it.
async fn deploy_workload(
    ctx: &Ctx,
    env: &EnvRecord,
    shared: &Shared,
    rendered: RenderedWorkload,
    confirm_abort: bool,
) -> Result<DeployOutcome> {
    let app = &ctx.ws.app;
    let kind = ctx.ws.load_workload(&rendered.name)?.kind.clone();
    let mut stack = rendered.stack;
    stack.tags.extend(shared.tags.clone());
    upload_addons(ctx, shared, &rendered.name, rendered.addons_template.as_ref(), &mut stack.parameters).await?;
    let mut deployable = Deployable {
        name: stack.name.clone(),
        template: stack.template,
        parameters: stack.parameters,
        tags: stack.tags,
        description: format!("{kind} {} in environment {} of application {app}", rendered.name, env.name),
    };
    // Listener rule priorities: kept from the deployed stack, or free ones on the listener.
    if !ferry_aws::priorities::priority_rules(&deployable.template).is_empty() {
        let live = ctx.session.cfn.describe_stack(&deployable.name).await?.map(|s| s.parameters);
        ferry_aws::priorities::assign(
            &ctx.session.aws,
            &deployable.template,
            &mut deployable.parameters,
            live.as_ref(),
        )
        .await?;
    }
    // Check the plugin's host steps against this stack and read the site's
    // files before touching the stack: a bad step or a missing source stops
    // the deploy while nothing has changed.
    if ferry_core::upload::has_legacy_metadata(&deployable.template) {
        ctx.out.warning(
            &ferry_core::Problem::new(format!(
                "the template of `{}` has `Metadata[\"{}\"]`, which ferry ignores",
                rendered.name,
                ferry_core::upload::LEGACY_METADATA_KEY
            ))
            .why("any plugin can write template metadata, so it is not a request the user approved")
            .hint("a plugin asks for uploads with a declared `s3-upload` host step (plugin ABI 0.3); update the plugin")
            .warning(),
        );
    }
    let mut sites = Vec::new();
    for step in &rendered.host_steps {
        match step {
            ferry_plugin_protocol::host_steps::HostStep::S3Upload(plan) => {
                ferry_core::upload::check_against_template(plan, &deployable.template).with_context(|| {
                    format!("refusing the upload `{}` asked for ({})", rendered.name, rendered.plugin)
                })?;
                // Reading and hashing the site's files is blocking work: off the async workers.
                let (owned_plan, root) = (plan.clone(), ctx.ws.root.clone());
                let objects = tokio::task::spawn_blocking(move || ferry_core::upload::collect(&owned_plan, &root))
                    .await
                    .map_err(|e| anyhow!("reading the files of `{}` stopped: {e}", rendered.name))?
                    .with_context(|| format!("cannot prepare the files of `{}`", rendered.name))?;
                sites.push((plan.clone(), objects));
            }
        }
    }
    if let Some(request) = ferry_aws::domain::certificate_request(&deployable.template) {
        ferry_aws::domain::check_certificate_request(&request, ctx.ws.domain.as_deref(), &deployable.template)
            .map_err(|why| {
                anyhow::Error::from(
                    Failure::new(format!(
                        "refusing the certificate `{}` asked for ({}): {why}",
                        rendered.name, rendered.plugin
                    ))
                    .hint("a plugin may ask only for certificates of the application's own domain"),
                )
            })?;
        let arn = issue_certificate(ctx, &deployable, &request).await?;
        deployable.parameters.insert(request.parameter.clone(), arn);
    }
    let custom_domain =
        super::domains::checked(ctx, env, &deployable.name, &rendered.name, &rendered.plugin, &deployable.template)
            .await?;
    let outcome = run_stack(ctx, &deployable, rendered.descriptions, confirm_abort).await?;
    super::domains::associate(ctx, &deployable.name, &custom_domain).await?;
    if outcome != DeployOutcome::UpToDate && !ctx.flags.detach {
        super::svc_rollback::follow_after_deploy(&ctx.session, &ctx.view, &deployable.name, &deployable.template)
            .await?;
    }
    if ctx.flags.force && outcome == DeployOutcome::UpToDate {
        let forced = ctx.session.force_new_deployment(app, &env.name, &rendered.name).await.with_context(|| {
            format!("the stack of `{}` is up to date; its new ECS deployment could not be started", rendered.name)
        })?;
        if let Some(service) = forced {
            ctx.view
                .emit(serde_json::json!({"event": "deployment_forced", "stack": deployable.name, "service": service}));
            ctx.view.line(format!("{}: new deployment of {service} started (--force)", deployable.name));
        }
    }
    for (plan, objects) in &sites {
        upload_site(ctx, &deployable.name, plan, objects).await?;
    }
    // Keep what Copilot (or a newer ferry) stored that this version does not know.
    let extra = shared.records.get(&rendered.name).map(|w| w.extra.clone()).unwrap_or_default();
    let record = WorkloadRecord { app: app.clone(), name: rendered.name.clone(), kind, extra };
    ctx.session.meta.put_workload(&record).await?;
    Ok(outcome)
}

/// Deploys the certificate a workload template asks for (CloudFront's, in
/// us-east-1: its own small stack, DNS-validated by CloudFormation in the
/// alias's hosted zone) and returns its ARN.
async fn issue_certificate(
    ctx: &Ctx,
    stack: &Deployable,
    request: &ferry_aws::domain::CertificateRequest,
) -> Result<String> {
    let name = ferry_aws::domain::certificate_stack_name(&stack.name);
    ctx.view.start(&name, "deploying");
    let result = ferry_aws::domain::ensure_certificate(
        &ctx.session.aws,
        ctx.session.options,
        &stack.name,
        request,
        &stack.tags,
        &mut |e| ctx.view.event(&e),
    )
    .await;
    ctx.view.finish(&name, if result.is_ok() { "ready" } else { "failed" }, result.is_ok());
    result.map_err(|e| {
        Failure::new(format!("the {} certificate for `{}` could not be issued", request.region, request.domain_name))
            .hint(format!("the alias's hosted zone `{}` must exist in Route 53 in this account", request.hosted_zone))
            .because(e)
            .into()
    })
}

/// Syncs a static site's files to the bucket its stack created (every
/// deploy, also when the stack was up to date: files change without the
/// template changing).
async fn upload_site(
    ctx: &Ctx,
    stack: &str,
    plan: &ferry_core::upload::UploadPlan,
    objects: &std::collections::BTreeMap<String, ferry_core::upload::PlannedObject>,
) -> Result<()> {
    // The bucket is the physical ID of the stack's own resource, never a
    // name (or an output) the plugin supplies.
    let resources = ctx.session.cfn.stack_resources(stack).await?;
    let physical = |id: &str, kind: &str| {
        resources
            .iter()
            .find(|r| r.logical_id == id && r.resource_type == kind && !r.physical_id.is_empty())
            .map(|r| r.physical_id.clone())
    };
    let bucket = physical(&plan.bucket, ferry_core::upload::BUCKET_TYPE).ok_or_else(|| {
        anyhow::Error::from(Failure::new(format!("stack {stack} has no `{}` resource `{}` to upload to", ferry_core::upload::BUCKET_TYPE, plan.bucket)).hint("the upload may only target a bucket the stack creates; run `ferry svc package` and check the template's Resources"))
    })?;
    let bucket = &bucket;
    let distribution = plan.distribution.as_deref().and_then(|d| physical(d, ferry_core::upload::DISTRIBUTION_TYPE));
    let prefixes = ferry_core::upload::destination_prefixes(plan);
    let report = ferry_aws::upload::sync_site(&ctx.session.aws, bucket, distribution.as_deref(), objects, &prefixes)
        .await
        .map_err(|e| {
            Failure::new(format!("uploading the files of {stack} to s3://{bucket} failed"))
                .hint("the stack is deployed; run the deploy again to finish the upload")
                .because(e)
        })?;
    ctx.view.emit(serde_json::json!({"event": "site_uploaded", "stack": stack, "bucket": bucket, "report": report}));
    ctx.view.line(format!(
        "{stack}: {} files uploaded ({} bytes), {} unchanged, {} deleted{}",
        report.uploaded,
        report.bytes_uploaded,
        report.unchanged,
        report.deleted,
        report.invalidation.as_deref().map(|i| format!("; CloudFront invalidation {i}")).unwrap_or_default()
    ));
    Ok(())
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
    if crate::cancel::is_cancelled() {
        return Err(not_started(&stack.name));
    }
    let tagged;
    let stack = if ctx.flags.resource_tags.is_empty() {
        stack
    } else {
        let mut with_tags = stack.clone();
        with_tags.tags.extend(super::compat::parse_tags("--resource-tags", &ctx.flags.resource_tags)?);
        tagged = with_tags;
        &tagged
    };
    let view = &ctx.view;
    view.describe(&stack.name, descriptions);
    view.start(&stack.name, "deploying");
    let deployer = ctx
        .session
        .deployer()
        .allow_replacement(allowed_replacements(ctx))
        .no_rollback(ctx.flags.no_rollback)
        .detach(ctx.flags.detach)
        .import_retained_log_groups(ctx.session.aws.logs());
    let phase = AtomicU8::new(NOT_STARTED);
    let mut observe = |event: DeployEvent| {
        // Recorded before the call that starts the change is sent: an
        // interrupt while it is in flight must look at the stack.
        if let DeployEvent::Executing { create, .. } = &event {
            phase.store(if *create { CREATING } else { UPDATING }, Ordering::SeqCst);
        }
        view.event(&event);
    };
    let result = tokio::select! {
        result = deployer.deploy(stack, &mut observe) => result,
        _ = crate::cancel::cancelled() => {
            view.finish(&stack.name, "interrupted", false);
            return Err(interrupted(ctx, stack, phase.load(Ordering::SeqCst), confirm_abort).await);
        }
    };
    match result {
        Ok(outcome) => {
            let label = match outcome {
                DeployOutcome::UpToDate => "up to date",
                DeployOutcome::Created if ctx.flags.detach => "creating (detached)",
                DeployOutcome::Updated if ctx.flags.detach => "updating (detached)",
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

/// Interrupted after the environment, before any workload started.
fn interrupted_before_workloads(env: &str, names: &[String]) -> anyhow::Error {
    Failure::new(format!(
        "interrupted; environment `{env}` is deployed, no workload was started ({})",
        names.join(", ")
    ))
    .hint(format!("run `ferry deploy -e {env}` again to finish"))
    .into()
}

/// A stack that was not started because the command was interrupted first.
fn not_started(stack: &str) -> anyhow::Error {
    anyhow::Error::new(NotStarted(stack.to_string()))
}

/// Marks a stack the command never started (interrupted while it queued).
#[derive(Debug)]
pub(super) struct NotStarted(pub(super) String);

impl std::fmt::Display for NotStarted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "interrupted before {} started; nothing was changed", self.0)
    }
}

impl std::error::Error for NotStarted {}

/// After Ctrl-C: a create is deleted, an update cancelled (after asking on a terminal).
async fn interrupted(ctx: &Ctx, stack: &Deployable, phase: u8, confirm_abort: bool) -> anyhow::Error {
    let deployer = ctx.session.deployer();
    let (create, question) = match phase {
        CREATING => (true, format!("Delete the half-created stack {}?", stack.name)),
        UPDATING => (false, format!("Cancel the update of {} (CloudFormation rolls it back)?", stack.name)),
        _ => return anyhow!("interrupted before CloudFormation started changing {}; nothing was changed", stack.name),
    };
    let go = if confirm_abort {
        let _turn = ctx.out.turn();
        ctx.out.confirm(&question, true).unwrap_or(true)
    } else {
        true
    };
    if !go {
        return anyhow::Error::from(
            Failure::new(format!(
                "interrupted; {} is still being {} in CloudFormation",
                stack.name,
                if create { "created" } else { "updated" }
            ))
            .hint(format!("follow it with `aws cloudformation describe-stacks --stack-name {}`", stack.name)),
        );
    }
    match deployer.undo(&stack.name, create).await {
        Ok(Undo::NothingChanged) => {
            anyhow!("interrupted before CloudFormation started changing {}; nothing was changed", stack.name)
        }
        Ok(Undo::Deleting) => anyhow!("interrupted: deleting the half-created stack {}", stack.name),
        Ok(Undo::Cancelled) => anyhow!("interrupted: the update of {} is cancelled and rolls back", stack.name),
        Ok(Undo::Left(status)) => anyhow!("interrupted: {} had already reached {status}", stack.name),
        Err(e) => anyhow::Error::from(Failure::new(format!("interrupted, and undoing the change failed: {e}")).hint(
            format!("{} it in the CloudFormation console", if create { "delete" } else { "cancel the update of" }),
        )),
    }
}

fn allowed_replacements(ctx: &Ctx) -> ferry_aws::guard::Allowed {
    ferry_aws::guard::Allowed::from_flags(&ctx.flags.allow_replacement)
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
    let guarded = ctx.session.deployer().allow_replacement(allowed_replacements(ctx)).preview(stack).await?;
    // The diff and its question are one block: deploys running at once
    // wait their turn, so no diff is cut by another.
    let _turn = out.turn();
    out.diff(&format!("{} (deployed)", stack.name), &format!("{} (new)", stack.name), &old, &new);
    super::replacement_guard::show(&ctx.view, &stack.name, &guarded);
    if ctx.flags.yes {
        return Ok(true);
    }
    match out.confirm("Continue with the deployment?", false) {
        Some(answer) => Ok(answer),
        None => Err(Failure::new("--diff asks before deploying, and there is no terminal to ask on")
            .hint("add --yes to deploy after showing the diff")
            .into()),
    }
}
