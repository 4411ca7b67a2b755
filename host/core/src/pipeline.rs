//! Release pipelines in Copilot's format: `copilot/pipelines/<name>/manifest.yml`
//! (and the legacy `copilot/pipeline.yml`), checked against the workspace,
//! and rendered into the `pipeline-<app>-<name>` stack around the source
//! stage a `pipeline-provider` plugin returns.
//!
//! The host owns everything but the source: artifact store (the app's
//! bucket and KMS key, from the `<app>-infrastructure` StackSet, passed as
//! parameters so `package` stays offline), the build project running the
//! buildspec, a deploy stage per environment with manual approval,
//! pre-deployment and test actions, and least-privilege roles.

use crate::error::{Error, Problem, did_you_mean};
use crate::naming;
use crate::workspace::Workspace;
use crate::yaml::{YamlDoc, escape_segment};
use ferry_plugin_protocol::pipeline::{CONNECTION_OUTPUT, PIPELINE_LOGICAL_ID, SOURCE_ARTIFACT, SourceStage};
use indexmap::IndexMap;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::path::PathBuf;

/// Where pipeline manifests live under `copilot/`.
pub const PIPELINES_DIR: &str = "pipelines";
/// The legacy single-pipeline manifest, `copilot/pipeline.yml`.
pub const LEGACY_MANIFEST: &str = "pipeline.yml";
/// The CodeBuild image unless `build.image` says otherwise.
pub const DEFAULT_BUILD_IMAGE: &str = "aws/codebuild/amazonlinux2-x86_64-standard:5.0";
/// Directory of the build output the deploy actions read templates from.
pub const BUILD_OUTPUT_DIR: &str = "infrastructure";
/// Name of the build's output artifact.
pub const BUILD_ARTIFACT: &str = "BuildOutput";
/// Stack parameters the host declares on every pipeline stack.
/// (The one list is the protocol's `host_owned::pipeline`.)
pub mod parameters {
    pub use ferry_plugin_protocol::host_owned::pipeline::{
        ARTIFACT_BUCKET, ARTIFACT_KEY, FERRY_BINARY_KEY, FERRY_BINARY_SHA256,
    };
}
/// Tag Copilot puts on pipeline stacks besides `copilot-application`.
pub const PIPELINE_TAG: &str = "copilot-pipeline";

/// `build:` of a pipeline manifest.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Build {
    pub image: Option<String>,
    pub buildspec: Option<String>,
    pub additional_policy: Option<AdditionalPolicy>,
}

/// `build.additional_policy`: an IAM policy document for the build role.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdditionalPolicy {
    #[serde(rename = "PolicyDocument")]
    pub policy_document: Value,
}

/// One entry of `deployments:` (every field optional: `api:` alone is fine).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deployment {
    #[serde(default)]
    pub depends_on: Vec<String>,
    pub stack_name: Option<String>,
    pub template_path: Option<String>,
    pub template_config: Option<String>,
}

/// One entry of `pre_deployments:` / `post_deployments:`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Action {
    pub buildspec: String,
    #[serde(default)]
    pub depends_on: Vec<String>,
}

/// One element of `stages:`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stage {
    pub name: String,
    #[serde(default)]
    pub requires_approval: bool,
    #[serde(default)]
    pub test_commands: Vec<String>,
    #[serde(default)]
    pub pre_deployments: IndexMap<String, Option<Action>>,
    #[serde(default)]
    pub post_deployments: IndexMap<String, Option<Action>>,
    /// Absent: every workload of the workspace, deployed together.
    pub deployments: Option<IndexMap<String, Option<Deployment>>>,
}

/// The typed manifest.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    pub name: String,
    pub version: Option<u32>,
    /// Read by the provider plugin, not the host.
    pub source: Value,
    #[serde(default)]
    pub build: Build,
    pub stages: Vec<Stage>,
}

/// A pipeline manifest read from disk.
#[derive(Debug, Clone)]
pub struct PipelineManifest {
    /// `name:` (for the directory layout, also its directory's name).
    pub name: String,
    pub doc: YamlDoc,
    pub spec: Spec,
    /// The directory of the manifest (where `buildspec.yml` sits).
    pub dir: PathBuf,
    /// True for `copilot/pipeline.yml`.
    pub legacy: bool,
}

impl PipelineManifest {
    /// `source.provider`, when it is a string.
    pub fn provider(&self) -> Option<&str> {
        self.spec.source.get("provider").and_then(Value::as_str)
    }

    /// A located problem at `pointer`.
    pub fn problem(&self, pointer: &str, what: impl Into<String>) -> Problem {
        Problem::new(what).at(Some(self.doc.locate(pointer))).pointer(pointer)
    }

    /// The buildspec path CodeBuild reads, relative to the repository root.
    pub fn buildspec_path(&self) -> String {
        if let Some(path) = &self.spec.build.buildspec {
            return path.trim_start_matches("./").to_string();
        }
        if self.legacy {
            "copilot/buildspec.yml".into()
        } else {
            format!("copilot/pipelines/{}/buildspec.yml", self.name)
        }
    }
}

