//! `svc init`, `job init`, `env init`: write a commented manifest from the
//! plugin's template. Every prompt has a flag; without a terminal a missing
//! flag is an error that names it.

use crate::cli::WorkloadInit;
use crate::context::CommandContext;
use crate::output::Output;
use crate::render::Role;
use anyhow::{Context, Result, bail};
use ferry_core::Failure;
use ferry_core::error::did_you_mean;
use ferry_core::{Problem, YamlDoc, naming};
use ferry_render::ChooseError;
use ferry_runtime::{Plugin, PluginKind};
use std::path::{Path, PathBuf};

#[derive(Clone, Copy)]
pub enum Noun {
    Service,
    Job,
}

impl Noun {
    fn kind(self) -> PluginKind {
        match self {
            Noun::Service => PluginKind::Service,
            Noun::Job => PluginKind::Job,
        }
    }
    fn word(self) -> &'static str {
        match self {
            Noun::Service => "service",
            Noun::Job => "job",
        }
    }
}

use super::interactive;

/// The value of a flag, asked for on a terminal, else an error naming the flag.
pub(super) fn ask(value: Option<String>, flag: &str, prompt: &str, default: Option<String>) -> Result<String> {
    if let Some(value) = value {
        return Ok(value);
    }
    if !interactive() {
        return Err(Failure::new(format!("{flag} is required: there is no terminal to ask on"))
            .hint(format!("pass {flag} <value>"))
            .into());
    }
    let mut input = dialoguer::Input::<String>::new().with_prompt(prompt);
    if let Some(default) = default {
        input = input.default(default);
    }
    Ok(input.interact_text()?)
}

fn check_name(name: &str, what: &str) -> Result<()> {
    if let Err(why) = naming::check_name(name) {
        return Err(ferry_core::Error::problem(
            Problem::new(format!("invalid {what} name `{name}`")).why(why).hint("for example `api` or `front-end`"),
        )
        .into());
    }
    Ok(())
}

/// The `EXPOSE`d port of a Dockerfile, if it declares one.
fn exposed_port(dockerfile: &Path) -> Option<u16> {
    let text = std::fs::read_to_string(dockerfile).ok()?;
    text.lines().find_map(|line| {
        let rest = line.trim().strip_prefix("EXPOSE ").or_else(|| line.trim().strip_prefix("expose "))?;
        rest.split_whitespace().next()?.split('/').next()?.parse().ok()
    })
}

