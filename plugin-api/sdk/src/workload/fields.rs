//! One definition of the top-level manifest fields every ECS workload type
//! shares, so a new field family is written once.
//!
//! serde's `flatten` would drop `deny_unknown_fields` (and the error paths
//! that go with it), so the shared fields are not a nested struct: the
//! [`workload_manifest!`](crate::workload_manifest) macro writes them into
//! the plugin's own `Manifest` struct, in the order the plugin lists them
//! (that order is the "expected one of" hint for an unknown field), and
//! generates `task_spec()`.
//!
//! ```ignore
//! ferry_plugin_sdk::workload_manifest! {
//!     pub struct Manifest {
//!         @name, @type,
//!         /// What triggers the job.
//!         pub on: Option<On>,
//!         @image, @entrypoint, @command, @cpu, @memory, @platform,
//!         @network, @variables, @env_file, @secrets, @storage, @logging,
//!         @sidecars, @publish, @taskdef_overrides, @environments,
//!     }
//! }
//! ```
//!
//! `@field` names a shared field; anything else is the plugin's own field,
//! written as in a struct. A shared field the plugin leaves out is absent from
//! its schema and refused as unknown (a job has no `count`), and is left at
//! its default in the [`TaskSpec`](super::TaskSpec).

/// Declares a workload manifest struct with the shared fields named by
/// `@field`; see the [module documentation](crate::workload::fields).
#[macro_export]
macro_rules! workload_manifest {
    (
        $(#[$meta:meta])*
        pub struct $name:ident { $($body:tt)* }
    ) => {
        $crate::__workload_manifest_munch! {
            [$(#[$meta])* $name] [] [] $($body)*
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __workload_manifest_munch {
    // Everything read: emit the struct and its `task_spec()`.
    ([$(#[$meta:meta])* $name:ident] [$($fields:tt)*] [$($spec:ident)*]) => {
        $(#[$meta])*
        #[derive(Debug, Clone, ::serde::Deserialize, $crate::schemars::JsonSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $name { $($fields)* }

        impl $name {
            /// Moves the shared sections into the SDK's [`TaskSpec`]($crate::workload::TaskSpec).
            // A type with every shared field leaves nothing to the default.
            #[allow(clippy::needless_update)]
            pub fn task_spec(&self) -> $crate::workload::TaskSpec {
                $crate::workload::TaskSpec {
                    $($spec: ::core::clone::Clone::clone(&self.$spec),)*
                    ..::core::default::Default::default()
                }
            }
        }
    };
    // The plugin's own field.
    ([$($head:tt)*] [$($fields:tt)*] [$($spec:tt)*]
        $(#[$fmeta:meta])* pub $field:ident : $ty:ty $(, $($rest:tt)*)?) => {
        $crate::__workload_manifest_munch! {
            [$($head)*] [$($fields)* $(#[$fmeta])* pub $field: $ty,] [$($spec)*] $($($rest)*)?
        }
    };
    // A shared field.
    ([$($head:tt)*] [$($fields:tt)*] [$($spec:tt)*] @ $shared:tt $(, $($rest:tt)*)?) => {
        $crate::__workload_manifest_field! {
            $shared [$($head)*] [$($fields)*] [$($spec)*] [$($($rest)*)?]
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __workload_manifest_field {
    (@next [$($head:tt)*] [$($fields:tt)*] [$($spec:tt)*] [$($rest:tt)*]) => {
        $crate::__workload_manifest_munch! { [$($head)*] [$($fields)*] [$($spec)*] $($rest)* }
    };
    (name $h:tt [$($f:tt)*] [$($s:tt)*] $r:tt) => {
        $crate::__workload_manifest_field! { @next $h
            [$($f)* pub name: String,] [$($s)* name] $r }
    };
    (type $h:tt [$($f:tt)*] $s:tt $r:tt) => {
        $crate::__workload_manifest_field! { @next $h
            [$($f)* #[serde(rename = "type")] pub kind: String,] $s $r }
    };
    (image $h:tt [$($f:tt)*] [$($s:tt)*] $r:tt) => {
        $crate::__workload_manifest_field! { @next $h
            [$($f)* pub image: $crate::workload::Image,] [$($s)* image] $r }
    };
    (entrypoint $h:tt [$($f:tt)*] [$($s:tt)*] $r:tt) => {
        $crate::__workload_manifest_field! { @next $h
            [$($f)* pub entrypoint: Option<$crate::workload::StringOrList>,]
            [$($s)* entrypoint] $r }
    };
    (command $h:tt [$($f:tt)*] [$($s:tt)*] $r:tt) => {
        $crate::__workload_manifest_field! { @next $h
            [$($f)* pub command: Option<$crate::workload::StringOrList>,]
            [$($s)* command] $r }
    };
    (cpu $h:tt [$($f:tt)*] [$($s:tt)*] $r:tt) => {
        $crate::__workload_manifest_field! { @next $h
            [$($f)* pub cpu: Option<u32>,] [$($s)* cpu] $r }
    };
    (memory $h:tt [$($f:tt)*] [$($s:tt)*] $r:tt) => {
        $crate::__workload_manifest_field! { @next $h
            [$($f)* pub memory: Option<u32>,] [$($s)* memory] $r }
    };
    (platform $h:tt [$($f:tt)*] [$($s:tt)*] $r:tt) => {
        $crate::__workload_manifest_field! { @next $h
            [$($f)* pub platform: Option<$crate::workload::Platform>,]
            [$($s)* platform] $r }
    };
    (count $h:tt [$($f:tt)*] [$($s:tt)*] $r:tt) => {
        $crate::__workload_manifest_field! { @next $h
            [$($f)* pub count: Option<$crate::workload::Count>,] [$($s)* count] $r }
    };
    (exec $h:tt [$($f:tt)*] [$($s:tt)*] $r:tt) => {
        $crate::__workload_manifest_field! { @next $h
            [$($f)* pub exec: Option<bool>,] [$($s)* exec] $r }
    };
    (deployment $h:tt [$($f:tt)*] [$($s:tt)*] $r:tt) => {
        $crate::__workload_manifest_field! { @next $h
            [$($f)* pub deployment: Option<$crate::workload::Deployment>,]
            [$($s)* deployment] $r }
    };
    (variables $h:tt [$($f:tt)*] [$($s:tt)*] $r:tt) => {
        $crate::__workload_manifest_field! { @next $h
            [$($f)* #[serde(default)] pub variables: ::indexmap::IndexMap<String, $crate::workload::Variable>,]
            [$($s)* variables] $r }
    };
    (env_file $h:tt [$($f:tt)*] [$($s:tt)*] $r:tt) => {
        $crate::__workload_manifest_field! { @next $h
            [$($f)* pub env_file: Option<String>,] [$($s)* env_file] $r }
    };
    (secrets $h:tt [$($f:tt)*] [$($s:tt)*] $r:tt) => {
        $crate::__workload_manifest_field! { @next $h
            [$($f)* #[serde(default)] pub secrets: ::indexmap::IndexMap<String, $crate::workload::Secret>,]
            [$($s)* secrets] $r }
    };
    (storage $h:tt [$($f:tt)*] [$($s:tt)*] $r:tt) => {
        $crate::__workload_manifest_field! { @next $h
            [$($f)* pub storage: Option<$crate::workload::Storage>,] [$($s)* storage] $r }
    };
    (logging $h:tt [$($f:tt)*] [$($s:tt)*] $r:tt) => {
        $crate::__workload_manifest_field! { @next $h
            [$($f)* pub logging: Option<$crate::workload::Logging>,] [$($s)* logging] $r }
    };
    (network $h:tt [$($f:tt)*] [$($s:tt)*] $r:tt) => {
        $crate::__workload_manifest_field! { @next $h
            [$($f)* pub network: Option<$crate::workload::Network>,] [$($s)* network] $r }
    };
    (sidecars $h:tt [$($f:tt)*] [$($s:tt)*] $r:tt) => {
        $crate::__workload_manifest_field! { @next $h
            [$($f)* #[serde(default)] pub sidecars: ::indexmap::IndexMap<String, $crate::workload::Sidecar>,]
            [$($s)* sidecars] $r }
    };
    (publish $h:tt [$($f:tt)*] [$($s:tt)*] $r:tt) => {
        $crate::__workload_manifest_field! { @next $h
            [$($f)* pub publish: Option<$crate::workload::publish::Publish>,]
            [$($s)* publish] $r }
    };
    (observability $h:tt [$($f:tt)*] [$($s:tt)*] $r:tt) => {
        $crate::__workload_manifest_field! { @next $h
            [$($f)* pub observability: Option<$crate::workload::Observability>,]
            [$($s)* observability] $r }
    };
    (taskdef_overrides $h:tt [$($f:tt)*] [$($s:tt)*] $r:tt) => {
        $crate::__workload_manifest_field! { @next $h
            [$($f)* pub taskdef_overrides: Option<Vec<$crate::workload::TaskDefOverride>>,]
            [$($s)* taskdef_overrides] $r }
    };
    (environments $h:tt [$($f:tt)*] $s:tt $r:tt) => {
        $crate::__workload_manifest_field! { @next $h
            [$($f)*
                /// Per-environment overrides: the host has already applied them.
                pub environments: Option<$crate::Value>,]
            $s $r }
    };
}

/// Declares an `http` routing section — the Load Balanced Web Service's and
/// the Backend Service's `http`, or one of their `additional_rules` — with
/// the routing fields they share named by `@field`, in the order listed
/// (the "expected one of" hint), and anything else written as in a struct.
/// Generates `routing_fields()`, what
/// [`check_routing_at`](crate::workload::http::check_routing_at) checks
/// (`None` without a `path`).
///
/// `@target` is the fields that say where and how requests reach the
/// tasks: `healthcheck`, `deregistration_delay`, `target_container`,
/// `target_port`, `stickiness`, `allowed_source_ips`.
///
/// ```ignore
/// ferry_plugin_sdk::http_routing! {
///     pub struct Http {
///         @path,
///         /// An existing ALB (name or ARN).
///         pub alb: Option<String>,
///         @alias, @hosted_zone, @target, @redirect_to_https, @version, @additional_rules,
///     }
/// }
/// ```
#[macro_export]
macro_rules! http_routing {
    (
        $(#[$meta:meta])*
        pub struct $name:ident { $($body:tt)* }
    ) => {
        $crate::__http_routing_munch! { [$(#[$meta])* $name] [] $($body)* }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __http_routing_munch {
    ([$(#[$meta:meta])* $name:ident] [$($fields:tt)*]) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, ::serde::Deserialize, $crate::schemars::JsonSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $name { $($fields)* }

        impl $name {
            /// The routing fields every rule shares, for
            /// [`check_routing_at`]($crate::workload::http::check_routing_at);
            /// `None` without a path.
            pub fn routing_fields(&self) -> Option<$crate::workload::http::RoutingFields<'_>> {
                Some($crate::workload::http::RoutingFields {
                    path: self.path.as_deref()?,
                    alias: self.alias.as_ref(),
                    healthcheck: self.healthcheck.as_ref(),
                    deregistration_delay: self.deregistration_delay,
                    target_container: self.target_container.as_deref(),
                    target_port: self.target_port,
                    allowed_source_ips: &self.allowed_source_ips,
                    version: self.version.as_deref(),
                })
            }
        }
    };
    ([$($head:tt)*] [$($fields:tt)*] $(#[$fmeta:meta])* pub $field:ident : $ty:ty $(, $($rest:tt)*)?) => {
        $crate::__http_routing_munch! { [$($head)*] [$($fields)* $(#[$fmeta])* pub $field: $ty,] $($($rest)*)? }
    };
    ([$($head:tt)*] [$($fields:tt)*] @ $shared:ident $(, $($rest:tt)*)?) => {
        $crate::__http_routing_field! { $shared [$($head)*] [$($fields)*] [$($($rest)*)?] }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __http_routing_field {
    (@next $h:tt [$($f:tt)*] [$($r:tt)*]) => {
        $crate::__http_routing_munch! { $h [$($f)*] $($r)* }
    };
    (path $h:tt [$($f:tt)*] $r:tt) => {
        $crate::__http_routing_field! { @next $h [$($f)*
            /// Requests under this path reach the service (`/` for all).
            pub path: Option<String>,
        ] $r }
    };
    (alias $h:tt [$($f:tt)*] $r:tt) => {
        $crate::__http_routing_field! { @next $h [$($f)*
            pub alias: Option<$crate::workload::http::Alias>,
        ] $r }
    };
    (hosted_zone $h:tt [$($f:tt)*] $r:tt) => {
        $crate::__http_routing_field! { @next $h [$($f)*
            /// Hosted zone ID where the aliases' records are created.
            pub hosted_zone: Option<String>,
        ] $r }
    };
    (target $h:tt [$($f:tt)*] $r:tt) => {
        $crate::__http_routing_field! { @next $h [$($f)*
            pub healthcheck: Option<$crate::workload::http::HttpHealthCheck>,
            pub deregistration_delay: Option<$crate::workload::Duration>,
            pub target_container: Option<String>,
            pub target_port: Option<u32>,
            pub stickiness: Option<bool>,
            #[serde(default)]
            pub allowed_source_ips: Vec<String>,
        ] $r }
    };
    (redirect_to_https $h:tt [$($f:tt)*] $r:tt) => {
        $crate::__http_routing_field! { @next $h [$($f)*
            pub redirect_to_https: Option<bool>,
        ] $r }
    };
    (version $h:tt [$($f:tt)*] $r:tt) => {
        $crate::__http_routing_field! { @next $h [$($f)*
            /// `http1`, `http2` or `grpc`.
            pub version: Option<String>,
        ] $r }
    };
    (additional_rules $h:tt [$($f:tt)*] $r:tt) => {
        $crate::__http_routing_field! { @next $h [$($f)*
            #[serde(default)]
            pub additional_rules: Vec<$crate::workload::http::AdditionalRule>,
        ] $r }
    };
}
