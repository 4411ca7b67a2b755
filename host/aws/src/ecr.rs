//! ECR for image pushes: whether a workload's repository exists (only the
//! app's StackSet creates them, as Copilot's does) and registry credentials
//! from `GetAuthorizationToken`, so pushing needs no `aws` CLI and no
//! credential helper.

use crate::error::{AwsError, AwsErrorKind};

/// ECR through the official SDK.
pub struct Ecr {
    client: aws_sdk_ecr::Client,
}

/// A registry login: ECR's user (`AWS`) and its short-lived password.
#[derive(Clone)]
pub struct RegistryAuth {
    /// Registry host as the engine names it, e.g. `123456789012.dkr.ecr.us-west-2.amazonaws.com`.
    pub registry: String,
    pub user: String,
    pub password: String,
}

impl std::fmt::Debug for RegistryAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryAuth")
            .field("registry", &self.registry)
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

impl Ecr {
    pub fn new(client: aws_sdk_ecr::Client) -> Self {
        Ecr { client }
    }

    /// Whether repository `name` exists.
    pub async fn exists(&self, name: &str) -> Result<bool, AwsError> {
        match self.client.describe_repositories().repository_names(name).send().await {
            Ok(out) => Ok(!out.repositories().is_empty()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_repository_not_found_exception()) => Ok(false),
            Err(e) => Err(AwsError::from_sdk("ecr:DescribeRepositories", Some(name), e)),
        }
    }

    /// Credentials for the account's registry, decoded from the token.
    pub async fn authorization(&self) -> Result<RegistryAuth, AwsError> {
        const ACTION: &str = "ecr:GetAuthorizationToken";
        let out =
            self.client.get_authorization_token().send().await.map_err(|e| AwsError::from_sdk(ACTION, None, e))?;
        let data = out
            .authorization_data()
            .first()
            .ok_or_else(|| AwsError::new(ACTION, None, AwsErrorKind::Other, "the answer held no authorization data"))?;
        let (user, password) = decode_token(data.authorization_token().unwrap_or_default())
            .map_err(|why| AwsError::new(ACTION, None, AwsErrorKind::Other, why))?;
        let endpoint = data.proxy_endpoint().unwrap_or_default();
        let registry = endpoint.trim_start_matches("https://").trim_start_matches("http://").trim_end_matches('/');
        Ok(RegistryAuth { registry: registry.to_string(), user, password })
    }
}

/// ECR's token is base64 of `user:password`.
fn decode_token(token: &str) -> Result<(String, String), String> {
    let bytes = aws_smithy_types::base64::decode(token).map_err(|e| format!("the token is not base64: {e}"))?;
    let text = String::from_utf8(bytes).map_err(|_| "the token is not text".to_string())?;
    let (user, password) = text.split_once(':').ok_or("the token is not `user:password`")?;
    if user.is_empty() || password.is_empty() {
        return Err("the token has an empty user or password".into());
    }
    Ok((user.to_string(), password.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_decode_to_user_and_password() {
        let token = aws_smithy_types::base64::encode("AWS:eyJwYXlsb2FkIjoi:x");
        assert_eq!(decode_token(&token).unwrap(), ("AWS".to_string(), "eyJwYXlsb2FkIjoi:x".to_string()));
        assert!(decode_token("%%%").unwrap_err().contains("not base64"));
        assert!(decode_token(&aws_smithy_types::base64::encode("nocolon")).unwrap_err().contains("user:password"));
        let debug = format!("{:?}", RegistryAuth { registry: "r".into(), user: "AWS".into(), password: "p4ss".into() });
        assert!(!debug.contains("p4ss"), "{debug}");
    }
}
