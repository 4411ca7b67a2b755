//! `pipeline init|package|deploy|ls|show|status|delete`: release pipelines
//! in Copilot's manifest format. The source comes from whichever installed
//! `pipeline-provider` plugin declares the manifest's `source.provider`
//! (bundled GitHub, Bitbucket, CodeCommit, or any other); the host renders
//! the rest of the pipeline around it.

use super::aws::{confirm_or_yes, report_calls, session};
use super::deploy::{Ctx, run_stack};
use crate::cli::{
    PipelineCommand, PipelineDelete, PipelineDeploy, PipelineInit, PipelineLs, PipelineName, PipelinePackage,
};
use crate::context::CommandContext;
use crate::output::{DeployView, Output};
use anyhow::{Context, Result, anyhow, bail};
use ferry_aws::cfn::CloudFormationApi;
use ferry_aws::deploy::Deployable;
use ferry_aws::pipeline::{PipelineApi, PipelineState, Pipelines, connection_console_url, pipeline_console_url};
use ferry_core::pipeline::{self as core_pipeline, PIPELINE_TAG, RenderedPipeline};
use ferry_core::{Failure, Problem, Workspace, naming};
use ferry_plugin_protocol::pipeline::CONNECTION_OUTPUT;
use ferry_render::{provider_plugin, providers};
use ferry_runtime::{Registry, Severity};
use serde_json::{Value, json};
use std::path::Path;

pub fn run(command: PipelineCommand, cx: &CommandContext) -> Result<()> {
    let out = cx;
    match command {
        PipelineCommand::Init(args) => init(args, out),
        PipelineCommand::Package(args) => package(args, out),
        PipelineCommand::Deploy(args) => deploy(args, out),
        PipelineCommand::Ls(args) => ls(args, out),
        PipelineCommand::Show(args) => show(args, out),
        PipelineCommand::Status(args) => status(args, out),
        PipelineCommand::Delete(args) => delete(args, out),
    }
}

/// The pipeline stack and its warnings, from the one render path.
fn render_pipeline(
    ws: &Workspace,
    registry: &Registry,
    name: &str,
    region: Option<String>,
) -> Result<(RenderedPipeline, Vec<Problem>)> {
    ferry_render::render_pipeline(ws, registry, name, region).map_err(crate::render::lift)
}

/// The pipeline a command is about: `--name`, or the only one there is.
fn pick(ws: &Workspace, name: Option<String>) -> Result<String> {
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

fn git(root: &Path, args: &[&str]) -> Option<String> {
    let out = std::process::Command::new("git").args(args).current_dir(root).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !text.is_empty()).then_some(text)
}

/// The last path segment of a repository URL, for the default name.
fn repo_name(url: &str) -> String {
    let last = url.trim_end_matches('/').rsplit(['/', ':']).next().unwrap_or("repo");
    last.trim_end_matches(".git").to_lowercase().replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "-")
}

/// The buildspec `pipeline init` writes. ferry comes from the app's artifact
/// bucket, where `pipeline deploy` put it (the build project's variables
/// name the object and its sha256, checked before it runs); `svc package
/// --all --upload-assets` then builds and pushes every image and uploads
/// addons by the code `svc deploy` runs, and writes the stack of every
/// environment, service and job into `infrastructure/`, where the deploy
/// actions read them. Nothing in it depends on the workspace's manifests,
/// so it cannot drift from them.
pub(crate) fn buildspec(envs: &[String]) -> String {
    let envs: Vec<String> = envs.iter().map(|e| e.replace(['\n', '\r'], " ")).collect();
    format!(
        r#"# Buildspec of the pipeline: CodeBuild runs it in the Build stage.
# ferry is fetched from the application's artifact bucket (`ferry pipeline
# deploy` uploads the binary once per version; the build project's variables
# FERRY_ARTIFACT_BUCKET, FERRY_BINARY_KEY and FERRY_BINARY_SHA256 name it),
# then builds and pushes images, uploads addons and renders every stack into
# infrastructure/, which the deploy stages read.
version: 0.2
phases:
  install:
    commands:
      - mkdir -p "${{FERRY_INSTALL_DIR:-/usr/local/bin}}"
      - aws s3 cp --quiet "s3://${{FERRY_ARTIFACT_BUCKET}}/${{FERRY_BINARY_KEY}}" "${{TMPDIR:-/tmp}}/ferry.download"
      - echo "${{FERRY_BINARY_SHA256}}  ${{TMPDIR:-/tmp}}/ferry.download" | sha256sum -c -
      - install -m 0755 "${{TMPDIR:-/tmp}}/ferry.download" "${{FERRY_INSTALL_DIR:-/usr/local/bin}}/ferry"
      - ferry --version
  pre_build:
    commands:
      - export TAG=$(echo "${{CODEBUILD_RESOLVED_SOURCE_VERSION:-latest}}" | cut -c 1-7)
      - mkdir -p infrastructure
  build:
    commands:
      - |
        set -e
        for env in $FERRY_ENVIRONMENTS; do
          ferry env package -n "$env" --output-dir infrastructure
          ferry svc package --all -e "$env" --tag "$TAG" --upload-assets --output-dir infrastructure
        done
artifacts:
  files:
    - "infrastructure/*"
# Environments this buildspec was written for: {envs}
"#,
        envs = envs.join(", ")
    )
}

