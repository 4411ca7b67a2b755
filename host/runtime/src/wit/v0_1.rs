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

super::abi_calls!();
