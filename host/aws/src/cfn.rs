//! The CloudFormation calls ferry makes, behind a trait: the real client
//! here, fakes in tests for failures an emulator cannot produce.

use crate::error::{AwsError, AwsErrorKind};
use crate::guard::ResourceChange;
use aws_sdk_cloudformation::types::{Capability, ChangeSetType, Parameter, Tag};
use indexmap::IndexMap;

/// A stack as CloudFormation describes it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StackState {
    pub name: String,
    pub id: String,
    pub status: String,
    pub status_reason: Option<String>,
    pub parameters: IndexMap<String, String>,
    pub tags: IndexMap<String, String>,
    pub outputs: IndexMap<String, String>,
}

impl StackState {
    /// Still changing: another deploy (or a rollback) is running. Every
    /// settled status ends in `_COMPLETE` or `_FAILED`; anything else (the
    /// `_IN_PROGRESS` family, or a status this build does not know, such as
    /// an emulator's `CREATE_PENDING`) is taken as still changing, so no
    /// deploy judges a stack that is not finished.
    pub fn in_progress(&self) -> bool {
        !settled(&self.status)
    }

    /// Something is running on the stack: in progress, except the
    /// `REVIEW_IN_PROGRESS` of a create change set never executed, which
    /// nothing will ever finish.
    pub fn busy(&self) -> bool {
        self.in_progress() && self.status != "REVIEW_IN_PROGRESS"
    }
}

/// A stack status nothing is changing any more: every settled status ends in
/// `_COMPLETE` or `_FAILED`.
pub fn settled(status: &str) -> bool {
    status.ends_with("_COMPLETE") || status.ends_with("_FAILED")
}

/// One stack event.
#[derive(Debug, Clone, PartialEq)]
pub struct StackEvent {
    pub event_id: String,
    pub logical_id: String,
    pub resource_type: String,
    pub status: String,
    pub reason: Option<String>,
}

impl StackEvent {
    pub fn failed(&self) -> bool {
        self.status.ends_with("_FAILED")
    }
}

/// One resource of a stack.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StackResource {
    pub logical_id: String,
    pub physical_id: String,
    pub resource_type: String,
    pub status: String,
}

/// What a change set turned out to be.
#[derive(Debug, Clone, PartialEq)]
pub enum ChangeSetStatus {
    Pending,
    Ready,
    /// CloudFormation found nothing to change.
    Empty,
    Failed(String),
}

/// Inputs of a change set.
#[derive(Debug, Clone)]
pub struct ChangeSetRequest {
    pub stack: String,
    pub name: String,
    pub create: bool,
    pub template_body: String,
    pub parameters: IndexMap<String, String>,
    pub tags: IndexMap<String, String>,
    pub description: String,
    /// Leave a failed create or update as it is (`--no-rollback`).
    pub disable_rollback: bool,
}

/// An existing resource a change set brings under a stack (`IMPORT`).
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceImport {
    pub logical_id: String,
    pub resource_type: String,
    /// The resource's primary identifier, e.g. `RepositoryName` → `chat/api`.
    pub identifier: IndexMap<String, String>,
}

