//! Bindings per supported plugin ABI version, like Zed's extension host: each
//! module runs `bindgen!` over its own frozen WIT folder and converts to the
//! version-neutral shapes below. A new minor version adds a module and an
//! entry in [`SUPPORTED`]; the loader picks by the version a component exports.

use crate::plugin::{Diagnostic, PluginKind};

/// What `info()` returned, before the host checks it.
pub struct RawInfo {
    pub name: String,
    pub version: String,
    pub kind: PluginKind,
    pub description: String,
    pub manifest_types: Vec<String>,
    pub manifest_schema: String,
    pub manifest_template: String,
    pub documentation: Option<String>,
    /// Kinds of host step the plugin declares (ABI 0.3 and later).
    pub host_steps: Vec<String>,
}

/// What a successful `render()` returned, before the host parses it.
pub struct RawRendered {
    pub template: String,
    pub parameters: String,
    pub descriptions: Vec<(String, String)>,
    /// Host actions the render asks for (ABI 0.3 and later).
    pub host_steps: Vec<ferry_plugin_protocol::host_steps::HostStep>,
}

/// Why `render()` produced no template.
pub enum RawRenderError {
    Invalid(Vec<Diagnostic>),
    Failed(String),
}

/// The calls of one ABI version, written once for every version module: each
/// has the same shape (`types` and one interface per kind), only the types
/// and the kinds differ. Called with the kinds the version has, as
/// `Variant module` pairs (the variant of both `PluginKind`s, the module of
/// its exported interface).
macro_rules! abi_calls {
    () => {
        $crate::wit::abi_calls!(
            Service service,
            Job job,
            PipelineProvider pipeline_provider,
            Environment environment
        );
    };
    ($($kind:ident $module:ident),+ $(,)?) => {
        use crate::plugin::{Diagnostic, PluginKind, Severity};
        use crate::sandbox::State;
        use crate::wit::{RawInfo, RawRenderError, RawRendered};
        use wasmtime::Store;
        use wasmtime::component::{Instance, InstancePre};

        /// Export indices of whichever kind the component is, resolved once
        /// per plugin so a call only instantiates and looks up by index.
        pub enum Indices {
            $($kind($module::GuestIndices),)+
        }

        enum Exports {
            $($kind($module::Guest),)+
        }

        impl Indices {
            pub fn new(kind: PluginKind, pre: &InstancePre<State>) -> wasmtime::Result<Indices> {
                #[allow(unreachable_patterns)]
                Ok(match kind {
                    $(PluginKind::$kind => Indices::$kind($module::GuestIndices::new(pre)?),)+
                    other => {
                        return Err(wasmtime::Error::msg(format!(
                            "plugin kind `{other}` is not part of this plugin API version"
                        )));
                    }
                })
            }

            fn load(&self, store: &mut Store<State>, instance: &Instance) -> wasmtime::Result<Exports> {
                Ok(match self {
                    $(Indices::$kind(i) => Exports::$kind(i.load(&mut *store, instance)?),)+
                })
            }

            pub fn info(&self, store: &mut Store<State>, instance: &Instance) -> wasmtime::Result<RawInfo> {
                let exports = self.load(store, instance)?;
                let raw = match &exports {
                    $(Exports::$kind(g) => g.call_info(&mut *store)?,)+
                };
                Ok(RawInfo {
                    documentation: documentation(&raw),
                    host_steps: declared_host_steps(&raw),
                    kind: match raw.kind {
                        $(types::PluginKind::$kind => PluginKind::$kind,)+
                    },
                    name: raw.name,
                    version: raw.version,
                    description: raw.description,
                    manifest_types: raw.manifest_types,
                    manifest_schema: raw.manifest_schema,
                    manifest_template: raw.manifest_template,
                })
            }

            pub fn validate(
                &self,
                store: &mut Store<State>,
                instance: &Instance,
                manifest: &str,
            ) -> wasmtime::Result<Vec<Diagnostic>> {
                let exports = self.load(store, instance)?;
                let raw = match &exports {
                    $(Exports::$kind(g) => g.call_validate(&mut *store, manifest)?,)+
                };
                Ok(raw.into_iter().map(convert_diagnostic).collect())
            }

            pub fn render(
                &self,
                store: &mut Store<State>,
                instance: &Instance,
                manifest: &str,
                context: &str,
            ) -> wasmtime::Result<Result<RawRendered, RawRenderError>> {
                let exports = self.load(store, instance)?;
                let input = types::RenderInput { manifest: manifest.to_string(), context: context.to_string() };
                let raw = match &exports {
                    $(Exports::$kind(g) => g.call_render(&mut *store, &input)?,)+
                };
                Ok(match raw {
                    Ok(r) => Ok(RawRendered {
                        host_steps: requested_host_steps(&r),
                        template: r.template,
                        parameters: r.parameters,
                        descriptions: r.descriptions.into_iter().map(|d| (d.logical_id, d.description)).collect(),
                    }),
                    Err(types::RenderError::Invalid(d)) => {
                        Err(RawRenderError::Invalid(d.into_iter().map(convert_diagnostic).collect()))
                    }
                    Err(types::RenderError::Failed(message)) => Err(RawRenderError::Failed(message)),
                })
            }
        }

        fn convert_diagnostic(d: types::Diagnostic) -> Diagnostic {
            Diagnostic {
                severity: match d.severity {
                    types::Severity::Error => Severity::Error,
                    types::Severity::Warning => Severity::Warning,
                },
                path: d.path,
                message: d.message,
                hint: d.hint,
            }
        }

        impl ferry::plugin::host::Host for State {
            fn log(&mut self, level: ferry::plugin::host::LogLevel, message: String) {
                self.push_log(
                    match level {
                        ferry::plugin::host::LogLevel::Debug => "debug",
                        ferry::plugin::host::LogLevel::Info => "info",
                        ferry::plugin::host::LogLevel::Warn => "warn",
                    },
                    message,
                );
            }
        }

        /// Adds this version's `host` interface to the shared linker.
        pub fn add_to_linker(linker: &mut wasmtime::component::Linker<State>) -> wasmtime::Result<()> {
            ferry::plugin::host::add_to_linker::<State, wasmtime::component::HasSelf<State>>(linker, |state| state)
        }
    };
}
pub(crate) use abi_calls;

