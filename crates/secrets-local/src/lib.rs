//! Keystack's embedded default secrets manager: one SQLite file whose secret
//! values are encrypted with XChaCha20-Poly1305 under a 256-bit key kept in a
//! 0600 key file beside it (or given in `KEYSTACK_LOCAL_KEY`).
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use keystack_secrets_core::{Secret, SecretName, SecretsManager};
//! use keystack_secrets_local::LocalBuilder;
//!
//! let manager = LocalBuilder::new().with_path("/tmp/keystack-demo").build()?;
//! let secret = Secret::arbitrary(SecretName::new("db")?, [("password", "abc123")])?;
//! manager.register_secret(&secret).await?;
//! # Ok(()) }
//! ```

mod crypto;
mod error;
mod key;
mod store;

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use keystack_secrets_core::{
    Capabilities, Error, ManagerInfo, Result, Secret, SecretName, SecretPatch, SecretsManager,
};
use serde::Deserialize;

pub use error::LocalError;
pub use key::{KEY_LEN, KeySource, LOCAL_KEY_ENV, StoreKey};

use store::Store;

/// The README's example, compiled as a doctest so it cannot drift.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct Readme;

/// The flavor name of this backend.
pub const FLAVOR: &str = "local";
/// File name of the store inside its folder.
pub const STORE_FILE: &str = "secrets.db";
/// File name of the key file inside the store folder, unless configured.
pub const KEY_FILE: &str = "secrets.key";
/// Environment variable naming the store folder.
pub const LOCAL_PATH_ENV: &str = "KEYSTACK_LOCAL_PATH";
/// How long an operation waits for another process's lock by default.
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Typed configuration of the local backend, as it appears in a secrets
/// manager component's YAML. Unknown fields are rejected. The key itself is
/// never part of the configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalConfig {
    /// Folder holding the store (`secrets.db`) and, by default, its key file.
    pub path: Option<PathBuf>,
    /// Key file; defaults to `secrets.key` in the store folder.
    pub key_file: Option<PathBuf>,
    /// Milliseconds to wait for another process's lock before giving up.
    pub busy_timeout_ms: Option<u64>,
}

/// The keys of [`LocalConfig`], for `with_config`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LocalConfigKey {
    /// [`LocalConfig::path`].
    Path,
    /// [`LocalConfig::key_file`].
    KeyFile,
    /// [`LocalConfig::busy_timeout_ms`].
    BusyTimeoutMs,
}

impl FromStr for LocalConfigKey {
    type Err = LocalError;

    fn from_str(s: &str) -> Result<Self, LocalError> {
        match s {
            "path" => Ok(Self::Path),
            "key_file" => Ok(Self::KeyFile),
            "busy_timeout_ms" => Ok(Self::BusyTimeoutMs),
            other => Err(LocalError::Config(format!(
                "unknown local secrets manager setting {other:?}; known settings are path, key_file, busy_timeout_ms"
            ))),
        }
    }
}

/// Builds a [`LocalSecretsManager`].
#[derive(Debug, Clone, Default)]
pub struct LocalBuilder {
    config: LocalConfig,
    key: Option<StoreKey>,
}

impl LocalBuilder {
    /// A builder with nothing set.
    pub fn new() -> Self {
        Self::default()
    }

    /// A builder from a typed configuration.
    pub fn from_config(config: LocalConfig) -> Self {
        Self { config, key: None }
    }

    /// A builder from `KEYSTACK_LOCAL_PATH` and `KEYSTACK_LOCAL_KEY`, where set.
    pub fn from_env() -> Result<Self, LocalError> {
        Self::from_lookup(|name| std::env::var_os(name))
    }