impl Workspace {
    /// Names of every pipeline: `copilot/pipelines/<name>/` directories and
    /// the legacy `copilot/pipeline.yml` (by its `name:`), sorted.
    pub fn pipeline_names(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.copilot_dir.join(PIPELINES_DIR))
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .filter(|e| e.path().join("manifest.yml").is_file())
                    .filter_map(|e| e.file_name().to_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        if let Some(name) = self.legacy_pipeline_name() {
            names.push(name);
        }
        names.sort();
        names.dedup();
        names
    }

    fn legacy_pipeline_name(&self) -> Option<String> {
        let doc = YamlDoc::read(&self.copilot_dir.join(LEGACY_MANIFEST)).ok()?;
        doc.value.get("name").and_then(Value::as_str).map(str::to_string)
    }

    /// Reads the pipeline `name`; [`check`] then checks it against the
    /// workspace (the source is the provider plugin's to check).
    pub fn load_pipeline(&self, name: &str) -> Result<PipelineManifest, Error> {
        let known = self.pipeline_names();
        if !known.iter().any(|k| k == name) {
            let hint = match did_you_mean(name, known.iter().map(String::as_str)) {
                Some(best) => format!("did you mean `{best}`?"),
                None if known.is_empty() => "create one with `ferry pipeline init`".to_string(),
                None => format!("pipelines in this workspace: {}", known.join(", ")),
            };
            return Err(Problem::new(format!("no pipeline named `{name}`"))
                .why("ferry reads copilot/pipelines/<name>/manifest.yml and copilot/pipeline.yml")
                .hint(hint)
                .into());
        }
        let dir = self.copilot_dir.join(PIPELINES_DIR).join(name);
        let (path, legacy) = if dir.join("manifest.yml").is_file() {
            (dir.join("manifest.yml"), false)
        } else {
            (self.copilot_dir.join(LEGACY_MANIFEST), true)
        };
        let doc = YamlDoc::read(&path)?;
        let spec = parse_spec(&doc)?;
        Ok(PipelineManifest {
            name: name.to_string(),
            dir: path.parent().map(PathBuf::from).unwrap_or_default(),
            doc,
            spec,
            legacy,
        })
    }
}

fn parse_spec(doc: &YamlDoc) -> Result<Spec, Error> {
    serde_path_to_error::deserialize::<_, Spec>(&doc.value).map_err(|err| {
        let mut pointer = String::new();
        for segment in err.path().iter() {
            match segment {
                serde_path_to_error::Segment::Seq { index } => pointer.push_str(&format!("/{index}")),
                serde_path_to_error::Segment::Map { key } => pointer.push_str(&format!("/{}", escape_segment(key))),
                _ => {}
            }
        }
        let message = err.inner().to_string();
        let (what, hint) = if let Some(field) = between(&message, "unknown field `", "`") {
            if !pointer.ends_with(&format!("/{}", escape_segment(field))) {
                pointer.push_str(&format!("/{}", escape_segment(field)));
            }
            let expected: Vec<&str> = message
                .split_once("expected ")
                .map(|(_, rest)| {
                    rest.trim_start_matches("one of ").split([',', ' ']).map(|s| s.trim_matches('`')).collect()
                })
                .unwrap_or_default();
            let expected: Vec<&str> = expected.into_iter().filter(|s| !s.is_empty() && *s != "or").collect();
            let hint = match did_you_mean(field, expected.iter().copied()) {
                Some(best) => format!("did you mean `{best}`?"),
                None => format!("expected one of: {}", expected.join(", ")),
            };
            (format!("unknown field `{field}`"), hint)
        } else if let Some(field) = between(&message, "missing field `", "`") {
            (format!("missing required field `{field}`"), format!("add `{field}:` here"))
        } else {
            (message.clone(), "see the pipeline manifest reference (docs/pipelines.md)".to_string())
        };
        Problem::new(what).at(Some(doc.locate(&pointer))).pointer(pointer).hint(hint).into()
    })
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find(start)? + start.len();
    let len = text[from..].find(end)?;
    Some(&text[from..from + len])
}

