//! The AWS backend against an emulator (moto, started by `cargo xtask test`)
//! or, where noted, against nothing at all.

mod aws;

use keystack_secrets_aws::{AwsBuilder, AwsSecretsManager, Credentials};

/// Where the emulator is; `None` skips the emulated tests.
pub(crate) fn endpoint() -> Option<String> {
    keystack_secrets_core::testkit::emulator_var("KEYSTACK_TEST_AWS_ENDPOINT", "AWS emulator suite")
}

/// A namespace no other test or run uses.
pub(crate) fn fresh_namespace() -> String {
    keystack_secrets_core::testkit::unique_id()
}

pub(crate) fn credentials() -> Credentials {
    Credentials::new("testing", "testing", None, None, "keystack-tests")
}

pub(crate) fn builder(endpoint: &str, namespace: &str) -> AwsBuilder {
    AwsBuilder::new()
        .with_region("us-east-1")
        .with_endpoint_url(endpoint)
        .with_namespace(namespace)
        .with_credentials(credentials())
}

pub(crate) fn manager(endpoint: &str, namespace: &str) -> AwsSecretsManager {
    builder(endpoint, namespace).build().unwrap()
}

/// A plain SDK client on the emulator, to seed and inspect secrets behind Keystack's back.
pub(crate) fn raw_client(endpoint: &str) -> aws_sdk_secretsmanager::Client {
    let config = aws_sdk_secretsmanager::Config::builder()
        .behavior_version(aws_sdk_secretsmanager::config::BehaviorVersion::latest())
        .region(aws_sdk_secretsmanager::config::Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(credentials())
        // moto's server is threaded and occasionally answers 500 when listing
        // while another thread writes; retry like Keystack's own client does.
        .retry_config(
            aws_sdk_secretsmanager::config::retry::RetryConfig::standard().with_max_attempts(5),
        )
        .build();
    aws_sdk_secretsmanager::Client::from_conf(config)
}
