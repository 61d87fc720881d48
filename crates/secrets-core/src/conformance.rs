//! The behaviour suite every [`SecretsManager`] runs unchanged.
//!
//! Each function takes a manager that holds no secrets yet (a fresh store, or
//! a fresh namespace in a shared account) and panics with a message naming
//! the broken expectation. Differences between backends are expressed through
//! [`Capabilities`](crate::Capabilities), never by forking a test.
//!
//! The plumbing from an environment to a manager under test (fixtures,
//! emulator variables, unique ids, ports) is in [`crate::testkit`]; this
//! module holds behaviours only.
//!
//! A backend runs the whole suite with [`conformance_tests!`](crate::conformance_tests):
//!
//! ```ignore
//! async fn fixture() -> Option<Fixture> { /* None skips, printing why */ }
//! keystack_secrets_core::conformance_tests!(fixture);
//! ```

use std::collections::{BTreeMap, BTreeSet};

use futures::StreamExt;
use futures::future::join_all;

use crate::{
    Error, SchemaError, Secret, SecretKey, SecretName, SecretPatch, SecretSchema, SecretValue,
    SecretsManager, SecretsManagerExt,
};

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

/// Generates one `#[tokio::test]` per conformance function. `$fixture` is an
/// `async fn() -> Option<Fixture>`; `None` skips the test (the fixture should
/// print one line saying why). The calling crate needs `tokio` with the
/// `macros` and `rt-multi-thread` features as a dev-dependency.
#[macro_export]
macro_rules! conformance_tests {
    ($fixture:path) => {
        $crate::conformance_tests!(@each $fixture;
            register_and_get,
            register_with_typed_schema,
            register_existing_name_is_already_exists,
            missing_secret_is_not_found,
            list_is_sorted_and_complete,
            update_sets_and_removes_keys,
            rejected_update_changes_nothing,
            delete_then_list_and_register_again,
            delete_all_removes_everything,
            unicode_keys_and_values,
            empty_and_64_kib_values,
            thousand_secrets,
            concurrent_registers_of_distinct_names,
            concurrent_registers_of_one_name,
            concurrent_updates_of_one_secret,
            debug_never_shows_values,
        );
    };
    (@each $fixture:path; $($test:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $test() {
                let Some(fixture) = $fixture().await else { return };
                $crate::conformance::$test(&*fixture.manager).await;
            }
        )*
    };
}

fn name(s: &str) -> SecretName {
    SecretName::new(s).expect("test names are valid")
}

fn key(s: &str) -> SecretKey {
    SecretKey::new(s).expect("test keys are valid")
}

fn secret<'a>(n: &str, pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Secret {
    Secret::arbitrary(name(n), pairs).expect("test secrets are valid")
}

/// The key-values of a secret as plain strings, for comparisons.
fn plain(secret: &Secret) -> BTreeMap<String, String> {
    secret
        .values()
        .iter()
        .map(|(k, v)| (k.to_string(), v.expose().to_owned()))
        .collect()
}

fn pairs<'a>(items: impl IntoIterator<Item = (&'a str, &'a str)>) -> BTreeMap<String, String> {
    items
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

async fn names(m: &dyn SecretsManager) -> Vec<String> {
    m.list_secret_names()
        .await
        .expect("list_secret_names")
        .into_iter()
        .map(SecretName::into_string)
        .collect()
}

/// A registered secret reads back with the same name, schema and key-values.
pub async fn register_and_get(m: &dyn SecretsManager) {
    let s = secret(
        "mlflow_secret",
        [("username", "admin"), ("password", "abc123")],
    );
    m.register_secret(&s).await.expect("register");
    let got = m.get_secret(s.name()).await.expect("get");
    assert_eq!(got.name(), s.name());
    assert_eq!(got.schema(), SecretSchema::Arbitrary);
    assert_eq!(
        plain(&got),
        pairs([("username", "admin"), ("password", "abc123")])
    );
    assert!(m.secret_exists(s.name()).await.expect("exists"));
    let value = m
        .get_secret_value(s.name(), &key("password"))
        .await
        .expect("get value");
    assert_eq!(value.expose(), "abc123");
    let err = m
        .get_secret_value(s.name(), &key("token"))
        .await
        .expect_err("missing key");
    assert!(matches!(err, Error::KeyNotFound { .. }), "{err:?}");
}

/// A typed schema is stored and read back with the secret.
pub async fn register_with_typed_schema(m: &dyn SecretsManager) {
    let values = [
        ("aws_access_key_id", "AKIA0000"),
        ("aws_secret_access_key", "s3cr3t"),
    ]
    .into_iter()
    .map(|(k, v)| (key(k), SecretValue::from(v)))
    .collect();
    let s = Secret::new(name("aws-creds"), SecretSchema::Aws, values).expect("valid aws secret");
    m.register_secret(&s).await.expect("register");
    let got = m.get_secret(s.name()).await.expect("get");
    assert_eq!(got.schema(), SecretSchema::Aws);
    assert_eq!(plain(&got), plain(&s));
}

