//! Bindings for `ferry:plugin@0.1.x` (plugin-api/wit/0.1.0).

wasmtime::component::bindgen!({
    path: "../../plugin-api/wit/0.1.0",
    world: "host-bindings",
});

pub use exports::ferry::plugin::{environment, job, pipeline_provider, service};
pub use ferry::plugin::types;

/// 0.1 plugins have no documentation link.
fn documentation(_info: &types::PluginInfo) -> Option<String> {
    None
}

/// Host steps arrived in 0.3.0: older plugins declare and request none.
fn declared_host_steps(_info: &types::PluginInfo) -> Vec<String> {
    Vec::new()
}

fn requested_host_steps(_rendered: &types::Rendered) -> Vec<ferry_plugin_protocol::host_steps::HostStep> {
    Vec::new()
}

super::abi_calls!();
