//! Bindings per supported plugin ABI version, like Zed's extension host: each
//! module runs `bindgen!` over its own frozen WIT folder. A new minor version
//! adds a module; the loader picks by the version a component exports.

pub mod v0_1;

/// ABI versions this host accepts, as `major.minor` (any patch).
pub const SUPPORTED: &[&str] = &["0.1"];

/// The WIT package plugins export from.
pub const PACKAGE: &str = "ferry:plugin";
