//! The bundled "Scheduled Job" plugin: a Fargate task that an EventBridge
//! rule starts on a schedule, through a Step Functions state machine that
//! runs it to completion, retries it and enforces its timeout.
//!
//! The task definition, IAM roles and log group come from
//! [`ferry_plugin_sdk::workload`]; this crate adds what only a job has: the
//! schedule ([`schedule`]), the state machine and the rule. No ECS service,
//! no autoscaling.

pub mod manifest;
pub mod schedule;

use ferry_plugin_sdk::cfn::{self, Parameter, Resource, Template};
use ferry_plugin_sdk::workload::{self, TaskRender, publish};
use ferry_plugin_sdk::{Diagnostic, Plugin, PluginInfo, RenderContext, RenderError, Rendered, Value, json};
use indexmap::IndexMap;
use manifest::Manifest;

/// The manifest `type:` this plugin renders.
pub const MANIFEST_TYPE: &str = "Scheduled Job";

/// Commented manifest written by `job init`.
pub const MANIFEST_TEMPLATE: &str = include_str!("template.yml");

/// Logical IDs of the job's own resources (the task's come from the SDK).
pub mod ids {
    pub const STATE_MACHINE: &str = "StateMachine";
    pub const STATE_MACHINE_ROLE: &str = "StateMachineRole";
    pub const RULE: &str = "Rule";
    pub const RULE_ROLE: &str = "RuleRole";
    /// Condition: the `Schedule` parameter is not `none`.
    pub const HAS_SCHEDULE: &str = "HasSchedule";
}

/// The name of the state machine's only state.
const RUN_STATE: &str = "Run Fargate Task";
/// Step Functions' limit on `TimeoutSeconds` and `MaxAttempts`.
const STATES_MAX: u64 = 99_999_999;

pub struct ScheduledJob;

impl Plugin for ScheduledJob {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "scheduled-job".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Scheduled Job: a Fargate task started on a schedule by EventBridge through Step Functions"
                .into(),
            manifest_types: vec![MANIFEST_TYPE.into()],
            manifest_schema: ferry_plugin_sdk::manifest::schema_from_json(include_str!("../schema.json")),
            manifest_template: MANIFEST_TEMPLATE.into(),
        }
    }

    fn validate(manifest: &Value) -> Vec<Diagnostic> {
        ferry_plugin_sdk::manifest::validate_with(manifest, |m: &Manifest| check(m))
    }

    fn render(manifest: &Value, context: &RenderContext) -> Result<Rendered, RenderError> {
        ferry_plugin_sdk::manifest::render_with(manifest, |m: &Manifest| check(m), |m| render(m, context))
    }
}

#[cfg(target_arch = "wasm32")]
ferry_plugin_sdk::export_plugin!(ScheduledJob, job);

/// The EventBridge expression of the manifest's schedule (`None` for
/// `none`); `check` has reported any problem with it.
fn schedule_expression(m: &Manifest) -> Option<String> {
    let text = m.on.as_ref()?.schedule.as_ref()?;
    schedule::to_expression(text).ok().flatten()
}

/// Every problem with the manifest.
pub fn check(m: &Manifest) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    out.extend(workload::check_type(&m.kind, MANIFEST_TYPE));
    out.extend(workload::check_task(&m.task_spec(), false));
    match m.on.as_ref().map(|on| &on.schedule) {
        None => out.push(
            Diagnostic::error("", "missing required field `on`")
                .with_hint("add `on: {schedule: \"@daily\"}`, or `schedule: none` to run the job only by hand"),
        ),
        Some(None) => out.push(
            Diagnostic::error("/on", "missing required field `schedule`")
                .with_hint("add `schedule: \"@daily\"`, or `schedule: none` to run the job only by hand"),
        ),
        Some(Some(text)) => {
            if let Err(e) = schedule::to_expression(text) {
                out.push(Diagnostic::error("/on/schedule", e.message).with_hint(e.hint));
            }
        }
    }
    if let Some(t) = m.timeout
        && (!t.is_whole_seconds() || t.secs() == 0 || t.secs() > STATES_MAX)
    {
        out.push(
            Diagnostic::error("/timeout", "the timeout is a whole number of seconds, at least 1s")
                .with_hint("e.g. `timeout: 1h30m` or `timeout: 90s`"),
        );
    }
    if let Some(r) = m.retries
        && u64::from(r) > STATES_MAX
    {
        out.push(Diagnostic::error("/retries", format!("Step Functions retries at most {STATES_MAX} times")));
    }
    if let Some(p) = &m.publish {
        publish::check_publish(p, &mut out);
    }
    if m.network.as_ref().and_then(|n| n.connect()).is_some() {
        out.push(
            Diagnostic::error(
                "/network/connect",
                "Service Connect joins ECS services; a job runs tasks, not a service",
            )
            .with_hint("remove `connect`; a job can still call services at <svc>.<env>.<app>.local"),
        );
    }
    out
}

