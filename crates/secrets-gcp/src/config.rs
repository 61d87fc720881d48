//! Configuration of the GCP backend: typed, with unknown keys rejected.

use std::time::Duration;

use keystack_secrets_core::Error;
use keystack_secrets_core::remote::zenml::{Layout, LayoutSettings, Scope};
use keystack_secrets_core::remote::{DEFAULT_MAX_ATTEMPTS, DEFAULT_TIMEOUT_SECONDS};

use crate::{FLAVOR, GcpSecretsManager};

/// Builds a [`GcpSecretsManager`].
#[derive(Debug, Clone, Default)]
pub struct GcpBuilder {
    config: GcpConfig,
    component: String,
}

keystack_secrets_core::settings! {
    backend = FLAVOR;
    /// Settings of the GCP backend, as in a secrets manager component's YAML.
    pub struct GcpConfig;
    /// The keys of [`GcpConfig`].
    pub enum GcpConfigKey;
    builder = GcpBuilder;
    {
        /// The project that holds the secrets (ZenML's `project_id`).
        ProjectId project_id: String, required("e.g. my-ml-project"),
            env("GOOGLE_CLOUD_PROJECT", "CLOUDSDK_CORE_PROJECT"), setter(with_project_id);
        /// Another endpoint: a regional one (`https://…`), or an emulator
        /// (`http://…`, which is called without credentials).
        Endpoint endpoint: String, setter(with_endpoint);
        /// Keeps this manager's secrets apart from other managers in the same
        /// project: lowercase letters, digits, `_` and `-`, at most 63 (a label
        /// value). With `layout: zenml`, ZenML's namespace.
        Namespace namespace: String, setter(with_namespace);
        /// How secrets are named and marked: `keystack`, or `zenml` for the
        /// secrets ZenML's GCP secrets manager wrote (`zenml-<scope>-…`).
        Layout layout: Layout = Layout::Keystack, setter(with_layout);
        /// ZenML's scope, with `layout: zenml`: global, component, namespace.
        Scope scope: Scope = Scope::Component, setter(with_scope);
        /// The UUID of the ZenML secrets manager, with `layout: zenml` (scope component).
        ComponentId component_id: String, setter(with_component_id);
        /// Versions of a secret that stay enabled after an update (only the
        /// newest by default); older ones are disabled.
        KeepVersions keep_versions: u32 = 1u32, min(1), setter(with_keep_versions);
        /// Destroy (not just disable) versions beyond `keep_versions`: their data
        /// is then gone for good.
        DestroyOldVersions destroy_old_versions: bool = false, setter(with_destroy_old_versions);
        /// Secrets per `ListSecrets` page.
        PageSize page_size: i32 = 100, range(1, 25_000), setter(with_page_size);
        /// Attempts per call for transient failures (UNAVAILABLE,
        /// RESOURCE_EXHAUSTED, DEADLINE_EXCEEDED, connection errors).
        MaxAttempts max_attempts: u32 = DEFAULT_MAX_ATTEMPTS, min(1), setter(with_max_attempts);
        /// Seconds before one attempt is abandoned.
        TimeoutSeconds timeout_seconds: u64 = DEFAULT_TIMEOUT_SECONDS, min(1);
    }
}

impl GcpConfig {
    pub(crate) fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_seconds())
    }

    /// The project, once [`GcpBuilder::build`] checked it is set.
    pub(crate) fn project(&self) -> &str {
        self.project_id.as_deref().unwrap_or_default()
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
        Self {
            config: GcpConfig::from_lookup(&lookup),
            component: String::new(),
        }
    }

    /// The component's name (ZenML's layout labels secrets with it).
    pub fn with_component_name(mut self, name: &str) -> Self {
        self.component = name.to_owned();
        self
    }

    /// Sets the per-attempt timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.config.timeout_seconds = Some(timeout.as_secs().max(1));
        self
    }

    /// Checks the settings and makes the manager. The client (and the
    /// credential lookup) is set up on first use.
    pub fn build(self) -> Result<GcpSecretsManager, Error> {
        let component = self.component.clone();
        let config = self.checked_config()?;
        let zenml = LayoutSettings {
            layout: config.layout,
            scope: config.scope,
            namespace: config.namespace.as_deref(),
            component_id: config.component_id.as_deref(),
        }
        .zenml(
            FLAVOR,
            &component,
            zenml_segment,
            Err(
                "Keystack does not read ZenML's unscoped GCP layout (scope none: one GCP secret \
                 per key); use a scoped ZenML secrets manager's secrets, or copy them over with \
                 ZenML first",
            ),
        )?;
        Ok(GcpSecretsManager::new(config, zenml))
    }

    pub(crate) fn checked_config(self) -> Result<GcpConfig, Error> {
        let config = self.config;
        config.check_required()?;
        let project_id = config.project();
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
            return Err(Error::invalid_config(
                FLAVOR,
                format!(
                    "project_id \"{shown}\" is not a project ID (lowercase letters, digits and '-')"
                ),
            ));
        }
        if let Some(endpoint) = &config.endpoint
            && (!(endpoint.starts_with("https://") || endpoint.starts_with("http://"))
                || endpoint.len() <= "https://".len())
        {
            return Err(Error::invalid_config(
                FLAVOR,
                format!("endpoint {endpoint:?} must be an http:// (emulator) or https:// URL"),
            ));
        }
        if let Some(ns) = &config.namespace {
            let ok = !ns.is_empty()
                && ns.len() <= 63
                && ns.chars().all(|c| {
                    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-')
                })
                && ns.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
            if !ok {
                let shown: String = ns.chars().take(64).flat_map(char::escape_debug).collect();
                return Err(Error::invalid_config(
                    FLAVOR,
                    format!(
                        "namespace \"{shown}\" must be 1–63 lowercase letters, digits, '_' or '-', \
                     starting with a letter or digit (it is stored as a GCP label value)"
                    ),
                ));
            }
        }
        config.check_bounds()?;
        Ok(config)
    }
}

keystack_secrets_core::backend_factory!(
    /// Builds GCP managers from components: the component's settings over
    /// `GOOGLE_CLOUD_PROJECT`; Application Default Credentials.
    GcpFactory,
    FLAVOR,
    GcpConfig,
    GcpBuilder,
    component(with_component_name)
);

/// ZenML's rule for a GCP secret name or namespace
/// (`validate_gcp_secret_name_or_namespace`: they are label values too).
fn zenml_segment(segment: &str) -> Result<(), String> {
    if !segment.is_empty()
        && segment
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-'))
    {
        Ok(())
    } else {
        Err("ZenML's GCP names allow only lowercase letters, digits, '_' and '-'".to_owned())
    }
}
