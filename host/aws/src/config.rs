//! Loading AWS configuration the standard way (env, profiles, SSO, IMDS),
//! honouring `AWS_ENDPOINT_URL` so the same binary talks to a local emulator.

use aws_config::BehaviorVersion;

/// The shared SDK configuration of one command.
#[derive(Clone, Debug)]
pub struct AwsContext {
    pub config: aws_config::SdkConfig,
}

impl AwsContext {
    /// Standard credential chain and region; retries with jittered
    /// exponential backoff (the SDK's standard mode, `AWS_MAX_ATTEMPTS` wins).
    pub async fn load(region: Option<String>) -> AwsContext {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(region) = region {
            loader = loader.region(aws_config::Region::new(region));
        }
        AwsContext { config: loader.load().await }
    }

    /// The region in use, if one is configured.
    pub fn region(&self) -> Option<String> {
        self.config.region().map(|r| r.to_string())
    }

    pub fn cloudformation(&self) -> aws_sdk_cloudformation::Client {
        aws_sdk_cloudformation::Client::new(&self.config)
    }

    pub fn ssm(&self) -> aws_sdk_ssm::Client {
        aws_sdk_ssm::Client::new(&self.config)
    }
}
