//! `app init|ls|show|delete`.

use super::aws::{confirm_or_yes, report_calls, session};
use crate::context::CommandContext;
use crate::output::DeployView;
use anyhow::{Context, Result, bail};
use ferry_aws::cfn::CloudFormationApi;
use ferry_core::Failure;
use ferry_core::{Workspace, naming};
use indexmap::IndexMap;

pub fn init(
    name: Option<String>,
    domain: Option<String>,
    resource_tags: Vec<String>,
    cx: &CommandContext,
) -> Result<()> {
    let out = &cx.out;
    let cwd = std::env::current_dir()?;
    let ws = Workspace::discover(&cwd).ok();
    let app = match (&name, &ws) {
        (Some(name), Some(ws)) if *name != ws.app => {
            return Err(Failure::new(format!("this workspace belongs to application `{}`, not `{name}`", ws.app))
                .hint("run `ferry app init` without a name, or from another directory")
                .into());
        }
        (Some(name), _) => name.clone(),
        (None, Some(ws)) => ws.app.clone(),
        (None, None) => {
            return Err(Failure::new("which application? no copilot/.workspace here")
                .hint("pass a name: `ferry app init <name>`")
                .into());
        }
    };
    naming::check_name(&app).map_err(|why| anyhow::anyhow!("invalid application name `{app}`: {why}"))?;
    let mut tags = IndexMap::new();
    for pair in &resource_tags {
        let Some((k, v)) = pair.split_once('=') else {
            return Err(Failure::new(format!("--resource-tags `{pair}` is not key=value"))
                .hint("--resource-tags team=chat,cost-center=42")
                .into());
        };
        tags.insert(k.trim().to_string(), v.trim().to_string());
    }
    if ws.is_none() {
        let dir = cwd.join("copilot");
        std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let mut text = format!("application: {app}\n");
        if let Some(domain) = &domain {
            text.push_str(&format!("domain: {domain}\n"));
        }
        std::fs::write(dir.join(".workspace"), text).context("cannot write copilot/.workspace")?;
        out.status("Wrote", "copilot/.workspace");
    }
    let workloads = ws.as_ref().map(|w| w.workload_names()).unwrap_or_default();
    cx.block_on(async {
        let session = session(false).await?;
        let view = DeployView::new(false);
        view.start(&naming::app_roles_stack(&app), "deploying");
        let record = session.init_app(&app, domain.as_deref(), &tags, &workloads, &mut |e| view.event(&e)).await?;
        view.finish(&naming::app_roles_stack(&app), "ready", true);
        out.status(
            "Ready",
            &format!(
                "application {app} in account {} region {} (StackSet {})",
                record.account,
                session.region,
                naming::app_stack_set(&app)
            ),
        );
        report_calls(&session, out, false);
        Ok(())
    })
}

pub fn ls(json: bool, cx: &CommandContext) -> Result<()> {
    let out = &cx.out;
    cx.block_on(async {
        let session = session(false).await?;
        let apps = session.meta.apps().await?;
        if json {
            out.json(&serde_json::json!({ "applications": apps }));
        } else if apps.is_empty() {
            out.note("no applications in this account and region (create one with `ferry app init <name>`)");
        } else {
            let rows =
                apps.iter().map(|a| vec![a.name.clone(), a.account.clone(), a.domain.clone()]).collect::<Vec<_>>();
            out.table(&["Name", "Account", "Domain"], &rows);
        }
        Ok(())
    })
}

pub fn show(name: Option<String>, json: bool, cx: &CommandContext) -> Result<()> {
    let out = &cx.out;
    let app = cx.app_name(name)?;
    cx.block_on(async {
        let session = session(false).await?;
        let record = session.require_app(&app).await?;
        let envs = session.meta.envs(&app).await?;
        let workloads = session.meta.workloads(&app).await?;
        if json {
            out.json(&serde_json::json!({ "application": record, "environments": envs, "workloads": workloads }));
            return Ok(());
        }
        out.data(&format!(
            "Application {}\n  account {}\n  domain  {}\n",
            record.name,
            record.account,
            if record.domain.is_empty() { "-" } else { &record.domain }
        ));
        out.table(
            &["Environment", "Region", "Account"],
            &envs.iter().map(|e| vec![e.name.clone(), e.region.clone(), e.account_id.clone()]).collect::<Vec<_>>(),
        );
        out.data("");
        out.table(
            &["Workload", "Type"],
            &workloads.iter().map(|w| vec![w.name.clone(), w.kind.clone()]).collect::<Vec<_>>(),
        );
        Ok(())
    })
}

pub fn delete(name: Option<String>, yes: bool, cx: &CommandContext) -> Result<()> {
    let out = &cx.out;
    let app = cx.app_name(name)?;
    if !confirm_or_yes(out, &format!("Delete application {app}: every stack, the StackSet and its parameters?"), yes)? {
        bail!("nothing was deleted");
    }
    cx.block_on(async {
        let session = session(false).await?;
        let envs = session.meta.envs(&app).await?;
        let workloads = session.meta.workloads(&app).await?;
        let view = DeployView::new(false);
        for env in &envs {
            for w in &workloads {
                let stack = naming::workload_stack(&app, &env.name, &w.name);
                if session.cfn.describe_stack(&stack).await?.is_some() {
                    view.start(&stack, "deleting");
                    session.delete_workload_stack(&stack, &mut |e| view.event(&e)).await?;
                    view.finish(&stack, "deleted", true);
                }
                session.delete_workload_companions(&stack).await?;
            }
        }
        for env in &envs {
            let stack = naming::environment_stack(&app, &env.name);
            view.start(&stack, "deleting");
            session.delete_environment_stack(&stack, &mut |e| view.event(&e)).await?;
            view.finish(&stack, "deleted", true);
        }
        view.start(&naming::app_stack_set(&app), "deleting");
        session.delete_app_infrastructure(&app, &mut |e| view.event(&e)).await?;
        view.finish(&naming::app_stack_set(&app), "deleted", true);
        let removed = session.delete_app_parameters(&app).await?;
        out.status("Deleted", &format!("application {app} ({removed} parameters removed)"));
        report_calls(&session, out, false);
        Ok(())
    })
}