/// Registering a taken name fails with `AlreadyExists` and keeps the original.
pub async fn register_existing_name_is_already_exists(m: &dyn SecretsManager) {
    m.register_secret(&secret("db", [("password", "first")]))
        .await
        .expect("register");
    let err = m
        .register_secret(&secret("db", [("password", "second")]))
        .await
        .expect_err("second register of the same name");
    assert!(
        matches!(&err, Error::AlreadyExists { name } if name == "db"),
        "{err:?}"
    );
    let got = m.get_secret(&name("db")).await.expect("get");
    assert_eq!(plain(&got), pairs([("password", "first")]));
}

/// Get, update and delete of a missing secret fail with `NotFound`.
pub async fn missing_secret_is_not_found(m: &dyn SecretsManager) {
    let missing = name("missing");
    let err = m.get_secret(&missing).await.expect_err("get");
    assert!(
        matches!(&err, Error::NotFound { name } if *name == missing),
        "{err:?}"
    );
    let patch = SecretPatch::new().set(key("a"), "1");
    let err = m.update_secret(&missing, &patch).await.expect_err("update");
    assert!(err.is_not_found(), "{err:?}");
    let err = m.delete_secret(&missing).await.expect_err("delete");
    assert!(err.is_not_found(), "{err:?}");
    assert!(!m.secret_exists(&missing).await.expect("exists"));
    assert!(m.find_secret(&missing).await.expect("find").is_none());
    assert!(names(m).await.is_empty(), "a failed call created something");
}

/// The listing holds every name exactly once, sorted.
pub async fn list_is_sorted_and_complete(m: &dyn SecretsManager) {
    assert!(names(m).await.is_empty(), "the fixture must start empty");
    for n in ["b", "a-1", "C", "a_1", "a"] {
        m.register_secret(&secret(n, [("k", "v")]))
            .await
            .expect("register");
    }
    let mut expected = vec!["C", "a", "a-1", "a_1", "b"];
    expected.sort();
    assert_eq!(names(m).await, expected);
}

/// A patch adds, replaces and removes keys, and the result is returned and stored.
pub async fn update_sets_and_removes_keys(m: &dyn SecretsManager) {
    m.register_secret(&secret(
        "db",
        [("user", "u"), ("password", "old"), ("host", "h")],
    ))
    .await
    .expect("register");
    let patch = SecretPatch::new()
        .set(key("password"), "new")
        .set(key("port"), "5432")
        .remove(key("host"));
    let returned = m.update_secret(&name("db"), &patch).await.expect("update");
    let expected = pairs([("user", "u"), ("password", "new"), ("port", "5432")]);
    assert_eq!(plain(&returned), expected);
    assert_eq!(
        plain(&m.get_secret(&name("db")).await.expect("get")),
        expected
    );
}

/// An update that removes a missing key or breaks the schema fails and
/// leaves the stored secret as it was.
pub async fn rejected_update_changes_nothing(m: &dyn SecretsManager) {
    m.register_secret(&secret("db", [("password", "p")]))
        .await
        .expect("register");
    let patch = SecretPatch::new().set(key("user"), "u").remove(key("nope"));
    let err = m
        .update_secret(&name("db"), &patch)
        .await
        .expect_err("missing key");
    assert!(matches!(err, Error::KeyNotFound { .. }), "{err:?}");
    let patch = SecretPatch::new().remove(key("password"));
    let err = m
        .update_secret(&name("db"), &patch)
        .await
        .expect_err("no keys left");
    assert!(
        matches!(
            err,
            Error::InvalidSecret {
                problem: SchemaError::NoKeys,
                ..
            }
        ),
        "{err:?}"
    );

    let values = [("username", "u"), ("password", "p")]
        .into_iter()
        .map(|(k, v)| (key(k), SecretValue::from(v)))
        .collect();
    let basic = Secret::new(name("basic"), SecretSchema::BasicAuth, values).expect("valid");
    m.register_secret(&basic).await.expect("register basic");
    let patch = SecretPatch::new().set(key("token"), "t");
    let err = m
        .update_secret(&name("basic"), &patch)
        .await
        .expect_err("schema");
    assert!(matches!(err, Error::InvalidSecret { .. }), "{err:?}");

    assert_eq!(
        plain(&m.get_secret(&name("db")).await.expect("get")),
        pairs([("password", "p")])
    );
    assert_eq!(
        plain(&m.get_secret(&name("basic")).await.expect("get")),
        plain(&basic)
    );
}

