//! Keystack's GCP Secret Manager backend, on Google's official
//! `google-cloud-secretmanager-v1` client (REST transport, rustls).
//!
//! One GCP secret per Keystack secret. Its ID is `keystack-<name>`, or
//! `keystack<n>-<namespace>-<name>` in a namespace of `n` characters (so the
//! mapping is reversible and two namespaces never collide); its labels mark
//! it (`keystack-managed=true`, `keystack-namespace`, `keystack-schema`); the
//! key-values are the JSON payload of its versions. An update adds a version
//! and disables (or destroys) the versions beyond the newest
//! `keep_versions`; a read accesses `latest`.
//!
//! With `layout: zenml`, secrets are named, labelled and held as ZenML's
//! GCP secrets manager of versions 0.30–0.37 did (see
//! [`keystack_secrets_core::remote::zenml`]): IDs `zenml-<scope>-…-<name>`,
//! its `zenml_*` labels (the name comes from `zenml_secret_name`), and a
//! JSON payload with `zenml_schema_name`.

mod config;
mod error;
mod naming;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::future::Future;

use async_trait::async_trait;
use futures::{StreamExt, TryStreamExt};
use google_cloud_secretmanager_v1::client::SecretManagerService;
use google_cloud_secretmanager_v1::model;
use keystack_secrets_core::remote::mark::MarkKeys;
use keystack_secrets_core::remote::payload::from_json;
use keystack_secrets_core::remote::retry::retry;
use keystack_secrets_core::remote::zenml::{self, ZenmlLayout};
use keystack_secrets_core::remote::{Refusal, payload_within};
use keystack_secrets_core::{
    Capabilities, Error, ManagerInfo, NameChars, Result, Secret, SecretName, SecretPatch,
    SecretsManager, get_each,
};
use tokio::sync::OnceCell;
use zeroize::Zeroizing;

pub use config::{GcpBuilder, GcpConfig, GcpConfigKey, GcpFactory};
use error::{Failure, classify};

/// The flavor name of this backend.
pub const FLAVOR: &str = "gcp";

/// Labels that mark a secret as Keystack's.
const MARKS: MarkKeys = MarkKeys::DASHED;

/// The largest payload Secret Manager accepts.
pub const MAX_SECRET_BYTES: usize = 64 * 1024;

/// What holds one secret in Secret Manager, for messages.
const HOLDER: &str = "a GCP Secret Manager version";

/// Deletes in flight during `delete_all_secrets`.
const FAN_OUT: usize = 8;

/// Secrets kept in GCP Secret Manager.
pub struct GcpSecretsManager {
    config: GcpConfig,
    client: OnceCell<SecretManagerService>,
    /// ZenML's layout (`layout: zenml`) instead of Keystack's.
    zenml: Option<ZenmlLayout>,
}

impl fmt::Debug for GcpSecretsManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GcpSecretsManager")
            .field("project_id", &self.config.project_id)
            .field("endpoint", &self.config.endpoint_shown())
            .field("namespace", &self.config.namespace)
            .finish_non_exhaustive()
    }
}

impl GcpSecretsManager {
    fn new(config: GcpConfig, zenml: Option<ZenmlLayout>) -> Self {
        Self {
            config,
            client: OnceCell::new(),
            zenml,
        }
    }

    /// A manager over a given client (tests: a stub with recorded answers).
    #[cfg(test)]
    fn with_client(config: GcpConfig, client: SecretManagerService) -> Self {
        Self {
            config,
            client: OnceCell::new_with(Some(client)),
            zenml: None,
        }
    }

    /// The settings in use.
    pub fn config(&self) -> &GcpConfig {
        &self.config
    }