/// Every problem a pipeline manifest has with the workspace it lives in.
pub fn check(ws: &Workspace, m: &PipelineManifest) -> Vec<Problem> {
    let mut out = Vec::new();
    if let Err(why) = naming::check_name(&m.spec.name) {
        out.push(m.problem("/name", format!("invalid pipeline name `{}`", m.spec.name)).why(why));
    } else if !m.legacy && m.spec.name != m.name {
        out.push(
            m.problem("/name", format!("the manifest is named `{}` but lives in pipelines/{}/", m.spec.name, m.name))
                .hint(format!("set `name: {}` or rename the directory", m.name)),
        );
    }
    match &m.spec.source {
        Value::Object(source) => {
            if !source.get("provider").is_some_and(Value::is_string) {
                out.push(
                    m.problem("/source/provider", "`source.provider` must name the source provider")
                        .hint("e.g. `provider: GitHub`; `ferry plugin ls` lists the installed pipeline providers"),
                );
            }
        }
        _ => out.push(m.problem("/source", "`source` must be a map with `provider` and `properties`")),
    }
    if m.spec.stages.is_empty() {
        out.push(
            m.problem("/stages", "the pipeline has no stages").hint("add `- name: <environment>` under `stages:`"),
        );
    }
    let envs = ws.environment_names();
    let workloads = ws.workload_names();
    let mut seen: Vec<&str> = Vec::new();
    for (i, stage) in m.spec.stages.iter().enumerate() {
        let at = format!("/stages/{i}");
        if !envs.contains(&stage.name) {
            let hint = match did_you_mean(&stage.name, envs.iter().map(String::as_str)) {
                Some(best) => format!("did you mean `{best}`?"),
                None if envs.is_empty() => "create one with `ferry env init`".to_string(),
                None => format!("environments in this workspace: {}", envs.join(", ")),
            };
            out.push(
                m.problem(
                    &format!("{at}/name"),
                    format!("stage `{}` names an environment that does not exist", stage.name),
                )
                .why("each stage deploys to the environment it is named after (copilot/environments/<env>/)")
                .hint(hint),
            );
        }
        if seen.contains(&stage.name.as_str()) {
            out.push(
                m.problem(&format!("{at}/name"), format!("environment `{}` has two stages", stage.name))
                    .hint("deploy to each environment once per pipeline"),
            );
        }
        seen.push(&stage.name);
        if let Some(deployments) = &stage.deployments {
            for name in deployments.keys() {
                if !workloads.contains(name) && name != &stage.name {
                    let hint = match did_you_mean(name, workloads.iter().map(String::as_str)) {
                        Some(best) => format!("did you mean `{best}`?"),
                        None => format!("workloads in this workspace: {}", workloads.join(", ")),
                    };
                    out.push(
                        m.problem(
                            &format!("{at}/deployments/{}", escape_segment(name)),
                            format!("deployment `{name}` is not a service or job of this workspace"),
                        )
                        .hint(hint),
                    );
                }
            }
            let graph: IndexMap<&str, Vec<&str>> = deployments
                .iter()
                .map(|(k, d)| {
                    (
                        k.as_str(),
                        d.as_ref().map(|d| d.depends_on.iter().map(String::as_str).collect()).unwrap_or_default(),
                    )
                })
                .collect();
            out.extend(check_graph(m, &format!("{at}/deployments"), &graph));
        }
        for (field, actions) in
            [("pre_deployments", &stage.pre_deployments), ("post_deployments", &stage.post_deployments)]
        {
            for (name, action) in actions {
                if action.is_none() {
                    out.push(
                        m.problem(
                            &format!("{at}/{field}/{}", escape_segment(name)),
                            format!("`{name}` has no `buildspec`"),
                        )
                        .hint("add `buildspec: <path to a buildspec in the repository>`"),
                    );
                }
            }
            let graph: IndexMap<&str, Vec<&str>> = actions
                .iter()
                .map(|(k, a)| {
                    (
                        k.as_str(),
                        a.as_ref().map(|a| a.depends_on.iter().map(String::as_str).collect()).unwrap_or_default(),
                    )
                })
                .collect();
            out.extend(check_graph(m, &format!("{at}/{field}"), &graph));
        }
        for (j, command) in stage.test_commands.iter().enumerate() {
            if command.trim().is_empty() {
                out.push(m.problem(&format!("{at}/test_commands/{j}"), "empty test command"));
            }
        }
    }
    if let Some(policy) = &m.spec.build.additional_policy
        && !policy.policy_document.is_object()
    {
        out.push(
            m.problem("/build/additional_policy/PolicyDocument", "`PolicyDocument` must be an IAM policy document")
                .hint("a map with `Version: 2012-10-17` and `Statement:`"),
        );
    }
    out
}

/// Unknown `depends_on` targets and cycles in one stage's actions.
fn check_graph(m: &PipelineManifest, at: &str, graph: &IndexMap<&str, Vec<&str>>) -> Vec<Problem> {
    let mut out = Vec::new();
    for (name, deps) in graph {
        for (k, dep) in deps.iter().enumerate() {
            if !graph.contains_key(dep) {
                let known: Vec<&str> = graph.keys().copied().filter(|n| n != name).collect();
                out.push(
                    m.problem(
                        &format!("{at}/{}/depends_on/{k}", escape_segment(name)),
                        format!("`{name}` depends on `{dep}`, which this stage does not deploy"),
                    )
                    .hint(format!("depend on one of: {}", known.join(", "))),
                );
            }
        }
    }
    if let Err(cycle) = levels(graph) {
        let first = cycle[0];
        out.push(
            m.problem(
                &format!("{at}/{}/depends_on", escape_segment(first)),
                format!("`depends_on` has a cycle: {}", cycle.join(" → ")),
            )
            .why("a deployment cannot wait for itself")
            .hint("remove one of the `depends_on` entries in the cycle"),
        );
    }
    out
}

