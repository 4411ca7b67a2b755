//! `svc package`, `job package`, `env package` and `package`: render stacks
//! offline and write them out.

use crate::cli::{EnvPackage, PackageAll, WorkloadPackage};
use crate::context::CommandContext;
use crate::output::Output;
use crate::render::{self, ImageOptions, RenderedEnvironment, RenderedWorkload};
use anyhow::{Context, Result};
use ferry_core::Problem;
use ferry_core::stack::Stack;
use rayon::prelude::*;
use std::borrow::Cow;
use std::path::{Path, PathBuf};

pub fn workloads(args: WorkloadPackage, cx: &CommandContext) -> Result<()> {
    let out = &cx.out;
    let ws = cx.workspace(args.app.as_deref())?;
    let registry = cx.registry()?;
    let setup = render::env_setup(&ws, &ws.app, &args.env)?;
    let image = ImageOptions { tag: args.tag.clone(), registry: args.registry.clone(), pushed: None };
    if args.tag.is_some() && args.registry.is_none() && !args.upload_assets {
        out.note("note: --tag without --registry: ContainerImage is left for deploy to fill in");
    }
    let names = match &args.name {
        Some(name) => vec![name.clone()],
        None => ws.workload_names(),
    };
    let results: Vec<Result<RenderedWorkload>> = if args.upload_assets {
        let flags = crate::cli::ImageFlags { tag: args.tag.clone(), builder: args.builder.clone(), no_build: false };
        let rendered = cx.block_on(super::assets::render_with_assets(cx, ws.clone(), &args.env, &names, &flags))?;
        rendered.into_iter().map(Ok).collect()
    } else {
        let render_one = |name: &String| render::render_workload(&ws, &registry, &setup, name, &image);
        // One workload renders on this thread: starting rayon's pool for it
        // cost more than the render (two threads spun up, then spinning in
        // `sched_yield` while this one waited).
        match names.as_slice() {
            [name] => vec![render_one(name)],
            _ => names.par_iter().map(render_one).collect(),
        }
    };
    let mut rendered = Vec::new();
    let mut failures = Vec::new();
    for (name, result) in names.iter().zip(results) {
        match result {
            Ok(r) => rendered.push(r),
            Err(e) => failures.push(e.context(format!("cannot package `{name}` for environment `{}`", args.env))),
        }
    }
    for r in &rendered {
        warn_all(out, &r.warnings);
    }
    if args.diff {
        if let Some(failure) = failures.into_iter().next() {
            out.error(&failure);
            return Err(super::compat::Exit(2).into());
        }
        return match rendered.first() {
            Some(r) => diff_against_deployed(cx, &r.stack),
            None => Ok(()),
        };
    }
    match &args.output_dir {
        Some(dir) => {
            let files: Vec<StackFiles> = rendered.iter().map(|r| workload_files(out, dir, r, &args.env)).collect();
            write_all(out, dir, files)?;
        }
        None => {
            if let Some(r) = rendered.first() {
                out.debug(&format!("{} rendered by plugin {}", r.name, r.plugin));
                out.data(&pretty(&r.stack.template));
            }
        }
    }
    finish(out, failures)
}

pub fn environment(args: EnvPackage, cx: &CommandContext) -> Result<()> {
    let out = &cx.out;
    let ws = cx.workspace(args.app.as_deref())?;
    let registry = cx.registry()?;
    let setup = render::env_setup(&ws, &ws.app, &args.name)?;
    let RenderedEnvironment { stack, warnings, addons_template, .. } =
        render::render_environment(&ws, &registry, &setup)?;
    warn_all(out, &warnings);
    if args.diff {
        return diff_against_deployed(cx, &stack);
    }
    match &args.output_dir {
        Some(dir) => {
            write_all(out, dir, vec![environment_files(out, dir, &args.name, &stack, addons_template.as_ref())])
        }
        None => {
            out.data(&pretty(&stack.template));
            Ok(())
        }
    }
}

/// An environment stack and the warnings its plugin reported.
pub fn everything(args: PackageAll, cx: &CommandContext) -> Result<()> {
    let out = &cx.out;
    let ws = cx.workspace(args.app.as_deref())?;
    let registry = cx.registry()?;
    let setup = render::env_setup(&ws, &ws.app, &args.env)?;
    let names = ws.workload_names();
    let (env_result, results): (Result<RenderedEnvironment>, Vec<Result<RenderedWorkload>>) = rayon::join(
        || render::render_environment(&ws, &registry, &setup),
        || {
            names
                .par_iter()
                .map(|name| render::render_workload(&ws, &registry, &setup, name, &ImageOptions::default()))
                .collect()
        },
    );
    let env = env_result.context(format!("cannot package environment `{}`", args.env))?;
    let dir = &args.output_dir;
    let mut rendered = Vec::new();
    let mut failures = Vec::new();
    for (name, result) in names.iter().zip(results) {
        match result {
            Ok(r) => rendered.push(r),
            Err(e) => failures.push(e.context(format!("cannot package `{name}` for environment `{}`", args.env))),
        }
    }
    // Each stack's warnings are shown with the line that reports it written.
    let mut files = vec![environment_files(out, dir, &args.env, &env.stack, env.addons_template.as_ref())];
    files[0].warnings = &env.warnings;
    for r in &rendered {
        let mut workload = workload_files(out, dir, r, &args.env);
        workload.warnings = &r.warnings;
        files.push(workload);
    }
    write_all(out, dir, files)?;
    finish(out, failures)
}

