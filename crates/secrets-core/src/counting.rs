//! A layer that counts the calls made to a secrets manager.
//!
//! Every remote call costs a round trip, so how many a command makes is part
//! of its contract: validation at `SECRET_EXISTS` is one listing, at
//! `SECRET_AND_KEY_EXISTS` one get per distinct secret. [`CountingManager`]
//! wraps any manager and counts what goes through it, for tests that assert
//! those budgets and for benchmarks that report them.
//!
//! ```
//! use std::sync::Arc;
//! use keystack_secrets_core::counting::{Calls, CountingManager};
//! use keystack_secrets_core::memory::InMemorySecretsManager;
//! use keystack_secrets_core::{SecretName, SecretsManager, SecretsManagerExt};
//!
//! # tokio_test(async {
//! let manager = CountingManager::new(Arc::new(InMemorySecretsManager::new()));
//! let name = SecretName::new("db").unwrap();
//! assert!(!manager.secret_exists(&name).await.unwrap());
//! assert_eq!(manager.calls(), Calls { get: 1, ..Calls::default() });
//! # });
//! # fn tokio_test<F: std::future::Future>(f: F) -> F::Output {
//! #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
//! # }
//! ```

use std::fmt;
use std::ops::Sub;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;

use crate::{ManagerInfo, Result, Secret, SecretName, SecretPatch, SecretsManager};

/// How many calls of each kind were made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Calls {
    /// `register_secret`.
    pub register: usize,
    /// `get_secret`.
    pub get: usize,
    /// `get_secrets` (batch reads).
    pub batch: usize,
    /// Secrets asked for in those batch reads, in all.
    pub batch_secrets: usize,
    /// `list_secret_names`.
    pub list: usize,
    /// `update_secret`.
    pub update: usize,
    /// `delete_secret`.
    pub delete: usize,
    /// `delete_all_secrets`.
    pub delete_all: usize,
}

impl Calls {
    /// Every call, of any kind.
    pub fn total(&self) -> usize {
        self.reads() + self.writes()
    }

    /// Calls that read (`get`, `batch`, `list`).
    pub fn reads(&self) -> usize {
        self.get + self.batch + self.list
    }

    /// Calls that write (`register`, `update`, `delete`, `delete_all`).
    pub fn writes(&self) -> usize {
        self.register + self.update + self.delete + self.delete_all
    }
}

impl Sub for Calls {
    type Output = Calls;

    /// The calls made between two snapshots (`later - earlier`).
    fn sub(self, earlier: Calls) -> Calls {
        Calls {
            register: self.register - earlier.register,
            get: self.get - earlier.get,
            batch: self.batch - earlier.batch,
            batch_secrets: self.batch_secrets - earlier.batch_secrets,
            list: self.list - earlier.list,
            update: self.update - earlier.update,
            delete: self.delete - earlier.delete,
            delete_all: self.delete_all - earlier.delete_all,
        }
    }
}

impl fmt::Display for Calls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kinds = [
            ("list", self.list),
            ("get", self.get),
            ("batch get", self.batch),
            ("register", self.register),
            ("update", self.update),
            ("delete", self.delete),
            ("delete-all", self.delete_all),
        ];
        let mut first = true;
        for (kind, n) in kinds.into_iter().filter(|(_, n)| *n > 0) {
            write!(f, "{}{n} {kind}", if first { "" } else { ", " })?;
            first = false;
        }
        if first {
            f.write_str("no calls")?;
        } else if self.batch > 0 {
            write!(f, " ({} secrets in batches)", self.batch_secrets)?;
        }
        Ok(())
    }
}

#[derive(Debug, Default)]
struct Counters {
    register: AtomicUsize,
    get: AtomicUsize,
    batch: AtomicUsize,
    batch_secrets: AtomicUsize,
    list: AtomicUsize,
    update: AtomicUsize,
    delete: AtomicUsize,
    delete_all: AtomicUsize,
}

/// Wraps a manager and counts every call made through it (whether it
/// succeeded or not). Clones share their counts.
#[derive(Debug, Clone)]
pub struct CountingManager {
    inner: Arc<dyn SecretsManager>,
    counters: Arc<Counters>,
}

impl CountingManager {
    /// Counts the calls made to `inner` through the returned manager.
    pub fn new(inner: Arc<dyn SecretsManager>) -> Self {
        Self {
            inner,
            counters: Arc::default(),
        }
    }

