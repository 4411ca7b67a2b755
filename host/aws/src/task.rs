//! One-off tasks (`task run`, `task exec`, `task delete`), kept where
//! Copilot keeps them so either tool can pick up the other's: a stack
//! `task-<group>` (Copilot's `NameForTask`, not prefixed by app or env)
//! holding an ECR repository `copilot-<group>`, a log group
//! `/copilot/<group>`, a task definition of family `copilot-<group>` and
//! default task and execution roles; tasks are started by `copilot-task`.
//!
//! The ECS calls go through [`TaskApi`], so following tasks to their exit
//! code is tested against a fake where the emulator runs no containers.

use crate::deploy::Deployable;
use crate::error::{AwsError, AwsErrorKind};
use indexmap::IndexMap;
use serde::Serialize;
use serde_json::{Value, json};
use std::time::Duration;

/// What Copilot's stacks for tasks are named after.
pub const STACK_PREFIX: &str = "task-";
/// The stack tag naming the task group (Copilot's `copilot-task`).
pub const TASK_TAG: &str = "copilot-task";
/// `startedBy` of every task `task run` starts, as Copilot's.
pub const STARTED_BY: &str = "copilot-task";
/// The `awslogs-stream-prefix` of the task's container.
pub const LOG_STREAM_PREFIX: &str = "copilot-task";
/// Copilot keeps task logs for one day.
pub const LOG_RETENTION_DAYS: &str = "1";

/// The task stack's output naming its bucket for env files (Copilot's).
pub const BUCKET_OUTPUT: &str = "S3Bucket";
/// Where `--env-file` files go in that bucket (expired after a day).
pub const ENV_FILES_PREFIX: &str = "manual/env-files";

/// The key an env file is uploaded to: `manual/env-files/<file name>/<sha256>.env`,
/// Copilot's (the file name only, whatever path it was given by).
pub fn env_file_key(path: &std::path::Path, content: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_else(|| "env".into());
    format!("{ENV_FILES_PREFIX}/{name}/{}.env", hex::encode(Sha256::digest(content)))
}

/// Uploads an env file to the task stack's `bucket` and returns its S3 ARN
/// (what the task definition's `EnvironmentFiles` names).
pub async fn upload_env_file(
    aws: &crate::AwsContext,
    bucket: &str,
    path: &std::path::Path,
    content: Vec<u8>,
) -> Result<String, AwsError> {
    let key = env_file_key(path, &content);
    aws.s3()
        .put_object()
        .bucket(bucket)
        .key(&key)
        .body(content.into())
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("s3:PutObject", Some(&format!("s3://{bucket}/{key}")), e))?;
    Ok(format!("arn:{}:s3:::{bucket}/{key}", partition(&aws.region().unwrap_or_default())))
}

/// The ARN partition of a region.
fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// The CloudFormation stack of a task group.
pub fn stack_name(group: &str) -> String {
    format!("{STACK_PREFIX}{group}")
}

/// The ECR repository images of a task group are pushed to.
pub fn repository(group: &str) -> String {
    format!("copilot-{group}")
}

/// The task definition family of a task group.
pub fn family(group: &str) -> String {
    format!("copilot-{group}")
}

/// The log group of a task group.
pub fn log_group(group: &str) -> String {
    format!("/copilot/{group}")
}

/// The log stream of one task: `<prefix>/<container>/<task id>`.
pub fn log_stream(group: &str, task_id: &str) -> String {
    format!("{LOG_STREAM_PREFIX}/{group}/{task_id}")
}

/// The ID at the end of a task ARN.
pub fn task_id(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// What one task group's stack holds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TaskSpec {
    pub group: String,
    pub cpu: u32,
    pub memory: u32,
    /// Empty on the first deploy of a group that builds its image: the
    /// stack makes the repository, the image is pushed, then the stack gets it.
    pub image: String,
    pub task_role: String,
    pub execution_role: String,
    pub command: Vec<String>,
    pub entrypoint: Vec<String>,
    pub os: String,
    pub arch: String,
    /// The application and environment the tasks run in (empty with `--default`).
    pub app: String,
    pub env: String,
    pub env_vars: IndexMap<String, String>,
    /// Container variable → SSM parameter name or ARN, or Secrets Manager ARN.
    pub secrets: IndexMap<String, String>,
    /// `--env-file`, once uploaded to the stack's bucket: its S3 object ARN
    /// (empty before, or without one), the container's `EnvironmentFiles`.
    pub env_file_arn: String,
}

