//! What a deployed service is doing: its ECS service and tasks, the health
//! of its load balancer targets and the state of its alarms.

use crate::app::Session;
use crate::cfn::StackResource;
use crate::error::AwsError;
use ferry_core::naming;
use serde::Serialize;

#[derive(Debug, Clone, Default, Serialize)]
pub struct ServiceStatus {
    pub stack: String,
    pub stack_status: String,
    pub service: Option<EcsService>,
    pub tasks: Vec<Task>,
    pub targets: Vec<Target>,
    pub alarms: Vec<Alarm>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct EcsService {
    pub arn: String,
    pub status: String,
    pub desired: i32,
    pub running: i32,
    pub pending: i32,
    pub rollout: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Task {
    pub id: String,
    pub last_status: String,
    pub health: String,
    pub started_at: Option<String>,
    pub task_definition: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Target {
    pub target_group: String,
    pub id: String,
    pub port: Option<i32>,
    pub state: String,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Alarm {
    pub name: String,
    pub state: String,
    pub reason: Option<String>,
}

fn of_type<'a>(resources: &'a [StackResource], ty: &'a str) -> impl Iterator<Item = &'a StackResource> + 'a {
    resources.iter().filter(move |r| r.resource_type == ty && !r.physical_id.is_empty())
}

impl Session {
    /// `--force` on a service whose stack is up to date: a new ECS deployment
    /// of the same task definition (Copilot's `svc deploy --force`). Returns
    /// the service's ARN, or `None` when the stack has no ECS service (a
    /// job, a static site, App Runner).
    pub async fn force_new_deployment(&self, app: &str, env: &str, workload: &str) -> Result<Option<String>, AwsError> {
        let stack = naming::workload_stack(app, env, workload);
        let resources = self.cfn.stack_resources(&stack).await?;
        let Some(service) = of_type(&resources, "AWS::ECS::Service").next() else { return Ok(None) };
        let env_resources = self.cfn.stack_resources(&naming::environment_stack(app, env)).await?;
        let cluster = of_type(&env_resources, "AWS::ECS::Cluster").next().ok_or_else(|| {
            AwsError::new(
                "ecs:UpdateService",
                Some(&service.physical_id),
                crate::AwsErrorKind::NotFound,
                format!("environment stack {} has no ECS cluster", naming::environment_stack(app, env)),
            )
        })?;
        let out = self
            .aws
            .ecs()
            .update_service()
            .cluster(&cluster.physical_id)
            .service(&service.physical_id)
            .force_new_deployment(true)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ecs:UpdateService", Some(&service.physical_id), e))?;
        let arn = out.service().and_then(|s| s.service_arn()).unwrap_or(&service.physical_id);
        Ok(Some(arn.to_string()))
    }

    /// Collects the status of `<app>-<env>-<svc>`; `None` when it is not deployed.
    pub async fn service_status(&self, app: &str, env: &str, svc: &str) -> Result<Option<ServiceStatus>, AwsError> {
        use crate::cfn::CloudFormationApi;
        let stack = naming::workload_stack(app, env, svc);
        let Some(state) = self.cfn.describe_stack(&stack).await? else { return Ok(None) };
        let resources = self.cfn.stack_resources(&stack).await?;
        let mut status = ServiceStatus { stack: stack.clone(), stack_status: state.status, ..Default::default() };
        let env_resources = self.cfn.stack_resources(&naming::environment_stack(app, env)).await.unwrap_or_default();
        let cluster = of_type(&env_resources, "AWS::ECS::Cluster").next().map(|r| r.physical_id.clone());
        if let (Some(cluster), Some(service)) = (cluster, of_type(&resources, "AWS::ECS::Service").next()) {
            let ecs = self.aws.ecs();
            let out = ecs
                .describe_services()
                .cluster(&cluster)
                .services(&service.physical_id)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("ecs:DescribeServices", Some(&service.physical_id), e))?;
            if let Some(s) = out.services().first() {
                status.service = Some(EcsService {
                    arn: s.service_arn().unwrap_or_default().to_string(),
                    status: s.status().unwrap_or_default().to_string(),
                    desired: s.desired_count(),
                    running: s.running_count(),
                    pending: s.pending_count(),
                    rollout: s.deployments().first().and_then(|d| d.rollout_state()).map(|r| r.as_str().to_string()),
                });
                let name = s.service_name().unwrap_or_default().to_string();
                let arns = ecs
                    .list_tasks()
                    .cluster(&cluster)
                    .service_name(&name)
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("ecs:ListTasks", Some(&name), e))?
                    .task_arns()
                    .to_vec();
                if !arns.is_empty() {
                    let tasks = ecs
                        .describe_tasks()
                        .cluster(&cluster)
                        .set_tasks(Some(arns))
                        .send()
                        .await
                        .map_err(|e| AwsError::from_sdk("ecs:DescribeTasks", Some(&name), e))?;
                    status.tasks = tasks
                        .tasks()
                        .iter()
                        .map(|t| Task {
                            id: t.task_arn().unwrap_or_default().rsplit('/').next().unwrap_or_default().to_string(),
                            last_status: t.last_status().unwrap_or_default().to_string(),
                            health: t.health_status().map(|h| h.as_str().to_string()).unwrap_or_default(),
                            started_at: t.started_at().map(|d| d.to_string()),
                            task_definition: t
                                .task_definition_arn()
                                .unwrap_or_default()
                                .rsplit('/')
                                .next()
                                .unwrap_or_default()
                                .to_string(),
                        })
                        .collect();
                }
            }
        }
        let elb = self.aws.elbv2();
        for group in of_type(&resources, "AWS::ElasticLoadBalancingV2::TargetGroup") {
            let out = elb.describe_target_health().target_group_arn(&group.physical_id).send().await.map_err(|e| {
                AwsError::from_sdk("elasticloadbalancing:DescribeTargetHealth", Some(&group.physical_id), e)
            })?;
            for d in out.target_health_descriptions() {
                let health = d.target_health();
                status.targets.push(Target {
                    target_group: group.logical_id.clone(),
                    id: d.target().and_then(|t| t.id()).unwrap_or_default().to_string(),
                    port: d.target().and_then(|t| t.port()),
                    state: health.and_then(|h| h.state()).map(|s| s.as_str().to_string()).unwrap_or_default(),
                    reason: health.and_then(|h| h.description()).map(str::to_string),
                });
            }
        }
        let alarm_names: Vec<String> =
            of_type(&resources, "AWS::CloudWatch::Alarm").map(|r| r.physical_id.clone()).collect();
        if !alarm_names.is_empty() {
            let out = self
                .aws
                .cloudwatch()
                .describe_alarms()
                .set_alarm_names(Some(alarm_names))
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("cloudwatch:DescribeAlarms", Some(&stack), e))?;
            status.alarms = out
                .metric_alarms()
                .iter()
                .map(|a| Alarm {
                    name: a.alarm_name().unwrap_or_default().to_string(),
                    state: a.state_value().map(|s| s.as_str().to_string()).unwrap_or_default(),
                    reason: a.state_reason().map(str::to_string),
                })
                .collect();
        }
        Ok(Some(status))
    }
}
