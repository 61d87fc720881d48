//! No secret value, nor the store key, shows in any `Debug`, error message or
//! error source of the local backend.

use std::fs;

use keystack_secrets_core::{Error, SecretKey, SecretPatch, SecretsManager};
use keystack_secrets_local::{
    KEY_FILE, LocalBuilder, LocalConfig, LocalError, STORE_FILE, StoreKey,
};

use super::{name, open, secret};

const VALUE: &str = "VALUE-CANARY-b41f";

fn chain(err: &dyn std::error::Error) -> String {
    let mut text = format!("{err} | {err:?}");
    let mut source = err.source();
    while let Some(inner) = source {
        text.push_str(&format!(" | {inner} | {inner:?}"));
        source = inner.source();
    }
    text
}

#[tokio::test]
async fn nothing_leaks_through_debug_or_errors() {
    let dir = super::private_dir().unwrap();
    let manager = open(dir.path());
    manager
        .register_secret(&secret("db", &[("password", VALUE)]))
        .await
        .unwrap();
    let key_text = fs::read_to_string(dir.path().join(KEY_FILE)).unwrap();
    let key_text = key_text.trim().to_owned();
    let key = StoreKey::from_base64(&key_text, "test").unwrap();

    let mut shown = vec![
        format!("{manager:?}"),
        format!("{:?}", manager.get_secret(&name("db")).await.unwrap()),
        format!("{key:?}"),
        format!(
            "{:?}",
            LocalBuilder::new()
                .with_path(dir.path())
                .with_key(key.clone())
        ),
        format!("{:?}", LocalConfig::default()),
    ];

    // Errors from operations on a working store.
    let errors: Vec<Error> = vec![
        manager
            .register_secret(&secret("db", &[("password", VALUE)]))
            .await
            .unwrap_err(),
        manager
            .update_secret(
                &name("db"),
                &SecretPatch::new()
                    .set(SecretKey::new("new").unwrap(), VALUE)
                    .remove(SecretKey::new("absent").unwrap()),
            )
            .await
            .unwrap_err(),
        manager.get_secret(&name("missing")).await.unwrap_err(),
    ];
    shown.extend(errors.iter().map(|e| chain(e)));
    drop(manager);

    // Errors from refused opens.
    let mut refusals: Vec<LocalError> = vec![
        LocalBuilder::new()
            .with_path(dir.path())
            .with_key(StoreKey::generate().unwrap())
            .open()
            .unwrap_err(),
        StoreKey::from_base64(&key_text[..20], "KEYSTACK_LOCAL_KEY").unwrap_err(),
        StoreKey::from_base64(&format!("{key_text}!"), "KEYSTACK_LOCAL_KEY").unwrap_err(),
    ];
    let path = dir.path().join(STORE_FILE);
    let mut bytes = fs::read(&path).unwrap();
    let len = bytes.len();
    bytes.truncate(len / 2);
    fs::write(&path, &bytes).unwrap();
    refusals.push(
        LocalBuilder::new()
            .with_path(dir.path())
            .open()
            .unwrap_err(),
    );
    for err in refusals {
        shown.push(chain(&err));
        shown.push(chain(&Error::from(err)));
    }

    for text in &shown {
        assert!(!text.contains(VALUE), "a secret value leaked: {text}");
        assert!(!text.contains(&key_text), "the store key leaked: {text}");
        assert!(
            !text.contains(&key_text[..20]),
            "part of the store key leaked: {text}"
        );
    }
}
