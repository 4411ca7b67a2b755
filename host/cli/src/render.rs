//! From manifest to stack: the pipeline every package (and later deploy)
//! command runs. Reads the workspace, picks the plugin for the manifest's
//! type, validates and renders in the sandbox, and assembles the stack.

use anyhow::{Context, Result};
use ferry_core::error::did_you_mean;
use ferry_core::{EffectiveManifest, Error as CoreError, Problem, Workspace, addons, capabilities, patches, stack};
use ferry_plugin_protocol::{EnvironmentCapabilities, ImageRef, RenderContext, WorkloadSummary};
use ferry_runtime::{Plugin, Registry, RenderOutcome, Runtime, RuntimeConfig, Severity};
use indexmap::IndexMap;
use serde_json::Value;
use std::sync::Arc;

/// The plugins of this process, loaded lazily: bundled ones, plus those
/// pinned in the `copilot/plugins.lock` of the workspace around the current
/// directory (each verified against its sha256 now).
pub fn registry() -> Result<Registry> {
    let copilot_dir =
        std::env::current_dir().ok().and_then(|cwd| Workspace::discover(&cwd).ok()).map(|ws| ws.copilot_dir);
    registry_for(copilot_dir.as_deref())
}

/// [`registry`] for an explicit workspace (`copilot/` directory), or bundled
/// plugins only.
pub fn registry_for(copilot_dir: Option<&std::path::Path>) -> Result<Registry> {
    let runtime = Runtime::new(RuntimeConfig::default()).context("cannot start the plugin runtime")?;
    let mut registry = Registry::new(Arc::new(runtime));
    for plugin in ferry_bundled::BUNDLED {
        registry.add_bundled(plugin.package, plugin.wasm, plugin.sha256);
    }
    if let Some(copilot_dir) = copilot_dir {
        let lock = ferry_runtime::Lock::load(copilot_dir)?;
        registry.add_locked(copilot_dir, &lock)?;
    }
    Ok(registry)
}

/// Reads `${VAR}` values from the process environment.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Everything a render needs that is the same for every workload of one env.
pub struct EnvRenderSetup {
    pub app: String,
    pub env: String,
    pub capabilities: EnvironmentCapabilities,
    pub workloads: Vec<WorkloadSummary>,
    pub app_domain: Option<String>,
    /// Zone IDs of the app's domain and of `<app>.<domain>`: read from AWS
    /// at deploy (left unset offline).
    pub domain_hosted_zone_id: Option<String>,
    pub app_hosted_zone_id: Option<String>,
}

impl EnvRenderSetup {
    /// Loads the environment's manifest to learn what it offers workloads.
    pub fn load(ws: &Workspace, app: &str, env: &str) -> Result<Self> {
        let env_manifest = ws.load_environment(env)?;
        let effective = env_manifest.effective(app, env, &process_env)?;
        let capabilities = capabilities::from_environment_manifest(&effective.value, ws.domain.as_deref());
        Ok(EnvRenderSetup {
            app: app.to_string(),
            env: env.to_string(),
            capabilities,
            workloads: ws.workload_summaries(env)?,
            app_domain: ws.domain.clone(),
            domain_hosted_zone_id: None,
            app_hosted_zone_id: None,
        })
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
            ..RenderContext::default()
        }
    }
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
    pub descriptions: std::collections::HashMap<String, String>,
    /// Host actions the plugin declared and asked for (checked at deploy).
    pub host_steps: Vec<ferry_plugin_protocol::host_steps::HostStep>,
}

/// A rendered environment stack.
pub struct RenderedEnvironment {
    pub stack: stack::Stack,
    pub warnings: Vec<Problem>,
    pub descriptions: std::collections::HashMap<String, String>,
}

/// What a plugin returned for one manifest.
struct PluginOutput {
    fragment: Value,
    parameters: serde_json::Map<String, Value>,
    descriptions: std::collections::HashMap<String, String>,
    warnings: Vec<Problem>,
    host_steps: Vec<ferry_plugin_protocol::host_steps::HostStep>,
}

/// Picks the plugin for a manifest type; an unknown type is an error at the
/// manifest's `type:` line listing what is installed.
fn plugin_for(registry: &Registry, effective: &EffectiveManifest<'_>) -> Result<Plugin> {
    let kind = &effective.manifest.kind;
    match registry.for_manifest_type(kind) {
        Ok(plugin) => Ok(plugin),
        Err(err) if err.is_unknown_type() => {
            let known = registry.manifest_types();
            let hint = match did_you_mean(kind, known.iter().map(String::as_str)) {
                Some(best) => format!("did you mean `{best}`?"),
                None => format!("installed types: {}", known.join(", ")),
            };
            Err(CoreError::problem(
                Problem::new(format!("unknown manifest type `{kind}`"))
                    .at(Some(effective.manifest.doc.locate("/type")))
                    .pointer("/type")
                    .why("no bundled or installed plugin renders this type")
                    .hint(hint),
            )
            .into())
        }
        Err(err) => Err(err.into()),
    }
}