/// The CloudFormation operations ferry uses.
#[allow(async_fn_in_trait)]
pub trait CloudFormationApi {
    async fn describe_stack(&self, stack: &str) -> Result<Option<StackState>, AwsError>;
    async fn get_template(&self, stack: &str) -> Result<String, AwsError>;
    /// Creates a new stack directly (see [`crate::deploy`] for why creates skip change sets).
    async fn create_stack(&self, request: &ChangeSetRequest) -> Result<(), AwsError>;
    async fn create_change_set(&self, request: &ChangeSetRequest) -> Result<(), AwsError>;
    /// An `IMPORT` change set: `request`'s template is the stack's own plus
    /// the `imports`, which must exist already.
    async fn create_import_change_set(
        &self,
        request: &ChangeSetRequest,
        imports: &[ResourceImport],
    ) -> Result<(), AwsError> {
        let _ = imports;
        Err(AwsError::new(
            "cloudformation:CreateChangeSet",
            Some(&request.stack),
            AwsErrorKind::Invalid,
            "this CloudFormation API imports no resources",
        ))
    }
    async fn describe_change_set(&self, stack: &str, name: &str) -> Result<ChangeSetStatus, AwsError>;
    /// Every resource change of a ready change set (all pages), for the
    /// replacement guard ([`crate::guard`]).
    async fn change_set_changes(&self, stack: &str, name: &str) -> Result<Vec<ResourceChange>, AwsError>;
    async fn execute_change_set(&self, stack: &str, name: &str) -> Result<(), AwsError>;
    /// Executes a change set and leaves the stack as it is if the update
    /// fails (`--no-rollback`); an API without that option executes it as usual.
    async fn execute_change_set_without_rollback(&self, stack: &str, name: &str) -> Result<(), AwsError> {
        self.execute_change_set(stack, name).await
    }
    async fn delete_change_set(&self, stack: &str, name: &str) -> Result<(), AwsError>;
    /// Events, newest first.
    async fn stack_events(&self, stack: &str) -> Result<Vec<StackEvent>, AwsError>;
    async fn delete_stack(&self, stack: &str) -> Result<(), AwsError>;
    async fn cancel_update(&self, stack: &str) -> Result<(), AwsError>;
}

/// The real thing.
pub struct Cfn {
    client: aws_sdk_cloudformation::Client,
}

impl Cfn {
    pub fn new(client: aws_sdk_cloudformation::Client) -> Self {
        Cfn { client }
    }

    pub fn client(&self) -> &aws_sdk_cloudformation::Client {
        &self.client
    }

    /// The resources of a stack: logical ID, physical ID, type, status.
    pub async fn stack_resources(&self, stack: &str) -> Result<Vec<StackResource>, AwsError> {
        let out = self
            .client
            .describe_stack_resources()
            .stack_name(stack)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("cloudformation:DescribeStackResources", Some(stack), e))?;
        Ok(out
            .stack_resources()
            .iter()
            .map(|r| StackResource {
                logical_id: r.logical_resource_id().unwrap_or_default().to_string(),
                physical_id: r.physical_resource_id().unwrap_or_default().to_string(),
                resource_type: r.resource_type().unwrap_or_default().to_string(),
                status: r.resource_status().map(|s| s.as_str().to_string()).unwrap_or_default(),
            })
            .collect())
    }
}

fn not_found(err: &AwsError) -> bool {
    err.kind == AwsErrorKind::NotFound
}

impl CloudFormationApi for Cfn {
    async fn describe_stack(&self, stack: &str) -> Result<Option<StackState>, AwsError> {
        let out = match self.client.describe_stacks().stack_name(stack).send().await {
            Ok(out) => out,
            Err(e) => {
                let err = AwsError::from_sdk("cloudformation:DescribeStacks", Some(stack), e);
                return if not_found(&err) { Ok(None) } else { Err(err) };
            }
        };
        let Some(s) = out.stacks().first() else { return Ok(None) };
        if s.stack_status().map(|st| st.as_str()) == Some("DELETE_COMPLETE") {
            return Ok(None);
        }
        Ok(Some(StackState {
            name: s.stack_name().unwrap_or(stack).to_string(),
            id: s.stack_id().unwrap_or_default().to_string(),
            status: s.stack_status().map(|st| st.as_str().to_string()).unwrap_or_default(),
            status_reason: s.stack_status_reason().map(str::to_string),
            parameters: s
                .parameters()
                .iter()
                .map(|p| {
                    (
                        p.parameter_key().unwrap_or_default().to_string(),
                        p.parameter_value().unwrap_or_default().to_string(),
                    )
                })
                .collect(),
            tags: s
                .tags()
                .iter()
                .map(|t| (t.key().unwrap_or_default().to_string(), t.value().unwrap_or_default().to_string()))
                .collect(),
            outputs: s
                .outputs()
                .iter()
                .map(|o| {
                    (o.output_key().unwrap_or_default().to_string(), o.output_value().unwrap_or_default().to_string())
                })
                .collect(),
        }))
    }

