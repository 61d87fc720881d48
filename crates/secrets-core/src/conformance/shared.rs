//! Checks a backend's own suite calls with a scene it set up itself: an
//! outage of its server, nothing listening, a secret planted behind
//! Keystack's back.

use super::{key, name, secret};
use crate::{Error, SecretPatch, SecretsManager};

/// With nothing answering at `endpoint`, a read fails with a retryable
/// [`Error::Unavailable`] that names `endpoint`, within 10 s (bounded
/// retries and timeouts, no hang).
pub async fn unreachable_is_unavailable(manager: &dyn SecretsManager, endpoint: &str) {
    let started = std::time::Instant::now();
    let err = manager
        .get_secret(&name("before"))
        .await
        .expect_err("a read with nothing answering must fail");
    assert!(matches!(err, Error::Unavailable { .. }), "{err:?}");
    assert!(err.is_retryable());
    assert!(err.to_string().contains(endpoint), "{err}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "retries must be bounded: {:?}",
        started.elapsed()
    );
}

/// An outage and a recovery: with the server `start` starts, `manager`
/// (whose address is `endpoint`) registers a secret; the server is killed:
/// a read fails with [`Error::Unavailable`] naming `endpoint`, within 10 s
/// (bounded retries, no hang); the server is started again (empty): the
/// same manager registers and lists again, without being rebuilt.
pub async fn outage_and_recovery(
    start: impl Fn() -> std::process::Child,
    manager: &dyn SecretsManager,
    endpoint: &str,
) {
    /// Stops the server when dropped, also when an assertion fails, so
    /// that no server outlives the test.
    struct Stop(std::process::Child);
    impl Drop for Stop {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let server = Stop(start());
    manager
        .register_secret(&secret("before", [("k", "v")]))
        .await
        .expect("register while the server is up");
    drop(server);
    unreachable_is_unavailable(manager, endpoint).await;
    let _server = Stop(start());
    manager
        .register_secret(&secret("after", [("k", "v")]))
        .await
        .expect("the same manager works once the server is back");
    assert_eq!(
        manager.list_secret_names().await.expect("list"),
        [name("after")]
    );
}

/// `name` holds a secret Keystack did not create (in this namespace), which
/// the backend's own test put there: get, update and delete fail with
/// `PermissionDenied` saying so, and register with `AlreadyExists`.
pub async fn foreign_secret_is_refused(m: &dyn SecretsManager, n: &str) {
    let foreign = name(n);
    let refused = m
        .get_secret(&foreign)
        .await
        .expect_err("get of a foreign secret");
    assert!(
        matches!(refused, Error::PermissionDenied { .. }),
        "{n}: {refused:?}"
    );
    assert!(
        refused.to_string().contains("not created by Keystack"),
        "{n}: {refused}"
    );
    let patch = SecretPatch::new().set(key("k"), "x");
    let refused = m
        .update_secret(&foreign, &patch)
        .await
        .expect_err("update of a foreign secret");
    assert!(
        matches!(refused, Error::PermissionDenied { .. }),
        "{n}: {refused:?}"
    );
    let refused = m
        .delete_secret(&foreign)
        .await
        .expect_err("delete of a foreign secret");
    assert!(
        matches!(refused, Error::PermissionDenied { .. }),
        "{n}: {refused:?}"
    );
    let taken = m
        .register_secret(&secret(n, [("k", "x")]))
        .await
        .expect_err("register over a foreign secret");
    assert!(
        matches!(taken, Error::AlreadyExists { .. }),
        "{n}: {taken:?}"
    );
}
