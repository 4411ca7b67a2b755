//! Services, jobs and environments: manifest, overrides for the
//! environment, the plugin of the right kind, validate, render, and the
//! stack assembled around the plugin's fragment.

use crate::call::{Subject, off_async};
use crate::select::{Role, plugin_for};
use crate::{RenderError, process_env};
use ferry_core::{Manifest, Problem, Workspace, addons, capabilities, patches, stack, workspace};
use ferry_plugin_protocol::host_steps::HostStep;
use ferry_plugin_protocol::{EnvironmentCapabilities, ImageRef, RenderContext, WorkloadSummary};
use ferry_runtime::Registry;
use indexmap::IndexMap;
use rayon::prelude::*;
use serde_json::Value;
use std::borrow::Cow;
use std::collections::HashMap;

/// Everything a render needs that is the same for every workload of one env.
pub struct EnvRenderSetup {
    pub app: String,
    pub env: String,
    pub capabilities: EnvironmentCapabilities,
    pub workloads: Vec<WorkloadSummary>,
    pub app_domain: Option<String>,
    /// The load balancers workloads import with `http.alb`, by workload, as
    /// deploy found them in the account (empty offline: `package`).
    pub imported_albs: std::collections::HashMap<String, ferry_plugin_protocol::ImportedAlb>,
    /// The subnets `network.vpc.placement.subnets.from_tags` selects, by
    /// workload, as deploy found them (empty offline).
    pub placement_subnets: std::collections::HashMap<String, Vec<String>>,
    /// Zone IDs of the app's domain and of `<app>.<domain>`: read from AWS
    /// at deploy (left unset offline).
    pub domain_hosted_zone_id: Option<String>,
    pub app_hosted_zone_id: Option<String>,
    /// Every workload's manifest, parsed once for the summaries above and
    /// rendered from the same parse.
    manifests: HashMap<String, Manifest>,
}

impl EnvRenderSetup {
    /// Loads the environment's manifest to learn what it offers workloads.
    pub fn load(ws: &Workspace, app: &str, env: &str) -> Result<Self, RenderError> {
        let env_manifest = ws.load_environment(env)?;
        let effective = env_manifest.effective(app, env, &process_env)?;
        let capabilities = capabilities::from_environment_manifest(&effective.value, ws.domain.as_deref());
        let manifests = load_workloads(ws)?;
        let workloads = manifests.iter().map(|manifest| workspace::workload_summary(manifest, env)).collect();
        Ok(EnvRenderSetup {
            app: app.to_string(),
            env: env.to_string(),
            capabilities,
            workloads,
            manifests: manifests.into_iter().map(|manifest| (manifest.name.clone(), manifest)).collect(),
            app_domain: ws.domain.clone(),
            imported_albs: Default::default(),
            placement_subnets: Default::default(),
            domain_hosted_zone_id: None,
            app_hosted_zone_id: None,
        })
    }

    /// The workload's manifest as parsed for this setup, or read now for a
    /// workload that was not there then.
    fn manifest(&self, ws: &Workspace, name: &str) -> Result<Cow<'_, Manifest>, RenderError> {
        match self.manifests.get(name) {
            Some(manifest) => Ok(Cow::Borrowed(manifest)),
            None => Ok(Cow::Owned(ws.load_workload(name)?)),
        }
    }

    fn context(&self, name: &str) -> RenderContext {
        RenderContext {
            app: self.app.clone(),
            env: self.env.clone(),
            name: name.to_string(),
            app_domain: self.app_domain.clone(),
            domain_hosted_zone_id: self.domain_hosted_zone_id.clone(),
            app_hosted_zone_id: self.app_hosted_zone_id.clone(),
            environment: self.capabilities.clone(),
            workloads: self.workloads.clone(),
            imported_alb: self.imported_albs.get(name).cloned(),
            placement_subnets: self.placement_subnets.get(name).cloned(),
            ..RenderContext::default()
        }
    }
}

/// Reads every workload's manifest, in name order; the first that fails is
/// the error. Parsing is spread over threads for a workspace of many
/// workloads; a few are read on this thread, where starting the thread pool
/// would cost more than the parsing.
fn load_workloads(ws: &Workspace) -> Result<Vec<Manifest>, RenderError> {
    const PARALLEL_FROM: usize = 8;
    let names = ws.workload_names();
    let manifests: Vec<Result<Manifest, ferry_core::Error>> = if names.len() < PARALLEL_FROM {
        names.iter().map(|name| ws.load_workload(name)).collect()
    } else {
        names.par_iter().map(|name| ws.load_workload(name)).collect()
    };
    Ok(manifests.into_iter().collect::<Result<_, _>>()?)
}

/// The image a workload with `image.build` runs: `registry/repository:tag`
/// (`svc package --tag`, `deploy --no-build`), or what ferry built and
/// pushed, pinned by digest.
#[derive(Default, Clone)]
pub struct ImageOptions {
    pub tag: Option<String>,
    pub registry: Option<String>,
    pub pushed: Option<PushedImages>,
}

/// What ferry built and pushed for one workload, pinned by digest: the
/// main container's image and each building sidecar's, by sidecar name.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct PushedImages {
    pub main: Option<ImageRef>,
    pub sidecars: std::collections::BTreeMap<String, ImageRef>,
}

