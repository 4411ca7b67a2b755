//! `pipeline status`: each stage and action as CodePipeline reports it,
//! read through `PipelineApi`.

use super::{name_or_only, pipelines_api, require_deployed};
use crate::cli::PipelineName;
use crate::commands::aws::session;
use crate::context::CommandContext;
use crate::output::Output;
use anyhow::Result;
use ferry_aws::pipeline::{PipelineApi, PipelineState};

/// The `status` report: stages and actions as CodePipeline reports them.
pub(crate) fn status_text(state: &PipelineState) -> String {
    let mut text = format!("Pipeline {}\n", state.name);
    for stage in &state.stages {
        let status = if stage.status.is_empty() { "not run yet" } else { stage.status.as_str() };
        text.push_str(&format!("  {:<28} {status}\n", stage.name));
        for action in &stage.actions {
            let status = if action.status.is_empty() { "-" } else { action.status.as_str() };
            let mut line = format!("    {:<40} {status:<11}", action.name);
            if let Some(at) = &action.last_change {
                line.push_str(&format!(" {at}"));
            }
            if let Some(revision) = &action.revision {
                line.push_str(&format!(" {}", &revision[..revision.len().min(7)]));
            }
            text.push_str(line.trim_end());
            text.push('\n');
            if let Some(error) = &action.error {
                text.push_str(&format!("      error: {error}\n"));
            } else if let Some(summary) = &action.summary {
                text.push_str(&format!("      {summary}\n"));
            }
        }
    }
    text
}

/// Reads the state through `api` and prints it.
pub(crate) async fn print_status(api: &impl PipelineApi, pipeline: &str, json: bool, out: &Output) -> Result<()> {
    let state = api.pipeline_state(pipeline).await?;
    if json {
        out.json(&serde_json::to_value(&state)?);
    } else {
        out.data(&status_text(&state));
    }
    Ok(())
}

pub(super) fn status(args: PipelineName, cx: &CommandContext) -> Result<()> {
    let out = &cx.out;
    let app = cx.app_name(args.app)?;
    let name = name_or_only(cx, args.name)?;
    cx.block_on(async {
        let session = session(false).await?;
        let p = require_deployed(&session, &app, &name).await?;
        let pipeline = p.outputs.get("PipelineName").cloned().unwrap_or(p.stack);
        print_status(&pipelines_api(&session), &pipeline, args.json, out).await
    })
}
