//! Release pipelines once deployed: what CodePipeline says each stage and
//! action is doing, and whether the CodeStar connection a source uses has
//! been completed. Behind [`PipelineApi`] so `pipeline status` is tested
//! against recorded responses (the emulator serves neither call).

use crate::error::{AwsError, AwsErrorKind};
use serde::Serialize;

/// One action of a stage, as its latest execution left it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct ActionState {
    pub name: String,
    /// `InProgress`, `Succeeded`, `Failed`, `Abandoned`; empty when never run.
    pub status: String,
    pub summary: Option<String>,
    /// RFC 3339 time of the last status change.
    pub last_change: Option<String>,
    /// The source revision (commit) the action worked on, when known.
    pub revision: Option<String>,
    pub error: Option<String>,
}

/// One stage and its actions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct StageState {
    pub name: String,
    /// Latest execution's status, empty when the stage never ran.
    pub status: String,
    pub actions: Vec<ActionState>,
}

/// A pipeline's state, stage by stage in order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct PipelineState {
    pub name: String,
    pub stages: Vec<StageState>,
}

/// A deployed pipeline stack of an app, as `pipeline ls` and `show` list it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PipelineStack {
    /// The pipeline's name (its `copilot-pipeline` tag, else the stack name's tail).
    pub name: String,
    pub stack: String,
    pub status: String,
    pub outputs: indexmap::IndexMap<String, String>,
}

/// One stage of a pipeline's definition, as CodePipeline holds it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StageDefinition {
    pub name: String,
    pub actions: Vec<ActionDefinition>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ActionDefinition {
    pub name: String,
    pub category: Option<String>,
    pub provider: Option<String>,
    pub run_order: Option<i32>,
}

/// Every AWS read the pipeline commands make.
#[allow(async_fn_in_trait)]
pub trait PipelineApi {
    /// CloudFormation `DescribeStacks`: the app's pipeline stacks, named
    /// `pipeline-<app>-*` and tagged with the app, sorted by pipeline name.
    async fn pipeline_stacks(&self, app: &str) -> Result<Vec<PipelineStack>, AwsError>;
    /// CodePipeline `GetPipeline`: the stages and actions of `name`.
    async fn pipeline_definition(&self, name: &str) -> Result<Vec<StageDefinition>, AwsError>;
    /// CodePipeline `GetPipelineState`.
    async fn pipeline_state(&self, name: &str) -> Result<PipelineState, AwsError>;
    /// CodeStar Connections `GetConnection`: `PENDING`, `AVAILABLE` or `ERROR`.
    async fn connection_status(&self, arn: &str) -> Result<String, AwsError>;
    /// The ARN of the connection named `name` (`ListConnections`).
    async fn connection_by_name(&self, name: &str) -> Result<Option<String>, AwsError>;
}

/// The real clients.
pub struct Pipelines {
    pub codepipeline: aws_sdk_codepipeline::Client,
    pub connections: aws_sdk_codestarconnections::Client,
    pub cloudformation: aws_sdk_cloudformation::Client,
}

fn time(t: Option<&aws_smithy_types::DateTime>) -> Option<String> {
    t.and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok())
}

impl PipelineApi for Pipelines {
    async fn pipeline_stacks(&self, app: &str) -> Result<Vec<PipelineStack>, AwsError> {
        let prefix = format!("pipeline-{app}-");
        let mut token: Option<String> = None;
        let mut found = Vec::new();
        loop {
            let page = self
                .cloudformation
                .describe_stacks()
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("cloudformation:DescribeStacks", None, e))?;
            for stack in page.stacks() {
                let stack_name = stack.stack_name().unwrap_or_default();
                let tags: indexmap::IndexMap<&str, &str> =
                    stack.tags().iter().map(|t| (t.key().unwrap_or_default(), t.value().unwrap_or_default())).collect();
                if !stack_name.starts_with(&prefix) || tags.get(ferry_core::naming::tags::APPLICATION) != Some(&app) {
                    continue;
                }
                let status = stack.stack_status().map(|s| s.as_str().to_string()).unwrap_or_default();
                if status == "DELETE_COMPLETE" {
                    continue;
                }
                found.push(PipelineStack {
                    name: tags
                        .get(ferry_core::pipeline::PIPELINE_TAG)
                        .map(|s| s.to_string())
                        .unwrap_or_else(|| stack_name[prefix.len()..].to_string()),
                    stack: stack_name.to_string(),
                    status,
                    outputs: stack
                        .outputs()
                        .iter()
                        .map(|o| {
                            (
                                o.output_key().unwrap_or_default().to_string(),
                                o.output_value().unwrap_or_default().to_string(),
                            )
                        })
                        .collect(),
                });
            }
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        found.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(found)
    }

