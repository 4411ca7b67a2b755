//! Deploying one stack: nothing mutates when nothing changed, updates go
//! through a change set, progress streams as resource events, and a failure
//! names the first resource that failed, why, and how to recover.
//!
//! A new stack is created with `CreateStack` rather than a change set: a
//! create change set can only say "add every resource", costs two more
//! round trips, and an interrupted one leaves a `REVIEW_IN_PROGRESS` husk
//! behind that blocks the next deploy.

use crate::cfn::{ChangeSetRequest, ChangeSetStatus, CloudFormationApi, ResourceImport, StackEvent, StackState};
use crate::error::{AwsError, AwsErrorKind};
use crate::guard::{self, Allowed, GuardedChange};
use indexmap::IndexMap;
use serde_json::Value;
use std::collections::HashSet;
use std::time::Duration;

/// CloudFormation's limit for an inline template body.
pub const MAX_TEMPLATE_BODY: usize = 51_200;

/// A stack to deploy.
#[derive(Debug, Clone)]
pub struct Deployable {
    pub name: String,
    pub template: Value,
    pub parameters: IndexMap<String, String>,
    pub tags: IndexMap<String, String>,
    pub description: String,
}

#[derive(Debug, Clone, Copy)]
pub struct DeployOptions {
    /// How often to poll CloudFormation.
    pub poll: Duration,
    /// Give up waiting after this long (the stack keeps going in AWS).
    pub timeout: Duration,
    /// Deploy even when nothing changed.
    pub force: bool,
}

impl Default for DeployOptions {
    fn default() -> Self {
        DeployOptions { poll: Duration::from_secs(3), timeout: Duration::from_secs(3600), force: false }
    }
}

/// What undoing an interrupted deploy did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Undo {
    /// The change never reached CloudFormation.
    NothingChanged,
    /// The stack this deploy was creating is being deleted.
    Deleting,
    /// The update is cancelled; CloudFormation rolls it back.
    Cancelled,
    /// Too late to undo: the stack is in this status.
    Left(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeployOutcome {
    UpToDate,
    Created,
    Updated,
}

/// Progress of a deploy, for the live view and `--json` event streams.
#[derive(Debug, Clone, PartialEq)]
pub enum DeployEvent {
    /// A stack left over from a failed create is being deleted first.
    DeletingFailedStack {
        stack: String,
    },
    /// The stack is in the middle of an operation this run did not start
    /// (`status`): the deploy waits for it to settle before going on.
    WaitingForOther {
        stack: String,
        status: String,
    },
    ChangeSetCreated {
        stack: String,
        change_set: String,
    },
    /// The call that makes CloudFormation change the stack is about to be
    /// sent (`CreateStack` / `ExecuteChangeSet`). From here an interrupt must
    /// look at the stack, whether or not the answer came back.
    Executing {
        stack: String,
        create: bool,
    },
    /// CloudFormation is now changing the stack; from here an interrupt must
    /// delete (a create) or cancel (an update).
    Started {
        stack: String,
        create: bool,
    },
    Resource {
        stack: String,
        event: StackEvent,
    },
    /// The change set removes or replaces resources that hold state or
    /// traffic, all allowed by `--allow-replacement`: it runs anyway.
    Replacing {
        stack: String,
        changes: Vec<GuardedChange>,
    },
}

/// Why a deploy did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error("the change set for stack {stack} failed: {reason}")]
    ChangeSetFailed { stack: String, reason: String },
    #[error("stack {stack} failed ({status}): resource {logical_id} ({resource_type}) failed: {reason}")]
    ResourceFailed {
        stack: String,
        status: String,
        logical_id: String,
        resource_type: String,
        reason: String,
        recovery: String,
    },
    #[error("stack {stack} ended in {status}{}", reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default())]
    Failed { stack: String, status: String, reason: Option<String>, recovery: String },
    #[error("stack {stack} is still {status} after {waited:?}; ferry stopped waiting, CloudFormation carries on")]
    TimedOut { stack: String, status: String, waited: Duration },
    #[error(
        "the template of stack {stack} is {size} bytes, over CloudFormation's {MAX_TEMPLATE_BODY}-byte limit for inline templates"
    )]
    TemplateTooLarge { stack: String, size: usize },
    #[error(
        "stack {stack} was deployed by Copilot{} and ferry has not adopted it; nothing was changed",
        version.as_deref().map(|v| format!(" {v}")).unwrap_or_default()
    )]
    NotAdopted { stack: String, version: Option<String> },
    #[error(
        "the update of stack {stack} would remove or replace what holds state or traffic; nothing was changed:{}",
        changes.iter().map(|c| format!("\n  - {c}")).collect::<String>()
    )]
    Refused { stack: String, changes: Vec<GuardedChange> },
}

impl ferry_core::Explain for DeployError {
    fn hint(&self) -> Option<String> {
        Some(match self {
            DeployError::Aws(e) => return e.hint_text(),
            DeployError::ChangeSetFailed { .. } => "fix the template or parameters; the stack was not changed".into(),
            DeployError::ResourceFailed { recovery, .. } | DeployError::Failed { recovery, .. } => recovery.clone(),
            DeployError::TimedOut { .. } => {
                "follow it with `ferry svc status`, or cancel it in the CloudFormation console".into()
            }
            DeployError::TemplateTooLarge { .. } => "split resources into addons (copilot/<name>/addons/)".into(),
            DeployError::NotAdopted { .. } => "its custom resources would run their delete handlers and its resources could be replaced: run `ferry adopt --plan` to see what taking it over changes, then `ferry adopt`".into(),
            DeployError::Refused { changes, .. } => format!(
                "a replaced resource is a new one: the old one, its data and its address are deleted. If that is intended, deploy again with `{}` (or `--allow-replacement all`); otherwise undo the manifest change that causes it (`--diff` shows it)",
                guard::allow_flags(changes)
            ),
        })
    }
}

/// How long polls may fail in a row (throttling, 5xx, network) before a
/// wait gives up on AWS.
const TRANSIENT_DEADLINE: Duration = Duration::from_secs(300);

/// An error worth polling again for: CloudFormation is still working,
/// only this read failed.
fn is_transient(e: &AwsError) -> bool {
    matches!(e.kind, AwsErrorKind::Throttled | AwsErrorKind::Unreachable)
        || e.code.as_deref().is_some_and(|c| {
            matches!(
                c,
                "InternalFailure" | "InternalError" | "ServiceUnavailable" | "RequestTimeout" | "RequestExpired"
            )
        })
}

/// The wait after the `attempt`-th failed poll in a row: doubling from the
/// poll interval, at most 30 s.
fn backoff(poll: Duration, attempt: u32) -> Duration {
    poll.saturating_mul(1 << attempt.min(6)).min(Duration::from_secs(30))
}

/// Deploys stacks through a [`CloudFormationApi`].
pub struct Deployer<C> {
    api: C,
    options: DeployOptions,
    allowed: Allowed,
    adopting: bool,
    no_rollback: bool,
    detach: bool,
    /// Where retained log groups are looked up (see
    /// [`Deployer::import_retained_log_groups`]).
    retained_log_groups: Option<aws_sdk_cloudwatchlogs::Client>,
}

impl<C: CloudFormationApi> Deployer<C> {
    pub fn new(api: C, options: DeployOptions) -> Self {
        Deployer {
            api,
            options,
            allowed: Allowed::default(),
            adopting: false,
            no_rollback: false,
            detach: false,
            retained_log_groups: None,
        }
    }

