//! `pipeline delete`: deletes the pipeline stack.

use super::name_or_only;
use crate::cli::PipelineDelete;
use crate::commands::aws::{confirm_or_yes, report_calls, session};
use crate::context::CommandContext;
use crate::output::DeployView;
use anyhow::{Result, bail};
use ferry_core::naming;

pub(super) fn delete(args: PipelineDelete, cx: &CommandContext) -> Result<()> {
    let out = &cx.out;
    let app = cx.app_name(args.app)?;
    let name = name_or_only(cx, args.name)?;
    let stack = naming::pipeline_stack(&app, &name);
    if !confirm_or_yes(out, &format!("Delete pipeline {name} (stack {stack})?"), args.yes)? {
        bail!("nothing was deleted");
    }
    cx.block_on(async {
        let session = session(false).await?;
        let view = DeployView::new(false);
        view.start(&stack, "deleting");
        let mut observe = |event: ferry_aws::DeployEvent| view.event(&event);
        let deleted = session.delete_stack(&stack, &mut observe).await?;
        if deleted {
            view.finish(&stack, "deleted", true);
            out.status("Deleted", &format!("pipeline {name}"));
        } else {
            view.finish(&stack, "not deployed", true);
            out.note(&format!("pipeline {name} was not deployed (no stack {stack}); nothing to delete"));
        }
        report_calls(&session, out, false);
        Ok(())
    })
}
