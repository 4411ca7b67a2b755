//! The AWS side of `ferry adopt` (the comparison itself is
//! [`ferry_core::adopt`]): reading a stack Copilot deployed (its template,
//! which Copilot submitted as YAML, and its live resources), the first
//! step's deployable (Copilot's template with its helpers retained), what
//! `ferry deploy` does on a Copilot stack (refuses) or on one being adopted
//! (keeps what the environment controller set, marks the stack adopted), and
//! deleting what the retired helpers leave behind.

use crate::cfn::{Cfn, CloudFormationApi, StackResource, StackState};
use crate::deploy::Deployable;
use crate::error::AwsError;
use ferry_core::adopt::{self, ADOPTED_TAG, Origin};
use serde::Serialize;
use serde_json::Value;
use std::collections::HashSet;

/// A deployed stack as adoption reads it.
#[derive(Debug, Clone)]
pub struct LiveStack {
    pub state: StackState,
    /// The deployed template, as JSON.
    pub template: Value,
    pub resources: Vec<StackResource>,
    pub origin: Origin,
}

impl LiveStack {
    /// The logical IDs of the resources the stack has.
    pub fn deployed(&self) -> HashSet<String> {
        self.resources.iter().map(|r| r.logical_id.clone()).collect()
    }

    /// The physical ID of `logical_id`.
    pub fn physical_id(&self, logical_id: &str) -> Option<&str> {
        self.resources.iter().find(|r| r.logical_id == logical_id).map(|r| r.physical_id.as_str())
    }
}

/// A template body as CloudFormation returns it: JSON (ferry) or YAML with
/// short-form tags (Copilot).
pub fn parse_template(body: &str) -> Result<Value, String> {
    if let Ok(value) = serde_json::from_str::<Value>(body) {
        return Ok(value);
    }
    let yaml: yaml_serde::Value = yaml_serde::from_str(body).map_err(|e| format!("not JSON or YAML: {e}"))?;
    ferry_core::cfn_yaml::to_json(&yaml)
}

/// Reads stack `name` (`None` when it does not exist).
pub async fn read(cfn: &Cfn, name: &str) -> Result<Option<LiveStack>, AwsError> {
    let Some(state) = cfn.describe_stack(name).await? else { return Ok(None) };
    let body = cfn.get_template(name).await?;
    let template = parse_template(&body).map_err(|why| {
        AwsError::new(
            "cloudformation:GetTemplate",
            Some(name),
            crate::error::AwsErrorKind::Other,
            format!("the deployed template cannot be read: {why}"),
        )
    })?;
    let resources = cfn.stack_resources(name).await?;
    let origin = adopt::origin(&state.tags, &template);
    Ok(Some(LiveStack { state, template, resources, origin }))
}

/// The first step for `live`: Copilot's own template and parameters, with
/// the retiring helpers retained.
pub fn retaining_step(live: &LiveStack, retired: &[&str], description: &str) -> Deployable {
    Deployable {
        name: live.state.name.clone(),
        template: adopt::with_retained_helpers(&live.template, retired),
        parameters: live.state.parameters.clone(),
        tags: live.state.tags.clone(),
        description: description.to_string(),
    }
}

/// What `ferry deploy` makes of the live stack before updating it: `Err`
/// with Copilot's version for a stack Copilot deployed and ferry has not
/// adopted; otherwise the deployable to use (changed only for a stack being
/// or already adopted: the adoption tag kept, the environment-controller
/// parameters kept to what the controller set).
pub(crate) fn before_update(
    live: &StackState,
    template: &str,
    stack: &Deployable,
) -> Result<Option<Deployable>, Option<String>> {
    let adopted = live.tags.get(ADOPTED_TAG);
    let origin = match adopted {
        Some(_) => Origin::Ferry,
        None => adopt::origin(&live.tags, &parse_template(template).unwrap_or(Value::Null)),
    };
    match origin {
        Origin::Copilot { version } => Err(version),
        Origin::Ferry if adopted.is_none_or(|v| stack.tags.get(ADOPTED_TAG) == Some(v)) => Ok(None),
        Origin::Ferry => {
            let mut kept = stack.clone();
            kept.tags.insert(ADOPTED_TAG.into(), adopted.cloned().unwrap_or_default());
            Ok(Some(kept))
        }
        Origin::Adopting => {
            let mut kept = stack.clone();
            kept.tags.insert(ADOPTED_TAG.into(), "copilot".into());
            let controller = adopt::controller_parameters(&live.parameters, &stack.parameters);
            for (name, value) in controller {
                if kept.parameters.contains_key(&name) {
                    kept.parameters.insert(name, value);
                }
            }
            Ok(Some(kept))
        }
    }
}