    /// The client, made on first use: Application Default Credentials, or
    /// none for an emulator (`http://`) endpoint. Retries are ours
    /// (`keystack_secrets_core::remote::retry`), so the client's own are off.
    async fn client(&self) -> Result<&SecretManagerService> {
        self.client
            .get_or_try_init(|| async {
                let mut builder = SecretManagerService::builder()
                    .with_attempt_timeout(self.config.timeout())
                    .with_retry_policy(google_cloud_gax::retry_policy::NeverRetry);
                if let Some(endpoint) = &self.config.endpoint {
                    builder = builder.with_endpoint(endpoint);
                }
                if self.config.is_emulator() {
                    builder = builder.with_credentials(
                        google_cloud_auth::credentials::anonymous::Builder::new().build(),
                    );
                }
                builder.build().await.map_err(|e| Error::Unauthenticated {
                    backend: FLAVOR,
                    message: format!(
                        "cannot set up the Secret Manager client ({e}); Keystack uses Application Default \
                         Credentials: run `gcloud auth application-default login`, or set \
                         GOOGLE_APPLICATION_CREDENTIALS to a service account key file"
                    ),
                    source: None,
                })
            })
            .await
    }

    fn parent(&self) -> String {
        format!("projects/{}", self.config.project())
    }

    fn namespace(&self) -> &str {
        self.config.namespace.as_deref().unwrap_or("")
    }

    fn resource(&self, name: &SecretName) -> String {
        format!("{}/secrets/{}", self.parent(), self.secret_id(name))
    }

    /// The secret ID of `name`: Keystack's, or ZenML's scoped one.
    fn secret_id(&self, name: &SecretName) -> String {
        match &self.zenml {
            Some(layout) => layout.scoped_name(name.as_str(), '-'),
            None => naming::secret_id(self.config.namespace.as_deref(), name),
        }
    }

    /// The payload of a secret: Keystack's JSON, or ZenML's.
    fn payload(&self, secret: &Secret) -> Result<Zeroizing<String>> {
        match &self.zenml {
            Some(layout) => layout.payload(secret, HOLDER, MAX_SECRET_BYTES),
            None => payload_within(secret.name(), secret.values(), HOLDER, MAX_SECRET_BYTES)
                .map_err(|r| r.into_error(FLAVOR)),
        }
    }

    /// One SDK call with retries; NOT_FOUND and ALREADY_EXISTS are kept apart
    /// for the caller to give their meaning.
    async fn call<T, F, Fut>(
        &self,
        action: &str,
        resource: &str,
        call: F,
    ) -> Result<std::result::Result<T, Failure>>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = google_cloud_secretmanager_v1::Result<T>>,
    {
        retry(self.config.max_attempts(), || async {
            match call().await {
                Ok(value) => Ok(Ok(value)),
                Err(e) => match classify(&e, self.config.endpoint_shown(), action, resource) {
                    Failure::Other(e) => Err(e),
                    failure => Ok(Err(failure)),
                },
            }
        })
        .await
    }

    /// Whether the labels say the secret is Keystack's, in this namespace;
    /// in ZenML's layout, that it is in this scope (named `name`, if given).
    fn is_ours(&self, name: Option<&SecretName>, labels: &HashMap<String, String>) -> bool {
        match &self.zenml {
            Some(layout) => layout.in_scope(name.map(SecretName::as_str), |k| {
                labels.get(k).map(String::as_str)
            }),
            None => MARKS.is_marked_map(self.namespace(), Some(labels)),
        }
    }

    /// The secret's resource, checked to be Keystack's.
    async fn describe(&self, name: &SecretName) -> Result<model::Secret> {
        let resource = self.resource(name);
        let client = self.client().await?;
        let got = self
            .call("read", &resource, || {
                client.get_secret().set_name(resource.clone()).send()
            })
            .await?;
        let secret = match got {
            Ok(secret) => secret,
            Err(_) => return Err(Error::NotFound { name: name.clone() }),
        };
        if !self.is_ours(Some(name), &secret.labels) {
            let place = "Secret Manager".to_owned();
            return Err(match self.zenml {
                Some(_) => Refusal::OutOfScope {
                    object: resource,
                    place,
                    tags: "labels",
                },
                None => Refusal::Foreign {
                    object: resource,
                    place,
                    scope: " in this namespace",
                    hint: String::new(),
                },
            }
            .into_error(FLAVOR));
        }
        Ok(secret)
    }