pub fn workload(args: WorkloadInit, noun: Noun, cx: &CommandContext) -> Result<()> {
    let out = &cx.out;
    let ws = cx.workspace_to_act_on(args.app.as_deref())?;
    let registry = cx.registry()?;
    let plugins: Vec<_> = registry.list()?.into_iter().filter(|p| p.info.kind == noun.kind()).collect();
    let all_types: Vec<String> = plugins.iter().flat_map(|p| p.info.manifest_types.clone()).collect();
    // Retired types are still rendered (existing manifests keep working),
    // but not offered for new workloads.
    let types: Vec<String> = all_types.iter().filter(|t| retired(t).is_none()).cloned().collect();
    let offered_retired: Vec<&String> = all_types.iter().filter(|t| retired(t).is_some()).collect();
    if args.kind.is_none() {
        for kind in &offered_retired {
            if let Some((why, instead)) = retired(kind) {
                out.note(&format!("`{kind}` is not offered for new services: {why}; use `{instead}`"));
            }
        }
    }

    let kind = match args.kind {
        Some(kind) => kind,
        None if types.len() == 1 => types[0].clone(),
        None if interactive() => {
            let choice = dialoguer::Select::new()
                .with_prompt(format!("Which type of {}?", noun.word()))
                .items(&types)
                .default(0)
                .interact()?;
            types[choice].clone()
        }
        None => {
            return Err(Failure::new("--type is required: there is no terminal to ask on")
                .hint(format!("pass --type with one of: {}", types.join(", ")))
                .into());
        }
    };
    let role = match noun {
        Noun::Service => Role::Service,
        Noun::Job => Role::Job,
    };
    let plugin: Plugin = match ferry_render::choose(&registry, &kind, role) {
        Ok(plugin) => plugin,
        Err(ChooseError::WrongKind { kind: other, .. }) => {
            return Err(Failure::new(format!("`{kind}` is a {other} type, not a {} type", noun.word()))
                .hint(format!("use `ferry {} init`", if other == PluginKind::Job { "job" } else { "svc" }))
                .into());
        }
        Err(ChooseError::Unknown { .. }) => {
            let hint = match did_you_mean(&kind, types.iter().map(String::as_str)) {
                Some(best) => format!("did you mean `{best}`?"),
                None => format!("{} types: {}", noun.word(), types.join(", ")),
            };
            return Err(Failure::new(format!("unknown {} type `{kind}`", noun.word())).hint(hint.to_string()).into());
        }
        Err(ChooseError::Plugin(err)) => return Err(err.into()),
    };
    if let Some((why, instead)) = retired(&kind) {
        out.warning(
            &Problem::new(format!("`{kind}` is retired for new services"))
                .warning()
                .why(why)
                .hint(format!("use `--type \"{instead}\"` (`ferry svc migrate` converts an existing {kind})")),
        );
    }

    let name = ask(args.name, "--name", &format!("Name of the {}", noun.word()), None)?;
    check_name(&name, noun.word())?;
    let dir = ws.copilot_dir.join(&name);
    if dir.join("manifest.yml").exists() {
        return Err(Failure::new(format!(
            "{} already has a manifest at {}",
            name,
            out.path(&dir.join("manifest.yml"))
        ))
        .hint("edit it, or choose another --name")
        .into());
    }

    let template = plugin.info().manifest_template.clone();
    let mut text = template.replace("{{name}}", &name);
    if text.contains("{{dockerfile}}") {
        match (args.image, args.dockerfile) {
            (Some(image), _) => {
                text = text
                    .lines()
                    .map(|line| match line.split_once("build: {{dockerfile}}") {
                        Some((indent, _)) => format!("{indent}location: {image}"),
                        None => line.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
                    + "\n";
            }
            (None, dockerfile) => {
                let default = ws.root.join("Dockerfile").is_file().then(|| "Dockerfile".to_string());
                let dockerfile = ask(dockerfile, "--dockerfile", "Dockerfile to build (or pass --image)", default)?;
                let path: PathBuf = ws.root.join(&dockerfile);
                if !path.is_file() {
                    out.warning(
                        &Problem::new(format!("{dockerfile} does not exist yet"))
                            .warning()
                            .hint("ferry builds it at deploy time: create it before deploying"),
                    );
                }
                if text.contains("{{port}}")
                    && args.port.is_none()
                    && let Some(port) = exposed_port(&path)
                {
                    text = text.replace("{{port}}", &port.to_string());
                }
                text = text.replace("{{dockerfile}}", &dockerfile);
            }
        }
    }
    if text.contains("{{port}}") {
        let port = ask(args.port.map(|p| p.to_string()), "--port", "Port the container listens on", Some("80".into()))?;
        port.parse::<u16>().with_context(|| format!("--port {port} is not a port number"))?;
        text = text.replace("{{port}}", &port);
    }
    if text.contains("{{schedule}}") {
        let schedule = ask(
            args.schedule,
            "--schedule",
            "Schedule (@daily, @every 5m, cron, rate(...), none)",
            Some("@daily".into()),
        )?;
        text = text.replace("{{schedule}}", &schedule);
    }
    write_checked(&plugin, &dir, &text, out)?;
    out.status("Wrote", &format!("{} ({kind})", out.path(&dir.join("manifest.yml"))));
    out.note(&format!(
        "next: ferry {} package -n {name} -e <env>",
        if matches!(noun, Noun::Job) { "job" } else { "svc" }
    ));
    Ok(())
}

/// Manifest types ferry still renders but no longer offers for new
/// workloads: (type, why, what to use instead).
pub const RETIRED_TYPES: &[(&str, &str, &str)] = &[(
    "Request-Driven Web Service",
    "AWS App Runner stopped taking new customers on 2026-04-30, so an account new to App Runner cannot create one",
    "Express Web Service",
)];

/// Why a manifest type is retired and what replaces it.
pub fn retired(kind: &str) -> Option<(&'static str, &'static str)> {
    RETIRED_TYPES.iter().find(|(k, _, _)| *k == kind).map(|(_, why, instead)| (*why, *instead))
}

/// Writes the manifest after checking the plugin accepts what its own
/// template produced, so `init` never leaves a manifest that cannot render.
fn write_checked(plugin: &Plugin, dir: &Path, text: &str, out: &Output) -> Result<()> {
    if let Some(left) = text.split("{{").nth(1).and_then(|rest| rest.split("}}").next()) {
        bail!(
            "plugin `{}` left the placeholder {{{{{left}}}}} in its template, which ferry cannot fill",
            plugin.info().name
        );
    }
    let path = dir.join("manifest.yml");
    let doc = YamlDoc::parse(&path, text.to_string())?;
    let diagnostics = plugin.validate(&doc.value.to_string())?;
    if let Some(d) = diagnostics.iter().find(|d| d.severity == ferry_runtime::Severity::Error) {
        bail!(
            "plugin `{}` rejects the manifest it wrote: {} at {} (a bug in the plugin's template)",
            plugin.info().name,
            d.message,
            d.path
        );
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", out.path(dir)))?;
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", out.path(&path)))?;
    Ok(())
}

pub fn environment(name: Option<String>, app: Option<String>, cx: &CommandContext) -> Result<()> {
    let out = &cx.out;
    let ws = cx.workspace_to_act_on(app.as_deref())?;
    let registry = cx.registry()?;
    let plugin = ferry_render::choose(&registry, "Environment", Role::Environment)?;
    let name = ask(name, "--name", "Name of the environment", Some("test".into()))?;
    check_name(&name, "environment")?;
    let dir = ws.copilot_dir.join("environments").join(&name);
    if dir.join("manifest.yml").exists() {
        bail!("environment {name} already has a manifest at {}", out.path(&dir.join("manifest.yml")));
    }
    let text = plugin.info().manifest_template.replace("{{name}}", &name);
    write_checked(&plugin, &dir, &text, out)?;
    out.status("Wrote", &out.path(&dir.join("manifest.yml")));
    out.note(&format!("next: ferry env package -n {name}"));
    Ok(())
}
