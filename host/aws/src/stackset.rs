//! The application's StackSet (`<app>-infrastructure`): one stack instance
//! per region the app's environments live in, updated when workloads are
//! added so each has its ECR repository.

use crate::cfn::Cfn;
use crate::error::{AwsError, AwsErrorKind};
use aws_sdk_cloudformation::types::{Capability, StackSetOperationStatus, Tag};
use indexmap::IndexMap;
use std::time::Duration;

/// A StackSet as ferry needs to know it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StackSetState {
    pub template_body: String,
    pub instances: Vec<StackInstance>,
}

/// One stack instance: where it is and the stack that holds its resources.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StackInstance {
    pub account: String,
    pub region: String,
    pub stack_id: Option<String>,
    /// `CURRENT`, or `OUTDATED`/`INOPERABLE` after an operation failed on it.
    pub status: String,
}

impl StackInstance {
    /// The instance missed an operation: its stack may lack resources the
    /// StackSet's template has.
    pub fn needs_sync(&self) -> bool {
        !self.status.is_empty() && self.status != "CURRENT"
    }
}

/// The StackSet operations ferry uses.
#[allow(async_fn_in_trait)]
pub trait StackSetApi {
    async fn describe_stack_set(&self, name: &str) -> Result<Option<StackSetState>, AwsError>;
    async fn create_stack_set(
        &self,
        name: &str,
        template: &str,
        admin_role_arn: &str,
        execution_role: &str,
        tags: &IndexMap<String, String>,
    ) -> Result<(), AwsError>;
    /// Starts an update; returns the operation id.
    async fn update_stack_set(&self, name: &str, template: &str) -> Result<String, AwsError>;
    async fn create_stack_instances(&self, name: &str, account: &str, region: &str) -> Result<String, AwsError>;
    async fn delete_stack_instances(&self, name: &str, account: &str, region: &str) -> Result<String, AwsError>;
    async fn delete_stack_set(&self, name: &str) -> Result<(), AwsError>;
    /// `None` while running; `Ok(())` when it succeeded.
    async fn operation_done(&self, name: &str, operation: &str) -> Result<Option<Result<(), String>>, AwsError>;
}

impl StackSetApi for Cfn {
    async fn describe_stack_set(&self, name: &str) -> Result<Option<StackSetState>, AwsError> {
        let out = match self.client().describe_stack_set().stack_set_name(name).send().await {
            Ok(out) => out,
            Err(e) => {
                let err = AwsError::from_sdk("cloudformation:DescribeStackSet", Some(name), e);
                let missing =
                    err.kind == AwsErrorKind::NotFound || err.code.as_deref() == Some("StackSetNotFoundException");
                return if missing { Ok(None) } else { Err(err) };
            }
        };
        let Some(set) = out.stack_set() else { return Ok(None) };
        if set.status().is_some_and(|s| s.as_str() == "DELETED") {
            return Ok(None);
        }
        let instances = self
            .client()
            .list_stack_instances()
            .stack_set_name(name)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("cloudformation:ListStackInstances", Some(name), e))?;
        Ok(Some(StackSetState {
            template_body: set.template_body().unwrap_or_default().to_string(),
            instances: instances
                .summaries()
                .iter()
                .map(|i| StackInstance {
                    account: i.account().unwrap_or_default().to_string(),
                    region: i.region().unwrap_or_default().to_string(),
                    stack_id: i.stack_id().map(str::to_string),
                    status: i.status().map(|s| s.as_str().to_string()).unwrap_or_default(),
                })
                .collect(),
        }))
    }

    async fn create_stack_set(
        &self,
        name: &str,
        template: &str,
        admin_role_arn: &str,
        execution_role: &str,
        tags: &IndexMap<String, String>,
    ) -> Result<(), AwsError> {
        let mut call = self
            .client()
            .create_stack_set()
            .stack_set_name(name)
            .template_body(template)
            .administration_role_arn(admin_role_arn)
            .execution_role_name(execution_role)
            .capabilities(Capability::CapabilityNamedIam);
        for (k, v) in tags {
            call = call.tags(Tag::builder().key(k).value(v).build());
        }
        call.send().await.map_err(|e| AwsError::from_sdk("cloudformation:CreateStackSet", Some(name), e))?;
        Ok(())
    }

    async fn update_stack_set(&self, name: &str, template: &str) -> Result<String, AwsError> {
        let out = self
            .client()
            .update_stack_set()
            .stack_set_name(name)
            .template_body(template)
            .capabilities(Capability::CapabilityNamedIam)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("cloudformation:UpdateStackSet", Some(name), e))?;
        Ok(out.operation_id().unwrap_or_default().to_string())
    }

    async fn create_stack_instances(&self, name: &str, account: &str, region: &str) -> Result<String, AwsError> {
        let out = self
            .client()
            .create_stack_instances()
            .stack_set_name(name)
            .accounts(account)
            .regions(region)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("cloudformation:CreateStackInstances", Some(name), e))?;
        Ok(out.operation_id().unwrap_or_default().to_string())
    }

    async fn delete_stack_instances(&self, name: &str, account: &str, region: &str) -> Result<String, AwsError> {
        let out = self
            .client()
            .delete_stack_instances()
            .stack_set_name(name)
            .accounts(account)
            .regions(region)
            .retain_stacks(false)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("cloudformation:DeleteStackInstances", Some(name), e))?;
        Ok(out.operation_id().unwrap_or_default().to_string())
    }

    async fn delete_stack_set(&self, name: &str) -> Result<(), AwsError> {
        self.client()
            .delete_stack_set()
            .stack_set_name(name)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("cloudformation:DeleteStackSet", Some(name), e))?;
        Ok(())
    }

    async fn operation_done(&self, name: &str, operation: &str) -> Result<Option<Result<(), String>>, AwsError> {
        let out = self
            .client()
            .describe_stack_set_operation()
            .stack_set_name(name)
            .operation_id(operation)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("cloudformation:DescribeStackSetOperation", Some(name), e))?;
        let Some(op) = out.stack_set_operation() else { return Ok(Some(Ok(()))) };
        Ok(match op.status() {
            Some(StackSetOperationStatus::Succeeded) => Some(Ok(())),
            Some(StackSetOperationStatus::Failed) | Some(StackSetOperationStatus::Stopped) => Some(Err(op
                .status_details()
                .and_then(|d| d.failed_stack_instances_count())
                .map(|n| format!("{n} stack instance(s) failed"))
                .unwrap_or_else(|| format!("operation {}", op.status().map(|s| s.as_str()).unwrap_or("failed"))))),
            _ => None,
        })
    }
}