/// `package --diff`: prints the difference between the deployed template and
/// this one, and exits as Copilot does: 0 when there is none, 1 when there
/// are changes, 2 when the diff could not be made.
fn diff_against_deployed(cx: &CommandContext, stack: &Stack) -> Result<()> {
    use ferry_aws::cfn::CloudFormationApi;
    let out = &cx.out;
    let deployed = cx.block_on(async {
        let session = super::aws::session(false).await?;
        match session.cfn.describe_stack(&stack.name).await? {
            Some(_) => Ok(Some(session.cfn.get_template(&stack.name).await?)),
            None => Ok(None),
        }
    });
    let deployed = match deployed {
        Ok(deployed) => deployed,
        Err(e) => {
            out.error(&e.context(format!("cannot read the deployed template of stack {}", stack.name)));
            return Err(super::compat::Exit(2).into());
        }
    };
    let old = match &deployed {
        Some(body) => match serde_json::from_str::<serde_json::Value>(body) {
            Ok(value) => pretty(&value),
            Err(_) => body.clone(),
        },
        None => String::new(),
    };
    let new = pretty(&stack.template);
    if old == new {
        out.status("No changes", &format!("stack {} is deployed with this template", stack.name));
        return Ok(());
    }
    let old_label = if deployed.is_some() { format!("{} (deployed)", stack.name) } else { "(not deployed)".into() };
    out.diff(&old_label, &format!("{} (this workspace)", stack.name), &old, &new);
    Err(super::compat::Exit(1).into())
}

fn warn_all(out: &Output, warnings: &[Problem]) {
    for w in warnings {
        out.warning(w);
    }
}

/// Reports every failure, not just the first, then fails if there was any.
fn finish(out: &Output, mut failures: Vec<anyhow::Error>) -> Result<()> {
    match failures.len() {
        0 => Ok(()),
        1 => Err(failures.remove(0)),
        n => {
            for failure in &failures {
                out.error(failure);
            }
            anyhow::bail!("{n} workloads failed to package")
        }
    }
}

fn pretty(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

/// Writes `text` unless the file already holds exactly it. Packaging again
/// into the same directory then changes nothing on disk (modification times
/// stay, so tools watching the directory see no change), and skips what
/// rewriting costs on ext4: truncating frees and discards the old blocks,
/// and closing a truncated-then-written file starts its write-back at once.
fn write_file(path: &Path, text: &str) -> Result<()> {
    let unchanged = std::fs::metadata(path).is_ok_and(|meta| meta.is_file() && meta.len() == text.len() as u64)
        && std::fs::read(path).is_ok_and(|old| old == text.as_bytes());
    if unchanged {
        return Ok(());
    }
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// The files of one stack (each path with its JSON, pretty-printed by the
/// thread that writes it) and the lines that report them once written.
struct StackFiles<'a> {
    files: Vec<(PathBuf, Cow<'a, serde_json::Value>)>,
    status: Vec<String>,
    /// Shown before the status lines.
    warnings: &'a [Problem],
}

impl<'a> StackFiles<'a> {
    /// Adds a template written beside the stack (its addons), reported on
    /// a line of its own.
    fn add(&mut self, out: &Output, path: PathBuf, template: &'a serde_json::Value) {
        self.status.push(out.path(&path));
        self.files.push((path, Cow::Borrowed(template)));
    }
}

fn stack_files<'a>(out: &Output, dir: &Path, base: &str, stack: &'a Stack) -> StackFiles<'a> {
    let template: PathBuf = dir.join(format!("{base}.stack.json"));
    let params = dir.join(format!("{base}.params.json"));
    let status = format!("{} and {} (stack {})", out.path(&template), out.path(&params), stack.name);
    StackFiles {
        files: vec![(template, Cow::Borrowed(&stack.template)), (params, Cow::Owned(stack.configuration()))],
        status: vec![status],
        warnings: &[],
    }
}

/// `<env>.env.stack.json` and its parameters, and the environment addons
/// template beside them as `<env>.env.addons.stack.json` (as a workload's).
fn environment_files<'a>(
    out: &Output,
    dir: &Path,
    env: &str,
    stack: &'a Stack,
    addons: Option<&'a serde_json::Value>,
) -> StackFiles<'a> {
    let mut files = stack_files(out, dir, &format!("{env}.env"), stack);
    if let Some(addons) = addons {
        files.add(out, dir.join(format!("{env}.env.addons.stack.json")), addons);
    }
    files
}

fn workload_files<'a>(out: &Output, dir: &Path, rendered: &'a RenderedWorkload, env: &str) -> StackFiles<'a> {
    out.debug(&format!("{} rendered by plugin {}", rendered.name, rendered.plugin));
    let mut files = stack_files(out, dir, &format!("{}-{env}", rendered.name), &rendered.stack);
    if let Some(addons) = &rendered.addons_template {
        files.add(out, dir.join(format!("{}.addons.stack.json", rendered.name)), addons);
    }
    files
}

/// Writes every stack's files, several stacks at a time (one after another,
/// pretty-printing and writing 50 stacks kept one core busy after the
/// renders had run on both), then reports each stack written, in order,
/// and then the first failure.
fn write_all(out: &Output, dir: &Path, stacks: Vec<StackFiles>) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let write = |stack: &StackFiles| stack.files.iter().try_for_each(|(path, value)| write_file(path, &pretty(value)));
    let written: Vec<Result<()>> = match stacks.as_slice() {
        [one] => vec![write(one)],
        _ => stacks.par_iter().map(write).collect(),
    };
    let mut failure = None;
    for (stack, result) in stacks.iter().zip(written) {
        warn_all(out, stack.warnings);
        match result {
            Ok(()) => stack.status.iter().for_each(|line| out.status("Wrote", line)),
            Err(e) => {
                failure.get_or_insert(e);
            }
        }
    }
    failure.map_or(Ok(()), Err)
}
