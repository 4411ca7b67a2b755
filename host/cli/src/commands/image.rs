//! Images for deploys: builds what `image.build` asks with the engine found
//! (or named by `--builder`), pushes it to the workload's ECR repository and
//! hands the render `<repository>@sha256:...`, so deploying the same bits
//! again changes no stack. Everything here happens before any stack changes.

use crate::cli::ImageFlags;
use crate::output::{DeployView, Output};
use crate::render::{PushedImages, process_env};
use anyhow::{Context, Result, anyhow, bail};
use ferry_aws::app::Session;
use ferry_aws::ecr::Ecr;
use ferry_aws::metadata::EnvRecord;
use ferry_core::Failure;
use ferry_core::{Error as CoreError, Workspace, naming};
use ferry_image::{Engine, ImageBuild, LineSink, Login, WorkloadBuilds, sidecar_tag};
use ferry_plugin_protocol::ImageRef;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

/// Sends pushes to this registry (`host[:port]`) instead of the account's ECR
/// registry: for tests and air-gapped mirrors. ECR still issues the login.
pub const REGISTRY_OVERRIDE: &str = "FERRY_ECR_REGISTRY";

/// The images each workload in `names` builds (its main container's and its
/// sidecars'), by workload name. Workloads that build nothing are left out.
/// Sidecar images go to the workload's repository under `<sidecar>-<tag>`
/// tags, as Copilot pushes them.
#[allow(clippy::too_many_arguments)]
pub async fn resolve(
    ws: &Workspace,
    session: &Session,
    env: &EnvRecord,
    names: &[String],
    flags: &ImageFlags,
    concurrency: usize,
    view: &DeployView,
    out: &Output,
) -> Result<HashMap<String, PushedImages>> {
    // One build job per image: (workload, sidecar or None for the main container, build).
    let mut jobs: Vec<(String, Option<String>, ImageBuild)> = Vec::new();
    for name in names {
        let builds = workload_builds(ws, &env.name, name)?;
        if let Some(main) = builds.main {
            jobs.push((name.clone(), None, main));
        }
        for (sidecar, build) in builds.sidecars {
            jobs.push((name.clone(), Some(sidecar), build));
        }
    }
    if jobs.is_empty() {
        return Ok(HashMap::new());
    }
    if let Some(tag) = flags.tag.as_deref().filter(|t| !ferry_image::valid_tag(t)) {
        return Err(Failure::new(format!("--tag `{tag}` is not a valid image tag"))
            .hint(
                "use letters, digits, `_`, `.` and `-`, starting with a letter, digit or `_` (at most 128 characters)",
            )
            .into());
    }
    if flags.no_build {
        let tag = flags.tag.as_deref().ok_or_else(|| anyhow!("--no-build needs --tag"))?;
        let mut images: HashMap<String, PushedImages> = HashMap::new();
        for (name, sidecar, _) in jobs {
            let repository = format!("{}/{}", env.registry_url, naming::ecr_repository(&ws.app, &name));
            let entry = images.entry(name).or_default();
            match sidecar {
                None => entry.main = Some(ImageRef { uri: format!("{repository}:{tag}"), digest: None }),
                Some(s) => {
                    let uri = format!("{repository}:{}", sidecar_tag(&s, tag));
                    entry.sidecars.insert(s, ImageRef { uri, digest: None });
                }
            }
        }
        return Ok(images);
    }
    let mut tags: Vec<String> = ferry_image::source_tag(&ws.root).into_iter().collect();
    if let Some(tag) = &flags.tag
        && !tags.contains(tag)
    {
        tags.push(tag.clone());
    }
    if tags.is_empty() {
        out.note("no --tag, and the workspace is not a clean git checkout: tagging images `latest` (the deploy pins their digest)");
        tags.push("latest".into());
    }

    let timestamp = ferry_image::source_time(&ws.root);
    let engine = Arc::new(ferry_image::detect(flags.builder.as_deref()).await?);
    let ecr = Ecr::new(session.aws.ecr());
    let auth = ecr.authorization().await?;
    let overridden = std::env::var(REGISTRY_OVERRIDE).ok().map(|r| r.trim().to_string()).filter(|r| !r.is_empty());
    let registry = overridden.clone().unwrap_or_else(|| auth.registry.clone());
    if registry.is_empty() {
        return Err(Failure::new("ECR named no registry for this account")
            .hint(format!("set {REGISTRY_OVERRIDE} to the registry to push to"))
            .into());
    }
    if registry.contains('/') {
        return Err(Failure::new(format!("{REGISTRY_OVERRIDE}=`{registry}` is not a registry host"))
            .hint("give `host` or `host:port`, without a scheme or path, e.g. 127.0.0.1:5000")
            .into());
    }
    let login = Arc::new(
        engine
            .login(&registry, &auth.user, &auth.password, overridden.is_some(), &sink(out, "login"))
            .await
            .with_context(|| format!("cannot log in to {registry} with ECR's authorization token"))?,
    );

    let building: Vec<String> = jobs.iter().map(|(n, s, _)| label(n, s.as_deref())).collect();
    out.status(
        "Building",
        &format!(
            "{} with {} ({}), tagged {}",
            building.join(", "),
            engine.name(),
            engine.program.display(),
            tags.join(", ")
        ),
    );
    // podman and buildah share one local store whose layer cache is keyed by
    // parent image: builds sharing first steps would fork it when run at
    // once, and the next deploy would rebuild. They build one at a time and
    // push concurrently; docker (BuildKit, content-addressed cache) does both at once.
    let builds = if engine.kind == ferry_image::EngineKind::Docker { concurrency.max(1) } else { 1 };
    let limit = Arc::new(tokio::sync::Semaphore::new(builds));
    let mut tasks = tokio::task::JoinSet::new();
    for (name, sidecar, spec) in jobs {
        let repository = naming::ecr_repository(&ws.app, &name);
        let uri = format!("{registry}/{repository}");
        let shown = label(&name, sidecar.as_deref());
        let (engine, limit, tags, sink) = (engine.clone(), limit.clone(), tags.clone(), sink(out, &shown));
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await;
            let started = Instant::now();
            let references: Vec<String> = tags
                .iter()
                .map(|t| match &sidecar {
                    None => format!("{uri}:{t}"),
                    Some(s) => format!("{uri}:{}", sidecar_tag(s, t)),
                })
                .collect();
            let result = engine.build(&shown, &spec, &references, timestamp, &sink).await.map_err(anyhow::Error::new);
            ((name, sidecar), uri, references, started, result)
        });
    }
    let mut built = Vec::new();
    let mut failed = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (name, uri, references, started, result) =
            joined.map_err(|e| anyhow!("an image build task failed: {e}"))?;
        match result {
            Ok(()) => built.push((name, uri, references, started)),
            Err(e) => failed.push(e),
        }
    }
    if !failed.is_empty() {
        let count = failed.len();
        let mut errors = failed.into_iter();
        let first = errors.next().unwrap_or_else(|| anyhow!("an image build failed"));
        if count == 1 {
            return Err(first);
        }
        // Each failure keeps its hint, in the one-line form.
        let rest: Vec<String> = errors.map(|e| crate::output::inline(&e)).collect();
        bail!("{count} image builds failed:\n{}\n{}", crate::output::inline(&first), rest.join("\n"));
    }

    // The caller has had the app's StackSet make each workload's repository
    // (as Copilot's does). One made outside it would shadow the StackSet's,
    // so a missing one is an error, never created here.
    let mut repositories: Vec<String> =
        built.iter().map(|((name, _), ..)| naming::ecr_repository(&ws.app, name)).collect();
    repositories.dedup();
    for repository in &repositories {
        if !ecr.exists(repository).await? {
            return Err(Failure::new(format!("ECR repository {repository} does not exist"))
                .why(format!("the app's StackSet {} makes each workload's repository, and it has none for this one", naming::app_stack_set(&ws.app)))
                .hint("deploy again (`ferry svc deploy` converges the StackSet first); if it persists, look at the StackSet's last operation in the CloudFormation console")
                .into());
        }
    }
    let limit = Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
    let mut pushes = tokio::task::JoinSet::new();
    for (name, uri, references, started) in built {
        let shown = label(&name.0, name.1.as_deref());
        let (engine, login, limit, sink) = (engine.clone(), login.clone(), limit.clone(), sink(out, &shown));
        pushes.spawn(async move {
            let _permit = limit.acquire_owned().await;
            let result = push_all(&engine, &login, &references, &sink).await;
            (name, uri, references, started, result)
        });
    }
    let mut images: HashMap<String, PushedImages> = HashMap::new();
    let mut failed = Vec::new();
    while let Some(joined) = pushes.join_next().await {
        let (name, uri, references, started, result) = joined.map_err(|e| anyhow!("an image push task failed: {e}"))?;
        let digest = match result {
            Ok(digest) => digest,
            Err(e) => {
                failed.push(e);
                continue;
            }
        };
        let pinned = format!("{uri}@{digest}");
        let (name, sidecar) = name;
        view.emit(serde_json::json!({
            "event": "image_pushed", "workload": name, "sidecar": sidecar, "image": pinned, "digest": digest,
            "tags": references, "engine": engine.name(), "seconds": started.elapsed().as_secs_f64(),
        }));
        out.status("Pushed", &format!("{}: {pinned}", label(&name, sidecar.as_deref())));
        let image = ImageRef { uri: pinned, digest: Some(digest) };
        let entry = images.entry(name).or_default();
        match sidecar {
            None => entry.main = Some(image),
            Some(s) => {
                entry.sidecars.insert(s, image);
            }
        }
    }
    if let Some(first) = failed.into_iter().next() {
        return Err(first);
    }
    Ok(images)
}

