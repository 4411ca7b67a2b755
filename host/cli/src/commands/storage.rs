//! `ferry storage init`: a storage resource as addons, rendered by the
//! storage plugin (kind `storage`, plugin ABI 0.4) that offers its type —
//! bundled (S3, DynamoDB, Aurora) or installed — and written where Copilot
//! writes it:
//!
//! - `--lifecycle workload`: `copilot/<workload>/addons/<name>.yml`;
//! - `--lifecycle environment`: `copilot/environments/addons/<name>.yml`,
//!   plus `copilot/<workload>/addons/<name>-access-policy.yml` when the
//!   plugin gives the workload an access policy;
//! - parameter values, when the plugin has some, merged into the
//!   `addons.parameters.yml` beside the addon.
//!
//! Every prompt has a flag; without a terminal a missing flag is an error
//! that names it.

use super::interactive;
use crate::cli::StorageInit;
use crate::context::CommandContext;
use anyhow::{Context, Result};
use ferry_core::Failure;
use ferry_core::error::did_you_mean;
use ferry_plugin_protocol::RenderContext;
use ferry_plugin_protocol::storage::{Lifecycle, StorageAnswers, StoragePart, StorageTarget};
use ferry_runtime::{Plugin, PluginKind, RenderOutcome, Severity};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

/// One file `storage init` writes.
struct Written {
    path: PathBuf,
    text: String,
}

