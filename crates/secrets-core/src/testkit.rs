//! Test doubles for code that talks to a secrets manager (feature `testkit`).
//!
//! [`LatencyManager`] makes any manager behave like a remote one: every call
//! waits a fixed time first, and the most calls ever in flight at once is
//! recorded, so tests can check that work is overlapped without timing
//! anything, and benchmarks can show what latency does to wall time.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;

use crate::{ManagerInfo, Result, Secret, SecretName, SecretPatch, SecretsManager};

/// Wraps a manager and delays every call by a fixed latency (a Tokio timer,
/// so it needs a Tokio runtime with time enabled).
#[derive(Debug)]
pub struct LatencyManager {
    inner: Arc<dyn SecretsManager>,
    latency: Duration,
    in_flight: AtomicUsize,
    peak: AtomicUsize,
}

/// Decrements the in-flight count when a call ends, even if it is dropped.
struct InFlight<'a>(&'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl LatencyManager {
    /// Every call to `inner` through the returned manager first waits `latency`.
    pub fn new(inner: Arc<dyn SecretsManager>, latency: Duration) -> Self {
        Self {
            inner,
            latency,
            in_flight: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
        }
    }

    /// The most calls that were in flight at the same time.
    pub fn peak_in_flight(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }

    /// Forgets the peak, for a new measurement.
    pub fn reset_peak(&self) {
        self.peak.store(0, Ordering::SeqCst);
    }

    async fn wait(&self) -> InFlight<'_> {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        let guard = InFlight(&self.in_flight);
        tokio::time::sleep(self.latency).await;
        guard
    }
}

#[async_trait]
impl SecretsManager for LatencyManager {
    fn info(&self) -> ManagerInfo {
        self.inner.info()
    }

    async fn register_secret(&self, secret: &Secret) -> Result<()> {
        let _call = self.wait().await;
        self.inner.register_secret(secret).await
    }

    async fn get_secret(&self, name: &SecretName) -> Result<Secret> {
        let _call = self.wait().await;
        self.inner.get_secret(name).await
    }

    async fn list_secret_names(&self) -> Result<Vec<SecretName>> {
        let _call = self.wait().await;
        self.inner.list_secret_names().await
    }

    async fn update_secret(&self, name: &SecretName, patch: &SecretPatch) -> Result<Secret> {
        let _call = self.wait().await;
        self.inner.update_secret(name, patch).await
    }

    async fn delete_secret(&self, name: &SecretName) -> Result<()> {
        let _call = self.wait().await;
        self.inner.delete_secret(name).await
    }

    async fn delete_all_secrets(&self) -> Result<usize> {
        let _call = self.wait().await;
        self.inner.delete_all_secrets().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::InMemorySecretsManager;

    #[tokio::test(start_paused = true)]
    async fn records_the_peak_of_overlapping_calls() {
        let m = LatencyManager::new(
            Arc::new(InMemorySecretsManager::new()),
            Duration::from_millis(50),
        );
        let started = tokio::time::Instant::now();
        let (a, b, c) = tokio::join!(
            m.list_secret_names(),
            m.list_secret_names(),
            m.list_secret_names()
        );
        assert!(a.is_ok() && b.is_ok() && c.is_ok());
        assert_eq!(m.peak_in_flight(), 3);
        assert_eq!(started.elapsed(), Duration::from_millis(50));
        m.reset_peak();
        m.list_secret_names().await.unwrap();
        assert_eq!(m.peak_in_flight(), 1, "in-flight count went back to 0");
    }
}
