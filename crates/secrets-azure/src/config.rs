//! Configuration of the Azure backend: typed, with unknown keys rejected.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use keystack_secrets_core::Error;
use serde::Deserialize;

use crate::{AzureSecretsManager, FLAVOR};

/// Settings of the Azure backend, as in a secrets manager component's YAML.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AzureConfig {
    /// The vault's name (ZenML's `key_vault_name`): the vault is then
    /// `https://<name>.vault.azure.net`. Give this or `vault_url`.
    #[serde(default)]
    pub key_vault_name: Option<String>,
    /// The vault's full URL, for sovereign clouds, private endpoints and the
    /// test server (`https://…`).
    #[serde(default)]
    pub vault_url: Option<String>,
    /// Keeps this manager's secrets apart from other managers in the same
    /// vault: 1–24 lowercase letters, digits, `_` or `-`.
    #[serde(default)]
    pub namespace: Option<String>,
    /// Where the token comes from: `auto` (default), `client_secret`,
    /// `workload_identity`, `managed_identity` or `azure_cli`.
    #[serde(default)]
    pub credential: Option<CredentialKind>,
    /// Client ID of a user-assigned managed identity.
    #[serde(default)]
    pub managed_identity_client_id: Option<String>,
    /// Purge a deleted secret at once when the vault allows it (default
    /// true); otherwise it stays recoverable for the vault's retention period.
    #[serde(default)]
    pub purge_on_delete: Option<bool>,
    /// What `register` does when the name belongs to a deleted but
    /// recoverable Keystack secret: `recover` it and write the new value
    /// over it (default; works with purge protection), or `purge` it and
    /// create the secret anew.
    #[serde(default)]
    pub on_deleted_secret: Option<DeletedSecretAction>,
    /// PEM file of extra certificate authorities to trust (TLS-inspecting
    /// proxies, private endpoints, the test server).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Require the authentication challenge's resource to match the vault's
    /// domain, as Microsoft's clients do (default true).
    #[serde(default)]
    pub verify_challenge_resource: Option<bool>,
    /// Secrets per list page (`maxresults`, 1–25, default 25).
    #[serde(default)]
    pub page_size: Option<u32>,
    /// Attempts per call for transient failures (429, 5xx, connection
    /// errors), default 3.
    #[serde(default)]
    pub max_attempts: Option<u32>,
    /// Seconds before one attempt is abandoned (default 30).
    #[serde(default)]
    pub timeout_seconds: Option<u64>,
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
                return Err(invalid(format!(
                    "credential {other:?} is not one of auto, client_secret, workload_identity, \
                     managed_identity, azure_cli"
                )));
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
            other => Err(invalid(format!(
                "on_deleted_secret {other:?} is not one of recover, purge"
            ))),
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

    pub(crate) fn purge_on_delete(&self) -> bool {
        self.purge_on_delete.unwrap_or(true)
    }

    pub(crate) fn on_deleted_secret(&self) -> DeletedSecretAction {
        self.on_deleted_secret
            .unwrap_or(DeletedSecretAction::Recover)
    }

    pub(crate) fn page_size(&self) -> u32 {
        self.page_size.unwrap_or(25)
    }

    pub(crate) fn max_attempts(&self) -> u32 {
        self.max_attempts.unwrap_or(3)
    }

    pub(crate) fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_seconds.unwrap_or(30))
    }
}

/// The keys of [`AzureConfig`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AzureConfigKey {
    /// [`AzureConfig::key_vault_name`].
    KeyVaultName,
    /// [`AzureConfig::vault_url`].
    VaultUrl,
    /// [`AzureConfig::namespace`].
    Namespace,
    /// [`AzureConfig::credential`].
    Credential,
    /// [`AzureConfig::managed_identity_client_id`].
    ManagedIdentityClientId,
    /// [`AzureConfig::purge_on_delete`].
    PurgeOnDelete,
    /// [`AzureConfig::on_deleted_secret`].
    OnDeletedSecret,
    /// [`AzureConfig::ca_file`].
    CaFile,
    /// [`AzureConfig::verify_challenge_resource`].
    VerifyChallengeResource,
    /// [`AzureConfig::page_size`].
    PageSize,
    /// [`AzureConfig::max_attempts`].
    MaxAttempts,
    /// [`AzureConfig::timeout_seconds`].
    TimeoutSeconds,
}

