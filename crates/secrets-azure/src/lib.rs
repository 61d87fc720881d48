//! Keystack's Azure Key Vault backend, on Microsoft's official
//! `azure_security_keyvault_secrets` client with `azure_identity`
//! credentials (reqwest 0.13 with rustls, as the other cloud backends).
//!
//! One Key Vault secret per Keystack secret. Its name is
//! `keystack-<name>` or `keystack<n>-<namespace>-<name>`, escaped into Key
//! Vault's alphabet (see `naming`); its value is the JSON object of the
//! key-values with content type `application/json`; its tags mark it
//! (`keystack-managed=true`, `keystack-namespace`, `keystack-schema`). An
//! update writes a new version. A delete purges when the vault allows it
//! (`purge_on_delete`), and a register over a deleted but recoverable
//! Keystack secret recovers or purges it first (`on_deleted_secret`).
//!
//! With `layout: zenml`, secrets are named, tagged and held as ZenML's
//! Azure secrets manager of versions 0.30–0.37 did (see
//! [`keystack_secrets_core::remote::zenml`]): `zenml-<scope>-…-<name>`,
//! its `zenml_*` tags (the name comes from `zenml_secret_name`), a JSON
//! value with `zenml_schema_name` and no content type.

mod config;
mod credential;
mod error;
mod naming;
mod soft_delete;

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use azure_core::http::{ClientOptions, RetryOptions, Transport};
use azure_security_keyvault_secrets::models::{SecretProperties, SetSecretParameters};
use azure_security_keyvault_secrets::{SecretClient, SecretClientOptions};
use futures::{StreamExt, TryStreamExt};
use keystack_secrets_core::remote::mark::MarkKeys;
use keystack_secrets_core::remote::payload::from_json;
use keystack_secrets_core::remote::retry::retry;
use keystack_secrets_core::remote::zenml::{self, ZenmlLayout};
use keystack_secrets_core::remote::{Refusal, payload_within};
use keystack_secrets_core::{
    Capabilities, Error, ManagerInfo, NameChars, Result, Secret, SecretName, SecretPatch,
    SecretSchema, SecretsManager,
};
use tokio::sync::OnceCell;
use zeroize::Zeroizing;

pub use config::{
    AzureBuilder, AzureConfig, AzureConfigKey, AzureFactory, CredentialKind, DeletedSecretAction,
};
pub use error::AzureError;
use error::{Failure, classify};

/// The flavor name of this backend.
pub const FLAVOR: &str = "azure";

/// Tags that mark a secret as Keystack's.
const MARKS: MarkKeys = MarkKeys::DASHED;
const CONTENT_TYPE: &str = "application/json";

/// The largest secret value Key Vault accepts (25 KiB).
pub const MAX_SECRET_BYTES: usize = 25 * 1024;

/// What holds one secret in Key Vault, for messages.
const HOLDER: &str = "an Azure Key Vault secret";

/// Deletes in flight during `delete_all_secrets`.
const FAN_OUT: usize = 8;

/// How long a name may stay in conflict (being deleted, purged or
/// recovered) before Keystack gives up waiting for it.
const CONFLICT_WAIT: Duration = Duration::from_secs(60);

/// Secrets kept in Azure Key Vault.
pub struct AzureSecretsManager {
    config: AzureConfig,
    client_secret: Option<config::ClientSecret>,
    vault: String,
    client: OnceCell<SecretClient>,
    /// ZenML's layout (`layout: zenml`) instead of Keystack's.
    zenml: Option<ZenmlLayout>,
}

impl fmt::Debug for AzureSecretsManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AzureSecretsManager")
            .field("vault", &self.vault)
            .field("namespace", &self.config.namespace)
            .finish_non_exhaustive()
    }
}

impl AzureSecretsManager {
    fn new(
        config: AzureConfig,
        client_secret: Option<config::ClientSecret>,
        zenml: Option<ZenmlLayout>,
    ) -> Self {
        Self {
            vault: config.vault_url(),
            config,
            client_secret,
            client: OnceCell::new(),
            zenml,
        }
    }

    /// The settings in use.
    pub fn config(&self) -> &AzureConfig {
        &self.config
    }

