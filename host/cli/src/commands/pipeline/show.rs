//! `pipeline show`: a deployed pipeline's source, stack and stages.

use super::{name_or_only, require_deployed};
use crate::cli::PipelineName;
use crate::commands::aws::session;
use crate::context::CommandContext;
use anyhow::Result;
use ferry_aws::cfn::CloudFormationApi;
use ferry_aws::pipeline::pipeline_console_url;
use ferry_plugin_protocol::pipeline::CONNECTION_OUTPUT;
use serde_json::{Value, json};

pub(super) fn show(args: PipelineName, cx: &CommandContext) -> Result<()> {
    let out = &cx.out;
    let app = cx.app_name(args.app)?;
    let name = name_or_only(cx, args.name)?;
    cx.block_on(async {
        let session = session(false).await?;
        let p = require_deployed(&session, &app, &name).await?;
        let body = session.cfn.get_template(&p.stack).await?;
        let template: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        let source = template["Metadata"]["Source"].clone();
        let pipeline_name = p.outputs.get("PipelineName").cloned().unwrap_or_else(|| p.stack.clone());
        let described = session
            .aws
            .codepipeline()
            .get_pipeline()
            .name(&pipeline_name)
            .send()
            .await
            .map_err(|e| ferry_aws::AwsError::from_sdk("codepipeline:GetPipeline", Some(&pipeline_name), e))?;
        let stages: Vec<Value> = described
            .pipeline()
            .map(|d| {
                d.stages()
                    .iter()
                    .map(|s| {
                        json!({
                            "name": s.name(),
                            "actions": s.actions().iter().map(|a| {
                                json!({"name": a.name(), "category": a.action_type_id().map(|t| t.category().as_str().to_string()), "provider": a.action_type_id().map(|t| t.provider().to_string()), "run_order": a.run_order()})
                            }).collect::<Vec<_>>()
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        let connection = p.outputs.get(CONNECTION_OUTPUT).cloned();
        if args.json {
            out.json(&json!({
                "name": name, "application": app, "stack": p.stack, "stack_status": p.status,
                "pipeline": pipeline_name, "source": source, "connection": connection, "stages": stages,
                "url": pipeline_console_url(&session.region, &pipeline_name)
            }));
            return Ok(());
        }
        let mut text = format!(
            "Pipeline     {name}\nApplication  {app}\nStack        {} ({})\nSource       {} {} @ {}\n",
            p.stack,
            p.status,
            source["Provider"].as_str().unwrap_or("?"),
            source["Repository"].as_str().unwrap_or("?"),
            source["Branch"].as_str().unwrap_or("?")
        );
        if let Some(arn) = &connection {
            text.push_str(&format!("Connection   {arn}\n"));
        }
        text.push_str("Stages\n");
        for stage in &stages {
            text.push_str(&format!("  {}\n", stage["name"].as_str().unwrap_or_default()));
            for action in stage["actions"].as_array().into_iter().flatten() {
                text.push_str(&format!(
                    "    {} {:<40} {}\n",
                    action["run_order"],
                    action["name"].as_str().unwrap_or_default(),
                    action["provider"].as_str().unwrap_or_default()
                ));
            }
        }
        out.data(&text);
        Ok(())
    })
}
