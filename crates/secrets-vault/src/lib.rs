//! Keystack's HashiCorp Vault / OpenBao backend, on the KV v2 secrets
//! engine through `vaultrs`.
//!
//! One KV v2 entry per Keystack secret, at
//! `<mount>/<path_prefix>[/<namespace>]/<name>` (default
//! `secret/keystack/<name>`): its data is the secret's key-values, its
//! custom metadata marks it Keystack-managed (`keystack-managed: true`,
//! `keystack-namespace`, `keystack-schema`). Entries without that mark are
//! never read as secrets, listed, updated or deleted.
//!
//! Updates are check-and-set: read the entry and its version, apply the
//! patch, write with `cas` = that version, and start again if another writer
//! got there first; so concurrent updates of one secret are all kept.
//!
//! With `layout: zenml`, entries are where and as ZenML's Vault secrets
//! manager of versions 0.30–0.37 kept them (see
//! [`keystack_secrets_core::remote::zenml`]): `<mount>/zenml/<scope>/…/<name>`
//! (or `<mount>/<name>` without a scope), the data the key-values with
//! `zenml_schema_name`, and no custom metadata (ZenML wrote none: an entry
//! is ZenML's when its data names a schema).

mod config;
mod error;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use futures::{StreamExt, TryStreamExt};
use keystack_secrets_core::remote::Refusal;
use keystack_secrets_core::remote::mark::MarkKeys;
use keystack_secrets_core::remote::retry::retry;
use keystack_secrets_core::remote::zenml::{self, ZenmlLayout};
use keystack_secrets_core::{
    Capabilities, Error, ManagerInfo, Result, Secret, SecretKey, SecretName, SecretPatch,
    SecretSchema, SecretValue, SecretsManager,
};
use tokio::sync::OnceCell;
use vaultrs::api::kv2::requests::{ReadSecretRequest, SetSecretRequestOptions};
use vaultrs::api::kv2::responses::ReadSecretResponse;
use vaultrs::client::{Client, VaultClient, VaultClientSettingsBuilder};
use zeroize::Zeroizing;

use config::Login;
pub use config::{AuthMethod, VaultBuilder, VaultConfig, VaultConfigKey, VaultFactory};
use error::{Failure, classify};

/// The flavor name of this backend.
pub const FLAVOR: &str = "vault";

/// Custom metadata that marks an entry as Keystack's.
const MARKS: MarkKeys = MarkKeys::DASHED;

/// Check-and-set rounds an update makes before giving up with `Conflict`.
const CAS_ROUNDS: u32 = 16;
/// Metadata reads in flight while listing, deletes while deleting all.
const FAN_OUT: usize = 16;

/// Secrets kept in a Vault or OpenBao KV v2 engine.
pub struct VaultSecretsManager {
    config: VaultConfig,
    login: Login,
    client: OnceCell<VaultClient>,
    /// ZenML's layout (`layout: zenml`) instead of Keystack's.
    zenml: Option<ZenmlLayout>,
}

impl fmt::Debug for VaultSecretsManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VaultSecretsManager")
            .field("url", &self.config.url())
            .field("mount", &self.config.mount())
            .field("folder", &self.folder())
            .field("login", &self.login)
            .finish_non_exhaustive()
    }
}

impl VaultSecretsManager {
    fn new(config: VaultConfig, login: Login, zenml: Option<ZenmlLayout>) -> Self {
        Self {
            config,
            login,
            client: OnceCell::new(),
            zenml,
        }
    }

    /// The folder of this manager's entries in the mount, without a
    /// trailing `/`: Keystack's, or ZenML's scope path (empty without a scope).
    fn folder(&self) -> String {
        match &self.zenml {
            Some(layout) => layout.scope_path().join("/"),
            None => self.config.folder(),
        }
    }

    /// The settings in use (no credential is among them).
    pub fn config(&self) -> &VaultConfig {
        &self.config
    }

