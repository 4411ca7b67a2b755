//! Generated WIT bindings, one module per world. The `types` and `host`
//! interfaces are generated once (in `service`) and shared by the others so
//! conversions are written once.

#![allow(missing_docs, clippy::all)]

pub mod service {
    wit_bindgen::generate!({
        world: "service-plugin",
        path: "../wit/0.4.0",
        pub_export_macro: true,
        export_macro_name: "__ferry_export_service",
        default_bindings_module: "ferry_plugin_sdk::bindings::service",
    });
}

pub mod job {
    wit_bindgen::generate!({
        world: "job-plugin",
        path: "../wit/0.4.0",
        pub_export_macro: true,
        export_macro_name: "__ferry_export_job",
        default_bindings_module: "ferry_plugin_sdk::bindings::job",
        with: {
            "ferry:plugin/types@0.4.0": crate::bindings::service::ferry::plugin::types,
            "ferry:plugin/host@0.4.0": crate::bindings::service::ferry::plugin::host,
        },
    });
}

pub mod environment {
    wit_bindgen::generate!({
        world: "environment-plugin",
        path: "../wit/0.4.0",
        pub_export_macro: true,
        export_macro_name: "__ferry_export_environment",
        default_bindings_module: "ferry_plugin_sdk::bindings::environment",
        with: {
            "ferry:plugin/types@0.4.0": crate::bindings::service::ferry::plugin::types,
            "ferry:plugin/host@0.4.0": crate::bindings::service::ferry::plugin::host,
        },
    });
}

pub mod pipeline_provider {
    wit_bindgen::generate!({
        world: "pipeline-provider-plugin",
        path: "../wit/0.4.0",
        pub_export_macro: true,
        export_macro_name: "__ferry_export_pipeline_provider",
        default_bindings_module: "ferry_plugin_sdk::bindings::pipeline_provider",
        with: {
            "ferry:plugin/types@0.4.0": crate::bindings::service::ferry::plugin::types,
            "ferry:plugin/host@0.4.0": crate::bindings::service::ferry::plugin::host,
        },
    });
}

pub mod storage {
    wit_bindgen::generate!({
        world: "storage-plugin",
        path: "../wit/0.4.0",
        pub_export_macro: true,
        export_macro_name: "__ferry_export_storage",
        default_bindings_module: "ferry_plugin_sdk::bindings::storage",
        with: {
            "ferry:plugin/types@0.4.0": crate::bindings::service::ferry::plugin::types,
            "ferry:plugin/host@0.4.0": crate::bindings::service::ferry::plugin::host,
        },
    });
}

pub use service::ferry::plugin::types as wit;

#[cfg(target_arch = "wasm32")]
pub(crate) fn log_info(message: &str) {
    service::ferry::plugin::host::log(service::ferry::plugin::host::LogLevel::Info, message);
}
