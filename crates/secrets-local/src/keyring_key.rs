//! The store key in the OS keyring (`key_source: keyring`): Secret Service
//! on Linux and the BSDs, Keychain on macOS, Credential Manager on Windows.
//! One entry per store: service `keystack`, account the store folder's
//! absolute path; the entry's secret is the key in base64, as in a key file.

use std::path::{Path, PathBuf};

use crate::LocalError;
use crate::key::StoreKey;

/// The keyring service name of every store key.
pub const KEYRING_SERVICE: &str = "keystack";

/// Where in the OS keyring one store's key lives.
#[derive(Debug, Clone)]
pub struct KeyringEntry {
    account: String,
}

impl KeyringEntry {
    /// The entry of the store in `folder`.
    pub(crate) fn for_store(folder: &Path) -> Result<Self, LocalError> {
        let absolute: PathBuf = std::path::absolute(folder)
            .map_err(|source| LocalError::io("find the absolute path of", folder, source))?;
        Ok(Self {
            account: absolute.display().to_string(),
        })
    }

    /// How messages name it.
    pub(crate) fn describe(&self) -> String {
        format!(
            "the OS keyring's entry (service '{KEYRING_SERVICE}', account '{}')",
            self.account
        )
    }

    fn entry(&self) -> Result<keyring::Entry, LocalError> {
        keyring::Entry::new(KEYRING_SERVICE, &self.account).map_err(|e| self.unreachable(&e))
    }

    fn unreachable(&self, error: &keyring::Error) -> LocalError {
        LocalError::Keyring {
            entry: self.describe(),
            problem: error.to_string(),
        }
    }

    /// The key kept there, if there is one.
    pub(crate) fn read(&self) -> Result<Option<StoreKey>, LocalError> {
        match self.entry()?.get_password() {
            Ok(text) => {
                let text = zeroize::Zeroizing::new(text);
                StoreKey::from_base64(&text, &self.describe()).map(Some)
            }
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(self.unreachable(&e)),
        }
    }

    /// The key kept there, or a fresh one put there. Called with the
    /// store's write lock held, so two processes never make two keys.
    pub(crate) fn read_or_create(&self) -> Result<StoreKey, LocalError> {
        if let Some(key) = self.read()? {
            return Ok(key);
        }
        let key = StoreKey::generate()?;
        self.entry()?
            .set_password(&key.to_base64())
            .map_err(|e| self.unreachable(&e))?;
        Ok(key)
    }
}