    /// The client, made on first use. Retries are ours
    /// (`keystack_secrets_core::remote::retry`), so the pipeline's own are off.
    async fn client(&self) -> Result<&SecretClient> {
        self.client
            .get_or_try_init(|| async {
                let options = ClientOptions {
                    transport: Some(Transport::new(Arc::new(credential::http_client(
                        &self.config,
                    )?))),
                    retry: RetryOptions::none(),
                    ..ClientOptions::default()
                };
                let credential = credential::credential(
                    &self.config,
                    self.client_secret.as_ref(),
                    options.clone(),
                )?;
                let options = SecretClientOptions {
                    client_options: options,
                    verify_challenge_resource: Some(
                        self.config.verify_challenge_resource.unwrap_or(true),
                    ),
                    ..SecretClientOptions::default()
                };
                SecretClient::new(&self.vault, credential, Some(options)).map_err(|e| {
                    Error::invalid_config(
                        FLAVOR,
                        format!("cannot set up a client for {}: {e}", self.vault),
                    )
                })
            })
            .await
    }

    fn namespace(&self) -> &str {
        self.config.namespace.as_deref().unwrap_or("")
    }

    /// The Key Vault name of `name`, refused if Key Vault would refuse it.
    fn id(&self, name: &SecretName) -> Result<String> {
        let id = match &self.zenml {
            Some(layout) => layout.scoped_name(name.as_str(), '-'),
            None => naming::secret_name(self.config.namespace.as_deref(), name),
        };
        if id.len() > naming::MAX_LEN {
            let namespace_hint = match &self.config.namespace {
                Some(_) if self.zenml.is_some() => String::new(),
                Some(ns) => format!(
                    " (the namespace '{ns}' takes {} of them)",
                    naming::escape(ns).len() + 4
                ),
                None => String::new(),
            };
            return Err(AzureError::NameTooLong {
                name: name.clone(),
                len: id.len(),
                id,
                namespace_hint,
            }
            .into());
        }
        Ok(id)
    }

    /// One SDK call with retries; 404 and 409 are kept apart for the caller
    /// to give their meaning.
    async fn call<T, F, Fut>(
        &self,
        action: &str,
        resource: &str,
        call: F,
    ) -> Result<std::result::Result<T, Failure>>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = azure_core::Result<T>>,
    {
        retry(self.config.max_attempts(), || async {
            match call().await {
                Ok(value) => Ok(Ok(value)),
                Err(e) => match classify(&e, &self.vault, action, resource) {
                    Failure::Other(e) => Err(e),
                    failure => Ok(Err(failure)),
                },
            }
        })
        .await
    }

    /// Whether the tags say the secret is Keystack's, in this namespace; in
    /// ZenML's layout, that it is in this scope (named `name`, if given).
    fn is_ours(&self, name: Option<&SecretName>, tags: Option<&HashMap<String, String>>) -> bool {
        match &self.zenml {
            Some(layout) => layout.in_scope(name.map(SecretName::as_str), |k| {
                tags?.get(k).map(String::as_str)
            }),
            None => MARKS.is_marked_map(self.namespace(), tags),
        }
    }

    fn foreign(&self, id: &str) -> Error {
        match self.zenml {
            Some(_) => Refusal::OutOfScope {
                object: id.to_owned(),
                place: self.vault.clone(),
                tags: "tags",
            },
            None => Refusal::Foreign {
                object: id.to_owned(),
                place: self.vault.clone(),
                scope: " in this namespace",
                hint: String::new(),
            },
        }
        .into_error(FLAVOR)
    }

    /// The value of a secret: Keystack's JSON, or ZenML's payload.
    fn payload(&self, secret: &Secret) -> Result<Zeroizing<String>> {
        match &self.zenml {
            Some(layout) => layout.payload(secret, HOLDER, MAX_SECRET_BYTES),
            None => payload_within(secret.name(), secret.values(), HOLDER, MAX_SECRET_BYTES)
                .map_err(|r| r.into_error(FLAVOR)),
        }
    }

