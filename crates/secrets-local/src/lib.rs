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
mod files;
mod key;
#[cfg(feature = "keyring")]
mod keyring_key;
mod store;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use keystack_secrets_core::{
    Capabilities, Error, ManagerInfo, Result, Secret, SecretName, SecretPatch, SecretsManager,
};

pub use error::LocalError;
pub use key::{KEY_LEN, KeySource, LOCAL_KEY_ENV, StoreKey};
#[cfg(feature = "keyring")]
pub use keyring_key::{KEYRING_SERVICE, KeyringEntry};

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
/// The folder, under the data directory, of the store every project shared
/// by default before each secrets manager had a store of its own.
pub const SHARED_STORE_DIR: &str = "local";

/// The store every project shared by default before Keystack gave each
/// local secrets manager its own (`<data dir>/local`), if one is there.
pub fn shared_store(data_dir: &Path) -> Option<PathBuf> {
    let folder = data_dir.join(SHARED_STORE_DIR);
    folder.join(STORE_FILE).is_file().then_some(folder)
}

/// How long an operation waits for another process's lock by default
/// (`busy_timeout_ms`'s default).
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Where a store's key is kept (`key_source`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum KeyOrigin {
    /// A 0600 key file (`key_file`, default `secrets.key` beside the store),
    /// made with the store.
    File,
    /// `KEYSTACK_LOCAL_KEY` only: nothing about the key is on disk.
    Env,
    /// The OS keyring, entry service `keystack`, account the store folder;
    /// made with the store.
    Keyring,
}

impl KeyOrigin {
    /// The name as written in configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::File => "file",
            Self::Env => "env",
            Self::Keyring => "keyring",
        }
    }
}

impl keystack_secrets_core::settings::SettingValue for KeyOrigin {
    const KIND: keystack_secrets_core::settings::SettingKind =
        keystack_secrets_core::settings::SettingKind::Text;

    fn parse_setting(_: &str, text: &str) -> std::result::Result<Self, String> {
        match text {
            "file" => Ok(Self::File),
            "env" => Ok(Self::Env),
            "keyring" => Ok(Self::Keyring),
            other => Err(format!(
                "key_source \"{}\" is not one of file, env, keyring",
                other.escape_debug()
            )),
        }
    }

    fn to_setting_text(&self) -> String {
        self.as_str().to_owned()
    }
}

/// Builds a [`LocalSecretsManager`].
#[derive(Debug, Clone, Default)]
pub struct LocalBuilder {
    config: LocalConfig,
    key: Option<StoreKey>,
    /// `KEYSTACK_LOCAL_KEY` as found, decoded by [`LocalBuilder::build`].
    key_text: Option<zeroize::Zeroizing<String>>,
}

keystack_secrets_core::settings! {
    backend = FLAVOR;
    /// Typed configuration of the local backend, as it appears in a secrets
    /// manager component's YAML. Unknown fields are rejected. The key itself
    /// is never part of the configuration.
    pub struct LocalConfig;
    /// The keys of [`LocalConfig`], for `with_config`.
    pub enum LocalConfigKey;
    builder = LocalBuilder;
    {
        /// Folder holding the store (`secrets.db`) and, by default, its key file.
        Path path: PathBuf, env("KEYSTACK_LOCAL_PATH"), setter(with_path);
        /// Where the key is kept: `file` (a key file), `env` (only in
        /// `KEYSTACK_LOCAL_KEY`) or `keyring` (the OS keyring). A set
        /// `KEYSTACK_LOCAL_KEY` is used whatever this says.
        KeySource key_source: KeyOrigin = KeyOrigin::File, setter(with_key_source);
        /// Key file (with `key_source: file`); defaults to `secrets.key` in the store folder.
        KeyFile key_file: PathBuf, setter(with_key_file);
        /// Milliseconds to wait for another process's lock before giving up.
        BusyTimeoutMs busy_timeout_ms: u64 = 10_000u64;
    }
}

impl LocalBuilder {
    /// A builder with nothing set.
    pub fn new() -> Self {
        Self::default()
    }

    /// A builder from a typed configuration.
    pub fn from_config(config: LocalConfig) -> Self {
        Self {
            config,
            ..Self::default()
        }
    }

