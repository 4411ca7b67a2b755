//! The `pipeline-<app>-<name>` stack: the provider's source fragment, with
//! everything else the host owns around it.

use super::projects::{add_projects, artifact_statements, assume, policy};
use super::stages::deploy_stages;
use super::{CheckedPipeline, PIPELINE_TAG, parameters};
use crate::error::{Error, Problem};
use crate::naming;
use ferry_plugin_protocol::pipeline::{CONNECTION_OUTPUT, PIPELINE_LOGICAL_ID, SourceStage};
use indexmap::IndexMap;
use serde_json::{Map, Value, json};

/// What the host needs besides the checked manifest to render a pipeline stack.
pub struct RenderInput<'a> {
    pub app: &'a str,
    /// The manifest, checked: only a pipeline without problems renders.
    pub pipeline: &'a CheckedPipeline<'a>,
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

/// Renders the `pipeline-<app>-<name>` stack.
pub fn render(input: RenderInput<'_>) -> Result<RenderedPipeline, Error> {
    let RenderInput { app, pipeline, fragment, provider_parameters, provider } = input;
    let manifest = pipeline.manifest;
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

    let project_prefix = stack_name.clone();
    let envs: Vec<&str> = manifest.spec.stages.iter().map(|s| s.name.as_str()).collect();

    let (test_projects, action_projects) = add_projects(app, pipeline, &source, &project_prefix, &mut resources);
    let (stages, stack_arns) = deploy_stages(app, pipeline, &source)?;

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
    use crate::workspace::Workspace;

    /// A workspace with one environment and one service, and a pipeline manifest.
    fn workspace(manifest: &str) -> (tempfile::TempDir, Workspace) {
        let dir = tempfile::tempdir().unwrap();
        let copilot = dir.path().join("copilot");
        std::fs::create_dir_all(copilot.join("environments/test")).unwrap();
        std::fs::create_dir_all(copilot.join("api")).unwrap();
        std::fs::create_dir_all(copilot.join("pipelines/release")).unwrap();
        std::fs::write(copilot.join(".workspace"), "application: chat\n").unwrap();
        std::fs::write(copilot.join("environments/test/manifest.yml"), "name: test\ntype: Environment\n").unwrap();
        std::fs::write(copilot.join("api/manifest.yml"), "name: api\ntype: Backend Service\n").unwrap();
        std::fs::write(copilot.join("pipelines/release/manifest.yml"), manifest).unwrap();
        let ws = Workspace::open(dir.path()).unwrap();
        (dir, ws)
    }

    const MANIFEST: &str =
        "name: release\nsource:\n  provider: Acme\n  properties: {repository: x}\nstages:\n  - name: test\n";

    fn fragment(resources: Value, parameters: Value) -> Value {
        json!({
            "Parameters": parameters,
            "Resources": resources,
            "Metadata": {(ferry_plugin_protocol::pipeline::SOURCE_METADATA): {
                "action": {"Name": "Source"}, "repository": "x", "branch": "main"
            }}
        })
    }

    fn render_with(ws: &Workspace, fragment: Value) -> Result<RenderedPipeline, Error> {
        let m = ws.load_pipeline("release").unwrap();
        let (problems, checked) = crate::pipeline::check(ws, &m);
        assert!(problems.is_empty(), "{problems:?}");
        let checked = checked.expect("a manifest without problems is checked");
        render(RenderInput {
            app: "chat",
            pipeline: &checked,
            fragment,
            provider_parameters: Map::new(),
            provider: "acme 1.0.0".into(),
        })
    }

    #[test]
    fn a_provider_defining_a_host_owned_id_is_refused_at_the_provider_line() {
        let (_dir, ws) = workspace(MANIFEST);
        let ok = render_with(
            &ws,
            fragment(json!({"Connection": {"Type": "AWS::CodeStarConnections::Connection"}}), json!({})),
        );
        assert!(ok.is_ok(), "{:?}", ok.err());
        for (resources, parameters, id) in [
            (json!({"BuildProject": {"Type": "AWS::CodeBuild::Project"}}), json!({}), "BuildProject"),
            (json!({"TestProjectRole": {"Type": "AWS::IAM::Role"}}), json!({}), "TestProjectRole"),
            (json!({}), json!({"ArtifactBucket": {"Type": "String"}}), "ArtifactBucket"),
            (json!({}), json!({"FerryBinarySha256": {"Type": "String"}}), "FerryBinarySha256"),
        ] {
            let Err(Error::Problems(problems)) = render_with(&ws, fragment(resources, parameters)) else {
                panic!("{id} was not refused");
            };
            let p = &problems[0];
            assert!(p.what.contains(&format!("defines `{id}`, which the host owns")), "{}", p.what);
            let at = p.location.as_ref().expect("located");
            assert_eq!((at.line, at.column), (3, 3), "at `source.provider`: {at}");
            assert!(at.file.ends_with("copilot/pipelines/release/manifest.yml"));
        }
    }

    #[test]
    fn a_cycle_is_never_checked() {
        let cyclic = format!(
            "{MANIFEST}    deployments:\n      api: {{depends_on: [test]}}\n      test: {{depends_on: [api]}}\n"
        );
        let (_dir, ws) = workspace(&cyclic);
        let m = ws.load_pipeline("release").unwrap();
        let (problems, checked) = crate::pipeline::check(&ws, &m);
        assert!(checked.is_none(), "no CheckedPipeline, so nothing can render it");
        let cycle = problems.iter().find(|p| p.what.contains("has a cycle")).expect("the cycle is reported");
        assert_eq!(cycle.location.as_ref().map(|l| l.line), Some(8), "{cycle:?}");
    }
}