/// The run order (1-based level) of each node, so that everything a node
/// depends on runs before it; a cycle is returned as the path around it.
/// Unknown dependencies are ignored (reported separately).
pub fn levels<'a>(graph: &IndexMap<&'a str, Vec<&'a str>>) -> Result<IndexMap<&'a str, u32>, Vec<&'a str>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Active,
        Done(u32),
    }
    fn visit<'a>(
        node: &'a str,
        graph: &IndexMap<&'a str, Vec<&'a str>>,
        marks: &mut IndexMap<&'a str, Mark>,
        path: &mut Vec<&'a str>,
    ) -> Result<u32, Vec<&'a str>> {
        match marks[node] {
            Mark::Done(level) => return Ok(level),
            Mark::Active => {
                let start = path.iter().position(|n| *n == node).unwrap_or(0);
                let mut cycle: Vec<&str> = path[start..].to_vec();
                cycle.push(node);
                return Err(cycle);
            }
            Mark::New => {}
        }
        marks.insert(node, Mark::Active);
        path.push(node);
        let mut level = 1;
        for dep in &graph[node] {
            if graph.contains_key(dep) {
                level = level.max(visit(dep, graph, marks, path)? + 1);
            }
        }
        path.pop();
        marks.insert(node, Mark::Done(level));
        Ok(level)
    }
    let mut marks: IndexMap<&str, Mark> = graph.keys().map(|k| (*k, Mark::New)).collect();
    let mut out = IndexMap::new();
    for node in graph.keys() {
        let level = visit(node, graph, &mut marks, &mut Vec::new())?;
        out.insert(*node, level);
    }
    Ok(out)
}

/// What the host needs besides the manifest to render a pipeline stack.
pub struct RenderInput<'a> {
    pub app: &'a str,
    pub manifest: &'a PipelineManifest,
    /// Every workload of the workspace (stages without `deployments:` deploy all).
    pub workloads: &'a [String],
    /// The provider plugin's fragment: resources, parameters, outputs and
    /// `Metadata.FerryPipelineSource`.
    pub fragment: Value,
    /// Values of the provider's parameters.
    pub provider_parameters: Map<String, Value>,
    /// Name and version of the provider plugin, recorded in the template.
    pub provider: String,
}

/// A rendered pipeline stack.
#[derive(Debug, Clone)]
pub struct RenderedPipeline {
    pub stack: crate::stack::Stack,
    pub source: SourceStage,
}

fn sub(text: &str) -> Value {
    json!({ "Fn::Sub": text })
}

fn assume(service: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]
    })
}

fn policy(name: &str, statements: Vec<Value>) -> Value {
    json!({"PolicyName": name, "PolicyDocument": {"Version": "2012-10-17", "Statement": statements}})
}

/// Statements to read and write the pipeline's artifacts.
fn artifact_statements(write: bool) -> Vec<Value> {
    let mut s3 = vec![
        "s3:GetObject",
        "s3:GetObjectVersion",
        "s3:GetBucketVersioning",
        "s3:GetBucketAcl",
        "s3:GetBucketLocation",
    ];
    if write {
        s3.push("s3:PutObject");
    }
    vec![
        json!({
            "Sid": "Artifacts",
            "Effect": "Allow",
            "Action": s3,
            "Resource": [
                sub(&format!("arn:${{AWS::Partition}}:s3:::${{{}}}", parameters::ARTIFACT_BUCKET)),
                sub(&format!("arn:${{AWS::Partition}}:s3:::${{{}}}/*", parameters::ARTIFACT_BUCKET))
            ]
        }),
        json!({
            "Sid": "ArtifactKey",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:Encrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
            "Resource": {"Ref": parameters::ARTIFACT_KEY}
        }),
    ]
}

/// Statements to write a CodeBuild project's logs.
fn log_statements(project_prefix: &str) -> Value {
    json!({
        "Sid": "BuildLogs",
        "Effect": "Allow",
        "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": sub(&format!("arn:${{AWS::Partition}}:logs:${{AWS::Region}}:${{AWS::AccountId}}:log-group:/aws/codebuild/{project_prefix}*"))
    })
}

fn codebuild_project(
    name: &str,
    role: &str,
    image: &str,
    buildspec: Value,
    description: &str,
    variables: Vec<Value>,
) -> Value {
    json!({
        "Type": "AWS::CodeBuild::Project",
        "Properties": {
            "Name": name,
            "Description": description,
            "ServiceRole": {"Fn::GetAtt": [role, "Arn"]},
            "EncryptionKey": {"Ref": parameters::ARTIFACT_KEY},
            "Artifacts": {"Type": "CODEPIPELINE"},
            "Source": {"Type": "CODEPIPELINE", "BuildSpec": buildspec},
            "TimeoutInMinutes": 60,
            "Environment": {
                "Type": "LINUX_CONTAINER",
                "ComputeType": "BUILD_GENERAL1_SMALL",
                "Image": image,
                "PrivilegedMode": true,
                "EnvironmentVariables": variables
            }
        }
    })
}

fn variable(name: &str, value: impl Into<Value>) -> Value {
    json!({"Name": name, "Type": "PLAINTEXT", "Value": value.into()})
}