/// Waits for a StackSet operation to finish.
pub async fn wait_operation<A: StackSetApi>(
    api: &A,
    name: &str,
    operation: &str,
    poll: Duration,
    timeout: Duration,
) -> Result<(), AwsError> {
    let started = tokio::time::Instant::now();
    loop {
        match api.operation_done(name, operation).await? {
            Some(Ok(())) => return Ok(()),
            Some(Err(reason)) => {
                return Err(AwsError::new(
                    "cloudformation:StackSetOperation",
                    Some(name),
                    AwsErrorKind::Other,
                    format!(
                        "StackSet operation {operation} failed: {reason}; see the StackSet's operations in the CloudFormation console"
                    ),
                ));
            }
            None if started.elapsed() > timeout => {
                return Err(AwsError::new(
                    "cloudformation:StackSetOperation",
                    Some(name),
                    AwsErrorKind::Other,
                    format!("StackSet operation {operation} still running after {:?}", started.elapsed()),
                ));
            }
            None => tokio::time::sleep(poll).await,
        }
    }
}

/// Runs a StackSet operation (`start` returns its ID) and waits for it. One
/// operation at a time runs on a StackSet: while another ferry's (or the
/// console's) runs, CloudFormation answers `OperationInProgressException`;
/// this waits its turn (doubling from `poll`, at most 30 s) until `timeout`.
pub async fn run_operation<A: StackSetApi, F: Future<Output = Result<String, AwsError>>>(
    api: &A,
    name: &str,
    poll: Duration,
    timeout: Duration,
    start: impl Fn() -> F,
) -> Result<(), AwsError> {
    let started = tokio::time::Instant::now();
    let mut attempt = 0u32;
    let operation = loop {
        match start().await {
            Ok(operation) => break operation,
            Err(e) if is_operation_in_progress(&e) && started.elapsed() < timeout => {
                attempt += 1;
                tokio::time::sleep(poll.saturating_mul(1 << attempt.min(6)).min(Duration::from_secs(30))).await;
            }
            Err(e) => return Err(e),
        }
    };
    wait_operation(api, name, &operation, poll, timeout).await
}

fn is_operation_in_progress(e: &AwsError) -> bool {
    e.code.as_deref() == Some("OperationInProgressException") || e.message.contains("OperationInProgress")
}
