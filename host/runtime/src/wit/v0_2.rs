//! Bindings for `ferry:plugin@0.2.x` (plugin-api/wit/0.2.0).

wasmtime::component::bindgen!({
    path: "../../plugin-api/wit/0.2.0",
    world: "host-bindings",
});

pub use exports::ferry::plugin::{environment, job, pipeline_provider, service};
pub use ferry::plugin::types;

/// Added in 0.2.0.
fn documentation(info: &types::PluginInfo) -> Option<String> {
    info.documentation.clone()
}

/// Host steps arrived in 0.3.0: older plugins declare and request none.
fn declared_host_steps(_info: &types::PluginInfo) -> Vec<String> {
    Vec::new()
}

fn requested_host_steps(_rendered: &types::Rendered) -> Vec<ferry_plugin_protocol::host_steps::HostStep> {
    Vec::new()
}

super::abi_calls!();