fn build_action(name: &str, project: &str, run_order: u32, input: &str, output: Option<&str>) -> Value {
    let mut action = json!({
        "Name": name,
        "ActionTypeId": {"Category": "Build", "Owner": "AWS", "Provider": "CodeBuild", "Version": "1"},
        "Configuration": {"ProjectName": {"Ref": project}},
        "InputArtifacts": [{"Name": input}],
        "RunOrder": run_order
    });
    if let Some(output) = output {
        action["OutputArtifacts"] = json!([{"Name": output}]);
    }
    action
}

/// Renders the `pipeline-<app>-<name>` stack.
pub fn render(input: RenderInput<'_>) -> Result<RenderedPipeline, Error> {
    let RenderInput { app, manifest, workloads, fragment, provider_parameters, provider } = input;
    let name = &manifest.name;
    let stack_name = naming::pipeline_stack(app, name);
    let Value::Object(mut fragment) = fragment else {
        return Err(Problem::new(format!(
            "the source plugin {provider} returned a template that is not a JSON object"
        ))
        .into());
    };
    let source: SourceStage = fragment
        .get_mut("Metadata")
        .and_then(|m| m.as_object_mut())
        .and_then(|m| m.remove(ferry_plugin_protocol::pipeline::SOURCE_METADATA))
        .and_then(|v| serde_json::from_value(v).ok())
        .ok_or_else(|| {
            Problem::new(format!("the source plugin {provider} did not say how to wire its source"))
                .why(format!(
                    "its template has no valid `Metadata.{}`",
                    ferry_plugin_protocol::pipeline::SOURCE_METADATA
                ))
                .hint("report this to the plugin's author")
        })?;
    let section = |fragment: &mut Map<String, Value>, key: &str| -> Map<String, Value> {
        match fragment.remove(key) {
            Some(Value::Object(map)) => map,
            _ => Map::new(),
        }
    };
    let mut params = section(&mut fragment, "Parameters");
    let mut resources = section(&mut fragment, "Resources");
    let mut outputs = section(&mut fragment, "Outputs");
    let conditions = section(&mut fragment, "Conditions");
    let host_owned = ferry_plugin_protocol::host_owned::pipeline::RESOURCES
        .iter()
        .map(|id| (id, &resources))
        .chain(ferry_plugin_protocol::host_owned::pipeline::PARAMETERS.iter().map(|id| (id, &params)));
    for (&host_owned, section) in host_owned {
        if section.contains_key(host_owned) {
            return Err(manifest
                .problem(
                    "/source/provider",
                    format!("the source plugin {provider} defines `{host_owned}`, which the host owns"),
                )
                .why("the host renders the build project, test commands, roles and artifact store of every pipeline")
                .hint("report this to the plugin's author, or choose another provider")
                .into());
        }
    }
    params.insert(
        parameters::ARTIFACT_BUCKET.into(),
        json!({"Type": "String", "Description": "The application's artifact bucket (StackSet output PipelineBucket)"}),
    );
    params.insert(
        parameters::ARTIFACT_KEY.into(),
        json!({"Type": "String", "Description": "The application's KMS key for artifacts (StackSet output KMSKeyARN)"}),
    );
    params.insert(
        parameters::FERRY_BINARY_KEY.into(),
        json!({"Type": "String", "Description": "Key of the ferry binary in the artifact bucket (uploaded by pipeline deploy)"}),
    );
    params.insert(
        parameters::FERRY_BINARY_SHA256.into(),
        json!({"Type": "String", "Description": "sha256 of that binary, checked by the buildspec before it runs"}),
    );

    let spec = &manifest.spec;
    let image = spec.build.image.clone().unwrap_or_else(|| DEFAULT_BUILD_IMAGE.to_string());
    let project_prefix = stack_name.clone();
    let envs: Vec<&str> = spec.stages.iter().map(|s| s.name.as_str()).collect();

    // Build: runs the buildspec, which builds and pushes images and writes
    // the stack templates every deploy action reads.
    let mut build_statements = vec![log_statements(&project_prefix)];
    build_statements.extend(artifact_statements(true));
    build_statements.push(json!({
        "Sid": "PushImages",
        "Effect": "Allow",
        "Action": [
            "ecr:BatchCheckLayerAvailability", "ecr:CompleteLayerUpload", "ecr:InitiateLayerUpload",
            "ecr:PutImage", "ecr:UploadLayerPart", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"
        ],
        "Resource": sub(&format!("arn:${{AWS::Partition}}:ecr:${{AWS::Region}}:${{AWS::AccountId}}:repository/{app}/*"))
    }));
    build_statements.push(
        json!({"Sid": "RegistryLogin", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"}),
    );
    build_statements.push(json!({
        "Sid": "ReadAppRecords",
        "Effect": "Allow",
        "Action": ["ssm:GetParameter", "ssm:GetParametersByPath"],
        "Resource": [
            sub(&format!("arn:${{AWS::Partition}}:ssm:${{AWS::Region}}:${{AWS::AccountId}}:parameter/copilot/applications/{app}")),
            sub(&format!("arn:${{AWS::Partition}}:ssm:${{AWS::Region}}:${{AWS::AccountId}}:parameter/copilot/applications/{app}/*"))
        ]
    }));
    // `svc package --upload-assets` reads the app's regional resources
    // (repositories, bucket) as `svc deploy` does.
    build_statements.push(json!({
        "Sid": "ReadAppStacks",
        "Effect": "Allow",
        "Action": [
            "cloudformation:DescribeStacks", "cloudformation:DescribeStackSet", "cloudformation:ListStackInstances",
            "cloudformation:DescribeStackInstance"
        ],
        "Resource": "*"
    }));
    build_statements.extend(source.build_role_statements.iter().cloned());
    let mut build_policies = vec![policy("Build", build_statements)];
    if let Some(extra) = &spec.build.additional_policy {
        build_policies.push(json!({"PolicyName": "AdditionalPolicy", "PolicyDocument": extra.policy_document}));
    }
    resources.insert(
        "BuildProjectRole".into(),
        json!({"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": assume("codebuild.amazonaws.com"), "Policies": build_policies}}),
    );
    resources.insert(
        "BuildProject".into(),
        codebuild_project(
            &format!("{project_prefix}-build"),
            "BuildProjectRole",
            &image,
            Value::String(manifest.buildspec_path()),
            &format!("Builds images and stack templates of application {app} for pipeline {name}"),
            vec![
                variable("COPILOT_APPLICATION_NAME", app),
                variable("FERRY_PIPELINE", name.as_str()),
                variable("FERRY_ENVIRONMENTS", envs.join(" ")),
                variable("AWS_ACCOUNT_ID", json!({"Ref": "AWS::AccountId"})),
                variable("FERRY_ARTIFACT_BUCKET", json!({"Ref": parameters::ARTIFACT_BUCKET})),
                variable("FERRY_BINARY_KEY", json!({"Ref": parameters::FERRY_BINARY_KEY})),
                variable("FERRY_BINARY_SHA256", json!({"Ref": parameters::FERRY_BINARY_SHA256})),
            ],
        ),
    );

    // Test commands and pre/post-deployments run in their own projects; tests
    // only read artifacts and write logs.
    let mut test_projects: Vec<String> = Vec::new();
    let mut action_projects: Vec<String> = Vec::new();
    for stage in &spec.stages {
        if !stage.test_commands.is_empty() {
            let id = naming::logical_id("TestCommands", &stage.name);
            let buildspec = json!({"version": 0.2, "phases": {"build": {"commands": stage.test_commands}}});
            let text = serde_json::to_string(&buildspec).unwrap_or_default();
            resources.insert(
                id.clone(),
                codebuild_project(
                    &format!("{project_prefix}-test-{}", stage.name),
                    "TestProjectRole",
                    &image,
                    Value::String(text),
                    &format!("Test commands after deploying to {}", stage.name),
                    vec![variable("COPILOT_ENVIRONMENT_NAME", stage.name.as_str())],
                ),
            );
            test_projects.push(id);
        }
        for (kind, actions) in [("pre", &stage.pre_deployments), ("post", &stage.post_deployments)] {
            for (action_name, action) in actions {
                let Some(action) = action else { continue };
                let id = naming::logical_id(
                    &format!("{}Deployment", if kind == "pre" { "Pre" } else { "Post" }),
                    &format!("{}-{action_name}", stage.name),
                );
                resources.insert(
                    id.clone(),
                    codebuild_project(
                        &format!("{project_prefix}-{kind}-{}-{action_name}", stage.name),
                        "BuildProjectRole",
                        &image,
                        Value::String(action.buildspec.trim_start_matches("./").to_string()),
                        &format!("{kind}-deployment {action_name} of {}", stage.name),
                        vec![
                            variable("COPILOT_APPLICATION_NAME", app),
                            variable("COPILOT_ENVIRONMENT_NAME", stage.name.as_str()),
                        ],
                    ),
                );
                action_projects.push(id);
            }
        }
    }
    if !test_projects.is_empty() {
        let mut statements = vec![log_statements(&project_prefix)];
        statements.extend(artifact_statements(false));
        resources.insert(
            "TestProjectRole".into(),
            json!({"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": assume("codebuild.amazonaws.com"), "Policies": [policy("Test", statements)]}}),
        );
    }

    // Stages.
    let mut stages = vec![json!({"Name": "Source", "Actions": [source.action.clone()]})];
    stages.push(json!({
        "Name": "Build",
        "Actions": [build_action("Build", "BuildProject", 1, SOURCE_ARTIFACT, Some(BUILD_ARTIFACT))]
    }));
    let mut stack_arns: Vec<Value> = Vec::new();
    for stage in &spec.stages {
        let env = stage.name.as_str();
        let mut actions = Vec::new();
        let mut order = 1;
        if stage.requires_approval {
            actions.push(json!({
                "Name": format!("ApprovePromotionTo-{env}"),
                "ActionTypeId": {"Category": "Approval", "Owner": "AWS", "Provider": "Manual", "Version": "1"},
                "Configuration": {"CustomData": format!("Approve deploying {app} to {env}")},
                "RunOrder": order
            }));
            order += 1;
        }
        for (kind, list) in [("pre", &stage.pre_deployments)] {
            let graph: IndexMap<&str, Vec<&str>> = list
                .iter()
                .map(|(k, a)| {
                    (
                        k.as_str(),
                        a.as_ref().map(|a| a.depends_on.iter().map(String::as_str).collect()).unwrap_or_default(),
                    )
                })
                .collect();
            let order_of = levels(&graph).unwrap_or_default();
            let mut max = 0;
            for (action_name, level) in &order_of {
                let id = naming::logical_id("PreDeployment", &format!("{env}-{action_name}"));
                actions.push(build_action(
                    &format!("{kind}-{action_name}"),
                    &id,
                    order + level - 1,
                    SOURCE_ARTIFACT,
                    None,
                ));
                max = max.max(*level);
            }
            order += max;
        }
        let deployments: IndexMap<String, Deployment> = match &stage.deployments {
            Some(d) => d.iter().map(|(k, v)| (k.clone(), v.clone().unwrap_or_default())).collect(),
            None => workloads.iter().map(|w| (w.clone(), Deployment::default())).collect(),
        };
        let graph: IndexMap<&str, Vec<&str>> =
            deployments.iter().map(|(k, d)| (k.as_str(), d.depends_on.iter().map(String::as_str).collect())).collect();
        let order_of = levels(&graph).unwrap_or_default();
        let mut max = 0;
        for (workload, level) in &order_of {
            let d = &deployments[*workload];
            let is_env = *workload == env;
            let stack = d.stack_name.clone().unwrap_or_else(|| {
                if is_env { naming::environment_stack(app, env) } else { naming::workload_stack(app, env, workload) }
            });
            let base = if is_env { format!("{env}.env") } else { format!("{workload}-{env}") };
            let template_path =
                d.template_path.clone().unwrap_or_else(|| format!("{BUILD_OUTPUT_DIR}/{base}.stack.json"));
            let template_config =
                d.template_config.clone().unwrap_or_else(|| format!("{BUILD_OUTPUT_DIR}/{base}.params.json"));
            stack_arns.push(sub(&format!(
                "arn:${{AWS::Partition}}:cloudformation:${{AWS::Region}}:${{AWS::AccountId}}:stack/{stack}/*"
            )));
            actions.push(json!({
                "Name": format!("CreateOrUpdate-{workload}-{env}"),
                "ActionTypeId": {"Category": "Deploy", "Owner": "AWS", "Provider": "CloudFormation", "Version": "1"},
                "Configuration": {
                    "ActionMode": "CREATE_UPDATE",
                    "StackName": stack,
                    "Capabilities": "CAPABILITY_IAM,CAPABILITY_NAMED_IAM,CAPABILITY_AUTO_EXPAND",
                    "TemplatePath": format!("{BUILD_ARTIFACT}::{template_path}"),
                    "TemplateConfiguration": format!("{BUILD_ARTIFACT}::{template_config}"),
                    "RoleArn": {"Fn::ImportValue": naming::env_export(app, env, "CFNExecutionRoleARN")}
                },
                "InputArtifacts": [{"Name": BUILD_ARTIFACT}],
                "RunOrder": order + level - 1
            }));
            max = max.max(*level);
        }
        order += max;
        let post_graph: IndexMap<&str, Vec<&str>> = stage
            .post_deployments
            .iter()
            .map(|(k, a)| {
                (k.as_str(), a.as_ref().map(|a| a.depends_on.iter().map(String::as_str).collect()).unwrap_or_default())
            })
            .collect();
        let post_levels = levels(&post_graph).unwrap_or_default();
        let mut post_max = 0;
        for (action_name, level) in &post_levels {
            let id = naming::logical_id("PostDeployment", &format!("{env}-{action_name}"));
            actions.push(build_action(&format!("post-{action_name}"), &id, order + level - 1, SOURCE_ARTIFACT, None));
            post_max = post_max.max(*level);
        }
        order += post_max;
        if !stage.test_commands.is_empty() {
            actions.push(build_action(
                "TestCommands",
                &naming::logical_id("TestCommands", env),
                order,
                SOURCE_ARTIFACT,
                None,
            ));
        }
        if actions.is_empty() {
            return Err(manifest
                .problem(
                    &format!("/stages/{}", spec.stages.iter().position(|s| s.name == env).unwrap_or(0)),
                    format!("stage `{env}` has nothing to do"),
                )
                .why("the workspace has no services or jobs and the stage lists no deployments")
                .hint("add a workload with `ferry svc init`, or list `deployments:`")
                .into());
        }
        stages.push(json!({"Name": format!("DeployTo-{env}"), "Actions": actions}));
    }

    // The pipeline's role: artifacts, the builds, the deploys, the source.
    let mut project_arns: Vec<Value> = vec![json!({"Fn::GetAtt": ["BuildProject", "Arn"]})];
    project_arns.extend(test_projects.iter().chain(&action_projects).map(|id| json!({"Fn::GetAtt": [id, "Arn"]})));
    let mut statements = artifact_statements(true);
    statements.push(json!({"Sid": "RunBuilds", "Effect": "Allow", "Action": ["codebuild:StartBuild", "codebuild:BatchGetBuilds"], "Resource": project_arns}));
    if !stack_arns.is_empty() {
        statements.push(json!({
            "Sid": "DeployStacks",
            "Effect": "Allow",
            "Action": [
                "cloudformation:CreateStack", "cloudformation:UpdateStack", "cloudformation:DescribeStacks",
                "cloudformation:CreateChangeSet", "cloudformation:DescribeChangeSet", "cloudformation:ExecuteChangeSet",
                "cloudformation:DeleteChangeSet"
            ],
            "Resource": stack_arns
        }));
        statements.push(json!({
            "Sid": "PassExecutionRoles",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": envs.iter().map(|env| json!({"Fn::ImportValue": naming::env_export(app, env, "CFNExecutionRoleARN")})).collect::<Vec<_>>(),
            "Condition": {"StringEquals": {"iam:PassedToService": "cloudformation.amazonaws.com"}}
        }));
    }
    statements.extend(source.pipeline_role_statements.iter().cloned());
    resources.insert(
        "PipelineRole".into(),
        json!({"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": assume("codepipeline.amazonaws.com"), "Policies": [policy("Pipeline", statements)]}}),
    );
    resources.insert(
        PIPELINE_LOGICAL_ID.into(),
        json!({
            "Type": "AWS::CodePipeline::Pipeline",
            "Properties": {
                "Name": stack_name,
                "RoleArn": {"Fn::GetAtt": ["PipelineRole", "Arn"]},
                "RestartExecutionOnUpdate": true,
                "ArtifactStore": {
                    "Type": "S3",
                    "Location": {"Ref": parameters::ARTIFACT_BUCKET},
                    "EncryptionKey": {"Id": {"Ref": parameters::ARTIFACT_KEY}, "Type": "KMS"}
                },
                "Stages": stages,
                "Tags": [
                    {"Key": naming::tags::APPLICATION, "Value": app},
                    {"Key": PIPELINE_TAG, "Value": name.as_str()}
                ]
            }
        }),
    );
    outputs.insert("PipelineName".into(), json!({"Value": {"Ref": PIPELINE_LOGICAL_ID}}));
    outputs.insert("BuildProjectName".into(), json!({"Value": {"Ref": "BuildProject"}}));
    if let Some(connection) = &source.connection {
        outputs.insert(CONNECTION_OUTPUT.into(), json!({"Value": connection.arn}));
    }

    let mut template = Map::new();
    template.insert("AWSTemplateFormatVersion".into(), json!("2010-09-09"));
    template.insert("Description".into(), json!(format!("ferry: release pipeline {name} of application {app}")));
    let mut metadata = match fragment.remove("Metadata") {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    };
    metadata.insert(
        "Source".into(),
        json!({"Provider": provider, "Repository": source.repository, "Branch": source.branch}),
    );
    template.insert("Metadata".into(), Value::Object(metadata));
    template.insert("Parameters".into(), Value::Object(params));
    if !conditions.is_empty() {
        template.insert("Conditions".into(), Value::Object(conditions));
    }
    template.insert("Resources".into(), Value::Object(resources));
    template.insert("Outputs".into(), Value::Object(outputs));

    let mut stack_parameters: IndexMap<String, String> = IndexMap::new();
    stack_parameters.insert(parameters::ARTIFACT_BUCKET.into(), String::new());
    stack_parameters.insert(parameters::ARTIFACT_KEY.into(), String::new());
    stack_parameters.insert(parameters::FERRY_BINARY_KEY.into(), String::new());
    stack_parameters.insert(parameters::FERRY_BINARY_SHA256.into(), String::new());
    for (k, v) in provider_parameters {
        stack_parameters.insert(k, v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()));
    }
    let tags = IndexMap::from([
        (naming::tags::APPLICATION.to_string(), app.to_string()),
        (PIPELINE_TAG.to_string(), name.clone()),
    ]);
    Ok(RenderedPipeline {
        stack: crate::stack::Stack {
            name: stack_name,
            template: Value::Object(template),
            parameters: stack_parameters,
            tags,
        },
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph<'a>(edges: &[(&'a str, &[&'a str])]) -> IndexMap<&'a str, Vec<&'a str>> {
        edges.iter().map(|(k, v)| (*k, v.to_vec())).collect()
    }

    #[test]
    fn levels_follow_dependencies() {
        let g = graph(&[("frontend", &["orders", "warehouse"]), ("orders", &[]), ("warehouse", &["orders"])]);
        let l = levels(&g).unwrap();
        assert_eq!((l["orders"], l["warehouse"], l["frontend"]), (1, 2, 3));
    }

    #[test]
    fn cycles_are_reported_as_a_path() {
        let g = graph(&[("a", &["b"]), ("b", &["c"]), ("c", &["a"]), ("d", &[])]);
        assert_eq!(levels(&g).unwrap_err(), vec!["a", "b", "c", "a"]);
        let g = graph(&[("a", &["a"])]);
        assert_eq!(levels(&g).unwrap_err(), vec!["a", "a"]);
    }
}