/// Pushes every tag of one image; they must all name the same digest.
async fn push_all(engine: &Engine, login: &Login, references: &[String], sink: &LineSink) -> Result<String> {
    let mut digest: Option<String> = None;
    for reference in references {
        let pushed = engine.push(login, reference, sink).await?;
        match &digest {
            Some(first) if first != &pushed => {
                return Err(Failure::new(format!(
                    "{reference} was pushed as {pushed}, other tags of the same build as {first}"
                ))
                .hint(format!("another push to {} changed it meanwhile; deploy again", login.registry))
                .into());
            }
            _ => digest = Some(pushed),
        }
    }
    digest.ok_or_else(|| anyhow!("no tag to push"))
}

/// The builds a workload's manifest asks for in `env` (overrides applied),
/// with bad values reported at their file:line:col.
pub(crate) fn workload_builds(ws: &Workspace, env: &str, name: &str) -> Result<WorkloadBuilds> {
    let manifest = ws.load_workload(name)?;
    let effective = manifest.effective(&ws.app, env, &process_env)?;
    WorkloadBuilds::from_manifest(&ws.root, &effective.value)
        .map_err(|e| CoreError::problem(effective.problem(&e.pointer, &e.message, e.hint, false)).into())
}

/// How an image is named in output: the workload, or `workload/sidecar`.
fn label(name: &str, sidecar: Option<&str>) -> String {
    match sidecar {
        None => name.to_string(),
        Some(s) => format!("{name}/{s}"),
    }
}

/// Engine output lines, through the printer: prefixed with the service they
/// belong to, on stderr (stdout stays machine-readable under --json).
fn sink(out: &Output, label: &str) -> LineSink {
    let (out, label) = (out.clone(), label.to_string());
    Arc::new(move |line: &str| out.engine_line(&label, line))
}
