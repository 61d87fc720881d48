//! Configuration of the Azure backend: typed, with unknown keys rejected.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use keystack_secrets_core::Error;
use keystack_secrets_core::remote::zenml::{Layout, LayoutSettings, Scope};
use keystack_secrets_core::remote::{DEFAULT_MAX_ATTEMPTS, DEFAULT_TIMEOUT_SECONDS};
use keystack_secrets_core::settings::{SettingKind, SettingValue};
use serde::Deserialize;

use crate::{AzureSecretsManager, FLAVOR};

keystack_secrets_core::settings! {
    backend = FLAVOR;
    /// Settings of the Azure backend, as in a secrets manager component's YAML.
    pub struct AzureConfig;
    /// The keys of [`AzureConfig`].
    pub enum AzureConfigKey;
    builder = AzureBuilder;
    {
        /// The vault's name (ZenML's `key_vault_name`): the vault is then
        /// `https://<name>.vault.azure.net`. Give this or `vault_url` (or
        /// `AZURE_KEYVAULT_URL`).
        KeyVaultName key_vault_name: String, setter(with_key_vault_name);
        /// The vault's full URL, for sovereign clouds, private endpoints and the
        /// test server (`https://…`).
        VaultUrl vault_url: String, setter(with_vault_url);
        /// Keeps this manager's secrets apart from other managers in the same
        /// vault: 1–24 lowercase letters, digits, `_` or `-`. With
        /// `layout: zenml`, ZenML's namespace.
        Namespace namespace: String, setter(with_namespace);
        /// How secrets are named and marked: `keystack`, or `zenml` for the
        /// secrets ZenML's Azure secrets manager wrote (`zenml-<scope>-…`).
        Layout layout: Layout = Layout::Keystack, setter(with_layout);
        /// ZenML's scope, with `layout: zenml`: global, component, namespace.
        Scope scope: Scope = Scope::Component, setter(with_scope);
        /// The UUID of the ZenML secrets manager, with `layout: zenml` (scope component).
        ComponentId component_id: String, setter(with_component_id);
        /// Where the token comes from: `auto`, `client_secret`,
        /// `workload_identity`, `managed_identity` or `azure_cli`.
        Credential credential: CredentialKind = CredentialKind::Auto;
        /// Client ID of a user-assigned managed identity.
        ManagedIdentityClientId managed_identity_client_id: String;
        /// Purge a deleted secret at once when the vault allows it; otherwise
        /// it stays recoverable for the vault's retention period.
        PurgeOnDelete purge_on_delete: bool = true, setter(with_purge_on_delete);
        /// What `register` does when the name belongs to a deleted but
        /// recoverable Keystack secret: `recover` it and write the new value
        /// over it (works with purge protection), or `purge` it and create the
        /// secret anew.
        OnDeletedSecret on_deleted_secret: DeletedSecretAction = DeletedSecretAction::Recover;
        /// PEM file of extra certificate authorities to trust (TLS-inspecting
        /// proxies, private endpoints, the test server).
        CaFile ca_file: PathBuf, setter(with_ca_file);
        /// Require the authentication challenge's resource to match the vault's
        /// domain, as Microsoft's clients do.
        VerifyChallengeResource verify_challenge_resource: bool = true,
            setter(with_verify_challenge_resource);
        /// Secrets per list page (Key Vault's `maxresults`).
        PageSize page_size: u32 = 25u32, range(1, 25), setter(with_page_size);
        /// Attempts per call for transient failures (429, 5xx, connection errors).
        MaxAttempts max_attempts: u32 = DEFAULT_MAX_ATTEMPTS, min(1), setter(with_max_attempts);
        /// Seconds before one attempt is abandoned.
        TimeoutSeconds timeout_seconds: u64 = DEFAULT_TIMEOUT_SECONDS, min(1);
    }
}

impl SettingValue for CredentialKind {
    const KIND: SettingKind = SettingKind::Text;

    fn parse_setting(_: &str, text: &str) -> Result<Self, String> {
        text.parse().map_err(config_message)
    }

    fn to_setting_text(&self) -> String {
        match self {
            Self::Auto => "auto",
            Self::ClientSecret => "client_secret",
            Self::WorkloadIdentity => "workload_identity",
            Self::ManagedIdentity => "managed_identity",
            Self::AzureCli => "azure_cli",
        }
        .to_owned()
    }
}

impl SettingValue for DeletedSecretAction {
    const KIND: SettingKind = SettingKind::Text;

    fn parse_setting(_: &str, text: &str) -> Result<Self, String> {
        text.parse().map_err(config_message)
    }

    fn to_setting_text(&self) -> String {
        match self {
            Self::Recover => "recover",
            Self::Purge => "purge",
        }
        .to_owned()
    }
}

fn config_message(err: Error) -> String {
    match err {
        Error::InvalidConfig { message, .. } => message,
        other => other.to_string(),
    }
}

