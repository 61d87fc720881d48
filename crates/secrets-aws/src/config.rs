//! Configuration of the AWS backend: typed, with unknown keys rejected.

use std::fmt;
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_secretsmanager::config::retry::RetryConfig;
use aws_sdk_secretsmanager::config::timeout::TimeoutConfig;
use aws_sdk_secretsmanager::config::{ProvideCredentials, SharedCredentialsProvider};
use keystack_secrets_core::remote::DEFAULT_MAX_ATTEMPTS;
use keystack_secrets_core::remote::zenml::{Layout, LayoutSettings, Scope};
use keystack_secrets_core::{Error, SecretName};

use crate::{AwsSecretsManager, FLAVOR};

/// Builds an [`AwsSecretsManager`].
#[derive(Debug, Clone, Default)]
pub struct AwsBuilder {
    config: AwsConfig,
    credentials: Option<CredentialsOverride>,
    component: String,
}

keystack_secrets_core::settings! {
    backend = FLAVOR;
    /// Settings of the AWS backend, as in a secrets manager component's YAML.
    pub struct AwsConfig;
    /// The keys of [`AwsConfig`].
    pub enum AwsConfigKey;
    builder = AwsBuilder;
    {
        /// The AWS region (ZenML's `region_name`).
        RegionName region_name: String, required("e.g. eu-west-1"),
            env("AWS_REGION", "AWS_DEFAULT_REGION"), setter(with_region);
        /// Another endpoint (a local emulator, a VPC endpoint).
        EndpointUrl endpoint_url: String,
            env("AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ENDPOINT_URL"), setter(with_endpoint_url);
        /// A profile of `~/.aws/config` to take credentials from.
        Profile profile: String, env("AWS_PROFILE"), setter(with_profile);
        /// Keeps this manager's secrets apart from other managers in the same
        /// account (with `layout: zenml`, ZenML's namespace).
        Namespace namespace: String, setter(with_namespace);
        /// How secrets are named and marked: `keystack`, or `zenml` for the
        /// secrets ZenML's AWS secrets manager wrote (`zenml/<scope>/…`).
        Layout layout: Layout = Layout::Keystack, setter(with_layout);
        /// ZenML's scope, with `layout: zenml`: none, global, component, namespace.
        Scope scope: Scope = Scope::Component, setter(with_scope);
        /// The UUID of the ZenML secrets manager, with `layout: zenml` (scope component).
        ComponentId component_id: String, setter(with_component_id);
        /// Days AWS keeps a deleted secret recoverable (7–30); unset deletes at once.
        RecoveryWindowDays recovery_window_days: u8, range(7, 30);
        /// Secrets per `ListSecrets` page.
        PageSize page_size: i32 = 100, range(1, 100), setter(with_page_size);
        /// Attempts per call, retries included, with the SDK's standard backoff.
        MaxAttempts max_attempts: u32 = DEFAULT_MAX_ATTEMPTS, min(1), setter(with_max_attempts);
    }
}

/// Credentials given directly (tests, emulators); `Debug` hides them.
#[derive(Clone)]
struct CredentialsOverride(SharedCredentialsProvider);

impl fmt::Debug for CredentialsOverride {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(keystack_secrets_core::REDACTED)
    }
}

impl AwsBuilder {
    /// A builder with nothing set.
    pub fn new() -> Self {
        Self::default()
    }

    /// A builder from the standard variables: `AWS_REGION` (or
    /// `AWS_DEFAULT_REGION`), `AWS_ENDPOINT_URL_SECRETS_MANAGER` (or
    /// `AWS_ENDPOINT_URL`), `AWS_PROFILE`. Credentials always come from the
    /// standard chain unless given with [`AwsBuilder::with_credentials`].
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`AwsBuilder::from_env`] over any variable lookup.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        Self {
            config: AwsConfig::from_lookup(&lookup),
            credentials: None,
            component: String::new(),
        }
    }

    /// The component's name (ZenML's layout tags secrets with it).
    pub fn with_component_name(mut self, name: &str) -> Self {
        self.component = name.to_owned();
        self
    }

    /// Uses these credentials instead of the standard chain.
    pub fn with_credentials(mut self, provider: impl ProvideCredentials + 'static) -> Self {
        self.credentials = Some(CredentialsOverride(SharedCredentialsProvider::new(
            provider,
        )));
        self
    }

    /// Checks the settings and makes the manager. The SDK client (and the
    /// credential chain) is set up on first use.
    pub fn build(self) -> Result<AwsSecretsManager, Error> {
        let config = self.config;
        config.check_required()?;
        config.check_bounds()?;
        let zenml = LayoutSettings {
            layout: config.layout,
            scope: config.scope,
            namespace: config.namespace.as_deref(),
            component_id: config.component_id.as_deref(),
        }
        .zenml(FLAVOR, &self.component, zenml_segment, Ok(()))?;
        if let (None, Some(ns)) = (&zenml, &config.namespace) {
            SecretName::validate(ns).map_err(|e| {
                Error::invalid_config(FLAVOR, format!("namespace: {}", e.problem()))
            })?;
        }
        Ok(AwsSecretsManager::new(
            config,
            self.credentials.map(|c| c.0),
            zenml,
        ))
    }
}

/// ZenML's rule for an AWS secret name or namespace
/// (`validate_aws_secret_name_or_namespace`).
fn zenml_segment(segment: &str) -> Result<(), String> {
    if segment
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_+=.@-".contains(c))
    {
        Ok(())
    } else {
        Err("ZenML's AWS names allow only letters, digits and _+=.@-".to_owned())
    }
}

keystack_secrets_core::backend_factory!(
    /// Builds AWS managers from components: the component's settings over the
    /// standard variables; credentials from the standard chain.
    AwsFactory,
    FLAVOR,
    AwsConfig,
    AwsBuilder,
    component(with_component_name)
);

/// The SDK configuration: region, endpoint, profile, the standard credential
/// chain (or the given credentials), the SDK's standard retries and timeouts.
pub(crate) async fn sdk_config(
    config: &AwsConfig,
    credentials: Option<SharedCredentialsProvider>,
) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(config.region_name.clone().unwrap_or_default()))
        .retry_config(RetryConfig::standard().with_max_attempts(config.max_attempts()))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(5))
                .operation_attempt_timeout(Duration::from_secs(30))
                .build(),
        );
    if let Some(url) = &config.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    if let Some(profile) = &config.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(credentials) = credentials {
        loader = loader.credentials_provider(credentials);
    }
    loader.load().await
}
