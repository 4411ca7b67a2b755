//! `ferry adopt`: take over the stacks Copilot deployed, in place.
//!
//! Per environment: read each stack Copilot deployed (the environment's and
//! those of the workspace's services and jobs), render ferry's template for
//! it, and compare ([`ferry_core::adopt::compare`], plus a change set of
//! ferry's template read by the replacement guard). `--plan` stops there.
//! Otherwise, refused while anything holding state or traffic would be
//! replaced or removed; then, under the environment's deploy lease, step 1
//! redeploys Copilot's own template with its helpers retained, and step 2 is
//! `ferry deploy` of the environment (ferry's templates; the helpers leave
//! the stacks without their delete handlers running). Last, ferry deletes
//! what the helpers leave (functions, roles, log groups: the physical IDs
//! the stacks named for them before step 2); one it cannot delete is named
//! with the command that finishes the job, and the adoption stands.

use super::aws::report_calls;
use super::deploy::{self, Ctx};
use crate::cli::{AdoptArgs, CredentialFlags, DeployAll, DeployFlags, ImageFlags};
use crate::context::CommandContext;
use crate::render;
use anyhow::{Result, anyhow};
use ferry_aws::adopt::{self as live_adopt, Leftover, LiveStack};
use ferry_aws::deploy::Deployable;
use ferry_aws::guard::GuardedChange;
use ferry_core::adopt::{self, Fate, Origin, StackPlan};
use ferry_core::{Failure, naming};
use serde_json::json;

/// One stack's comparison.
struct Planned {
    live: LiveStack,
    plan: StackPlan,
    /// What the change set of ferry's template would remove or replace
    /// among what holds state or traffic (the replacement guard's reading).
    guarded: Vec<GuardedChange>,
    description: String,
}

impl Planned {
    fn version(&self) -> String {
        match &self.live.origin {
            Origin::Copilot { version: Some(v) } => format!("Copilot {v}"),
            Origin::Copilot { version: None } => "Copilot".into(),
            Origin::Adopting => "Copilot, helpers already retained".into(),
            Origin::Ferry => "ferry".into(),
        }
    }

    /// Everything that stops adoption, one line each.
    fn refusals(&self) -> Vec<String> {
        let mut lines: Vec<String> = self.plan.blocking().iter().map(|r| r.to_string()).collect();
        for change in &self.guarded {
            let line = change.to_string();
            if !self.plan.blocking().iter().any(|r| r.logical_id == change.logical_id) {
                lines.push(format!("{line} (read from the change set)"));
            }
        }
        lines
    }
}

pub fn run(args: AdoptArgs, cx: &CommandContext) -> Result<()> {
    let ws = cx.workspace_to_act_on(args.app.as_deref())?;
    let envs = match &args.env {
        Some(env) => vec![env.clone()],
        None => ws.environment_names(),
    };
    let flags = DeployFlags {
        force: false,
        diff: false,
        yes: args.yes,
        json: args.json,
        wait_for_lock: false,
        allow_replacement: Vec::new(),
        ..DeployFlags::default()
    };
    let mut left: Vec<(String, Leftover)> = Vec::new();
    for env in envs {
        let retired = cx.block_on(async {
            let ctx = Ctx::new(cx, ws.clone(), &flags).await?;
            let result = plan_and_retain(&ctx, &env, &args).await;
            report_calls(&ctx.session, &cx.out, args.json);
            result
        })?;
        let Some(mut leftovers) = retired else { continue };
        // Step 2: ferry's templates, as `ferry deploy` deploys them (it takes
        // the lease again; every stack is safe to deploy from here on).
        let all = DeployAll {
            env: env.clone(),
            name: Vec::new(),
            all: false,
            deploy_env: None,
            init_env: false,
            init_wkld: false,
            credentials: CredentialFlags::default(),
            app: args.app.clone(),
            image: ImageFlags { tag: None, builder: None, no_build: false },
            concurrency: 4,
            flags: flags.clone(),
        };
        deploy::everything(all, cx).map_err(|e| {
            e.context(format!(
                "the helpers of environment `{env}` are retained (nothing was deleted); run `ferry deploy -e {env}` to finish adopting"
            ))
        })?;
        cx.block_on(async {
            let session = super::aws::session(false).await?;
            live_adopt::delete_leftovers(&live_adopt::HelperClients::new(&session.aws), &mut leftovers).await;
            let view = crate::output::DeployView::new(args.json);
            view.emit(json!({"event": "adopted", "env": env, "leftovers": leftovers}));
            report_leftovers(&view, &env, &leftovers);
            report_calls(&session, &cx.out, args.json);
            anyhow::Ok(())
        })?;
        left.extend(leftovers.into_iter().filter(Leftover::failed).map(|l| (env.clone(), l)));
    }
    if left.is_empty() {
        return Ok(());
    }
    // The adoption stands; what could not be deleted is named with its
    // error and the command that finishes the job.
    Err(Failure::new(format!(
        "adopted, but {} of the retired Copilot helpers could not be deleted:{}",
        left.len(),
        left.iter()
            .map(|(env, l)| format!(
                "\n  - environment `{env}`: {} {} ({}): {}",
                l.resource_type,
                l.physical_id,
                l.logical_id,
                l.error.as_deref().unwrap_or_default()
            ))
            .collect::<String>()
    ))
    .hint(format!(
        "nothing uses them any more; delete them by hand:{}",
        left.iter().filter_map(|(_, l)| l.command.as_deref()).map(|c| format!("\n  {c}")).collect::<String>()
    ))
    .into())
}