/// The Amazon States Language definition: one task state running the job on
/// Fargate to completion (`runTask.sync`), with the manifest's timeout and
/// retries. `${...}` are `Fn::Sub` variables.
/// Without `security_groups` the task gets the VPC's default group
/// (`deny_default` with no groups of its own).
pub fn state_machine_definition(public: bool, security_groups: bool, timeout: Option<u64>, retries: u32) -> Value {
    let mut state = json!({
        "Type": "Task",
        "Resource": "arn:${AWS::Partition}:states:::ecs:runTask.sync",
        "Parameters": {
            "LaunchType": "FARGATE",
            "PlatformVersion": "LATEST",
            "Cluster": "${Cluster}",
            "TaskDefinition": "${TaskDefinition}",
            "PropagateTags": "TASK_DEFINITION",
            "NetworkConfiguration": {
                "AwsvpcConfiguration": {
                    "Subnets": ["${Subnets}"],
                    "AssignPublicIp": if public { "ENABLED" } else { "DISABLED" },
                    "SecurityGroups": ["${SecurityGroups}"]
                }
            }
        },
        "End": true
    });
    if !security_groups {
        let vpc = &mut state["Parameters"]["NetworkConfiguration"]["AwsvpcConfiguration"];
        if let Some(vpc) = vpc.as_object_mut() {
            vpc.remove("SecurityGroups");
        }
    }
    if let Some(secs) = timeout {
        state["TimeoutSeconds"] = json!(secs);
    }
    if retries > 0 {
        state["Retry"] = json!([{
            "ErrorEquals": ["States.ALL"],
            "IntervalSeconds": 10,
            "MaxAttempts": retries,
            "BackoffRate": 1.5
        }]);
    }
    json!({
        "Version": "1.0",
        "Comment": "Run the job's task on AWS Fargate",
        "StartAt": RUN_STATE,
        "States": { RUN_STATE: state }
    })
}

