//! The heart of ferry that needs neither AWS nor WebAssembly: finding the
//! workspace, reading manifests with their source positions, applying
//! Copilot's environment overrides and `${VAR}` interpolation, and assembling
//! plugin output into complete CloudFormation stacks.

pub mod addons;
pub mod adopt;
pub mod capabilities;
pub mod cfn_yaml;
pub mod effective;
pub mod error;
pub mod infrastructure;
pub mod interpolate;
pub mod naming;
pub mod overrides;
pub mod patches;
pub mod pipeline;
pub mod stack;
pub mod upload;
pub mod workspace;
pub mod yaml;

pub use error::{Error, Explain, Failure, Location, Problem};

pub use effective::EffectiveManifest;
pub use workspace::{Manifest, Workspace};
pub use yaml::YamlDoc;