impl TaskSpec {
    /// Copilot's `task/cf.yml`, as JSON, for this spec's variables and secrets.
    pub fn template(&self) -> Value {
        let string = || json!({"Type": "String"});
        let mut container = serde_json::Map::new();
        container.insert("Image".into(), json!({"Ref": "ContainerImage"}));
        container.insert(
            "EntryPoint".into(),
            json!({"Fn::If": ["HasEntryPoint", {"Ref": "EntryPoint"}, {"Ref": "AWS::NoValue"}]}),
        );
        container
            .insert("Command".into(), json!({"Fn::If": ["HasCommand", {"Ref": "Command"}, {"Ref": "AWS::NoValue"}]}));
        container.insert(
            "LogConfiguration".into(),
            json!({"LogDriver": "awslogs", "Options": {
                "awslogs-region": {"Ref": "AWS::Region"},
                "awslogs-group": {"Ref": "LogGroup"},
                "awslogs-stream-prefix": LOG_STREAM_PREFIX,
            }}),
        );
        // Copilot lists the file under `!If` inside the list; the whole
        // property under the condition is the same to CloudFormation.
        container.insert(
            "EnvironmentFiles".into(),
            json!({"Fn::If": ["HasEnvFile", [{"Type": "s3", "Value": {"Ref": "EnvFileARN"}}], {"Ref": "AWS::NoValue"}]}),
        );
        container.insert("Name".into(), json!({"Ref": "TaskName"}));
        if !self.env_vars.is_empty() {
            let vars: Vec<Value> = self.env_vars.iter().map(|(k, v)| json!({"Name": k, "Value": v})).collect();
            container.insert("Environment".into(), Value::Array(vars));
        }
        if !self.secrets.is_empty() {
            let vars: Vec<Value> = self.secrets.iter().map(|(k, v)| json!({"Name": k, "ValueFrom": v})).collect();
            container.insert("Secrets".into(), Value::Array(vars));
        }
        let mut execution_role = json!({
            "Metadata": {"aws:copilot:description": "An IAM Role for the Fargate agent to make AWS API calls on your behalf"},
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": ecs_tasks_trust(),
                "ManagedPolicyArns": [{"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"}],
            },
        });
        // Reading the env file (ECS's documented permissions: the object,
        // and its bucket's location), then the secrets.
        let mut policies = vec![json!({"Fn::If": ["HasEnvFile", {
            "PolicyName": {"Fn::Join": ["", [{"Ref": "TaskName"}, "GetEnvFilePolicy"]]},
            "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": [{"Ref": "EnvFileARN"}]},
                {"Effect": "Allow", "Action": ["s3:GetBucketLocation"], "Resource": [{"Fn::Sub": "arn:${AWS::Partition}:s3:::${S3Bucket}"}]},
            ]},
        }, {"Ref": "AWS::NoValue"}]})];
        if let Some(Value::Array(secrets)) = self.secret_policies() {
            policies.extend(secrets);
        }
        execution_role["Properties"]["Policies"] = Value::Array(policies);
        json!({
            "AWSTemplateFormatVersion": "2010-09-09",
            "Description": "CloudFormation template that represents a task on Amazon ECS.",
            "Parameters": {
                "TaskName": string(),
                "TaskCPU": string(),
                "TaskMemory": string(),
                "LogRetention": {"Type": "Number"},
                "ContainerImage": string(),
                "TaskRole": string(),
                "ExecutionRole": string(),
                "Command": {"Type": "CommaDelimitedList"},
                "EntryPoint": {"Type": "CommaDelimitedList"},
                "EnvFileARN": string(),
                "OS": string(),
                "Arch": string(),
                "App": string(),
                "Env": string(),
            },
            "Conditions": {
                "HasImage": {"Fn::Not": [{"Fn::Equals": [{"Ref": "ContainerImage"}, ""]}]},
                "HasTaskRole": {"Fn::Not": [{"Fn::Equals": [{"Ref": "TaskRole"}, ""]}]},
                "HasExecutionRole": {"Fn::Not": [{"Fn::Equals": [{"Ref": "ExecutionRole"}, ""]}]},
                "HasCommand": {"Fn::Not": [{"Fn::Equals": [{"Fn::Join": ["", {"Ref": "Command"}]}, ""]}]},
                "HasEntryPoint": {"Fn::Not": [{"Fn::Equals": [{"Fn::Join": ["", {"Ref": "EntryPoint"}]}, ""]}]},
                // The file is uploaded to the stack's own bucket, so the
                // first deploy has none.
                "HasEnvFile": {"Fn::Not": [{"Fn::Equals": [{"Ref": "EnvFileARN"}, ""]}]},
                "HasCustomPlatform": {"Fn::Not": [{"Fn::Equals": [{"Ref": "OS"}, ""]}]},
                "HasAppAndEnv": {"Fn::And": [
                    {"Fn::Not": [{"Fn::Equals": [{"Ref": "App"}, ""]}]},
                    {"Fn::Not": [{"Fn::Equals": [{"Ref": "Env"}, ""]}]},
                ]},
            },
            "Resources": {
                "TaskDefinition": {
                    "Metadata": {"aws:copilot:description": "An ECS task definition to run your container on ECS"},
                    "Condition": "HasImage",
                    "Type": "AWS::ECS::TaskDefinition",
                    "DependsOn": "ECRRepo",
                    "Properties": {
                        "ContainerDefinitions": [Value::Object(container)],
                        "Family": {"Fn::Join": ["-", ["copilot", {"Ref": "TaskName"}]]},
                        "RuntimePlatform": {"Fn::If": [
                            "HasCustomPlatform",
                            {"OperatingSystemFamily": {"Ref": "OS"}, "CpuArchitecture": {"Ref": "Arch"}},
                            {"Ref": "AWS::NoValue"},
                        ]},
                        "RequiresCompatibilities": ["FARGATE"],
                        "NetworkMode": "awsvpc",
                        "Cpu": {"Ref": "TaskCPU"},
                        "Memory": {"Ref": "TaskMemory"},
                        "ExecutionRoleArn": {"Fn::If": ["HasExecutionRole", {"Ref": "ExecutionRole"}, {"Fn::GetAtt": ["DefaultExecutionRole", "Arn"]}]},
                        "TaskRoleArn": {"Fn::If": ["HasTaskRole", {"Ref": "TaskRole"}, {"Fn::GetAtt": ["DefaultTaskRole", "Arn"]}]},
                    },
                },
                "DefaultExecutionRole": execution_role,
                "DefaultTaskRole": {
                    "Metadata": {"aws:copilot:description": "An IAM Role for the task to make AWS API calls on your behalf. Policies are required by ECS Exec"},
                    "Type": "AWS::IAM::Role",
                    "Properties": {
                        "AssumeRolePolicyDocument": ecs_tasks_trust(),
                        "Policies": [{
                            "PolicyName": "ExecuteCommand",
                            "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                                {"Effect": "Allow", "Action": [
                                    "ssmmessages:CreateControlChannel",
                                    "ssmmessages:OpenControlChannel",
                                    "ssmmessages:CreateDataChannel",
                                    "ssmmessages:OpenDataChannel",
                                ], "Resource": "*"},
                                {"Effect": "Allow", "Action": [
                                    "logs:CreateLogStream",
                                    "logs:DescribeLogGroups",
                                    "logs:DescribeLogStreams",
                                    "logs:PutLogEvents",
                                ], "Resource": "*"},
                            ]},
                        }],
                    },
                },
                "ECRRepo": {
                    "Metadata": {"aws:copilot:description": "An ECR repository to store your container images"},
                    "Type": "AWS::ECR::Repository",
                    "Properties": {
                        "RepositoryName": {"Fn::Join": ["-", ["copilot", {"Ref": "TaskName"}]]},
                        "RepositoryPolicyText": {"Version": "2008-10-17", "Statement": [{
                            "Sid": "AllowPushPull",
                            "Effect": "Allow",
                            "Principal": {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}},
                            "Action": [
                                "ecr:GetDownloadUrlForLayer",
                                "ecr:BatchGetImage",
                                "ecr:BatchCheckLayerAvailability",
                                "ecr:PutImage",
                                "ecr:InitiateLayerUpload",
                                "ecr:UploadLayerPart",
                                "ecr:CompleteLayerUpload",
                            ],
                        }]},
                        "LifecyclePolicy": {"LifecyclePolicyText": json!({"rules": [{
                            "rulePriority": 1,
                            "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 5},
                            "action": {"type": "expire"},
                        }]}).to_string()},
                    },
                },
                "LogGroup": {
                    "Metadata": {"aws:copilot:description": "A CloudWatch log group to hold your task logs"},
                    "Type": "AWS::Logs::LogGroup",
                    "Properties": {
                        "LogGroupName": {"Fn::Join": ["", ["/copilot/", {"Ref": "TaskName"}]]},
                        "RetentionInDays": {"Ref": "LogRetention"},
                    },
                },
                "S3Bucket": {
                    "Metadata": {"aws:copilot:description": "An S3 bucket to hold .env files"},
                    "Type": "AWS::S3::Bucket",
                    "Properties": {
                        "VersioningConfiguration": {"Status": "Enabled"},
                        "BucketEncryption": {"ServerSideEncryptionConfiguration": [
                            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}},
                        ]},
                        "PublicAccessBlockConfiguration": {
                            "BlockPublicAcls": true,
                            "BlockPublicPolicy": true,
                            "IgnorePublicAcls": true,
                            "RestrictPublicBuckets": true,
                        },
                        // An env file is read when the task starts; a day later it can go.
                        "LifecycleConfiguration": {"Rules": [{
                            "Id": "DeleteEnvFilesRule",
                            "Status": "Enabled",
                            "Prefix": ENV_FILES_PREFIX,
                            "ExpirationInDays": 1,
                            "NoncurrentVersionExpirationInDays": 1,
                            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
                        }]},
                    },
                },
                "S3BucketPolicy": {
                    "Metadata": {"aws:copilot:description": "A policy to allow file uploads to the S3 bucket"},
                    "Type": "AWS::S3::BucketPolicy",
                    "Properties": {
                        "Bucket": {"Ref": "S3Bucket"},
                        "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                            "Action": ["s3:*"],
                            "Effect": "Allow",
                            "Resource": [
                                {"Fn::Sub": "arn:${AWS::Partition}:s3:::${S3Bucket}"},
                                {"Fn::Sub": "arn:${AWS::Partition}:s3:::${S3Bucket}/*"},
                            ],
                            "Principal": {"AWS": [{"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}]},
                        }]},
                    },
                },
            },
            "Outputs": {
                "ECRRepo": {"Description": "ECR Repo used to store images of task.", "Value": {"Fn::GetAtt": ["ECRRepo", "Arn"]}},
                BUCKET_OUTPUT: {"Description": "S3 Bucket used to store env files.", "Value": {"Ref": "S3Bucket"}},
            },
        })
    }

    /// The execution role's permission to read the secrets given, as
    /// Copilot grants it: by tag for the app's and environment's secrets,
    /// and by name or ARN for each one given.
    fn secret_policies(&self) -> Option<Value> {
        if self.secrets.is_empty() {
            return None;
        }
        let mut ssm = Vec::new();
        let mut manager = Vec::new();
        for value in self.secrets.values() {
            if value.starts_with("arn:") && value.split(':').nth(2) == Some("secretsmanager") {
                manager.push(json!(value));
            } else if value.starts_with("arn:") {
                ssm.push(json!(value));
            } else {
                let name = if value.starts_with('/') { value.clone() } else { format!("/{value}") };
                ssm.push(json!({"Fn::Sub": format!("arn:${{AWS::Partition}}:ssm:${{AWS::Region}}:${{AWS::AccountId}}:parameter{name}")}));
            }
        }
        let by_tag = json!({"Fn::If": ["HasAppAndEnv", {
            "PolicyName": "PullEnvironmentSecrets",
            "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": ["ssm:GetParameters"],
                 "Condition": {"StringEquals": {"ssm:ResourceTag/copilot-application": {"Ref": "App"}, "ssm:ResourceTag/copilot-environment": {"Ref": "Env"}}},
                 "Resource": [{"Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/*"}]},
                {"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"],
                 "Condition": {"StringEquals": {"secretsmanager:ResourceTag/copilot-application": {"Ref": "App"}, "secretsmanager:ResourceTag/copilot-environment": {"Ref": "Env"}}},
                 "Resource": [{"Fn::Sub": "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:*"}]},
            ]},
        }, {"Ref": "AWS::NoValue"}]});
        let mut statements = Vec::new();
        if !ssm.is_empty() {
            statements.push(json!({"Effect": "Allow", "Action": ["ssm:GetParameters"], "Resource": ssm}));
        }
        if !manager.is_empty() {
            statements
                .push(json!({"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"], "Resource": manager}));
        }
        let named =
            json!({"PolicyName": "PullSecrets", "PolicyDocument": {"Version": "2012-10-17", "Statement": statements}});
        Some(json!([by_tag, named]))
    }

    /// The stack's parameters, with Copilot's keys.
    pub fn parameters(&self) -> IndexMap<String, String> {
        IndexMap::from([
            ("TaskName".to_string(), self.group.clone()),
            ("TaskCPU".to_string(), self.cpu.to_string()),
            ("TaskMemory".to_string(), self.memory.to_string()),
            ("LogRetention".to_string(), LOG_RETENTION_DAYS.to_string()),
            ("ContainerImage".to_string(), self.image.clone()),
            ("TaskRole".to_string(), self.task_role.clone()),
            ("ExecutionRole".to_string(), self.execution_role.clone()),
            ("Command".to_string(), self.command.join(",")),
            ("EntryPoint".to_string(), self.entrypoint.join(",")),
            ("EnvFileARN".to_string(), self.env_file_arn.clone()),
            ("OS".to_string(), self.os.clone()),
            ("Arch".to_string(), self.arch.clone()),
            ("App".to_string(), self.app.clone()),
            ("Env".to_string(), self.env.clone()),
        ])
    }

    /// Copilot's stack tags: the group, and the app and environment when
    /// the tasks run in one; `extra` (`--resource-tags`) first, ours win.
    pub fn tags(&self, extra: &IndexMap<String, String>) -> IndexMap<String, String> {
        let mut tags = extra.clone();
        tags.insert(TASK_TAG.to_string(), self.group.clone());
        if !self.env.is_empty() {
            tags.insert(ferry_core::naming::tags::APPLICATION.to_string(), self.app.clone());
            tags.insert(ferry_core::naming::tags::ENVIRONMENT.to_string(), self.env.clone());
        }
        tags
    }

    pub fn deployable(&self, extra_tags: &IndexMap<String, String>) -> Deployable {
        Deployable {
            name: stack_name(&self.group),
            template: self.template(),
            parameters: self.parameters(),
            tags: self.tags(extra_tags),
            description: format!("one-off task {}", self.group),
        }
    }
}