pub fn init(args: StorageInit, cx: &CommandContext) -> Result<()> {
    let out = &cx.out;
    let ws = cx.workspace_to_act_on(args.app.as_deref())?;
    let registry = cx.registry()?;
    let types = registry.manifest_types_of(&[PluginKind::Storage]);
    if types.is_empty() {
        return Err(Failure::new("no storage type is available")
            .why("no bundled or installed plugin is of kind `storage`")
            .hint("install one with `ferry plugin install <plugin.wasm>`")
            .into());
    }

    let storage_type = match args.storage_type.clone() {
        Some(t) => t,
        None if interactive() => {
            let choice = dialoguer::Select::new()
                .with_prompt("What type of storage would you like to create?")
                .items(&types)
                .default(0)
                .interact()?;
            types[choice].clone()
        }
        None => {
            return Err(Failure::new("--storage-type is required: there is no terminal to ask on")
                .hint(format!("pass -t/--storage-type with one of: {}", types.join(", ")))
                .into());
        }
    };
    let plugin = storage_plugin(&registry, &storage_type, &types)?;

    if let Some(version) = &args.serverless_version
        && version != "v2"
    {
        return Err(Failure::new(format!("--serverless-version {version} is not offered"))
            .why("Aurora Serverless v1 reached its end of life; ferry creates Aurora Serverless v2 clusters")
            .hint("drop --serverless-version, or pass --serverless-version v2")
            .into());
    }

    let name = match args.name.clone() {
        Some(name) => name,
        None => ask("--name", &format!("What would you like to name this {storage_type} storage?"))?,
    };
    if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
        return Err(Failure::new(format!("`{name}` cannot name a storage resource"))
            .why("it names the addons file copilot/<workload>/addons/<name>.yml")
            .hint("use letters, digits and dashes, e.g. `my-bucket`")
            .into());
    }

    // --add-ingress-from: only the access file of a workload (possibly of
    // another workspace) for environment storage that already exists.
    let (lifecycle, workload, parts) = if let Some(from) = args.add_ingress_from.clone() {
        if args.workload.is_some() {
            return Err(Failure::new("--add-ingress-from and --workload cannot be used together")
                .why("--add-ingress-from gives one workload access to existing environment storage")
                .hint("pass --workload to create storage, --add-ingress-from to add access to it")
                .into());
        }
        if args.lifecycle.as_deref().is_some_and(|l| l != "environment") {
            return Err(Failure::new("--add-ingress-from is for environment storage")
                .hint("drop --lifecycle, or pass --lifecycle environment")
                .into());
        }
        (Lifecycle::Environment, from, vec![StoragePart::AccessPolicy])
    } else {
        let workloads = ws.workload_names();
        let workload = match args.workload.clone() {
            Some(w) => w,
            None if interactive() && !workloads.is_empty() => {
                let choice = dialoguer::Select::new()
                    .with_prompt("Which workload needs access to the storage?")
                    .items(&workloads)
                    .default(0)
                    .interact()?;
                workloads[choice].clone()
            }
            None => {
                return Err(Failure::new("--workload is required: there is no terminal to ask on")
                    .hint(if workloads.is_empty() {
                        "create a service or job first (`ferry svc init`), then pass -w/--workload <name>".to_string()
                    } else {
                        format!("pass -w/--workload with one of: {}", workloads.join(", "))
                    })
                    .into());
            }
        };
        if !workloads.contains(&workload) {
            let hint = match did_you_mean(&workload, workloads.iter().map(String::as_str)) {
                Some(best) => format!("did you mean `{best}`?"),
                None if workloads.is_empty() => "create it first with `ferry svc init` or `ferry job init`".to_string(),
                None => format!("workloads of this workspace: {}", workloads.join(", ")),
            };
            return Err(Failure::new(format!("--workload `{workload}` is not a service or job of this workspace"))
                .why(format!("there is no {}", out.path(&ws.copilot_dir.join(&workload).join("manifest.yml"))))
                .hint(hint)
                .into());
        }
        let lifecycle = match args.lifecycle.as_deref() {
            Some(text) => parse_lifecycle(text)?,
            None if interactive() => {
                let items = ["workload", "environment"];
                let choice = dialoguer::Select::new()
                    .with_prompt(format!("Do you want the storage to be created and deleted with the {workload} service or job, or with each environment?"))
                    .items(items)
                    .default(0)
                    .interact()?;
                parse_lifecycle(items[choice])?
            }
            None => {
                out.note("no --lifecycle given: the storage follows the workload's lifecycle (workload)");
                Lifecycle::Workload
            }
        };
        let parts = match lifecycle {
            Lifecycle::Workload => vec![StoragePart::Addon],
            Lifecycle::Environment => vec![StoragePart::Addon, StoragePart::AccessPolicy],
        };
        (lifecycle, workload, parts)
    };
    let workload_type = ws.load_workload(&workload).ok().map(|m| m.kind);

    let answers = StorageAnswers {
        name: name.clone(),
        storage_type: storage_type.clone(),
        lifecycle,
        workload: Some(workload.clone()),
        partition_key: args.partition_key,
        sort_key: args.sort_key,
        no_sort: args.no_sort,
        lsi: args.lsi,
        no_lsi: args.no_lsi,
        engine: args.engine,
        initial_db: args.initial_db,
        parameter_group: args.parameter_group,
    };
    let answers_json = serde_json::to_string(&answers)?;
    let plugin_name = plugin.info().name.clone();
    let refused = |d: &ferry_runtime::Diagnostic| -> anyhow::Error {
        let flag = d.path.trim_start_matches('/');
        let mut failure =
            Failure::new(if flag.is_empty() { d.message.clone() } else { format!("--{flag}: {}", d.message) })
                .why(format!("the `{plugin_name}` storage plugin ({storage_type}) refuses it"));
        if let Some(hint) = &d.hint {
            failure = failure.hint(hint.clone());
        }
        failure.into()
    };
    let diagnostics = plugin.validate(&answers_json)?;
    if let Some(d) = diagnostics.iter().find(|d| d.severity == Severity::Error) {
        return Err(refused(d));
    }

    let addons_dir = |lifecycle: Lifecycle| match lifecycle {
        Lifecycle::Workload => ws.copilot_dir.join(&workload).join("addons"),
        Lifecycle::Environment => ws.copilot_dir.join("environments").join("addons"),
    };
    let mut files: Vec<Written> = Vec::new();
    for part in parts {
        let context = RenderContext {
            app: ws.app.clone(),
            name: workload.clone(),
            storage: Some(StorageTarget {
                part,
                lifecycle,
                workload: Some(workload.clone()),
                workload_type: workload_type.clone(),
                environments: ws.environment_names(),
            }),
            ..RenderContext::default()
        };
        let rendered = match plugin.render(&answers_json, &serde_json::to_string(&context)?)? {
            RenderOutcome::Rendered(rendered) => rendered,
            RenderOutcome::Invalid(diagnostics) => {
                let first = diagnostics.iter().find(|d| d.severity == Severity::Error).or(diagnostics.first());
                return Err(match first {
                    Some(d) => refused(d),
                    None => Failure::new(format!("the `{plugin_name}` storage plugin rendered nothing")).into(),
                });
            }
            RenderOutcome::Failed(message) => {
                return Err(Failure::new(format!("the `{plugin_name}` storage plugin failed: {message}")).into());
            }
        };
        let has_resources =
            rendered.template.get("Resources").and_then(Value::as_object).is_some_and(|r| !r.is_empty());
        if !has_resources {
            continue;
        }
        let (dir, file) = match part {
            StoragePart::Addon => (addons_dir(lifecycle), format!("{name}.yml")),
            StoragePart::AccessPolicy => (addons_dir(Lifecycle::Workload), format!("{name}-access-policy.yml")),
        };
        let path = dir.join(&file);
        if path.exists() {
            return Err(Failure::new(format!("{} already exists", out.path(&path)))
                .why(format!("storage `{name}` was added before, or another addon has its name"))
                .hint("choose another --name, or remove the file first")
                .into());
        }
        let header = format!(
            "# {storage_type} storage `{name}` ({} addon), written by `ferry storage init` with the `{plugin_name}` plugin.\n",
            match (part, lifecycle) {
                (StoragePart::AccessPolicy, _) => format!("the {workload} workload's access to an environment"),
                (_, Lifecycle::Workload) => format!("the {workload} workload"),
                (_, Lifecycle::Environment) => "environment".to_string(),
            }
        );
        files.push(Written { path, text: header + &to_yaml(&rendered.template)? });
        if !rendered.parameters.is_empty() {
            let path = dir.join("addons.parameters.yml");
            files.push(Written { text: merged_parameters(&path, &rendered.parameters, out)?, path });
        }
    }
    if files.is_empty() {
        return Err(Failure::new(format!("the `{plugin_name}` storage plugin has nothing to write for these answers"))
            .why("every template it rendered is empty")
            .into());
    }
    for file in &files {
        if let Some(parent) = file.path.parent() {
            std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", out.path(parent)))?;
        }
        std::fs::write(&file.path, &file.text).with_context(|| format!("cannot write {}", out.path(&file.path)))?;
        out.status("Wrote", &out.path(&file.path));
    }
    match lifecycle {
        Lifecycle::Workload => out.note(&format!("next: ferry svc deploy -n {workload} -e <env> deploys it with {workload}")),
        Lifecycle::Environment => out.note(&format!(
            "next: ferry env deploy -n <env> creates it in each environment, then ferry svc deploy -n {workload} -e <env> gives {workload} access"
        )),
    }
    Ok(())
}

