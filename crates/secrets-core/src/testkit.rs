//! Test plumbing for code that talks to a secrets manager (feature
//! `testkit`): the step from an environment to a manager under test
//! ([`Fixture`], [`emulator_var`], [`unique_id`], [`free_port`],
//! [`start_server`]) and the layers that measure it ([`LatencyManager`]
//! here, [`CountingManager`]).
//!
//! [`LatencyManager`] makes any manager behave like a remote one: every call
//! waits a fixed time first, and the most calls ever in flight at once is
//! recorded, so tests can check that work is overlapped without timing
//! anything, and benchmarks can show what latency does to wall time.

use std::any::Any;
use std::fmt::Debug;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;

use crate::{ManagerInfo, Result, Secret, SecretName, SecretPatch, SecretsManager};

pub use crate::counting::{Calls, CountingManager};
pub use crate::proxy::CountingProxy;

/// A manager under test, with whatever must live as long as it (a temporary
/// folder, an emulator namespace to clean up, …).
pub struct Fixture {
    /// The manager under test; it holds no secrets yet.
    pub manager: Arc<dyn SecretsManager>,
    _guard: Box<dyn Any + Send + Sync>,
}

impl Fixture {
    /// A fixture with nothing to keep alive.
    pub fn new(manager: Arc<dyn SecretsManager>) -> Self {
        Self {
            manager,
            _guard: Box::new(()),
        }
    }

    /// Keeps `guard` alive as long as the fixture.
    pub fn with_guard(mut self, guard: impl Any + Send + Sync) -> Self {
        self._guard = Box::new(guard);
        self
    }
}

impl Debug for Fixture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fixture")
            .field("manager", &self.manager)
            .finish()
    }
}

/// An identifier no other test, process or run uses (for a namespace, a
/// project or a folder in a shared emulator): process ID, clock and a counter.
pub fn unique_id() -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "t{}x{nanos:x}x{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

/// The value of the environment variable that points a suite at its
/// emulator, or `None` after saying once, on standard error, that the suite
/// is skipped and why (`cargo xtask test` sets these variables).
pub fn emulator_var(var: &str, suite: &str) -> Option<String> {
    use std::collections::BTreeSet;
    use std::sync::Mutex;
    static SAID: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());
    let value = std::env::var(var).ok().filter(|v| !v.is_empty());
    if value.is_none()
        && SAID
            .lock()
            .is_ok_and(|mut said| said.insert(var.to_owned()))
    {
        // Written to the stderr handle, not with eprintln!, so that the test
        // harness's output capture does not hide it.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "skipping the {suite}: {var} is not set (`cargo xtask test` starts the emulator and sets it)"
        );
    }
    value
}

/// A free TCP port on 127.0.0.1 (for a server a test starts itself).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Starts `program ARGS` (an emulator a test wants to stop and start again
/// itself), with its output discarded and its own `HOME`, and waits until
/// `127.0.0.1:port` accepts connections (30 s at most).
pub fn start_server(program: &str, args: &[String], port: u16) -> std::process::Child {
    let home = std::env::temp_dir().join(format!("keystack-test-home-{}", unique_id()));
    std::fs::create_dir_all(&home).expect("a temporary HOME");
    let mut child = std::process::Command::new(program)
        .args(args)
        .env("HOME", &home)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
    let started = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if started.elapsed() > std::time::Duration::from_secs(30) {
            let _ = child.kill();
            panic!("{program} did not listen on 127.0.0.1:{port} within 30 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child
}

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

/// Models a backend without a batch read: `get_secrets` is the default,
/// one delayed `get_secret` per name.
#[async_trait]
impl SecretsManager for LatencyManager {
    fn info(&self) -> ManagerInfo {
        self.inner.info()
    }

    fn remote_name(&self, name: &SecretName) -> Option<String> {
        self.inner.remote_name(name)
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
