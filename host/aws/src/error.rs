//! AWS errors classified into what a user can act on.

use std::fmt;

/// Why an AWS call failed, in terms of what the user does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AwsErrorKind {
    /// No credentials, or expired / invalid ones.
    Credentials,
    /// No region to send requests to.
    NoRegion,
    /// The caller may not perform the action.
    AccessDenied,
    /// Throttled even after retries.
    Throttled,
    /// The endpoint could not be reached (network, wrong region, emulator down).
    Unreachable,
    /// The named resource does not exist.
    NotFound,
    /// The request was refused as invalid.
    Invalid,
    /// Anything else.
    Other,
}

/// A failed AWS call: the action (`cloudformation:CreateChangeSet`), the
/// resource it was about, AWS's message, and the classification.
#[derive(Debug, Clone)]
pub struct AwsError {
    pub action: String,
    pub resource: Option<String>,
    pub kind: AwsErrorKind,
    pub code: Option<String>,
    pub message: String,
}

impl AwsError {
    pub fn new(action: &str, resource: Option<&str>, kind: AwsErrorKind, message: impl Into<String>) -> Self {
        AwsError {
            action: action.into(),
            resource: resource.map(str::to_string),
            kind,
            code: None,
            message: message.into(),
        }
    }

    /// Classifies an SDK error of any operation.
    pub fn from_sdk<E, R>(
        action: &str,
        resource: Option<&str>,
        err: aws_sdk_cloudformation::error::SdkError<E, R>,
    ) -> Self
    where
        E: aws_sdk_cloudformation::error::ProvideErrorMetadata + std::error::Error + 'static,
        R: fmt::Debug,
    {
        use aws_sdk_cloudformation::error::SdkError;
        let (kind, code, message) = match &err {
            SdkError::ServiceError(service) => {
                let e = service.err();
                let code = e.code().map(str::to_string);
                // Some answers carry only a code; say at least that.
                let message = match (e.message().filter(|m| !m.is_empty()), &code) {
                    (Some(m), _) => m.to_string(),
                    (None, Some(code)) => format!("AWS answered {code} without a message"),
                    (None, None) => "AWS answered with an error and no message".to_string(),
                };
                (classify_code(code.as_deref(), &message), code, message)
            }
            SdkError::DispatchFailure(dispatch) => {
                let text = format!("{:?}", dispatch);
                if text.to_lowercase().contains("credential") {
                    (AwsErrorKind::Credentials, None, "no usable AWS credentials".to_string())
                } else {
                    (AwsErrorKind::Unreachable, None, describe_chain(&err))
                }
            }
            SdkError::TimeoutError(_) => (AwsErrorKind::Unreachable, None, "the request timed out".to_string()),
            _ => {
                let text = describe_chain(&err);
                let kind = if text.to_lowercase().contains("credential") {
                    AwsErrorKind::Credentials
                } else {
                    AwsErrorKind::Other
                };
                (kind, None, text)
            }
        };
        AwsError { action: action.into(), resource: resource.map(str::to_string), kind, code, message }
    }

    /// What the user can do about it.
    pub fn hint(&self) -> String {
        match self.kind {
            AwsErrorKind::NoRegion => {
                "set AWS_REGION (e.g. `export AWS_REGION=us-west-2`) or `region` in your AWS profile (~/.aws/config)".into()
            }
            AwsErrorKind::Credentials => {
                "set AWS credentials (AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) or refresh an expired session (`aws sso login`)".into()
            }
            AwsErrorKind::AccessDenied => format!(
                "grant `{}`{} to the identity ferry runs as",
                self.action,
                self.resource.as_deref().map(|r| format!(" on {r}")).unwrap_or_default()
            ),
            AwsErrorKind::Throttled => "AWS is throttling this account: wait a minute and run the command again".into(),
            AwsErrorKind::Unreachable => {
                "check the network, the region (AWS_REGION), and AWS_ENDPOINT_URL if you use a local emulator".into()
            }
            AwsErrorKind::NotFound => "check the name, the region and the account".into(),
            AwsErrorKind::Invalid | AwsErrorKind::Other => "see AWS's message above".into(),
        }
    }
}

