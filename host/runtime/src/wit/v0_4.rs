//! Bindings for `ferry:plugin@0.4.x` (plugin-api/wit/0.4.0): 0.3.0 plus
//! the `storage` plugin kind.

wasmtime::component::bindgen!({
    path: "../../plugin-api/wit/0.4.0",
    world: "host-bindings",
});

use ferry_plugin_protocol::host_steps::{self as protocol, HostStep};

pub use exports::ferry::plugin::{environment, job, pipeline_provider, service, storage};
pub use ferry::plugin::types;

/// Added in 0.2.0.
fn documentation(info: &types::PluginInfo) -> Option<String> {
    info.documentation.clone()
}

/// Added in 0.3.0: the kinds of host step the plugin may request.
fn declared_host_steps(info: &types::PluginInfo) -> Vec<String> {
    let mut kinds: Vec<String> = info
        .host_steps
        .iter()
        .map(|k| match k {
            types::HostStepKind::S3Upload => protocol::S3_UPLOAD.to_string(),
        })
        .collect();
    kinds.dedup();
    kinds
}

/// Added in 0.3.0: the host steps one render asks for.
fn requested_host_steps(rendered: &types::Rendered) -> Vec<HostStep> {
    rendered
        .host_steps
        .iter()
        .map(|step| match step {
            types::HostStep::S3Upload(upload) => HostStep::S3Upload(protocol::S3Upload {
                bucket: upload.bucket.clone(),
                distribution: upload.distribution.clone(),
                files: upload
                    .files
                    .iter()
                    .map(|f| protocol::UploadRule {
                        source: f.source.clone(),
                        destination: f.destination.clone(),
                        recursive: f.recursive,
                        exclude: f.exclude.clone(),
                        reinclude: f.reinclude.clone(),
                    })
                    .collect(),
            }),
        })
        .collect()
}

super::abi_calls!(
    Service service,
    Job job,
    PipelineProvider pipeline_provider,
    Environment environment,
    Storage storage,
);