const KEYS: &str = "key_vault_name, vault_url, namespace, credential, managed_identity_client_id, \
                    purge_on_delete, on_deleted_secret, ca_file, verify_challenge_resource, \
                    page_size, max_attempts, timeout_seconds";

pub(crate) fn invalid(message: String) -> Error {
    Error::InvalidConfig {
        backend: FLAVOR,
        message,
    }
}

impl FromStr for AzureConfigKey {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Ok(match s {
            "key_vault_name" => Self::KeyVaultName,
            "vault_url" => Self::VaultUrl,
            "namespace" => Self::Namespace,
            "credential" => Self::Credential,
            "managed_identity_client_id" => Self::ManagedIdentityClientId,
            "purge_on_delete" => Self::PurgeOnDelete,
            "on_deleted_secret" => Self::OnDeletedSecret,
            "ca_file" => Self::CaFile,
            "verify_challenge_resource" => Self::VerifyChallengeResource,
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
            .field("secret", &"******")
            .finish()
    }
}

/// Builds an [`AzureSecretsManager`].
#[derive(Debug, Clone, Default)]
pub struct AzureBuilder {
    config: Option<AzureConfig>,
    client_secret: Option<ClientSecret>,
    /// `AZURE_KEYVAULT_URL`: used when neither the name nor the URL is set.
    env_vault_url: Option<String>,
}

fn empty() -> AzureConfig {
    AzureConfig {
        key_vault_name: None,
        vault_url: None,
        namespace: None,
        credential: None,
        managed_identity_client_id: None,
        purge_on_delete: None,
        on_deleted_secret: None,
        ca_file: None,
        verify_challenge_resource: None,
        page_size: None,
        max_attempts: None,
        timeout_seconds: None,
    }
}

fn boolean(key: &str, value: &str) -> Result<bool, Error> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(invalid(format!(
            "{key} must be true or false, not {value:?}"
        ))),
    }
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
            config: Some(config),
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

    fn edit(mut self, change: impl FnOnce(&mut AzureConfig)) -> Self {
        change(self.config.get_or_insert_with(empty));
        self
    }

    /// Sets the vault by name.
    pub fn with_key_vault_name(self, name: impl Into<String>) -> Self {
        self.edit(|c| c.key_vault_name = Some(name.into()))
    }

    /// Sets the vault by URL.
    pub fn with_vault_url(self, url: impl Into<String>) -> Self {
        self.edit(|c| c.vault_url = Some(url.into()))
    }

    /// Sets the namespace.
    pub fn with_namespace(self, namespace: impl Into<String>) -> Self {
        self.edit(|c| c.namespace = Some(namespace.into()))
    }

    /// Sets where the token comes from.
    pub fn with_credential(self, kind: CredentialKind) -> Self {
        self.edit(|c| c.credential = Some(kind))
    }

    /// Sets whether a delete purges.
    pub fn with_purge_on_delete(self, purge: bool) -> Self {
        self.edit(|c| c.purge_on_delete = Some(purge))
    }

    /// Sets what `register` does with a deleted but recoverable secret.
    pub fn with_on_deleted_secret(self, action: DeletedSecretAction) -> Self {
        self.edit(|c| c.on_deleted_secret = Some(action))
    }

    /// Trusts the certificate authorities in this PEM file too.
    pub fn with_ca_file(self, path: impl Into<PathBuf>) -> Self {
        self.edit(|c| c.ca_file = Some(path.into()))
    }

    /// Sets whether the challenge's resource must match the vault's domain.
    pub fn with_verify_challenge_resource(self, verify: bool) -> Self {
        self.edit(|c| c.verify_challenge_resource = Some(verify))
    }

    /// Sets the list page size.
    pub fn with_page_size(self, size: u32) -> Self {
        self.edit(|c| c.page_size = Some(size))
    }

    /// Sets the attempts per call.
    pub fn with_max_attempts(self, attempts: u32) -> Self {
        self.edit(|c| c.max_attempts = Some(attempts))
    }

    /// Sets the per-attempt timeout.
    pub fn with_timeout(self, timeout: Duration) -> Self {
        self.edit(|c| c.timeout_seconds = Some(timeout.as_secs().max(1)))
    }

    /// Sets one setting from text, as written in a component.
    pub fn with_config(self, key: AzureConfigKey, value: &str) -> Result<Self, Error> {
        let number = |what: &str| invalid(format!("{what} must be a whole number, not {value:?}"));
        let value = value.to_owned();
        Ok(match key {
            AzureConfigKey::KeyVaultName => self.with_key_vault_name(value),
            AzureConfigKey::VaultUrl => self.with_vault_url(value),
            AzureConfigKey::Namespace => self.with_namespace(value),
            AzureConfigKey::Credential => self.with_credential(value.parse()?),
            AzureConfigKey::ManagedIdentityClientId => {
                self.edit(|c| c.managed_identity_client_id = Some(value))
            }
            AzureConfigKey::PurgeOnDelete => {
                self.with_purge_on_delete(boolean("purge_on_delete", &value)?)
            }
            AzureConfigKey::OnDeletedSecret => self.with_on_deleted_secret(value.parse()?),
            AzureConfigKey::CaFile => self.with_ca_file(value),
            AzureConfigKey::VerifyChallengeResource => {
                self.with_verify_challenge_resource(boolean("verify_challenge_resource", &value)?)
            }
            AzureConfigKey::PageSize => {
                self.with_page_size(value.parse().map_err(|_| number("page_size"))?)
            }
            AzureConfigKey::MaxAttempts => {
                self.with_max_attempts(value.parse().map_err(|_| number("max_attempts"))?)
            }
            AzureConfigKey::TimeoutSeconds => {
                let seconds = value.parse().map_err(|_| number("timeout_seconds"))?;
                self.edit(|c| c.timeout_seconds = Some(seconds))
            }
        })
    }

    /// Checks the settings and makes the manager. The client (and the
    /// credential) is set up on first use.
    pub fn build(self) -> Result<AzureSecretsManager, Error> {
        let client_secret = self.client_secret.clone();
        Ok(AzureSecretsManager::new(self.config()?, client_secret))
    }

    pub(crate) fn config(self) -> Result<AzureConfig, Error> {
        let mut config = self.config.unwrap_or_else(empty);
        if config.key_vault_name.is_none() && config.vault_url.is_none() {
            config.vault_url = self.env_vault_url;
        }
        match (&config.key_vault_name, &config.vault_url) {
            (None, None) => {
                return Err(invalid(
                    "set key_vault_name (e.g. my-ml-vault) or vault_url \
                     (e.g. https://my-ml-vault.vault.azure.net), or AZURE_KEYVAULT_URL"
                        .into(),
                ));
            }
            (Some(_), Some(_)) => {
                return Err(invalid("set key_vault_name or vault_url, not both".into()));
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
                    return Err(invalid(format!(
                        "key_vault_name \"{}\" is not a vault name: 3–24 letters, digits and '-', \
                         starting with a letter, ending with a letter or digit, no \"--\"",
                        shown(name)
                    )));
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
                    return Err(invalid(format!(
                        "vault_url \"{}\" must be the vault's https:// URL with nothing after the \
                         host (e.g. https://my-ml-vault.vault.azure.net); Microsoft's clients \
                         send tokens only over HTTPS",
                        shown(url)
                    )));
                }
            }
        }
        if let Some(ns) = &config.namespace {
            let ok = !ns.is_empty()
                && ns.len() <= 24
                && ns.chars().all(|c| {
                    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-')
                })
                && ns.starts_with(|c: char| c.is_ascii_alphanumeric());
            if !ok {
                return Err(invalid(format!(
                    "namespace \"{}\" must be 1–24 lowercase letters, digits, '_' or '-', \
                     starting with a letter or digit (it is part of every secret's name in the vault)",
                    shown(ns)
                )));
            }
        }
        if let Some(size) = config.page_size
            && !(1..=25).contains(&size)
        {
            return Err(invalid(format!(
                "page_size must be between 1 and 25 (Key Vault's maxresults), not {size}"
            )));
        }
        if config.max_attempts == Some(0) {
            return Err(invalid("max_attempts must be at least 1".into()));
        }
        if config.timeout_seconds == Some(0) {
            return Err(invalid("timeout_seconds must be at least 1".into()));
        }
        if let Some(id) = &config.managed_identity_client_id
            && id.is_empty()
        {
            return Err(invalid(
                "managed_identity_client_id is empty; remove it to use the system-assigned identity"
                    .into(),
            ));
        }
        Ok(config)
    }
}