    /// A builder from `KEYSTACK_LOCAL_PATH` and `KEYSTACK_LOCAL_KEY`, where set.
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`LocalBuilder::from_env`], reading variables through `lookup`.
    /// Variables set to the empty string count as unset; a key that does
    /// not decode is reported by [`LocalBuilder::build`].
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        Self {
            config: LocalConfig::from_lookup(&lookup),
            key: None,
            key_text: lookup(LOCAL_KEY_ENV)
                .map(zeroize::Zeroizing::new)
                .filter(|text| !text.trim().is_empty()),
        }
    }

    /// Uses `key` instead of a key file.
    pub fn with_key(mut self, key: StoreKey) -> Self {
        self.key = Some(key);
        self.key_text = None;
        self
    }

    /// Sets how long to wait for another process's lock.
    pub fn with_busy_timeout(mut self, timeout: Duration) -> Self {
        self.config.busy_timeout_ms = Some(u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX));
        self
    }

    /// The store folder set so far, if any.
    pub fn path(&self) -> Option<&Path> {
        self.config.path.as_deref()
    }

    /// Opens the store, creating it (and its key file) if it does not exist.
    /// Blocks briefly on file I/O.
    pub fn build(self) -> Result<LocalSecretsManager, Error> {
        self.open().map_err(Error::from)
    }

    /// [`LocalBuilder::build`] with the local backend's own error, for
    /// callers that tell its cases apart.
    pub fn open(self) -> Result<LocalSecretsManager, LocalError> {
        let dir = self.config.path.clone().ok_or_else(|| {
            LocalError::Config(format!(
                "the local secrets manager needs a store folder: set `path`, or {LOCAL_PATH_ENV}"
            ))
        })?;
        let path = dir.join(STORE_FILE);
        let timeout = Duration::from_millis(self.config.busy_timeout_ms());
        let key = match (self.key, &self.key_text) {
            (Some(key), _) => Some(key),
            (None, Some(text)) => Some(StoreKey::from_base64(text, LOCAL_KEY_ENV)?),
            (None, None) => None,
        };
        let origin = self.config.key_source();
        if origin != KeyOrigin::File && self.config.key_file.is_some() {
            return Err(LocalError::Config(format!(
                "key_file is set, but key_source is {}; remove one of them",
                origin.as_str()
            )));
        }
        let key_source = match (key, origin) {
            (Some(key), _) => KeySource::Key(key),
            (None, KeyOrigin::File) => {
                KeySource::File(self.config.key_file.unwrap_or_else(|| dir.join(KEY_FILE)))
            }
            (None, KeyOrigin::Env) => {
                return Err(LocalError::Config(format!(
                    "key_source is env, but {LOCAL_KEY_ENV} is not set; set it to the store's key (base64)"
                )));
            }
            #[cfg(feature = "keyring")]
            (None, KeyOrigin::Keyring) => KeySource::Keyring(KeyringEntry::for_store(&dir)?),
            #[cfg(not(feature = "keyring"))]
            (None, KeyOrigin::Keyring) => {
                return Err(LocalError::Config(
                    "key_source is keyring, but this Keystack was built without OS keyring \
                     support (cargo feature `keyring`)"
                        .to_owned(),
                ));
            }
        };
        let store = Store::open(&path, &key_source, timeout)?;
        Ok(LocalSecretsManager {
            inner: Arc::new(Inner {
                store: Mutex::new(store),
                path,
            }),
        })
    }
}

/// Builds local managers from components: relative paths are taken from
/// the project folder; without a `path` (or `KEYSTACK_LOCAL_PATH`), the
/// store is `<data dir>/local`.
#[derive(Debug, Clone, Copy, Default)]
pub struct LocalFactory;

impl keystack_secrets_core::BackendFactory for LocalFactory {
    fn flavor(&self) -> &'static str {
        FLAVOR
    }

    fn settings(&self) -> &'static [keystack_secrets_core::settings::SettingSpec] {
        LocalConfig::SETTINGS
    }

    fn build(
        &self,
        config: &keystack_secrets_core::BackendConfig<'_>,
    ) -> Result<Arc<dyn SecretsManager>> {
        let mut builder =
            LocalBuilder::from_lookup(config.env).with_settings(config.pairs(), config.base_dir)?;
        if builder.path().is_none() {
            builder = builder.with_path(config.data_dir.to_owned());
        }
        Ok(Arc::new(builder.build()?))
    }

    fn check_settings(&self, config: &keystack_secrets_core::BackendConfig<'_>) -> Result<()> {
        let nothing = |_: &str| -> Option<String> { None };
        LocalBuilder::from_lookup(nothing)
            .with_settings(config.pairs(), config.base_dir)?
            .config
            .check_bounds()
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
            location: self
                .path()
                .parent()
                .unwrap_or(self.path())
                .display()
                .to_string(),
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