fn ecs_tasks_trust() -> Value {
    json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
}

/// Splits `--command`/`--entrypoint` as a shell would, by the rules the
/// plugins apply to a manifest's `command`.
pub fn split_command(text: &str) -> Result<Vec<String>, String> {
    ferry_plugin_protocol::shell::split_words(text).map_err(|why| format!("`{text}`: {why}"))
}

/// Where and how many tasks to start.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunRequest {
    pub cluster: String,
    /// Family (latest active revision) or ARN.
    pub task_definition: String,
    pub count: u32,
    pub subnets: Vec<String>,
    pub security_groups: Vec<String>,
    pub assign_public_ip: bool,
}

/// One container of a task, as ECS describes it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ContainerState {
    pub name: String,
    pub last_status: String,
    pub exit_code: Option<i32>,
    pub reason: Option<String>,
    /// What Session Manager's target names the container by.
    pub runtime_id: Option<String>,
}

/// A stopped task of a service, as `svc logs --previous` picks it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoppedTask {
    pub arn: String,
    /// When it stopped (else when it was stopping, or created), ms since the epoch.
    pub stopped_at: Option<i64>,
    /// When it started (else when it was created), ms since the epoch.
    pub started_at: Option<i64>,
}

impl StoppedTask {
    pub fn id(&self) -> &str {
        task_id(&self.arn)
    }
}