/// Where the backend's token comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CredentialKind {
    /// The first that applies: a client secret (`AZURE_CLIENT_SECRET`),
    /// workload identity (`AZURE_FEDERATED_TOKEN_FILE`), managed identity
    /// (`IDENTITY_ENDPOINT` or `MSI_ENDPOINT`), else the Azure CLI's login.
    Auto,
    /// A service principal's secret: `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`,
    /// `AZURE_CLIENT_SECRET`.
    ClientSecret,
    /// Kubernetes workload identity: `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`,
    /// `AZURE_FEDERATED_TOKEN_FILE`.
    WorkloadIdentity,
    /// The managed identity of the VM, App Service, Functions or Container App.
    ManagedIdentity,
    /// The account logged in with `az login` (or `azd auth login`).
    AzureCli,
}

impl FromStr for CredentialKind {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Ok(match s {
            "auto" => Self::Auto,
            "client_secret" => Self::ClientSecret,
            "workload_identity" => Self::WorkloadIdentity,
            "managed_identity" => Self::ManagedIdentity,
            "azure_cli" => Self::AzureCli,
            other => {
                return Err(Error::invalid_config(
                    FLAVOR,
                    format!(
                        "credential {other:?} is not one of auto, client_secret, workload_identity, \
                     managed_identity, azure_cli"
                    ),
                ));
            }
        })
    }
}

/// What `register` does with a deleted but recoverable secret of its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DeletedSecretAction {
    /// Recover it, then write the new value over it as a new version.
    Recover,
    /// Purge it, then create the secret anew (needs the purge permission
    /// and a vault without purge protection).
    Purge,
}

impl FromStr for DeletedSecretAction {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "recover" => Ok(Self::Recover),
            "purge" => Ok(Self::Purge),
            other => Err(Error::invalid_config(
                FLAVOR,
                format!("on_deleted_secret {other:?} is not one of recover, purge"),
            )),
        }
    }
}

impl AzureConfig {
    /// The vault's URL, without a trailing `/`.
    pub fn vault_url(&self) -> String {
        match (&self.vault_url, &self.key_vault_name) {
            (Some(url), _) => url.trim_end_matches('/').to_owned(),
            (None, Some(name)) => format!("https://{name}.vault.azure.net"),
            (None, None) => unreachable!("the builder requires one of the two"),
        }
    }

    pub(crate) fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_seconds())
    }
}

/// A service principal's secret given in code rather than in the
/// environment. Printed without the secret; wiped from memory when dropped.
#[derive(Clone)]
pub(crate) struct ClientSecret {
    pub(crate) tenant_id: String,
    pub(crate) client_id: String,
    pub(crate) secret: zeroize::Zeroizing<String>,
}

impl std::fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientSecret")
            .field("tenant_id", &self.tenant_id)
            .field("client_id", &self.client_id)
            .field("secret", &keystack_secrets_core::REDACTED)
            .finish()
    }
}

/// Builds an [`AzureSecretsManager`].
#[derive(Debug, Clone, Default)]
pub struct AzureBuilder {
    config: AzureConfig,
    client_secret: Option<ClientSecret>,
    /// `AZURE_KEYVAULT_URL`: used when neither the name nor the URL is set.
    env_vault_url: Option<String>,
    /// The component's name (ZenML's layout tags secrets with it).
    component: String,
}

fn shown(text: &str) -> String {
    text.chars().take(64).flat_map(char::escape_debug).collect()
}

impl AzureBuilder {
    /// A builder with nothing set.
    pub fn new() -> Self {
        Self::default()
    }

