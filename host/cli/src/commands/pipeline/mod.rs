//! `pipeline init|package|deploy|ls|show|status|delete`: release pipelines
//! in Copilot's manifest format. The source comes from whichever installed
//! `pipeline-provider` plugin declares the manifest's `source.provider`
//! (bundled GitHub, Bitbucket, CodeCommit, or any other); the host renders
//! the rest of the pipeline around it.

mod delete;
mod deploy;
mod init;
mod ls;
mod package;
mod show;
mod status;

use crate::cli::PipelineCommand;
use crate::context::CommandContext;
use anyhow::{Context, Result};
use ferry_aws::pipeline::{PipelineApi, Pipelines};
use ferry_core::pipeline::RenderedPipeline;
use ferry_core::{Failure, Problem, Workspace, naming};
use ferry_runtime::Registry;

pub fn run(command: PipelineCommand, cx: &CommandContext) -> Result<()> {
    let out = cx;
    match command {
        PipelineCommand::Init(args) => init::init(args, out),
        PipelineCommand::Package(args) => package::package(args, out),
        PipelineCommand::Deploy(args) => deploy::deploy(args, out),
        PipelineCommand::Ls(args) => ls::ls(args, out),
        PipelineCommand::Show(args) => show::show(args, out),
        PipelineCommand::Status(args) => status::status(args, out),
        PipelineCommand::Delete(args) => delete::delete(args, out),
        PipelineCommand::Override(args) => super::override_::run(args, super::override_::Target::Pipeline, out),
    }
}

/// The pipeline stack and its warnings, from the one render path.
pub(super) fn render_pipeline(
    ws: &Workspace,
    registry: &Registry,
    name: &str,
    region: Option<String>,
) -> Result<(RenderedPipeline, Vec<Problem>)> {
    ferry_render::render_pipeline(ws, registry, name, region).map_err(crate::render::lift)
}

/// The pipeline a command is about: `--name`, or the only one there is.
pub(super) fn pick(ws: &Workspace, name: Option<String>) -> Result<String> {
    if let Some(name) = name {
        return Ok(name);
    }
    let names = ws.pipeline_names();
    match names.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(Failure::new("this workspace has no pipeline").hint("create one with `ferry pipeline init`").into()),
        _ => Err(Failure::new(format!("this workspace has several pipelines: {}", names.join(", ")))
            .hint("choose one with --name")
            .into()),
    }
}

pub(super) fn pipelines_api(session: &ferry_aws::app::Session) -> Pipelines {
    Pipelines {
        codepipeline: session.aws.codepipeline(),
        connections: session.aws.codestar_connections(),
        cloudformation: session.cfn.client().clone(),
    }
}

/// A deployed pipeline stack, as `ls` and `show` see it.
pub(super) type Deployed = ferry_aws::pipeline::PipelineStack;

/// The app's pipeline stacks: named `pipeline-<app>-*` and tagged with the app.
pub(super) async fn deployed(session: &ferry_aws::app::Session, app: &str) -> Result<Vec<Deployed>> {
    Ok(pipelines_api(session).pipeline_stacks(app).await?)
}

/// The deployed pipeline `name` of `app`, or an error listing what is deployed.
pub(super) async fn require_deployed(session: &ferry_aws::app::Session, app: &str, name: &str) -> Result<Deployed> {
    let mut all = deployed(session, app).await?;
    match all.iter().position(|p| p.name == name) {
        Some(i) => Ok(all.remove(i)),
        None => {
            let names: Vec<&str> = all.iter().map(|p| p.name.as_str()).collect();
            Err(Failure::new(format!(
                "pipeline {name} of application {app} is not deployed (no stack {})",
                naming::pipeline_stack(app, name)
            ))
            .hint(
                (if names.is_empty() {
                    "deploy it with `ferry pipeline deploy`".to_string()
                } else {
                    format!("deployed pipelines: {}", names.join(", "))
                })
                .to_string(),
            )
            .into())
        }
    }
}