/// Something a retired helper left behind once its stack let go of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Leftover {
    pub logical_id: String,
    pub resource_type: String,
    pub physical_id: String,
    /// Deleted by ferry after the second step.
    pub deleted: bool,
    /// Already gone when ferry came to delete it.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub already_gone: bool,
    /// Why ferry could not delete it (AWS's error).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The command that deletes it by hand, while it is not deleted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
}

impl Leftover {
    fn new(logical_id: String, resource_type: &str, physical_id: String) -> Leftover {
        let command = match resource_type {
            "AWS::Lambda::Function" => format!("aws lambda delete-function --function-name {physical_id}"),
            "AWS::IAM::Role" => format!(
                "detach its managed policies (aws iam list-attached-role-policies / detach-role-policy --role-name {physical_id}), \
                 delete its inline policies (aws iam list-role-policies / delete-role-policy), remove it from its instance \
                 profiles (aws iam list-instance-profiles-for-role / remove-role-from-instance-profile), then \
                 aws iam delete-role --role-name {physical_id}"
            ),
            _ => format!("aws logs delete-log-group --log-group-name {physical_id}"),
        };
        Leftover {
            logical_id,
            resource_type: resource_type.to_string(),
            physical_id,
            deleted: false,
            already_gone: false,
            error: None,
            command: Some(command),
        }
    }

    /// Not deleted and not gone: left for the user.
    pub fn failed(&self) -> bool {
        self.error.is_some()
    }
}

/// What the retired helpers of `live` leave behind (read before the second
/// step, while the stack still lists them): the functions, roles and log
/// groups, plus each function's `/aws/lambda/<name>` log group Lambda made.
/// Nothing else: only the physical IDs the stack names for `retired`.
pub fn leftovers(live: &LiveStack, retired: &[&str]) -> Vec<Leftover> {
    let mut found = Vec::new();
    for id in retired {
        let Some(resource) = live.resources.iter().find(|r| r.logical_id == *id) else { continue };
        let physical = resource.physical_id.clone();
        if physical.is_empty() {
            continue;
        }
        match resource.resource_type.as_str() {
            "AWS::Lambda::Function" => {
                found.push(Leftover::new(id.to_string(), &resource.resource_type, physical.clone()));
                found.push(Leftover::new(
                    format!("{id} (its log group)"),
                    "AWS::Logs::LogGroup",
                    format!("/aws/lambda/{physical}"),
                ));
            }
            "AWS::IAM::Role" | "AWS::Logs::LogGroup" => {
                found.push(Leftover::new(id.to_string(), &resource.resource_type, physical))
            }
            _ => {}
        }
    }
    found
}