/// A deleted secret is gone from get and list, and its name can be reused at once.
pub async fn delete_then_list_and_register_again(m: &dyn SecretsManager) {
    for n in ["keep", "drop"] {
        m.register_secret(&secret(n, [("k", n)]))
            .await
            .expect("register");
    }
    m.delete_secret(&name("drop")).await.expect("delete");
    assert_eq!(names(m).await, ["keep"]);
    assert!(
        m.get_secret(&name("drop"))
            .await
            .expect_err("get")
            .is_not_found()
    );
    m.register_secret(&secret("drop", [("k", "again")]))
        .await
        .expect("register after delete");
    let got = m.get_secret(&name("drop")).await.expect("get");
    assert_eq!(plain(&got), pairs([("k", "again")]));
    assert_eq!(
        plain(&m.get_secret(&name("keep")).await.expect("get")),
        pairs([("k", "keep")])
    );
}

/// `delete_all_secrets` removes every secret and reports how many.
pub async fn delete_all_removes_everything(m: &dyn SecretsManager) {
    for i in 0..5 {
        m.register_secret(&secret(&format!("s{i}"), [("k", "v")]))
            .await
            .expect("register");
    }
    assert_eq!(m.delete_all_secrets().await.expect("delete all"), 5);
    assert!(names(m).await.is_empty());
    assert_eq!(m.delete_all_secrets().await.expect("delete all again"), 0);
    m.register_secret(&secret("s0", [("k", "v")]))
        .await
        .expect("register after delete all");
}

/// Keys and values outside ASCII survive unchanged.
pub async fn unicode_keys_and_values(m: &dyn SecretsManager) {
    let items = [
        ("пароль", "секрет"),
        ("密码", "值🔑"),
        ("नमस्ते", "मूल्य"),
        (
            "emoji🔑",
            "\u{202E}reversed\u{202C} and \"quotes\" \\ and \n newlines \t",
        ),
        ("plain", "ünïcödé"),
    ];
    m.register_secret(&secret("unicode", items))
        .await
        .expect("register");
    let got = m.get_secret(&name("unicode")).await.expect("get");
    assert_eq!(plain(&got), pairs(items));
}

/// An empty value and a 64 KiB value are stored exactly. Where the backend
/// declares a smaller limit for a whole secret, the large value is sized to
/// fit just under it.
pub async fn empty_and_64_kib_values(m: &dyn SecretsManager) {
    const JSON_OVERHEAD: usize = r#"{"value":""}"#.len();
    let size = m
        .info()
        .capabilities
        .max_secret_bytes
        .map_or(64 * 1024, |limit| {
            (64 * 1024).min(limit.saturating_sub(JSON_OVERHEAD))
        });
    let large: String = (0..size)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    m.register_secret(&secret("empty", [("value", "")]))
        .await
        .expect("register empty");
    m.register_secret(&secret("large", [("value", large.as_str())]))
        .await
        .expect("register 64 KiB");
    let got = m.get_secret(&name("empty")).await.expect("get");
    assert_eq!(got.get("value").expect("key").expose(), "");
    let got = m.get_secret(&name("large")).await.expect("get");
    assert_eq!(got.get("value").expect("key").expose(), large);
}

/// A thousand secrets are all listed and readable.
pub async fn thousand_secrets(m: &dyn SecretsManager) {
    const N: usize = 1000;
    let results: Vec<_> = futures::stream::iter(0..N)
        .map(|i| async move {
            let value = format!("value-{i}");
            m.register_secret(&secret(&format!("bulk-{i:04}"), [("k", value.as_str())]))
                .await
        })
        .buffer_unordered(16)
        .collect()
        .await;
    for result in results {
        result.expect("register");
    }
    let listed = names(m).await;
    let expected: Vec<String> = (0..N).map(|i| format!("bulk-{i:04}")).collect();
    assert_eq!(listed.len(), N);
    assert_eq!(listed, expected);
    for i in (0..N).step_by(97) {
        let got = m
            .get_secret(&name(&format!("bulk-{i:04}")))
            .await
            .expect("get");
        assert_eq!(got.get("k").expect("key").expose(), format!("value-{i}"));
    }
}

/// Concurrent registers of distinct names all succeed and are all kept.
pub async fn concurrent_registers_of_distinct_names(m: &dyn SecretsManager) {
    const N: usize = 32;
    let secrets: Vec<Secret> = (0..N)
        .map(|i| secret(&format!("c{i}"), [("i", i.to_string().as_str())]))
        .collect();
    let results = join_all(secrets.iter().map(|s| m.register_secret(s))).await;
    for result in results {
        result.expect("concurrent register");
    }
    assert_eq!(names(m).await.len(), N);
    for s in &secrets {
        assert_eq!(plain(&m.get_secret(s.name()).await.expect("get")), plain(s));
    }
}