    /// `--no-rollback`: a failed create or update is left as it is.
    pub fn no_rollback(mut self, no_rollback: bool) -> Self {
        self.no_rollback = no_rollback;
        self
    }

    /// `--detach`: return once CloudFormation has started the change,
    /// with the outcome it is heading for, without waiting for it to finish.
    pub fn detach(mut self, detach: bool) -> Self {
        self.detach = detach;
        self
    }

    /// Lets the removals and replacements `allowed` names through the
    /// replacement guard (by default every one is refused).
    pub fn allow_replacement(mut self, allowed: Allowed) -> Self {
        self.allowed = allowed;
        self
    }

    pub fn api(&self) -> &C {
        &self.api
    }

    /// True when the live stack already has this template, parameters and
    /// tags: read calls only, so an unchanged redeploy mutates nothing.
    fn up_to_date(live: &StackState, body: &str, stack: &Deployable) -> bool {
        // The live stack also lists parameters left to their template
        // defaults; those are covered by comparing the templates.
        let parameters_match = stack.parameters.iter().all(|(k, v)| live.parameters.get(k) == Some(v));
        if !parameters_match || live.tags != stack.tags {
            return false;
        }
        serde_json::from_str::<Value>(body).is_ok_and(|deployed| deployed == stack.template)
    }

    /// Lets this deployer update a stack Copilot deployed (the first step
    /// of `ferry adopt`); without it such an update is refused.
    pub fn adopting(mut self) -> Self {
        self.adopting = true;
        self
    }

    /// Log groups of the template that already exist outside any stack,
    /// because a `DeletionPolicy: Retain` kept them when their stack went (a
    /// workload's log group after `app delete`, or after a first deploy that
    /// rolled back). Creating the stack would fail on "already exists", so a
    /// stack to be created is first created from them (an `IMPORT` change
    /// set) and then updated to the whole template; their logs are kept.
    /// Looked up through `logs` only at the moment of a create, after any
    /// other run's operation was waited out and any failed create deleted,
    /// and only for a template with a retained log group.
    pub fn import_retained_log_groups(mut self, logs: aws_sdk_cloudwatchlogs::Client) -> Self {
        self.retained_log_groups = Some(logs);
        self
    }

    pub async fn deploy(
        &self,
        stack: &Deployable,
        observe: &mut (dyn FnMut(DeployEvent) + Send),
    ) -> Result<DeployOutcome, DeployError> {
        let mut live = self.api.describe_stack(&stack.name).await?;
        if let Some(state) = &live
            && state.busy()
        {
            live = self.wait_for_other(&stack.name, &state.status, observe).await?;
        }
        let adjusted;
        let mut stack = stack;
        if let Some(state) = &live {
            // A create that failed, or a create change set never executed,
            // leaves a stack without resources that can only be deleted.
            let husk = state.status == "ROLLBACK_COMPLETE" || state.status == "REVIEW_IN_PROGRESS";
            if husk {
                observe(DeployEvent::DeletingFailedStack { stack: stack.name.clone() });
                self.api.delete_stack(&stack.name).await?;
                self.wait(&stack.name, &mut HashSet::new(), observe, |s| s.is_none()).await?;
                live = None;
            } else {
                let body = self.api.get_template(&stack.name).await?;
                // A stack Copilot deployed is updated only through `ferry adopt`.
                if !self.adopting {
                    match crate::adopt::before_update(state, &body, stack) {
                        Err(version) => {
                            return Err(DeployError::NotAdopted { stack: stack.name.clone(), version });
                        }
                        Ok(Some(kept)) => {
                            adjusted = kept;
                            stack = &adjusted;
                        }
                        Ok(None) => {}
                    }
                }
                if !self.options.force && Self::up_to_date(state, &body, stack) {
                    return Ok(DeployOutcome::UpToDate);
                }
            }
        }
        let body = serde_json::to_string(&stack.template).unwrap_or_default();
        if body.len() > MAX_TEMPLATE_BODY {
            return Err(DeployError::TemplateTooLarge { stack: stack.name.clone(), size: body.len() });
        }
        let existing = match &self.retained_log_groups {
            Some(logs) if live.is_none() => crate::logs::existing_retained_log_groups(logs, stack).await?,
            _ => Vec::new(),
        };
        let mut imported = false;
        if !existing.is_empty() {
            self.create_from_existing(stack, &existing, observe).await?;
            live = self.api.describe_stack(&stack.name).await?;
            imported = live.is_some();
        }
        let create = live.is_none();
        let mut seen: HashSet<String> = HashSet::new();
        if !create {
            seen.extend(self.api.stack_events(&stack.name).await?.into_iter().map(|e| e.event_id));
        }
        let change_set = format!("ferry-{}", unique_suffix());
        let request = ChangeSetRequest {
            stack: stack.name.clone(),
            name: change_set.clone(),
            create,
            template_body: body,
            parameters: stack.parameters.clone(),
            tags: stack.tags.clone(),
            description: stack.description.clone(),
            disable_rollback: self.no_rollback,
        };
        if create {
            observe(DeployEvent::Executing { stack: stack.name.clone(), create });
            self.api.create_stack(&request).await?;
        } else {
            if !self.change_set(&request, &[]).await? {
                return Ok(DeployOutcome::UpToDate);
            }
            observe(DeployEvent::ChangeSetCreated { stack: stack.name.clone(), change_set: change_set.clone() });
            let guarded = guard::review(&self.api.change_set_changes(&stack.name, &change_set).await?, &self.allowed);
            if guarded.iter().any(|c| !c.allowed) {
                let _ = self.api.delete_change_set(&stack.name, &change_set).await;
                let changes = guarded.into_iter().filter(|c| !c.allowed).collect();
                return Err(DeployError::Refused { stack: stack.name.clone(), changes });
            }
            if !guarded.is_empty() {
                observe(DeployEvent::Replacing { stack: stack.name.clone(), changes: guarded });
            }
            observe(DeployEvent::Executing { stack: stack.name.clone(), create });
            if self.no_rollback {
                self.api.execute_change_set_without_rollback(&stack.name, &change_set).await?;
            } else {
                self.api.execute_change_set(&stack.name, &change_set).await?;
            }
        }
        observe(DeployEvent::Started { stack: stack.name.clone(), create });
        if self.detach {
            return Ok(if create { DeployOutcome::Created } else { DeployOutcome::Updated });
        }
        let done = self.wait(&stack.name, &mut seen, observe, |s| s.is_some_and(|s| !s.in_progress())).await?;
        let state = done.unwrap_or_default();
        match state.status.as_str() {
            "CREATE_COMPLETE" => Ok(DeployOutcome::Created),
            "UPDATE_COMPLETE" if imported => Ok(DeployOutcome::Created),
            "UPDATE_COMPLETE" => Ok(DeployOutcome::Updated),
            _ => Err(self.failure(
                &stack.name,
                &state,
                &failures_of_last_operation(&self.api, &stack.name).await,
                create,
            )),
        }
    }