/// A rendered workload: its stack and, when it has addons, their template.
pub struct RenderedWorkload {
    pub name: String,
    /// Name and version of the plugin that rendered it.
    pub plugin: String,
    pub stack: stack::Stack,
    pub addons_template: Option<Value>,
    pub warnings: Vec<Problem>,
    /// What each resource is, by logical ID (from the plugin), for deploy progress.
    pub descriptions: HashMap<String, String>,
    /// Host actions the plugin declared and asked for (checked at deploy).
    pub host_steps: Vec<HostStep>,
}

/// A rendered environment stack and, when `copilot/environments/addons/`
/// holds templates, their merged template (its nested `AddonsStack`).
pub struct RenderedEnvironment {
    pub stack: stack::Stack,
    pub addons_template: Option<Value>,
    pub warnings: Vec<Problem>,
    pub descriptions: HashMap<String, String>,
}

/// Renders one service or job for one environment.
pub fn render_workload(
    ws: &Workspace,
    registry: &Registry,
    setup: &EnvRenderSetup,
    name: &str,
    image: &ImageOptions,
) -> Result<RenderedWorkload, RenderError> {
    off_async(|| -> Result<RenderedWorkload, RenderError> {
        let manifest = setup.manifest(ws, name)?;
        let effective = manifest.effective(&setup.app, &setup.env, &process_env)?;
        let plugin = plugin_for(registry, &manifest, Role::Workload)?;
        let addons = addons::load(&manifest.dir)?;
        let patches = patches::load(&manifest.dir)?;
        let mut context = setup.context(name);
        context.addons = addons.as_ref().map(|a| a.outputs.clone());
        if let Some(pushed) = &image.pushed {
            context.image = pushed.main.clone();
            context.sidecar_images = pushed.sidecars.clone();
        } else if let (Some(tag), Some(registry)) = (&image.tag, &image.registry) {
            let repository = ferry_core::naming::ecr_repository(&setup.app, name);
            context.image = Some(ImageRef { uri: format!("{registry}/{repository}:{tag}"), digest: None });
            for sidecar in ferry_image::built_sidecars(&effective.value) {
                let uri = format!("{registry}/{repository}:{}", ferry_image::sidecar_tag(&sidecar, tag));
                context.sidecar_images.insert(sidecar, ImageRef { uri, digest: None });
            }
        }
        let locate = |pointer: &str| effective.locate(pointer);
        let subject = Subject {
            manifest_json: effective.value.to_string(),
            locate: &locate,
            name: name.to_string(),
            plugin_role: "plugin",
        };
        let (output, warnings) = subject.validate_and_render(&plugin, &context)?;
        let plugin_name = &plugin.info().name;
        let stack = stack::workload_stack(stack::WorkloadStackInput {
            app: &setup.app,
            env: &setup.env,
            workload: name,
            fragment: output.template,
            parameters: output.parameters,
            addons: addons.as_ref(),
            addons_url: None,
            patches: &patches,
            extra_tags: &IndexMap::new(),
        })
        .map_err(|source| RenderError::Assemble {
            subject: format!("`{name}` (rendered by plugin `{plugin_name}`)"),
            source,
        })?;
        Ok(RenderedWorkload {
            name: name.to_string(),
            plugin: format!("{} {}", plugin.info().name, plugin.info().version),
            stack,
            addons_template: addons.map(|a| a.template),
            warnings,
            descriptions: output.descriptions.into_iter().collect(),
            host_steps: output.host_steps,
        })
    })
}

/// Renders the environment stack.
pub fn render_environment(
    ws: &Workspace,
    registry: &Registry,
    setup: &EnvRenderSetup,
) -> Result<RenderedEnvironment, RenderError> {
    off_async(|| -> Result<RenderedEnvironment, RenderError> {
        let manifest = ws.load_environment(&setup.env)?;
        let effective = manifest.effective(&setup.app, &setup.env, &process_env)?;
        let plugin = plugin_for(registry, &manifest, Role::Environment)?;
        let context = setup.context(&setup.env);
        let locate = |pointer: &str| effective.locate(pointer);
        let subject = Subject {
            manifest_json: effective.value.to_string(),
            locate: &locate,
            name: setup.env.clone(),
            plugin_role: "plugin",
        };
        let (output, warnings) = subject.validate_and_render(&plugin, &context)?;
        if let Some(step) = output.host_steps.first() {
            return Err(RenderError::HostStepNotAllowed {
                plugin: plugin.info().name.clone(),
                step: step.kind().to_string(),
                env: setup.env.clone(),
            });
        }
        let mut stack =
            stack::environment_stack(&setup.app, &setup.env, output.template, output.parameters, &IndexMap::new())
                .map_err(|source| RenderError::Assemble { subject: format!("environment `{}`", setup.env), source })?;
        // `copilot/environments/addons/` (one set for every environment, as
        // Copilot has it), nested before the patches so they can reach it.
        let environments_dir = ws.copilot_dir.join("environments");
        let addons = addons::load_environment(&environments_dir)?;
        if let Some(addons) = &addons {
            stack::add_environment_addons(&mut stack, addons)
                .map_err(|source| RenderError::Assemble { subject: format!("environment `{}`", setup.env), source })?;
        }
        // `copilot/environments/overrides/cfn.patches.yml` (Copilot's layout:
        // one file for every environment), as `env override` writes it.
        let patches = patches::load(&environments_dir)?;
        patches::apply(&mut stack.template, &patches)?;
        Ok(RenderedEnvironment {
            stack,
            addons_template: addons.map(|a| a.template),
            warnings,
            descriptions: output.descriptions.into_iter().collect(),
        })
    })
}