/// Validates then renders, turning plugin diagnostics into located problems.
fn validate_and_render(
    plugin: &Plugin,
    effective: &EffectiveManifest<'_>,
    context: &RenderContext,
) -> Result<PluginOutput> {
    let manifest_json = effective.value.to_string();
    let to_problems = |diagnostics: Vec<ferry_runtime::Diagnostic>| -> Vec<Problem> {
        diagnostics
            .into_iter()
            .map(|d| effective.problem(&d.path, &d.message, d.hint, d.severity == Severity::Warning))
            .collect()
    };
    let diagnostics = to_problems(plugin.validate(&manifest_json)?);
    if diagnostics.iter().any(|p| !p.warning) {
        return Err(CoreError::Problems(diagnostics).into());
    }
    let context_json = serde_json::to_string(context).context("cannot encode the render context")?;
    match plugin.render(&manifest_json, &context_json)? {
        RenderOutcome::Rendered(rendered) => Ok(PluginOutput {
            fragment: rendered.template,
            parameters: rendered.parameters,
            descriptions: rendered.descriptions.into_iter().collect(),
            warnings: diagnostics,
            host_steps: rendered.host_steps,
        }),
        RenderOutcome::Invalid(more) => {
            let mut problems = diagnostics;
            problems.extend(to_problems(more));
            Err(CoreError::Problems(problems).into())
        }
        RenderOutcome::Failed(message) => Err(anyhow::anyhow!(
            "plugin `{}` could not render {}: {message}",
            plugin.info().name,
            effective.manifest.name
        )),
    }
}

/// The image a workload with `image.build` runs: `registry/repository:tag`
/// (`svc package --tag`, `deploy --no-build`), or what ferry built and
/// pushed, pinned by digest.
#[derive(Default, Clone)]
pub struct ImageOptions {
    pub tag: Option<String>,
    pub registry: Option<String>,
    pub pushed: Option<ImageRef>,
}

/// Renders one service or job for one environment.
pub fn render_workload(
    ws: &Workspace,
    registry: &Registry,
    setup: &EnvRenderSetup,
    name: &str,
    image: &ImageOptions,
) -> Result<RenderedWorkload> {
    let manifest = ws.load_workload(name)?;
    let effective = manifest.effective(&setup.app, &setup.env, &process_env)?;
    let plugin = plugin_for(registry, &effective)?;
    let addons = addons::load(&manifest.dir)?;
    let patches = patches::load(&manifest.dir)?;
    let mut context = setup.context(name);
    context.addons = addons.as_ref().map(|a| a.outputs.clone());
    if let Some(pushed) = &image.pushed {
        context.image = Some(pushed.clone());
    } else if let (Some(tag), Some(registry)) = (&image.tag, &image.registry) {
        let repository = ferry_core::naming::ecr_repository(&setup.app, name);
        context.image = Some(ImageRef { uri: format!("{registry}/{repository}:{tag}"), digest: None });
    }
    let output = validate_and_render(&plugin, &effective, &context)?;
    let stack = stack::workload_stack(stack::WorkloadStackInput {
        app: &setup.app,
        env: &setup.env,
        workload: name,
        fragment: output.fragment,
        parameters: output.parameters,
        addons: addons.as_ref(),
        addons_url: None,
        patches: &patches,
        extra_tags: &IndexMap::new(),
    })
    .with_context(|| format!("cannot assemble the stack of `{name}` (rendered by plugin `{}`)", plugin.info().name))?;
    let plugin = format!("{} {}", plugin.info().name, plugin.info().version);
    Ok(RenderedWorkload {
        name: name.to_string(),
        plugin,
        stack,
        addons_template: addons.map(|a| a.template),
        warnings: output.warnings,
        descriptions: output.descriptions,
        host_steps: output.host_steps,
    })
}

/// Renders the environment stack.
pub fn render_environment(ws: &Workspace, registry: &Registry, setup: &EnvRenderSetup) -> Result<RenderedEnvironment> {
    let manifest = ws.load_environment(&setup.env)?;
    let effective = manifest.effective(&setup.app, &setup.env, &process_env)?;
    let plugin = plugin_for(registry, &effective)?;
    let context = setup.context(&setup.env);
    let output = validate_and_render(&plugin, &effective, &context)?;
    if let Some(step) = output.host_steps.first() {
        anyhow::bail!(
            "plugin `{}` asked for a `{}` host step for environment `{}`; host steps are carried out for services and jobs only",
            plugin.info().name,
            step.kind(),
            setup.env
        );
    }
    let stack = stack::environment_stack(&setup.app, &setup.env, output.fragment, output.parameters, &IndexMap::new())
        .with_context(|| format!("cannot assemble the stack of environment `{}`", setup.env))?;
    Ok(RenderedEnvironment { stack, warnings: output.warnings, descriptions: output.descriptions })
}
