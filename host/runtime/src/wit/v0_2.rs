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

super::abi_calls!();