    /// The payload of the `latest` version; `None` if no version is enabled.
    async fn latest(&self, name: &SecretName) -> Result<Option<Zeroizing<Vec<u8>>>> {
        let version = format!("{}/versions/latest", self.resource(name));
        let client = self.client().await?;
        let accessed = self
            .call("read", &version, || {
                client
                    .access_secret_version()
                    .set_name(version.clone())
                    .send()
            })
            .await?;
        Ok(match accessed {
            Ok(response) => Some(Zeroizing::new(
                response
                    .payload
                    .map(|p| p.data.to_vec())
                    .unwrap_or_default(),
            )),
            Err(_) => None,
        })
    }

    async fn read(&self, name: &SecretName) -> Result<Secret> {
        let (described, payload) = futures::join!(self.describe(name), self.latest(name));
        self.compose(name, &described?, payload?)
    }

    /// A secret from its resource (labels: ownership, schema) and the
    /// payload of its latest version.
    fn compose(
        &self,
        name: &SecretName,
        described: &model::Secret,
        payload: Option<Zeroizing<Vec<u8>>>,
    ) -> Result<Secret> {
        let Some(payload) = payload else {
            // Registered an instant ago (no version yet), or every version
            // disabled by hand: nothing to read either way.
            return Err(Error::NotFound { name: name.clone() });
        };
        let unreadable = |problem: &str| -> Error {
            Refusal::Unreadable {
                name: name.clone(),
                object: self.resource(name),
                problem: problem.to_owned(),
            }
            .into_error(FLAVOR)
        };
        let (schema, values) = match self.zenml {
            Some(_) => zenml::from_payload(&payload)
                .map_err(|e| unreadable(&format!("its payload: {e}")))?,
            None => (
                MARKS
                    .schema_in_map(Some(&described.labels))
                    .ok_or_else(|| unreadable("its keystack-schema label is not a known schema"))?,
                from_json(&payload).map_err(|e| unreadable(&format!("its payload: {e}")))?,
            ),
        };
        Secret::new(name.clone(), schema, values)
            .map_err(|_| unreadable("its key-values do not fit its schema"))
    }

    /// Adds a version holding `payload` (checked by [`payload`]).
    async fn add_version(&self, name: &SecretName, payload: &str) -> Result<String> {
        let resource = self.resource(name);
        let client = self.client().await?;
        let added = self
            .call("add a version to", &resource, || {
                client
                    .add_secret_version()
                    .set_parent(resource.clone())
                    .set_payload(model::SecretPayload::new().set_data(payload.as_bytes().to_vec()))
                    .send()
            })
            .await?;
        match added {
            Ok(version) => Ok(version.name),
            Err(_) => Err(Error::NotFound { name: name.clone() }),
        }
    }

    /// Disables (or destroys) the versions beyond the newest `keep_versions`.
    async fn prune(&self, name: &SecretName) -> Result<()> {
        let resource = self.resource(name);
        let client = self.client().await?;
        let mut versions: Vec<model::SecretVersion> = Vec::new();
        let mut token = String::new();
        loop {
            let page = self
                .call("list the versions of", &resource, || {
                    client
                        .list_secret_versions()
                        .set_parent(resource.clone())
                        .set_page_token(token.clone())
                        .send()
                })
                .await?;
            let Ok(page) = page else { return Ok(()) };
            versions.extend(page.versions);
            if page.next_page_token.is_empty() {
                break;
            }
            token = page.next_page_token;
        }
        let destroy = self.config.destroy_old_versions == Some(true);
        let mut numbered: Vec<(u64, model::SecretVersion)> = versions
            .into_iter()
            .filter_map(|v| {
                let n = v.name.rsplit('/').next()?.parse().ok()?;
                Some((n, v))
            })
            .collect();
        numbered.sort_by_key(|(n, _)| std::cmp::Reverse(*n));
        for (_, version) in numbered
            .into_iter()
            .skip(self.config.keep_versions() as usize)
        {
            let state = &version.state;
            let wanted = if destroy {
                *state != model::secret_version::State::Destroyed
            } else {
                *state == model::secret_version::State::Enabled
            };
            if !wanted {
                continue;
            }
            let result = if destroy {
                self.call("destroy", &version.name, || {
                    client
                        .destroy_secret_version()
                        .set_name(version.name.clone())
                        .send()
                })
                .await?
                .map(|_| ())
            } else {
                self.call("disable", &version.name, || {
                    client
                        .disable_secret_version()
                        .set_name(version.name.clone())
                        .send()
                })
                .await?
                .map(|_| ())
            };
            // A version another writer pruned first is fine.
            let _ = result;
        }
        Ok(())
    }