fn render(m: &Manifest, ctx: &RenderContext) -> Rendered {
    let spec = m.task_spec();
    let mut t = Template::new();
    t.description = Some(format!("CloudFormation template for the {MANIFEST_TYPE} `{}`, rendered by ferry.", m.name));
    let mut values = IndexMap::new();
    let extra_environment = m.publish.as_ref().and_then(publish::topic_arns_variable).into_iter().collect();
    let task = TaskRender { spec: &spec, context: ctx, extra_environment };
    task.job_parameters(&mut t, &mut values);

    let expression = schedule_expression(m);
    t.parameter(
        "Schedule",
        Parameter::string()
            .description("EventBridge schedule expression starting the job, or `none` to run it by hand"),
    );
    values.insert("Schedule".into(), json!(expression.clone().unwrap_or_else(|| schedule::NONE.into())));
    t.condition(ids::HAS_SCHEDULE, cfn::not(cfn::equals(cfn::ref_("Schedule"), json!(schedule::NONE))));

    task.log_group(&mut t);
    task.execution_role(&mut t);
    task.task_role_with_policies(&mut t, m.publish.as_ref().and_then(publish::publish_policy).into_iter().collect());
    task.task_definition(&mut t);
    if let Some(p) = &m.publish {
        publish::render_publish(p, &mut t);
    }

    // The state machine that runs the task and its role.
    let cluster_arn = cfn::sub_with(
        "arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:cluster/${Cluster}",
        json!({"Cluster": cfn::env_import("ClusterId")}),
    );
    let on_cluster = json!({"ArnEquals": {"ecs:cluster": cluster_arn}});
    t.resource(
        ids::STATE_MACHINE_ROLE,
        Resource::new("AWS::IAM::Role")
            .prop("AssumeRolePolicyDocument", cfn::assume_role_policy("states.amazonaws.com"))
            .prop(
                "Policies",
                json!([{
                    "PolicyName": "RunTask",
                    "PolicyDocument": cfn::policy_document(vec![
                        json!({
                            "Effect": "Allow",
                            "Action": ["ecs:RunTask"],
                            "Resource": [cfn::ref_(workload::render::ids::TASK_DEFINITION)],
                            "Condition": &on_cluster,
                        }),
                        json!({
                            "Effect": "Allow",
                            "Action": ["ecs:StopTask", "ecs:DescribeTasks"],
                            "Resource": "*",
                            "Condition": on_cluster,
                        }),
                        json!({
                            "Effect": "Allow",
                            "Action": ["iam:PassRole"],
                            "Resource": [
                                cfn::get_att(workload::render::ids::EXECUTION_ROLE, "Arn"),
                                cfn::get_att(workload::render::ids::TASK_ROLE, "Arn"),
                            ],
                        }),
                        // Delivering its execution logs to the job's log group.
                        json!({
                            "Effect": "Allow",
                            "Action": [
                                "logs:CreateLogDelivery",
                                "logs:GetLogDelivery",
                                "logs:UpdateLogDelivery",
                                "logs:DeleteLogDelivery",
                                "logs:ListLogDeliveries",
                                "logs:PutResourcePolicy",
                                "logs:DescribeResourcePolicies",
                                "logs:DescribeLogGroups",
                            ],
                            "Resource": "*",
                        }),
                        json!({
                            "Effect": "Allow",
                            "Action": ["events:PutTargets", "events:PutRule", "events:DescribeRule"],
                            "Resource": cfn::sub(
                                "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/StepFunctionsGetEventsForECSTaskRule"
                            ),
                        }),
                    ]),
                }]),
            )
            .describe("An IAM role the state machine uses to run the task and wait for it to finish"),
    );
    let security_groups = task.security_groups();
    let definition = state_machine_definition(
        spec.public_placement(),
        !security_groups.is_empty(),
        m.timeout.map(|d| d.secs()),
        m.retries.unwrap_or(0),
    );
    let definition_text = serde_json::to_string_pretty(&definition).unwrap_or_default();
    t.resource(
        ids::STATE_MACHINE,
        Resource::new("AWS::StepFunctions::StateMachine")
            .prop("StateMachineName", cfn::sub("${AppName}-${EnvName}-${WorkloadName}"))
            .prop("RoleArn", cfn::get_att(ids::STATE_MACHINE_ROLE, "Arn"))
            // Its executions log to the job's own log group (streams
            // `states/...`), where `job logs --include-state-machine` reads them.
            .prop(
                "LoggingConfiguration",
                json!({
                    "Destinations": [{"CloudWatchLogsLogGroup": {
                        "LogGroupArn": cfn::get_att(workload::render::ids::LOG_GROUP, "Arn"),
                    }}],
                    "IncludeExecutionData": true,
                    "Level": "ALL",
                }),
            )
            .prop(
                "DefinitionString",
                cfn::sub_with(
                    &definition_text,
                    json!({
                        "Cluster": cfn::env_import("ClusterId"),
                        "TaskDefinition": cfn::ref_(workload::render::ids::TASK_DEFINITION),
                        "Subnets": cfn::join("\",\"", task.service_subnets()),
                        "SecurityGroups": cfn::join("\",\"", json!(security_groups)),
                    }),
                ),
            )
            .describe("A Step Functions state machine running the task to completion, with retries and a timeout"),
    );

    // The schedule: a rule starting the state machine (none for `schedule: none`).
    t.resource(
        ids::RULE_ROLE,
        Resource::new("AWS::IAM::Role")
            .condition(ids::HAS_SCHEDULE)
            .prop("AssumeRolePolicyDocument", cfn::assume_role_policy("events.amazonaws.com"))
            .prop(
                "Policies",
                json!([{
                    "PolicyName": "StartExecution",
                    "PolicyDocument": cfn::policy_document(vec![json!({
                        "Effect": "Allow",
                        "Action": ["states:StartExecution"],
                        "Resource": [cfn::ref_(ids::STATE_MACHINE)],
                    })]),
                }]),
            )
            .describe("An IAM role the schedule rule uses to start the state machine"),
    );
    t.resource(
        ids::RULE,
        Resource::new("AWS::Events::Rule")
            .condition(ids::HAS_SCHEDULE)
            .prop("ScheduleExpression", cfn::ref_("Schedule"))
            .prop("State", "ENABLED")
            .prop(
                "Targets",
                json!([{
                    "Arn": cfn::ref_(ids::STATE_MACHINE),
                    "Id": "StateMachine",
                    "RoleArn": cfn::get_att(ids::RULE_ROLE, "Arn"),
                }]),
            )
            .describe("An EventBridge rule starting the job on its schedule"),
    );
    t.output("StateMachineARN", cfn::ref_(ids::STATE_MACHINE), None);
    Rendered { template: t, parameters: values }
}
