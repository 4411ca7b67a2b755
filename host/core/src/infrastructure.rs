//! Application-level infrastructure, in the stacks Copilot uses: the
//! `<app>-infrastructure-roles` stack (the roles CloudFormation StackSets act
//! with) and the `<app>-infrastructure` StackSet template holding, per region,
//! one ECR repository per workload, a KMS key and the artifact bucket.

use crate::naming;
use serde_json::{Value, json};

/// Name of the role StackSets administer the app's stack instances with.
pub fn admin_role_name(app: &str) -> String {
    format!("{app}-adminrole")
}

/// Name of the role stack instances are created with, in each account.
pub fn execution_role_name(app: &str) -> String {
    format!("{app}-executionrole")
}

/// The template of `<app>-infrastructure-roles`.
pub fn roles_template(app: &str) -> Value {
    json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": format!("ferry: IAM roles of application {app} (StackSet administration and execution)"),
        "Parameters": {
            "AdminRoleName": {"Type": "String", "Default": admin_role_name(app)},
            "ExecutionRoleName": {"Type": "String", "Default": execution_role_name(app)}
        },
        "Resources": {
            "AdministrationRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": {"Ref": "AdminRoleName"},
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [{
                            "Effect": "Allow",
                            "Principal": {"Service": "cloudformation.amazonaws.com"},
                            "Action": "sts:AssumeRole"
                        }]
                    },
                    "Policies": [{
                        "PolicyName": "AssumeRole-AWSCloudFormationStackSetExecutionRole",
                        "PolicyDocument": {
                            "Version": "2012-10-17",
                            "Statement": [{
                                "Effect": "Allow",
                                "Action": "sts:AssumeRole",
                                "Resource": {"Fn::Sub": "arn:${AWS::Partition}:iam::*:role/${ExecutionRoleName}"}
                            }]
                        }
                    }]
                }
            },
            "ExecutionRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": {"Ref": "ExecutionRoleName"},
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [{
                            "Effect": "Allow",
                            "Principal": {"AWS": {"Fn::GetAtt": ["AdministrationRole", "Arn"]}},
                            "Action": "sts:AssumeRole"
                        }]
                    },
                    "Policies": [{
                        "PolicyName": "ExecutionRolePolicy",
                        "PolicyDocument": {
                            "Version": "2012-10-17",
                            "Statement": [{
                                "Sid": "StackSetResources",
                                "Effect": "Allow",
                                "Action": ["cloudformation:*", "ecr:*", "kms:*", "s3:*", "ssm:*", "sns:*"],
                                "Resource": "*"
                            }]
                        }
                    }]
                }
            }
        },
        "Outputs": {
            "AdministrationRoleARN": {"Value": {"Fn::GetAtt": ["AdministrationRole", "Arn"]}},
            "ExecutionRoleName": {"Value": {"Ref": "ExecutionRole"}}
        }
    })
}

/// The StackSet template for the given workloads (sorted, deduplicated).
pub fn stack_set_template(app: &str, workloads: &[String]) -> Value {
    let mut names: Vec<&String> = workloads.iter().collect();
    names.sort();
    names.dedup();
    let mut resources = serde_json::Map::new();
    let mut outputs = serde_json::Map::new();
    resources.insert(
        "KMSKey".into(),
        json!({
            "Type": "AWS::KMS::Key",
            "Properties": {
                "Description": format!("Encrypts the pipeline artifacts of application {app}"),
                "EnableKeyRotation": true,
                "KeyPolicy": {
                    "Version": "2012-10-17",
                    "Statement": [{
                        "Sid": "AccountAdministers",
                        "Effect": "Allow",
                        "Principal": {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}},
                        "Action": "kms:*",
                        "Resource": "*"
                    }]
                }
            }
        }),
    );
    resources.insert(
        "PipelineBuiltArtifactBucket".into(),
        json!({
            "Type": "AWS::S3::Bucket",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                "VersioningConfiguration": {"Status": "Enabled"},
                "BucketEncryption": {"ServerSideEncryptionConfiguration": [{
                    "ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": {"Ref": "KMSKey"}}
                }]},
                "PublicAccessBlockConfiguration": {
                    "BlockPublicAcls": true, "BlockPublicPolicy": true,
                    "IgnorePublicAcls": true, "RestrictPublicBuckets": true
                },
                "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
            }
        }),
    );
    outputs.insert("KMSKeyARN".into(), json!({"Value": {"Fn::GetAtt": ["KMSKey", "Arn"]}}));
    outputs.insert("PipelineBucket".into(), json!({"Value": {"Ref": "PipelineBuiltArtifactBucket"}}));
    for name in &names {
        let id = naming::logical_id("ECRRepo", name);
        resources.insert(
            id.clone(),
            json!({
                "Type": "AWS::ECR::Repository",
                "Properties": {
                    "RepositoryName": naming::ecr_repository(app, name),
                    // `app delete` removes the images with the app, as Copilot does.
                    "EmptyOnDelete": true,
                    "ImageScanningConfiguration": {"ScanOnPush": true},
                    "Tags": [
                        {"Key": naming::tags::APPLICATION, "Value": app},
                        {"Key": naming::tags::SERVICE, "Value": name.as_str()}
                    ]
                }
            }),
        );
        outputs.insert(id.clone(), json!({"Value": {"Fn::GetAtt": [id, "Arn"]}}));
    }
    json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": format!("ferry: regional resources of application {app} (ECR repositories, artifact bucket, KMS key)"),
        "Metadata": {
            "TemplateVersion": "ferry-v1",
            "Services": names,
            "Workloads": names.iter().map(|n| json!({"Name": n, "WithECR": true})).collect::<Vec<_>>()
        },
        "Resources": resources,
        "Outputs": outputs
    })
}

/// Workloads a deployed StackSet template already has repositories for;
/// reads both Copilot's `Workloads` and older `Services` lists.
pub fn stack_set_workloads(template: &Value) -> Vec<String> {
    let metadata = &template["Metadata"];
    let mut names: Vec<String> = Vec::new();
    if let Some(list) = metadata["Workloads"].as_array() {
        names.extend(list.iter().filter_map(|w| w["Name"].as_str().map(str::to_string)));
    }
    if let Some(list) = metadata["Services"].as_array() {
        names.extend(list.iter().filter_map(|w| w.as_str().or_else(|| w["Name"].as_str()).map(str::to_string)));
    }
    names.sort();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repositories_follow_copilot_names() {
        let template = stack_set_template("chat", &["web-front".into(), "api".into(), "api".into()]);
        assert_eq!(template["Resources"]["ECRRepoWebFront"]["Properties"]["RepositoryName"], "chat/web-front");
        assert_eq!(template["Resources"]["ECRRepoApi"]["Properties"]["RepositoryName"], "chat/api");
        assert_eq!(stack_set_workloads(&template), vec!["api".to_string(), "web-front".to_string()]);
    }

    #[test]
    fn reads_older_service_lists() {
        let template = json!({"Metadata": {"Services": ["a", {"Name": "b"}]}});
        assert_eq!(stack_set_workloads(&template), vec!["a".to_string(), "b".to_string()]);
    }
}