    /// The client, made (and logged in, for AppRole) on first use.
    async fn client(&self) -> Result<&VaultClient> {
        self.client
            .get_or_try_init(|| async {
                let mut settings = VaultClientSettingsBuilder::default();
                settings
                    .address(self.config.url())
                    .timeout(Some(self.config.timeout()));
                if let Some(ns) = &self.config.vault_namespace {
                    settings.set_namespace(ns.clone());
                }
                if let Login::Token(token) = &self.login {
                    settings.token(token.0.as_str());
                } else {
                    // Replaced by the AppRole login below; never sent.
                    settings.token("");
                }
                let settings = settings
                    .build()
                    .map_err(|e| Error::invalid_config(FLAVOR, format!("client settings: {e}")))?;
                let mut client = VaultClient::new(settings).map_err(|e| {
                    Error::invalid_config(
                        FLAVOR,
                        format!("cannot set up the client for {}: {e}", self.config.url()),
                    )
                })?;
                if let Login::Approle {
                    mount,
                    role_id,
                    secret_id,
                } = &self.login
                {
                    let auth = retry(self.config.max_attempts(), || async {
                        vaultrs::auth::approle::login(&client, mount, role_id, secret_id.0.as_str())
                            .await
                            .map_err(|e| login_error(e, self.config.url(), mount))
                    })
                    .await?;
                    let token = Zeroizing::new(auth.client_token);
                    client.set_token(&token);
                }
                Ok(client)
            })
            .await
    }

    /// The entry's path inside the mount.
    fn path(&self, name: &SecretName) -> String {
        match self.folder().as_str() {
            "" => name.to_string(),
            folder => format!("{folder}/{name}"),
        }
    }

    /// The path as users see it, mount included, for messages.
    fn full(&self, path: &str) -> String {
        format!("{}/{path}", self.config.mount())
    }

    /// An entry at `path` that Keystack did not create.
    fn foreign(&self, path: &str) -> Error {
        Refusal::Foreign {
            object: format!("the entry at {}", self.full(path)),
            place: "Vault".to_owned(),
            scope: "",
            hint: " (remove it with `bao kv metadata delete` / `vault kv metadata delete` if it is yours)"
                .to_owned(),
        }
        .into_error(FLAVOR)
    }

    fn namespace(&self) -> &str {
        self.config.namespace.as_deref().unwrap_or("")
    }

    fn fail(&self, err: vaultrs::error::ClientError, action: &str, path: &str) -> Error {
        match classify(err, self.config.url(), action, &self.full(path)) {
            Failure::Other(e) => e,
            Failure::NotFound => Error::Backend {
                backend: FLAVOR,
                source: format!("{action} {}: not found", self.full(path)).into(),
            },
            Failure::CasMismatch => Error::Backend {
                backend: FLAVOR,
                source: format!("{action} {}: check-and-set mismatch", self.full(path)).into(),
            },
        }
    }

    /// One vaultrs call, retried while it fails transiently (see
    /// `keystack_secrets_core::remote::retry`), keeping 404 and check-and-set
    /// mismatches apart.
    async fn call<T, F, Fut>(
        &self,
        action: &str,
        path: &str,
        call: F,
    ) -> Result<std::result::Result<T, Failure>>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = std::result::Result<T, vaultrs::error::ClientError>>,
    {
        retry(self.config.max_attempts(), || async {
            match call().await {
                Ok(value) => Ok(Ok(value)),
                Err(e) => match classify(e, self.config.url(), action, &self.full(path)) {
                    Failure::Other(e) => Err(e),
                    failure => Ok(Err(failure)),
                },
            }
        })
        .await
    }

    /// Whether an entry is this manager's: Keystack's mark for this
    /// namespace in its custom metadata, or (ZenML's layout) its data
    /// naming a schema.
    fn is_ours(&self, custom: Option<&HashMap<String, String>>, data: &serde_json::Value) -> bool {
        match self.zenml {
            Some(_) => data.get(zenml::SCHEMA_ENTRY).is_some(),
            None => MARKS.is_marked_map(self.namespace(), custom),
        }
    }

