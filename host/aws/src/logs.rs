//! Reading a workload's CloudWatch Logs group (`/copilot/<app>-<env>-<name>`).

use crate::app::Session;
use crate::error::{AwsError, AwsErrorKind};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogEvent {
    /// Milliseconds since the Unix epoch.
    pub timestamp: i64,
    pub stream: String,
    pub message: String,
    #[serde(skip)]
    pub id: String,
}

/// The log group Copilot's templates (and ferry's) give a workload.
pub fn log_group(app: &str, env: &str, workload: &str) -> String {
    format!("/copilot/{app}-{env}-{workload}")
}

impl Session {
    /// Events at or after `start_ms`, oldest first, at most `limit`.
    pub async fn log_events(&self, group: &str, start_ms: i64, limit: usize) -> Result<Vec<LogEvent>, AwsError> {
        let logs = self.aws.logs();
        let mut events = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = logs
                .filter_log_events()
                .log_group_name(group)
                .start_time(start_ms)
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| {
                    let err = AwsError::from_sdk("logs:FilterLogEvents", Some(group), e);
                    if err.kind == AwsErrorKind::NotFound || err.code.as_deref() == Some("ResourceNotFoundException") {
                        AwsError::new(
                            "logs:FilterLogEvents",
                            Some(group),
                            AwsErrorKind::NotFound,
                            "the log group does not exist: is the workload deployed to this environment?",
                        )
                    } else {
                        err
                    }
                })?;
            events.extend(page.events().iter().map(|e| LogEvent {
                timestamp: e.timestamp().unwrap_or_default(),
                stream: e.log_stream_name().unwrap_or_default().to_string(),
                message: e.message().unwrap_or_default().trim_end().to_string(),
                id: e.event_id().unwrap_or_default().to_string(),
            }));
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        events.sort_by_key(|e| e.timestamp);
        // The newest `limit` events, still oldest first.
        if events.len() > limit {
            events.drain(..events.len() - limit);
        }
        Ok(events)
    }
}

/// `30s`, `10m`, `2h`, `1d` → milliseconds.
pub fn parse_since(text: &str) -> Result<i64, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: i64 = number.parse().map_err(|_| format!("`{text}` is not a duration like 30s, 10m, 2h or 1d"))?;
    let unit_ms = match unit {
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(format!("`{text}` has an unknown unit: use s, m, h or d (e.g. 10m)")),
    };
    Ok(n * unit_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_since("30s"), Ok(30_000));
        assert_eq!(parse_since("10m"), Ok(600_000));
        assert_eq!(parse_since("2h"), Ok(7_200_000));
        assert!(parse_since("ten").is_err());
        assert!(parse_since("5y").unwrap_err().contains("unknown unit"));
    }
}

/// The log groups of `stack`'s template that a `DeletionPolicy: Retain`
/// left behind, for a stack about to be created (see
/// [`crate::deploy::Deployer::import_retained_log_groups`]). No call for a
/// template without a retained log group.
pub(crate) async fn existing_retained_log_groups(
    logs: &aws_sdk_cloudwatchlogs::Client,
    stack: &crate::deploy::Deployable,
) -> Result<Vec<crate::cfn::ResourceImport>, AwsError> {
    let mut existing = Vec::new();
    for (logical_id, name) in retained_log_groups(&stack.template, &stack.parameters) {
        let page = logs
            .describe_log_groups()
            .log_group_name_prefix(&name)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("logs:DescribeLogGroups", Some(&name), e))?;
        if page.log_groups().iter().any(|g| g.log_group_name() == Some(name.as_str())) {
            existing.push(crate::cfn::ResourceImport {
                logical_id,
                resource_type: "AWS::Logs::LogGroup".into(),
                identifier: [("LogGroupName".to_string(), name)].into_iter().collect(),
            });
        }
    }
    Ok(existing)
}

/// The retained log groups of a template, with their names resolved from
/// the stack's parameters (a literal, or `Fn::Sub` of parameters only).
fn retained_log_groups(
    template: &serde_json::Value,
    parameters: &indexmap::IndexMap<String, String>,
) -> Vec<(String, String)> {
    let Some(resources) = template.get("Resources").and_then(serde_json::Value::as_object) else { return Vec::new() };
    resources
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::Logs::LogGroup" && r["DeletionPolicy"] == "Retain")
        .filter_map(|(id, r)| {
            let name = &r["Properties"]["LogGroupName"];
            let name = match (name.as_str(), name.get("Fn::Sub").and_then(serde_json::Value::as_str)) {
                (Some(literal), _) => literal.to_string(),
                (None, Some(text)) => {
                    parameters.iter().fold(text.to_string(), |t, (k, v)| t.replace(&format!("${{{k}}}"), v))
                }
                _ => return None,
            };
            (!name.contains("${")).then(|| (id.clone(), name))
        })
        .collect()
}

#[cfg(test)]
mod retained_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_retained_log_group_is_named_from_the_stack_parameters() {
        let template = json!({"Resources": {
            "LogGroup": {"Type": "AWS::Logs::LogGroup", "DeletionPolicy": "Retain",
                "Properties": {"LogGroupName": {"Fn::Sub": "/copilot/${AppName}-${EnvName}-${WorkloadName}"}}},
            "Deleted": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "/gone/with/the/stack"}},
            "Unresolved": {"Type": "AWS::Logs::LogGroup", "DeletionPolicy": "Retain",
                "Properties": {"LogGroupName": {"Fn::Sub": "/x/${AWS::StackName}"}}}}});
        let parameters: indexmap::IndexMap<String, String> =
            [("AppName", "chat"), ("EnvName", "test"), ("WorkloadName", "api")]
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .into_iter()
                .collect();
        assert_eq!(
            retained_log_groups(&template, &parameters),
            [("LogGroup".to_string(), "/copilot/chat-test-api".to_string())]
        );
    }
}