    async fn read(&self, name: &SecretName) -> Result<Secret> {
        let id = self.id(name)?;
        let client = self.client().await?;
        let got = self
            .call("read", &id, || async {
                client.get_secret(&id, None).await?.into_model()
            })
            .await?;
        let stored = match got {
            Ok(stored) => stored,
            Err(Failure::NotFound) => return Err(Error::NotFound { name: name.clone() }),
            Err(Failure::Disabled) => {
                return Err(Error::PermissionDenied {
                    backend: FLAVOR,
                    message: format!(
                        "{id} in {} is disabled (its latest version may not be read); enable it \
                         with `az keyvault secret set-attributes --vault-name VAULT --name {id} \
                         --enabled true`",
                        self.vault
                    ),
                    source: None,
                });
            }
            Err(other) => return Err(other.into_error(format!("read {id}"))),
        };
        if !self.is_ours(Some(name), stored.tags.as_ref()) {
            return Err(self.foreign(&id));
        }
        let unreadable = |problem: &str| -> Error {
            Refusal::Unreadable {
                name: name.clone(),
                object: id.clone(),
                problem: problem.to_owned(),
            }
            .into_error(FLAVOR)
        };
        let value = Zeroizing::new(stored.value.unwrap_or_default());
        let (schema, values) = match self.zenml {
            Some(_) => zenml::from_payload(value.as_bytes())
                .map_err(|e| unreadable(&format!("its value: {e}")))?,
            None => (
                MARKS
                    .schema_in_map(stored.tags.as_ref())
                    .ok_or_else(|| unreadable("its keystack-schema tag is not a known schema"))?,
                from_json(value.as_bytes()).map_err(|e| unreadable(&format!("its value: {e}")))?,
            ),
        };
        Secret::new(name.clone(), schema, values)
            .map_err(|_| unreadable("its key-values do not fit its schema"))
    }

    /// Writes `payload` as the newest version of `id`, with Keystack's tags.
    /// A name held by a deleted Keystack secret is recovered or purged
    /// first; a name that is being deleted, purged or recovered is waited for.
    async fn write(
        &self,
        name: &SecretName,
        id: &str,
        payload: &str,
        schema: SecretSchema,
    ) -> Result<()> {
        let client = self.client().await?;
        let (tags, content_type): (HashMap<String, String>, _) = match &self.zenml {
            // ZenML wrote no content type.
            Some(layout) => (
                layout
                    .secret_tags(name.as_str(), schema)
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v))
                    .collect(),
                None,
            ),
            None => (
                MARKS.map(self.namespace(), schema),
                Some(CONTENT_TYPE.to_owned()),
            ),
        };
        let started = tokio::time::Instant::now();
        let mut round = 0;
        loop {
            round += 1;
            let written = self
                .call("write", id, || async {
                    let parameters = SetSecretParameters {
                        value: Some(payload.to_owned()),
                        content_type: content_type.clone(),
                        tags: Some(tags.clone()),
                        ..SetSecretParameters::default()
                    };
                    client
                        .set_secret(id, parameters.try_into()?, None)
                        .await
                        .map(|_| ())
                })
                .await?;
            match written {
                Ok(()) => return Ok(()),
                Err(Failure::DeletedButRecoverable) => self.clear_deleted(id).await?,
                Err(Failure::Conflict) => self.wait_out_conflict(id, started, round).await?,
                Err(Failure::NotFound) => return Err(Error::NotFound { name: name.clone() }),
                Err(other) => return Err(other.into_error(format!("write {id}"))),
            }
        }
    }

    /// Every page of the vault's secrets (names and tags; no values).
    async fn list_properties(&self) -> Result<Vec<SecretProperties>> {
        let client = self.client().await?;
        let listed = self
            .call("list the secrets of", &self.vault, || async {
                let options = azure_security_keyvault_secrets::models::SecretClientListSecretPropertiesOptions {
                    maxresults: Some(self.config.page_size() as i32),
                    ..Default::default()
                };
                client
                    .list_secret_properties(Some(options))?
                    .try_collect::<Vec<_>>()
                    .await
            })
            .await?;
        listed.map_err(|f| f.into_error(format!("list the secrets of {}", self.vault)))
    }

    /// Keystack's secrets in this namespace: the tags say so, and the name
    /// decodes to this namespace.
    async fn own_names(&self) -> Result<Vec<(SecretName, String)>> {
        let mut names: Vec<(SecretName, String)> = self
            .list_properties()
            .await?
            .into_iter()
            .filter(|p| self.is_ours(None, p.tags.as_ref()))
            .filter_map(|p| {
                let id = p.id?.trim_end_matches('/').rsplit('/').next()?.to_owned();
                match &self.zenml {
                    // ZenML's `get_all_secret_keys`: the name is the tag's.
                    Some(layout) => {
                        let tags = p.tags.as_ref()?;
                        let name = SecretName::new(tags.get(zenml::NAME_TAG)?).ok()?;
                        layout
                            .scoped_name(name.as_str(), '-')
                            .eq_ignore_ascii_case(&id)
                            .then_some((name, id))
                    }
                    None => {
                        let (ns, name) = naming::decode(&id)?;
                        (ns.as_deref().unwrap_or("") == self.namespace()).then_some((name, id))
                    }
                }
            })
            .collect();
        names.sort();
        names.dedup();
        Ok(names)
    }

    /// Deletes `id` (known to be Keystack's) and purges it if configured;
    /// `false` if it was gone already.
    async fn remove(&self, id: &str) -> Result<bool> {
        let client = self.client().await?;
        let deleted = self
            .call("delete", id, || async {
                client.delete_secret(id, None).await?.into_model()
            })
            .await?;
        let deleted = match deleted {
            Ok(deleted) => deleted,
            Err(Failure::NotFound) => return Ok(false),
            Err(other) => return Err(other.into_error(format!("delete {id}"))),
        };
        let level = deleted
            .attributes
            .and_then(|a| a.recovery_level)
            .map(|l| l.to_string())
            .unwrap_or_default();
        // "Purgeable" alone: no soft delete, already gone. Without
        // "Purgeable": purge protection.
        if self.config.purge_on_delete()
            && level.contains("Recoverable")
            && level.contains("Purgeable")
        {
            self.purge(id).await?;
        }
        Ok(true)
    }
}