    /// A builder from the standard variable `AZURE_KEYVAULT_URL` (as in
    /// Microsoft's samples). Credentials are read when the client is first
    /// used.
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`AzureBuilder::from_env`] over any variable lookup.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        Self {
            env_vault_url: lookup("AZURE_KEYVAULT_URL").filter(|v| !v.is_empty()),
            ..Self::default()
        }
    }

    /// A builder from a whole configuration (checked by [`AzureBuilder::build`]).
    pub fn from_config(config: AzureConfig) -> Self {
        Self {
            config,
            ..Self::default()
        }
    }

    /// Authenticates as this service principal, instead of the credential
    /// `credential` names (for programs that hold the secret themselves).
    pub fn with_client_secret(
        mut self,
        tenant_id: impl Into<String>,
        client_id: impl Into<String>,
        secret: impl Into<String>,
    ) -> Self {
        self.client_secret = Some(ClientSecret {
            tenant_id: tenant_id.into(),
            client_id: client_id.into(),
            secret: zeroize::Zeroizing::new(secret.into()),
        });
        self
    }

    /// The component's name (ZenML's layout tags secrets with it).
    pub fn with_component_name(mut self, name: &str) -> Self {
        self.component = name.to_owned();
        self
    }

    /// Sets where the token comes from.
    pub fn with_credential(mut self, kind: CredentialKind) -> Self {
        self.config.credential = Some(kind);
        self
    }

    /// Sets what `register` does with a deleted but recoverable secret.
    pub fn with_on_deleted_secret(mut self, action: DeletedSecretAction) -> Self {
        self.config.on_deleted_secret = Some(action);
        self
    }

    /// Sets the per-attempt timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.config.timeout_seconds = Some(timeout.as_secs().max(1));
        self
    }

    /// Checks the settings and makes the manager. The client (and the
    /// credential) is set up on first use.
    pub fn build(self) -> Result<AzureSecretsManager, Error> {
        let client_secret = self.client_secret.clone();
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
                "Keystack does not read ZenML's unscoped Azure layout (scope none: one Key Vault \
                 secret per key); use a scoped ZenML secrets manager's secrets",
            ),
        )?;
        Ok(AzureSecretsManager::new(config, client_secret, zenml))
    }

    pub(crate) fn checked_config(self) -> Result<AzureConfig, Error> {
        let mut config = self.config;
        if config.key_vault_name.is_none() && config.vault_url.is_none() {
            config.vault_url = self.env_vault_url;
        }
        match (&config.key_vault_name, &config.vault_url) {
            (None, None) => {
                return Err(Error::invalid_config(
                    FLAVOR,
                    "set key_vault_name (e.g. my-ml-vault) or vault_url \
                     (e.g. https://my-ml-vault.vault.azure.net), or AZURE_KEYVAULT_URL",
                ));
            }
            (Some(_), Some(_)) => {
                return Err(Error::invalid_config(
                    FLAVOR,
                    "set key_vault_name or vault_url, not both",
                ));
            }
            (Some(name), None) => {
                // Key Vault: 3–24 letters, digits and '-', starting with a
                // letter, ending with a letter or digit, no "--".
                let ok = (3..=24).contains(&name.len())
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                    && name.starts_with(|c: char| c.is_ascii_alphabetic())
                    && !name.ends_with('-')
                    && !name.contains("--");
                if !ok {
                    return Err(Error::invalid_config(
                        FLAVOR,
                        format!(
                            "key_vault_name \"{}\" is not a vault name: 3–24 letters, digits and '-', \
                         starting with a letter, ending with a letter or digit, no \"--\"",
                            shown(name)
                        ),
                    ));
                }
            }
            (None, Some(url)) => {
                let parsed = url::Url::parse(url).ok();
                let ok = parsed.as_ref().is_some_and(|u| {
                    u.scheme() == "https"
                        && u.host_str().is_some()
                        && matches!(u.path(), "" | "/")
                        && u.query().is_none()
                        && u.username().is_empty()
                });
                if !ok {
                    return Err(Error::invalid_config(
                        FLAVOR,
                        format!(
                            "vault_url \"{}\" must be the vault's https:// URL with nothing after the \
                         host (e.g. https://my-ml-vault.vault.azure.net); Microsoft's clients \
                         send tokens only over HTTPS",
                            shown(url)
                        ),
                    ));
                }
            }
        }
        if let Some(ns) = config
            .namespace
            .as_ref()
            .filter(|_| config.layout() != Layout::Zenml)
        {
            let ok = !ns.is_empty()
                && ns.len() <= 24
                && ns.chars().all(|c| {
                    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-')
                })
                && ns.starts_with(|c: char| c.is_ascii_alphanumeric());
            if !ok {
                return Err(Error::invalid_config(
                    FLAVOR,
                    format!(
                        "namespace \"{}\" must be 1–24 lowercase letters, digits, '_' or '-', \
                     starting with a letter or digit (it is part of every secret's name in the vault)",
                        shown(ns)
                    ),
                ));
            }
        }
        config.check_bounds()?;
        if let Some(id) = &config.managed_identity_client_id
            && id.is_empty()
        {
            return Err(Error::invalid_config(
                FLAVOR,
                "managed_identity_client_id is empty; remove it to use the system-assigned identity",
            ));
        }
        Ok(config)
    }
}

keystack_secrets_core::backend_factory!(
    /// Builds Azure managers from components: the component's settings over
    /// `AZURE_KEYVAULT_URL`; credentials from the standard variables, workload or
    /// managed identity, or the Azure CLI. A relative `ca_file` is taken from the
    /// project folder.
    AzureFactory,
    FLAVOR,
    AzureConfig,
    AzureBuilder,
    component(with_component_name)
);

/// ZenML's rule for a Key Vault secret name or namespace
/// (`validate_azure_secret_name_or_namespace`).
fn zenml_segment(segment: &str) -> Result<(), String> {
    if !segment.is_empty()
        && segment
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        Ok(())
    } else {
        Err("ZenML's Azure names allow only letters, digits and '-'".to_owned())
    }
}