/// The logical IDs a half-adopted stack (the first step ran) retained, as
/// the first step recorded them in its template.
pub fn retained_ids(template: &Value) -> Vec<String> {
    template
        .pointer(&format!("/Metadata/{}/retained", adopt::ADOPTION_METADATA))
        .and_then(Value::as_array)
        .map(|ids| ids.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default()
}

/// The Lambda call that deletes a retired helper's function.
#[allow(async_fn_in_trait)]
pub trait FunctionsApi {
    async fn delete_function(&self, name: &str) -> Result<(), AwsError>;
}

/// The IAM calls that delete a retired helper's role: IAM deletes a role
/// only once no policy is attached, no inline policy is left and no
/// instance profile holds it.
#[allow(async_fn_in_trait)]
pub trait RolesApi {
    /// The ARNs of the managed policies attached to `role`.
    async fn attached_policies(&self, role: &str) -> Result<Vec<String>, AwsError>;
    async fn detach_policy(&self, role: &str, arn: &str) -> Result<(), AwsError>;
    /// The names of `role`'s inline policies.
    async fn inline_policies(&self, role: &str) -> Result<Vec<String>, AwsError>;
    async fn delete_inline_policy(&self, role: &str, name: &str) -> Result<(), AwsError>;
    /// The names of the instance profiles holding `role`.
    async fn instance_profiles(&self, role: &str) -> Result<Vec<String>, AwsError>;
    async fn remove_from_instance_profile(&self, role: &str, profile: &str) -> Result<(), AwsError>;
    async fn delete_role(&self, role: &str) -> Result<(), AwsError>;
}

/// The CloudWatch Logs call that deletes a retired helper's log group.
#[allow(async_fn_in_trait)]
pub trait LogGroupsApi {
    async fn delete_log_group(&self, name: &str) -> Result<(), AwsError>;
}

/// The SDK side of [`FunctionsApi`], [`RolesApi`] and [`LogGroupsApi`].
pub struct HelperClients {
    lambda: aws_sdk_lambda::Client,
    iam: aws_sdk_iam::Client,
    logs: aws_sdk_cloudwatchlogs::Client,
}

impl HelperClients {
    pub fn new(aws: &crate::AwsContext) -> HelperClients {
        HelperClients { lambda: aws.lambda(), iam: aws.iam(), logs: aws.logs() }
    }
}

impl FunctionsApi for HelperClients {
    async fn delete_function(&self, name: &str) -> Result<(), AwsError> {
        self.lambda
            .delete_function()
            .function_name(name)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("lambda:DeleteFunction", Some(name), e))?;
        Ok(())
    }
}

impl RolesApi for HelperClients {
    async fn attached_policies(&self, role: &str) -> Result<Vec<String>, AwsError> {
        let mut arns = Vec::new();
        let mut marker = None;
        loop {
            let out = self
                .iam
                .list_attached_role_policies()
                .role_name(role)
                .set_marker(marker)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("iam:ListAttachedRolePolicies", Some(role), e))?;
            arns.extend(out.attached_policies().iter().filter_map(|p| p.policy_arn().map(str::to_string)));
            marker = out.marker().map(str::to_string);
            if !out.is_truncated() || marker.is_none() {
                return Ok(arns);
            }
        }
    }

    async fn detach_policy(&self, role: &str, arn: &str) -> Result<(), AwsError> {
        self.iam
            .detach_role_policy()
            .role_name(role)
            .policy_arn(arn)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("iam:DetachRolePolicy", Some(&format!("{role} {arn}")), e))?;
        Ok(())
    }

    async fn inline_policies(&self, role: &str) -> Result<Vec<String>, AwsError> {
        let mut names = Vec::new();
        let mut marker = None;
        loop {
            let out = self
                .iam
                .list_role_policies()
                .role_name(role)
                .set_marker(marker)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("iam:ListRolePolicies", Some(role), e))?;
            names.extend(out.policy_names().iter().cloned());
            marker = out.marker().map(str::to_string);
            if !out.is_truncated() || marker.is_none() {
                return Ok(names);
            }
        }
    }

    async fn delete_inline_policy(&self, role: &str, name: &str) -> Result<(), AwsError> {
        self.iam
            .delete_role_policy()
            .role_name(role)
            .policy_name(name)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("iam:DeleteRolePolicy", Some(&format!("{role} {name}")), e))?;
        Ok(())
    }

    async fn instance_profiles(&self, role: &str) -> Result<Vec<String>, AwsError> {
        let mut names = Vec::new();
        let mut marker = None;
        loop {
            let out = self
                .iam
                .list_instance_profiles_for_role()
                .role_name(role)
                .set_marker(marker)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("iam:ListInstanceProfilesForRole", Some(role), e))?;
            names.extend(out.instance_profiles().iter().map(|p| p.instance_profile_name().to_string()));
            marker = out.marker().map(str::to_string);
            if !out.is_truncated() || marker.is_none() {
                return Ok(names);
            }
        }
    }

    async fn remove_from_instance_profile(&self, role: &str, profile: &str) -> Result<(), AwsError> {
        self.iam
            .remove_role_from_instance_profile()
            .role_name(role)
            .instance_profile_name(profile)
            .send()
            .await
            .map_err(|e| {
                AwsError::from_sdk("iam:RemoveRoleFromInstanceProfile", Some(&format!("{role} {profile}")), e)
            })?;
        Ok(())
    }

    async fn delete_role(&self, role: &str) -> Result<(), AwsError> {
        self.iam
            .delete_role()
            .role_name(role)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("iam:DeleteRole", Some(role), e))?;
        Ok(())
    }
}