    /// Reads the latest version of an entry with its metadata; `None` if
    /// there is none (or it was soft-deleted).
    async fn read(&self, path: &str) -> Result<Option<ReadSecretResponse>> {
        let client = self.client().await?;
        let mount = self.config.mount();
        let mount = mount.as_str();
        let read = self
            .call("read", path, || async {
                let endpoint = ReadSecretRequest::builder()
                    .mount(mount)
                    .path(path)
                    .build()
                    .expect("mount and path are set");
                vaultrs::api::exec_with_result(client, endpoint).await
            })
            .await?;
        match read {
            Ok(response) => Ok(Some(response)),
            Err(_) => Ok(None),
        }
    }

    /// Reads a Keystack entry: its secret and version. An entry without
    /// Keystack's mark is refused, after one more look (a register writes
    /// the data, then the mark, so a reader may see the first alone).
    async fn read_secret(&self, name: &SecretName) -> Result<(Secret, u64)> {
        let path = self.path(name);
        let mut response = self.read(&path).await?;
        if response
            .as_ref()
            .is_some_and(|r| !self.is_ours(r.metadata.custom_metadata.as_ref(), &r.data))
        {
            tokio::time::sleep(Duration::from_millis(200)).await;
            response = self.read(&path).await?;
        }
        let Some(response) = response else {
            return Err(Error::NotFound { name: name.clone() });
        };
        let custom = response.metadata.custom_metadata.as_ref();
        if !self.is_ours(custom, &response.data) {
            return Err(self.foreign(&path));
        }
        let unreadable = |problem: &str| -> Error {
            Refusal::Unreadable {
                name: name.clone(),
                object: self.full(&path),
                problem: problem.to_owned(),
            }
            .into_error(FLAVOR)
        };
        let (schema, values) = match self.zenml {
            Some(_) => {
                let data = Zeroizing::new(
                    serde_json::to_vec(&response.data).expect("JSON from the server serializes"),
                );
                zenml::from_payload(&data).map_err(|e| unreadable(&format!("its data: {e}")))?
            }
            None => (
                MARKS.schema_in_map(custom).ok_or_else(|| {
                    unreadable("its keystack-schema metadata is not a known schema")
                })?,
                decode_values(response.data, &unreadable)?,
            ),
        };
        let secret = Secret::new(name.clone(), schema, values)
            .map_err(|_| unreadable("its key-values do not fit its schema"))?;
        Ok((secret, response.metadata.version))
    }

    /// Writes `values` at `path` if its current version is `cas` (0: if
    /// there is no entry). `Ok(false)` when another writer got there first.
    async fn write(&self, path: &str, secret: &Secret, cas: u64) -> Result<bool> {
        let client = self.client().await?;
        let mount = self.config.mount();
        let mount = mount.as_str();
        let cas = u32::try_from(cas).map_err(|_| Error::Backend {
            backend: FLAVOR,
            source: format!(
                "{} has more versions than check-and-set can name",
                self.full(path)
            )
            .into(),
        })?;
        if let Some(layout) = &self.zenml {
            // Checks the name and keys; the data is written as a map below.
            layout.payload(secret, "a Vault entry", usize::MAX)?;
        }
        let data = PlainValues {
            values: secret.values(),
            schema: self.zenml.as_ref().map(|_| secret.schema()),
        };
        let written = self
            .call("write", path, || async {
                vaultrs::kv2::set_with_options(
                    client,
                    mount,
                    path,
                    &data,
                    SetSecretRequestOptions { cas },
                )
                .await
            })
            .await?;
        match written {
            Ok(_) => Ok(true),
            Err(Failure::CasMismatch) => Ok(false),
            Err(_) => Err(Error::Backend {
                backend: FLAVOR,
                source: format!("write {}: not found", self.full(path)).into(),
            }),
        }
    }

