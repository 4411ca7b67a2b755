//! JSON payloads that cross the plugin boundary.
//!
//! The WIT interface passes manifests, render context and templates as JSON
//! text so that the component type stays stable while these shapes grow.
//! Both the host and the guest SDK use these types, so they cannot drift.
//! Every field added later must be optional (`#[serde(default)]`) so that a
//! plugin built against an older SDK still reads a newer host's context.
//!
//! The plugin contract itself lives here too, once for the SDK, the host's
//! runtime and the native bridge: what a plugin is ([`PluginKind`],
//! [`PluginInfo`]), what it says about a manifest ([`Diagnostic`],
//! [`Severity`]), what a render returns ([`Rendered`], [`RenderOutcome`]),
//! and the JSON envelope of the native ABI ([`native`]).

use serde::{Deserialize, Serialize};

pub mod contract;
pub mod native;
pub mod shell;
pub mod storage;

pub use contract::{Diagnostic, PluginInfo, PluginKind, RenderOutcome, Rendered, Severity};

/// Everything a plugin may know besides its manifest. Rendering is a pure
/// function of (plugin, manifest, context): anything that would need AWS
/// arrives here or is left to CloudFormation (`Fn::ImportValue`, parameters).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RenderContext {
    /// Application name (`copilot/.workspace` `application:`).
    pub app: String,
    /// Environment being rendered for.
    pub env: String,
    /// Workload or environment name.
    pub name: String,
    /// Account, region and partition when known (never needed offline).
    #[serde(default)]
    pub account_id: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub partition: Option<String>,
    /// The app's domain, when `app init --domain` recorded one.
    #[serde(default)]
    pub app_domain: Option<String>,
    /// Route 53 zone IDs of the app's domain (`domainHostedZoneID` of the
    /// app's record) and of `<app>.<domain>` (output `AppHostedZoneId` of the
    /// app's roles stack), when the host has read them: at deploy, never
    /// offline. The environment plugin delegates its zone and validates its
    /// certificate in them.
    #[serde(default)]
    pub domain_hosted_zone_id: Option<String>,
    #[serde(default)]
    pub app_hosted_zone_id: Option<String>,
    /// What the target environment offers its workloads.
    #[serde(default)]
    pub environment: EnvironmentCapabilities,
    /// The image to run, when the host already knows it; otherwise the
    /// template takes it through the `ContainerImage` parameter.
    #[serde(default)]
    pub image: Option<ImageRef>,
    /// The images of sidecars with `image.build`, by sidecar name, when the
    /// host knows them (built and pushed by digest, or `--tag`/`--registry`).
    /// A built sidecar missing here runs `<repository>:<sidecar>-latest`.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub sidecar_images: std::collections::BTreeMap<String, ImageRef>,
    /// Outputs of the workload's addons stack, classified by the host.
    #[serde(default)]
    pub addons: Option<AddonsOutputs>,
    /// Names of other workloads in the workspace (for service discovery,
    /// topic subscriptions and validation of references).
    #[serde(default)]
    pub workloads: Vec<WorkloadSummary>,
    /// The load balancer the workload's `http.alb` names, as the host found
    /// it in the account at deploy (Copilot's deploy step does the same
    /// lookup). `None` offline (`package`): the plugin renders placeholders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imported_alb: Option<ImportedAlb>,
    /// The subnets `network.vpc.placement.subnets.from_tags` selects: the
    /// environment VPC's subnets carrying those tags, as the host found them
    /// at deploy. `None` offline (`package`): the plugin uses the
    /// environment's private subnets as a stand-in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placement_subnets: Option<Vec<String>>,
    /// For a storage plugin (ABI 0.4 and later): the file to render and
    /// the workload or environment it attaches to. `None` for other kinds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage: Option<storage::StorageTarget>,
}

