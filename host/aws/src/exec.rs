//! ECS Exec (`svc exec`, `task exec`): `ecs:ExecuteCommand` opens a Session
//! Manager session in a running container; the Session Manager plugin
//! (`session-manager-plugin`) carries the terminal over it. ferry hands the
//! session to the plugin exactly as the AWS CLI does, so the plugin cannot
//! tell the two apart.

use crate::error::{AwsError, AwsErrorKind};
use serde::Serialize;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// The program the session is handed to.
pub const PLUGIN: &str = "session-manager-plugin";
/// Where to get it.
pub const PLUGIN_INSTALL_URL: &str =
    "https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager-working-with-install-plugin.html";

/// A session ECS opened: what the plugin needs to connect.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExecSession {
    #[serde(rename = "sessionId")]
    pub session_id: String,
    #[serde(rename = "streamUrl")]
    pub stream_url: String,
    #[serde(rename = "tokenValue")]
    pub token_value: String,
}

/// Opens an interactive session running `command` in `container` of a task.
pub async fn execute_command(
    ecs: &aws_sdk_ecs::Client,
    cluster: &str,
    task: &str,
    container: &str,
    command: &str,
) -> Result<ExecSession, AwsError> {
    let out = ecs
        .execute_command()
        .cluster(cluster)
        .task(task)
        .container(container)
        .command(command)
        .interactive(true)
        .send()
        .await
        .map_err(|e| {
            let err = AwsError::from_sdk("ecs:ExecuteCommand", Some(task), e);
            if err.message.contains("execute command was not enabled") {
                AwsError { kind: AwsErrorKind::Invalid, ..err }
            } else {
                err
            }
        })?;
    let session = out.session().ok_or_else(|| {
        AwsError::new("ecs:ExecuteCommand", Some(task), AwsErrorKind::Other, "ECS answered without a session")
    })?;
    Ok(ExecSession {
        session_id: session.session_id().unwrap_or_default().to_string(),
        stream_url: session.stream_url().unwrap_or_default().to_string(),
        token_value: session.token_value().unwrap_or_default().to_string(),
    })
}

/// Session Manager's target for a container: `ecs:<cluster>_<task id>_<runtime id>`.
pub fn target(cluster: &str, task_arn: &str, runtime_id: &str) -> String {
    let cluster = cluster.rsplit('/').next().unwrap_or(cluster);
    let task = task_arn.rsplit('/').next().unwrap_or(task_arn);
    format!("ecs:{cluster}_{task}_{runtime_id}")
}

/// The arguments the AWS CLI gives the plugin, in its order: the session
/// (JSON), the region, `StartSession`, the profile name (may be empty), the
/// request (JSON: the target), and the ECS endpoint the session came from.
pub fn plugin_args(session: &ExecSession, region: &str, profile: &str, target: &str, endpoint: &str) -> Vec<String> {
    vec![
        serde_json::to_string(session).unwrap_or_default(),
        region.to_string(),
        "StartSession".to_string(),
        profile.to_string(),
        json!({"Target": target}).to_string(),
        endpoint.to_string(),
    ]
}

/// The ECS endpoint of a region (or the one `AWS_ENDPOINT_URL` sets).
pub fn ecs_endpoint(region: &str) -> String {
    for var in ["AWS_ENDPOINT_URL_ECS", "AWS_ENDPOINT_URL"] {
        if let Some(url) = std::env::var(var).ok().filter(|u| !u.trim().is_empty()) {
            return url.trim().to_string();
        }
    }
    format!("https://ecs.{region}.amazonaws.com")
}

/// The plugin on `PATH`, if installed.
pub fn find_plugin(path: Option<&std::ffi::OsStr>) -> Option<PathBuf> {
    let path = path?;
    std::env::split_paths(path).map(|dir| dir.join(PLUGIN)).find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        path.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file() || path.with_extension("exe").is_file()
    }
}

/// Whether ECS Exec is turned on for a service (`exec: true` in its manifest).
pub async fn service_exec_enabled(ecs: &aws_sdk_ecs::Client, cluster: &str, service: &str) -> Result<bool, AwsError> {
    let out = ecs
        .describe_services()
        .cluster(cluster)
        .services(service)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("ecs:DescribeServices", Some(service), e))?;
    let found = out.services().first().ok_or_else(|| {
        AwsError::new("ecs:DescribeServices", Some(service), AwsErrorKind::NotFound, "ECS does not know this service")
    })?;
    Ok(found.enable_execute_command())
}

/// What a command's `--json` prints before handing over.
pub fn describe(cluster: &str, task: &str, container: &str, command: &str, session: &ExecSession) -> Value {
    json!({
        "event": "exec_session",
        "cluster": cluster,
        "task": task,
        "container": container,
        "command": command,
        "session_id": session.session_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hands_over_as_the_aws_cli_does() {
        let session = ExecSession { session_id: "s-1".into(), stream_url: "wss://x".into(), token_value: "tok".into() };
        let target = target(
            "arn:aws:ecs:us-west-2:1:cluster/chat-test-Cluster",
            "arn:aws:ecs:us-west-2:1:task/c/abc",
            "abc-123",
        );
        assert_eq!(target, "ecs:chat-test-Cluster_abc_abc-123");
        let args = plugin_args(&session, "us-west-2", "", &target, "https://ecs.us-west-2.amazonaws.com");
        assert_eq!(args[0], r#"{"sessionId":"s-1","streamUrl":"wss://x","tokenValue":"tok"}"#);
        assert_eq!(args[1..4], ["us-west-2", "StartSession", ""]);
        assert_eq!(args[4], r#"{"Target":"ecs:chat-test-Cluster_abc_abc-123"}"#);
        assert_eq!(args[5], "https://ecs.us-west-2.amazonaws.com");
    }

    #[test]
    fn finds_the_plugin_on_path_only_when_executable() {
        let dir = tempfile::tempdir().unwrap();
        let path = std::env::join_paths([dir.path()]).unwrap();
        assert_eq!(find_plugin(Some(&path)), None);
        let plugin = dir.path().join(PLUGIN);
        std::fs::write(&plugin, "#!/bin/sh\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(find_plugin(Some(&path)), None, "not executable");
            std::fs::set_permissions(&plugin, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        assert_eq!(find_plugin(Some(&path)), Some(plugin));
        assert_eq!(find_plugin(None), None);
    }
}