/// Plans environment `env`; unless `--plan`, refuses or asks, then runs step
/// 1 under the lease. `Some(leftovers)` when step 2 is to follow.
async fn plan_and_retain(ctx: &Ctx, env: &str, args: &AdoptArgs) -> Result<Option<Vec<Leftover>>> {
    let planned = plan_environment(ctx, env, args.env.is_some()).await?;
    for p in &planned {
        show(ctx, p);
    }
    let copilot: Vec<&Planned> = planned.iter().filter(|p| matches!(p.live.origin, Origin::Copilot { .. })).collect();
    let adopting = planned.iter().any(|p| p.live.origin == Origin::Adopting);
    if copilot.is_empty() && !adopting {
        ctx.view.line(format!("{:>12} environment `{env}`: no stack Copilot deployed is left to adopt", "Nothing"));
        return Ok(None);
    }
    let refusals: Vec<String> = planned
        .iter()
        .flat_map(|p| p.refusals().into_iter().map(move |r| format!("{}: {r}", p.live.state.name)))
        .collect();
    if args.plan {
        return Ok(None);
    }
    if !refusals.is_empty() {
        return Err(Failure::new(format!(
            "adopting environment `{env}` would replace or remove what holds state or traffic; nothing was changed:{}",
            refusals.iter().map(|r| format!("\n  - {r}")).collect::<String>()
        ))
        .hint("make the manifest render what Copilot deployed (the property named above), then run `ferry adopt --plan` again")
        .into());
    }
    if !args.yes {
        let _turn = ctx.out.turn();
        let question = format!("Adopt the {} stacks of environment `{env}` listed above?", planned.len());
        match ctx.out.confirm(&question, false) {
            Some(true) => {}
            Some(false) => return Err(anyhow!("adoption of environment `{env}` cancelled; nothing was changed")),
            None => {
                return Err(Failure::new(
                    "ferry adopt asks before changing stacks, and there is no terminal to ask on",
                )
                .hint("review `ferry adopt --plan`, then add --yes")
                .into());
            }
        }
    }
    let lease = ctx.lock(env).await?;
    let result = retain_helpers(ctx, &copilot).await;
    ctx.unlock(lease).await;
    let mut leftovers = result?;
    // A stack whose first step ran before (the second failed): what it
    // retained then, as its template records it.
    for p in planned.iter().filter(|p| p.live.origin == Origin::Adopting) {
        let retained = live_adopt::retained_ids(&p.live.template);
        leftovers.extend(live_adopt::leftovers(&p.live, &retained.iter().map(String::as_str).collect::<Vec<_>>()));
    }
    Ok(Some(leftovers))
}

/// Step 1 for every stack Copilot deployed: its own template with the
/// helpers retained. Returns what they will leave behind.
async fn retain_helpers(ctx: &Ctx, copilot: &[&Planned]) -> Result<Vec<Leftover>> {
    let mut leftovers = Vec::new();
    for p in copilot {
        let retired = p.plan.retired();
        leftovers.extend(live_adopt::leftovers(&p.live, &retired));
        let step = live_adopt::retaining_step(&p.live, &retired, &p.description);
        ctx.view.emit(json!({"event": "adopt_retaining", "stack": step.name, "retained": retired}));
        ctx.view.line(format!(
            "{:>12} {}: Copilot's template, its helpers retained ({})",
            "Step 1",
            step.name,
            retired.join(", ")
        ));
        retain(ctx, &step).await?;
    }
    Ok(leftovers)
}

