//! `job run`: a Scheduled Job runs when its Step Functions state machine
//! is started (its schedule's rule does the same); `job run` starts it now,
//! as Copilot does, and can follow the execution to its end.

use crate::error::{AwsError, AwsErrorKind};
use serde::Serialize;
use std::time::Duration;

/// The job stack's output naming its state machine.
pub const STATE_MACHINE_OUTPUT: &str = "StateMachineARN";
/// The resource type to look for when the output is missing.
pub const STATE_MACHINE_TYPE: &str = "AWS::StepFunctions::StateMachine";

/// One execution of the state machine.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Execution {
    pub arn: String,
    /// `RUNNING`, `SUCCEEDED`, `FAILED`, `TIMED_OUT`, `ABORTED`.
    pub status: String,
    pub error: Option<String>,
    pub cause: Option<String>,
}

impl Execution {
    pub fn finished(&self) -> bool {
        self.status != "RUNNING" && self.status != "PENDING_REDRIVE"
    }
}

/// The Step Functions calls of `job run`.
#[allow(async_fn_in_trait)]
pub trait StateMachineApi {
    async fn start(&self, state_machine: &str) -> Result<String, AwsError>;
    async fn describe(&self, execution: &str) -> Result<Execution, AwsError>;
}

pub struct StepFunctions {
    client: aws_sdk_sfn::Client,
}

impl StepFunctions {
    pub fn new(client: aws_sdk_sfn::Client) -> Self {
        StepFunctions { client }
    }
}

impl StateMachineApi for StepFunctions {
    async fn start(&self, state_machine: &str) -> Result<String, AwsError> {
        let out = self
            .client
            .start_execution()
            .state_machine_arn(state_machine)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("states:StartExecution", Some(state_machine), e))?;
        Ok(out.execution_arn().to_string())
    }

    async fn describe(&self, execution: &str) -> Result<Execution, AwsError> {
        let out = self
            .client
            .describe_execution()
            .execution_arn(execution)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("states:DescribeExecution", Some(execution), e))?;
        Ok(Execution {
            arn: out.execution_arn().to_string(),
            status: out.status().as_str().to_string(),
            error: out.error().map(str::to_string),
            cause: out.cause().map(str::to_string),
        })
    }
}

/// Polls an execution until it ends, calling `tick` between polls.
pub async fn follow<A: StateMachineApi>(
    api: &A,
    execution: &str,
    poll: Duration,
    limit: Duration,
    tick: &mut (dyn FnMut(&Execution) + Send),
) -> Result<Execution, AwsError> {
    let started = tokio::time::Instant::now();
    loop {
        let state = api.describe(execution).await?;
        tick(&state);
        if state.finished() {
            return Ok(state);
        }
        if started.elapsed() >= limit {
            return Err(AwsError::new(
                "states:DescribeExecution",
                Some(execution),
                AwsErrorKind::Other,
                format!("the execution was still running after {} s; it goes on in Step Functions", limit.as_secs()),
            ));
        }
        tokio::time::sleep(poll).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    struct Fake(Mutex<Vec<&'static str>>);

    impl StateMachineApi for Fake {
        async fn start(&self, _: &str) -> Result<String, AwsError> {
            Ok("exec".into())
        }
        async fn describe(&self, execution: &str) -> Result<Execution, AwsError> {
            let mut s = self.0.lock().unwrap();
            let status = if s.len() > 1 { s.remove(0) } else { s[0] };
            Ok(Execution {
                arn: execution.into(),
                status: status.into(),
                error: (status == "FAILED").then(|| "States.TaskFailed".into()),
                cause: None,
            })
        }
    }

    #[tokio::test]
    async fn follows_an_execution_to_its_end() {
        let fake = Fake(Mutex::new(vec!["RUNNING", "RUNNING", "FAILED"]));
        let mut seen = Vec::new();
        let end = follow(&fake, "exec", Duration::ZERO, Duration::from_secs(5), &mut |e| seen.push(e.status.clone()))
            .await
            .unwrap();
        assert_eq!(seen, ["RUNNING", "RUNNING", "FAILED"]);
        assert_eq!(end.error.as_deref(), Some("States.TaskFailed"));
    }
}