/// The task of ECS service `service` (in `cluster`) that stopped last,
/// Copilot's `svc logs --previous`: the service's stopped tasks (ECS keeps
/// them about an hour), those of its group `service:<name>`, the latest
/// by stop time.
pub async fn last_stopped_service_task(
    ecs: &aws_sdk_ecs::Client,
    cluster: &str,
    service: &str,
) -> Result<Option<StoppedTask>, AwsError> {
    let mut arns = Vec::new();
    let mut token = None;
    loop {
        let page = ecs
            .list_tasks()
            .cluster(cluster)
            .service_name(service)
            .desired_status(aws_sdk_ecs::types::DesiredStatus::Stopped)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ecs:ListTasks", Some(service), e))?;
        arns.extend(page.task_arns().iter().cloned());
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    let group = format!("service:{service}");
    let millis = |t: Option<&aws_sdk_ecs::primitives::DateTime>| t.and_then(|t| t.to_millis().ok());
    let mut stopped = Vec::new();
    // DescribeTasks takes 100 tasks at a time.
    for chunk in arns.chunks(100) {
        let out = ecs
            .describe_tasks()
            .cluster(cluster)
            .set_tasks(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ecs:DescribeTasks", Some(cluster), e))?;
        for t in out.tasks() {
            // ListTasks' service filter, checked: a service's tasks are in its group.
            if t.group() != Some(group.as_str()) {
                continue;
            }
            stopped.push(StoppedTask {
                arn: t.task_arn().unwrap_or_default().to_string(),
                stopped_at: millis(t.stopped_at()).or(millis(t.stopping_at())).or(millis(t.created_at())),
                started_at: millis(t.started_at()).or(millis(t.created_at())),
            });
        }
    }
    Ok(stopped.into_iter().max_by_key(|t| t.stopped_at.unwrap_or(i64::MIN)))
}

/// One task, as ECS describes it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TaskState {
    pub arn: String,
    pub last_status: String,
    pub desired_status: String,
    pub stopped_reason: Option<String>,
    pub task_definition: String,
    pub exec_enabled: bool,
    pub containers: Vec<ContainerState>,
}

impl TaskState {
    pub fn id(&self) -> &str {
        task_id(&self.arn)
    }

    pub fn stopped(&self) -> bool {
        self.last_status == "STOPPED"
    }
}

/// The ECS calls of one-off tasks and exec.
#[allow(async_fn_in_trait)]
pub trait TaskApi {
    /// Starts tasks; their ARNs.
    async fn run_task(&self, request: &RunRequest) -> Result<Vec<String>, AwsError>;
    async fn describe_tasks(&self, cluster: &str, arns: &[String]) -> Result<Vec<TaskState>, AwsError>;
    /// ARNs of the cluster's running tasks, of a task definition family or a service.
    async fn list_tasks(
        &self,
        cluster: &str,
        family: Option<&str>,
        service: Option<&str>,
    ) -> Result<Vec<String>, AwsError>;
    async fn stop_task(&self, cluster: &str, arn: &str, reason: &str) -> Result<(), AwsError>;
}

/// The real thing.
pub struct EcsTasks {
    client: aws_sdk_ecs::Client,
}

impl EcsTasks {
    pub fn new(client: aws_sdk_ecs::Client) -> Self {
        EcsTasks { client }
    }

    pub fn client(&self) -> &aws_sdk_ecs::Client {
        &self.client
    }
}

impl TaskApi for EcsTasks {
    async fn run_task(&self, request: &RunRequest) -> Result<Vec<String>, AwsError> {
        use aws_sdk_ecs::types::{
            AssignPublicIp, AwsVpcConfiguration, LaunchType, NetworkConfiguration, PropagateTags,
        };
        let vpc = AwsVpcConfiguration::builder()
            .set_subnets(Some(request.subnets.clone()))
            .set_security_groups(Some(request.security_groups.clone()).filter(|s| !s.is_empty()))
            .assign_public_ip(if request.assign_public_ip { AssignPublicIp::Enabled } else { AssignPublicIp::Disabled })
            .build()
            .map_err(|e| AwsError::new("ecs:RunTask", Some(&request.cluster), AwsErrorKind::Invalid, e.to_string()))?;
        let out = self
            .client
            .run_task()
            .cluster(&request.cluster)
            .task_definition(&request.task_definition)
            .count(request.count as i32)
            .launch_type(LaunchType::Fargate)
            .platform_version("LATEST")
            .started_by(STARTED_BY)
            .enable_execute_command(true)
            .propagate_tags(PropagateTags::TaskDefinition)
            .network_configuration(NetworkConfiguration::builder().awsvpc_configuration(vpc).build())
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ecs:RunTask", Some(&request.cluster), e))?;
        if let Some(failure) = out.failures().first() {
            return Err(AwsError::new(
                "ecs:RunTask",
                Some(&request.cluster),
                AwsErrorKind::Other,
                format!(
                    "ECS could not start a task: {} {}",
                    failure.reason().unwrap_or("unknown reason"),
                    failure.detail().unwrap_or_default()
                ),
            ));
        }
        Ok(out.tasks().iter().filter_map(|t| t.task_arn()).map(str::to_string).collect())
    }

    async fn describe_tasks(&self, cluster: &str, arns: &[String]) -> Result<Vec<TaskState>, AwsError> {
        if arns.is_empty() {
            return Ok(Vec::new());
        }
        let out = self
            .client
            .describe_tasks()
            .cluster(cluster)
            .set_tasks(Some(arns.to_vec()))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ecs:DescribeTasks", Some(cluster), e))?;
        Ok(out
            .tasks()
            .iter()
            .map(|t| TaskState {
                arn: t.task_arn().unwrap_or_default().to_string(),
                last_status: t.last_status().unwrap_or_default().to_string(),
                desired_status: t.desired_status().unwrap_or_default().to_string(),
                stopped_reason: t.stopped_reason().map(str::to_string),
                task_definition: t.task_definition_arn().unwrap_or_default().to_string(),
                exec_enabled: t.enable_execute_command(),
                containers: t
                    .containers()
                    .iter()
                    .map(|c| ContainerState {
                        name: c.name().unwrap_or_default().to_string(),
                        last_status: c.last_status().unwrap_or_default().to_string(),
                        exit_code: c.exit_code(),
                        reason: c.reason().map(str::to_string),
                        runtime_id: c.runtime_id().map(str::to_string),
                    })
                    .collect(),
            })
            .collect())
    }

    async fn list_tasks(
        &self,
        cluster: &str,
        family: Option<&str>,
        service: Option<&str>,
    ) -> Result<Vec<String>, AwsError> {
        let mut arns = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .client
                .list_tasks()
                .cluster(cluster)
                .set_family(family.map(str::to_string))
                .set_service_name(service.map(str::to_string))
                .desired_status(aws_sdk_ecs::types::DesiredStatus::Running)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("ecs:ListTasks", Some(cluster), e))?;
            arns.extend(page.task_arns().iter().cloned());
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        Ok(arns)
    }

    async fn stop_task(&self, cluster: &str, arn: &str, reason: &str) -> Result<(), AwsError> {
        self.client
            .stop_task()
            .cluster(cluster)
            .task(arn)
            .reason(reason)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ecs:StopTask", Some(arn), e))?;
        Ok(())
    }
}

