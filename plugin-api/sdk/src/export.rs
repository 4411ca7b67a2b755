//! Glue between the author-facing [`Plugin`] trait and the WIT exports.
//! Used only by [`export_plugin!`](crate::export_plugin).

use crate::bindings::wit;
use crate::{Diagnostic, Plugin, PluginKind, RenderError, Severity};
use ferry_plugin_protocol::RenderContext;
use serde_json::Value;

fn kind_to_wit(kind: PluginKind) -> wit::PluginKind {
    match kind {
        PluginKind::Service => wit::PluginKind::Service,
        PluginKind::Job => wit::PluginKind::Job,
        PluginKind::PipelineProvider => wit::PluginKind::PipelineProvider,
        PluginKind::Environment => wit::PluginKind::Environment,
        PluginKind::Storage => wit::PluginKind::Storage,
    }
}

fn diagnostic_to_wit(d: Diagnostic) -> wit::Diagnostic {
    wit::Diagnostic {
        severity: match d.severity {
            Severity::Error => wit::Severity::Error,
            Severity::Warning => wit::Severity::Warning,
        },
        path: d.path,
        message: d.message,
        hint: d.hint,
    }
}

pub fn info<P: Plugin>(kind: PluginKind) -> wit::PluginInfo {
    let info = crate::describe::<P>(kind);
    wit::PluginInfo {
        name: info.name,
        version: info.version,
        kind: kind_to_wit(info.kind),
        description: info.description,
        manifest_types: info.manifest_types,
        manifest_schema: info.manifest_schema.to_string(),
        manifest_template: info.manifest_template,
        documentation: info.documentation,
        host_steps: info.host_steps.iter().filter_map(|k| host_step_kind_to_wit(k)).collect(),
    }
}

fn host_step_kind_to_wit(kind: &str) -> Option<wit::HostStepKind> {
    match kind {
        crate::host_steps::S3_UPLOAD => Some(wit::HostStepKind::S3Upload),
        _ => None,
    }
}

fn host_step_to_wit(step: crate::HostStep) -> wit::HostStep {
    match step {
        crate::HostStep::S3Upload(upload) => wit::HostStep::S3Upload(wit::S3Upload {
            bucket: upload.bucket,
            distribution: upload.distribution,
            files: upload
                .files
                .into_iter()
                .map(|f| wit::UploadRule {
                    source: f.source,
                    destination: f.destination,
                    recursive: f.recursive,
                    exclude: f.exclude,
                    reinclude: f.reinclude,
                })
                .collect(),
        }),
    }
}

fn parse_json(text: &str, what: &str) -> Result<Value, Diagnostic> {
    serde_json::from_str(text)
        .map_err(|e| Diagnostic::error("", format!("the host sent a {what} that is not JSON: {e}")))
}

pub fn validate<P: Plugin>(manifest: String) -> Vec<wit::Diagnostic> {
    let diagnostics = match parse_json(&manifest, "manifest") {
        Ok(value) => P::validate(&value),
        Err(d) => vec![d],
    };
    diagnostics.into_iter().map(diagnostic_to_wit).collect()
}

/// A render, answered as the WIT wants it: the template and parameter
/// values as JSON text written straight from the plugin's builders (the
/// hot path of every package and deploy: no intermediate JSON tree, no copy
/// of the template).
pub fn render<P: Plugin>(input: wit::RenderInput) -> Result<wit::Rendered, wit::RenderError> {
    let invalid = |d: Diagnostic| wit::RenderError::Invalid(vec![diagnostic_to_wit(d)]);
    let manifest = parse_json(&input.manifest, "manifest").map_err(invalid)?;
    let context: RenderContext = serde_json::from_str(&input.context).map_err(|e| {
        wit::RenderError::Failed(format!("the host sent a render context this plugin cannot read: {e}"))
    })?;
    match P::render(&manifest, &context) {
        Ok(rendered) => Ok(wit::Rendered {
            template: rendered.template.to_json_string(),
            // An IndexMap of values writes as the JSON object it stands for.
            parameters: serde_json::to_string(&rendered.parameters).unwrap_or_else(|_| "{}".to_string()),
            descriptions: rendered
                .template
                .descriptions()
                .map(|(id, description)| wit::ResourceDescription {
                    logical_id: id.to_string(),
                    description: description.to_string(),
                })
                .collect(),
            host_steps: P::host_steps(&manifest, &context).into_iter().map(host_step_to_wit).collect(),
        }),
        Err(RenderError::Invalid(diagnostics)) => {
            Err(wit::RenderError::Invalid(diagnostics.into_iter().map(diagnostic_to_wit).collect()))
        }
        Err(RenderError::Failed(message)) => Err(wit::RenderError::Failed(message)),
    }
}

/// Exports a [`Plugin`] implementation as a WebAssembly component of the
/// given kind: `service`, `job`, `environment`, `pipeline_provider` or
/// `storage`.
#[macro_export]
macro_rules! export_plugin {
    ($plugin:ty, service) => {
        $crate::__export_world!($plugin, service, service, Service, __ferry_export_service);
    };
    ($plugin:ty, job) => {
        $crate::__export_world!($plugin, job, job, Job, __ferry_export_job);
    };
    ($plugin:ty, environment) => {
        $crate::__export_world!($plugin, environment, environment, Environment, __ferry_export_environment);
    };
    ($plugin:ty, storage) => {
        $crate::__export_world!($plugin, storage, storage, Storage, __ferry_export_storage);
    };
    ($plugin:ty, pipeline_provider) => {
        $crate::__export_world!(
            $plugin,
            pipeline_provider,
            pipeline_provider,
            PipelineProvider,
            __ferry_export_pipeline_provider
        );
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __export_world {
    ($plugin:ty, $world:ident, $iface:ident, $kind:ident, $export:ident) => {
        // Native builds (unit tests of a plugin crate) link no component
        // exports: their symbol names are only valid in wasm.
        #[cfg(target_arch = "wasm32")]
        #[global_allocator]
        static __FERRY_ALLOCATOR: $crate::alloc::BumpAllocator = $crate::alloc::BumpAllocator::new();

        #[cfg(target_arch = "wasm32")]
        const _: () = {
            use $crate::bindings::wit as __wit;
            use $crate::bindings::$world::exports::ferry::plugin::$iface as __iface;
            struct __FerryPlugin;
            impl __iface::Guest for __FerryPlugin {
                fn info() -> __wit::PluginInfo {
                    $crate::export::info::<$plugin>($crate::PluginKind::$kind)
                }
                fn validate(manifest: ::std::string::String) -> ::std::vec::Vec<__wit::Diagnostic> {
                    $crate::export::validate::<$plugin>(manifest)
                }
                fn render(input: __wit::RenderInput) -> ::std::result::Result<__wit::Rendered, __wit::RenderError> {
                    $crate::export::render::<$plugin>(input)
                }
            }
            $crate::bindings::$world::$export!(__FerryPlugin);
        };
    };
}