/// An existing application load balancer a workload attaches to
/// (`http.alb`), with what its template needs: the listeners on ports 80
/// and 443, its DNS name and hosted zone (alias records), and its security
/// groups (ingress to the environment's security group).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportedAlb {
    /// The load balancer's ARN.
    pub arn: String,
    /// Its name.
    pub name: String,
    pub dns_name: String,
    /// The load balancer's canonical hosted zone (for alias records).
    pub hosted_zone_id: String,
    /// The listener on port 80, if any.
    #[serde(default)]
    pub http_listener_arn: Option<String>,
    /// The listener on port 443, if any.
    #[serde(default)]
    pub https_listener_arn: Option<String>,
    #[serde(default)]
    pub security_groups: Vec<String>,
}

impl ImportedAlb {
    /// The `app/<name>/<id>` part of the ARN CloudWatch metrics use as the
    /// `LoadBalancer` dimension.
    pub fn full_name(&self) -> String {
        self.arn.split_once(":loadbalancer/").map(|(_, rest)| rest.to_string()).unwrap_or_else(|| self.name.clone())
    }
}

/// Facts about the environment a workload deploys into, read from the
/// environment's manifest so that rendering never needs AWS.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvironmentCapabilities {
    /// The public load balancer has an HTTPS listener (certificates imported
    /// or an app domain delegated).
    #[serde(default)]
    pub https_listener: bool,
    /// An internal load balancer exists (`http.private` in the env manifest).
    #[serde(default)]
    pub internal_alb: bool,
    /// The internal load balancer has an HTTPS listener.
    #[serde(default)]
    pub internal_https_listener: bool,
    /// VPC and subnets are imported rather than created by ferry.
    #[serde(default)]
    pub imported_vpc: bool,
    /// The environment has public subnets (workloads may use
    /// `network.vpc.placement: public`).
    #[serde(default = "default_true")]
    pub public_subnets: bool,
    /// The app's domain is delegated to this environment (aliases allowed).
    #[serde(default)]
    pub dns_delegated: bool,
    /// Certificates imported with `http.public.certificates`.
    #[serde(default)]
    pub public_certificates: Vec<String>,
    /// A CloudFront distribution fronts the public load balancer.
    #[serde(default)]
    pub cdn: bool,
}

fn default_true() -> bool {
    true
}

/// A container image reference the host has resolved.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageRef {
    /// Full reference, e.g. `123.dkr.ecr.us-west-2.amazonaws.com/chat/api:abc123`.
    pub uri: String,
    /// Digest (`sha256:...`) when the image was built and pushed by ferry.
    #[serde(default)]
    pub digest: Option<String>,
}

/// The addons stack's outputs, sorted by what Copilot does with each kind:
/// managed policies attach to the task role, secrets become container
/// secrets, security groups join the service, everything else becomes an
/// environment variable named after the output.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddonsOutputs {
    #[serde(default)]
    pub managed_policies: Vec<String>,
    #[serde(default)]
    pub secrets: Vec<String>,
    #[serde(default)]
    pub security_groups: Vec<String>,
    #[serde(default)]
    pub variables: Vec<String>,
}

/// Another workload of the same application.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadSummary {
    pub name: String,
    /// Manifest `type:` string.
    #[serde(rename = "type")]
    pub kind: String,
    /// The workload runs in private subnets (`network.vpc.placement:
    /// private`), so the environment must provide NAT.
    #[serde(default)]
    pub private_placement: bool,
    /// The workload routes through the environment's application load
    /// balancer — the public one for a Load Balanced Web Service, the
    /// internal one for a Backend Service: it has an `http` section that is
    /// not `false` and imports no load balancer (`http.alb`). The
    /// environment creates that load balancer when any workload needs it.
    #[serde(default)]
    pub behind_env_alb: bool,
    /// The workload mounts the environment-managed EFS file system
    /// (`storage.volumes.<name>.efs: true`; `EFSWorkloads`).
    #[serde(default)]
    pub efs_managed: bool,
    /// A Request-Driven Web Service with `http.private`: the environment
    /// provides the App Runner VPC endpoint (`AppRunnerPrivateWorkloads`).
    #[serde(default)]
    pub apprunner_private: bool,
    /// The workload's `http.alias` names (the environment's CDN serves them).
    #[serde(default)]
    pub aliases: Vec<String>,
}

