//! The AWS backend against an emulator (moto, started by `cargo xtask test`)
//! or, where noted, against nothing at all.

mod aws;
mod conformance;

use std::sync::Once;
use std::sync::atomic::{AtomicUsize, Ordering};

use keystack_secrets_aws::{AwsBuilder, AwsSecretsManager, Credentials};

/// Where the emulator is; `None` skips the emulated tests.
pub(crate) fn endpoint() -> Option<String> {
    static SKIP: Once = Once::new();
    let endpoint = std::env::var("KEYSTACK_TEST_AWS_ENDPOINT")
        .ok()
        .filter(|e| !e.is_empty());
    if endpoint.is_none() {
        SKIP.call_once(|| {
            // Written to the stderr handle, not with eprintln!, so that the
            // test harness's output capture does not hide it.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "skipping the AWS emulator suite: KEYSTACK_TEST_AWS_ENDPOINT is not set (`cargo xtask test` starts moto and sets it)"
            );
        });
    }
    endpoint
}

/// A namespace no other test or run uses.
pub(crate) fn fresh_namespace() -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "t{}x{nanos:x}x{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
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
