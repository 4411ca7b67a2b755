//! `svc rollback` and the following of an ECS service deployment after
//! `svc deploy`: the stage (test traffic, production shift %, bake time),
//! the end ECS gives it, and a rollback with its cause. ECS does the work
//! (`StopServiceDeployment` with rollback, or the previous revision);
//! ferry shows it, as lines or `--json` events.

use super::aws::{report_calls, session};
use crate::cli::SvcRollback;
use crate::context::CommandContext;
use crate::output::DeployView;
use anyhow::Result;
use ferry_aws::app::Session;
use ferry_aws::service_deployments::{
    self as deployments, Ecs, Ending, RollbackAction, ServiceDeployment, split_service_arn,
};
use ferry_core::{Failure, naming};
use std::time::Duration;

/// How often ECS is asked, and how long ferry follows (ECS carries on after).
const POLL: Duration = Duration::from_secs(5);
const FOLLOW_FOR: Duration = Duration::from_secs(36 * 3600);

pub fn run(args: SvcRollback, cx: &CommandContext) -> Result<()> {
    let ws = cx.workspace_to_act_on(args.app.as_deref())?;
    cx.block_on(async {
        let session = session(false).await?;
        let view = DeployView::new(args.json);
        let result = async {
            let stack = naming::workload_stack(&ws.app, &args.env, &args.name);
            let (cluster, service) = locate(&session, &stack).await?.ok_or_else(|| {
                Failure::new(format!("`{}` has no ECS service in environment `{}`", args.name, args.env))
                    .hint(format!("deploy it first (`ferry svc deploy -n {} -e {}`)", args.name, args.env))
            })?;
            let ecs = Ecs::new(session.aws.ecs());
            let (action, ending) =
                deployments::rollback(&ecs, &cluster, &service, POLL, FOLLOW_FOR, &mut |d| progress(&view, &stack, d))
                    .await
                    .map_err(|e| {
                        Failure::new(format!("cannot roll back `{}` in `{}`", args.name, args.env))
                            .hint("`ferry svc status` shows the service's deployments; a first deployment has nothing to return to")
                            .because(e)
                    })?;
            let what = match &action {
                RollbackAction::StoppedInProgress { arn } => format!("stopped deployment {arn} with rollback"),
                RollbackAction::PreviousRevision { task_definition } => {
                    format!("deployed the previous revision ({task_definition}); the next `svc deploy` deploys the manifest's again")
                }
            };
            view.emit(serde_json::json!({"event": "rollback_started", "stack": stack, "action": what}));
            view.line(format!("{stack}: {what}"));
            match ending {
                Ending::Succeeded(_) | Ending::RolledBack(_) => {
                    view.emit(serde_json::json!({"event": "rollback_finished", "stack": stack, "ok": true}));
                    view.line(format!("{stack}: rolled back"));
                    Ok(())
                }
                Ending::Stopped(d) => Err(Failure::new(format!("the rollback of `{}` ended in {}", args.name, d.status))
                    .hint("look at the service's events with `ferry svc status`")
                    .into()),
                Ending::NoDeployment => Ok(()),
            }
        }
        .await;
        report_calls(&session, &cx.out, args.json);
        result
    })
}

/// The cluster and service of a workload stack's ECS service.
async fn locate(session: &Session, stack: &str) -> Result<Option<(String, String)>> {
    let resources = session.cfn.stack_resources(stack).await.unwrap_or_default();
    Ok(resources
        .iter()
        .find(|r| r.resource_type == "AWS::ECS::Service" && !r.physical_id.is_empty())
        .and_then(|r| split_service_arn(&r.physical_id)))
}

/// One change of a followed deployment: a `service_deployment` event and a line.
fn progress(view: &DeployView, stack: &str, d: &ServiceDeployment) {
    view.emit(serde_json::json!({"event": "service_deployment", "stack": stack, "deployment": d}));
    let mut text = format!("{stack}: ECS deployment {}", d.status.to_lowercase().replace('_', " "));
    if let Some(stage) = &d.stage {
        text.push_str(&format!(", {}", stage.to_lowercase().replace('_', " ")));
    }
    if let Some(p) = d.production_percent {
        text.push_str(&format!(", {p}% of production traffic on the new revision"));
    }
    if let Some(p) = d.test_percent.filter(|p| *p > 0.0) {
        text.push_str(&format!(", {p}% of test traffic"));
    }
    if d.rolling_back() {
        text.push_str(&format!(" ({})", d.rollback_cause()));
    }
    view.line(format!("{:>12} {text}", ""));
}

/// After a stack update of a service with a traffic-shifting strategy:
/// follows ECS's deployment to its end. A rollback fails the deploy with its
/// cause; a deployment that cannot be read (an emulator without the API)
/// is a note, not a failure: the stack is deployed.
pub(super) async fn follow_after_deploy(
    session: &Session,
    view: &DeployView,
    stack: &str,
    template: &serde_json::Value,
) -> Result<()> {
    let Some(strategy) = deployments::shifting_strategy(template) else { return Ok(()) };
    let Some((cluster, service)) = locate(session, stack).await? else { return Ok(()) };
    let ecs = Ecs::new(session.aws.ecs());
    view.emit(serde_json::json!({"event": "service_deployment_follow", "stack": stack, "strategy": strategy}));
    let ending = match deployments::follow(&ecs, &cluster, &service, POLL, FOLLOW_FOR, &mut |d| {
        progress(view, stack, d)
    })
    .await
    {
        Ok(ending) => ending,
        Err(e) => {
            view.emit(
                serde_json::json!({"event": "service_deployment_unknown", "stack": stack, "reason": e.to_string()}),
            );
            view.line(format!("{:>12} {stack}: cannot follow the ECS deployment: {e}", ""));
            return Ok(());
        }
    };
    match ending {
        Ending::RolledBack(d) | Ending::Stopped(d) => {
            let cause = d.rollback_cause();
            Err(Failure::new(format!("ECS rolled the deployment of {stack} back: {cause}"))
                .hint("the previous revision serves traffic again; fix the cause (`ferry svc logs`, the alarm) and deploy again")
                .into())
        }
        Ending::Succeeded(_) | Ending::NoDeployment => Ok(()),
    }
}
