//! Configuration of the GCP backend: typed, with unknown keys rejected.

use std::str::FromStr;
use std::time::Duration;

use keystack_secrets_core::Error;
use serde::Deserialize;

use crate::{FLAVOR, GcpSecretsManager};

/// Settings of the GCP backend, as in a secrets manager component's YAML.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GcpConfig {
    /// The project that holds the secrets (ZenML's `project_id`).
    pub project_id: String,
    /// Another endpoint: a regional one (`https://…`), or an emulator
    /// (`http://…`, which is called without credentials).
    #[serde(default)]
    pub endpoint: Option<String>,
    /// Keeps this manager's secrets apart from other managers in the same
    /// project: lowercase letters, digits, `_` and `-`, at most 63 (a label value).
    #[serde(default)]
    pub namespace: Option<String>,
    /// Versions of a secret that stay enabled after an update (default 1:
    /// only the newest); older ones are disabled.
    #[serde(default)]
    pub keep_versions: Option<u32>,
    /// Destroy (not just disable) versions beyond `keep_versions`: their data
    /// is then gone for good (default false).
    #[serde(default)]
    pub destroy_old_versions: Option<bool>,
    /// Secrets per `ListSecrets` page (1–25,000, default 100).
    #[serde(default)]
    pub page_size: Option<i32>,
    /// Attempts per call for transient failures (UNAVAILABLE,
    /// RESOURCE_EXHAUSTED, DEADLINE_EXCEEDED, connection errors), default 3.
    #[serde(default)]
    pub max_attempts: Option<u32>,
    /// Seconds before one attempt is abandoned (default 30).
    #[serde(default)]
    pub timeout_seconds: Option<u64>,
}

impl GcpConfig {
    pub(crate) fn keep_versions(&self) -> usize {
        self.keep_versions.unwrap_or(1) as usize
    }

    pub(crate) fn page_size(&self) -> i32 {
        self.page_size.unwrap_or(100)
    }

    pub(crate) fn max_attempts(&self) -> u32 {
        self.max_attempts.unwrap_or(3)
    }

    pub(crate) fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_seconds.unwrap_or(30))
    }

    /// Whether the endpoint is an emulator: plain HTTP, which Google never serves.
    pub(crate) fn is_emulator(&self) -> bool {
        self.endpoint
            .as_deref()
            .is_some_and(|e| e.starts_with("http://"))
    }

    /// Where requests go, for messages.
    pub(crate) fn endpoint_shown(&self) -> &str {
        self.endpoint
            .as_deref()
            .unwrap_or("https://secretmanager.googleapis.com")
    }
}

/// The keys of [`GcpConfig`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum GcpConfigKey {
    /// [`GcpConfig::project_id`].
    ProjectId,
    /// [`GcpConfig::endpoint`].
    Endpoint,
    /// [`GcpConfig::namespace`].
    Namespace,
    /// [`GcpConfig::keep_versions`].
    KeepVersions,
    /// [`GcpConfig::destroy_old_versions`].
    DestroyOldVersions,
    /// [`GcpConfig::page_size`].
    PageSize,
    /// [`GcpConfig::max_attempts`].
    MaxAttempts,
    /// [`GcpConfig::timeout_seconds`].
    TimeoutSeconds,
}

const KEYS: &str = "project_id, endpoint, namespace, keep_versions, destroy_old_versions, \
                    page_size, max_attempts, timeout_seconds";

pub(crate) fn invalid(message: String) -> Error {
    Error::InvalidConfig {
        backend: FLAVOR,
        message,
    }
}

impl FromStr for GcpConfigKey {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Ok(match s {
            "project_id" => Self::ProjectId,
            "endpoint" => Self::Endpoint,
            "namespace" => Self::Namespace,
            "keep_versions" => Self::KeepVersions,
            "destroy_old_versions" => Self::DestroyOldVersions,
            "page_size" => Self::PageSize,
            "max_attempts" => Self::MaxAttempts,
            "timeout_seconds" => Self::TimeoutSeconds,
            other => {
                return Err(invalid(format!(
                    "unknown setting {other:?}; known settings are {KEYS}"
                )));
            }
        })
    }
}

/// Builds a [`GcpSecretsManager`].
#[derive(Debug, Clone, Default)]
pub struct GcpBuilder {
    project_id: Option<String>,
    endpoint: Option<String>,
    namespace: Option<String>,
    keep_versions: Option<u32>,
    destroy_old_versions: Option<bool>,
    page_size: Option<i32>,
    max_attempts: Option<u32>,
    timeout_seconds: Option<u64>,
}

impl GcpBuilder {
    /// A builder with nothing set.
    pub fn new() -> Self {
        Self::default()
    }

