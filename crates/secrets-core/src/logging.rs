//! A layer that logs every call to a secrets manager: what was asked (the
//! kind of call, the secret's name and keys), how long it took and how it
//! ended. Never a value: a patch is logged by its keys, a secret by its
//! name and keys, an error by its message (which never holds values).

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;

use crate::{ManagerInfo, Result, Secret, SecretName, SecretPatch, SecretsManager};

/// Where log lines go.
pub type LogSink = Arc<dyn Fn(&str) + Send + Sync>;

/// Wraps a manager and logs each call made through it to a sink.
#[derive(Clone)]
pub struct LoggingManager {
    inner: Arc<dyn SecretsManager>,
    sink: LogSink,
}

impl fmt::Debug for LoggingManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoggingManager")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl LoggingManager {
    /// Logs the calls made to `inner` through the returned manager to `sink`.
    pub fn new(inner: Arc<dyn SecretsManager>, sink: LogSink) -> Self {
        Self { inner, sink }
    }

    fn log<T>(&self, what: fmt::Arguments<'_>, started: Instant, result: &Result<T>) {
        let elapsed = started.elapsed();
        let outcome = match result {
            Ok(_) => "ok".to_owned(),
            Err(e) => format!("failed: {e}"),
        };
        let flavor = self.inner.info().flavor;
        (self.sink)(&format!(
            "{flavor} {what}: {outcome} ({:.1} ms)",
            elapsed.as_secs_f64() * 1000.0
        ));
    }
}

fn keys_of(secret: &Secret) -> String {
    secret
        .keys()
        .map(|k| k.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `set a, b; remove c`: a patch by its keys.
fn patch_keys(patch: &SecretPatch) -> String {
    let join = |keys: Vec<&str>| keys.join(", ");
    let set = join(patch.sets().keys().map(|k| k.as_str()).collect());
    let remove = join(patch.removals().iter().map(|k| k.as_str()).collect());
    match (set.is_empty(), remove.is_empty()) {
        (false, false) => format!("set {set}; remove {remove}"),
        (false, true) => format!("set {set}"),
        (true, false) => format!("remove {remove}"),
        (true, true) => "no change".to_owned(),
    }
}

#[async_trait]
impl SecretsManager for LoggingManager {
    fn info(&self) -> ManagerInfo {
        self.inner.info()
    }

    fn remote_name(&self, name: &SecretName) -> Option<String> {
        self.inner.remote_name(name)
    }

    async fn register_secret(&self, secret: &Secret) -> Result<()> {
        let started = Instant::now();
        let result = self.inner.register_secret(secret).await;
        self.log(
            format_args!("register '{}' (keys {})", secret.name(), keys_of(secret)),
            started,
            &result,
        );
        result
    }

    async fn get_secret(&self, name: &SecretName) -> Result<Secret> {
        let started = Instant::now();
        let result = self.inner.get_secret(name).await;
        match &result {
            Ok(secret) => self.log(
                format_args!("get '{name}' (keys {})", keys_of(secret)),
                started,
                &result,
            ),
            Err(_) => self.log(format_args!("get '{name}'"), started, &result),
        }
        result
    }

    async fn get_secrets(
        &self,
        names: &[SecretName],
        concurrency: usize,
    ) -> Result<Vec<Result<Secret>>> {
        let started = Instant::now();
        let result = self.inner.get_secrets(names, concurrency).await;
        let shown: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
        let found = result
            .as_ref()
            .map_or(0, |each| each.iter().filter(|r| r.is_ok()).count());
        self.log(
            format_args!(
                "batch get of {} ({found} of {} read)",
                shown.join(", "),
                names.len()
            ),
            started,
            &result,
        );
        result
    }

    async fn list_secret_names(&self) -> Result<Vec<SecretName>> {
        let started = Instant::now();
        let result = self.inner.list_secret_names().await;
        let count = result.as_ref().map_or(0, Vec::len);
        self.log(format_args!("list ({count} names)"), started, &result);
        result
    }

    async fn update_secret(&self, name: &SecretName, patch: &SecretPatch) -> Result<Secret> {
        let started = Instant::now();
        let result = self.inner.update_secret(name, patch).await;
        self.log(
            format_args!("update '{name}' ({})", patch_keys(patch)),
            started,
            &result,
        );
        result
    }

    async fn delete_secret(&self, name: &SecretName) -> Result<()> {
        let started = Instant::now();
        let result = self.inner.delete_secret(name).await;
        self.log(format_args!("delete '{name}'"), started, &result);
        result
    }

    async fn delete_all_secrets(&self) -> Result<usize> {
        let started = Instant::now();
        let result = self.inner.delete_all_secrets().await;
        self.log(format_args!("delete-all"), started, &result);
        result
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::memory::InMemorySecretsManager;

    #[tokio::test]
    async fn logs_names_keys_and_outcomes_never_values() {
        const VALUE: &str = "LOGGED-VALUE-3e1f";
        let lines = Arc::new(Mutex::new(Vec::<String>::new()));
        let sink_lines = lines.clone();
        let m = LoggingManager::new(
            Arc::new(InMemorySecretsManager::new()),
            Arc::new(move |line: &str| sink_lines.lock().unwrap().push(line.to_owned())),
        );
        let name = SecretName::new("db").unwrap();
        let secret = Secret::arbitrary(name.clone(), [("password", VALUE)]).unwrap();
        m.register_secret(&secret).await.unwrap();
        m.register_secret(&secret).await.unwrap_err();
        m.get_secret(&name).await.unwrap();
        m.update_secret(
            &name,
            &SecretPatch::new()
                .set("token".parse().unwrap(), VALUE)
                .remove("password".parse().unwrap()),
        )
        .await
        .unwrap();
        m.list_secret_names().await.unwrap();
        m.delete_secret(&name).await.unwrap();
        m.delete_all_secrets().await.unwrap();
        let lines = lines.lock().unwrap();
        assert_eq!(lines.len(), 7, "{lines:?}");
        assert!(
            lines[0].starts_with("memory register 'db' (keys password): ok"),
            "{lines:?}"
        );
        assert!(
            lines[1].contains("failed: secret 'db' already exists"),
            "{lines:?}"
        );
        assert!(lines[3].contains("set token; remove password"), "{lines:?}");
        assert!(lines.iter().all(|l| !l.contains(VALUE)), "{lines:?}");
        assert!(!format!("{m:?}").contains(VALUE));
    }
}
