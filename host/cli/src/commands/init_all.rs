//! `ferry init`: Copilot's one-command start, from a directory with a
//! Dockerfile to a deployed service. It strings together what `app init`,
//! `svc init` / `job init`, `env init` and the deploy commands do (their own
//! functions, run one after the other), asking on a terminal for what no
//! flag gave and never waiting on a prompt without one. Run again, it keeps
//! what exists (the workspace, the manifests) and deploys only what changed.

use super::{app, deploy, init, interactive};
use crate::cli::{EnvDeploy, InitAll, WorkloadDeploy, WorkloadInit};
use crate::context::CommandContext;
use anyhow::{Context, Result};
use clap::Parser;
use ferry_core::{Failure, Workspace};
use ferry_runtime::PluginKind;
use std::ffi::OsString;

/// The environment `init` deploys to, as Copilot's does.
const ENV: &str = "test";

/// Builds a command's argument struct through clap, so flags other commands
/// add later keep their defaults here.
#[derive(Debug, Parser)]
#[command(no_binary_name = true)]
struct Parsed<T: clap::Args> {
    #[command(flatten)]
    args: T,
}

fn parse<T: clap::Args>(argv: Vec<OsString>) -> Result<T> {
    Ok(Parsed::<T>::try_parse_from(argv).context("internal: ferry init built arguments its own commands refuse")?.args)
}

pub fn run(args: InitAll, cx: &CommandContext) -> Result<()> {
    let out = &cx.out;
    let cwd = std::env::current_dir()?;
    let existing = Workspace::discover(&cwd).ok();
    let app = match (&args.app, &existing) {
        (Some(app), Some(ws)) if *app != ws.app => {
            return Err(Failure::new(format!("this workspace belongs to application `{}`, not `{app}`", ws.app))
                .hint("drop --app to add to it, or run ferry init from another directory")
                .into());
        }
        (_, Some(ws)) => ws.app.clone(),
        (Some(app), None) => app.clone(),
        (None, None) => {
            let default = cwd.file_name().and_then(|n| n.to_str()).map(str::to_lowercase);
            init::ask(None, "--app", "Name of the application", default)?
        }
    };
    // Everything that can be refused without AWS is checked first.
    let (kind, noun) = workload_type(args.kind.clone(), cx)?;
    let name = init::ask(args.name.clone(), "--name", &format!("Name of the {}", word(noun)), None)?;
    if matches!(noun, init::Noun::Service)
        && (args.retries.is_some() || args.timeout.is_some() || args.schedule.is_some())
    {
        return Err(Failure::new(format!(
            "--retries, --timeout and --schedule are for jobs; `{kind}` is a service type"
        ))
        .hint("drop them, or pass --type \"Scheduled Job\"")
        .into());
    }
    let root = existing.as_ref().map(|ws| ws.root.clone()).unwrap_or(cwd.clone());
    let dockerfile = match (&args.dockerfile, &args.image) {
        (None, None) if root.join("Dockerfile").is_file() => Some("Dockerfile".to_string()),
        (dockerfile, _) => dockerfile.clone(),
    };

    // The application: its roles stack, StackSet and record, and copilot/.workspace.
    app::init(Some(app.clone()), None, Vec::new(), cx)?;
    let ws = cx.workspace(Some(&app))?;

    // The service or job: its manifest (an existing one is kept, as Copilot does).
    let manifest = ws.copilot_dir.join(&name).join("manifest.yml");
    if manifest.is_file() {
        out.note(&format!("keeping the manifest of {name} that exists at {}", out.path(&manifest)));
    } else {
        let mut argv: Vec<OsString> = vec!["--name".into(), name.clone().into(), "--type".into(), kind.clone().into()];
        let optional = [
            ("--dockerfile", dockerfile.clone()),
            ("--image", args.image.clone()),
            ("--port", args.port.map(|p| p.to_string())),
            ("--schedule", args.schedule.clone()),
        ];
        for (flag, value) in optional {
            if let Some(value) = value {
                argv.extend([flag.into(), value.into()]);
            }
        }
        init::workload(parse::<WorkloadInit>(argv)?, noun, cx)?;
        if matches!(noun, init::Noun::Job) {
            set_job_fields(&manifest, args.retries, args.timeout.as_deref())?;
        }
    }

    let deploy = args.deploy
        || (interactive()
            && out.confirm(&format!("Deploy {name} to a `{ENV}` environment now?"), true).unwrap_or(false));
    if !deploy {
        out.note(&format!(
            "not deployed; when ready: ferry env init -n {ENV} && ferry env deploy -n {ENV} && ferry {} deploy -n {name} -e {ENV} (or ferry init --deploy)",
            if matches!(noun, init::Noun::Job) { "job" } else { "svc" }
        ));
        return Ok(());
    }
    if ws.copilot_dir.join("environments").join(ENV).join("manifest.yml").is_file() {
        out.note(&format!("keeping the manifest of environment {ENV} that exists"));
    } else {
        init::environment(Some(ENV.to_string()), None, cx)?;
    }
    deploy::env(parse::<EnvDeploy>(vec!["--name".into(), ENV.into()])?, cx)?;
    let mut argv: Vec<OsString> = vec!["--name".into(), name.clone().into(), "--env".into(), ENV.into()];
    if let Some(tag) = &args.tag {
        argv.extend(["--tag".into(), tag.into()]);
    }
    if let Some(builder) = &args.builder {
        argv.extend(["--builder".into(), builder.into()]);
    }
    deploy::workload(parse::<WorkloadDeploy>(argv)?, cx)?;
    out.status("Deployed", &format!("{name} to environment {ENV} of application {app}"));
    Ok(())
}

