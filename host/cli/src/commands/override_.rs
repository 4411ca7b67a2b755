//! `svc|job|env|pipeline override`: writes the `overrides/cfn.patches.yml`
//! skeleton ferry applies to the rendered template at package and deploy
//! time (Copilot's YAML patch layout). The file holds an empty list of
//! patches, so it applies as is, with the template's resources listed in
//! comments to patch. Copilot's `--tool cdk` is refused: ferry has no CDK
//! overrides.

use crate::cli::OverrideArgs;
use crate::context::CommandContext;
use crate::render::{self, ImageOptions};
use anyhow::{Context, Result};
use ferry_core::{Failure, Workspace};
use serde_json::Value;
use std::path::PathBuf;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Service,
    Job,
    Environment,
    Pipeline,
}

impl Target {
    fn noun(self) -> &'static str {
        match self {
            Target::Service => "svc",
            Target::Job => "job",
            Target::Environment => "env",
            Target::Pipeline => "pipeline",
        }
    }
}

/// Where the patch file of `target` goes (Copilot's layout).
pub fn patches_path(ws: &Workspace, target: Target, name: &str) -> PathBuf {
    let dir = match target {
        Target::Service | Target::Job => ws.copilot_dir.join(name),
        Target::Environment => ws.copilot_dir.join("environments"),
        Target::Pipeline => ws.copilot_dir.join("pipelines").join(name),
    };
    dir.join("overrides").join("cfn.patches.yml")
}

pub fn run(args: OverrideArgs, target: Target, cx: &CommandContext) -> Result<()> {
    let out = &cx.out;
    if !args.tool.eq_ignore_ascii_case("yamlpatch") {
        return Err(Failure::new(format!("--tool {} is not supported by ferry", args.tool))
            .hint(format!(
                "ferry applies YAML patches (overrides/cfn.patches.yml): run `ferry {} override` without --tool",
                target.noun()
            ))
            .into());
    }
    let ws = cx.workspace_to_act_on(args.app.as_deref())?;
    let name = match (target, &args.name) {
        (Target::Environment, name) => name.clone().or_else(|| ws.environment_names().into_iter().next()),
        (Target::Pipeline, name) => Some(super::pipeline::pick(&ws, name.clone())?),
        (_, Some(name)) => Some(name.clone()),
        (_, None) => {
            return Err(Failure::new("--name is required")
                .hint(format!(
                    "pass the {} to override: --name <name>",
                    if target == Target::Job { "job" } else { "service" }
                ))
                .into());
        }
    };
    if matches!(target, Target::Service | Target::Job)
        && let Some(name) = &name
        && !ws.workload_names().contains(name)
    {
        return Err(Failure::new(format!("no service or job named `{name}` in this workspace"))
            .hint(format!("workloads here: {}", ws.workload_names().join(", ")))
            .into());
    }
    let path = patches_path(&ws, target, name.as_deref().unwrap_or_default());
    if path.exists() {
        return Err(Failure::new(format!("{} exists already", out.path(&path)))
            .hint("edit it: ferry applies it every time it renders the template")
            .into());
    }
    let resources = if args.skip_resources { Vec::new() } else { resources(cx, &ws, target, name.as_deref(), &args) };
    let text = skeleton(target, name.as_deref().unwrap_or_default(), &resources);
    let dir = path.parent().unwrap_or(&path);
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", out.path(dir)))?;
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", out.path(&path)))?;
    out.status("Wrote", &out.path(&path));
    out.note(&format!("next: add patches, then check them with `ferry {} package`", target.noun()));
    Ok(())
}

/// The (logical ID, type) of each resource of the template as this
/// workspace renders it, for the skeleton's comments; empty (with a note)
/// when it cannot be rendered here.
fn resources(
    cx: &CommandContext,
    ws: &Workspace,
    target: Target,
    name: Option<&str>,
    args: &OverrideArgs,
) -> Vec<(String, String)> {
    let rendered = || -> Result<Value> {
        let registry = cx.registry()?;
        let name = name.unwrap_or_default();
        Ok(match target {
            Target::Service | Target::Job => {
                let env = args.env.clone().or_else(|| ws.environment_names().into_iter().next()).ok_or_else(|| {
                    Failure::new("no environment to render the template for").hint("pass --env, or create one first")
                })?;
                let setup = render::env_setup(ws, &ws.app, &env)?;
                render::render_workload(ws, &registry, &setup, name, &ImageOptions::default())?.stack.template
            }
            Target::Environment => {
                let setup = render::env_setup(ws, &ws.app, name)?;
                render::render_environment(ws, &registry, &setup)?.stack.template
            }
            Target::Pipeline => super::pipeline::render_pipeline(ws, &registry, name, None)?.0.stack.template,
        })
    };
    match rendered() {
        Ok(template) => template["Resources"]
            .as_object()
            .map(|r| r.iter().map(|(id, v)| (id.clone(), v["Type"].as_str().unwrap_or_default().to_string())).collect())
            .unwrap_or_default(),
        Err(e) => {
            cx.out.note(&format!(
                "note: the template's resources are not listed in the skeleton: {}",
                crate::output::inline(&e)
            ));
            Vec::new()
        }
    }
}

fn skeleton(target: Target, name: &str, resources: &[(String, String)]) -> String {
    let what = match target {
        Target::Service => format!("service {name}"),
        Target::Job => format!("job {name}"),
        Target::Environment => "every environment".to_string(),
        Target::Pipeline => format!("pipeline {name}"),
    };
    let mut text = format!(
        "# YAML patches ferry applies to the CloudFormation template of {what},
# in order, after rendering it (`ferry {noun} package` shows the result).
# Each patch is one of:
#
#   - op: add        # add a key (or, with `-` as the last segment, a list item)
#     path: /Resources/TaskDefinition/Properties/ContainerDefinitions/0/Ulimits
#     value:
#       - Name: nofile
#         SoftLimit: 1024
#         HardLimit: 2048
#   - op: replace    # replace a value that exists
#     path: /Resources/LogGroup/Properties/RetentionInDays
#     value: 30
#   - op: remove     # remove a key or list item
#     path: /Resources/Service/Properties/ServiceRegistries
#
# `path` is a JSON Pointer into the template (`~1` stands for `/` in a key).
# Replace the empty list below with your patches.
",
        noun = target.noun()
    );
    if !resources.is_empty() {
        text.push_str("#\n# Resources of the template:\n");
        for (id, kind) in resources {
            text.push_str(&format!("#   /Resources/{id}  ({kind})\n"));
        }
    }
    text.push_str("[]\n");
    text
}
