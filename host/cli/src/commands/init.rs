//! `svc init`, `job init`, `env init`: write a commented manifest from the
//! plugin's template. Every prompt has a flag; without a terminal a missing
//! flag is an error that names it.

use crate::cli::{EnvInit, JobInit, SvcInit, WorkloadInit};
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

/// A service or job from ferry's own flags (what the one-command `init` builds on).
#[allow(dead_code)]
pub fn workload(args: WorkloadInit, noun: Noun, cx: &CommandContext) -> Result<()> {
    workload_edited(args, noun, &|_, text| Ok(text), cx)
}

/// `svc init` with Copilot's flags: the manifest edits they stand for.
pub fn service(args: SvcInit, cx: &CommandContext) -> Result<()> {
    let SvcInit { name, kind, dockerfile, image, port, ingress_type, subscribe_topics, sources, app, .. } = args;
    let mut topics = Vec::new();
    for topic in &subscribe_topics {
        let Some((service, topic_name)) = topic.split_once(':').filter(|(s, t)| !s.is_empty() && !t.is_empty()) else {
            return Err(Failure::new(format!("--subscribe-topics `{topic}` is not `service:topic`"))
                .hint("--subscribe-topics api:orders,api:refunds")
                .into());
        };
        topics.push(format!("    - name: {topic_name}\n      service: {service}"));
    }
    let edit = move |kind: &str, mut text: String| -> Result<String> {
        if ingress_type.as_deref() == Some("Environment") {
            if kind != "Request-Driven Web Service" {
                bail!("--ingress-type is for a Request-Driven Web Service, not a {kind}");
            }
            text = insert_under(&text, "http", &["  private: true".to_string()]);
        }
        if !topics.is_empty() {
            if kind != "Worker Service" {
                bail!("--subscribe-topics is for a Worker Service, not a {kind}");
            }
            let mut lines = vec!["  topics:".to_string()];
            lines.extend(topics.iter().cloned());
            text = insert_under(&text, "subscribe", &lines);
        }
        if !sources.is_empty() {
            if kind != "Static Site" {
                bail!("--sources is for a Static Site, not a {kind}");
            }
            let mut block = String::from("files:\n");
            for source in &sources {
                block.push_str(&format!("  - source: {}\n", yaml_scalar(source)));
            }
            text = set_block(&text, "files", &block);
        }
        Ok(text)
    };
    let args = WorkloadInit { name, kind, dockerfile, image, port, schedule: None, app };
    workload_edited(args, Noun::Service, &edit, cx)
}

/// `job init` with Copilot's flags: `--retries` and `--timeout` become the
/// manifest's `retries` and `timeout`.
pub fn job(args: JobInit, cx: &CommandContext) -> Result<()> {
    let JobInit { name, kind, dockerfile, image, schedule, retries, timeout, app, .. } = args;
    let edit = move |_: &str, mut text: String| -> Result<String> {
        if let Some(retries) = retries {
            text = set_block(&text, "retries", &format!("retries: {retries}\n"));
        }
        if let Some(timeout) = &timeout {
            text = set_block(&text, "timeout", &format!("timeout: {}\n", yaml_scalar(timeout)));
        }
        Ok(text)
    };
    let args = WorkloadInit { name, kind, dockerfile, image, port: None, schedule, app };
    workload_edited(args, Noun::Job, &edit, cx)
}

/// A plain YAML scalar, quoted when it would not read back as the same string.
fn yaml_scalar(value: &str) -> String {
    let plain = !value.is_empty()
        && value.chars().all(|c| c.is_ascii_alphanumeric() || "._/-".contains(c))
        && value.parse::<f64>().is_err()
        && !matches!(value, "true" | "false" | "yes" | "no" | "null" | "on" | "off");
    if plain { value.to_string() } else { serde_json::to_string(value).unwrap_or_default() }
}

