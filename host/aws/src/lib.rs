//! ferry's AWS side: a CloudFormation deployer built on change sets, the
//! Copilot-layout metadata store in SSM Parameter Store, and errors that say
//! which action on which resource failed and what to do.
//!
//! Every AWS service is reached through a small trait ([`cfn::CloudFormationApi`],
//! [`metadata::ParameterStore`]) with one real implementation over the
//! official SDK, so failure paths the emulator cannot produce are tested
//! against fakes at that boundary.

pub mod adopt;
pub mod app;
pub mod calls;
pub mod cfn;
pub mod config;
pub mod custom_domain;
pub mod deploy;
pub mod domain;
pub mod ecr;
pub mod error;
pub mod exec;
pub mod guard;
pub mod imported_alb;
pub mod job_run;
pub mod lease;
pub mod logs;
pub mod metadata;
pub mod pause;
pub mod pipeline;
pub mod priorities;
pub mod run_local;
pub mod service_deployments;
pub mod stackset;
pub mod status;
pub mod subnets;
pub mod task;
pub mod upload;

pub use calls::ApiCalls;
pub use config::AwsContext;
pub use deploy::{DeployEvent, DeployOptions, DeployOutcome, Deployer};
pub use error::{AwsError, AwsErrorKind};
