//! `app upgrade` and `env upgrade`: redeploy what an earlier ferry (or
//! Copilot) deployed with this ferry's templates. "Nothing to upgrade" is
//! decided from the deployed stack itself: its template, parameters and
//! tags are compared with what this ferry renders, and an equal stack is
//! left alone (no change set is made).

use super::aws::{report_calls, session};
use super::deploy::{Ctx, deploy_env_outcome};
use crate::cli::{DeployFlags, EnvUpgrade};
use crate::context::CommandContext;
use crate::output::DeployView;
use anyhow::Result;
use ferry_aws::deploy::DeployEvent;
use ferry_core::{Failure, naming};

const VERSION: &str = env!("CARGO_PKG_VERSION");

pub fn env(args: EnvUpgrade, cx: &CommandContext) -> Result<()> {
    let out = &cx.out;
    let ws = cx.workspace_to_act_on(args.app.as_deref())?;
    let names = match &args.name {
        Some(name) => vec![name.clone()],
        None => ws.environment_names(),
    };
    if names.is_empty() {
        return Err(Failure::new("this workspace has no environment").hint("create one with `ferry env init`").into());
    }
    let flags = DeployFlags { json: args.json, ..DeployFlags::default() };
    cx.block_on(async {
        let ctx = Ctx::new(cx, ws, &flags).await?;
        let mut result = Ok(());
        for name in &names {
            // Only an environment that exists is upgraded; `env deploy` creates.
            if let Err(e) = ctx.session.require_env(&ctx.ws.app, name).await {
                result = Err(e.into());
                break;
            }
            let lease = ctx.lock(name).await?;
            let outcome = deploy_env_outcome(&ctx, name, true).await;
            ctx.unlock(lease).await;
            match outcome {
                Ok((_, true)) => {
                    ctx.view.emit(serde_json::json!({"event": "upgraded", "env": name, "version": VERSION}));
                    out.status("Upgraded", &format!("environment {name} to ferry {VERSION}'s template"));
                }
                Ok((_, false)) => {
                    ctx.view.emit(serde_json::json!({"event": "up_to_date", "env": name, "version": VERSION}));
                    out.status(
                        "Up to date",
                        &format!("environment {name} already has ferry {VERSION}'s template: nothing to upgrade"),
                    );
                }
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        report_calls(&ctx.session, out, args.json);
        result
    })
}

pub fn app(name: Option<String>, cx: &CommandContext) -> Result<()> {
    let out = &cx.out;
    let app = cx.app_name(name)?;
    cx.block_on(async {
        let session = session(false).await?;
        let Some(record) = session.meta.app(&app).await? else {
            return Err(Failure::new(format!("application `{app}` does not exist in this account and region"))
                .hint("create it with `ferry app init`")
                .into());
        };
        // Every workload recorded, so the StackSet keeps each one's repository.
        let workloads: Vec<String> = session.meta.workloads(&app).await?.into_iter().map(|w| w.name).collect();
        let tags = record.tags.clone().unwrap_or_default();
        let view = DeployView::new(false);
        let stack = naming::app_roles_stack(&app);
        view.start(&stack, "checking");
        let mut changed = false;
        let result = session
            .init_app(&app, None, &tags, &workloads, &mut |e| {
                if matches!(e, DeployEvent::Executing { .. }) {
                    changed = true;
                }
                view.event(&e)
            })
            .await;
        view.finish(&stack, if result.is_ok() { "ready" } else { "failed" }, result.is_ok());
        result?;
        if changed {
            out.status("Upgraded", &format!("application {app}'s roles stack to ferry {VERSION}'s template"));
        } else {
            out.status(
                "Up to date",
                &format!("application {app} already has ferry {VERSION}'s templates: nothing to upgrade"),
            );
        }
        report_calls(&session, out, false);
        Ok(())
    })
}
