//! Following an ECS service deployment (`ListServiceDeployments`,
//! `DescribeServiceDeployments`) and rolling one back
//! (`StopServiceDeployment`, or the previous revision's task definition).
//!
//! Behind [`ServiceDeploymentsApi`]: moto has no service-deployment API, so
//! the following and rollback paths are tested with recorded responses at
//! this boundary.

use crate::error::AwsError;
use serde::Serialize;
use std::time::Duration;

/// One service deployment as `DescribeServiceDeployments` reports it.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct ServiceDeployment {
    pub arn: String,
    /// `PENDING`, `IN_PROGRESS`, `SUCCESSFUL`, `STOPPED`, `STOP_REQUESTED`,
    /// `ROLLBACK_REQUESTED`, `ROLLBACK_IN_PROGRESS`, `ROLLBACK_SUCCESSFUL`, `ROLLBACK_FAILED`.
    pub status: String,
    pub status_reason: Option<String>,
    /// `SCALE_UP`, `TEST_TRAFFIC_SHIFT`, `PRODUCTION_TRAFFIC_SHIFT`, `BAKE_TIME`, `CLEAN_UP`, ...
    pub stage: Option<String>,
    /// The revision being deployed.
    pub target_revision: Option<String>,
    /// Revisions running before it (where a rollback returns).
    pub source_revisions: Vec<String>,
    /// Share of production traffic the target revision is asked to take.
    pub production_percent: Option<f64>,
    /// Share of test traffic the target revision is asked to take.
    pub test_percent: Option<f64>,
    pub rollback_reason: Option<String>,
    /// Alarms that fired during the deployment.
    pub triggered_alarms: Vec<String>,
}

impl ServiceDeployment {
    /// ECS is done with it (it will not change any more).
    pub fn finished(&self) -> bool {
        matches!(self.status.as_str(), "SUCCESSFUL" | "STOPPED" | "ROLLBACK_SUCCESSFUL" | "ROLLBACK_FAILED")
    }

    /// Rolling back, or rolled back.
    pub fn rolling_back(&self) -> bool {
        self.status.starts_with("ROLLBACK")
    }

    /// Why it rolled back: the alarms that fired, the reason ECS gives.
    pub fn rollback_cause(&self) -> String {
        let mut parts = Vec::new();
        if !self.triggered_alarms.is_empty() {
            parts.push(format!("alarm {} fired", self.triggered_alarms.join(", ")));
        }
        if let Some(r) = self.rollback_reason.as_deref().or(self.status_reason.as_deref()) {
            parts.push(r.to_string());
        }
        if parts.is_empty() { "ECS gave no reason".into() } else { parts.join("; ") }
    }

    /// What a progress line shows: status, stage, traffic shares.
    fn progress_key(&self) -> (String, Option<String>, Option<String>, Option<String>) {
        let pct = |p: Option<f64>| p.map(|p| format!("{p:.1}"));
        (self.status.clone(), self.stage.clone(), pct(self.production_percent), pct(self.test_percent))
    }
}

/// The ECS calls for service deployments.
#[allow(async_fn_in_trait)]
pub trait ServiceDeploymentsApi {
    /// ARNs of the service's deployments, newest first.
    async fn list(&self, cluster: &str, service: &str) -> Result<Vec<String>, AwsError>;
    async fn describe(&self, arn: &str) -> Result<Option<ServiceDeployment>, AwsError>;
    /// `StopServiceDeployment` with stop type `ROLLBACK`.
    async fn stop_with_rollback(&self, arn: &str) -> Result<(), AwsError>;
    /// The task definition of a service revision (`DescribeServiceRevisions`).
    async fn revision_task_definition(&self, revision: &str) -> Result<Option<String>, AwsError>;
    /// Starts a deployment of `task_definition` (`UpdateService`).
    async fn deploy_task_definition(&self, cluster: &str, service: &str, task_definition: &str)
    -> Result<(), AwsError>;
}

/// The real thing.
pub struct Ecs {
    client: aws_sdk_ecs::Client,
}

impl Ecs {
    pub fn new(client: aws_sdk_ecs::Client) -> Self {
        Ecs { client }
    }
}

