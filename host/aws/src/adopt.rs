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
    /// Deleted by ferry (log groups); otherwise the command that deletes it.
    pub deleted: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
}

/// What the retired helpers of `live` leave behind (read before the second
/// step, while the stack still lists them): the functions, roles and log
/// groups, plus each function's `/aws/lambda/<name>` log group Lambda made.
pub fn leftovers(live: &LiveStack, retired: &[&str]) -> Vec<Leftover> {
    let mut found = Vec::new();
    for id in retired {
        let Some(resource) = live.resources.iter().find(|r| r.logical_id == *id) else { continue };
        let physical = resource.physical_id.clone();
        let command = match resource.resource_type.as_str() {
            "AWS::Lambda::Function" => Some(format!("aws lambda delete-function --function-name {physical}")),
            "AWS::IAM::Role" => Some(format!(
                "aws iam delete-role --role-name {physical} (after detaching its policies: aws iam list-attached-role-policies / list-role-policies)"
            )),
            "AWS::Logs::LogGroup" => None,
            _ => continue,
        };
        let is_function = resource.resource_type == "AWS::Lambda::Function";
        found.push(Leftover {
            logical_id: id.to_string(),
            resource_type: resource.resource_type.clone(),
            physical_id: physical.clone(),
            deleted: false,
            command,
        });
        if is_function {
            found.push(Leftover {
                logical_id: format!("{id} (its log group)"),
                resource_type: "AWS::Logs::LogGroup".into(),
                physical_id: format!("/aws/lambda/{physical}"),
                deleted: false,
                command: None,
            });
        }
    }
    found
}

/// Deletes the log groups among `leftovers` (a missing one is already
/// gone); marks what it deleted.
pub async fn delete_leftovers(aws: &crate::AwsContext, leftovers: &mut [Leftover]) -> Result<(), AwsError> {
    let logs = aws.logs();
    for leftover in leftovers.iter_mut().filter(|l| l.resource_type == "AWS::Logs::LogGroup") {
        match logs.delete_log_group().log_group_name(&leftover.physical_id).send().await {
            Ok(_) => leftover.deleted = true,
            Err(e) => {
                let err = AwsError::from_sdk("logs:DeleteLogGroup", Some(&leftover.physical_id), e);
                let gone = err.kind == crate::error::AwsErrorKind::NotFound
                    || err.code.as_deref() == Some("ResourceNotFoundException");
                if !gone {
                    return Err(err);
                }
            }
        }
    }
    Ok(())
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