fn describe_chain(err: &dyn std::error::Error) -> String {
    let mut parts = vec![err.to_string()];
    let mut source = err.source();
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    parts.dedup();
    parts.join(": ")
}

/// Maps an AWS error code to a kind.
pub fn classify_code(code: Option<&str>, message: &str) -> AwsErrorKind {
    match code.unwrap_or_default() {
        "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation" | "AuthorizationError" => {
            AwsErrorKind::AccessDenied
        }
        "ExpiredToken"
        | "ExpiredTokenException"
        | "InvalidClientTokenId"
        | "UnrecognizedClientException"
        | "SignatureDoesNotMatch"
        | "MissingAuthenticationToken" => AwsErrorKind::Credentials,
        "Throttling" | "ThrottlingException" | "TooManyRequestsException" | "RequestLimitExceeded" => {
            AwsErrorKind::Throttled
        }
        "ParameterNotFound" | "ChangeSetNotFound" | "ChangeSetNotFoundException" | "StackNotFoundException" => {
            AwsErrorKind::NotFound
        }
        "ValidationError" if message.contains("does not exist") => AwsErrorKind::NotFound,
        "ValidationError" | "InvalidParameterValue" | "ValidationException" => AwsErrorKind::Invalid,
        _ => AwsErrorKind::Other,
    }
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            AwsErrorKind::Credentials => "AWS credentials are missing or expired",
            AwsErrorKind::NoRegion => "needs an AWS region",
            AwsErrorKind::AccessDenied => "access denied",
            AwsErrorKind::Throttled => "throttled by AWS",
            AwsErrorKind::Unreachable => "cannot reach AWS",
            AwsErrorKind::NotFound => "not found",
            AwsErrorKind::Invalid => "refused by AWS",
            AwsErrorKind::Other => "failed",
        };
        write!(f, "{} {what}", self.action)?;
        if let Some(resource) = &self.resource {
            write!(f, " ({resource})")?;
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for AwsError {}

impl AwsError {
    /// [`AwsError::hint`], as every error's hint is: optional.
    pub fn hint_text(&self) -> Option<String> {
        Some(self.hint())
    }
}

impl ferry_core::Explain for AwsError {
    fn hint(&self) -> Option<String> {
        self.hint_text()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_region_says_so_and_how_to_set_it() {
        let e = AwsError::new("ferry", None, AwsErrorKind::NoRegion, "none is configured");
        let text = e.to_string();
        assert!(text.starts_with("ferry needs an AWS region: none is configured"), "{text}");
        assert!(e.hint().starts_with("set AWS_REGION"), "{}", e.hint());
        assert!(!text.contains("credentials"), "{text}");
    }

    #[test]
    fn codes_map_to_actionable_kinds() {
        assert_eq!(classify_code(Some("ExpiredToken"), ""), AwsErrorKind::Credentials);
        assert_eq!(classify_code(Some("AccessDenied"), ""), AwsErrorKind::AccessDenied);
        assert_eq!(classify_code(Some("Throttling"), "Rate exceeded"), AwsErrorKind::Throttled);
        assert_eq!(classify_code(Some("ValidationError"), "Stack with id x does not exist"), AwsErrorKind::NotFound);
        assert_eq!(classify_code(Some("ValidationError"), "Template format error"), AwsErrorKind::Invalid);
    }

    #[test]
    fn access_denied_names_action_and_resource() {
        let e = AwsError::new(
            "cloudformation:CreateChangeSet",
            Some("chat-test"),
            AwsErrorKind::AccessDenied,
            "User: x is not authorized",
        );
        let text = e.to_string();
        assert!(text.starts_with("cloudformation:CreateChangeSet access denied (chat-test): User: x"), "{text}");
        assert!(e.hint().contains("grant `cloudformation:CreateChangeSet` on chat-test"), "{}", e.hint());
    }
}