    async fn get_template(&self, stack: &str) -> Result<String, AwsError> {
        let out = self
            .client
            .get_template()
            .stack_name(stack)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("cloudformation:GetTemplate", Some(stack), e))?;
        Ok(out.template_body().unwrap_or_default().to_string())
    }

    async fn create_stack(&self, r: &ChangeSetRequest) -> Result<(), AwsError> {
        let mut call = self
            .client
            .create_stack()
            .stack_name(&r.stack)
            .template_body(&r.template_body)
            .capabilities(Capability::CapabilityIam)
            .capabilities(Capability::CapabilityNamedIam)
            .capabilities(Capability::CapabilityAutoExpand);
        if r.disable_rollback {
            call = call.disable_rollback(true);
        }
        for (k, v) in &r.parameters {
            call = call.parameters(Parameter::builder().parameter_key(k).parameter_value(v).build());
        }
        for (k, v) in &r.tags {
            call = call.tags(Tag::builder().key(k).value(v).build());
        }
        call.send().await.map_err(|e| AwsError::from_sdk("cloudformation:CreateStack", Some(&r.stack), e))?;
        Ok(())
    }

    async fn create_change_set(&self, r: &ChangeSetRequest) -> Result<(), AwsError> {
        let mut call = self
            .client
            .create_change_set()
            .stack_name(&r.stack)
            .change_set_name(&r.name)
            .change_set_type(if r.create { ChangeSetType::Create } else { ChangeSetType::Update })
            .template_body(&r.template_body)
            .description(&r.description)
            .capabilities(Capability::CapabilityIam)
            .capabilities(Capability::CapabilityNamedIam)
            .capabilities(Capability::CapabilityAutoExpand);
        for (k, v) in &r.parameters {
            call = call.parameters(Parameter::builder().parameter_key(k).parameter_value(v).build());
        }
        for (k, v) in &r.tags {
            call = call.tags(Tag::builder().key(k).value(v).build());
        }
        call.send().await.map_err(|e| AwsError::from_sdk("cloudformation:CreateChangeSet", Some(&r.stack), e))?;
        Ok(())
    }

    async fn create_import_change_set(&self, r: &ChangeSetRequest, imports: &[ResourceImport]) -> Result<(), AwsError> {
        let mut call = self
            .client
            .create_change_set()
            .stack_name(&r.stack)
            .change_set_name(&r.name)
            .change_set_type(ChangeSetType::Import)
            .template_body(&r.template_body)
            .description(&r.description)
            .capabilities(Capability::CapabilityIam)
            .capabilities(Capability::CapabilityNamedIam);
        for (k, v) in &r.parameters {
            call = call.parameters(Parameter::builder().parameter_key(k).parameter_value(v).build());
        }
        for import in imports {
            let mut item = aws_sdk_cloudformation::types::ResourceToImport::builder()
                .resource_type(&import.resource_type)
                .logical_resource_id(&import.logical_id);
            for (k, v) in &import.identifier {
                item = item.resource_identifier(k, v);
            }
            call = call.resources_to_import(item.build());
        }
        call.send().await.map_err(|e| AwsError::from_sdk("cloudformation:CreateChangeSet", Some(&r.stack), e))?;
        Ok(())
    }

    async fn describe_change_set(&self, stack: &str, name: &str) -> Result<ChangeSetStatus, AwsError> {
        let out = self
            .client
            .describe_change_set()
            .stack_name(stack)
            .change_set_name(name)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("cloudformation:DescribeChangeSet", Some(stack), e))?;
        let status = out.status().map(|s| s.as_str().to_string()).unwrap_or_default();
        let reason = out.status_reason().unwrap_or_default().to_string();
        Ok(match status.as_str() {
            "CREATE_COMPLETE"
                if out.changes().is_empty() && out.execution_status().is_none_or(|e| e.as_str() != "AVAILABLE") =>
            {
                ChangeSetStatus::Empty
            }
            "CREATE_COMPLETE" => ChangeSetStatus::Ready,
            "FAILED" if is_no_change(&reason) => ChangeSetStatus::Empty,
            "FAILED" => ChangeSetStatus::Failed(reason),
            _ => ChangeSetStatus::Pending,
        })
    }

    async fn change_set_changes(&self, stack: &str, name: &str) -> Result<Vec<ResourceChange>, AwsError> {
        let mut changes = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let out = self
                .client
                .describe_change_set()
                .stack_name(stack)
                .change_set_name(name)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("cloudformation:DescribeChangeSet", Some(stack), e))?;
            for rc in out.changes().iter().filter_map(|c| c.resource_change()) {
                changes.push(ResourceChange {
                    logical_id: rc.logical_resource_id().unwrap_or_default().to_string(),
                    resource_type: rc.resource_type().unwrap_or_default().to_string(),
                    action: rc.action().map(|a| a.as_str().to_string()).unwrap_or_default(),
                    replacement: rc.replacement().map(|r| r.as_str().to_string()),
                    recreating: rc
                        .details()
                        .iter()
                        .filter_map(|d| d.target())
                        .filter_map(|t| {
                            let how = t.requires_recreation()?.as_str().to_string();
                            let name = t
                                .name()
                                .map(str::to_string)
                                .or_else(|| t.attribute().map(|a| a.as_str().to_string()))?;
                            (how != "Never").then_some((name, how))
                        })
                        .collect(),
                });
            }
            match out.next_token() {
                Some(next) if !next.is_empty() => token = Some(next.to_string()),
                _ => return Ok(changes),
            }
        }
    }

    async fn execute_change_set(&self, stack: &str, name: &str) -> Result<(), AwsError> {
        self.client
            .execute_change_set()
            .stack_name(stack)
            .change_set_name(name)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("cloudformation:ExecuteChangeSet", Some(stack), e))?;
        Ok(())
    }

    async fn execute_change_set_without_rollback(&self, stack: &str, name: &str) -> Result<(), AwsError> {
        self.client
            .execute_change_set()
            .stack_name(stack)
            .change_set_name(name)
            .disable_rollback(true)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("cloudformation:ExecuteChangeSet", Some(stack), e))?;
        Ok(())
    }

    async fn delete_change_set(&self, stack: &str, name: &str) -> Result<(), AwsError> {
        self.client
            .delete_change_set()
            .stack_name(stack)
            .change_set_name(name)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("cloudformation:DeleteChangeSet", Some(stack), e))?;
        Ok(())
    }

    async fn stack_events(&self, stack: &str) -> Result<Vec<StackEvent>, AwsError> {
        let out = self
            .client
            .describe_stack_events()
            .stack_name(stack)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("cloudformation:DescribeStackEvents", Some(stack), e))?;
        Ok(out
            .stack_events()
            .iter()
            .map(|e| StackEvent {
                event_id: e.event_id().unwrap_or_default().to_string(),
                logical_id: e.logical_resource_id().unwrap_or_default().to_string(),
                resource_type: e.resource_type().unwrap_or_default().to_string(),
                status: e.resource_status().map(|s| s.as_str().to_string()).unwrap_or_default(),
                reason: e.resource_status_reason().map(str::to_string),
            })
            .collect())
    }

    async fn delete_stack(&self, stack: &str) -> Result<(), AwsError> {
        self.client
            .delete_stack()
            .stack_name(stack)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("cloudformation:DeleteStack", Some(stack), e))?;
        Ok(())
    }

    async fn cancel_update(&self, stack: &str) -> Result<(), AwsError> {
        self.client
            .cancel_update_stack()
            .stack_name(stack)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("cloudformation:CancelUpdateStack", Some(stack), e))?;
        Ok(())
    }
}

/// CloudFormation's ways of saying a change set has nothing to do.
pub fn is_no_change(reason: &str) -> bool {
    reason.contains("didn't contain changes") || reason.contains("No updates are to be performed")
}