    async fn remove(&self, resource: &str) -> Result<bool> {
        let client = self.client().await?;
        let deleted = self
            .call("delete", resource, || {
                client.delete_secret().set_name(resource.to_owned()).send()
            })
            .await?;
        Ok(deleted.is_ok())
    }

    /// Every page of `ListSecrets` under the Keystack label filter.
    async fn list_resources(&self) -> Result<Vec<model::Secret>> {
        let client = self.client().await?;
        let parent = self.parent();
        let filter = match &self.zenml {
            // ZenML's `_get_secret_scope_filters`.
            Some(layout) => layout
                .scope_tags(None)
                .iter()
                .map(|(k, v)| format!("labels.{k}={v}"))
                .collect::<Vec<_>>()
                .join(" AND "),
            None => format!("labels.{}=true", MARKS.managed),
        };
        let page_size = self.config.page_size();
        let mut secrets = Vec::new();
        let mut token = String::new();
        loop {
            let page = self
                .call("list the secrets of", &parent, || {
                    client
                        .list_secrets()
                        .set_parent(parent.clone())
                        .set_filter(filter.clone())
                        .set_page_size(page_size)
                        .set_page_token(token.clone())
                        .send()
                })
                .await?;
            let Ok(page) = page else { break };
            secrets.extend(page.secrets);
            if page.next_page_token.is_empty() {
                break;
            }
            token = page.next_page_token;
        }
        Ok(secrets)
    }

    /// The Keystack name of a listed secret in this namespace or scope: from
    /// its ID, or (ZenML's layout, as ZenML's `_list_secrets` did) its
    /// `zenml_secret_name` label, checked against the ID.
    fn listed_name(&self, secret: &model::Secret) -> Option<SecretName> {
        let id = secret.name.rsplit('/').next()?;
        match &self.zenml {
            Some(_) => {
                let name = SecretName::new(secret.labels.get(zenml::NAME_TAG)?).ok()?;
                (self.secret_id(&name) == id).then_some(name)
            }
            None => {
                let (ns, name) = naming::decode(id)?;
                (ns.unwrap_or("") == self.namespace()).then_some(name)
            }
        }
    }

    /// Keystack's secrets in this namespace: the labels say so (checked
    /// here too: the filter is the server's, and emulators may ignore it),
    /// and the ID decodes to this namespace.
    async fn own_names(&self) -> Result<Vec<SecretName>> {
        let mut names: Vec<SecretName> = self
            .list_resources()
            .await?
            .into_iter()
            .filter(|s| self.is_ours(None, &s.labels))
            .filter_map(|s| self.listed_name(&s))
            .collect();
        names.sort();
        names.dedup();
        Ok(names)
    }
}

#[async_trait]
impl SecretsManager for GcpSecretsManager {
    fn info(&self) -> ManagerInfo {
        ManagerInfo {
            flavor: FLAVOR,
            is_local: false,
            location: match &self.zenml {
                Some(layout) => format!(
                    "GCP Secret Manager at {}, project {}, ZenML's layout, IDs {}*",
                    self.config.endpoint_shown(),
                    self.config.project(),
                    layout.prefix('-')
                ),
                None => format!(
                    "GCP Secret Manager at {}, project {}, namespace '{}'",
                    self.config.endpoint_shown(),
                    self.config.project(),
                    self.namespace()
                ),
            },
            capabilities: match self.zenml {
                Some(_) => Capabilities::new()
                    .with_max_secret_bytes(Some(zenml::max_values_bytes(MAX_SECRET_BYTES)))
                    .with_names(NameChars::NoCapitals),
                None => Capabilities::new().with_max_secret_bytes(Some(MAX_SECRET_BYTES)),
            },
        }
    }

    fn remote_name(&self, name: &SecretName) -> Option<String> {
        Some(self.secret_id(name))
    }

