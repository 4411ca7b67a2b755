//! `svc delete`, `job delete`, `env delete`.

use super::aws::{confirm_or_yes, session};
use crate::cli::DeleteWorkload;
use crate::context::CommandContext;
use crate::output::DeployView;
use anyhow::{Result, bail};
use ferry_aws::cfn::CloudFormationApi;
use ferry_core::Failure;
use ferry_core::naming;

pub fn workload(args: DeleteWorkload, cx: &CommandContext) -> Result<()> {
    let out = &cx.out;
    let app = cx.app_name(args.app)?;
    let scope = match &args.env {
        Some(env) => format!("from environment {env}"),
        None => "from every environment, and its record".into(),
    };
    if !confirm_or_yes(out, &format!("Delete {} {scope}?", args.name), args.yes)? {
        bail!("nothing was deleted");
    }
    cx.block_on(async {
        let session = session(false).await?;
        session.require_app(&app).await?;
        let envs: Vec<String> = match &args.env {
            Some(env) => vec![session.require_env(&app, env).await?.name],
            None => session.meta.envs(&app).await?.into_iter().map(|e| e.name).collect(),
        };
        let view = DeployView::new(false);
        for env in &envs {
            let stack = naming::workload_stack(&app, env, &args.name);
            view.start(&stack, "deleting");
            let existed = session.delete_workload_stack(&stack, &mut |e| view.event(&e)).await?;
            session.delete_workload_companions(&stack).await?;
            view.finish(&stack, if existed { "deleted" } else { "was not deployed" }, true);
        }
        if args.env.is_none() {
            session.meta.delete_workload(&app, &args.name).await?;
            out.status(
                "Deleted",
                &format!("{} (ECR repository {} retained)", args.name, naming::ecr_repository(&app, &args.name)),
            );
        }
        Ok(())
    })
}

pub fn environment(name: String, app: Option<String>, yes: bool, cx: &CommandContext) -> Result<()> {
    let out = &cx.out;
    let app = cx.app_name(app)?;
    if !confirm_or_yes(out, &format!("Delete environment {name} of {app}?"), yes)? {
        bail!("nothing was deleted");
    }
    cx.block_on(async {
        let session = session(false).await?;
        session.require_env(&app, &name).await?;
        let mut still = Vec::new();
        for w in session.meta.workloads(&app).await? {
            if session.cfn.describe_stack(&naming::workload_stack(&app, &name, &w.name)).await?.is_some() {
                still.push(w.name);
            }
        }
        if !still.is_empty() {
            return Err(Failure::new(format!("environment {name} still runs: {}", still.join(", ")))
                .hint(format!(
                    "delete them first: {}",
                    still.iter().map(|w| format!("`ferry svc delete -n {w} -e {name}`")).collect::<Vec<_>>().join(", ")
                ))
                .into());
        }
        let stack = naming::environment_stack(&app, &name);
        let view = DeployView::new(false);
        view.start(&stack, "deleting");
        session.delete_environment_stack(&stack, &mut |e| view.event(&e)).await?;
        view.finish(&stack, "deleted", true);
        session.meta.delete_env(&app, &name).await?;
        out.status("Deleted", &format!("environment {name}"));
        Ok(())
    })
}
