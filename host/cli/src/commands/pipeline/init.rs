//! `pipeline init`: writes the manifest (source from the provider plugin
//! that accepts the repository URL) and the buildspec.

use crate::cli::PipelineInit;
use crate::context::CommandContext;
use anyhow::{Context, Result, anyhow};
use ferry_core::pipeline as core_pipeline;
use ferry_core::{Failure, naming};
use ferry_render::{provider_plugin, providers};
use ferry_runtime::Severity;
use serde_json::json;
use std::path::Path;

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

pub(super) fn init(args: PipelineInit, cx: &CommandContext) -> Result<()> {
    let out = &cx.out;
    if !args.pipeline_type.eq_ignore_ascii_case("workloads") {
        return Err(Failure::new(format!("--pipeline-type {} is not supported by ferry", args.pipeline_type))
            .hint("ferry's pipelines deploy the workloads (`Workloads`); deploy environments with `ferry env deploy`")
            .into());
    }
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