/// How a followed set of tasks ended: the exit code ferry passes on (the
/// first non-zero container exit code, else 0) and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskEnding {
    pub exit_code: i32,
    /// The task and container the code is from, and ECS's reasons.
    pub detail: Option<String>,
    pub tasks: Vec<TaskState>,
}

/// The exit code of stopped tasks: a container that exited non-zero wins;
/// a task ECS stopped before its container ran (no exit code, e.g. the
/// image could not be pulled) is a failure (1) with ECS's reason.
pub fn ending(tasks: Vec<TaskState>) -> TaskEnding {
    for task in &tasks {
        for container in &task.containers {
            if let Some(code) = container.exit_code.filter(|c| *c != 0) {
                let detail = format!("container {} of task {} exited with code {code}", container.name, task.id());
                return TaskEnding { exit_code: code, detail: Some(detail), tasks };
            }
        }
    }
    for task in &tasks {
        let ran = task.containers.iter().any(|c| c.exit_code.is_some());
        let reason = task
            .containers
            .iter()
            .find_map(|c| c.reason.clone())
            .or_else(|| task.stopped_reason.clone())
            .filter(|r| !r.is_empty());
        let failed_to_start = reason.as_deref().is_some_and(|r| {
            ["CannotPull", "ResourceInitializationError", "CannotStart", "OutOfMemory", "TaskFailedToStart"]
                .iter()
                .any(|marker| r.contains(marker))
        });
        if !ran && failed_to_start {
            let detail = format!("task {} stopped before its container ran: {}", task.id(), reason.unwrap_or_default());
            return TaskEnding { exit_code: 1, detail: Some(detail), tasks };
        }
    }
    TaskEnding { exit_code: 0, detail: None, tasks }
}

