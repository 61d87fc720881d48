//! The `SecretsManager` trait every backend implements.

use std::fmt::Debug;

use async_trait::async_trait;

use crate::{Error, Result, Secret, SecretKey, SecretName, SecretPatch, SecretValue};

/// A store of secrets: the local encrypted store or a cloud service.
///
/// Object-safe: callers hold `Arc<dyn SecretsManager>`. Helpers built on these
/// methods live in [`SecretsManagerExt`].
#[async_trait]
pub trait SecretsManager: Debug + Send + Sync + 'static {
    /// What this manager is and what it can do.
    fn info(&self) -> ManagerInfo;

    /// The name the service gives secret `name` (an AWS secret name, a GCP
    /// secret ID, a Vault path inside the mount), for tools that read the
    /// service directly (External Secrets manifests); `None` for a manager
    /// whose secrets no other tool reads (the local store). Computes only:
    /// nothing is contacted.
    fn remote_name(&self, name: &SecretName) -> Option<String> {
        let _ = name;
        None
    }

    /// Stores a new secret. Fails with [`Error::AlreadyExists`] if the name is taken.
    async fn register_secret(&self, secret: &Secret) -> Result<()>;

    /// Reads a secret. Fails with [`Error::NotFound`] if there is none.
    async fn get_secret(&self, name: &SecretName) -> Result<Secret>;

    /// Reads several secrets in one call: one result per name, in the
    /// order given (`Err(NotFound)` for a name without a secret). The outer
    /// error is a failure of the whole read (credentials, the service down).
    ///
    /// Backends with a batch read override it (AWS: `BatchGetSecretValue`,
    /// 20 secrets per request, ownership from one listing). The default
    /// makes up to `concurrency` [`get_secret`](Self::get_secret) calls at
    /// once. Validation, resolution, `run` and `register-secrets` read
    /// through this method, and so must every wrapper forward it.
    async fn get_secrets(
        &self,
        names: &[SecretName],
        concurrency: usize,
    ) -> Result<Vec<Result<Secret>>> {
        Ok(get_each(self, names, concurrency).await)
    }

    /// Names of every secret this manager holds, sorted.
    async fn list_secret_names(&self) -> Result<Vec<SecretName>>;

    /// Applies `patch` to an existing secret and returns the secret as stored.
    ///
    /// Atomic where [`Capabilities::atomic_update`] says so: concurrent
    /// patches of different keys are then all kept.
    async fn update_secret(&self, name: &SecretName, patch: &SecretPatch) -> Result<Secret>;

    /// Deletes one secret. Fails with [`Error::NotFound`] if there is none.
    async fn delete_secret(&self, name: &SecretName) -> Result<()>;

    /// Deletes every secret this manager holds (and nothing it did not
    /// create), returning how many were deleted.
    async fn delete_all_secrets(&self) -> Result<usize>;
}

/// [`SecretsManager::get_secrets`] as one [`get_secret`](SecretsManager::get_secret)
/// per name, up to `concurrency` at once, results in the order of `names`:
/// the default, and the fallback of backends whose batch read is refused.
pub async fn get_each<M: SecretsManager + ?Sized>(
    manager: &M,
    names: &[SecretName],
    concurrency: usize,
) -> Vec<Result<Secret>> {
    use futures::StreamExt;
    // The calls are made (not yet run) first: a stream that maps with a
    // closure over borrowed names trips the `Send` check of `async_trait`.
    let calls: Vec<_> = names.iter().map(|name| manager.get_secret(name)).collect();
    futures::stream::iter(calls)
        .buffered(concurrency.max(1))
        .inspect(|_| crate::progress::advance(1))
        .collect()
        .await
}

/// Describes a secrets manager.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagerInfo {
    /// The flavor name as users write it (`local`, `aws`, …).
    pub flavor: &'static str,
    /// Whether the secrets live on this machine only, so that a remote
    /// orchestrator cannot reach them.
    pub is_local: bool,
    /// Where the secrets are kept, for people: the store folder of a local
    /// store, the service, account and prefix of a remote one. Never a
    /// credential.
    pub location: String,
    /// What the backend guarantees.
    pub capabilities: Capabilities,
}