/// Replaces the top-level `key:` block of a manifest (its line and the
/// indented lines under it) with `block`, or appends `block` when there is none.
pub(crate) fn set_block(text: &str, key: &str, block: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let head = format!("{key}:");
    let Some(start) = lines.iter().position(|l| *l == head || l.starts_with(&format!("{head} "))) else {
        let mut out = text.trim_end().to_string();
        out.push_str("\n\n");
        out.push_str(block);
        return out;
    };
    let mut end = start + 1;
    while end < lines.len() && (lines[end].is_empty() || lines[end].starts_with([' ', '\t'])) {
        end += 1;
    }
    // Blank lines before the next section stay with it.
    while end > start + 1 && lines[end - 1].is_empty() {
        end -= 1;
    }
    let mut out: Vec<String> = lines[..start].iter().map(|l| l.to_string()).collect();
    out.extend(block.trim_end().lines().map(str::to_string));
    out.extend(lines[end..].iter().map(|l| l.to_string()));
    out.join("\n") + "\n"
}

/// Adds `lines` right under the top-level `key:` line, or appends `key:` with them.
pub(crate) fn insert_under(text: &str, key: &str, lines: &[String]) -> String {
    let head = format!("{key}:");
    let mut all: Vec<String> = text.lines().map(str::to_string).collect();
    match all.iter().position(|l| *l == head) {
        Some(at) => {
            for (i, line) in lines.iter().enumerate() {
                all.insert(at + 1 + i, line.clone());
            }
            all.join("\n") + "\n"
        }
        None => {
            let mut out = text.trim_end().to_string();
            out.push_str(&format!("\n\n{head}\n"));
            for line in lines {
                out.push_str(line);
                out.push('\n');
            }
            out
        }
    }
}

fn workload_edited(
    args: WorkloadInit,
    noun: Noun,
    edit: &dyn Fn(&str, String) -> Result<String>,
    cx: &CommandContext,
) -> Result<()> {
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
    let text = edit(&kind, text)?;
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
    let args = EnvInit {
        name,
        app,
        default_config: true,
        import_vpc_id: None,
        import_public_subnets: Vec::new(),
        import_private_subnets: Vec::new(),
        import_cert_arns: Vec::new(),
        override_vpc_cidr: None,
        override_az_names: Vec::new(),
        override_public_cidrs: Vec::new(),
        override_private_cidrs: Vec::new(),
        internal_alb_subnets: Vec::new(),
        internal_alb_allow_vpc_ingress: false,
        container_insights: false,
        credentials: Default::default(),
        downgrade: Default::default(),
    };
    environment_with(args, cx)
}