/// Concurrent registers of one name: exactly one wins, the others get
/// `AlreadyExists`, and the stored secret is the winner's, whole. Where
/// registers are not atomic, several may win; the stored secret is then
/// one winner's, whole, and the others still fail only with `AlreadyExists`.
pub async fn concurrent_registers_of_one_name(m: &dyn SecretsManager) {
    const N: usize = 8;
    let secrets: Vec<Secret> = (0..N)
        .map(|i| {
            let v = format!("writer-{i}");
            secret("contended", [("a", v.as_str()), ("b", v.as_str())])
        })
        .collect();
    let results = join_all(secrets.iter().map(|s| m.register_secret(s))).await;
    let mut winners = Vec::new();
    for (i, result) in results.into_iter().enumerate() {
        match result {
            Ok(()) => winners.push(i),
            Err(Error::AlreadyExists { .. }) => {}
            Err(e) => panic!("unexpected error from a concurrent register: {e:?}"),
        }
    }
    let got = plain(&m.get_secret(&name("contended")).await.expect("get"));
    if m.info().capabilities.atomic_register {
        assert_eq!(
            winners.len(),
            1,
            "exactly one register must win, got {winners:?}"
        );
        assert_eq!(
            got,
            plain(&secrets[winners[0]]),
            "stored secret is not the winner's"
        );
    } else {
        assert!(!winners.is_empty(), "no register won");
        assert!(
            winners.iter().any(|&i| got == plain(&secrets[i])),
            "stored secret is not one winner's, whole"
        );
    }
}

/// Concurrent updates of one secret never corrupt it or lose it. Where the
/// backend declares atomic updates, every writer's own key is kept too.
pub async fn concurrent_updates_of_one_secret(m: &dyn SecretsManager) {
    const N: usize = 16;
    m.register_secret(&secret("shared", [("base", "kept")]))
        .await
        .expect("register");
    let atomic = m.info().capabilities.atomic_update;
    let written: Vec<String> = (0..N).map(|i| format!("{i:02}-").repeat(100)).collect();
    let patches: Vec<SecretPatch> = (0..N)
        .map(|i| {
            SecretPatch::new()
                .set(key(&format!("writer{i:02}")), written[i].as_str())
                .set(key("last"), written[i].as_str())
        })
        .collect();
    let shared = name("shared");
    let results = join_all(patches.iter().map(|p| m.update_secret(&shared, p))).await;
    for result in &results {
        match result {
            Ok(_) => {}
            Err(e) if !atomic && e.is_retryable() => {}
            Err(e) => panic!("unexpected error from a concurrent update: {e:?}"),
        }
    }
    let got = plain(&m.get_secret(&name("shared")).await.expect("secret lost"));
    assert_eq!(
        got.get("base").map(String::as_str),
        Some("kept"),
        "untouched key lost"
    );
    let last = got.get("last").expect("no update was kept");
    assert!(written.contains(last), "value of 'last' is corrupt");
    for (i, expected) in written.iter().enumerate() {
        match got.get(&format!("writer{i:02}")) {
            Some(value) => assert_eq!(value, expected, "value of writer{i:02} is corrupt"),
            None if atomic => panic!("atomic backend lost the update of writer{i:02}"),
            None => {}
        }
    }
}

/// Neither the manager's nor a secret's `Debug`, nor any error, shows a value.
pub async fn debug_never_shows_values(m: &dyn SecretsManager) {
    const MARKER: &str = "LEAK-CANARY-7f3a9c";
    m.register_secret(&secret("canary", [("password", MARKER)]))
        .await
        .expect("register");
    let got = m.get_secret(&name("canary")).await.expect("get");
    let mut shown = vec![format!("{m:?}"), format!("{got:?}"), format!("{got:#?}")];
    let errors = [
        m.register_secret(&secret("canary", [("password", MARKER)]))
            .await
            .err(),
        m.update_secret(
            &name("canary"),
            &SecretPatch::new().set(key("x"), MARKER).remove(key("nope")),
        )
        .await
        .err(),
        m.update_secret(&name("canary"), &SecretPatch::new().remove(key("password")))
            .await
            .err(),
    ];
    for err in errors.into_iter().flatten() {
        shown.push(format!("{err} {err:?}"));
        let mut source = std::error::Error::source(&err);
        while let Some(inner) = source {
            shown.push(inner.to_string());
            source = inner.source();
        }
    }
    for text in shown {
        assert!(!text.contains(MARKER), "a secret value leaked: {text}");
    }
    let kept: BTreeSet<_> = got.keys().map(|k| k.to_string()).collect();
    assert_eq!(kept, BTreeSet::from(["password".to_owned()]));
}
