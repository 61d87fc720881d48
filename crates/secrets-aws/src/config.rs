//! Configuration of the AWS backend: typed, with unknown keys rejected.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_secretsmanager::config::retry::RetryConfig;
use aws_sdk_secretsmanager::config::timeout::TimeoutConfig;
use aws_sdk_secretsmanager::config::{ProvideCredentials, SharedCredentialsProvider};
use keystack_secrets_core::{Error, SecretName};
use serde::Deserialize;

use crate::{AwsSecretsManager, FLAVOR};

/// Settings of the AWS backend, as in a secrets manager component's YAML.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwsConfig {
    /// The AWS region (ZenML's `region_name`).
    pub region_name: String,
    /// Another endpoint (a local emulator, a VPC endpoint).
    #[serde(default)]
    pub endpoint_url: Option<String>,
    /// A profile of `~/.aws/config` to take credentials from.
    #[serde(default)]
    pub profile: Option<String>,
    /// Keeps this manager's secrets apart from other managers in the same account.
    #[serde(default)]
    pub namespace: Option<String>,
    /// Days AWS keeps a deleted secret recoverable (7–30); unset deletes at once.
    #[serde(default)]
    pub recovery_window_days: Option<u8>,
    /// Secrets per `ListSecrets` page (1–100, default 100).
    #[serde(default)]
    pub page_size: Option<i32>,
    /// Attempts per call, retries included, with the SDK's standard backoff (default 3).
    #[serde(default)]
    pub max_attempts: Option<u32>,
}

impl fmt::Debug for AwsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Nothing here is a credential, but keep the field list explicit so
        // that one added later is not printed by accident.
        f.debug_struct("AwsConfig")
            .field("region_name", &self.region_name)
            .field("endpoint_url", &self.endpoint_url)
            .field("profile", &self.profile)
            .field("namespace", &self.namespace)
            .field("recovery_window_days", &self.recovery_window_days)
            .finish_non_exhaustive()
    }
}

impl AwsConfig {
    pub(crate) fn page_size(&self) -> i32 {
        self.page_size.unwrap_or(100)
    }
}

/// The keys of [`AwsConfig`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AwsConfigKey {
    /// [`AwsConfig::region_name`].
    RegionName,
    /// [`AwsConfig::endpoint_url`].
    EndpointUrl,
    /// [`AwsConfig::profile`].
    Profile,
    /// [`AwsConfig::namespace`].
    Namespace,
    /// [`AwsConfig::recovery_window_days`].
    RecoveryWindowDays,
    /// [`AwsConfig::page_size`].
    PageSize,
    /// [`AwsConfig::max_attempts`].
    MaxAttempts,
}

const KEYS: &str =
    "region_name, endpoint_url, profile, namespace, recovery_window_days, page_size, max_attempts";

fn invalid(message: String) -> Error {
    Error::InvalidConfig {
        backend: FLAVOR,
        message,
    }
}

impl FromStr for AwsConfigKey {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Ok(match s {
            "region_name" => Self::RegionName,
            "endpoint_url" => Self::EndpointUrl,
            "profile" => Self::Profile,
            "namespace" => Self::Namespace,
            "recovery_window_days" => Self::RecoveryWindowDays,
            "page_size" => Self::PageSize,
            "max_attempts" => Self::MaxAttempts,
            other => {
                return Err(invalid(format!(
                    "unknown setting {other:?}; known settings are {KEYS}"
                )));
            }
        })
    }
}

/// Builds an [`AwsSecretsManager`].
#[derive(Debug, Clone, Default)]
pub struct AwsBuilder {
    region_name: Option<String>,
    endpoint_url: Option<String>,
    profile: Option<String>,
    namespace: Option<String>,
    recovery_window_days: Option<u8>,
    page_size: Option<i32>,
    max_attempts: Option<u32>,
    credentials: Option<CredentialsOverride>,
}

/// Credentials given directly (tests, emulators); `Debug` hides them.
#[derive(Clone)]
struct CredentialsOverride(SharedCredentialsProvider);