    /// The calls made so far.
    pub fn calls(&self) -> Calls {
        let c = &self.counters;
        Calls {
            register: c.register.load(Ordering::Relaxed),
            get: c.get.load(Ordering::Relaxed),
            batch: c.batch.load(Ordering::Relaxed),
            batch_secrets: c.batch_secrets.load(Ordering::Relaxed),
            list: c.list.load(Ordering::Relaxed),
            update: c.update.load(Ordering::Relaxed),
            delete: c.delete.load(Ordering::Relaxed),
            delete_all: c.delete_all.load(Ordering::Relaxed),
        }
    }

    /// The wrapped manager.
    pub fn inner(&self) -> &Arc<dyn SecretsManager> {
        &self.inner
    }
}

fn bump(counter: &AtomicUsize) {
    counter.fetch_add(1, Ordering::Relaxed);
}

#[async_trait]
impl SecretsManager for CountingManager {
    fn info(&self) -> ManagerInfo {
        self.inner.info()
    }

    fn remote_name(&self, name: &SecretName) -> Option<String> {
        self.inner.remote_name(name)
    }

    async fn register_secret(&self, secret: &Secret) -> Result<()> {
        bump(&self.counters.register);
        self.inner.register_secret(secret).await
    }

    async fn get_secret(&self, name: &SecretName) -> Result<Secret> {
        bump(&self.counters.get);
        self.inner.get_secret(name).await
    }

    async fn get_secrets(
        &self,
        names: &[SecretName],
        concurrency: usize,
    ) -> Result<Vec<Result<Secret>>> {
        bump(&self.counters.batch);
        self.counters
            .batch_secrets
            .fetch_add(names.len(), Ordering::Relaxed);
        self.inner.get_secrets(names, concurrency).await
    }

    async fn list_secret_names(&self) -> Result<Vec<SecretName>> {
        bump(&self.counters.list);
        self.inner.list_secret_names().await
    }

    async fn update_secret(&self, name: &SecretName, patch: &SecretPatch) -> Result<Secret> {
        bump(&self.counters.update);
        self.inner.update_secret(name, patch).await
    }

    async fn delete_secret(&self, name: &SecretName) -> Result<()> {
        bump(&self.counters.delete);
        self.inner.delete_secret(name).await
    }

    async fn delete_all_secrets(&self) -> Result<usize> {
        bump(&self.counters.delete_all);
        self.inner.delete_all_secrets().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::InMemorySecretsManager;

    #[tokio::test]
    async fn counts_every_kind_of_call_including_failures() {
        let m = CountingManager::new(Arc::new(InMemorySecretsManager::new()));
        let name = SecretName::new("s").unwrap();
        let secret = Secret::arbitrary(name.clone(), [("k", "v")]).unwrap();
        m.register_secret(&secret).await.unwrap();
        assert!(m.register_secret(&secret).await.is_err());
        let before = m.calls();
        m.get_secret(&name).await.unwrap();
        let names = [name.clone(), SecretName::new("missing").unwrap()];
        let each = m.get_secrets(&names, 4).await.unwrap();
        assert!(each[0].is_ok() && each[1].as_ref().unwrap_err().is_not_found());
        m.list_secret_names().await.unwrap();
        m.update_secret(&name, &SecretPatch::new().set("k2".parse().unwrap(), "v2"))
            .await
            .unwrap();
        m.delete_secret(&name).await.unwrap();
        m.delete_all_secrets().await.unwrap();
        let after = m.calls();
        assert_eq!(before.register, 2);
        let between = after - before;
        assert_eq!(
            between,
            Calls {
                register: 0,
                get: 1,
                batch: 1,
                batch_secrets: 2,
                list: 1,
                update: 1,
                delete: 1,
                delete_all: 1
            }
        );
        assert_eq!(
            (between.reads(), between.writes(), after.total()),
            (3, 3, 8)
        );
        assert_eq!(
            between.to_string(),
            "1 list, 1 get, 1 batch get, 1 update, 1 delete, 1 delete-all (2 secrets in batches)"
        );
        assert_eq!(Calls::default().to_string(), "no calls");
        let clone = m.clone();
        clone.list_secret_names().await.unwrap();
        assert_eq!(m.calls().list, 2, "clones share their counts");
    }
}
