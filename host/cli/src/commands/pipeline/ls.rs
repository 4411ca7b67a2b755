//! `pipeline ls`: the app's deployed pipelines.

use super::deployed;
use crate::cli::PipelineLs;
use crate::commands::aws::session;
use crate::context::CommandContext;
use anyhow::Result;
use serde_json::{Value, json};

pub(super) fn ls(args: PipelineLs, cx: &CommandContext) -> Result<()> {
    let out = &cx.out;
    let app = cx.app_name(args.app)?;
    cx.block_on(async {
        let session = session(false).await?;
        session.require_app(&app).await?;
        let mut pipelines = deployed(&session, &app).await?;
        if args.local {
            let here = cx.workspace(None)?.pipeline_names();
            pipelines.retain(|p| here.contains(&p.name));
        }
        if args.json {
            let list: Vec<Value> = pipelines
                .iter()
                .map(|p| json!({"name": p.name, "stack": p.stack, "status": p.status, "pipeline": p.outputs.get("PipelineName")}))
                .collect();
            out.json(&json!({"pipelines": list}));
        } else {
            let rows: Vec<Vec<String>> = pipelines
                .iter()
                .map(|p| {
                    vec![p.name.clone(), p.status.clone(), p.outputs.get("PipelineName").cloned().unwrap_or_default()]
                })
                .collect();
            out.table(&["Name", "Stack status", "CodePipeline"], &rows);
        }
        Ok(())
    })
}