    /// A builder from the standard variables: `GOOGLE_CLOUD_PROJECT` (or
    /// `CLOUDSDK_CORE_PROJECT`) for the project. Credentials are Application
    /// Default Credentials, looked up when the client is first used.
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`GcpBuilder::from_env`] over any variable lookup.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let var = |name: &str| lookup(name).filter(|v| !v.is_empty());
        Self {
            project_id: var("GOOGLE_CLOUD_PROJECT").or_else(|| var("CLOUDSDK_CORE_PROJECT")),
            ..Self::default()
        }
    }

    /// Sets the project.
    pub fn with_project_id(mut self, project: impl Into<String>) -> Self {
        self.project_id = Some(project.into());
        self
    }

    /// Sets the endpoint.
    pub fn with_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// Sets the namespace.
    pub fn with_namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = Some(namespace.into());
        self
    }

    /// Sets how many versions stay enabled after an update.
    pub fn with_keep_versions(mut self, keep: u32) -> Self {
        self.keep_versions = Some(keep);
        self
    }

    /// Destroys versions beyond `keep_versions` instead of disabling them.
    pub fn with_destroy_old_versions(mut self, destroy: bool) -> Self {
        self.destroy_old_versions = Some(destroy);
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

    /// Sets the per-attempt timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout_seconds = Some(timeout.as_secs().max(1));
        self
    }

    /// Sets one setting from text, as written in a component.
    pub fn with_config(mut self, key: GcpConfigKey, value: &str) -> Result<Self, Error> {
        let number = |what: &str| invalid(format!("{what} must be a whole number, not {value:?}"));
        match key {
            GcpConfigKey::ProjectId => self.project_id = Some(value.to_owned()),
            GcpConfigKey::Endpoint => self.endpoint = Some(value.to_owned()),
            GcpConfigKey::Namespace => self.namespace = Some(value.to_owned()),
            GcpConfigKey::KeepVersions => {
                self.keep_versions = Some(value.parse().map_err(|_| number("keep_versions"))?)
            }
            GcpConfigKey::DestroyOldVersions => {
                self.destroy_old_versions = Some(match value {
                    "true" => true,
                    "false" => false,
                    _ => {
                        return Err(invalid(format!(
                            "destroy_old_versions must be true or false, not {value:?}"
                        )));
                    }
                })
            }
            GcpConfigKey::PageSize => {
                self.page_size = Some(value.parse().map_err(|_| number("page_size"))?)
            }
            GcpConfigKey::MaxAttempts => {
                self.max_attempts = Some(value.parse().map_err(|_| number("max_attempts"))?)
            }
            GcpConfigKey::TimeoutSeconds => {
                self.timeout_seconds = Some(value.parse().map_err(|_| number("timeout_seconds"))?)
            }
        }
        Ok(self)
    }

    /// Checks the settings and makes the manager. The client (and the
    /// credential lookup) is set up on first use.
    pub fn build(self) -> Result<GcpSecretsManager, Error> {
        let config = self.config()?;
        Ok(GcpSecretsManager::new(config))
    }

    pub(crate) fn config(self) -> Result<GcpConfig, Error> {
        let project_id = self.project_id.filter(|p| !p.is_empty()).ok_or_else(|| {
            invalid("set project_id (or GOOGLE_CLOUD_PROJECT), e.g. my-ml-project".into())
        })?;
        // Project IDs: 6–30 lowercase letters, digits and hyphens; older
        // projects may have domain-scoped IDs (`example.com:proj`).
        if !project_id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '.' | ':'))
        {
            let shown: String = project_id
                .chars()
                .take(64)
                .flat_map(char::escape_debug)
                .collect();
            return Err(invalid(format!(
                "project_id \"{shown}\" is not a project ID (lowercase letters, digits and '-')"
            )));
        }
        if let Some(endpoint) = &self.endpoint
            && (!(endpoint.starts_with("https://") || endpoint.starts_with("http://"))
                || endpoint.len() <= "https://".len())
        {
            return Err(invalid(format!(
                "endpoint {endpoint:?} must be an http:// (emulator) or https:// URL"
            )));
        }
        if let Some(ns) = &self.namespace {
            let ok = !ns.is_empty()
                && ns.len() <= 63
                && ns.chars().all(|c| {
                    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-')
                })
                && ns.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
            if !ok {
                let shown: String = ns.chars().take(64).flat_map(char::escape_debug).collect();
                return Err(invalid(format!(
                    "namespace \"{shown}\" must be 1–63 lowercase letters, digits, '_' or '-', \
                     starting with a letter or digit (it is stored as a GCP label value)"
                )));
            }
        }
        if self.keep_versions == Some(0) {
            return Err(invalid("keep_versions must be at least 1".into()));
        }
        if let Some(size) = self.page_size
            && !(1..=25_000).contains(&size)
        {
            return Err(invalid(format!(
                "page_size must be between 1 and 25000, not {size}"
            )));
        }
        if self.max_attempts == Some(0) {
            return Err(invalid("max_attempts must be at least 1".into()));
        }
        if self.timeout_seconds == Some(0) {
            return Err(invalid("timeout_seconds must be at least 1".into()));
        }
        Ok(GcpConfig {
            project_id,
            endpoint: self.endpoint,
            namespace: self.namespace,
            keep_versions: self.keep_versions,
            destroy_old_versions: self.destroy_old_versions,
            page_size: self.page_size,
            max_attempts: self.max_attempts,
            timeout_seconds: self.timeout_seconds,
        })
    }
}