/// The `network`, `http` and `observability` sections Copilot's `env init`
/// flags stand for, written into the plugin's template.
fn environment_sections(args: &EnvInit, mut text: String) -> Result<String> {
    let list = |items: &[String], field: &str, indent: &str| -> String {
        items.iter().map(|i| format!("{indent}- {field}: {}\n", yaml_scalar(i))).collect()
    };
    if let Some(vpc) = &args.import_vpc_id {
        if args.import_public_subnets.is_empty() && args.import_private_subnets.is_empty() {
            return Err(Failure::new("--import-vpc-id needs the subnets to use")
                .hint("pass --import-public-subnets and/or --import-private-subnets")
                .into());
        }
        let mut block = format!("network:\n  vpc:\n    id: {}\n    subnets:\n", yaml_scalar(vpc));
        if !args.import_public_subnets.is_empty() {
            block.push_str("      public:\n");
            block.push_str(&list(&args.import_public_subnets, "id", "        "));
        }
        if !args.import_private_subnets.is_empty() {
            block.push_str("      private:\n");
            block.push_str(&list(&args.import_private_subnets, "id", "        "));
        }
        text = set_block(&text, "network", &block);
    } else if args.override_vpc_cidr.is_some()
        || !args.override_az_names.is_empty()
        || !args.override_public_cidrs.is_empty()
        || !args.override_private_cidrs.is_empty()
    {
        let or_default = |given: &[String], default: [&str; 2]| -> Vec<String> {
            if given.is_empty() { default.iter().map(|s| s.to_string()).collect() } else { given.to_vec() }
        };
        let public = or_default(&args.override_public_cidrs, ["10.0.0.0/24", "10.0.1.0/24"]);
        let private = or_default(&args.override_private_cidrs, ["10.0.2.0/24", "10.0.3.0/24"]);
        let azs = &args.override_az_names;
        if !azs.is_empty() && (azs.len() != public.len() || azs.len() != private.len()) {
            return Err(Failure::new(format!(
                "--override-az-names has {} zones for {} public and {} private subnets",
                azs.len(),
                public.len(),
                private.len()
            ))
            .hint("give one availability zone per subnet CIDR, in the same order")
            .into());
        }
        let subnets = |cidrs: &[String]| -> String {
            cidrs
                .iter()
                .enumerate()
                .map(|(i, cidr)| match azs.get(i) {
                    Some(az) => format!("        - cidr: {cidr}\n          az: {}\n", yaml_scalar(az)),
                    None => format!("        - cidr: {cidr}\n"),
                })
                .collect()
        };
        let cidr = args.override_vpc_cidr.clone().unwrap_or_else(|| "10.0.0.0/16".into());
        let block = format!(
            "network:\n  vpc:\n    cidr: {cidr}\n    subnets:\n      public:\n{}      private:\n{}",
            subnets(&public),
            subnets(&private)
        );
        text = set_block(&text, "network", &block);
    }
    if !args.import_cert_arns.is_empty() || !args.internal_alb_subnets.is_empty() || args.internal_alb_allow_vpc_ingress
    {
        let mut block = String::from("http:\n");
        if !args.import_cert_arns.is_empty() {
            block.push_str("  public:\n    certificates:\n");
            for arn in &args.import_cert_arns {
                block.push_str(&format!("      - {}\n", yaml_scalar(arn)));
            }
        }
        if !args.internal_alb_subnets.is_empty() || args.internal_alb_allow_vpc_ingress {
            block.push_str("  private:\n");
            if !args.internal_alb_subnets.is_empty() {
                block.push_str("    subnets:\n");
                for subnet in &args.internal_alb_subnets {
                    block.push_str(&format!("      - {}\n", yaml_scalar(subnet)));
                }
            }
            if args.internal_alb_allow_vpc_ingress {
                block.push_str("    ingress:\n      vpc: true\n");
            }
        }
        text = set_block(&text, "http", &block);
    }
    if args.container_insights {
        text = set_block(&text, "observability", "observability:\n  container_insights: true\n");
    }
    Ok(text)
}

/// `env init`: writes the manifest, shaped by Copilot's flags. An
/// environment that already has one keeps it and the command goes on (as
/// Copilot does), so a script that runs `env init` every time keeps working.
pub fn environment_with(args: EnvInit, cx: &CommandContext) -> Result<()> {
    let out = &cx.out;
    let ws = cx.workspace_to_act_on(args.app.as_deref())?;
    let name = ask(args.name.clone(), "--name", "Name of the environment", Some("test".into()))?;
    check_name(&name, "environment")?;
    let dir = ws.copilot_dir.join("environments").join(&name);
    if dir.join("manifest.yml").exists() {
        out.status(
            "Kept",
            &format!("{} (environment {name} already has a manifest)", out.path(&dir.join("manifest.yml"))),
        );
        out.note(&format!("next: ferry env deploy -n {name}"));
        return Ok(());
    }
    let registry = cx.registry()?;
    let plugin = ferry_render::choose(&registry, "Environment", Role::Environment)?;
    let text = plugin.info().manifest_template.replace("{{name}}", &name);
    let text = environment_sections(&args, text)?;
    write_checked(&plugin, &dir, &text, out)?;
    out.status("Wrote", &out.path(&dir.join("manifest.yml")));
    out.note(&format!("next: ferry env package -n {name}"));
    Ok(())
}