/// Polls the tasks until every one has stopped, calling `tick` between
/// polls (where the caller prints new log events), then returns how they
/// ended. Gives up after `limit`.
pub async fn wait_stopped<A: TaskApi>(
    api: &A,
    cluster: &str,
    arns: &[String],
    poll: Duration,
    limit: Duration,
    tick: &mut (dyn FnMut(&[TaskState]) + Send),
) -> Result<TaskEnding, AwsError> {
    let started = tokio::time::Instant::now();
    loop {
        let tasks = api.describe_tasks(cluster, arns).await?;
        tick(&tasks);
        if !tasks.is_empty() && tasks.iter().all(TaskState::stopped) {
            return Ok(ending(tasks));
        }
        if started.elapsed() >= limit {
            return Err(AwsError::new(
                "ecs:DescribeTasks",
                Some(cluster),
                AwsErrorKind::Other,
                format!("the tasks were still running after {} s; they keep running in ECS", limit.as_secs()),
            ));
        }
        tokio::time::sleep(poll).await;
    }
}

/// Polls the tasks until every one is running or stopped (ECS has placed
/// them and pulled the image), as Copilot waits before it reports them.
pub async fn wait_started<A: TaskApi>(
    api: &A,
    cluster: &str,
    arns: &[String],
    poll: Duration,
    limit: Duration,
) -> Result<Vec<TaskState>, AwsError> {
    let started = tokio::time::Instant::now();
    loop {
        let tasks = api.describe_tasks(cluster, arns).await?;
        if tasks.len() == arns.len() && tasks.iter().all(|t| t.last_status == "RUNNING" || t.stopped()) {
            return Ok(tasks);
        }
        if started.elapsed() >= limit {
            return Ok(tasks);
        }
        tokio::time::sleep(poll).await;
    }
}

/// Deletes every image of an ECR repository (CloudFormation cannot delete
/// a repository that holds images); how many. A missing repository is fine.
pub async fn empty_repository(ecr: &aws_sdk_ecr::Client, repository: &str) -> Result<usize, AwsError> {
    let mut ids = Vec::new();
    let mut token = None;
    loop {
        let page = match ecr.list_images().repository_name(repository).set_next_token(token).send().await {
            Ok(page) => page,
            Err(e) => {
                let err = AwsError::from_sdk("ecr:ListImages", Some(repository), e);
                if err.kind == AwsErrorKind::NotFound || err.code.as_deref() == Some("RepositoryNotFoundException") {
                    return Ok(0);
                }
                return Err(err);
            }
        };
        ids.extend(page.image_ids().iter().cloned());
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    let count = ids.len();
    for chunk in ids.chunks(100) {
        ecr.batch_delete_image()
            .repository_name(repository)
            .set_image_ids(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ecr:BatchDeleteImage", Some(repository), e))?;
    }
    Ok(count)
}

/// The default VPC and its default-for-AZ subnets, if the account has one.
pub async fn default_vpc(aws: &crate::AwsContext) -> Result<Option<(String, Vec<String>)>, AwsError> {
    use aws_sdk_ec2::types::Filter;
    let ec2 = aws.ec2();
    let vpcs = ec2
        .describe_vpcs()
        .filters(Filter::builder().name("is-default").values("true").build())
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("ec2:DescribeVpcs", None, e))?;
    let Some(vpc) = vpcs.vpcs().first().and_then(|v| v.vpc_id()).map(str::to_string) else { return Ok(None) };
    let subnets = ec2
        .describe_subnets()
        .filters(Filter::builder().name("vpc-id").values(&vpc).build())
        .filters(Filter::builder().name("default-for-az").values("true").build())
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("ec2:DescribeSubnets", Some(&vpc), e))?;
    let ids = subnets.subnets().iter().filter_map(|s| s.subnet_id()).map(str::to_string).collect();
    Ok(Some((vpc, ids)))
}