    async fn mark(&self, path: &str, schema: SecretSchema) -> Result<()> {
        if self.zenml.is_some() {
            // ZenML wrote no custom metadata.
            return Ok(());
        }
        let client = self.client().await?;
        let mount = self.config.mount();
        let mount = mount.as_str();
        // Vault refuses empty metadata values: without a namespace, the
        // namespace entry is left out (and read as empty).
        let custom = MARKS.map(self.namespace(), schema);
        retry(self.config.max_attempts(), || async {
            let mut options = vaultrs::api::kv2::requests::SetSecretMetadataRequest::builder();
            options.custom_metadata(custom.clone());
            vaultrs::kv2::set_metadata(client, mount, path, Some(&mut options))
                .await
                .map_err(|e| self.fail(e, "mark", path))
        })
        .await
    }

    /// Deletes an entry's metadata and every version.
    async fn remove(&self, path: &str) -> Result<()> {
        let client = self.client().await?;
        let mount = self.config.mount();
        let mount = mount.as_str();
        self.call("delete", path, || async {
            vaultrs::kv2::delete_metadata(client, mount, path).await
        })
        .await?
        .or(Ok(()))
    }

    /// Whether the entry at `path` carries Keystack's mark (in ZenML's
    /// layout: its data names a schema, so an entry of the folder that
    /// ZenML did not write is never listed or deleted, where ZenML's own
    /// listing took every entry); `None` if there is no entry.
    async fn marked(&self, path: &str) -> Result<Option<bool>> {
        if self.zenml.is_some() {
            return Ok(self.read(path).await?.map(|r| self.is_ours(None, &r.data)));
        }
        let client = self.client().await?;
        let mount = self.config.mount();
        let mount = mount.as_str();
        let metadata = self
            .call("read the metadata of", path, || async {
                vaultrs::kv2::read_metadata(client, mount, path).await
            })
            .await?;
        Ok(metadata
            .ok()
            .map(|m| self.is_ours(m.custom_metadata.as_ref(), &serde_json::Value::Null)))
    }

    /// Names of the entries directly in this manager's folder (no
    /// sub-folders, which are other namespaces), Keystack's or not.
    async fn entries(&self) -> Result<Vec<SecretName>> {
        let client = self.client().await?;
        let mount = self.config.mount();
        let mount = mount.as_str();
        let folder = match self.folder().as_str() {
            "" => String::new(),
            folder => format!("{folder}/"),
        };
        let listed = self
            .call("list", &folder, || async {
                vaultrs::kv2::list(client, mount, &folder).await
            })
            .await?;
        Ok(listed
            .unwrap_or_default()
            .into_iter()
            .filter(|key| !key.ends_with('/'))
            .filter_map(|key| SecretName::new(key).ok())
            .collect())
    }
}

/// An AppRole login failure: a refused role or secret ID is
/// `Unauthenticated`; transport and server trouble as for any call.
fn login_error(err: vaultrs::error::ClientError, url: &str, mount: &str) -> Error {
    let path = format!("auth/{mount}/login");
    match err {
        vaultrs::error::ClientError::APIError { code, errors } if (400..500).contains(&code) => {
            Error::Unauthenticated {
                backend: FLAVOR,
                message: format!(
                    "AppRole login at {url}/v1/{path} refused (HTTP {code}: {}); check role_id and the secret ID",
                    errors.join("; ")
                ),
                source: None,
            }
        }
        other => match classify(other, url, "log in at", &path) {
            Failure::Other(e) => e,
            _ => Error::Unauthenticated {
                backend: FLAVOR,
                message: format!("AppRole login at {url}/v1/{path} failed"),
                source: None,
            },
        },
    }
}

/// The key-values as KV v2 data (a JSON object of strings), with ZenML's
/// `zenml_schema_name` in its layout.
struct PlainValues<'a> {
    values: &'a BTreeMap<SecretKey, SecretValue>,
    schema: Option<SecretSchema>,
}

impl serde::Serialize for PlainValues<'_> {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        let schema = self.schema.map(|s| (zenml::SCHEMA_ENTRY, s.as_str()));
        serializer.collect_map(
            self.values
                .iter()
                .map(|(k, v)| (k.as_str(), v.expose()))
                .chain(schema),
        )
    }
}

