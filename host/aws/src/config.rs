//! Loading AWS configuration the standard way (env, profiles, SSO, IMDS),
//! honouring `AWS_ENDPOINT_URL` so the same binary talks to a local emulator.

use crate::calls::ApiCalls;
use crate::error::AwsError;
use aws_config::BehaviorVersion;

/// The shared SDK configuration of one command, and the tally of the
/// requests every client built from it sends.
#[derive(Clone, Debug)]
pub struct AwsContext {
    pub config: aws_config::SdkConfig,
    pub calls: ApiCalls,
}

/// A client of one service sharing the context's configuration and request tally.
macro_rules! client {
    ($(#[$doc:meta])* $method:ident, $sdk:ident) => {
        $(#[$doc])*
        pub fn $method(&self) -> $sdk::Client {
            let config = $sdk::config::Builder::from(&self.config).interceptor(self.calls.clone()).build();
            $sdk::Client::from_conf(config)
        }
    };
}

impl AwsContext {
    /// Standard credential chain and region; retries with jittered
    /// exponential backoff (the SDK's standard mode, `AWS_MAX_ATTEMPTS` wins).
    pub async fn load(region: Option<String>) -> AwsContext {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(region) = region {
            loader = loader.region(aws_config::Region::new(region));
        }
        AwsContext { config: loader.load().await, calls: ApiCalls::default() }
    }

    /// The region in use, if one is configured.
    pub fn region(&self) -> Option<String> {
        self.config.region().map(|r| r.to_string())
    }

    /// The region, or an error saying how to set one.
    pub fn require_region(&self) -> Result<String, AwsError> {
        self.region().ok_or_else(|| {
            AwsError::new("ferry", None, crate::AwsErrorKind::NoRegion, "none is configured for this command")
        })
    }

    /// The account the credentials belong to.
    pub async fn account_id(&self) -> Result<String, AwsError> {
        let out = self
            .sts()
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("sts:GetCallerIdentity", None, e))?;
        Ok(out.account().unwrap_or_default().to_string())
    }

    client!(cloudformation, aws_sdk_cloudformation);
    client!(ssm, aws_sdk_ssm);
    client!(sts, aws_sdk_sts);
    client!(ecs, aws_sdk_ecs);
    client!(ecr, aws_sdk_ecr);
    client!(logs, aws_sdk_cloudwatchlogs);
    client!(elbv2, aws_sdk_elasticloadbalancingv2);
    client!(cloudwatch, aws_sdk_cloudwatch);
    client!(cloudfront, aws_sdk_cloudfront);
    client!(codepipeline, aws_sdk_codepipeline);
    client!(codestar_connections, aws_sdk_codestarconnections);
    client!(route53, aws_sdk_route53);
    client!(ec2, aws_sdk_ec2);
    client!(apprunner, aws_sdk_apprunner);
    client!(sfn, aws_sdk_sfn);
    client!(lambda, aws_sdk_lambda);
    client!(iam, aws_sdk_iam);

    /// CloudFormation in another region (CloudFront's certificates live in
    /// us-east-1 whatever the environment's region).
    pub fn cloudformation_in(&self, region: &str) -> aws_sdk_cloudformation::Client {
        let config = aws_sdk_cloudformation::config::Builder::from(&self.config)
            .region(aws_config::Region::new(region.to_string()))
            .interceptor(self.calls.clone())
            .build();
        aws_sdk_cloudformation::Client::from_conf(config)
    }

    /// S3 with path-style addressing when an endpoint is configured (local
    /// emulators and S3-compatible stores cannot serve bucket subdomains).
    pub fn s3(&self) -> aws_sdk_s3::Client {
        let config = aws_sdk_s3::config::Builder::from(&self.config)
            .interceptor(self.calls.clone())
            .force_path_style(std::env::var_os("AWS_ENDPOINT_URL").is_some())
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }
}
