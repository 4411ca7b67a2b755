//! Names Copilot gives to what it creates. ferry uses the same names so it
//! can take over an app deployed with Copilot (and Copilot can read ferry's).

/// Stack of one environment: `<app>-<env>`.
pub fn environment_stack(app: &str, env: &str) -> String {
    format!("{app}-{env}")
}

/// Stack of a service or job: `<app>-<env>-<workload>`.
pub fn workload_stack(app: &str, env: &str, workload: &str) -> String {
    format!("{app}-{env}-{workload}")
}

/// App-level IAM roles stack: `<app>-infrastructure-roles`.
pub fn app_roles_stack(app: &str) -> String {
    format!("{app}-infrastructure-roles")
}

/// StackSet with per-region ECR repositories and artifact buckets.
pub fn app_stack_set(app: &str) -> String {
    format!("{app}-infrastructure")
}

/// Pipeline stack: `pipeline-<app>-<pipeline>`.
pub fn pipeline_stack(app: &str, pipeline: &str) -> String {
    format!("pipeline-{app}-{pipeline}")
}

/// ECR repository of a workload: `<app>/<workload>`.
pub fn ecr_repository(app: &str, workload: &str) -> String {
    format!("{app}/{workload}")
}

/// Environment stack export `<app>-<env>-<name>`.
pub fn env_export(app: &str, env: &str, name: &str) -> String {
    format!("{app}-{env}-{name}")
}

/// Cloud Map namespace of an environment: `<env>.<app>.local`.
pub fn service_discovery_namespace(app: &str, env: &str) -> String {
    format!("{env}.{app}.local")
}

/// SSM parameter holding the application record.
pub fn ssm_application(app: &str) -> String {
    format!("/copilot/applications/{app}")
}

/// SSM parameter holding an environment record.
pub fn ssm_environment(app: &str, env: &str) -> String {
    format!("/copilot/applications/{app}/environments/{env}")
}

/// SSM parameter holding a workload record.
pub fn ssm_workload(app: &str, workload: &str) -> String {
    format!("/copilot/applications/{app}/components/{workload}")
}

/// SSM SecureString holding a secret for one environment.
pub fn ssm_secret(app: &str, env: &str, name: &str) -> String {
    format!("/copilot/{app}/{env}/secrets/{name}")
}

/// Tag keys Copilot puts on every stack.
pub mod tags {
    pub const APPLICATION: &str = "copilot-application";
    pub const ENVIRONMENT: &str = "copilot-environment";
    /// Set for services and jobs alike.
    pub const SERVICE: &str = "copilot-service";
}

/// Copilot's rule for app, env and workload names: lowercase letters, digits
/// and hyphens, starting with a letter, at most 255 characters. Returns why a
/// name is refused.
pub fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("the name is empty".into());
    }
    if name.len() > 255 {
        return Err("the name is longer than 255 characters".into());
    }
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err("the name must start with a lowercase letter".into());
    }
    if let Some(c) = name.chars().find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')) {
        return Err(format!("`{c}` is not allowed: use lowercase letters, digits and hyphens"));
    }
    if name.contains("--") || name.ends_with('-') {
        return Err("hyphens may not repeat or end the name".into());
    }
    Ok(())
}

/// The rule [`check_name`] enforces, for hints.
pub const NAME_RULE: &str = "lowercase letters, digits and hyphens, starting with a letter, at most 255 characters";

/// A name turned into one that passes [`check_name`] (lowercase, runs of
/// other characters as one hyphen), for "rename it to" hints; `None` when
/// nothing usable is left.
pub fn suggest_name(name: &str) -> Option<String> {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_start_matches(|c: char| c.is_ascii_digit()).trim_end_matches('-').to_string();
    let out: String = out.chars().take(255).collect();
    check_name(&out).is_ok().then_some(out)
}

/// A plugin's name (from its `info()`, or a `plugins.lock` entry) under
/// [`check_name`]'s rule: it names a file under `copilot/plugins/`, so a
/// name with `/` or `..` must never reach the file system.
pub fn check_plugin_name(name: &str) -> Result<(), String> {
    check_name(name)
}

/// A CloudFormation logical ID from a prefix and a free-form name: logical
/// IDs allow only letters and digits, so `api-gateway` under `Repo` becomes
/// `RepoApiGateway`.
pub fn logical_id(prefix: &str, name: &str) -> String {
    let mut id = prefix.to_string();
    for part in name.split(|c: char| !c.is_ascii_alphanumeric()) {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            id.push(first.to_ascii_uppercase());
            id.extend(chars);
        }
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copilot_names() {
        assert_eq!(workload_stack("chat", "test", "api"), "chat-test-api");
        assert_eq!(environment_stack("chat", "prod"), "chat-prod");
        assert_eq!(pipeline_stack("chat", "release"), "pipeline-chat-release");
        assert_eq!(ssm_secret("chat", "test", "DB"), "/copilot/chat/test/secrets/DB");
        assert_eq!(ssm_workload("chat", "api"), "/copilot/applications/chat/components/api");
        assert_eq!(env_export("chat", "test", "VpcId"), "chat-test-VpcId");
    }

    #[test]
    fn name_rules() {
        assert!(check_name("front-end2").is_ok());
        assert!(check_name("Frontend").is_err());
        assert!(check_name("front_end").unwrap_err().contains('_'));
        assert!(check_name("2front").is_err());
        assert!(check_name("front-").is_err());
        assert!(check_plugin_name("../../../pwned1").unwrap_err().contains('.'));
        assert!(check_plugin_name("a/b").is_err());
        assert_eq!(suggest_name("Api_V2").as_deref(), Some("api-v2"));
        assert_eq!(suggest_name("__"), None);
    }
}