/// `--name`, else the workspace's only pipeline.
pub(super) fn name_or_only(cx: &CommandContext, name: Option<String>) -> Result<String> {
    match name {
        Some(name) => Ok(name),
        None => {
            let ws = cx.workspace(None).context("--name is needed outside a workspace")?;
            pick(&ws, None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::deploy::connection_advice;
    use super::init::buildspec;
    use super::status::status_text;
    use ferry_aws::pipeline::{ActionState, StageState};
    use ferry_aws::pipeline::{PipelineApi, PipelineState};
    use ferry_aws::{AwsError, AwsErrorKind};
    use serde_json::Value;
    use std::path::Path;

    /// Answers from responses recorded from CodePipeline and CodeStar
    /// Connections (JSON as the services return it).
    struct Recorded {
        state: Value,
        connection: Value,
    }

    impl PipelineApi for Recorded {
        async fn pipeline_stacks(&self, _app: &str) -> Result<Vec<ferry_aws::pipeline::PipelineStack>, AwsError> {
            Ok(Vec::new())
        }
        async fn pipeline_definition(&self, name: &str) -> Result<Vec<ferry_aws::pipeline::StageDefinition>, AwsError> {
            Err(AwsError::new("codepipeline:GetPipeline", Some(name), AwsErrorKind::NotFound, "not recorded"))
        }
        async fn pipeline_state(&self, name: &str) -> Result<PipelineState, AwsError> {
            let r = &self.state;
            if r["pipelineName"] != name {
                return Err(AwsError::new(
                    "codepipeline:GetPipelineState",
                    Some(name),
                    AwsErrorKind::NotFound,
                    "PipelineNotFoundException",
                ));
            }
            let text = |v: &Value| v.as_str().map(str::to_string);
            Ok(PipelineState {
                name: name.into(),
                stages: r["stageStates"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|s| StageState {
                        name: text(&s["stageName"]).unwrap_or_default(),
                        status: text(&s["latestExecution"]["status"]).unwrap_or_default(),
                        actions: s["actionStates"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .map(|a| ActionState {
                                name: text(&a["actionName"]).unwrap_or_default(),
                                status: text(&a["latestExecution"]["status"]).unwrap_or_default(),
                                summary: text(&a["latestExecution"]["summary"]),
                                last_change: a["latestExecution"]["lastStatusChange"].as_f64().map(aws_time),
                                revision: text(&a["currentRevision"]["revisionId"]),
                                error: text(&a["latestExecution"]["errorDetails"]["message"]),
                            })
                            .collect(),
                    })
                    .collect(),
            })
        }

        async fn connection_status(&self, _arn: &str) -> Result<String, AwsError> {
            Ok(self.connection["Connection"]["ConnectionStatus"].as_str().unwrap_or_default().to_string())
        }

        async fn connection_by_name(&self, _name: &str) -> Result<Option<String>, AwsError> {
            Ok(None)
        }
    }

    /// Seconds since the epoch (how the service sends times) as RFC 3339,
    /// which is what the SDK's `DateTime` prints.
    fn aws_time(epoch: f64) -> String {
        let secs = epoch as i64;
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        let (y, m, d) = civil(days);
        format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
    }

    /// Days since 1970-01-01 to a calendar date (Howard Hinnant's algorithm).
    fn civil(days: i64) -> (i64, i64, i64) {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        (yoe + era * 400 + i64::from(m <= 2), m, d)
    }

    fn recorded(file: &str) -> Value {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pipeline").join(file);
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn api(connection: &str) -> Recorded {
        Recorded { state: recorded("get-pipeline-state.json"), connection: recorded(connection) }
    }

    fn run<T>(f: impl std::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
    }

    #[test]
    fn buildspec_fetches_checks_and_packages_everything() {
        let text = buildspec(&["test".into(), "prod".into()]);
        let doc = ferry_core::YamlDoc::parse(Path::new("buildspec.yml"), text).unwrap();
        let phases = &doc.value["phases"];
        let install = phases["install"]["commands"].to_string();
        assert!(install.contains("s3://${FERRY_ARTIFACT_BUCKET}/${FERRY_BINARY_KEY}"), "{install}");
        assert!(install.contains("sha256sum -c"), "{install}");
        assert!(!install.contains("https://"), "no download site: {install}");
        let build = phases["build"]["commands"][0].as_str().unwrap();
        assert!(build.contains("ferry svc package --all -e \"$env\" --tag \"$TAG\" --upload-assets"), "{build}");
        assert_eq!(doc.value["artifacts"]["files"][0], "infrastructure/*");
    }

    #[test]
    fn status_shows_every_stage_and_action() {
        let state = run(api("connection-pending.json").pipeline_state("pipeline-chat-release")).unwrap();
        let text = status_text(&state);
        insta::assert_snapshot!(text);
        // Failures carry CodePipeline's error message, in-progress approvals their stage.
        assert!(text.contains("error: Stack chat-prod-api is in UPDATE_ROLLBACK_COMPLETE"), "{text}");
        let json = serde_json::to_value(&state).unwrap();
        assert_eq!(json["stages"][0]["actions"][0]["revision"], "3f9c2a1d0b7e4c55a1f0e9d8c7b6a5f4e3d2c1b0");
    }

    #[test]
    fn status_of_an_unknown_pipeline_fails() {
        let err = run(api("connection-pending.json").pipeline_state("pipeline-chat-nope")).unwrap_err();
        assert!(err.to_string().contains("PipelineNotFoundException"), "{err}");
    }

    #[test]
    fn a_pending_connection_says_exactly_what_to_click() {
        let arn = "arn:aws:codestar-connections:us-west-2:123456789012:connection/6d2f1c4e-aaaa-bbbb-cccc-0123456789ab";
        let advice = run(connection_advice(&api("connection-pending.json"), arn, "GitHub")).unwrap().what;
        insta::assert_snapshot!(advice);
        assert!(advice.contains("https://us-west-2.console.aws.amazon.com/codesuite/settings/123456789012/us-west-2/connections/6d2f1c4e-aaaa-bbbb-cccc-0123456789ab"));
        assert!(run(connection_advice(&api("connection-available.json"), arn, "GitHub")).is_none());
    }
}