    /// Like [`LocalBuilder::from_env`], reading variables through `lookup`.
    /// Variables set to the empty string count as unset.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<std::ffi::OsString>,
    ) -> Result<Self, LocalError> {
        let mut builder = Self::new();
        if let Some(path) = lookup(LOCAL_PATH_ENV).filter(|p| !p.is_empty()) {
            builder = builder.with_path(path);
        }
        if let Some(text) = lookup(LOCAL_KEY_ENV) {
            let text =
                zeroize::Zeroizing::new(text.into_string().map_err(|_| LocalError::BadKey {
                    origin: LOCAL_KEY_ENV.to_owned(),
                    problem: "it is not valid UTF-8".to_owned(),
                })?);
            if !text.trim().is_empty() {
                builder = builder.with_key(StoreKey::from_base64(&text, LOCAL_KEY_ENV)?);
            }
        }
        Ok(builder)
    }

    /// Sets the store folder.
    pub fn with_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.config.path = Some(path.into());
        self
    }

    /// Sets the key file.
    pub fn with_key_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.config.key_file = Some(path.into());
        self
    }

    /// Uses `key` instead of a key file.
    pub fn with_key(mut self, key: StoreKey) -> Self {
        self.key = Some(key);
        self
    }

    /// Sets how long to wait for another process's lock.
    pub fn with_busy_timeout(mut self, timeout: Duration) -> Self {
        self.config.busy_timeout_ms = Some(u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX));
        self
    }

    /// Sets one setting from text, as given on a command line.
    pub fn with_config(mut self, key: LocalConfigKey, value: &str) -> Result<Self, LocalError> {
        match key {
            LocalConfigKey::Path => self.config.path = Some(value.into()),
            LocalConfigKey::KeyFile => self.config.key_file = Some(value.into()),
            LocalConfigKey::BusyTimeoutMs => {
                let ms = value.parse().map_err(|_| {
                    LocalError::Config(format!(
                        "busy_timeout_ms must be a whole number of milliseconds, not {value:?}"
                    ))
                })?;
                self.config.busy_timeout_ms = Some(ms);
            }
        }
        Ok(self)
    }

    /// Opens the store, creating it (and its key file) if it does not exist.
    /// Blocks briefly on file I/O.
    pub fn build(self) -> Result<LocalSecretsManager, LocalError> {
        let dir = self.config.path.ok_or_else(|| {
            LocalError::Config(format!(
                "the local secrets manager needs a store folder: set `path`, or {LOCAL_PATH_ENV}"
            ))
        })?;
        let path = dir.join(STORE_FILE);
        let key_source = match self.key {
            Some(key) => KeySource::Key(key),
            None => KeySource::File(self.config.key_file.unwrap_or_else(|| dir.join(KEY_FILE))),
        };
        let timeout = self
            .config
            .busy_timeout_ms
            .map_or(DEFAULT_BUSY_TIMEOUT, Duration::from_millis);
        let store = Store::open(&path, &key_source, timeout)?;
        Ok(LocalSecretsManager {
            inner: Arc::new(Inner {
                store: Mutex::new(store),
                path,
            }),
        })
    }
}

/// The local encrypted store. Cheap to clone; clones share one connection.
/// Safe to use from several threads and several processes at once.
#[derive(Clone)]
pub struct LocalSecretsManager {
    inner: Arc<Inner>,
}

struct Inner {
    store: Mutex<Store>,
    path: PathBuf,
}

impl fmt::Debug for LocalSecretsManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalSecretsManager")
            .field("path", &self.inner.path)
            .finish_non_exhaustive()
    }
}

impl LocalSecretsManager {
    /// The store file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs SQLite's full integrity check over the store.
    pub async fn verify(&self) -> Result<()> {
        self.run(|store| Ok(store.verify()?)).await
    }

    /// Runs `op` on the blocking pool with the store locked: SQLite calls
    /// block, and may wait up to the busy timeout for another process.
    async fn run<T: Send + 'static>(
        &self,
        op: impl FnOnce(&mut Store) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            // Every operation either commits or rolls back before returning,
            // so a panic elsewhere cannot leave the store half-changed.
            let mut store = inner.store.lock().unwrap_or_else(|p| p.into_inner());
            op(&mut store)
        })
        .await
        .map_err(|e| Error::Backend {
            backend: FLAVOR,
            source: Box::new(e),
        })?
    }
}

#[async_trait]
impl SecretsManager for LocalSecretsManager {
    fn info(&self) -> ManagerInfo {
        ManagerInfo {
            flavor: FLAVOR,
            is_local: true,
            capabilities: Capabilities::new().with_atomic_update(true),
        }
    }

    async fn register_secret(&self, secret: &Secret) -> Result<()> {
        let secret = secret.clone();
        self.run(move |store| store.register(&secret)).await
    }

    async fn get_secret(&self, name: &SecretName) -> Result<Secret> {
        let name = name.clone();
        self.run(move |store| store.get(&name)).await
    }

    async fn list_secret_names(&self) -> Result<Vec<SecretName>> {
        self.run(Store::list).await
    }

    async fn update_secret(&self, name: &SecretName, patch: &SecretPatch) -> Result<Secret> {
        let (name, patch) = (name.clone(), patch.clone());
        self.run(move |store| store.update(&name, &patch)).await
    }

    async fn delete_secret(&self, name: &SecretName) -> Result<()> {
        let name = name.clone();
        self.run(move |store| store.delete(&name)).await
    }

    async fn delete_all_secrets(&self) -> Result<usize> {
        self.run(Store::delete_all).await
    }
}