fn decode_values(
    data: serde_json::Value,
    unreadable: &dyn Fn(&str) -> Error,
) -> Result<BTreeMap<SecretKey, SecretValue>> {
    let serde_json::Value::Object(map) = data else {
        return Err(unreadable("its data is not a JSON object"));
    };
    map.into_iter()
        .map(|(k, v)| {
            let serde_json::Value::String(v) = v else {
                return Err(unreadable("its data holds a value that is not a string"));
            };
            let key = SecretKey::new(k)
                .map_err(|_| unreadable("its data holds a key Keystack cannot use"))?;
            Ok((key, SecretValue::new(v)))
        })
        .collect()
}

#[async_trait]
impl SecretsManager for VaultSecretsManager {
    fn info(&self) -> ManagerInfo {
        ManagerInfo {
            flavor: FLAVOR,
            is_local: false,
            location: format!(
                "{}, KV v2 mount '{}', folder '{}'{}",
                self.config.url(),
                self.config.mount(),
                self.folder(),
                match &self.zenml {
                    Some(layout) => format!(" (ZenML's layout, scope {})", layout.scope().as_str()),
                    None => String::new(),
                }
            ),
            capabilities: Capabilities::new().with_atomic_update(true),
        }
    }

    fn remote_name(&self, name: &SecretName) -> Option<String> {
        Some(self.path(name))
    }

    async fn register_secret(&self, secret: &Secret) -> Result<()> {
        let path = self.path(secret.name());
        if !self.write(&path, secret, 0).await? {
            return Err(Error::AlreadyExists {
                name: secret.name().clone(),
            });
        }
        if let Err(e) = self.mark(&path, secret.schema()).await {
            // Not marked, the entry would be refused as foreign forever:
            // take it back rather than leave it half-written.
            let _ = self.remove(&path).await;
            return Err(e);
        }
        Ok(())
    }

    async fn get_secret(&self, name: &SecretName) -> Result<Secret> {
        Ok(self.read_secret(name).await?.0)
    }

    async fn list_secret_names(&self) -> Result<Vec<SecretName>> {
        let entries = self.entries().await?;
        let checked: Vec<(SecretName, Option<bool>)> = futures::stream::iter(entries)
            .map(|name| {
                let path = self.path(&name);
                async move { Ok::<_, Error>((name, self.marked(&path).await?)) }
            })
            .buffer_unordered(FAN_OUT)
            .try_collect()
            .await?;
        let mut names: Vec<SecretName> = checked
            .into_iter()
            .filter(|(_, ours)| *ours == Some(true))
            .map(|(name, _)| name)
            .collect();
        names.sort();
        Ok(names)
    }

    async fn update_secret(&self, name: &SecretName, patch: &SecretPatch) -> Result<Secret> {
        let path = self.path(name);
        for round in 0..CAS_ROUNDS {
            let (mut secret, version) = self.read_secret(name).await?;
            secret.apply(patch)?;
            if self.write(&path, &secret, version).await? {
                return Ok(secret);
            }
            // Another writer wrote in between: start again from its version.
            tokio::time::sleep(Duration::from_millis(5 << round.min(6))).await;
        }
        Err(Error::Conflict { name: name.clone() })
    }

    async fn delete_secret(&self, name: &SecretName) -> Result<()> {
        let path = self.path(name);
        match self.marked(&path).await? {
            None => Err(Error::NotFound { name: name.clone() }),
            Some(false) => Err(self.foreign(&path)),
            Some(true) => self.remove(&path).await,
        }
    }

    async fn delete_all_secrets(&self) -> Result<usize> {
        let names = self.list_secret_names().await?;
        let count = names.len();
        futures::stream::iter(names)
            .map(|name| async move { self.remove(&self.path(&name)).await })
            .buffer_unordered(FAN_OUT)
            .inspect_ok(|_| keystack_secrets_core::progress::advance(1))
            .try_collect::<Vec<()>>()
            .await?;
        Ok(count)
    }
}
