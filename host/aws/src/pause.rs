//! `svc pause` / `svc resume`: a Request-Driven Web Service's App Runner
//! service is paused (no instances, no charge for compute) and resumed
//! through App Runner's PauseService / ResumeService, as Copilot does.

use crate::error::{AwsError, AwsErrorKind};
use std::time::Duration;

/// The stack output of a Request-Driven Web Service holding its App Runner service's ARN.
pub const SERVICE_ARN_OUTPUT: &str = "ServiceArn";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Pause,
    Resume,
}

impl Action {
    pub fn verb(self) -> &'static str {
        match self {
            Action::Pause => "pause",
            Action::Resume => "resume",
        }
    }

    /// The status App Runner settles in when the action is done.
    pub fn settled(self) -> &'static str {
        match self {
            Action::Pause => "PAUSED",
            Action::Resume => "RUNNING",
        }
    }
}

/// The App Runner calls of pause and resume.
#[allow(async_fn_in_trait)]
pub trait AppRunnerApi {
    async fn pause(&self, arn: &str) -> Result<(), AwsError>;
    async fn resume(&self, arn: &str) -> Result<(), AwsError>;
    /// The service's status (`RUNNING`, `PAUSED`, `OPERATION_IN_PROGRESS`, ...).
    async fn status(&self, arn: &str) -> Result<String, AwsError>;
}

pub struct AppRunner {
    client: aws_sdk_apprunner::Client,
}

impl AppRunner {
    pub fn new(client: aws_sdk_apprunner::Client) -> Self {
        AppRunner { client }
    }
}

impl AppRunnerApi for AppRunner {
    async fn pause(&self, arn: &str) -> Result<(), AwsError> {
        self.client
            .pause_service()
            .service_arn(arn)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("apprunner:PauseService", Some(arn), e))?;
        Ok(())
    }

    async fn resume(&self, arn: &str) -> Result<(), AwsError> {
        self.client
            .resume_service()
            .service_arn(arn)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("apprunner:ResumeService", Some(arn), e))?;
        Ok(())
    }

    async fn status(&self, arn: &str) -> Result<String, AwsError> {
        let out = self
            .client
            .describe_service()
            .service_arn(arn)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("apprunner:DescribeService", Some(arn), e))?;
        Ok(out.service().map(|s| s.status().as_str().to_string()).unwrap_or_default())
    }
}

/// Pauses or resumes the service and waits until App Runner has settled;
/// returns the status it settled in.
pub async fn run<A: AppRunnerApi>(
    api: &A,
    arn: &str,
    action: Action,
    poll: Duration,
    limit: Duration,
) -> Result<String, AwsError> {
    match action {
        Action::Pause => api.pause(arn).await?,
        Action::Resume => api.resume(arn).await?,
    }
    let started = tokio::time::Instant::now();
    loop {
        let status = api.status(arn).await?;
        if status != "OPERATION_IN_PROGRESS" {
            if status != action.settled() {
                return Err(AwsError::new(
                    "apprunner:DescribeService",
                    Some(arn),
                    AwsErrorKind::Other,
                    format!("the service is {status} after the {} operation", action.verb()),
                ));
            }
            return Ok(status);
        }
        if started.elapsed() >= limit {
            return Err(AwsError::new(
                "apprunner:DescribeService",
                Some(arn),
                AwsErrorKind::Other,
                format!(
                    "the {} operation was still in progress after {} s; it goes on in App Runner",
                    action.verb(),
                    limit.as_secs()
                ),
            ));
        }
        tokio::time::sleep(poll).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    struct Fake {
        statuses: Mutex<Vec<&'static str>>,
        calls: Mutex<Vec<String>>,
    }

    impl AppRunnerApi for Fake {
        async fn pause(&self, arn: &str) -> Result<(), AwsError> {
            self.calls.lock().unwrap().push(format!("pause {arn}"));
            Ok(())
        }
        async fn resume(&self, arn: &str) -> Result<(), AwsError> {
            self.calls.lock().unwrap().push(format!("resume {arn}"));
            Ok(())
        }
        async fn status(&self, _: &str) -> Result<String, AwsError> {
            let mut s = self.statuses.lock().unwrap();
            Ok(if s.len() > 1 { s.remove(0) } else { s[0] }.to_string())
        }
    }

    #[tokio::test]
    async fn waits_for_the_operation_to_settle() {
        let fake = Fake { statuses: Mutex::new(vec!["OPERATION_IN_PROGRESS", "PAUSED"]), calls: Mutex::default() };
        let status = run(&fake, "arn", Action::Pause, Duration::ZERO, Duration::from_secs(5)).await.unwrap();
        assert_eq!(status, "PAUSED");
        assert_eq!(*fake.calls.lock().unwrap(), ["pause arn"]);
    }

    #[tokio::test]
    async fn an_operation_that_fails_back_is_an_error() {
        let fake = Fake { statuses: Mutex::new(vec!["RUNNING"]), calls: Mutex::default() };
        let err = run(&fake, "arn", Action::Pause, Duration::ZERO, Duration::from_secs(5)).await.unwrap_err();
        assert!(err.message.contains("RUNNING after the pause"), "{err:?}");
    }
}