/// The VPC a subnet belongs to.
pub async fn subnet_vpc(aws: &crate::AwsContext, subnet: &str) -> Result<Option<String>, AwsError> {
    let out = aws
        .ec2()
        .describe_subnets()
        .subnet_ids(subnet)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("ec2:DescribeSubnets", Some(subnet), e))?;
    Ok(out.subnets().first().and_then(|s| s.vpc_id()).map(str::to_string))
}

/// A VPC's `default` security group.
pub async fn vpc_default_group(aws: &crate::AwsContext, vpc: &str) -> Result<Option<String>, AwsError> {
    use aws_sdk_ec2::types::Filter;
    let out = aws
        .ec2()
        .describe_security_groups()
        .filters(Filter::builder().name("vpc-id").values(vpc).build())
        .filters(Filter::builder().name("group-name").values("default").build())
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("ec2:DescribeSecurityGroups", Some(vpc), e))?;
    Ok(out.security_groups().first().and_then(|g| g.group_id()).map(str::to_string))
}

/// What `task run --generate-cmd` fills its flags from.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DefinitionSummary {
    pub image: Option<String>,
    pub cpu: Option<String>,
    pub memory: Option<String>,
    pub task_role: Option<String>,
    pub execution_role: Option<String>,
    pub env_vars: Vec<(String, String)>,
    pub secrets: Vec<(String, String)>,
    pub command: Vec<String>,
    pub entrypoint: Vec<String>,
}

/// The first container of a task definition and the task's size and roles.
pub async fn describe_definition(ecs: &aws_sdk_ecs::Client, definition: &str) -> Result<DefinitionSummary, AwsError> {
    let out = ecs
        .describe_task_definition()
        .task_definition(definition)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("ecs:DescribeTaskDefinition", Some(definition), e))?;
    let Some(def) = out.task_definition() else {
        return Err(AwsError::new(
            "ecs:DescribeTaskDefinition",
            Some(definition),
            AwsErrorKind::NotFound,
            "no such task definition",
        ));
    };
    let container = def.container_definitions().first();
    Ok(DefinitionSummary {
        image: container.and_then(|c| c.image()).map(str::to_string),
        cpu: def.cpu().map(str::to_string),
        memory: def.memory().map(str::to_string),
        task_role: def.task_role_arn().map(str::to_string),
        execution_role: def.execution_role_arn().map(str::to_string),
        env_vars: container
            .map(|c| {
                c.environment()
                    .iter()
                    .filter_map(|kv| Some((kv.name()?.to_string(), kv.value()?.to_string())))
                    .collect()
            })
            .unwrap_or_default(),
        secrets: container
            .map(|c| c.secrets().iter().map(|s| (s.name().to_string(), s.value_from().to_string())).collect())
            .unwrap_or_default(),
        command: container.map(|c| c.command().to_vec()).unwrap_or_default(),
        entrypoint: container.map(|c| c.entry_point().to_vec()).unwrap_or_default(),
    })
}