fn init(args: PipelineInit, cx: &CommandContext) -> Result<()> {
    let out = &cx.out;
    let ws = cx.workspace_to_act_on(args.app.as_deref())?;
    let registry = cx.registry()?;
    let url = match args.url.or_else(|| git(&ws.root, &["remote", "get-url", "origin"])) {
        Some(url) => url,
        None => {
            return Err(Failure::new("no repository URL: this directory has no `origin` git remote")
                .hint("pass --url <repository URL>")
                .into());
        }
    };
    let branch = args
        .git_branch
        .or_else(|| git(&ws.root, &["rev-parse", "--abbrev-ref", "HEAD"]).filter(|b| b != "HEAD"))
        .unwrap_or_else(|| "main".to_string());
    let name = args.name.unwrap_or_else(|| format!("{}-{}", ws.app, repo_name(&url)));
    naming::check_name(&name).map_err(|why| anyhow!("invalid pipeline name `{name}`: {why}"))?;
    let known_envs = ws.environment_names();
    let envs = if args.environments.is_empty() { known_envs.clone() } else { args.environments.clone() };
    if envs.is_empty() {
        return Err(Failure::new("the workspace has no environments to deploy to")
            .hint("create one with `ferry env init`, then run this again")
            .into());
    }
    for env in &envs {
        if !known_envs.contains(env) {
            return Err(Failure::new(format!(
                "--environments names `{env}`, which is not an environment of this workspace"
            ))
            .hint(format!("environments here: {}", known_envs.join(", ")))
            .into());
        }
    }
    // The provider: as given, else the one whose plugin accepts the URL.
    let probe = |provider: &str| json!({"name": name, "source": {"provider": provider, "properties": {"repository": url, "branch": branch}}, "stages": []});
    let plugin = match &args.provider {
        Some(provider) => provider_plugin(&registry, provider)?.ok_or_else(|| {
            let names: Vec<String> = providers(&registry).unwrap_or_default().into_iter().map(|(t, _)| t).collect();
            anyhow::Error::from(
                Failure::new(format!("unknown source provider `{provider}`"))
                    .hint(format!("installed providers: {}", names.join(", "))),
            )
        })?,
        None => {
            let mut accepting = Vec::new();
            for (provider, _) in providers(&registry)? {
                let plugin = provider_plugin(&registry, &provider)?.context("listed provider vanished")?;
                if plugin.validate(&probe(&provider).to_string())?.iter().all(|d| d.severity == Severity::Warning) {
                    accepting.push((provider, plugin));
                }
            }
            match accepting.len() {
                1 => accepting.remove(0).1,
                0 => {
                    let names: Vec<String> = providers(&registry)?.into_iter().map(|(t, _)| t).collect();
                    return Err(Failure::new(format!("no installed source provider accepts `{url}`"))
                        .hint(format!(
                            "installed providers: {}; pass --provider to choose one, or check the URL",
                            names.join(", ")
                        ))
                        .into());
                }
                _ => {
                    return Err(Failure::new(format!(
                        "several source providers accept `{url}`: {}",
                        accepting.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>().join(", ")
                    ))
                    .hint("choose one with --provider")
                    .into());
                }
            }
        }
    };
    let provider = plugin.info().manifest_types.first().cloned().unwrap_or_default();
    let problems = plugin.validate(&probe(&provider).to_string())?;
    if let Some(d) = problems.iter().find(|d| d.severity == Severity::Error) {
        return Err(Failure::new(d.message.to_string())
            .hint(d.hint.clone().unwrap_or_else(|| "check --url".into()).to_string())
            .into());
    }
    let dir = ws.copilot_dir.join(core_pipeline::PIPELINES_DIR).join(&name);
    let manifest_path = dir.join("manifest.yml");
    if manifest_path.exists() {
        return Err(Failure::new(format!("{} already exists", out.path(&manifest_path)))
            .hint("edit it, or choose another --name")
            .into());
    }
    let source = plugin.info().manifest_template.replace("{{url}}", &url).replace("{{branch}}", &branch);
    let mut stages = String::new();
    for (i, env) in envs.iter().enumerate() {
        stages.push_str(&format!("  - name: {env}\n"));
        if i == 0 {
            stages.push_str("    # test_commands: [make integ-test]\n");
        } else {
            stages.push_str("    requires_approval: true\n");
        }
    }
    let manifest = format!(
        "# The manifest of the \"{name}\" release pipeline (Copilot's pipeline manifest format).\n\
         # Each push to {branch} builds, then deploys every service and job to each stage in order.\n\
         name: {name}\n\
         version: 1\n\n\
         {source}\n\
         build:\n  image: {image}\n  # additional_policy:\n  #   PolicyDocument: {{Version: 2012-10-17, Statement: [...]}}\n\n\
         stages:\n{stages}",
        image = core_pipeline::DEFAULT_BUILD_IMAGE,
    );
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    std::fs::write(&manifest_path, manifest).with_context(|| format!("cannot write {}", manifest_path.display()))?;
    let buildspec_path = dir.join("buildspec.yml");
    std::fs::write(&buildspec_path, buildspec(&envs))
        .with_context(|| format!("cannot write {}", buildspec_path.display()))?;
    out.status("Wrote", &format!("{} ({provider} source, plugin {})", out.path(&manifest_path), plugin.info().name));
    out.status("Wrote", &out.path(&buildspec_path));
    out.note(&format!("next: commit and push both files, then run `ferry pipeline deploy -n {name}`"));
    Ok(())
}