pub mod v0_1;
pub mod v0_2;
pub mod v0_3;
pub mod v0_4;

/// ABI versions this host accepts, as `major.minor` (any patch), oldest first.
pub const SUPPORTED: &[&str] = &["0.1", "0.2", "0.3", "0.4"];

/// The WIT package plugins export from.
pub const PACKAGE: &str = "ferry:plugin";

/// Indices of a loaded plugin, at the ABI version it was built for.
pub enum Indices {
    V0_1(v0_1::Indices),
    V0_2(v0_2::Indices),
    V0_3(v0_3::Indices),
    V0_4(v0_4::Indices),
}

impl Indices {
    /// Resolves a component's exports at `version` (`major.minor.patch`,
    /// already checked to be supported).
    pub fn new(
        version: &str,
        kind: PluginKind,
        pre: &wasmtime::component::InstancePre<crate::sandbox::State>,
    ) -> wasmtime::Result<Indices> {
        match version.split('.').take(2).collect::<Vec<_>>().as_slice() {
            ["0", "1"] => Ok(Indices::V0_1(v0_1::Indices::new(kind, pre)?)),
            ["0", "2"] => Ok(Indices::V0_2(v0_2::Indices::new(kind, pre)?)),
            ["0", "3"] => Ok(Indices::V0_3(v0_3::Indices::new(kind, pre)?)),
            ["0", "4"] => Ok(Indices::V0_4(v0_4::Indices::new(kind, pre)?)),
            _ => Err(wasmtime::Error::msg(format!("no bindings for plugin API {version}"))),
        }
    }
}

/// Calls the same method on whichever version the plugin speaks.
macro_rules! dispatch {
    ($indices:expr, $method:ident $(, $arg:expr)*) => {
        match $indices {
            $crate::wit::Indices::V0_1(i) => i.$method($($arg),*),
            $crate::wit::Indices::V0_2(i) => i.$method($($arg),*),
            $crate::wit::Indices::V0_3(i) => i.$method($($arg),*),
            $crate::wit::Indices::V0_4(i) => i.$method($($arg),*),
        }
    };
}
pub(crate) use dispatch;