impl LogGroupsApi for HelperClients {
    async fn delete_log_group(&self, name: &str) -> Result<(), AwsError> {
        self.logs
            .delete_log_group()
            .log_group_name(name)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("logs:DeleteLogGroup", Some(name), e))?;
        Ok(())
    }
}

/// The resource is not there (any more): Lambda and Logs answer
/// `ResourceNotFoundException`, IAM `NoSuchEntity`.
fn gone(err: &AwsError) -> bool {
    err.kind == crate::error::AwsErrorKind::NotFound
        || matches!(err.code.as_deref(), Some("ResourceNotFoundException" | "NoSuchEntity" | "NoSuchEntityException"))
}

/// Deletes a role as IAM requires: detach its managed policies, delete its
/// inline policies, take it out of its instance profiles, then delete it.
async fn delete_role<R: RolesApi>(api: &R, role: &str) -> Result<(), AwsError> {
    for arn in api.attached_policies(role).await? {
        api.detach_policy(role, &arn).await?;
    }
    for name in api.inline_policies(role).await? {
        api.delete_inline_policy(role, &name).await?;
    }
    for profile in api.instance_profiles(role).await? {
        api.remove_from_instance_profile(role, &profile).await?;
    }
    api.delete_role(role).await
}

/// Deletes `leftovers`: the functions first (so nothing writes to their log
/// groups again), then the roles, then the log groups. One that is already
/// gone counts as done; one that fails keeps its error and the command to
/// finish by hand, and the others go on (the adoption stands either way).
pub async fn delete_leftovers<A: FunctionsApi + RolesApi + LogGroupsApi>(api: &A, leftovers: &mut [Leftover]) {
    for phase in ["AWS::Lambda::Function", "AWS::IAM::Role", "AWS::Logs::LogGroup"] {
        for leftover in leftovers.iter_mut().filter(|l| l.resource_type == phase && !l.deleted) {
            let id = leftover.physical_id.clone();
            let result = match phase {
                "AWS::Lambda::Function" => api.delete_function(&id).await,
                "AWS::IAM::Role" => delete_role(api, &id).await,
                _ => api.delete_log_group(&id).await,
            };
            match result {
                Ok(()) => leftover.deleted = true,
                Err(e) if gone(&e) => leftover.already_gone = true,
                Err(e) => leftover.error = Some(e.to_string()),
            }
            if leftover.error.is_none() {
                leftover.command = None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use indexmap::IndexMap;
    use serde_json::json;

    fn state(tags: &[(&str, &str)], parameters: &[(&str, &str)]) -> StackState {
        StackState {
            name: "shop-test".into(),
            status: "UPDATE_COMPLETE".into(),
            tags: tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            parameters: parameters.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            ..Default::default()
        }
    }

    fn stack(parameters: &[(&str, &str)]) -> Deployable {
        Deployable {
            name: "shop-test".into(),
            template: json!({}),
            parameters: parameters.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            tags: IndexMap::from([("copilot-application".to_string(), "shop".to_string())]),
            description: String::new(),
        }
    }

    const COPILOT_YAML: &str = "Metadata:\n  Version: v1.34.0\nResources:\n  EnvControllerAction:\n    Type: Custom::EnvControllerFunction\n    Properties:\n      ServiceToken: !GetAtt EnvControllerFunction.Arn\n";

    /// Records every call; answers from the maps (a missing entry: the
    /// resource does not exist).
    #[derive(Default)]
    struct Fake {
        calls: std::sync::Mutex<Vec<String>>,
        functions: Vec<&'static str>,
        roles: Vec<&'static str>,
        log_groups: Vec<&'static str>,
        /// A call that fails (`delete_role x`) with AccessDenied.
        denied: Option<&'static str>,
    }

    impl Fake {
        fn call(&self, call: String, exists: bool) -> Result<(), AwsError> {
            self.calls.lock().unwrap().push(call.clone());
            if self.denied == Some(call.as_str()) {
                let mut e = AwsError::new(
                    "iam:DeleteRole",
                    Some("r"),
                    crate::error::AwsErrorKind::AccessDenied,
                    "not authorized to perform iam:DeleteRole",
                );
                e.code = Some("AccessDenied".into());
                return Err(e);
            }
            if exists {
                Ok(())
            } else {
                let mut e = AwsError::new("x", None, crate::error::AwsErrorKind::Other, "cannot be found");
                e.code = Some(if call.contains("role") { "NoSuchEntity" } else { "ResourceNotFoundException" }.into());
                Err(e)
            }
        }
    }

    impl FunctionsApi for Fake {
        async fn delete_function(&self, name: &str) -> Result<(), AwsError> {
            self.call(format!("delete_function {name}"), self.functions.contains(&name))
        }
    }

    impl RolesApi for Fake {
        async fn attached_policies(&self, role: &str) -> Result<Vec<String>, AwsError> {
            self.call(format!("attached_policies {role}"), self.roles.contains(&role))?;
            Ok(vec!["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole".into()])
        }
        async fn detach_policy(&self, role: &str, arn: &str) -> Result<(), AwsError> {
            self.call(format!("detach_policy {role} {arn}"), true)
        }
        async fn inline_policies(&self, role: &str) -> Result<Vec<String>, AwsError> {
            self.call(format!("inline_policies {role}"), true)?;
            Ok(vec!["Access".into()])
        }
        async fn delete_inline_policy(&self, role: &str, name: &str) -> Result<(), AwsError> {
            self.call(format!("delete_inline_policy {role} {name}"), true)
        }
        async fn instance_profiles(&self, role: &str) -> Result<Vec<String>, AwsError> {
            self.call(format!("instance_profiles {role}"), true)?;
            Ok(vec!["profile".into()])
        }
        async fn remove_from_instance_profile(&self, role: &str, profile: &str) -> Result<(), AwsError> {
            self.call(format!("remove_from_instance_profile {role} {profile}"), true)
        }
        async fn delete_role(&self, role: &str) -> Result<(), AwsError> {
            self.call(format!("delete_role {role}"), true)
        }
    }

    impl LogGroupsApi for Fake {
        async fn delete_log_group(&self, name: &str) -> Result<(), AwsError> {
            self.call(format!("delete_log_group {name}"), self.log_groups.contains(&name))
        }
    }

    fn live_stack() -> LiveStack {
        let resource = |id: &str, t: &str, physical: &str| StackResource {
            logical_id: id.into(),
            resource_type: t.into(),
            physical_id: physical.into(),
            status: "CREATE_COMPLETE".into(),
        };
        LiveStack {
            state: state(&[], &[]),
            template: json!({}),
            resources: vec![
                resource("EnvControllerAction", "Custom::EnvControllerFunction", "shop-test-web-EnvControllerAction"),
                resource("EnvControllerFunction", "AWS::Lambda::Function", "fn-env"),
                resource("EnvControllerRole", "AWS::IAM::Role", "role-env"),
                resource("TaskRole", "AWS::IAM::Role", "role-task"),
            ],
            origin: Origin::Copilot { version: None },
        }
    }

    #[tokio::test]
    async fn only_what_retired_is_deleted_functions_then_roles_then_log_groups() {
        let live = live_stack();
        let mut leftovers = leftovers(&live, &["EnvControllerAction", "EnvControllerFunction", "EnvControllerRole"]);
        let named: Vec<&str> = leftovers.iter().map(|l| l.physical_id.as_str()).collect();
        assert_eq!(
            named,
            ["fn-env", "/aws/lambda/fn-env", "role-env"],
            "the custom resource and TaskRole are not leftovers"
        );
        let fake = Fake { functions: vec!["fn-env"], roles: vec!["role-env"], ..Default::default() };
        delete_leftovers(&fake, &mut leftovers).await;
        assert_eq!(
            *fake.calls.lock().unwrap(),
            [
                "delete_function fn-env",
                "attached_policies role-env",
                "detach_policy role-env arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
                "inline_policies role-env",
                "delete_inline_policy role-env Access",
                "instance_profiles role-env",
                "remove_from_instance_profile role-env profile",
                "delete_role role-env",
                "delete_log_group /aws/lambda/fn-env",
            ]
        );
        assert!(leftovers[0].deleted && leftovers[2].deleted);
        // Lambda never wrote a log: already gone is done too.
        assert!(!leftovers[1].deleted && leftovers[1].already_gone && !leftovers[1].failed());
        assert!(leftovers.iter().all(|l| l.command.is_none() && l.error.is_none()));
        let reported = serde_json::to_value(&leftovers).unwrap();
        assert_eq!(
            reported[0],
            json!({"logical_id": "EnvControllerFunction", "resource_type": "AWS::Lambda::Function", "physical_id": "fn-env", "deleted": true})
        );
    }

    #[tokio::test]
    async fn a_role_already_gone_is_fine_and_a_refused_delete_names_the_error_and_the_command() {
        let live = live_stack();
        let mut leftovers = leftovers(&live, &["EnvControllerFunction", "EnvControllerRole"]);
        // The role is gone: IAM answers NoSuchEntity to the first call.
        let fake = Fake { functions: vec!["fn-env"], ..Default::default() };
        delete_leftovers(&fake, &mut leftovers).await;
        assert!(leftovers[2].already_gone && !leftovers[2].failed(), "{:?}", leftovers[2]);

        let mut leftovers = self::leftovers(&live, &["EnvControllerFunction", "EnvControllerRole"]);
        let fake = Fake {
            functions: vec!["fn-env"],
            roles: vec!["role-env"],
            log_groups: vec!["/aws/lambda/fn-env"],
            denied: Some("delete_role role-env"),
            ..Default::default()
        };
        delete_leftovers(&fake, &mut leftovers).await;
        let role = &leftovers[2];
        assert!(!role.deleted && role.failed());
        assert!(role.error.as_deref().unwrap().contains("not authorized to perform iam:DeleteRole"), "{role:?}");
        assert!(role.command.as_deref().unwrap().contains("aws iam delete-role --role-name role-env"), "{role:?}");
        // The others went on.
        assert!(leftovers[0].deleted && leftovers[1].deleted);
    }

    #[test]
    fn copilot_yaml_reads_with_its_short_forms() {
        let template = parse_template(COPILOT_YAML).unwrap();
        assert_eq!(
            template["Resources"]["EnvControllerAction"]["Properties"]["ServiceToken"],
            json!({"Fn::GetAtt": ["EnvControllerFunction", "Arn"]})
        );
    }

    #[test]
    fn a_copilot_stack_is_refused_and_a_ferry_stack_deploys_as_it_is() {
        let live = state(&[("copilot-application", "shop")], &[]);
        assert_eq!(before_update(&live, COPILOT_YAML, &stack(&[])).unwrap_err(), Some("v1.34.0".into()));
        assert!(before_update(&live, "{\"Resources\": {}}", &stack(&[])).unwrap().is_none());
    }

    #[test]
    fn an_adopting_stack_gets_the_tag_and_keeps_the_controller_parameters() {
        let retained = serde_json::to_string(&adopt::with_retained_helpers(
            &parse_template(COPILOT_YAML).unwrap(),
            &["EnvControllerAction"],
        ))
        .unwrap();
        let live = state(&[("copilot-application", "shop")], &[("ALBWorkloads", "api,web")]);
        let kept = before_update(&live, &retained, &stack(&[("ALBWorkloads", "web"), ("AppName", "shop")]))
            .unwrap()
            .expect("changed");
        assert_eq!(kept.tags[ADOPTED_TAG], "copilot");
        assert_eq!(kept.parameters["ALBWorkloads"], "api,web");
        assert_eq!(kept.parameters["AppName"], "shop");
        // Once adopted, later deploys carry the tag (so an unchanged deploy stays up to date).
        let adopted = state(&[("copilot-application", "shop"), (ADOPTED_TAG, "copilot")], &[]);
        let carried = before_update(&adopted, "{}", &stack(&[])).unwrap().expect("tag carried");
        assert_eq!(carried.tags[ADOPTED_TAG], "copilot");
    }
}