    /// Creates `stack` from the `existing` resources alone: a template of
    /// just those (with the template's parameters and conditions), imported
    /// by an `IMPORT` change set on a stack that does not exist yet.
    async fn create_from_existing(
        &self,
        stack: &Deployable,
        existing: &[ResourceImport],
        observe: &mut (dyn FnMut(DeployEvent) + Send),
    ) -> Result<(), DeployError> {
        let mut template = serde_json::Map::new();
        for section in ["AWSTemplateFormatVersion", "Parameters", "Conditions", "Mappings"] {
            if let Some(value) = stack.template.get(section) {
                template.insert(section.to_string(), value.clone());
            }
        }
        let resources: serde_json::Map<String, Value> = existing
            .iter()
            .filter_map(|i| Some((i.logical_id.clone(), stack.template["Resources"].get(&i.logical_id)?.clone())))
            .collect();
        template.insert("Resources".into(), Value::Object(resources));
        let request = ChangeSetRequest {
            stack: stack.name.clone(),
            name: format!("ferry-import-{}", unique_suffix()),
            create: true,
            template_body: Value::Object(template).to_string(),
            parameters: stack.parameters.clone(),
            tags: stack.tags.clone(),
            description: stack.description.clone(),
            disable_rollback: false,
        };
        let kept: Vec<&str> = existing.iter().map(|i| i.logical_id.as_str()).collect();
        let recovery = format!(
            "{} stayed as they were; delete the stack {} if it is left, then deploy again",
            kept.join(", "),
            stack.name
        );
        self.run_import(&request, existing, &mut HashSet::new(), observe, recovery).await
    }

    /// Brings existing resources under a deployed stack without creating
    /// them (an `IMPORT` change set): `template` is the stack's own template
    /// with the `imports` added, each with a `DeletionPolicy`. The stack
    /// keeps its parameters and tags.
    pub async fn import(
        &self,
        stack: &str,
        template: &Value,
        imports: &[ResourceImport],
        observe: &mut (dyn FnMut(DeployEvent) + Send),
    ) -> Result<(), DeployError> {
        let Some(mut live) = self.api.describe_stack(stack).await? else {
            return Err(DeployError::Failed {
                stack: stack.to_string(),
                status: "missing".into(),
                reason: Some("there is no stack to import resources into".into()),
                recovery: "deploy again: the stack is created first".into(),
            });
        };
        if live.busy() {
            live = self.wait_for_other(stack, &live.status, observe).await?.unwrap_or_default();
        }
        let mut seen: HashSet<String> = self.api.stack_events(stack).await?.into_iter().map(|e| e.event_id).collect();
        let request = ChangeSetRequest {
            stack: stack.to_string(),
            name: format!("ferry-import-{}", unique_suffix()),
            create: false,
            template_body: serde_json::to_string(template).unwrap_or_default(),
            parameters: live.parameters.clone(),
            tags: live.tags.clone(),
            description: String::new(),
            disable_rollback: false,
        };
        let recovery =
            format!("nothing was imported into {stack}; the resources are unchanged: fix the cause and deploy again");
        self.run_import(&request, imports, &mut seen, observe, recovery).await
    }

    /// Creates, executes and waits out an `IMPORT` change set; `recovery`
    /// is what the error tells the user when the stack does not end
    /// `IMPORT_COMPLETE`.
    async fn run_import(
        &self,
        request: &ChangeSetRequest,
        imports: &[ResourceImport],
        seen: &mut HashSet<String>,
        observe: &mut (dyn FnMut(DeployEvent) + Send),
        recovery: String,
    ) -> Result<(), DeployError> {
        let stack = request.stack.as_str();
        if !self.change_set(request, imports).await? {
            return Ok(());
        }
        observe(DeployEvent::Executing { stack: stack.to_string(), create: request.create });
        self.api.execute_change_set(stack, &request.name).await?;
        observe(DeployEvent::Started { stack: stack.to_string(), create: request.create });
        let done = self.wait(stack, seen, observe, |s| s.is_some_and(|s| !s.in_progress())).await?;
        let state = done.unwrap_or_default();
        if state.status == "IMPORT_COMPLETE" {
            return Ok(());
        }
        let failures = failures_of_last_operation(&self.api, stack).await;
        let cause = failures.iter().find(|e| e.status.ends_with("_FAILED"));
        Err(stack_failure(stack, &state, cause, recovery))
    }

    /// The removals and replacements of state and traffic resources an
    /// update of `stack` would make (`--diff`), allowed or not: a change set
    /// is created, read and deleted. Empty for a stack not deployed yet.
    pub async fn preview(&self, stack: &Deployable) -> Result<Vec<GuardedChange>, DeployError> {
        let Some(live) = self.api.describe_stack(&stack.name).await? else { return Ok(Vec::new()) };
        if live.in_progress() || live.status == "ROLLBACK_COMPLETE" {
            return Ok(Vec::new());
        }
        let request = ChangeSetRequest {
            stack: stack.name.clone(),
            name: format!("ferry-diff-{}", unique_suffix()),
            create: false,
            template_body: serde_json::to_string(&stack.template).unwrap_or_default(),
            parameters: stack.parameters.clone(),
            tags: stack.tags.clone(),
            description: stack.description.clone(),
            disable_rollback: false,
        };
        if !self.change_set(&request, &[]).await? {
            return Ok(Vec::new());
        }
        let changes = self.api.change_set_changes(&stack.name, &request.name).await;
        self.api.delete_change_set(&stack.name, &request.name).await?;
        Ok(guard::review(&changes?, &self.allowed))
    }

    /// Creates the update change set and waits until it is ready to execute
    /// (true) or found nothing to change (false, and it is deleted).
    async fn change_set(&self, request: &ChangeSetRequest, imports: &[ResourceImport]) -> Result<bool, DeployError> {
        let stack = &request.stack;
        let created = if imports.is_empty() {
            self.api.create_change_set(request).await
        } else {
            self.api.create_import_change_set(request, imports).await
        };
        match created {
            Ok(()) => {}
            // `--force` asks for a change set even when the template is the
            // deployed one: an endpoint may refuse it outright instead of
            // answering with an empty change set. Either way: up to date.
            Err(e) if crate::cfn::is_no_change(&e.message) => return Ok(false),
            Err(e) => return Err(e.into()),
        }
        let started = tokio::time::Instant::now();
        loop {
            match self.api.describe_change_set(stack, &request.name).await? {
                ChangeSetStatus::Ready => return Ok(true),
                ChangeSetStatus::Empty => {
                    self.api.delete_change_set(stack, &request.name).await?;
                    return Ok(false);
                }
                ChangeSetStatus::Failed(reason) => {
                    let _ = self.api.delete_change_set(stack, &request.name).await;
                    return Err(DeployError::ChangeSetFailed { stack: stack.clone(), reason });
                }
                ChangeSetStatus::Pending if started.elapsed() > self.options.timeout => {
                    return Err(DeployError::TimedOut {
                        stack: stack.clone(),
                        status: "change set CREATE_PENDING".into(),
                        waited: started.elapsed(),
                    });
                }
                ChangeSetStatus::Pending => tokio::time::sleep(self.options.poll).await,
            }
        }
    }

    /// Undoes an interrupted deploy after its [`DeployEvent::Executing`],
    /// by what the stack really is (the interrupted call may or may not
    /// have reached CloudFormation): a stack this deploy was creating is
    /// deleted, an update in progress is cancelled (CloudFormation rolls it
    /// back), anything else is left and said.
    pub async fn undo(&self, stack: &str, create: bool) -> Result<Undo, AwsError> {
        let Some(state) = self.api.describe_stack(stack).await? else { return Ok(Undo::NothingChanged) };
        if create {
            if state.status == "DELETE_IN_PROGRESS" || state.status == "DELETE_COMPLETE" {
                return Ok(Undo::Deleting);
            }
            self.api.delete_stack(stack).await?;
            return Ok(Undo::Deleting);
        }
        match state.status.as_str() {
            "UPDATE_IN_PROGRESS" => {
                self.api.cancel_update(stack).await?;
                Ok(Undo::Cancelled)
            }
            status => Ok(Undo::Left(status.to_string())),
        }
    }