#[async_trait]
impl SecretsManager for AzureSecretsManager {
    fn info(&self) -> ManagerInfo {
        ManagerInfo {
            flavor: FLAVOR,
            is_local: false,
            location: match &self.zenml {
                Some(layout) => format!(
                    "Azure Key Vault {}, ZenML's layout, names {}*",
                    self.vault,
                    layout.prefix('-')
                ),
                None => format!(
                    "Azure Key Vault {}, namespace '{}'",
                    self.vault,
                    self.namespace()
                ),
            },
            capabilities: match self.zenml {
                // Key Vault compares names without regard to case, and
                // ZenML's layout does not escape them as Keystack's does.
                Some(_) => Capabilities::new()
                    .with_max_secret_bytes(Some(zenml::max_values_bytes(MAX_SECRET_BYTES)))
                    .with_case_insensitive_names(true)
                    .with_names(NameChars::NoUnderscore),
                None => Capabilities::new().with_max_secret_bytes(Some(MAX_SECRET_BYTES)),
            }
            .with_atomic_register(false),
        }
    }

    fn remote_name(&self, name: &SecretName) -> Option<String> {
        self.id(name).ok()
    }

    async fn register_secret(&self, secret: &Secret) -> Result<()> {
        let name = secret.name();
        let id = self.id(name)?;
        let payload = self.payload(secret)?;
        // Key Vault has no create-only write: a PUT over a live secret adds
        // a version. Look first; a live secret of the name (Keystack's or
        // not) is never overwritten.
        let client = self.client().await?;
        let existing = self
            .call("read", &id, || async {
                client.get_secret(&id, None).await.map(|_| ())
            })
            .await?;
        match existing {
            // A disabled secret exists too.
            Ok(()) | Err(Failure::Disabled) => {
                return Err(Error::AlreadyExists { name: name.clone() });
            }
            Err(Failure::NotFound) => {}
            Err(other) => return Err(other.into_error(format!("read {id}"))),
        }
        self.write(name, &id, &payload, secret.schema()).await
    }

    async fn get_secret(&self, name: &SecretName) -> Result<Secret> {
        self.read(name).await
    }

    async fn list_secret_names(&self) -> Result<Vec<SecretName>> {
        Ok(self
            .own_names()
            .await?
            .into_iter()
            .map(|(n, _)| n)
            .collect())
    }

    async fn update_secret(&self, name: &SecretName, patch: &SecretPatch) -> Result<Secret> {
        let mut secret = self.read(name).await?;
        secret.apply(patch)?;
        let id = self.id(name)?;
        self.write(name, &id, &self.payload(&secret)?, secret.schema())
            .await?;
        Ok(secret)
    }

    async fn delete_secret(&self, name: &SecretName) -> Result<()> {
        self.read(name).await?;
        if self.remove(&self.id(name)?).await? {
            Ok(())
        } else {
            Err(Error::NotFound { name: name.clone() })
        }
    }

    async fn delete_all_secrets(&self) -> Result<usize> {
        let names = self.own_names().await?;
        let deleted: Vec<bool> = futures::stream::iter(names)
            .map(|(_, id)| async move { self.remove(&id).await })
            .buffer_unordered(FAN_OUT)
            .inspect_ok(|_| keystack_secrets_core::progress::advance(1))
            .try_collect()
            .await?;
        Ok(deleted.into_iter().filter(|d| *d).count())
    }
}
