//! ECR for image pushes: the workload's repository (created when missing)
//! and registry credentials from `GetAuthorizationToken`, so pushing needs
//! no `aws` CLI and no credential helper.

use crate::error::{AwsError, AwsErrorKind};
use indexmap::IndexMap;

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

    /// The repository's URI (`<registry>/<name>`). The app's StackSet
    /// normally made it; a missing one is created with `tags`.
    pub async fn ensure_repository(&self, name: &str, tags: &IndexMap<String, String>) -> Result<String, AwsError> {
        match self.client.describe_repositories().repository_names(name).send().await {
            Ok(out) => {
                if let Some(uri) = out.repositories().first().and_then(|r| r.repository_uri()) {
                    return Ok(uri.to_string());
                }
            }
            Err(e) if e.as_service_error().is_some_and(|s| s.is_repository_not_found_exception()) => {}
            Err(e) => return Err(AwsError::from_sdk("ecr:DescribeRepositories", Some(name), e)),
        }
        let mut create = self.client.create_repository().repository_name(name);
        for (key, value) in tags {
            create = create.tags(aws_sdk_ecr::types::Tag::builder().key(key).value(value).build().map_err(|e| {
                AwsError::new("ecr:CreateRepository", Some(name), AwsErrorKind::Invalid, e.to_string())
            })?);
        }
        let out = create.send().await.map_err(|e| AwsError::from_sdk("ecr:CreateRepository", Some(name), e))?;
        out.repository().and_then(|r| r.repository_uri()).map(str::to_string).ok_or_else(|| {
            AwsError::new("ecr:CreateRepository", Some(name), AwsErrorKind::Other, "the answer named no repository URI")
        })
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