    /// Deletes a stack and waits until it is gone; `false` when there was
    /// none. A deletion that fails is reported at once, with the resource.
    pub async fn delete(
        &self,
        stack: &str,
        observe: &mut (dyn FnMut(DeployEvent) + Send),
    ) -> Result<bool, DeployError> {
        let Some(state) = self.api.describe_stack(stack).await? else { return Ok(false) };
        if state.in_progress()
            && state.status != "DELETE_IN_PROGRESS"
            && self.wait_for_other(stack, &state.status, observe).await?.is_none()
        {
            return Ok(false);
        }
        let mut seen: HashSet<String> = self.api.stack_events(stack).await?.into_iter().map(|e| e.event_id).collect();
        // CloudFormation deletes asynchronously; an endpoint that deletes
        // synchronously (moto) can refuse with a dependency error while
        // resources of the same stack are still going: ask again, a few times.
        let mut attempts = 0;
        loop {
            match self.api.delete_stack(stack).await {
                Ok(()) => break,
                Err(e) if attempts < 3 && e.message.contains("has dependencies") => {
                    attempts += 1;
                    tokio::time::sleep(self.options.poll).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
        self.wait(stack, &mut seen, observe, |s| s.is_none()).await?;
        Ok(true)
    }

    /// Waits out an operation this run did not start (one a killed or
    /// timed-out run left going, or someone else's in the console) before
    /// judging the stack: deploying on top of it is refused by
    /// CloudFormation, and a stack still being created is not up to date.
    /// Only its new events are streamed; the deploy timeout bounds the wait.
    async fn wait_for_other(
        &self,
        stack: &str,
        status: &str,
        observe: &mut (dyn FnMut(DeployEvent) + Send),
    ) -> Result<Option<StackState>, DeployError> {
        observe(DeployEvent::WaitingForOther { stack: stack.to_string(), status: status.to_string() });
        let mut seen: HashSet<String> = self.api.stack_events(stack).await?.into_iter().map(|e| e.event_id).collect();
        self.wait(stack, &mut seen, observe, |s| s.is_none_or(|s| !s.busy())).await
    }

    /// Polls until `finished` holds for the stack's state, streaming new events.
    async fn wait(
        &self,
        stack: &str,
        seen: &mut HashSet<String>,
        observe: &mut (dyn FnMut(DeployEvent) + Send),
        finished: impl Fn(Option<&StackState>) -> bool,
    ) -> Result<Option<StackState>, DeployError> {
        let started = tokio::time::Instant::now();
        // CloudFormation carries on whatever happens to one poll: a throttled
        // or failed read is retried with backoff until the stack settles, for
        // as long as AWS keeps failing less than TRANSIENT_DEADLINE in a row.
        let mut failing_since: Option<(tokio::time::Instant, u32)> = None;
        loop {
            let polled = async {
                let state = self.api.describe_stack(stack).await?;
                let events = if state.is_some() { self.api.stack_events(stack).await? } else { Vec::new() };
                Ok::<_, AwsError>((state, events))
            }
            .await;
            let (state, mut events) = match polled {
                Ok(polled) => {
                    failing_since = None;
                    polled
                }
                Err(e) if is_transient(&e) => {
                    let (since, attempts) = failing_since.get_or_insert((tokio::time::Instant::now(), 0));
                    *attempts += 1;
                    if since.elapsed() > TRANSIENT_DEADLINE || started.elapsed() > self.options.timeout {
                        return Err(e.into());
                    }
                    tokio::time::sleep(backoff(self.options.poll, *attempts)).await;
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            events.reverse();
            for event in events {
                if seen.insert(event.event_id.clone()) {
                    observe(DeployEvent::Resource { stack: stack.to_string(), event });
                }
            }
            if finished(state.as_ref()) {
                return Ok(state);
            }
            // A deletion that failed stays failed: say so now, not after the timeout.
            if let Some(state) = &state
                && state.status == "DELETE_FAILED"
            {
                let failures = failures_of_last_operation(&self.api, stack).await;
                return Err(self.deletion_failure(stack, state, &failures));
            }
            if started.elapsed() > self.options.timeout {
                return Err(DeployError::TimedOut {
                    stack: stack.to_string(),
                    status: state.map(|s| s.status).unwrap_or_else(|| "gone".into()),
                    waited: started.elapsed(),
                });
            }
            tokio::time::sleep(self.options.poll).await;
        }
    }

    fn deletion_failure(&self, stack: &str, state: &StackState, failures: &[StackEvent]) -> DeployError {
        let recovery = format!(
            "remove or empty what blocks the resource (or retain it in the CloudFormation console), then delete {stack} again"
        );
        stack_failure(stack, state, failures.iter().find(|e| e.status == "DELETE_FAILED"), recovery)
    }

    fn failure(&self, stack: &str, state: &StackState, failures: &[StackEvent], create: bool) -> DeployError {
        let recovery = if create {
            format!("fix the cause and deploy again: ferry deletes the failed stack {stack} first")
        } else if state.status == "UPDATE_ROLLBACK_FAILED" {
            format!(
                "continue the rollback of {stack} in the CloudFormation console (or `aws cloudformation continue-update-rollback`), then deploy again"
            )
        } else {
            format!("the stack rolled back to its previous version; fix the cause and deploy {stack} again")
        };
        // The first failure is the cause; later ones are usually "cancelled".
        let cause = failures
            .iter()
            .find(|e| !e.reason.as_deref().unwrap_or_default().contains("cancelled"))
            .or(failures.first());
        stack_failure(stack, state, cause, recovery)
    }
}

/// The error for a stack that ended in `state`: the resource that caused it
/// when one is known, else the stack's own reason.
fn stack_failure(stack: &str, state: &StackState, cause: Option<&StackEvent>, recovery: String) -> DeployError {
    match cause {
        Some(event) => DeployError::ResourceFailed {
            stack: stack.to_string(),
            status: state.status.clone(),
            logical_id: event.logical_id.clone(),
            resource_type: event.resource_type.clone(),
            reason: event.reason.clone().unwrap_or_else(|| "no reason given".into()),
            recovery,
        },
        None => DeployError::Failed {
            stack: stack.to_string(),
            status: state.status.clone(),
            reason: state.status_reason.clone(),
            recovery,
        },
    }
}

/// Failed resource events of the stack's last operation, oldest first.
async fn failures_of_last_operation<C: CloudFormationApi>(api: &C, stack: &str) -> Vec<StackEvent> {
    let mut events = api.stack_events(stack).await.unwrap_or_default();
    events.reverse();
    // Events newer than the last stack-level *_IN_PROGRESS start of this deploy.
    let start = events
        .iter()
        .rposition(|e| e.logical_id == stack && (e.status == "CREATE_IN_PROGRESS" || e.status == "UPDATE_IN_PROGRESS"))
        .unwrap_or(0);
    events.into_iter().skip(start).filter(|e| e.failed() && e.logical_id != stack).collect()
}

/// A suffix unique enough for change set names (time-based, no RNG needed).
fn unique_suffix() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("{nanos:x}")
}

#[cfg(test)]
mod tests {
    //! Failure paths an emulator cannot produce, against a scripted fake at
    //! the `CloudFormationApi` boundary.
    use super::*;
    use std::sync::Mutex;

    /// The message and the hint, as the binary prints them.
    fn with_hint(err: DeployError) -> String {
        format!("{err}\nhint: {}", ferry_core::Explain::hint(&err).unwrap_or_default())
    }

    #[derive(Default)]
    struct Script {
        stack: Option<StackState>,
        template: String,
        events: Vec<StackEvent>,
        /// Status the stack reaches after execute; with events appended.
        after_execute: Option<(String, Vec<StackEvent>)>,
        change_set: Vec<ChangeSetStatus>,
        /// The resource changes the change set lists.
        changes: Vec<crate::guard::ResourceChange>,
        fail_create: Option<AwsError>,
        /// Answers of the next DescribeStacks calls, in order: an error, or
        /// `None` for the stack as it is.
        describe_answers: Vec<Option<AwsError>>,
        /// Statuses the stack shows at the next DescribeStacks calls, in
        /// order (an operation of someone else's running its course).
        describe_statuses: Vec<String>,
        /// Status the stack reaches after DeleteStack (gone when `None`).
        after_delete: Option<(String, Vec<StackEvent>)>,
        calls: Vec<String>,
    }

    struct Fake(Mutex<Script>);

    fn event(id: &str, logical: &str, ty: &str, status: &str, reason: Option<&str>) -> StackEvent {
        StackEvent {
            event_id: id.into(),
            logical_id: logical.into(),
            resource_type: ty.into(),
            status: status.into(),
            reason: reason.map(str::to_string),
        }
    }

    impl Fake {
        fn new(script: Script) -> Self {
            Fake(Mutex::new(script))
        }
        fn log(&self, call: &str) {
            self.0.lock().unwrap().calls.push(call.to_string());
        }
        fn calls(&self) -> Vec<String> {
            self.0.lock().unwrap().calls.clone()
        }
        /// The stack reaches the scripted status, with the scripted events.
        fn apply_outcome(&self) {
            let mut s = self.0.lock().unwrap();
            if let Some((status, events)) = s.after_execute.clone() {
                if let Some(stack) = s.stack.as_mut() {
                    stack.status = status;
                }
                // Newest first, as CloudFormation lists them.
                for e in events {
                    s.events.insert(0, e);
                }
            }
        }
    }

    impl CloudFormationApi for &Fake {
        async fn describe_stack(&self, _: &str) -> Result<Option<StackState>, AwsError> {
            self.log("DescribeStacks");
            let mut s = self.0.lock().unwrap();
            if !s.describe_answers.is_empty()
                && let Some(err) = s.describe_answers.remove(0)
            {
                return Err(err);
            }
            if !s.describe_statuses.is_empty() {
                let status = s.describe_statuses.remove(0);
                if let Some(stack) = s.stack.as_mut() {
                    stack.status = status;
                }
            }
            Ok(s.stack.clone())
        }
        async fn get_template(&self, _: &str) -> Result<String, AwsError> {
            self.log("GetTemplate");
            Ok(self.0.lock().unwrap().template.clone())
        }
        async fn create_stack(&self, r: &ChangeSetRequest) -> Result<(), AwsError> {
            self.log(if r.disable_rollback { "CreateStack(DisableRollback)" } else { "CreateStack" });
            let mut s = self.0.lock().unwrap();
            if let Some(err) = s.fail_create.clone() {
                return Err(err);
            }
            s.stack =
                Some(StackState { name: r.stack.clone(), status: "CREATE_IN_PROGRESS".into(), ..Default::default() });
            drop(s);
            self.apply_outcome();
            Ok(())
        }
        async fn create_change_set(&self, _: &ChangeSetRequest) -> Result<(), AwsError> {
            self.log("CreateChangeSet");
            match self.0.lock().unwrap().fail_create.clone() {
                Some(err) => Err(err),
                None => Ok(()),
            }
        }
        async fn describe_change_set(&self, _: &str, _: &str) -> Result<ChangeSetStatus, AwsError> {
            self.log("DescribeChangeSet");
            let mut s = self.0.lock().unwrap();
            Ok(if s.change_set.len() > 1 { s.change_set.remove(0) } else { s.change_set[0].clone() })
        }
        async fn change_set_changes(&self, _: &str, _: &str) -> Result<Vec<crate::guard::ResourceChange>, AwsError> {
            self.log("DescribeChangeSet");
            Ok(self.0.lock().unwrap().changes.clone())
        }
        async fn execute_change_set(&self, _: &str, _: &str) -> Result<(), AwsError> {
            self.log("ExecuteChangeSet");
            self.apply_outcome();
            Ok(())
        }
        async fn execute_change_set_without_rollback(&self, _: &str, _: &str) -> Result<(), AwsError> {
            self.log("ExecuteChangeSet(DisableRollback)");
            self.apply_outcome();
            Ok(())
        }
        async fn delete_change_set(&self, _: &str, _: &str) -> Result<(), AwsError> {
            self.log("DeleteChangeSet");
            Ok(())
        }
        async fn stack_events(&self, _: &str) -> Result<Vec<StackEvent>, AwsError> {
            self.log("DescribeStackEvents");
            Ok(self.0.lock().unwrap().events.clone())
        }
        async fn delete_stack(&self, _: &str) -> Result<(), AwsError> {
            self.log("DeleteStack");
            let mut s = self.0.lock().unwrap();
            match s.after_delete.clone() {
                Some((status, events)) => {
                    if let Some(stack) = s.stack.as_mut() {
                        stack.status = status;
                    }
                    for e in events {
                        s.events.insert(0, e);
                    }
                }
                None => s.stack = None,
            }
            Ok(())
        }
        async fn cancel_update(&self, _: &str) -> Result<(), AwsError> {
            self.log("CancelUpdateStack");
            Ok(())
        }
    }

    fn stack() -> Deployable {
        Deployable {
            name: "chat-test-api".into(),
            template: serde_json::json!({"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}),
            parameters: IndexMap::from([("AppName".to_string(), "chat".to_string())]),
            tags: IndexMap::from([("copilot-application".to_string(), "chat".to_string())]),
            description: "test".into(),
        }
    }

    fn options() -> DeployOptions {
        DeployOptions { poll: Duration::from_millis(1), timeout: Duration::from_secs(5), force: false }
    }

    const MUTATING: &[&str] =
        &["CreateStack", "CreateChangeSet", "ExecuteChangeSet", "DeleteChangeSet", "DeleteStack", "CancelUpdateStack"];

    async fn run(fake: &Fake) -> (Result<DeployOutcome, DeployError>, Vec<DeployEvent>) {
        let mut seen = Vec::new();
        let result = Deployer::new(fake, options()).deploy(&stack(), &mut |e| seen.push(e)).await;
        (result, seen)
    }

    #[tokio::test]
    async fn unchanged_stack_makes_no_mutating_call() {
        let live = StackState {
            name: "chat-test-api".into(),
            status: "UPDATE_COMPLETE".into(),
            parameters: stack().parameters,
            tags: stack().tags,
            ..Default::default()
        };
        let fake =
            Fake::new(Script { stack: Some(live), template: stack().template.to_string(), ..Default::default() });
        let (result, _) = run(&fake).await;
        assert_eq!(result.unwrap(), DeployOutcome::UpToDate);
        assert!(fake.calls().iter().all(|c| !MUTATING.contains(&c.as_str())), "{:?}", fake.calls());
    }

    #[tokio::test]
    async fn create_failure_names_the_first_failing_resource() {
        let fake = Fake::new(Script {
            after_execute: Some((
                "ROLLBACK_COMPLETE".into(),
                vec![
                    event("1", "chat-test-api", "AWS::CloudFormation::Stack", "CREATE_IN_PROGRESS", None),
                    event("2", "TaskRole", "AWS::IAM::Role", "CREATE_FAILED", Some("Policy document is malformed")),
                    event("3", "Topic", "AWS::SNS::Topic", "CREATE_FAILED", Some("Resource creation cancelled")),
                    event("4", "chat-test-api", "AWS::CloudFormation::Stack", "ROLLBACK_COMPLETE", None),
                ],
            )),
            ..Default::default()
        });
        let (result, events) = run(&fake).await;
        let err = result.unwrap_err();
        let text = err.to_string();
        assert!(matches!(&err, DeployError::ResourceFailed { logical_id, .. } if logical_id == "TaskRole"), "{text}");
        assert!(text.contains("Policy document is malformed"), "{text}");
        let hint = ferry_core::Explain::hint(&err).unwrap_or_default();
        assert!(hint.starts_with("fix the cause and deploy again: ferry deletes the failed stack"), "{hint}");
        let streamed = events.iter().filter(|e| matches!(e, DeployEvent::Resource { .. })).count();
        assert_eq!(streamed, 4, "every event is streamed once");
    }

    #[tokio::test]
    async fn a_stack_left_by_a_failed_create_is_deleted_then_created() {
        let failed =
            StackState { name: "chat-test-api".into(), status: "ROLLBACK_COMPLETE".into(), ..Default::default() };
        let fake = Fake::new(Script {
            stack: Some(failed),
            change_set: vec![ChangeSetStatus::Ready],
            after_execute: Some(("CREATE_COMPLETE".into(), vec![])),
            ..Default::default()
        });
        let (result, events) = run(&fake).await;
        assert_eq!(result.unwrap(), DeployOutcome::Created);
        assert!(matches!(events[0], DeployEvent::DeletingFailedStack { .. }));
        let calls = fake.calls();
        let delete = calls.iter().position(|c| c == "DeleteStack").unwrap();
        let create = calls.iter().position(|c| c == "CreateStack").unwrap();
        assert!(delete < create, "{calls:?}");
        assert!(!calls.iter().any(|c| c.contains("ChangeSet")), "creates skip change sets: {calls:?}");
    }

    #[tokio::test]
    async fn change_set_failure_leaves_the_stack_unchanged() {
        let fake = Fake::new(Script {
            stack: Some(live_stack()),
            template: "{}".into(),
            change_set: vec![ChangeSetStatus::Failed("Template format error: unresolved resource".into())],
            ..Default::default()
        });
        let (result, _) = run(&fake).await;
        let text = result.unwrap_err().to_string();
        assert!(text.contains("change set for stack chat-test-api failed: Template format error"), "{text}");
        let calls = fake.calls();
        assert!(calls.contains(&"DeleteChangeSet".to_string()), "{calls:?}");
        assert!(!calls.iter().any(|c| c == "ExecuteChangeSet" || c == "DeleteStack"), "{calls:?}");
    }

    /// The stack as an earlier, killed run left it: `status` now, then
    /// `later` at the following reads, with this deploy's template.
    fn left_by_another_run(status: &str, later: &[&str]) -> Fake {
        let live = StackState {
            name: "chat-test-api".into(),
            status: status.into(),
            parameters: stack().parameters,
            tags: stack().tags,
            ..Default::default()
        };
        Fake::new(Script {
            stack: Some(live),
            template: stack().template.to_string(),
            describe_statuses: std::iter::once(status).chain(later.iter().copied()).map(String::from).collect(),
            ..Default::default()
        })
    }

    #[tokio::test]
    async fn an_operation_this_run_did_not_start_is_waited_out_before_the_stack_is_judged() {
        let fake = left_by_another_run("UPDATE_IN_PROGRESS", &["UPDATE_IN_PROGRESS", "UPDATE_COMPLETE"]);
        let (result, events) = run(&fake).await;
        assert_eq!(result.unwrap(), DeployOutcome::UpToDate);
        assert!(
            events
                .iter()
                .any(|e| matches!(e, DeployEvent::WaitingForOther { status, .. } if status == "UPDATE_IN_PROGRESS")),
            "{events:?}"
        );
        let calls = fake.calls();
        assert!(calls.iter().all(|c| !MUTATING.contains(&c.as_str())), "{calls:?}");
        assert_eq!(calls.last().map(String::as_str), Some("GetTemplate"), "judged only once settled: {calls:?}");
    }

    /// moto shows a stack it is still creating as `CREATE_PENDING`, with
    /// its full template: taken for settled, it passed for up to date while
    /// its resources did not exist yet (issue 18's kill -9 finding).
    #[tokio::test]
    async fn a_status_this_build_does_not_know_counts_as_still_changing() {
        let fake = left_by_another_run("CREATE_PENDING", &["CREATE_IN_PROGRESS", "CREATE_COMPLETE"]);
        let (result, events) = run(&fake).await;
        assert_eq!(result.unwrap(), DeployOutcome::UpToDate);
        assert!(
            matches!(events.first(), Some(DeployEvent::WaitingForOther { status, .. }) if status == "CREATE_PENDING")
        );
        let calls = fake.calls();
        let judged = calls.iter().position(|c| c == "GetTemplate").expect("judged after all");
        assert_eq!(calls.iter().filter(|c| *c == "DescribeStacks").count(), 3, "{calls:?}");
        assert!(calls[..judged].iter().filter(|c| *c == "DescribeStacks").count() == 3, "{calls:?}");
    }

    #[tokio::test]
    async fn a_create_another_run_left_that_rolls_back_is_deleted_and_made_again() {
        let fake = left_by_another_run("CREATE_IN_PROGRESS", &["ROLLBACK_IN_PROGRESS", "ROLLBACK_COMPLETE"]);
        fake.0.lock().unwrap().after_execute = Some(("CREATE_COMPLETE".into(), vec![]));
        let (result, events) = run(&fake).await;
        assert_eq!(result.unwrap(), DeployOutcome::Created);
        assert!(events.iter().any(|e| matches!(e, DeployEvent::DeletingFailedStack { .. })), "{events:?}");
        let calls = fake.calls();
        let deleted = calls.iter().position(|c| c == "DeleteStack").expect("the husk is deleted");
        assert!(calls[deleted..].contains(&"CreateStack".to_string()), "{calls:?}");
    }

    #[tokio::test]
    async fn an_operation_that_never_settles_times_out_without_a_change() {
        let fake = left_by_another_run("UPDATE_IN_PROGRESS", &[]);
        let mut options = options();
        options.timeout = Duration::from_millis(40);
        options.poll = Duration::from_millis(5);
        let result = Deployer::new(&fake, options).deploy(&stack(), &mut |_| {}).await;
        let text = result.unwrap_err().to_string();
        assert!(text.contains("still UPDATE_IN_PROGRESS"), "{text}");
        assert!(fake.calls().iter().all(|c| !MUTATING.contains(&c.as_str())), "{:?}", fake.calls());
    }

    #[tokio::test]
    async fn a_stuck_stack_times_out_with_its_status() {
        let fake =
            Fake::new(Script { after_execute: Some(("CREATE_IN_PROGRESS".into(), vec![])), ..Default::default() });
        let mut options = options();
        options.timeout = Duration::from_millis(40);
        options.poll = Duration::from_millis(5);
        let result = Deployer::new(&fake, options).deploy(&stack(), &mut |_| {}).await;
        let text = result.unwrap_err().to_string();
        assert!(text.contains("still CREATE_IN_PROGRESS"), "{text}");
    }

    #[tokio::test]
    async fn access_denied_names_the_action() {
        let fake = Fake::new(Script {
            fail_create: Some(AwsError::new(
                "cloudformation:CreateStack",
                Some("chat-test-api"),
                AwsErrorKind::AccessDenied,
                "not authorized",
            )),
            ..Default::default()
        });
        let text = run(&fake).await.0.unwrap_err().to_string();
        assert!(text.contains("cloudformation:CreateStack access denied (chat-test-api)"), "{text}");
    }

    fn live_stack() -> StackState {
        StackState { name: "chat-test-api".into(), status: "UPDATE_COMPLETE".into(), ..Default::default() }
    }

    #[tokio::test]
    async fn no_rollback_reaches_create_and_execute_and_detach_returns_once_started() {
        // A create still in progress: with --detach the deploy returns at once
        // (waiting would time out), and --no-rollback went with the call.
        let fake =
            Fake::new(Script { after_execute: Some(("CREATE_IN_PROGRESS".into(), vec![])), ..Default::default() });
        let result = Deployer::new(&fake, options()).no_rollback(true).detach(true).deploy(&stack(), &mut |_| {}).await;
        assert_eq!(result.unwrap(), DeployOutcome::Created);
        assert!(fake.calls().contains(&"CreateStack(DisableRollback)".to_string()), "{:?}", fake.calls());

        let fake = Fake::new(Script {
            stack: Some(live_stack()),
            template: "{}".into(),
            change_set: vec![ChangeSetStatus::Ready],
            after_execute: Some(("UPDATE_IN_PROGRESS".into(), vec![])),
            ..Default::default()
        });
        let result = Deployer::new(&fake, options()).no_rollback(true).detach(true).deploy(&stack(), &mut |_| {}).await;
        assert_eq!(result.unwrap(), DeployOutcome::Updated);
        let calls = fake.calls();
        assert!(calls.contains(&"ExecuteChangeSet(DisableRollback)".to_string()), "{calls:?}");
        assert!(!calls.contains(&"ExecuteChangeSet".to_string()), "{calls:?}");

        // Without the flags: the plain calls, and the deploy waits for the end.
        let fake = Fake::new(Script {
            stack: Some(live_stack()),
            template: "{}".into(),
            change_set: vec![ChangeSetStatus::Ready],
            after_execute: Some(("UPDATE_COMPLETE".into(), vec![])),
            ..Default::default()
        });
        let (result, _) = run(&fake).await;
        assert_eq!(result.unwrap(), DeployOutcome::Updated);
        assert!(fake.calls().contains(&"ExecuteChangeSet".to_string()));
    }

    #[tokio::test]
    async fn update_failure_says_the_stack_rolled_back() {
        let fake = Fake::new(Script {
            stack: Some(live_stack()),
            template: "{}".into(),
            change_set: vec![ChangeSetStatus::Pending, ChangeSetStatus::Ready],
            after_execute: Some((
                "UPDATE_ROLLBACK_COMPLETE".into(),
                vec![
                    event("1", "chat-test-api", "AWS::CloudFormation::Stack", "UPDATE_IN_PROGRESS", None),
                    event("2", "Service", "AWS::ECS::Service", "UPDATE_FAILED", Some("Circuit breaker triggered")),
                    event("3", "chat-test-api", "AWS::CloudFormation::Stack", "UPDATE_ROLLBACK_COMPLETE", None),
                ],
            )),
            ..Default::default()
        });
        let (result, events) = run(&fake).await;
        let text = with_hint(result.unwrap_err());
        assert!(text.contains("resource Service (AWS::ECS::Service) failed: Circuit breaker triggered"), "{text}");
        assert!(text.contains("rolled back to its previous version"), "{text}");
        assert!(events.iter().any(|e| matches!(e, DeployEvent::Started { create: false, .. })));
    }

    #[tokio::test]
    async fn interrupted_create_deletes_and_interrupted_update_cancels() {
        let creating =
            StackState { name: "chat-test-api".into(), status: "CREATE_IN_PROGRESS".into(), ..Default::default() };
        let fake = Fake::new(Script { stack: Some(creating), ..Default::default() });
        assert_eq!(Deployer::new(&fake, options()).undo("chat-test-api", true).await.unwrap(), Undo::Deleting);
        assert_eq!(fake.calls(), ["DescribeStacks", "DeleteStack"]);

        let updating =
            StackState { name: "chat-test-api".into(), status: "UPDATE_IN_PROGRESS".into(), ..Default::default() };
        let fake = Fake::new(Script { stack: Some(updating), ..Default::default() });
        assert_eq!(Deployer::new(&fake, options()).undo("chat-test-api", false).await.unwrap(), Undo::Cancelled);
        assert_eq!(fake.calls(), ["DescribeStacks", "CancelUpdateStack"]);
    }

    #[tokio::test]
    async fn an_interrupt_before_the_execute_answer_looks_at_the_stack_instead_of_guessing() {
        // The execute call never landed: the update is not running, nothing to cancel.
        let fake = Fake::new(Script { stack: Some(live_stack()), ..Default::default() });
        let undo = Deployer::new(&fake, options()).undo("chat-test-api", false).await.unwrap();
        assert_eq!(undo, Undo::Left("UPDATE_COMPLETE".into()));
        assert_eq!(fake.calls(), ["DescribeStacks"], "no mutating call for a change that did not start");
        // A create whose CreateStack never landed: no stack, nothing changed.
        let fake = Fake::new(Script::default());
        assert_eq!(Deployer::new(&fake, options()).undo("chat-test-api", true).await.unwrap(), Undo::NothingChanged);
    }

    #[tokio::test]
    async fn the_execute_phase_is_announced_before_the_call_that_starts_it() {
        // Today's regression: "started" came only after the call returned,
        // so an interrupt in between said "nothing was changed".
        let order = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let fake = Fake::new(Script {
            stack: Some(live_stack()),
            template: "{}".into(),
            change_set: vec![ChangeSetStatus::Ready],
            after_execute: Some(("UPDATE_COMPLETE".into(), vec![])),
            ..Default::default()
        });
        let seen = order.clone();
        let calls_at_executing = std::sync::Arc::new(std::sync::Mutex::new(None));
        let at = calls_at_executing.clone();
        let fake_ref = &fake;
        Deployer::new(fake_ref, options())
            .deploy(&stack(), &mut |e| {
                if matches!(e, DeployEvent::Executing { create: false, .. }) {
                    *at.lock().unwrap() = Some(fake_ref.calls());
                }
                seen.lock().unwrap().push(format!("{e:?}"));
            })
            .await
            .unwrap();
        let before = calls_at_executing.lock().unwrap().clone().expect("Executing was observed");
        assert!(!before.iter().any(|c| c == "ExecuteChangeSet"), "announced before ExecuteChangeSet: {before:?}");
        assert!(fake.calls().iter().any(|c| c == "ExecuteChangeSet"));
    }

    #[tokio::test]
    async fn throttling_says_to_wait_and_retry() {
        let fake = Fake::new(Script {
            fail_create: Some(AwsError::new(
                "cloudformation:CreateStack",
                Some("chat-test-api"),
                AwsErrorKind::Throttled,
                "Rate exceeded",
            )),
            ..Default::default()
        });
        let text = with_hint(run(&fake).await.0.unwrap_err());
        assert!(text.contains("Rate exceeded"), "{text}");
        assert!(text.contains("AWS is throttling this account: wait a minute"), "{text}");
    }

    #[tokio::test]
    async fn empty_change_set_is_up_to_date() {
        let fake = Fake::new(Script {
            stack: Some(live_stack()),
            template: "{}".into(),
            change_set: vec![ChangeSetStatus::Empty],
            ..Default::default()
        });
        assert_eq!(run(&fake).await.0.unwrap(), DeployOutcome::UpToDate);
    }

    /// One throttled poll and one network error while CloudFormation works
    /// do not fail the deploy: the wait polls again and sees it finish.
    #[tokio::test]
    async fn throttled_and_failed_polls_are_retried_until_the_stack_settles() {
        let transient = |kind, message: &str| Some(AwsError::new("cloudformation:DescribeStacks", None, kind, message));
        let fake = Fake::new(Script {
            after_execute: Some(("CREATE_COMPLETE".into(), vec![])),
            describe_answers: vec![
                None,
                transient(AwsErrorKind::Throttled, "Rate exceeded"),
                transient(AwsErrorKind::Unreachable, "connection reset"),
            ],
            ..Default::default()
        });
        assert_eq!(run(&fake).await.0.unwrap(), DeployOutcome::Created);
        let polls = fake.calls().iter().filter(|c| *c == "DescribeStacks").count();
        assert_eq!(polls, 4, "the first look, two failed polls, one that saw the stack: {:?}", fake.calls());
    }

    /// A poll refused for good (access denied) is not retried.
    #[tokio::test]
    async fn a_poll_refused_for_good_fails_at_once() {
        let denied = AwsError::new("cloudformation:DescribeStacks", None, AwsErrorKind::AccessDenied, "not allowed");
        let fake = Fake::new(Script {
            after_execute: Some(("CREATE_COMPLETE".into(), vec![])),
            describe_answers: vec![None, Some(denied)],
            ..Default::default()
        });
        let text = run(&fake).await.0.unwrap_err().to_string();
        assert!(text.contains("not allowed"), "{text}");
    }

    /// DELETE_FAILED is final: reported at once with the resource that
    /// blocked it, not polled until the timeout.
    #[tokio::test]
    async fn a_failed_deletion_names_the_resource_at_once() {
        let fake = Fake::new(Script {
            stack: Some(live_stack()),
            after_delete: Some((
                "DELETE_FAILED".into(),
                vec![event("e9", "LogsBucket", "AWS::S3::Bucket", "DELETE_FAILED", Some("The bucket is not empty"))],
            )),
            ..Default::default()
        });
        let err = Deployer::new(&fake, options()).delete("chat-test-api", &mut |_| {}).await.unwrap_err();
        match &err {
            DeployError::ResourceFailed { logical_id, reason, status, .. } => {
                assert_eq!((logical_id.as_str(), reason.as_str()), ("LogsBucket", "The bucket is not empty"));
                assert_eq!(status, "DELETE_FAILED");
            }
            other => panic!("expected the failed resource, got {other:?}"),
        }
        let polls = fake.calls().iter().filter(|c| *c == "DescribeStacks").count();
        assert_eq!(polls, 2, "one look before deleting, one poll that saw DELETE_FAILED: {:?}", fake.calls());
    }

    /// `--force` on an unchanged stack: CloudFormation refuses the change set
    /// itself ("No updates are to be performed."), which is up to date too.
    #[tokio::test]
    async fn forced_change_set_refused_for_no_changes_is_up_to_date() {
        let fake = Fake::new(Script {
            stack: Some(live_stack()),
            template: "{}".into(),
            fail_create: Some(AwsError::new(
                "cloudformation:CreateChangeSet",
                Some("chat-test-api"),
                AwsErrorKind::Other,
                "No updates are to be performed.",
            )),
            ..Default::default()
        });
        let forced = DeployOptions { force: true, ..options() };
        let outcome = Deployer::new(&fake, forced).deploy(&stack(), &mut |_| {}).await;
        assert_eq!(outcome.unwrap(), DeployOutcome::UpToDate);
        assert!(!fake.calls().iter().any(|c| c == "ExecuteChangeSet"), "{:?}", fake.calls());
    }

    fn recorded_changes(name: &str) -> Vec<crate::guard::ResourceChange> {
        let path = format!("{}/tests/change-sets/{name}.json", env!("CARGO_MANIFEST_DIR"));
        crate::guard::changes_from_json(&serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap())
    }

    fn update_with(changes: Vec<crate::guard::ResourceChange>) -> Fake {
        Fake::new(Script {
            stack: Some(live_stack()),
            template: "{}".into(),
            change_set: vec![ChangeSetStatus::Ready],
            changes,
            after_execute: Some(("UPDATE_COMPLETE".into(), vec![])),
            ..Default::default()
        })
    }

    /// A replaced load balancer and a removed queue stop the update before
    /// it runs: the change set is deleted, the error names both and the
    /// hint the flags that let them through.
    #[tokio::test]
    async fn the_guard_refuses_a_replaced_alb_and_a_removed_queue() {
        let fake = update_with([recorded_changes("alb-replaced"), recorded_changes("queue-removed")].concat());
        let err = run(&fake).await.0.unwrap_err();
        let text = with_hint(err);
        assert!(text.contains("PublicLoadBalancer (AWS::ElasticLoadBalancingV2::LoadBalancer) replaced: changing Scheme requires a new resource"), "{text}");
        assert!(text.contains("EventsQueue (AWS::SQS::Queue) removed"), "{text}");
        assert!(!text.contains("EventsQueuePolicy"), "{text}");
        assert!(text.contains("`--allow-replacement PublicLoadBalancer --allow-replacement EventsQueue`"), "{text}");
        let calls = fake.calls();
        assert!(calls.contains(&"DeleteChangeSet".to_string()), "{calls:?}");
        assert!(!calls.contains(&"ExecuteChangeSet".to_string()), "{calls:?}");
    }

    #[tokio::test]
    async fn allow_replacement_lets_the_update_run_and_says_so() {
        let fake = update_with([recorded_changes("alb-replaced"), recorded_changes("queue-removed")].concat());
        let allowed = Allowed::from_flags(&["PublicLoadBalancer".into(), "EventsQueue".into()]);
        let mut events = Vec::new();
        let outcome =
            Deployer::new(&fake, options()).allow_replacement(allowed).deploy(&stack(), &mut |e| events.push(e)).await;
        assert_eq!(outcome.unwrap(), DeployOutcome::Updated);
        let replacing: Vec<_> = events
            .iter()
            .filter_map(|e| match e {
                DeployEvent::Replacing { changes, .. } => Some(changes.len()),
                _ => None,
            })
            .collect();
        assert_eq!(replacing, [2]);
        // One allowed, one not: still refused.
        let fake = update_with([recorded_changes("alb-replaced"), recorded_changes("queue-removed")].concat());
        let only_alb = Allowed::from_flags(&["PublicLoadBalancer".into()]);
        let err = Deployer::new(&fake, options()).allow_replacement(only_alb).deploy(&stack(), &mut |_| {}).await;
        match err {
            Err(DeployError::Refused { changes, .. }) => assert_eq!(changes[0].logical_id, "EventsQueue"),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_replaced_task_definition_updates_without_a_word() {
        let fake = update_with(recorded_changes("task-definition-replaced"));
        let (result, events) = run(&fake).await;
        assert_eq!(result.unwrap(), DeployOutcome::Updated);
        assert!(!events.iter().any(|e| matches!(e, DeployEvent::Replacing { .. })), "{events:?}");
    }

    #[tokio::test]
    async fn preview_lists_the_guarded_changes_and_deletes_its_change_set() {
        let fake = update_with(recorded_changes("queue-removed"));
        let listed = Deployer::new(&fake, options()).preview(&stack()).await.unwrap();
        assert_eq!(listed.iter().map(|c| c.logical_id.as_str()).collect::<Vec<_>>(), ["EventsQueue"]);
        let calls = fake.calls();
        assert!(calls.contains(&"DeleteChangeSet".to_string()), "{calls:?}");
        assert!(!calls.contains(&"ExecuteChangeSet".to_string()), "{calls:?}");
    }
}