    async fn register_secret(&self, secret: &Secret) -> Result<()> {
        let name = secret.name();
        let payload = self.payload(secret)?;
        let id = self.secret_id(name);
        let parent = self.parent();
        let labels: HashMap<String, String> = match &self.zenml {
            Some(layout) => layout
                .secret_tags(name.as_str(), secret.schema())
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect(),
            None => MARKS.map(self.namespace(), secret.schema()),
        };
        let client = self.client().await?;
        let created = self
            .call("create", &self.resource(name), || {
                client
                    .create_secret()
                    .set_parent(parent.clone())
                    .set_secret_id(id.clone())
                    .set_secret(
                        model::Secret::new()
                            .set_labels(labels.clone())
                            .set_replication(
                                model::Replication::new()
                                    .set_automatic(model::replication::Automatic::new()),
                            ),
                    )
                    .send()
            })
            .await?;
        match created {
            Ok(_) => {}
            Err(Failure::AlreadyExists) => {
                return Err(Error::AlreadyExists { name: name.clone() });
            }
            Err(_) => {
                return Err(Error::invalid_config(
                    FLAVOR,
                    format!(
                        "project {} was not found at {}",
                        self.config.project(),
                        self.config.endpoint_shown()
                    ),
                ));
            }
        }
        if let Err(e) = self.add_version(name, &payload).await {
            // A secret without a version would read as missing but block its
            // name: take it back.
            let _ = self.remove(&self.resource(name)).await;
            return Err(e);
        }
        Ok(())
    }

    async fn get_secret(&self, name: &SecretName) -> Result<Secret> {
        self.read(name).await
    }

    /// `n + 1` requests instead of `2n`: one filtered listing gives the
    /// labels (ownership, schema) of every managed secret, then one
    /// AccessSecretVersion per secret. A name the listing does not show as
    /// ours is read alone, so that its error is the same as `get_secret`'s;
    /// for one or two names the single reads cost no more.
    async fn get_secrets(
        &self,
        names: &[SecretName],
        concurrency: usize,
    ) -> Result<Vec<Result<Secret>>> {
        if names.len() <= 2 {
            return Ok(get_each(self, names, concurrency).await);
        }
        let listed: BTreeMap<String, model::Secret> = self
            .list_resources()
            .await?
            .into_iter()
            .filter(|s| self.is_ours(None, &s.labels))
            .map(|s| (s.name.clone(), s))
            .collect();
        let listed = &listed;
        // Futures made before they are streamed: a stream mapping with a
        // closure over `self` trips the `Send` check of `async_trait`.
        let each: Vec<_> = names
            .iter()
            .map(|name| async move {
                match listed
                    .get(&self.resource(name))
                    .filter(|s| self.is_ours(Some(name), &s.labels))
                {
                    Some(described) => self.compose(name, described, self.latest(name).await?),
                    None => self.read(name).await,
                }
            })
            .collect();
        Ok(futures::stream::iter(each)
            .buffered(concurrency.max(1))
            .inspect(|_| keystack_secrets_core::progress::advance(1))
            .collect()
            .await)
    }

    async fn list_secret_names(&self) -> Result<Vec<SecretName>> {
        self.own_names().await
    }

    async fn update_secret(&self, name: &SecretName, patch: &SecretPatch) -> Result<Secret> {
        let mut secret = self.read(name).await?;
        secret.apply(patch)?;
        self.add_version(name, &self.payload(&secret)?).await?;
        self.prune(name).await?;
        Ok(secret)
    }

    async fn delete_secret(&self, name: &SecretName) -> Result<()> {
        self.describe(name).await?;
        if self.remove(&self.resource(name)).await? {
            Ok(())
        } else {
            Err(Error::NotFound { name: name.clone() })
        }
    }

    async fn delete_all_secrets(&self) -> Result<usize> {
        let names = self.own_names().await?;
        let deleted: Vec<bool> = futures::stream::iter(names)
            .map(|name| async move { self.remove(&self.resource(&name)).await })
            .buffer_unordered(FAN_OUT)
            .inspect_ok(|_| keystack_secrets_core::progress::advance(1))
            .try_collect()
            .await?;
        Ok(deleted.into_iter().filter(|d| *d).count())
    }
}

#[cfg(test)]
mod tests;