/// The storage plugin offering `storage_type`, or an error listing the offered types.
fn storage_plugin(registry: &ferry_runtime::Registry, storage_type: &str, types: &[String]) -> Result<Plugin> {
    let unknown = || {
        let hint = match did_you_mean(storage_type, types.iter().map(String::as_str)) {
            Some(best) => format!("did you mean `{best}`? storage types: {}", types.join(", ")),
            None => format!("storage types: {}", types.join(", ")),
        };
        Failure::new(format!("unknown storage type `{storage_type}`"))
            .why("no bundled or installed storage plugin offers it")
            .hint(hint)
    };
    if !types.iter().any(|t| t == storage_type) {
        return Err(unknown().into());
    }
    let plugin = registry.for_manifest_type(storage_type)?;
    if plugin.info().kind != PluginKind::Storage {
        return Err(unknown().into());
    }
    Ok(plugin)
}

fn ask(flag: &str, prompt: &str) -> Result<String> {
    if !interactive() {
        return Err(Failure::new(format!("{flag} is required: there is no terminal to ask on"))
            .hint(format!("pass {flag} <value>"))
            .into());
    }
    Ok(dialoguer::Input::<String>::new().with_prompt(prompt).interact_text()?)
}

fn parse_lifecycle(text: &str) -> Result<Lifecycle> {
    match text {
        "workload" => Ok(Lifecycle::Workload),
        "environment" => Ok(Lifecycle::Environment),
        other => Err(Failure::new(format!("--lifecycle `{other}` is not a lifecycle"))
            .why("storage is created and deleted either with its workload or with each environment")
            .hint("pass --lifecycle workload or --lifecycle environment")
            .into()),
    }
}

/// The template as a YAML addons file (long-form intrinsics, which
/// CloudFormation and ferry's addons loader read as written).
fn to_yaml(template: &Value) -> Result<String> {
    let text = yaml_serde::to_string(template)?;
    // A YAML 1.1 reader takes a bare `2012-10-17` for a date, not the
    // string CloudFormation wants: quote date-like scalars, as Copilot does.
    let quoted: Vec<String> = text
        .lines()
        .map(|line| match line.rsplit_once(": ") {
            Some((key, value)) if is_date(value) => format!("{key}: '{value}'"),
            _ => line.to_string(),
        })
        .collect();
    Ok(quoted.join("\n") + "\n")
}

fn is_date(value: &str) -> bool {
    let bytes = value.as_bytes();
    bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| if i == 4 || i == 7 { *b == b'-' } else { b.is_ascii_digit() })
}

/// `addons.parameters.yml` with `parameters` added to what it holds; a
/// parameter it already has with another value is an error.
fn merged_parameters(path: &Path, parameters: &Map<String, Value>, out: &crate::output::Output) -> Result<String> {
    let mut existing: Map<String, Value> = Map::new();
    if path.is_file() {
        let (_, value) = ferry_core::cfn_yaml::read(path)?;
        if let Some(map) = value.get("Parameters").and_then(Value::as_object) {
            existing = map.clone();
        }
    }
    for (key, value) in parameters {
        match existing.get(key) {
            Some(old) if old != value => {
                return Err(Failure::new(format!("{} already passes parameter `{key}` another value", out.path(path)))
                    .why("the storage's addon needs its own value for it")
                    .hint(format!("edit {} by hand, or choose another --name", out.path(path)))
                    .into());
            }
            _ => {
                existing.insert(key.clone(), value.clone());
            }
        }
    }
    let mut doc = Map::new();
    doc.insert("Parameters".into(), Value::Object(existing));
    to_yaml(&Value::Object(doc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_like_values_are_quoted_for_yaml_1_1_readers() {
        let yaml = to_yaml(&serde_json::json!({"AWSTemplateFormatVersion": "2010-09-09", "V": {"Version": "2012-10-17"}, "N": "2012-10"})).unwrap();
        assert!(
            yaml.contains("AWSTemplateFormatVersion: '2010-09-09'") && yaml.contains("Version: '2012-10-17'"),
            "{yaml}"
        );
        assert!(yaml.contains("N: 2012-10\n"), "{yaml}");
    }
}
