//! What `ferry run local` reads from AWS: secret values in SSM Parameter
//! Store, CloudFormation exports (`from_cfn`), the deployed task role and
//! temporary credentials for it (STS AssumeRole), or the caller's own
//! credentials. Nothing here changes AWS.

use crate::AwsContext;
use crate::error::{AwsError, AwsErrorKind};
use aws_credential_types::provider::ProvideCredentials;
use std::collections::HashMap;

/// Credentials handed to local containers as `AWS_ACCESS_KEY_ID`,
/// `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`.
#[derive(Clone)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials").field("access_key_id", &self.access_key_id).finish_non_exhaustive()
    }
}

impl Credentials {
    /// The variables an AWS SDK in the container reads.
    pub fn variables(&self) -> Vec<(String, String)> {
        let mut vars = vec![
            ("AWS_ACCESS_KEY_ID".to_string(), self.access_key_id.clone()),
            ("AWS_SECRET_ACCESS_KEY".to_string(), self.secret_access_key.clone()),
        ];
        if let Some(token) = &self.session_token {
            vars.push(("AWS_SESSION_TOKEN".to_string(), token.clone()));
        }
        vars
    }
}

/// The decrypted value of one SSM parameter (a name, or an ARN).
pub async fn ssm_value(aws: &AwsContext, name: &str) -> Result<String, AwsError> {
    let out = aws
        .ssm()
        .get_parameter()
        .name(name)
        .with_decryption(true)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("ssm:GetParameter", Some(name), e))?;
    out.parameter().and_then(|p| p.value()).map(str::to_string).ok_or_else(|| {
        AwsError::new("ssm:GetParameter", Some(name), AwsErrorKind::NotFound, "the parameter has no value")
    })
}

/// Every CloudFormation export of the region: name → value.
pub async fn exports(aws: &AwsContext) -> Result<HashMap<String, String>, AwsError> {
    let mut all = HashMap::new();
    let mut token: Option<String> = None;
    loop {
        let out = aws
            .cloudformation()
            .list_exports()
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("cloudformation:ListExports", None, e))?;
        for export in out.exports() {
            if let (Some(name), Some(value)) = (export.name(), export.value()) {
                all.insert(name.to_string(), value.to_string());
            }
        }
        token = out.next_token().map(str::to_string);
        if token.is_none() {
            return Ok(all);
        }
    }
}

/// The ARN of the task role (logical ID `TaskRole`) of a deployed workload
/// stack, `None` when the stack does not exist or has no task role.
pub async fn task_role_arn(aws: &AwsContext, stack: &str) -> Result<Option<String>, AwsError> {
    let out = match aws
        .cloudformation()
        .describe_stack_resource()
        .stack_name(stack)
        .logical_resource_id("TaskRole")
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) => {
            let err = AwsError::from_sdk("cloudformation:DescribeStackResource", Some(stack), e);
            return if err.kind == AwsErrorKind::NotFound { Ok(None) } else { Err(err) };
        }
    };
    let Some(name) = out.stack_resource_detail().and_then(|d| d.physical_resource_id()).filter(|n| !n.is_empty())
    else {
        return Ok(None);
    };
    if name.starts_with("arn:") {
        return Ok(Some(name.to_string()));
    }
    let identity = aws
        .sts()
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("sts:GetCallerIdentity", None, e))?;
    let partition = identity.arn().and_then(|a| a.split(':').nth(1)).unwrap_or("aws").to_string();
    Ok(Some(format!("arn:{partition}:iam::{}:role/{name}", identity.account().unwrap_or_default())))
}

/// Temporary credentials of `role_arn` (an hour, STS's default).
pub async fn assume_role(aws: &AwsContext, role_arn: &str, session_name: &str) -> Result<Credentials, AwsError> {
    let out = aws
        .sts()
        .assume_role()
        .role_arn(role_arn)
        .role_session_name(session_name)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("sts:AssumeRole", Some(role_arn), e))?;
    let c = out.credentials().ok_or_else(|| {
        AwsError::new("sts:AssumeRole", Some(role_arn), AwsErrorKind::Other, "STS returned no credentials")
    })?;
    Ok(Credentials {
        access_key_id: c.access_key_id().to_string(),
        secret_access_key: c.secret_access_key().to_string(),
        session_token: Some(c.session_token().to_string()),
    })
}

/// The credentials this command runs with (the standard chain's).
pub async fn own_credentials(aws: &AwsContext) -> Result<Credentials, AwsError> {
    let no_creds = |why: String| AwsError::new("ferry", None, AwsErrorKind::Credentials, why);
    let provider = aws.config.credentials_provider().ok_or_else(|| no_creds("no credentials are configured".into()))?;
    let c = provider.provide_credentials().await.map_err(|e| no_creds(e.to_string()))?;
    Ok(Credentials {
        access_key_id: c.access_key_id().to_string(),
        secret_access_key: c.secret_access_key().to_string(),
        session_token: c.session_token().map(str::to_string),
    })
}
