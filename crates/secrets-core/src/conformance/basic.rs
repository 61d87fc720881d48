//! One manager, one caller: register, get, list, update, delete, errors,
//! unusual keys and values, many secrets, and redaction.

use std::collections::BTreeSet;

use futures::StreamExt;

use super::{fit, key, name, names, pairs, plain, secret};
use crate::{
    Error, SchemaError, Secret, SecretName, SecretPatch, SecretSchema, SecretValue, SecretsManager,
    SecretsManagerExt,
};

/// A registered secret reads back with the same name, schema and key-values.
pub async fn register_and_get(m: &dyn SecretsManager) {
    let s = secret(
        &fit(m, "mlflow_secret"),
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

/// A batch read returns, in the order asked, what single reads return:
/// each secret whole, a missing one `NotFound`, a name given twice twice.
pub async fn batch_read_matches_single_reads(m: &dyn SecretsManager) {
    for i in 0..25 {
        m.register_secret(&secret(
            &format!("b{i:02}"),
            [("user", "u"), ("password", &*format!("p{i}"))],
        ))
        .await
        .expect("register");
    }
    let mut asked: Vec<SecretName> = (0..25).rev().map(|i| name(&format!("b{i:02}"))).collect();
    asked.insert(3, name("missing"));
    asked.push(name("b07"));
    for concurrency in [1, 32] {
        let each = m.get_secrets(&asked, concurrency).await.expect("batch");
        assert_eq!(each.len(), asked.len(), "one result per name");
        for (name, result) in asked.iter().zip(&each) {
            match m.get_secret(name).await {
                Ok(single) => {
                    let batch = result.as_ref().expect("found alone, found in the batch");
                    assert_eq!(batch.name(), name);
                    assert_eq!(batch.schema(), single.schema());
                    assert_eq!(plain(batch), plain(&single), "{name}");
                }
                Err(e) => {
                    assert!(e.is_not_found(), "{e:?}");
                    let err = result
                        .as_ref()
                        .expect_err("missing alone, missing in the batch");
                    assert!(err.is_not_found(), "{err:?}");
                }
            }
        }
    }
    assert!(m.get_secrets(&[], 8).await.expect("empty batch").is_empty());
}

/// The listing holds every name exactly once, sorted.
pub async fn list_is_sorted_and_complete(m: &dyn SecretsManager) {
    assert!(names(m).await.is_empty(), "the fixture must start empty");
    // A name the backend cannot store is refused, and another one takes
    // its place.
    let allowed = m.info().capabilities.names;
    let mut expected = Vec::new();
    for (n, instead) in [
        ("b", "b"),
        ("a-1", "a-1"),
        ("C", "c"),
        ("a_1", "a1"),
        ("a", "a"),
    ] {
        let n = if allowed.allows(n) {
            n
        } else {
            let refused = m.register_secret(&secret(n, [("k", "v")])).await;
            assert!(refused.is_err(), "'{n}' is refused: {refused:?}");
            instead
        };
        m.register_secret(&secret(n, [("k", "v")]))
            .await
            .expect("register");
        expected.push(n);
    }
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
