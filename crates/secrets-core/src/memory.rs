//! An in-memory [`SecretsManager`], for tests and examples. It keeps
//! nothing after the process ends.

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;

use crate::{
    Capabilities, Error, ManagerInfo, Result, Secret, SecretName, SecretPatch, SecretsManager,
};

/// Secrets in a map behind a mutex; every operation is atomic.
#[derive(Debug, Default)]
pub struct InMemorySecretsManager {
    secrets: Mutex<BTreeMap<SecretName, Secret>>,
}

impl InMemorySecretsManager {
    /// An empty manager.
    pub fn new() -> Self {
        Self::default()
    }

    fn secrets(&self) -> std::sync::MutexGuard<'_, BTreeMap<SecretName, Secret>> {
        // A panic while holding the lock cannot leave the map half-changed:
        // every method finishes its change with one insert or remove.
        self.secrets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait]
impl SecretsManager for InMemorySecretsManager {
    fn info(&self) -> ManagerInfo {
        ManagerInfo {
            flavor: "memory",
            is_local: true,
            location: "this process's memory".to_owned(),
            capabilities: Capabilities::new().with_atomic_update(true),
        }
    }

    async fn register_secret(&self, secret: &Secret) -> Result<()> {
        let mut secrets = self.secrets();
        if secrets.contains_key(secret.name()) {
            return Err(Error::AlreadyExists {
                name: secret.name().clone(),
            });
        }
        secrets.insert(secret.name().clone(), secret.clone());
        Ok(())
    }

    async fn get_secret(&self, name: &SecretName) -> Result<Secret> {
        self.secrets()
            .get(name)
            .cloned()
            .ok_or_else(|| Error::NotFound { name: name.clone() })
    }

    async fn list_secret_names(&self) -> Result<Vec<SecretName>> {
        Ok(self.secrets().keys().cloned().collect())
    }

    async fn update_secret(&self, name: &SecretName, patch: &SecretPatch) -> Result<Secret> {
        let mut secrets = self.secrets();
        let secret = secrets
            .get_mut(name)
            .ok_or_else(|| Error::NotFound { name: name.clone() })?;
        secret.apply(patch)?;
        Ok(secret.clone())
    }

    async fn delete_secret(&self, name: &SecretName) -> Result<()> {
        self.secrets()
            .remove(name)
            .map(drop)
            .ok_or_else(|| Error::NotFound { name: name.clone() })
    }

    async fn delete_all_secrets(&self) -> Result<usize> {
        let mut secrets = self.secrets();
        let count = secrets.len();
        secrets.clear();
        Ok(count)
    }
}

#[cfg(all(test, feature = "conformance"))]
mod conformance {
    use std::sync::Arc;

    use crate::testkit::Fixture;

    async fn fixture() -> Option<Fixture> {
        Some(Fixture::new(Arc::new(super::InMemorySecretsManager::new())))
    }

    crate::conformance_tests!(fixture);
}