    async fn pipeline_definition(&self, name: &str) -> Result<Vec<StageDefinition>, AwsError> {
        let described = self
            .codepipeline
            .get_pipeline()
            .name(name)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("codepipeline:GetPipeline", Some(name), e))?;
        Ok(described
            .pipeline()
            .map(|d| {
                d.stages()
                    .iter()
                    .map(|s| StageDefinition {
                        name: s.name().to_string(),
                        actions: s
                            .actions()
                            .iter()
                            .map(|a| ActionDefinition {
                                name: a.name().to_string(),
                                category: a.action_type_id().map(|t| t.category().as_str().to_string()),
                                provider: a.action_type_id().map(|t| t.provider().to_string()),
                                run_order: a.run_order(),
                            })
                            .collect(),
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn pipeline_state(&self, name: &str) -> Result<PipelineState, AwsError> {
        let out = self
            .codepipeline
            .get_pipeline_state()
            .name(name)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("codepipeline:GetPipelineState", Some(name), e))?;
        let stages = out
            .stage_states()
            .iter()
            .map(|stage| StageState {
                name: stage.stage_name().unwrap_or_default().to_string(),
                status: stage.latest_execution().map(|e| e.status().as_str().to_string()).unwrap_or_default(),
                actions: stage
                    .action_states()
                    .iter()
                    .map(|action| {
                        let latest = action.latest_execution();
                        ActionState {
                            name: action.action_name().unwrap_or_default().to_string(),
                            status: latest.and_then(|e| e.status()).map(|s| s.as_str().to_string()).unwrap_or_default(),
                            summary: latest.and_then(|e| e.summary()).map(str::to_string),
                            last_change: time(latest.and_then(|e| e.last_status_change())),
                            revision: action.current_revision().map(|r| r.revision_id().to_string()),
                            error: latest.and_then(|e| e.error_details()).and_then(|d| d.message()).map(str::to_string),
                        }
                    })
                    .collect(),
            })
            .collect();
        Ok(PipelineState { name: name.to_string(), stages })
    }

    async fn connection_status(&self, arn: &str) -> Result<String, AwsError> {
        let out = self
            .connections
            .get_connection()
            .connection_arn(arn)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("codestar-connections:GetConnection", Some(arn), e))?;
        out.connection().and_then(|c| c.connection_status()).map(|s| s.as_str().to_string()).ok_or_else(|| {
            AwsError::new(
                "codestar-connections:GetConnection",
                Some(arn),
                AwsErrorKind::Other,
                "no status in the answer",
            )
        })
    }

    async fn connection_by_name(&self, name: &str) -> Result<Option<String>, AwsError> {
        let mut token: Option<String> = None;
        loop {
            let out = self
                .connections
                .list_connections()
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("codestar-connections:ListConnections", Some(name), e))?;
            if let Some(found) = out.connections().iter().find(|c| c.connection_name() == Some(name)) {
                return Ok(found.connection_arn().map(str::to_string));
            }
            token = out.next_token().map(str::to_string);
            if token.is_none() {
                return Ok(None);
            }
        }
    }
}

/// The console page where a pending connection is completed ("Update
/// pending connection").
pub fn connection_console_url(arn: &str) -> String {
    // arn:<partition>:codestar-connections:<region>:<account>:connection/<id>
    let parts: Vec<&str> = arn.split(':').collect();
    let (region, account, id) = match parts.as_slice() {
        [_, _, _, region, account, resource] => {
            (*region, *account, resource.strip_prefix("connection/").unwrap_or(resource))
        }
        _ => return "https://console.aws.amazon.com/codesuite/settings/connections".to_string(),
    };
    format!(
        "https://{region}.console.aws.amazon.com/codesuite/settings/{account}/{region}/connections/{id}?region={region}"
    )
}

/// The console page of a pipeline.
pub fn pipeline_console_url(region: &str, name: &str) -> String {
    format!("https://{region}.console.aws.amazon.com/codesuite/codepipeline/pipelines/{name}/view?region={region}")
}

/// Where `pipeline deploy` keeps a ferry binary in the app's artifact
/// bucket: by version and sha256, so a second deploy of the same binary
/// finds it there and uploads nothing.
pub fn ferry_binary_key(version: &str, sha256: &str) -> String {
    format!("ferry/{version}/{sha256}/ferry")
}

/// The sha256 (hex) of a binary, as `sha256sum` prints it.
pub fn sha256_hex(body: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(body))
}

/// Puts `body` at `s3://bucket/key` unless an object is already there
/// (keys name their content); true when it uploaded.
pub async fn upload_once(s3: &aws_sdk_s3::Client, bucket: &str, key: &str, body: Vec<u8>) -> Result<bool, AwsError> {
    let at = format!("s3://{bucket}/{key}");
    if s3.head_object().bucket(bucket).key(key).send().await.is_ok() {
        return Ok(false);
    }
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .body(body.into())
        .content_type("application/octet-stream")
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("s3:PutObject", Some(&at), e))?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_url_names_region_account_and_id() {
        assert_eq!(
            connection_console_url("arn:aws:codestar-connections:us-west-2:123456789012:connection/abc-123"),
            "https://us-west-2.console.aws.amazon.com/codesuite/settings/123456789012/us-west-2/connections/abc-123?region=us-west-2"
        );
    }
}