/// Names of the logical resources, parameters and conditions the host adds
/// to every workload stack. Plugins reference them, they never define them.
pub mod host_owned {
    /// Parameters the host declares on every workload stack.
    pub const APP_NAME: &str = "AppName";
    pub const ENV_NAME: &str = "EnvName";
    pub const WORKLOAD_NAME: &str = "WorkloadName";
    pub const ADDONS_TEMPLATE_URL: &str = "AddonsTemplateURL";
    /// Condition true when the addons template URL is set.
    pub const HAS_ADDONS: &str = "HasAddons";
    /// The nested stack holding `copilot/<name>/addons/*.yml`.
    pub const ADDONS_STACK: &str = "AddonsStack";
    /// Every parameter name the host owns.
    pub const PARAMETERS: &[&str] = &[APP_NAME, ENV_NAME, WORKLOAD_NAME, ADDONS_TEMPLATE_URL];
    /// Every condition the host adds to a workload stack.
    pub const CONDITIONS: &[&str] = &[HAS_ADDONS];
    /// Every resource the host adds to a workload stack.
    pub const RESOURCES: &[&str] = &[ADDONS_STACK];

    /// What the host owns in an environment stack.
    pub mod environment {
        /// The environment's name (Copilot's parameter name for it).
        pub const ENVIRONMENT_NAME: &str = "EnvironmentName";
        /// Parameters the host declares on every environment stack.
        pub const PARAMETERS: &[&str] = &[super::APP_NAME, ENVIRONMENT_NAME];
    }

    /// What the host owns in a pipeline stack: a source plugin's fragment
    /// may reference these, never define them.
    pub mod pipeline {
        /// The `AWS::CodePipeline::Pipeline`.
        pub const PIPELINE: &str = crate::pipeline::PIPELINE_LOGICAL_ID;
        /// The pipeline's role.
        pub const PIPELINE_ROLE: &str = "PipelineRole";
        /// The CodeBuild project running the buildspec, and its role.
        pub const BUILD_PROJECT: &str = "BuildProject";
        pub const BUILD_PROJECT_ROLE: &str = "BuildProjectRole";
        /// The role of the test-command projects.
        pub const TEST_PROJECT_ROLE: &str = "TestProjectRole";
        /// Every resource the host adds under a fixed logical ID.
        pub const RESOURCES: &[&str] = &[PIPELINE, PIPELINE_ROLE, BUILD_PROJECT, BUILD_PROJECT_ROLE, TEST_PROJECT_ROLE];
        /// The app's artifact bucket (StackSet output `PipelineBucket`).
        pub const ARTIFACT_BUCKET: &str = "ArtifactBucket";
        /// The app's KMS key (StackSet output `KMSKeyARN`).
        pub const ARTIFACT_KEY: &str = "ArtifactKeyARN";
        /// The artifact-bucket key of the ferry binary the buildspec runs
        /// (`pipeline deploy` uploads it there once per version and digest).
        pub const FERRY_BINARY_KEY: &str = "FerryBinaryKey";
        /// Its sha256, which the buildspec checks before running it.
        pub const FERRY_BINARY_SHA256: &str = "FerryBinarySha256";
        /// Parameters the host declares on every pipeline stack.
        pub const PARAMETERS: &[&str] = &[ARTIFACT_BUCKET, ARTIFACT_KEY, FERRY_BINARY_KEY, FERRY_BINARY_SHA256];
    }
}

/// What a `pipeline-provider` plugin and the host agree on.
///
/// A provider receives the whole pipeline manifest (so its diagnostics'
/// JSON pointers locate in the file) and a [`RenderContext`] whose `name`
/// is the pipeline's name and `env` is empty. It returns a template
/// fragment holding the resources its source needs (a CodeStar connection,
/// an EventBridge rule...) and, under `Metadata.<`[`pipeline::SOURCE_METADATA`]`>`,
/// a [`pipeline::SourceStage`] saying how the host wires the source into the
/// pipeline it renders around it.
pub mod pipeline {
    use serde::{Deserialize, Serialize};
    use serde_json::Value;

