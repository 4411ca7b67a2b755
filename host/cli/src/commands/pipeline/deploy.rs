//! `pipeline deploy`: uploads ferry to the artifact bucket (once per
//! version and digest), deploys the stack, and says how to complete a
//! pending connection.

use super::{pick, pipelines_api, render_pipeline};
use crate::cli::PipelineDeploy;
use crate::commands::aws::{report_calls, session};
use crate::commands::deploy::{Ctx, run_stack};
use crate::context::CommandContext;
use crate::output::DeployView;
use anyhow::{Context, Result};
use ferry_aws::cfn::CloudFormationApi;
use ferry_aws::deploy::Deployable;
use ferry_aws::pipeline::{PipelineApi, connection_console_url, pipeline_console_url};
use ferry_core::pipeline::{self as core_pipeline, RenderedPipeline};
use ferry_core::{Failure, Workspace};
use ferry_plugin_protocol::pipeline::CONNECTION_OUTPUT;

/// What to tell the user about the connection after a deploy: nothing when
/// it is available, the exact clicks when it is pending.
pub(crate) async fn connection_advice(api: &impl PipelineApi, arn: &str, provider: &str) -> Option<Failure> {
    let url = connection_console_url(arn);
    match api.connection_status(arn).await {
        Ok(status) if status == "AVAILABLE" => None,
        Ok(status) if status == "PENDING" => Some(Failure::new(format!(
            "the connection to {provider} is PENDING: the pipeline cannot read the repository until you complete it.\n\
             1. open {url}\n\
             2. click \"Update pending connection\"\n\
             3. in the window that opens, sign in to {provider} and authorize AWS (choose or install the app for your account)\n\
             4. click \"Connect\"; the status turns Available\n\
             then push to the branch, or click \"Release change\" on the pipeline, to start it"
        ))),
        Ok(status) => Some(
            Failure::new(format!("the connection to {provider} is {status}"))
                .hint(format!("open {url} to see why, and update or recreate it")),
        ),
        Err(e) => Some(
            Failure::new(format!("could not check the connection's status ({e})"))
                .hint(format!("if it is still pending, complete it at {url} (\"Update pending connection\")")),
        ),
    }
}

pub(super) fn deploy(args: PipelineDeploy, cx: &CommandContext) -> Result<()> {
    let out = &cx.out;
    let ws = cx.workspace_to_act_on(args.app.as_deref())?;
    let name = pick(&ws, args.name.clone())?;
    let registry = cx.registry()?;
    // A bad or missing manifest is reported before anything talks to AWS.
    render_pipeline(&ws, &registry, &name, None)?;
    cx.block_on(async {
        let session = session(args.flags.force).await?;
        let (pipeline, warnings) = render_pipeline(&ws, &registry, &name, Some(session.region.clone()))?;
        for w in &warnings {
            out.warning(w);
        }
        let app = ws.app.clone();
        let app_record = session.require_app(&app).await?;
        let tags = app_record.tags.clone().unwrap_or_default();
        let regional = session.ensure_regional(&app, &app_record.account, &[], &tags).await?;
        let (Some(bucket), Some(key)) = (regional.bucket, regional.kms_key) else {
            return Err(Failure::new(format!("the artifact bucket and KMS key of application {app} are not known in {}", session.region)).hint(format!("run `ferry app init {app}` again to repair the app's regional resources")).into());
        };
        let api = pipelines_api(&session);
        let RenderedPipeline { mut stack, source } = pipeline;
        let binary = match &args.ferry_binary {
            Some(path) => path.clone(),
            None => std::env::current_exe().context("cannot find the running ferry binary")?,
        };
        let body = std::fs::read(&binary).with_context(|| format!("cannot read {}", binary.display()))?;
        let sha256 = ferry_aws::pipeline::sha256_hex(&body);
        let object = ferry_aws::pipeline::ferry_binary_key(env!("CARGO_PKG_VERSION"), &sha256);
        if ferry_aws::pipeline::upload_once(&session.aws.s3(), &bucket, &object, body).await? {
            out.status("Uploaded", &format!("{} to s3://{bucket}/{object}", binary.display()));
        } else {
            out.status("Unchanged", &format!("ferry binary already at s3://{bucket}/{object}"));
        }
        stack.parameters.insert(core_pipeline::parameters::FERRY_BINARY_KEY.into(), object);
        stack.parameters.insert(core_pipeline::parameters::FERRY_BINARY_SHA256.into(), sha256);
        stack.parameters.insert(core_pipeline::parameters::ARTIFACT_BUCKET.into(), bucket);
        stack.parameters.insert(core_pipeline::parameters::ARTIFACT_KEY.into(), key);
        if let Some(connection_name) = source.connection.as_ref().and_then(|c| c.name.clone()) {
            let arn = api.connection_by_name(&connection_name).await?.ok_or_else(|| {
                anyhow::Error::from(Failure::new(format!("no CodeStar connection named `{connection_name}` in {}", session.region)).hint("create it in the console (Developer Tools > Settings > Connections), or drop `connection_name` to let the pipeline create one"))
            })?;
            stack.parameters.insert(ferry_plugin_protocol::pipeline::CONNECTION_PARAMETER.into(), arn);
        }
        let mut stack_tags = tags.clone();
        stack_tags.extend(stack.tags.clone());
        let deployable = Deployable {
            name: stack.name.clone(),
            template: stack.template,
            parameters: stack.parameters,
            tags: stack_tags,
            description: format!("release pipeline {name} of application {app}"),
        };
        let ctx = Ctx {
            registry,
            session,
            view: DeployView::new(args.flags.json),
            flags: args.flags.clone(),
            out: out.clone(),
            ws,
            cancel: crate::cancel::guard(),
        };
        let result = async {
            run_stack(&ctx, &deployable, Default::default(), true).await?;
            let outputs =
                ctx.session.cfn.describe_stack(&deployable.name).await?.map(|s| s.outputs).unwrap_or_default();
            let pipeline_name = outputs.get("PipelineName").cloned().unwrap_or_else(|| deployable.name.clone());
            out.status(
                "Deployed",
                &format!("pipeline {name}: {}", pipeline_console_url(&ctx.session.region, &pipeline_name)),
            );
            if let Some(arn) = outputs.get(CONNECTION_OUTPUT) {
                let provider = ws_provider(&ctx.ws, &name);
                if let Some(advice) = connection_advice(&api, arn, &provider).await {
                    out.data(&format!("action required: {}", crate::output::with_hint(&advice)));
                }
            }
            Ok(())
        }
        .await;
        report_calls(&ctx.session, out, args.flags.json);
        result
    })
}

pub(super) fn ws_provider(ws: &Workspace, name: &str) -> String {
    ws.load_pipeline(name).ok().and_then(|m| m.provider().map(str::to_string)).unwrap_or_else(|| "the provider".into())
}