impl ServiceDeploymentsApi for Ecs {
    async fn list(&self, cluster: &str, service: &str) -> Result<Vec<String>, AwsError> {
        let out = self
            .client
            .list_service_deployments()
            .cluster(cluster)
            .service(service)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ecs:ListServiceDeployments", Some(service), e))?;
        let mut briefs: Vec<_> = out.service_deployments().to_vec();
        briefs.sort_by_key(|b| std::cmp::Reverse(b.created_at().map(|t| t.as_nanos())));
        Ok(briefs.iter().filter_map(|b| b.service_deployment_arn().map(str::to_string)).collect())
    }

    async fn describe(&self, arn: &str) -> Result<Option<ServiceDeployment>, AwsError> {
        let out = self
            .client
            .describe_service_deployments()
            .service_deployment_arns(arn)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ecs:DescribeServiceDeployments", Some(arn), e))?;
        Ok(out.service_deployments().first().map(|d| ServiceDeployment {
            arn: d.service_deployment_arn().unwrap_or(arn).to_string(),
            status: d.status().map(|s| s.as_str().to_string()).unwrap_or_default(),
            status_reason: d.status_reason().map(str::to_string),
            stage: d.lifecycle_stage().map(|s| s.as_str().to_string()),
            target_revision: d.target_service_revision().and_then(|r| r.arn()).map(str::to_string),
            source_revisions: d.source_service_revisions().iter().filter_map(|r| r.arn()).map(str::to_string).collect(),
            production_percent: d.target_service_revision().and_then(|r| r.requested_production_traffic_weight()),
            test_percent: d.target_service_revision().and_then(|r| r.requested_test_traffic_weight()),
            rollback_reason: d.rollback().and_then(|r| r.reason()).map(str::to_string),
            triggered_alarms: d.alarms().map(|a| a.triggered_alarm_names().to_vec()).unwrap_or_default(),
        }))
    }

    async fn stop_with_rollback(&self, arn: &str) -> Result<(), AwsError> {
        self.client
            .stop_service_deployment()
            .service_deployment_arn(arn)
            .stop_type(aws_sdk_ecs::types::StopServiceDeploymentStopType::Rollback)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ecs:StopServiceDeployment", Some(arn), e))?;
        Ok(())
    }

    async fn revision_task_definition(&self, revision: &str) -> Result<Option<String>, AwsError> {
        let out = self
            .client
            .describe_service_revisions()
            .service_revision_arns(revision)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ecs:DescribeServiceRevisions", Some(revision), e))?;
        Ok(out.service_revisions().first().and_then(|r| r.task_definition()).map(str::to_string))
    }

    async fn deploy_task_definition(
        &self,
        cluster: &str,
        service: &str,
        task_definition: &str,
    ) -> Result<(), AwsError> {
        self.client
            .update_service()
            .cluster(cluster)
            .service(service)
            .task_definition(task_definition)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ecs:UpdateService", Some(service), e))?;
        Ok(())
    }
}

/// How a followed deployment ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Ending {
    Succeeded(ServiceDeployment),
    /// ECS rolled it back (alarm, circuit breaker, or a requested rollback).
    RolledBack(ServiceDeployment),
    /// Stopped, or a rollback that failed.
    Stopped(ServiceDeployment),
    /// The service has no deployment to follow.
    NoDeployment,
}

/// Why following stopped without an ending.
#[derive(Debug, thiserror::Error)]
pub enum FollowError {
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error("service deployment {arn} is still {status} after {waited:?}; ferry stopped following, ECS carries on")]
    TimedOut { arn: String, status: String, waited: Duration },
}

/// Polls the newest deployment of `service` until ECS ends it, calling
/// `observe` whenever its status, stage or traffic shares change.
pub async fn follow(
    api: &impl ServiceDeploymentsApi,
    cluster: &str,
    service: &str,
    poll: Duration,
    timeout: Duration,
    observe: &mut (dyn FnMut(&ServiceDeployment) + Send),
) -> Result<Ending, FollowError> {
    let Some(arn) = api.list(cluster, service).await?.into_iter().next() else { return Ok(Ending::NoDeployment) };
    follow_arn(api, &arn, poll, timeout, observe).await
}

async fn follow_arn(
    api: &impl ServiceDeploymentsApi,
    arn: &str,
    poll: Duration,
    timeout: Duration,
    observe: &mut (dyn FnMut(&ServiceDeployment) + Send),
) -> Result<Ending, FollowError> {
    let started = tokio::time::Instant::now();
    let mut last = None;
    loop {
        let Some(d) = api.describe(arn).await? else { return Ok(Ending::NoDeployment) };
        let key = d.progress_key();
        if last.as_ref() != Some(&key) {
            observe(&d);
            last = Some(key);
        }
        if d.finished() {
            return Ok(match d.status.as_str() {
                "SUCCESSFUL" => Ending::Succeeded(d),
                "ROLLBACK_SUCCESSFUL" => Ending::RolledBack(d),
                _ => Ending::Stopped(d),
            });
        }
        if started.elapsed() > timeout {
            return Err(FollowError::TimedOut { arn: arn.to_string(), status: d.status, waited: started.elapsed() });
        }
        tokio::time::sleep(poll).await;
    }
}

