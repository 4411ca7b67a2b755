//! Pipelines: the manifest checked against the workspace, its source
//! rendered by whichever `pipeline-provider` plugin serves
//! `source.provider`, and the pipeline stack assembled around it.

use crate::RenderError;
use crate::call::{Subject, off_async, stop_on_errors};
use ferry_core::error::did_you_mean;
use ferry_core::pipeline::{self as core_pipeline, PipelineManifest, RenderedPipeline};
use ferry_core::{Problem, Workspace};
use ferry_plugin_protocol::RenderContext;
use ferry_runtime::{Plugin, PluginError, PluginKind, Registry};

/// The installed source providers: (provider name, plugin name), sorted.
pub fn providers(registry: &Registry) -> Result<Vec<(String, String)>, PluginError> {
    let mut found: Vec<(String, String)> = registry
        .list()?
        .into_iter()
        .filter(|p| p.info.kind == PluginKind::PipelineProvider)
        .flat_map(|p| p.info.manifest_types.iter().map(|t| (t.clone(), p.info.name.clone())).collect::<Vec<_>>())
        .collect();
    found.sort();
    Ok(found)
}

/// The plugin serving `provider`: any installed `pipeline-provider` plugin
/// that declares it, matched exactly, then ignoring case.
pub fn provider_plugin(registry: &Registry, provider: &str) -> Result<Option<Plugin>, PluginError> {
    if let Ok(plugin) = registry.for_manifest_type(provider)
        && plugin.info().kind == PluginKind::PipelineProvider
    {
        return Ok(Some(plugin));
    }
    let known = providers(registry)?;
    match known.iter().find(|(t, _)| t.eq_ignore_ascii_case(provider)) {
        Some((_, plugin)) => Ok(Some(registry.get(plugin)?)),
        None => Ok(None),
    }
}

/// The problem for a provider nobody serves, at `source.provider`.
fn unknown_provider(registry: &Registry, m: &PipelineManifest, provider: &str) -> Result<Problem, PluginError> {
    let known = providers(registry)?;
    let names: Vec<&str> = known.iter().map(|(t, _)| t.as_str()).collect();
    let hint = match did_you_mean(provider, names.iter().copied()) {
        Some(best) => format!("did you mean `{best}`? installed providers: {}", names.join(", ")),
        None => format!("installed providers: {}", names.join(", ")),
    };
    Ok(m.problem("/source/provider", format!("unknown source provider `{provider}`"))
        .why("no bundled or installed pipeline-provider plugin serves it")
        .hint(hint))
}

/// Reads the pipeline `name`, checks it against the workspace and its
/// provider, and renders the stack; every problem found is reported
/// together. Returns the warnings beside the pipeline.
pub fn render_pipeline(
    ws: &Workspace,
    registry: &Registry,
    name: &str,
    region: Option<String>,
) -> Result<(RenderedPipeline, Vec<Problem>), RenderError> {
    off_async(|| -> Result<(RenderedPipeline, Vec<Problem>), RenderError> {
        let m = ws.load_pipeline(name)?;
        let (mut problems, checked) = core_pipeline::check(ws, &m);
        let plugin = match m.provider() {
            Some(provider) => match provider_plugin(registry, provider)? {
                Some(plugin) => Some(plugin),
                None => {
                    problems.push(unknown_provider(registry, &m, provider)?);
                    None
                }
            },
            None => None,
        };
        let locate = |pointer: &str| m.doc.locate(pointer);
        let subject = Subject {
            manifest_json: m.doc.value.to_string(),
            locate: &locate,
            name: format!("pipeline {}", m.name),
            plugin_role: "source plugin",
        };
        if let Some(plugin) = &plugin {
            subject.validate(plugin, &mut problems)?;
        }
        stop_on_errors(&problems)?;
        // `check` reported a missing provider, so there is always one here.
        let Some(plugin) = plugin else {
            let problem = m.problem("/source/provider", "the manifest names no source provider");
            return Err(ferry_core::Error::problem(problem).into());
        };
        let context = RenderContext { app: ws.app.clone(), name: m.name.clone(), region, ..RenderContext::default() };
        // Only a manifest without problems was checked, and `stop_on_errors` passed.
        let Some(checked) = checked else {
            return Err(
                ferry_core::Error::problem(m.problem("", "the pipeline manifest did not pass its checks")).into()
            );
        };
        let (rendered, problems) = subject.render(&plugin, &context, problems)?;
        let mut pipeline = core_pipeline::render(core_pipeline::RenderInput {
            app: &ws.app,
            pipeline: &checked,
            fragment: rendered.template,
            provider_parameters: rendered.parameters,
            provider: format!("{} {}", plugin.info().name, plugin.info().version),
        })?;
        // `copilot/pipelines/<name>/overrides/cfn.patches.yml`, as `pipeline override` writes it.
        if !m.legacy {
            let patches = ferry_core::patches::load(&m.dir)?;
            ferry_core::patches::apply(&mut pipeline.stack.template, &patches)?;
        }
        Ok((pipeline, problems))
    })
}