fn package(args: PipelinePackage, cx: &CommandContext) -> Result<()> {
    let out = &cx.out;
    let ws = cx.workspace(args.app.as_deref())?;
    let registry = cx.registry()?;
    let name = pick(&ws, args.name)?;
    let (pipeline, warnings) = render_pipeline(&ws, &registry, &name, None)?;
    for w in &warnings {
        out.warning(w);
    }
    let stack = &pipeline.stack;
    let pretty = |v: &Value| serde_json::to_string_pretty(v).unwrap_or_default();
    match &args.output_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
            let template = dir.join(format!("{}.stack.json", stack.name));
            let params = dir.join(format!("{}.params.json", stack.name));
            std::fs::write(&template, pretty(&stack.template))
                .with_context(|| format!("cannot write {}", template.display()))?;
            std::fs::write(&params, pretty(&stack.configuration()))
                .with_context(|| format!("cannot write {}", params.display()))?;
            out.status("Wrote", &format!("{} and {} (stack {})", out.path(&template), out.path(&params), stack.name));
        }
        None => out.data(&pretty(&stack.template)),
    }
    Ok(())
}

fn pipelines_api(session: &ferry_aws::app::Session) -> Pipelines {
    Pipelines { codepipeline: session.aws.codepipeline(), connections: session.aws.codestar_connections() }
}

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

fn deploy(args: PipelineDeploy, cx: &CommandContext) -> Result<()> {
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

fn ws_provider(ws: &Workspace, name: &str) -> String {
    ws.load_pipeline(name).ok().and_then(|m| m.provider().map(str::to_string)).unwrap_or_else(|| "the provider".into())
}

/// A deployed pipeline stack, as `ls` and `show` see it.
struct Deployed {
    name: String,
    stack: String,
    status: String,
    outputs: indexmap::IndexMap<String, String>,
}

/// The app's pipeline stacks: named `pipeline-<app>-*` and tagged with the app.
async fn deployed(session: &ferry_aws::app::Session, app: &str) -> Result<Vec<Deployed>> {
    let client = session.cfn.client();
    let prefix = format!("pipeline-{app}-");
    let mut token: Option<String> = None;
    let mut found = Vec::new();
    loop {
        let page = client
            .describe_stacks()
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(|e| ferry_aws::AwsError::from_sdk("cloudformation:DescribeStacks", None, e))?;
        for stack in page.stacks() {
            let stack_name = stack.stack_name().unwrap_or_default();
            let tags: indexmap::IndexMap<&str, &str> =
                stack.tags().iter().map(|t| (t.key().unwrap_or_default(), t.value().unwrap_or_default())).collect();
            if !stack_name.starts_with(&prefix) || tags.get(naming::tags::APPLICATION) != Some(&app) {
                continue;
            }
            let status = stack.stack_status().map(|s| s.as_str().to_string()).unwrap_or_default();
            if status == "DELETE_COMPLETE" {
                continue;
            }
            found.push(Deployed {
                name: tags
                    .get(PIPELINE_TAG)
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

fn ls(args: PipelineLs, cx: &CommandContext) -> Result<()> {
    let out = &cx.out;
    let app = cx.app_name(args.app)?;
    cx.block_on(async {
        let session = session(false).await?;
        session.require_app(&app).await?;
        let pipelines = deployed(&session, &app).await?;
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

/// The deployed pipeline `name` of `app`, or an error listing what is deployed.
async fn require_deployed(session: &ferry_aws::app::Session, app: &str, name: &str) -> Result<Deployed> {
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
fn name_or_only(cx: &CommandContext, name: Option<String>) -> Result<String> {
    match name {
        Some(name) => Ok(name),
        None => {
            let ws = cx.workspace(None).context("--name is needed outside a workspace")?;
            pick(&ws, None)
        }
    }
}

fn show(args: PipelineName, cx: &CommandContext) -> Result<()> {
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

fn status(args: PipelineName, cx: &CommandContext) -> Result<()> {
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

fn delete(args: PipelineDelete, cx: &CommandContext) -> Result<()> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_aws::pipeline::{ActionState, StageState};
    use ferry_aws::{AwsError, AwsErrorKind};

    /// Answers from responses recorded from CodePipeline and CodeStar
    /// Connections (JSON as the services return it).
    struct Recorded {
        state: Value,
        connection: Value,
    }

    impl PipelineApi for Recorded {
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
