//! The CodeBuild projects of a pipeline stack (the build running the
//! buildspec, test commands, pre/post-deployments), their roles, and the
//! small CloudFormation shapes the stack is made of.

use super::{CheckedPipeline, parameters};
use crate::naming;
use ferry_plugin_protocol::pipeline::SourceStage;
use serde_json::{Map, Value, json};

/// Adds the build project, the test and pre/post-deployment projects and
/// their roles to `resources`; returns the logical IDs of the test and
/// action projects (the pipeline's role may start them).
pub(super) fn add_projects(
    app: &str,
    pipeline: &CheckedPipeline<'_>,
    source: &SourceStage,
    project_prefix: &str,
    resources: &mut Map<String, Value>,
) -> (Vec<String>, Vec<String>) {
    let manifest = pipeline.manifest;
    let name = &manifest.name;
    let spec = &manifest.spec;
    let image = spec.build.image.clone().unwrap_or_else(|| super::DEFAULT_BUILD_IMAGE.to_string());
    let envs: Vec<&str> = spec.stages.iter().map(|s| s.name.as_str()).collect();
    // Build: runs the buildspec, which builds and pushes images and writes
    // the stack templates every deploy action reads.
    let mut build_statements = vec![log_statements(project_prefix)];
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
        let mut statements = vec![log_statements(project_prefix)];
        statements.extend(artifact_statements(false));
        resources.insert(
            "TestProjectRole".into(),
            json!({"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": assume("codebuild.amazonaws.com"), "Policies": [policy("Test", statements)]}}),
        );
    }

    (test_projects, action_projects)
}

pub(super) fn sub(text: &str) -> Value {
    json!({ "Fn::Sub": text })
}

pub(super) fn assume(service: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]
    })
}

pub(super) fn policy(name: &str, statements: Vec<Value>) -> Value {
    json!({"PolicyName": name, "PolicyDocument": {"Version": "2012-10-17", "Statement": statements}})
}

/// Statements to read and write the pipeline's artifacts.
pub(super) fn artifact_statements(write: bool) -> Vec<Value> {
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

pub(super) fn build_action(name: &str, project: &str, run_order: u32, input: &str, output: Option<&str>) -> Value {
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