async fn retain(ctx: &Ctx, step: &Deployable) -> Result<()> {
    ctx.view.start(&step.name, "retaining");
    let deployer = ctx.session.deployer().adopting();
    let result = deployer.deploy(step, &mut |e| ctx.view.event(&e)).await;
    ctx.view.finish(&step.name, if result.is_ok() { "retained" } else { "failed" }, result.is_ok());
    result.map(|_| ()).map_err(|e| anyhow::Error::new(e).context(format!("step 1 of adopting {} failed", step.name)))
}

/// Reads and compares every deployed stack of environment `env`: the
/// environment's, then each workload's of the workspace.
async fn plan_environment(ctx: &Ctx, env: &str, named: bool) -> Result<Vec<Planned>> {
    let app = ctx.ws.app.clone();
    let env_stack = naming::environment_stack(&app, env);
    let Some(live_env) = live_adopt::read(&ctx.session.cfn, &env_stack).await? else {
        if !named {
            ctx.view.line(format!("{:>12} environment `{env}`: not deployed", "Skipping"));
            return Ok(Vec::new());
        }
        return Err(Failure::new(format!("environment `{env}` has no stack {env_stack} to adopt"))
            .hint("`ferry adopt` takes over what Copilot deployed; deploy a new environment with `ferry env deploy`")
            .into());
    };
    let mut planned = Vec::new();
    let mut setup = render::env_setup(&ctx.ws, &app, env)?;
    if let Some(domain) = &setup.app_domain {
        // The zones the environment's delegation and certificate name, as
        // `ferry deploy` reads them (so the plan shows what step 2 deploys).
        let app_record = ctx.session.require_app(&app).await?;
        let zones = ferry_aws::domain::app_zones(&ctx.session.cfn, &app_record, domain).await?;
        setup.domain_hosted_zone_id = Some(zones.domain);
        setup.app_hosted_zone_id = Some(zones.app);
    }
    let rendered = off_async(|| render::render_environment(&ctx.ws, &ctx.registry, &setup))?;
    let mut stack = rendered.stack;
    stack.parameters.extend(adopt::controller_parameters(&live_env.state.parameters, &stack.parameters));
    let env_deployable =
        stack_for(&live_env, stack.template, stack.parameters, format!("environment {env} of application {app}"));
    planned.push(compare(ctx, live_env, env_deployable).await?);

    let record = ctx.session.require_env(&app, env).await?;
    let names = ctx.ws.workload_names();
    let mut deployed = Vec::new();
    for name in &names {
        if let Some(live) = live_adopt::read(&ctx.session.cfn, &naming::workload_stack(&app, env, name)).await? {
            deployed.push((name.clone(), live));
        }
    }
    let deployed_names: Vec<String> = deployed.iter().map(|(n, _)| n.clone()).collect();
    let setup = deploy::with_lookups(ctx, setup, &deployed_names).await?;
    for (name, live) in deployed {
        let rendered = deploy::render_for(ctx, &setup, &record, &name, None, false)?;
        let mut parameters = rendered.stack.parameters;
        if !ferry_aws::priorities::priority_rules(&rendered.stack.template).is_empty() {
            ferry_aws::priorities::assign(
                &ctx.session.aws,
                &rendered.stack.template,
                &mut parameters,
                Some(&live.state.parameters),
            )
            .await?;
        }
        let description = format!("{name} in environment {env} of application {app}");
        let ours = stack_for(&live, rendered.stack.template, parameters, description);
        planned.push(compare(ctx, live, ours).await?);
    }
    Ok(planned)
}

/// ferry's stack for `live`: its template, its parameters (a parameter ferry
/// leaves empty, such as the image of a workload that builds its own, keeps
/// the deployed value), the live stack's tags.
fn stack_for(
    live: &LiveStack,
    template: serde_json::Value,
    mut parameters: indexmap::IndexMap<String, String>,
    description: String,
) -> Deployable {
    for (name, value) in parameters.iter_mut() {
        if value.is_empty()
            && let Some(deployed) = live.state.parameters.get(name)
        {
            *value = deployed.clone();
        }
    }
    Deployable { name: live.state.name.clone(), template, parameters, tags: live.state.tags.clone(), description }
}

