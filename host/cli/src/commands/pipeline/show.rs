//! `pipeline show`: a deployed pipeline's source, stack and stages.

use super::{name_or_only, pipelines_api, require_deployed};
use crate::cli::PipelineShow;
use crate::commands::aws::session;
use crate::context::CommandContext;
use anyhow::Result;
use ferry_aws::cfn::CloudFormationApi;
use ferry_aws::pipeline::{PipelineApi, pipeline_console_url};
use ferry_plugin_protocol::pipeline::CONNECTION_OUTPUT;
use serde_json::{Value, json};

pub(super) fn show(args: PipelineShow, cx: &CommandContext) -> Result<()> {
    let PipelineShow { pipeline: args, resources } = args;
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
        let definition = pipelines_api(&session).pipeline_definition(&pipeline_name).await?;
        let stages: Vec<Value> = definition
            .iter()
            .map(|s| {
                json!({
                    "name": s.name,
                    "actions": s.actions.iter().map(|a| {
                        json!({"name": a.name, "category": a.category, "provider": a.provider, "run_order": a.run_order})
                    }).collect::<Vec<_>>()
                })
            })
            .collect();
        let connection = p.outputs.get(CONNECTION_OUTPUT).cloned();
        let listed: Vec<Value> = if resources {
            session
                .cfn
                .stack_resources(&p.stack)
                .await?
                .into_iter()
                .map(|r| json!({"logical_id": r.logical_id, "type": r.resource_type, "physical_id": r.physical_id, "status": r.status}))
                .collect()
        } else {
            Vec::new()
        };
        if args.json {
            let mut value = json!({
                "name": name, "application": app, "stack": p.stack, "stack_status": p.status,
                "pipeline": pipeline_name, "source": source, "connection": connection, "stages": stages,
                "url": pipeline_console_url(&session.region, &pipeline_name)
            });
            if resources {
                value["resources"] = Value::Array(listed);
            }
            out.json(&value);
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
        if resources {
            text.push_str("Resources\n");
            for r in &listed {
                text.push_str(&format!(
                    "  {:<40} {:<40} {}\n",
                    r["logical_id"].as_str().unwrap_or_default(),
                    r["type"].as_str().unwrap_or_default(),
                    r["physical_id"].as_str().unwrap_or_default()
                ));
            }
        }
        out.data(&text);
        Ok(())
    })
}