impl fmt::Debug for CredentialsOverride {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("******")
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
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        Self {
            region_name: var("AWS_REGION").or_else(|| var("AWS_DEFAULT_REGION")),
            endpoint_url: var("AWS_ENDPOINT_URL_SECRETS_MANAGER")
                .or_else(|| var("AWS_ENDPOINT_URL")),
            profile: var("AWS_PROFILE"),
            ..Self::default()
        }
    }

    /// Sets the region.
    pub fn with_region(mut self, region: impl Into<String>) -> Self {
        self.region_name = Some(region.into());
        self
    }

    /// Sets the endpoint.
    pub fn with_endpoint_url(mut self, url: impl Into<String>) -> Self {
        self.endpoint_url = Some(url.into());
        self
    }

    /// Sets the namespace.
    pub fn with_namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = Some(namespace.into());
        self
    }

    /// Sets the `ListSecrets` page size.
    pub fn with_page_size(mut self, size: i32) -> Self {
        self.page_size = Some(size);
        self
    }

    /// Sets the attempts per call.
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = Some(attempts);
        self
    }

    /// Uses these credentials instead of the standard chain.
    pub fn with_credentials(mut self, provider: impl ProvideCredentials + 'static) -> Self {
        self.credentials = Some(CredentialsOverride(SharedCredentialsProvider::new(
            provider,
        )));
        self
    }

    /// Sets one setting from text, as written in a component.
    pub fn with_config(mut self, key: AwsConfigKey, value: &str) -> Result<Self, Error> {
        let number = |what: &str| invalid(format!("{what} must be a whole number, not {value:?}"));
        match key {
            AwsConfigKey::RegionName => self.region_name = Some(value.to_owned()),
            AwsConfigKey::EndpointUrl => self.endpoint_url = Some(value.to_owned()),
            AwsConfigKey::Profile => self.profile = Some(value.to_owned()),
            AwsConfigKey::Namespace => self.namespace = Some(value.to_owned()),
            AwsConfigKey::RecoveryWindowDays => {
                self.recovery_window_days =
                    Some(value.parse().map_err(|_| number("recovery_window_days"))?);
            }
            AwsConfigKey::PageSize => {
                self.page_size = Some(value.parse().map_err(|_| number("page_size"))?)
            }
            AwsConfigKey::MaxAttempts => {
                self.max_attempts = Some(value.parse().map_err(|_| number("max_attempts"))?)
            }
        }
        Ok(self)
    }

    /// Checks the settings and makes the manager. The SDK client (and the
    /// credential chain) is set up on first use.
    pub fn build(self) -> Result<AwsSecretsManager, Error> {
        let region_name = self
            .region_name
            .filter(|r| !r.is_empty())
            .ok_or_else(|| invalid("set region_name (or AWS_REGION), e.g. eu-west-1".to_owned()))?;
        if let Some(ns) = &self.namespace {
            SecretName::validate(ns).map_err(|e| invalid(format!("namespace: {}", e.problem())))?;
        }
        if let Some(days) = self.recovery_window_days
            && !(7..=30).contains(&days)
        {
            return Err(invalid(format!(
                "recovery_window_days must be between 7 and 30, not {days}"
            )));
        }
        if let Some(size) = self.page_size
            && !(1..=100).contains(&size)
        {
            return Err(invalid(format!(
                "page_size must be between 1 and 100, not {size}"
            )));
        }
        if self.max_attempts == Some(0) {
            return Err(invalid("max_attempts must be at least 1".to_owned()));
        }
        let config = AwsConfig {
            region_name,
            endpoint_url: self.endpoint_url,
            profile: self.profile,
            namespace: self.namespace,
            recovery_window_days: self.recovery_window_days,
            page_size: self.page_size,
            max_attempts: self.max_attempts,
        };
        Ok(AwsSecretsManager::new(
            config,
            self.credentials.map(|c| c.0),
        ))
    }
}

/// The SDK configuration: region, endpoint, profile, the standard credential
/// chain (or the given credentials), the SDK's standard retries and timeouts.
pub(crate) async fn sdk_config(
    config: &AwsConfig,
    credentials: Option<SharedCredentialsProvider>,
) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(config.region_name.clone()))
        .retry_config(RetryConfig::standard().with_max_attempts(config.max_attempts.unwrap_or(3)))
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