    /// Template `Metadata` key under which a provider returns its [`SourceStage`].
    pub const SOURCE_METADATA: &str = "FerryPipelineSource";
    /// Logical ID of the `AWS::CodePipeline::Pipeline` the host renders;
    /// providers may reference it (e.g. as an EventBridge rule target).
    pub const PIPELINE_LOGICAL_ID: &str = "Pipeline";
    /// Name of the artifact the source action must output.
    pub const SOURCE_ARTIFACT: &str = "SourceOutput";
    /// Stack output the host adds with the connection's ARN, when the source
    /// uses a CodeStar connection.
    pub const CONNECTION_OUTPUT: &str = "ConnectionARN";
    /// Template parameter a provider declares when the connection is named
    /// by `connection_name`: the host resolves the name to an ARN at deploy.
    pub const CONNECTION_PARAMETER: &str = "ConnectionARN";

    /// How the host wires a provider's source into the pipeline.
    #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct SourceStage {
        /// One `AWS::CodePipeline::Pipeline` action declaration (category
        /// `Source`) outputting [`SOURCE_ARTIFACT`].
        pub action: Value,
        /// IAM statements the pipeline's role needs to run the action.
        #[serde(default)]
        pub pipeline_role_statements: Vec<Value>,
        /// IAM statements the build's role needs (e.g. to clone through a
        /// connection with `CODEBUILD_CLONE_REF`).
        #[serde(default)]
        pub build_role_statements: Vec<Value>,
        /// The CodeStar connection, when the source uses one.
        #[serde(default)]
        pub connection: Option<Connection>,
        /// The repository, as shown by `pipeline show`.
        #[serde(default)]
        pub repository: String,
        /// The branch the pipeline follows.
        #[serde(default)]
        pub branch: String,
    }

    /// A CodeStar connection used by a source action.
    #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Connection {
        /// The connection's ARN as a CloudFormation expression.
        pub arn: Value,
        /// Set when the connection is named by `connection_name`: the host
        /// resolves it into the [`CONNECTION_PARAMETER`] parameter.
        #[serde(default)]
        pub name: Option<String>,
        /// True when the template creates the connection (then it starts
        /// `PENDING` until someone completes the handshake in the console).
        #[serde(default)]
        pub created: bool,
    }
}

/// Actions a plugin asks the host to take beside deploying its template
/// (plugin ABI 0.3 and later). A plugin declares the kinds it may request
/// (`plugin-info.host-steps`, shown by `ferry plugin install`/`inspect`)
/// and returns the steps of one render as data beside the template. The
/// host checks each against the stack it belongs to before acting, and never
/// reads a request out of a template's `Metadata`.
pub mod host_steps {
    use serde::{Deserialize, Serialize};

    /// Name of the [`HostStep::S3Upload`] kind, as declared and shown.
    pub const S3_UPLOAD: &str = "s3-upload";

    /// One requested host action.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(tag = "kind", rename_all = "kebab-case")]
    pub enum HostStep {
        /// Sync workspace files to a bucket the same stack creates.
        S3Upload(S3Upload),
    }

    impl HostStep {
        /// The step's kind, as a plugin declares it (`s3-upload`).
        pub fn kind(&self) -> &'static str {
            match self {
                HostStep::S3Upload(_) => S3_UPLOAD,
            }
        }
    }

    /// Sync files to a bucket of the rendered stack.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct S3Upload {
        /// Logical ID of an `AWS::S3::Bucket` of the rendered template (never
        /// a bucket name: the host resolves the name from the deployed stack).
        pub bucket: String,
        /// Logical ID of an `AWS::CloudFront::Distribution` of the same
        /// template, invalidated when objects change.
        #[serde(default)]
        pub distribution: Option<String>,
        /// What to upload.
        pub files: Vec<UploadRule>,
    }

    /// One file or directory of the workspace to upload.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct UploadRule {
        /// Path relative to the workspace root; must stay inside it.
        pub source: String,
        /// Key prefix in the bucket (`/` = the root). Stale objects are
        /// deleted only under the prefixes of a step's rules.
        pub destination: String,
        /// Upload a directory's contents.
        #[serde(default)]
        pub recursive: bool,
        /// Patterns (AWS CLI rules) of files not uploaded.
        #[serde(default)]
        pub exclude: Vec<String>,
        /// Patterns of excluded files uploaded after all.
        #[serde(default)]
        pub reinclude: Vec<String>,
    }
}
