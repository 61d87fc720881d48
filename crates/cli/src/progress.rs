//! A progress bar on standard error for long remote work: a batch read
//! (validation, resolution, `run`, `register-secrets` planning) and
//! `delete-all`. It appears only once the work has taken [`DELAY`], so quick
//! commands never flicker, and never when standard error is not a terminal,
//! with `NO_COLOR` set, `TERM=dumb`, or `-o json`/`yaml` ([`set_enabled`]).
//! It counts secrets (the backends report them through
//! `keystack_secrets_core::progress`) and never shows a value.

use std::fmt;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use async_trait::async_trait;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use keystack_secrets_core::{ManagerInfo, Result, Secret, SecretName, SecretPatch, SecretsManager};

/// How long work runs before its bar appears.
pub(crate) const DELAY: Duration = Duration::from_secs(1);

static ENABLED: AtomicBool = AtomicBool::new(false);

/// The bar being shown, which the backends' counts go to.
static CURRENT: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// Whether bars may be drawn ([`set_enabled`] decided it).
pub(crate) fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// Decides once, from the environment and the arguments, whether bars may
/// be drawn, and sends the backends' counts to the current bar.
pub(crate) fn set_enabled(args: &[std::ffi::OsString]) {
    let terminal = std::io::stderr().is_terminal();
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let dumb = std::env::var_os("TERM").is_some_and(|t| t == "dumb");
    ENABLED.store(
        terminal && !no_color && !dumb && !asks_for_data(args),
        Ordering::Relaxed,
    );
    keystack_secrets_core::progress::set_progress_sink(|done| {
        if let Some(bar) = current().as_ref() {
            bar.inc(done as u64);
        }
    });
}

fn current() -> std::sync::MutexGuard<'static, Option<ProgressBar>> {
    CURRENT.lock().unwrap_or_else(|e| e.into_inner())
}

/// Whether the arguments ask for output for programs (`-o json`,
/// `--output=yaml`, …), where nothing but the data is printed.
fn asks_for_data(args: &[std::ffi::OsString]) -> bool {
    let data = |format: &str| matches!(format, "json" | "yaml" | "env" | "dotenv");
    let mut args = args
        .iter()
        .map(|a| a.to_string_lossy())
        .take_while(|a| a != "--");
    while let Some(arg) = args.next() {
        let format = match arg.as_ref() {
            "-o" | "--output" => args.next().map(|f| f.into_owned()),
            other => other
                .strip_prefix("--output=")
                .or_else(|| other.strip_prefix("-o="))
                .or_else(|| other.strip_prefix("-o"))
                .map(str::to_owned),
        };
        if format.as_deref().is_some_and(data) {
            return true;
        }
    }
    false
}

/// One bar, shown after [`DELAY`] if enabled; cleared when dropped.
pub(crate) struct Progress {
    bar: ProgressBar,
    done: Option<mpsc::Sender<()>>,
    shower: Option<JoinHandle<()>>,
}

impl Progress {
    /// Starts counting `total` secrets (a spinner with a count when the
    /// total is not known).
    pub(crate) fn start(message: String, total: Option<usize>) -> Self {
        let bar =
            ProgressBar::with_draw_target(total.map(|t| t as u64), ProgressDrawTarget::hidden());
        let template = if total.is_some() {
            "{spinner} {msg} [{wide_bar}] {pos}/{len} ({elapsed})"
        } else {
            "{spinner} {msg}: {pos} ({elapsed})"
        };
        bar.set_style(
            ProgressStyle::with_template(template)
                .expect("a valid template")
                .progress_chars("=> "),
        );
        bar.set_message(message);
        *current() = Some(bar.clone());
        let (done, wait) = mpsc::channel::<()>();
        let shower = enabled().then(|| {
            let bar = bar.clone();
            std::thread::spawn(move || {
                if let Err(RecvTimeoutError::Timeout) = wait.recv_timeout(DELAY) {
                    bar.set_draw_target(ProgressDrawTarget::stderr());
                    bar.enable_steady_tick(Duration::from_millis(100));
                }
            })
        });
        Self {
            bar,
            done: Some(done),
            shower,
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        drop(self.done.take());
        if let Some(shower) = self.shower.take() {
            let _ = shower.join();
        }
        *current() = None;
        self.bar.finish_and_clear();
    }
}

/// A secrets manager that shows a [`Progress`] bar during its batch reads
/// and its delete-all; every other call goes straight through.
pub(crate) struct ProgressManager {
    inner: Arc<dyn SecretsManager>,
    component: String,
}

impl ProgressManager {
    pub(crate) fn new(inner: Arc<dyn SecretsManager>, component: &str) -> Self {
        Self {
            inner,
            component: component.to_owned(),
        }
    }
}

impl fmt::Debug for ProgressManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProgressManager")
            .field("inner", &self.inner)
            .field("component", &self.component)
            .finish()
    }
}

#[async_trait]
impl SecretsManager for ProgressManager {
    fn info(&self) -> ManagerInfo {
        self.inner.info()
    }

    fn remote_name(&self, name: &SecretName) -> Option<String> {
        self.inner.remote_name(name)
    }

    async fn register_secret(&self, secret: &Secret) -> Result<()> {
        self.inner.register_secret(secret).await
    }

    async fn get_secret(&self, name: &SecretName) -> Result<Secret> {
        self.inner.get_secret(name).await
    }

    async fn get_secrets(
        &self,
        names: &[SecretName],
        concurrency: usize,
    ) -> Result<Vec<Result<Secret>>> {
        let _progress = Progress::start(
            format!(
                "reading {} secret(s) from secrets manager '{}'",
                names.len(),
                self.component
            ),
            Some(names.len()),
        );
        self.inner.get_secrets(names, concurrency).await
    }

    async fn list_secret_names(&self) -> Result<Vec<SecretName>> {
        self.inner.list_secret_names().await
    }

    async fn update_secret(&self, name: &SecretName, patch: &SecretPatch) -> Result<Secret> {
        self.inner.update_secret(name, patch).await
    }

    async fn delete_secret(&self, name: &SecretName) -> Result<()> {
        self.inner.delete_secret(name).await
    }

    async fn delete_all_secrets(&self) -> Result<usize> {
        let _progress = Progress::start(
            format!(
                "deleting the secrets of secrets manager '{}'",
                self.component
            ),
            None,
        );
        self.inner.delete_all_secrets().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<std::ffi::OsString> {
        line.split_whitespace().map(Into::into).collect()
    }

    #[test]
    fn data_output_is_recognised_in_every_spelling() {
        for line in [
            "keystack secrets-manager secret list -o json",
            "keystack stack list --output yaml",
            "keystack stack list --output=json",
            "keystack stack list -ojson",
            "keystack secrets-manager secret get db -o env",
        ] {
            assert!(asks_for_data(&args(line)), "{line}");
        }
        for line in [
            "keystack stack validate",
            "keystack stack list -o table",
            "keystack run -- tool -o json",
        ] {
            assert!(!asks_for_data(&args(line)), "{line}");
        }
    }
}