/// The task definition an ECS service runs.
pub async fn service_task_definition(
    ecs: &aws_sdk_ecs::Client,
    cluster: &str,
    service: &str,
) -> Result<Option<String>, AwsError> {
    let out = ecs
        .describe_services()
        .cluster(cluster)
        .services(service)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("ecs:DescribeServices", Some(service), e))?;
    Ok(out.services().first().and_then(|s| s.task_definition()).map(str::to_string))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// A fake ECS: tasks whose states change on each DescribeTasks, as a
    /// script of states says.
    struct Scripted {
        states: Mutex<Vec<Vec<TaskState>>>,
        runs: Mutex<Vec<RunRequest>>,
    }

    impl TaskApi for Scripted {
        async fn run_task(&self, request: &RunRequest) -> Result<Vec<String>, AwsError> {
            self.runs.lock().unwrap().push(request.clone());
            Ok((0..request.count).map(|i| format!("arn:aws:ecs:us-west-2:1:task/c/t{i}")).collect())
        }
        async fn describe_tasks(&self, _: &str, _: &[String]) -> Result<Vec<TaskState>, AwsError> {
            let mut states = self.states.lock().unwrap();
            Ok(if states.len() > 1 { states.remove(0) } else { states[0].clone() })
        }
        async fn list_tasks(&self, _: &str, _: Option<&str>, _: Option<&str>) -> Result<Vec<String>, AwsError> {
            Ok(Vec::new())
        }
        async fn stop_task(&self, _: &str, _: &str, _: &str) -> Result<(), AwsError> {
            Ok(())
        }
    }

    fn task(status: &str, exit: Option<i32>, reason: Option<&str>) -> TaskState {
        TaskState {
            arn: "arn:aws:ecs:us-west-2:1:task/c/abc123".into(),
            last_status: status.into(),
            desired_status: "STOPPED".into(),
            stopped_reason: reason.map(str::to_string),
            containers: vec![ContainerState {
                name: "migrate".into(),
                last_status: status.into(),
                exit_code: exit,
                reason: None,
                runtime_id: None,
            }],
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn follows_until_stopped_and_passes_the_exit_code_on() {
        let api = Scripted {
            states: Mutex::new(vec![
                vec![task("PENDING", None, None)],
                vec![task("RUNNING", None, None)],
                vec![task("STOPPED", Some(3), Some("Essential container in task exited"))],
            ]),
            runs: Mutex::default(),
        };
        let mut ticks = 0;
        let ending =
            wait_stopped(&api, "c", &["a".into()], Duration::ZERO, Duration::from_secs(5), &mut |_| ticks += 1)
                .await
                .unwrap();
        assert_eq!(ticks, 3);
        assert_eq!(ending.exit_code, 3);
        assert_eq!(ending.detail.as_deref(), Some("container migrate of task abc123 exited with code 3"));
    }

    #[tokio::test]
    async fn a_clean_exit_is_zero_and_a_task_that_never_ran_is_one() {
        assert_eq!(ending(vec![task("STOPPED", Some(0), None)]).exit_code, 0);
        let never = ending(vec![task("STOPPED", None, Some("CannotPullContainerError: no such image"))]);
        assert_eq!(never.exit_code, 1);
        assert!(never.detail.unwrap().contains("CannotPullContainerError"));
        // Stopped by a user (`task delete`), no exit code: nothing failed.
        assert_eq!(ending(vec![task("STOPPED", None, Some("Task stopped by user"))]).exit_code, 0);
        // Two tasks: the failing one's code, whichever comes first.
        let mut second = task("STOPPED", Some(137), None);
        second.arn = "arn:aws:ecs:us-west-2:1:task/c/def456".into();
        let both = ending(vec![task("STOPPED", Some(0), None), second]);
        assert_eq!((both.exit_code, both.detail.unwrap().contains("def456")), (137, true));
    }

    #[tokio::test]
    async fn gives_up_after_the_limit() {
        let api = Scripted { states: Mutex::new(vec![vec![task("RUNNING", None, None)]]), runs: Mutex::default() };
        let err =
            wait_stopped(&api, "c", &["a".into()], Duration::ZERO, Duration::ZERO, &mut |_| {}).await.unwrap_err();
        assert!(err.message.contains("still running"), "{err:?}");
    }

    #[test]
    fn copilot_names() {
        assert_eq!(stack_name("db-migrate"), "task-db-migrate");
        assert_eq!(repository("db-migrate"), "copilot-db-migrate");
        assert_eq!(log_group("db-migrate"), "/copilot/db-migrate");
        assert_eq!(log_stream("db-migrate", "abc"), "copilot-task/db-migrate/abc");
        assert_eq!(task_id("arn:aws:ecs:us-west-2:1:task/cluster/abc"), "abc");
    }

    #[test]
    fn commands_split_like_a_shell() {
        assert_eq!(split_command("python migrate.py --dry-run").unwrap(), ["python", "migrate.py", "--dry-run"]);
        assert_eq!(split_command(r#"sh -c "echo 'hi there'""#).unwrap(), ["sh", "-c", "echo 'hi there'"]);
        assert_eq!(split_command("a '' b").unwrap(), ["a", "", "b"]);
        assert!(split_command("echo 'open").unwrap_err().contains("unclosed"));
    }

    #[test]
    fn parameters_and_tags_are_copilots() {
        let spec = TaskSpec {
            group: "migrate".into(),
            cpu: 256,
            memory: 512,
            command: vec!["a".into(), "b".into()],
            app: "chat".into(),
            env: "test".into(),
            ..Default::default()
        };
        let params = spec.parameters();
        assert_eq!(params["TaskName"], "migrate");
        assert_eq!(params["Command"], "a,b");
        assert_eq!(params["LogRetention"], "1");
        let tags = spec.tags(&IndexMap::from([("team".to_string(), "x".to_string())]));
        assert_eq!(
            tags.into_iter().collect::<Vec<_>>(),
            [
                ("team".to_string(), "x".to_string()),
                ("copilot-task".into(), "migrate".into()),
                ("copilot-application".into(), "chat".into()),
                ("copilot-environment".into(), "test".into())
            ]
        );
        let default = TaskSpec { group: "migrate".into(), ..Default::default() };
        assert_eq!(default.tags(&IndexMap::new()).len(), 1);
    }

    #[test]
    fn secrets_are_granted_by_name_and_arn() {
        let spec = TaskSpec {
            group: "migrate".into(),
            secrets: IndexMap::from([
                ("DB".to_string(), "/copilot/chat/test/secrets/DB".to_string()),
                ("KEY".to_string(), "arn:aws:secretsmanager:us-west-2:1:secret:key".to_string()),
            ]),
            ..Default::default()
        };
        let template = spec.template();
        let policies = &template["Resources"]["DefaultExecutionRole"]["Properties"]["Policies"];
        // The env file's (conditional, first as Copilot has it), by tag, by name.
        assert_eq!(policies[0]["Fn::If"][0], "HasEnvFile");
        let named = &policies[2]["PolicyDocument"]["Statement"];
        assert!(
            named[0]["Resource"][0]["Fn::Sub"].as_str().unwrap().ends_with("parameter/copilot/chat/test/secrets/DB")
        );
        assert_eq!(named[1]["Resource"][0], "arn:aws:secretsmanager:us-west-2:1:secret:key");
        let container = &template["Resources"]["TaskDefinition"]["Properties"]["ContainerDefinitions"][0];
        assert_eq!(container["Secrets"][0], json!({"Name": "DB", "ValueFrom": "/copilot/chat/test/secrets/DB"}));
        let plain = TaskSpec::default().template();
        let policies = plain["Resources"]["DefaultExecutionRole"]["Properties"]["Policies"].as_array().unwrap();
        assert_eq!(policies.len(), 1, "without secrets, only the env file's: {policies:?}");
    }
}
