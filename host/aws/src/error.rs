//! AWS errors classified into what a user can act on.

use std::fmt;

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

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
    /// The HTTP status of AWS's answer, when there was one.
    pub http_status: Option<u16>,
    /// AWS's request ID: what AWS Support and CloudTrail look a call up by.
    pub request_id: Option<Box<str>>,
}

impl AwsError {
    pub fn new(action: &str, resource: Option<&str>, kind: AwsErrorKind, message: impl Into<String>) -> Self {
        AwsError {
            action: action.into(),
            resource: resource.map(str::to_string),
            kind,
            code: None,
            message: message.into(),
            http_status: None,
            request_id: None,
        }
    }

    /// Classifies an SDK error of any operation.
    pub fn from_sdk<E>(
        action: &str,
        resource: Option<&str>,
        err: aws_sdk_cloudformation::error::SdkError<E, HttpResponse>,
    ) -> Self
    where
        E: aws_sdk_cloudformation::error::ProvideErrorMetadata + std::error::Error + 'static,
    {
        use aws_sdk_cloudformation::error::SdkError;
        let raw = match &err {
            SdkError::ServiceError(service) => Some(service.raw()),
            SdkError::ResponseError(response) => Some(response.raw()),
            _ => None,
        };
        let http_status = raw.map(|r| r.status().as_u16());
        let request_id = raw.and_then(request_id_of).or_else(|| match &err {
            SdkError::ServiceError(service) => service.err().meta().extra("aws_request_id").map(Box::from),
            _ => None,
        });
        let (kind, code, message) = match &err {
            SdkError::ServiceError(service) => {
                let e = service.err();
                let code = e.code().map(str::to_string);
                // Some answers carry only a code; say at least that.
                let message = match (e.message().filter(|m| !m.is_empty()), &code) {
                    (Some(m), _) => m.to_string(),
                    (None, Some(code)) => format!("AWS answered {code} without a message"),
                    (None, None) => NO_MESSAGE.to_string(),
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
        AwsError {
            action: action.into(),
            resource: resource.map(str::to_string),
            kind,
            code,
            message,
            http_status,
            request_id,
        }
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
            AwsErrorKind::Invalid | AwsErrorKind::Other if self.answered_without_message() => match &self.request_id {
                Some(id) => format!(
                    "AWS gave no reason: look the call up in CloudTrail, or quote request ID {id} to AWS Support"
                ),
                None => "AWS gave no reason: look the call up in CloudTrail".into(),
            },
            AwsErrorKind::Invalid | AwsErrorKind::Other => "see AWS's message above".into(),
        }
    }

    fn answered_without_message(&self) -> bool {
        (self.message.starts_with("AWS answered") && self.message.contains("without a message"))
            || self.message == NO_MESSAGE
    }
}

const NO_MESSAGE: &str = "AWS answered with an error and no message";

/// The request ID AWS puts in a response's headers (S3 and the JSON and
/// query protocols each name it their own way).
fn request_id_of(raw: &HttpResponse) -> Option<Box<str>> {
    ["x-amzn-requestid", "x-amz-request-id", "x-amzn-request-id"]
        .iter()
        .find_map(|name| raw.headers().get(*name))
        .filter(|id| !id.is_empty())
        .map(Box::from)
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
        // What AWS needs to find the call again: status, code, request ID.
        let details: Vec<String> = [
            self.http_status.map(|s| format!("HTTP {s}")),
            self.code.clone().filter(|c| !self.message.contains(c.as_str())),
            self.request_id.as_ref().map(|id| format!("request ID {id}")),
        ]
        .into_iter()
        .flatten()
        .collect();
        if !details.is_empty() {
            write!(f, " [{}]", details.join(", "))?;
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

    /// A service error as the SDK hands it over: AWS's answer with `status`,
    /// a request ID header and an error body of `code` / `message`.
    fn service_error(
        status: u16,
        code: Option<&str>,
        message: Option<&str>,
    ) -> aws_sdk_cloudformation::error::SdkError<
        aws_sdk_cloudformation::operation::create_change_set::CreateChangeSetError,
        HttpResponse,
    > {
        use aws_sdk_cloudformation::error::ErrorMetadata;
        use aws_sdk_cloudformation::operation::create_change_set::CreateChangeSetError;
        use aws_smithy_runtime_api::http::StatusCode;
        let mut meta = ErrorMetadata::builder();
        if let Some(code) = code {
            meta = meta.code(code);
        }
        if let Some(message) = message {
            meta = meta.message(message);
        }
        let mut raw = HttpResponse::new(
            StatusCode::try_from(status).unwrap(),
            aws_smithy_types::body::SdkBody::from("<ErrorResponse/>"),
        );
        raw.headers_mut().insert("x-amzn-RequestId", "5f1c-request-7");
        aws_sdk_cloudformation::error::SdkError::service_error(CreateChangeSetError::generic(meta.build()), raw)
    }

    #[test]
    fn an_answer_shows_status_code_and_request_id() {
        let e = AwsError::from_sdk(
            "cloudformation:CreateChangeSet",
            Some("chat-test"),
            service_error(400, Some("ValidationError"), Some("Template format error")),
        );
        assert_eq!((e.http_status, e.request_id.as_deref()), (Some(400), Some("5f1c-request-7")));
        assert_eq!(
            e.to_string(),
            "cloudformation:CreateChangeSet refused by AWS (chat-test): Template format error \
             [HTTP 400, ValidationError, request ID 5f1c-request-7]"
        );
    }

    #[test]
    fn an_answer_without_a_message_points_at_the_request_id_not_at_nothing() {
        let e = AwsError::from_sdk("cloudformation:CreateChangeSet", None, service_error(500, None, None));
        let text = e.to_string();
        assert!(
            text.contains("AWS answered with an error and no message [HTTP 500, request ID 5f1c-request-7]"),
            "{text}"
        );
        assert!(!e.hint().contains("above"), "{}", e.hint());
        assert!(e.hint().contains("request ID 5f1c-request-7"), "{}", e.hint());

        let coded = AwsError::from_sdk("cloudformation:CreateChangeSet", None, service_error(400, Some("Weird"), None));
        assert!(
            coded.to_string().ends_with("AWS answered Weird without a message [HTTP 400, request ID 5f1c-request-7]"),
            "{coded}"
        );
        assert!(coded.hint().contains("CloudTrail"), "{}", coded.hint());
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