/// What `svc rollback` did.
#[derive(Debug, Clone, PartialEq)]
pub enum RollbackAction {
    /// The deployment in progress was stopped with rollback.
    StoppedInProgress { arn: String },
    /// The service was sent back to the previous revision's task definition.
    PreviousRevision { task_definition: String },
}

/// Why there is nothing to roll back to.
#[derive(Debug, thiserror::Error)]
pub enum RollbackError {
    #[error(transparent)]
    Follow(#[from] FollowError),
    #[error("service {service} has no deployment to roll back")]
    NoDeployment { service: String },
    #[error("service {service} has no revision before {revision} to return to")]
    NoPrevious { service: String, revision: String },
}

impl From<AwsError> for RollbackError {
    fn from(e: AwsError) -> Self {
        RollbackError::Follow(FollowError::Aws(e))
    }
}

/// Rolls `service` back: a deployment in progress is stopped with rollback
/// (ECS returns traffic to the source revision); otherwise the previous
/// revision's task definition is deployed. Then follows ECS to the end.
pub async fn rollback(
    api: &impl ServiceDeploymentsApi,
    cluster: &str,
    service: &str,
    poll: Duration,
    timeout: Duration,
    observe: &mut (dyn FnMut(&ServiceDeployment) + Send),
) -> Result<(RollbackAction, Ending), RollbackError> {
    let arns = api.list(cluster, service).await?;
    let Some(newest) = arns.first() else { return Err(RollbackError::NoDeployment { service: service.into() }) };
    let Some(current) = api.describe(newest).await? else {
        return Err(RollbackError::NoDeployment { service: service.into() });
    };
    if !current.finished() {
        if !current.rolling_back() {
            api.stop_with_rollback(&current.arn).await?;
        }
        let ending = follow_arn(api, &current.arn, poll, timeout, observe).await?;
        return Ok((RollbackAction::StoppedInProgress { arn: current.arn }, ending));
    }
    let revision = current.target_revision.clone().unwrap_or_default();
    let previous = current.source_revisions.iter().find(|r| **r != revision).cloned();
    let task_definition = match previous {
        Some(p) => api.revision_task_definition(&p).await?,
        None => None,
    };
    let Some(task_definition) = task_definition else {
        return Err(RollbackError::NoPrevious { service: service.into(), revision });
    };
    api.deploy_task_definition(cluster, service, &task_definition).await?;
    let ending = follow(api, cluster, service, poll, timeout, observe).await?;
    Ok((RollbackAction::PreviousRevision { task_definition }, ending))
}

/// The cluster and service names of an ECS service ARN
/// (`arn:aws:ecs:<region>:<account>:service/<cluster>/<service>`).
pub fn split_service_arn(arn: &str) -> Option<(String, String)> {
    let rest = arn.split_once(":service/")?.1;
    let (cluster, service) = rest.split_once('/')?;
    Some((cluster.to_string(), service.to_string()))
}

/// Traffic-shifting strategy (`BLUE_GREEN`, `CANARY`, `LINEAR`) of the
/// ECS services of a template, if any: what `svc deploy` follows.
pub fn shifting_strategy(template: &serde_json::Value) -> Option<String> {
    template["Resources"].as_object()?.values().filter(|r| r["Type"] == "AWS::ECS::Service").find_map(|r| {
        let s = r["Properties"]["DeploymentConfiguration"]["Strategy"].as_str()?;
        (s != "ROLLING").then(|| s.to_string())
    })
}

/// Reads a `DescribeServiceDeployments` response in its JSON form (as the
/// AWS CLI prints it): recorded responses in tests.
pub fn deployments_from_json(output: &serde_json::Value) -> Vec<ServiceDeployment> {
    use serde_json::Value;
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    output["serviceDeployments"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| ServiceDeployment {
            arn: text(d, "serviceDeploymentArn").unwrap_or_default(),
            status: text(d, "status").unwrap_or_default(),
            status_reason: text(d, "statusReason"),
            stage: text(d, "lifecycleStage"),
            target_revision: text(&d["targetServiceRevision"], "arn"),
            source_revisions: d["sourceServiceRevisions"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| text(r, "arn"))
                .collect(),
            production_percent: d["targetServiceRevision"]["requestedProductionTrafficWeight"].as_f64(),
            test_percent: d["targetServiceRevision"]["requestedTestTrafficWeight"].as_f64(),
            rollback_reason: text(&d["rollback"], "reason"),
            triggered_alarms: d["alarms"]["triggeredAlarmNames"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|a| a.as_str().map(str::to_string))
                .collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    //! Recorded `DescribeServiceDeployments` responses, one per poll,
    //! replayed at the trait boundary.
    use super::*;
    use std::sync::Mutex;

    /// A service whose deployment answers one recorded response per poll.
    struct Recorded {
        polls: Mutex<Vec<ServiceDeployment>>,
        calls: Mutex<Vec<String>>,
        /// Revision → task definition, for DescribeServiceRevisions.
        task_definitions: Vec<(String, String)>,
    }

    impl Recorded {
        fn new(name: &str) -> Self {
            let path = format!("{}/tests/service-deployments/{name}.json", env!("CARGO_MANIFEST_DIR"));
            let responses: Vec<serde_json::Value> =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            let polls = responses.iter().flat_map(deployments_from_json).collect();
            Recorded { polls: Mutex::new(polls), calls: Mutex::default(), task_definitions: Vec::new() }
        }
        fn log(&self, call: String) {
            self.calls.lock().unwrap().push(call);
        }
        fn calls(&self) -> Vec<String> {
            self.calls.lock().unwrap().clone()
        }
    }

    impl ServiceDeploymentsApi for &Recorded {
        async fn list(&self, _: &str, _: &str) -> Result<Vec<String>, AwsError> {
            self.log("ListServiceDeployments".into());
            Ok(self.polls.lock().unwrap().first().map(|d| d.arn.clone()).into_iter().collect())
        }
        async fn describe(&self, _: &str) -> Result<Option<ServiceDeployment>, AwsError> {
            self.log("DescribeServiceDeployments".into());
            let mut polls = self.polls.lock().unwrap();
            Ok(if polls.len() > 1 { Some(polls.remove(0)) } else { polls.first().cloned() })
        }
        async fn stop_with_rollback(&self, arn: &str) -> Result<(), AwsError> {
            self.log(format!("StopServiceDeployment ROLLBACK {}", arn.rsplit('/').next().unwrap_or_default()));
            Ok(())
        }
        async fn revision_task_definition(&self, revision: &str) -> Result<Option<String>, AwsError> {
            self.log("DescribeServiceRevisions".into());
            Ok(self.task_definitions.iter().find(|(r, _)| r == revision).map(|(_, t)| t.clone()))
        }
        async fn deploy_task_definition(&self, _: &str, _: &str, task_definition: &str) -> Result<(), AwsError> {
            self.log(format!("UpdateService {task_definition}"));
            Ok(())
        }
    }

    const POLL: Duration = Duration::from_millis(1);
    const TIMEOUT: Duration = Duration::from_secs(5);

    fn stages(seen: &[ServiceDeployment]) -> Vec<String> {
        seen.iter()
            .map(|d| {
                format!(
                    "{} {} {}",
                    d.status,
                    d.stage.as_deref().unwrap_or("-"),
                    d.production_percent.map(|p| format!("{p}%")).unwrap_or_else(|| "-".into())
                )
            })
            .collect()
    }

    #[tokio::test]
    async fn a_successful_blue_green_is_followed_stage_by_stage() {
        let ecs = Recorded::new("blue-green-success");
        let mut seen = Vec::new();
        let ending = follow(&&ecs, "cluster", "web", POLL, TIMEOUT, &mut |d| seen.push(d.clone())).await.unwrap();
        assert!(matches!(ending, Ending::Succeeded(_)), "{ending:?}");
        assert_eq!(
            stages(&seen),
            [
                "PENDING RECONCILE_SERVICE -",
                "IN_PROGRESS SCALE_UP 0%",
                "IN_PROGRESS TEST_TRAFFIC_SHIFT 0%",
                "IN_PROGRESS PRODUCTION_TRAFFIC_SHIFT 100%",
                "IN_PROGRESS BAKE_TIME 100%",
                "SUCCESSFUL CLEAN_UP 100%",
            ],
            "an unchanged poll (the second BAKE_TIME) is not repeated"
        );
        assert_eq!(seen[2].test_percent, Some(100.0), "test traffic reaches the new revision first");
    }

    #[tokio::test]
    async fn a_canary_rolled_back_by_an_alarm_reports_the_alarm() {
        let ecs = Recorded::new("canary-alarm-rollback");
        let mut seen = Vec::new();
        let ending = follow(&&ecs, "cluster", "web", POLL, TIMEOUT, &mut |d| seen.push(d.clone())).await.unwrap();
        let Ending::RolledBack(d) = ending else { panic!("expected a rollback, got {ending:?}") };
        assert_eq!(
            d.rollback_cause(),
            "alarm chat-test-web-CopilotRollbackCPUAlarm fired; Service deployment rolled back because of alarm chat-test-web-CopilotRollbackCPUAlarm"
        );
        assert_eq!(stages(&seen)[1], "IN_PROGRESS PRODUCTION_TRAFFIC_SHIFT 10%", "the canary share");
        assert!(seen.iter().any(|d| d.status == "ROLLBACK_IN_PROGRESS"));
    }

    #[tokio::test]
    async fn a_rollback_requested_by_the_user_stops_the_deployment_in_progress() {
        let ecs = Recorded::new("user-rollback");
        let mut seen = Vec::new();
        let (action, ending) =
            rollback(&&ecs, "cluster", "web", POLL, TIMEOUT, &mut |d| seen.push(d.clone())).await.unwrap();
        assert!(matches!(&action, RollbackAction::StoppedInProgress { arn } if arn.ends_with("/us1")), "{action:?}");
        let Ending::RolledBack(d) = ending else { panic!("expected a rollback, got {ending:?}") };
        assert!(d.rollback_cause().contains("StopServiceDeployment request"), "{}", d.rollback_cause());
        let calls = ecs.calls();
        assert_eq!(
            calls.iter().filter(|c| c.starts_with("StopServiceDeployment ROLLBACK us1")).count(),
            1,
            "{calls:?}"
        );
        assert!(!calls.iter().any(|c| c.starts_with("UpdateService")), "{calls:?}");
    }

    #[tokio::test]
    async fn after_a_finished_deployment_rollback_returns_to_the_previous_revision() {
        let mut ecs = Recorded::new("blue-green-success");
        let last = ecs.polls.lock().unwrap().pop().unwrap();
        *ecs.polls.lock().unwrap() = vec![last.clone()];
        ecs.task_definitions = vec![(last.source_revisions[0].clone(), "chat-test-web:6".into())];
        let (action, ending) = rollback(&&ecs, "cluster", "web", POLL, TIMEOUT, &mut |_| {}).await.unwrap();
        assert_eq!(action, RollbackAction::PreviousRevision { task_definition: "chat-test-web:6".into() });
        assert!(matches!(ending, Ending::Succeeded(_)));
        assert!(ecs.calls().contains(&"UpdateService chat-test-web:6".to_string()), "{:?}", ecs.calls());
        assert!(!ecs.calls().iter().any(|c| c.starts_with("StopServiceDeployment")));
    }

    #[test]
    fn service_arns_and_strategies() {
        let arn = "arn:aws:ecs:us-west-2:123456789012:service/chat-test-Cluster-Ab12/chat-test-web-Service-Cd34";
        assert_eq!(
            split_service_arn(arn),
            Some(("chat-test-Cluster-Ab12".into(), "chat-test-web-Service-Cd34".into()))
        );
        assert_eq!(split_service_arn("chat-test-web"), None);
        let template = serde_json::json!({"Resources": {"Service": {"Type": "AWS::ECS::Service",
            "Properties": {"DeploymentConfiguration": {"Strategy": "CANARY"}}}}});
        assert_eq!(shifting_strategy(&template).as_deref(), Some("CANARY"));
        assert_eq!(shifting_strategy(&serde_json::json!({"Resources": {}})), None);
    }

    #[tokio::test]
    async fn nothing_to_roll_back_to_says_so() {
        let ecs = Recorded::new("blue-green-success");
        let last = ecs.polls.lock().unwrap().pop().unwrap();
        *ecs.polls.lock().unwrap() = vec![last];
        let err = rollback(&&ecs, "cluster", "web", POLL, TIMEOUT, &mut |_| {}).await.unwrap_err();
        assert!(err.to_string().contains("no revision before"), "{err}");
    }
}