/// What a backend guarantees; the conformance suite adapts to these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Capabilities {
    /// Concurrent `update_secret` calls on one secret are serialized, so no
    /// update is lost. Where false, the last writer wins.
    pub atomic_update: bool,
    /// Names that differ only in letter case refer to the same secret.
    pub case_insensitive_names: bool,
    /// The largest secret (JSON of its key-values) the backend accepts, in bytes.
    pub max_secret_bytes: Option<usize>,
    /// Concurrent registers of one name are serialized: exactly one wins
    /// and the others fail with [`Error::AlreadyExists`](crate::Error::AlreadyExists).
    /// Where false (a service without create-only writes), a register that
    /// races another one of the same name may also succeed, and the last
    /// writer's secret is kept, whole.
    pub atomic_register: bool,
    /// The names that can be stored; others are refused on register.
    pub names: NameChars,
}

/// Which of Keystack's names a backend can store (ZenML's layouts keep
/// the name as the service spells it, without Keystack's escapes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum NameChars {
    /// Every Keystack name.
    #[default]
    All,
    /// No capital letters (ZenML's GCP layout: a name is a label value).
    NoCapitals,
    /// No `_` (ZenML's Azure layout: Key Vault's alphabet).
    NoUnderscore,
}

impl NameChars {
    /// Whether a name of these characters can be stored.
    pub fn allows(self, name: &str) -> bool {
        match self {
            Self::All => true,
            Self::NoCapitals => !name.chars().any(|c| c.is_ascii_uppercase()),
            Self::NoUnderscore => !name.contains('_'),
        }
    }
}

impl Capabilities {
    /// Capabilities of a backend that guarantees nothing beyond the trait
    /// (whose `register_secret` is create-only).
    pub const fn new() -> Self {
        Self {
            atomic_update: false,
            case_insensitive_names: false,
            max_secret_bytes: None,
            atomic_register: true,
            names: NameChars::All,
        }
    }

    /// Sets [`Capabilities::names`].
    pub const fn with_names(mut self, value: NameChars) -> Self {
        self.names = value;
        self
    }

    /// Sets [`Capabilities::atomic_update`].
    pub const fn with_atomic_update(mut self, value: bool) -> Self {
        self.atomic_update = value;
        self
    }

    /// Sets [`Capabilities::case_insensitive_names`].
    pub const fn with_case_insensitive_names(mut self, value: bool) -> Self {
        self.case_insensitive_names = value;
        self
    }

    /// Sets [`Capabilities::atomic_register`].
    pub const fn with_atomic_register(mut self, value: bool) -> Self {
        self.atomic_register = value;
        self
    }

    /// Sets [`Capabilities::max_secret_bytes`].
    pub const fn with_max_secret_bytes(mut self, value: Option<usize>) -> Self {
        self.max_secret_bytes = value;
        self
    }
}

impl Default for Capabilities {
    fn default() -> Self {
        Self::new()
    }
}

/// Helpers over any [`SecretsManager`].
#[async_trait]
pub trait SecretsManagerExt: SecretsManager {
    /// Whether a secret of that name exists.
    async fn secret_exists(&self, name: &SecretName) -> Result<bool> {
        match self.get_secret(name).await {
            Ok(_) => Ok(true),
            Err(e) if e.is_not_found() => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The secret, or `None` if it does not exist.
    async fn find_secret(&self, name: &SecretName) -> Result<Option<Secret>> {
        match self.get_secret(name).await {
            Ok(secret) => Ok(Some(secret)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// One value of one secret; [`Error::KeyNotFound`] if the key is missing.
    async fn get_secret_value(&self, name: &SecretName, key: &SecretKey) -> Result<SecretValue> {
        let secret = self.get_secret(name).await?;
        secret
            .get(key.as_str())
            .cloned()
            .ok_or_else(|| Error::KeyNotFound {
                name: name.clone(),
                key: key.clone(),
            })
    }
}

impl<T: SecretsManager + ?Sized> SecretsManagerExt for T {}