fn word(noun: init::Noun) -> &'static str {
    match noun {
        init::Noun::Service => "service",
        init::Noun::Job => "job",
    }
}

/// The manifest type, and whether it is a service or a job: from --type,
/// else asked among the types the plugins offer for new workloads.
fn workload_type(kind: Option<String>, cx: &CommandContext) -> Result<(String, init::Noun)> {
    let registry = cx.registry()?;
    let plugins = registry.list()?;
    let noun_of = |kind: &str| {
        plugins.iter().find(|p| p.info.manifest_types.iter().any(|t| t == kind)).and_then(|p| match p.info.kind {
            PluginKind::Service => Some(init::Noun::Service),
            PluginKind::Job => Some(init::Noun::Job),
            _ => None,
        })
    };
    let offered: Vec<String> = plugins
        .iter()
        .filter(|p| matches!(p.info.kind, PluginKind::Service | PluginKind::Job))
        .flat_map(|p| p.info.manifest_types.clone())
        .filter(|t| init::retired(t).is_none())
        .collect();
    let kind = match kind {
        Some(kind) => kind,
        None if interactive() => {
            let choice = dialoguer::Select::new()
                .with_prompt("Which type of service or job?")
                .items(&offered)
                .default(0)
                .interact()?;
            offered[choice].clone()
        }
        None => {
            return Err(Failure::new("--type is required: there is no terminal to ask on")
                .hint(format!("pass --type with one of: {}", offered.join(", ")))
                .into());
        }
    };
    match noun_of(&kind) {
        Some(noun) => Ok((kind, noun)),
        None => {
            let hint = match ferry_core::error::did_you_mean(&kind, offered.iter().map(String::as_str)) {
                Some(best) => format!("did you mean `{best}`?"),
                None => format!("types: {}", offered.join(", ")),
            };
            Err(Failure::new(format!("unknown service or job type `{kind}`")).hint(hint).into())
        }
    }
}

/// Writes `retries` and `timeout` into a job manifest the template wrote:
/// in place of its commented examples, else at the end.
fn set_job_fields(manifest: &std::path::Path, retries: Option<u32>, timeout: Option<&str>) -> Result<()> {
    if retries.is_none() && timeout.is_none() {
        return Ok(());
    }
    let text = std::fs::read_to_string(manifest).with_context(|| format!("cannot read {}", manifest.display()))?;
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let fields = [("retries", retries.map(|r| r.to_string())), ("timeout", timeout.map(str::to_string))];
    for (key, value) in fields {
        let Some(value) = value else { continue };
        let line = format!("{key}: {value}");
        match lines.iter().position(|l| l.starts_with(&format!("#{key}:")) || l.starts_with(&format!("{key}:"))) {
            Some(i) => lines[i] = line,
            None => lines.push(line),
        }
    }
    std::fs::write(manifest, lines.join("\n") + "\n").with_context(|| format!("cannot write {}", manifest.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{DeployFlags, ImageFlags};

    #[test]
    fn job_fields_replace_the_commented_examples() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("manifest.yml");
        std::fs::write(
            &path,
            "name: j\n#retries: 3        # Optional.\n#timeout: 1h30m\nimage:\n  build: Dockerfile\n",
        )
        .unwrap();
        set_job_fields(&path, Some(2), Some("15m")).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "name: j\nretries: 2\ntimeout: 15m\nimage:\n  build: Dockerfile\n"
        );
        std::fs::write(&path, "name: j\n").unwrap();
        set_job_fields(&path, None, Some("1h")).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "name: j\ntimeout: 1h\n");
    }

    #[test]
    fn argument_structs_are_built_through_clap() {
        let flags: DeployFlags = parse(vec![]).unwrap();
        assert!(!flags.force && !flags.json && flags.allow_replacement.is_empty());
        let image: ImageFlags = parse(vec!["--tag".into(), "v1".into()]).unwrap();
        assert_eq!(image.tag.as_deref(), Some("v1"));
    }
}