async fn compare(ctx: &Ctx, live: LiveStack, ferry: Deployable) -> Result<Planned> {
    let plan = match live.origin {
        Origin::Ferry => StackPlan::default(),
        _ => adopt::compare(
            adopt::Side { template: &live.template, parameters: &live.state.parameters },
            adopt::Side { template: &ferry.template, parameters: &ferry.parameters },
            Some(&live.deployed()),
        ),
    };
    let guarded = match live.origin {
        Origin::Ferry => Vec::new(),
        _ => ctx.session.deployer().preview(&ferry).await.map_err(|e| {
            anyhow::Error::new(e).context(format!("cannot read what ferry's template would change in {}", ferry.name))
        })?,
    };
    Ok(Planned { live, plan, guarded, description: ferry.description })
}

fn show(ctx: &Ctx, p: &Planned) {
    let name = &p.live.state.name;
    let ids = |fate: Fate| p.plan.ids(fate);
    let retire: Vec<serde_json::Value> = p
        .plan
        .resources
        .iter()
        .filter(|r| r.fate == Fate::Retired)
        .map(|r| json!({"logical_id": r.logical_id, "resource_type": r.resource_type, "custom": adopt::is_custom_resource(&r.resource_type)}))
        .collect();
    let blocking: Vec<&ferry_core::adopt::ResourcePlan> = p.plan.blocking();
    ctx.view.emit(json!({
        "event": "adopt_plan",
        "stack": name,
        "origin": p.live.origin,
        "kept": ids(Fate::Kept),
        "replaced": p.plan.resources.iter().filter(|r| r.fate == Fate::Replaced).collect::<Vec<_>>(),
        "removed": p.plan.resources.iter().filter(|r| r.fate == Fate::Removed).collect::<Vec<_>>(),
        "added": ids(Fate::Added),
        "retire": retire,
        "blocking": blocking,
        "change_set": p.guarded,
    }));
    if p.live.origin == Origin::Ferry {
        ctx.view.line(format!("{:>12} {name}: already deployed by ferry", "Adopted"));
        return;
    }
    ctx.view.line(format!(
        "{:>12} {name} ({}): {} kept, {} replaced, {} removed, {} added, {} to retire",
        "Plan",
        p.version(),
        p.plan.count(Fate::Kept),
        p.plan.count(Fate::Replaced),
        p.plan.count(Fate::Removed),
        p.plan.count(Fate::Added),
        p.plan.count(Fate::Retired),
    ));
    for r in &p.plan.resources {
        match r.fate {
            Fate::Replaced | Fate::Removed => {
                let why = if r.is_blocking() { "holds state or traffic: refused" } else { "holds nothing" };
                ctx.view.line(format!("{:>12}   {r} ({why})", ""));
            }
            Fate::Added => ctx.view.line(format!("{:>12}   {} ({}) added", "", r.logical_id, r.resource_type)),
            Fate::Retired => {
                let what = if adopt::is_custom_resource(&r.resource_type) { "custom resource" } else { "its helper" };
                ctx.view.line(format!(
                    "{:>12}   {} ({}) retired, {what}: no handler runs",
                    "", r.logical_id, r.resource_type
                ));
            }
            Fate::Kept => {}
        }
    }
    for change in &p.guarded {
        ctx.view.line(format!("{:>12}   change set: {change}", ""));
    }
}

fn report_leftovers(view: &crate::output::DeployView, env: &str, leftovers: &[Leftover]) {
    view.line(format!(
        "{:>12} environment `{env}`: ferry's templates are deployed; Copilot's helpers are retired",
        "Adopted"
    ));
    for l in leftovers {
        if l.deleted {
            view.line(format!("{:>12}   deleted {} {}", "", l.resource_type, l.physical_id));
        } else if let Some(error) = &l.error {
            view.line(format!("{:>12}   left {} {}: {error}", "", l.resource_type, l.physical_id));
        }
    }
}

/// Plugins run synchronously, off the async workers (see `deploy::off_async`).
fn off_async<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| s.spawn(f).join()).unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}
