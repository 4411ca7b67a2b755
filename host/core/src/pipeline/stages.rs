//! The stages of a pipeline: source, build, then one deploy stage per
//! environment with approval, pre-deployments, deployments in
//! `depends_on` order, post-deployments and test commands.

use super::projects::{build_action, sub};
use super::{BUILD_ARTIFACT, BUILD_OUTPUT_DIR, CheckedPipeline};
use crate::error::Error;
use crate::naming;
use ferry_plugin_protocol::pipeline::{SOURCE_ARTIFACT, SourceStage};
use serde_json::{Value, json};

/// Every stage of the pipeline, and the ARNs of the stacks its deploy
/// actions create or update (for the pipeline's role).
pub(super) fn deploy_stages(
    app: &str,
    pipeline: &CheckedPipeline<'_>,
    source: &SourceStage,
) -> Result<(Vec<Value>, Vec<Value>), Error> {
    let manifest = pipeline.manifest;
    let mut stages = vec![json!({"Name": "Source", "Actions": [source.action.clone()]})];
    stages.push(json!({
        "Name": "Build",
        "Actions": [build_action("Build", "BuildProject", 1, SOURCE_ARTIFACT, Some(BUILD_ARTIFACT))]
    }));
    let mut stack_arns: Vec<Value> = Vec::new();
    for (i, (stage, orders)) in manifest.spec.stages.iter().zip(&pipeline.orders).enumerate() {
        let env = stage.name.as_str();
        let mut actions = Vec::new();
        let mut order = 1;
        if stage.requires_approval {
            actions.push(json!({
                "Name": format!("ApprovePromotionTo-{env}"),
                "ActionTypeId": {"Category": "Approval", "Owner": "AWS", "Provider": "Manual", "Version": "1"},
                "Configuration": {"CustomData": format!("Approve deploying {app} to {env}")},
                "RunOrder": order
            }));
            order += 1;
        }
        let mut max = 0;
        for (action_name, level) in &orders.pre {
            let id = naming::logical_id("PreDeployment", &format!("{env}-{action_name}"));
            actions.push(build_action(&format!("pre-{action_name}"), &id, order + level - 1, SOURCE_ARTIFACT, None));
            max = max.max(*level);
        }
        order += max;
        let mut max = 0;
        for (workload, (d, level)) in &orders.deployments {
            let is_env = workload == env;
            let stack = d.stack_name.clone().unwrap_or_else(|| {
                if is_env { naming::environment_stack(app, env) } else { naming::workload_stack(app, env, workload) }
            });
            let base = if is_env { format!("{env}.env") } else { format!("{workload}-{env}") };
            let template_path =
                d.template_path.clone().unwrap_or_else(|| format!("{BUILD_OUTPUT_DIR}/{base}.stack.json"));
            let template_config =
                d.template_config.clone().unwrap_or_else(|| format!("{BUILD_OUTPUT_DIR}/{base}.params.json"));
            stack_arns.push(sub(&format!(
                "arn:${{AWS::Partition}}:cloudformation:${{AWS::Region}}:${{AWS::AccountId}}:stack/{stack}/*"
            )));
            actions.push(json!({
                "Name": format!("CreateOrUpdate-{workload}-{env}"),
                "ActionTypeId": {"Category": "Deploy", "Owner": "AWS", "Provider": "CloudFormation", "Version": "1"},
                "Configuration": {
                    "ActionMode": "CREATE_UPDATE",
                    "StackName": stack,
                    "Capabilities": "CAPABILITY_IAM,CAPABILITY_NAMED_IAM,CAPABILITY_AUTO_EXPAND",
                    "TemplatePath": format!("{BUILD_ARTIFACT}::{template_path}"),
                    "TemplateConfiguration": format!("{BUILD_ARTIFACT}::{template_config}"),
                    "RoleArn": {"Fn::ImportValue": naming::env_export(app, env, "CFNExecutionRoleARN")}
                },
                "InputArtifacts": [{"Name": BUILD_ARTIFACT}],
                "RunOrder": order + level - 1
            }));
            max = max.max(*level);
        }
        order += max;
        let mut max = 0;
        for (action_name, level) in &orders.post {
            let id = naming::logical_id("PostDeployment", &format!("{env}-{action_name}"));
            actions.push(build_action(&format!("post-{action_name}"), &id, order + level - 1, SOURCE_ARTIFACT, None));
            max = max.max(*level);
        }
        order += max;
        if !stage.test_commands.is_empty() {
            actions.push(build_action(
                "TestCommands",
                &naming::logical_id("TestCommands", env),
                order,
                SOURCE_ARTIFACT,
                None,
            ));
        }
        if actions.is_empty() {
            return Err(manifest
                .problem(&format!("/stages/{i}"), format!("stage `{env}` has nothing to do"))
                .why("the workspace has no services or jobs and the stage lists no deployments")
                .hint("add a workload with `ferry svc init`, or list `deployments:`")
                .into());
        }
        stages.push(json!({"Name": format!("DeployTo-{env}"), "Actions": actions}));
    }
    Ok((stages, stack_arns))
}
