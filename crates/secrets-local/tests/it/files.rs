//! What the store does with its files: permissions, wrong keys, damaged,
//! foreign and newer stores. Every refusal must leave the file as it was.

use std::fs;
use std::path::Path;

use keystack_secrets_core::{Error, SecretsManager};
use keystack_secrets_local::{KEY_FILE, LocalBuilder, LocalError, STORE_FILE, StoreKey};

use super::{name, open, secret};

async fn store_with_secrets(dir: &Path, n: usize) {
    let manager = open(dir);
    for i in 0..n {
        manager
            .register_secret(&secret(
                &format!("s{i:04}"),
                &[("password", &format!("value-{i}"))],
            ))
            .await
            .unwrap();
    }
}

/// Every file in `dir` with its bytes, to prove a refusal changed nothing.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

fn open_err(dir: &Path) -> LocalError {
    LocalBuilder::new()
        .with_path(dir)
        .open()
        .expect_err("open must fail")
}

#[cfg(unix)]
#[tokio::test]
async fn files_and_folder_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let root = super::private_dir().unwrap();
    let dir = root.path().join("nested/store");
    store_with_secrets(&dir, 1).await;
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&dir.join(STORE_FILE)), 0o600);
    assert_eq!(mode(&dir.join(KEY_FILE)), 0o600);
}

#[tokio::test]
async fn values_are_not_in_the_file_in_clear() {
    let dir = super::private_dir().unwrap();
    let manager = open(dir.path());
    manager
        .register_secret(&secret("db", &[("password", "PLAINTEXT-CANARY-1234")]))
        .await
        .unwrap();
    drop(manager);
    let bytes = fs::read(dir.path().join(STORE_FILE)).unwrap();
    let needle = b"PLAINTEXT-CANARY-1234";
    assert!(!bytes.windows(needle.len()).any(|w| w == needle));
}

#[tokio::test]
async fn reopening_reads_what_was_written() {
    let dir = super::private_dir().unwrap();
    store_with_secrets(dir.path(), 3).await;
    let manager = open(dir.path());
    let got = manager.get_secret(&name("s0002")).await.unwrap();
    assert_eq!(got.get("password").unwrap().expose(), "value-2");
    assert_eq!(manager.list_secret_names().await.unwrap().len(), 3);
}

#[tokio::test]
async fn wrong_key_is_refused_and_changes_nothing() {
    let dir = super::private_dir().unwrap();
    store_with_secrets(dir.path(), 5).await;
    let before = snapshot(dir.path());
    let err = LocalBuilder::new()
        .with_path(dir.path())
        .with_key(StoreKey::generate().unwrap())
        .open()
        .expect_err("wrong key");
    assert!(matches!(err, LocalError::WrongKey { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains("is not the key this store was created with"),
        "{message}"
    );
    assert!(message.contains("nothing was changed"), "{message}");
    let core: Error = err.into();
    assert!(matches!(core, Error::Unauthenticated { .. }), "{core:?}");
    assert_eq!(
        snapshot(dir.path()),
        before,
        "a refused open changed the files"
    );

    // A replaced key file gives the same refusal.
    fs::remove_file(dir.path().join(KEY_FILE)).unwrap();
    let other = StoreKey::generate().unwrap();
    write_key_file(&dir.path().join(KEY_FILE), &other);
    let before = snapshot(dir.path());
    assert!(matches!(open_err(dir.path()), LocalError::WrongKey { .. }));
    assert_eq!(snapshot(dir.path()), before);
}

fn write_key_file(path: &Path, key: &StoreKey) {
    fs::write(path, format!("{}\n", key.to_base64().as_str())).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(0o600)).unwrap();
    }
}

#[tokio::test]
async fn key_from_environment_form_opens_the_store() {
    let dir = super::private_dir().unwrap();
    store_with_secrets(dir.path(), 1).await;
    let text = fs::read_to_string(dir.path().join(KEY_FILE)).unwrap();
    let key = StoreKey::from_base64(&text, "test").unwrap();
    fs::remove_file(dir.path().join(KEY_FILE)).unwrap();
    let manager = LocalBuilder::new()
        .with_path(dir.path())
        .with_key(key)
        .build()
        .unwrap();
    assert_eq!(manager.list_secret_names().await.unwrap().len(), 1);
}

#[tokio::test]
async fn missing_key_file_is_not_replaced_by_a_new_key() {
    let dir = super::private_dir().unwrap();
    store_with_secrets(dir.path(), 1).await;
    fs::remove_file(dir.path().join(KEY_FILE)).unwrap();
    let before = snapshot(dir.path());
    let err = open_err(dir.path());
    assert!(matches!(err, LocalError::KeyFileMissing { .. }), "{err:?}");
    assert!(err.to_string().contains("restore the key file"), "{err}");
    assert_eq!(snapshot(dir.path()), before, "a new key file was created");
}

#[tokio::test]
async fn truncated_store_is_refused_and_left_alone() {
    let dir = super::private_dir().unwrap();
    store_with_secrets(dir.path(), 200).await;
    let path = dir.path().join(STORE_FILE);
    let len = fs::metadata(&path).unwrap().len();
    let file = fs::OpenOptions::new().write(true).open(&path).unwrap();
    file.set_len(len / 2).unwrap();
    drop(file);
    let before = snapshot(dir.path());
    let err = open_err(dir.path());
    assert!(matches!(err, LocalError::Corrupt { .. }), "{err:?}");
    assert!(err.to_string().contains("truncated"), "{err}");
    assert_eq!(snapshot(dir.path()), before);
}

#[tokio::test]
async fn corrupted_pages_are_reported_not_masked() {
    let dir = super::private_dir().unwrap();
    store_with_secrets(dir.path(), 200).await;
    let path = dir.path().join(STORE_FILE);
    let mut bytes = fs::read(&path).unwrap();
    // Scribble over everything after the first two pages (header, schema).
    let page = 4096;
    for b in &mut bytes[2 * page..] {
        *b = 0xA5;
    }
    fs::write(&path, &bytes).unwrap();
    let before = snapshot(dir.path());
    let outcome = match LocalBuilder::new().with_path(dir.path()).open() {
        Err(e) => Err(Error::from(e)),
        Ok(manager) => manager.list_secret_names().await.map(|_| ()),
    };
    let err = outcome.expect_err("damage must be reported");
    assert!(matches!(err, Error::Corrupt { .. }), "{err:?}");
    assert!(
        err.to_string().contains("restore it from a backup"),
        "{err}"
    );
    assert_eq!(snapshot(dir.path()), before);
}

#[tokio::test]
async fn tampered_row_is_refused() {
    let dir = super::private_dir().unwrap();
    store_with_secrets(dir.path(), 2).await;
    // Swap the ciphertexts of two rows, as an attacker with write access could.
    let conn = rusqlite::Connection::open(dir.path().join(STORE_FILE)).unwrap();
    conn.execute_batch(
        "UPDATE secrets SET name = 'tmp' WHERE name = 's0000';
         UPDATE secrets SET name = 's0000' WHERE name = 's0001';
         UPDATE secrets SET name = 's0001' WHERE name = 'tmp';",
    )
    .unwrap();
    drop(conn);
    let manager = open(dir.path());
    let err = manager.get_secret(&name("s0000")).await.unwrap_err();
    assert!(matches!(err, Error::Corrupt { .. }), "{err:?}");
    assert!(err.to_string().contains("cannot be decrypted"), "{err}");
}

#[tokio::test]
async fn foreign_files_are_refused_and_left_alone() {
    // Not SQLite at all.
    let dir = super::private_dir().unwrap();
    fs::write(
        dir.path().join(STORE_FILE),
        b"these are my notes, not a database",
    )
    .unwrap();
    let before = snapshot(dir.path());
    let err = open_err(dir.path());
    assert!(matches!(err, LocalError::NotAStore { .. }), "{err:?}");
    assert_eq!(snapshot(dir.path()), before);

    // Another program's SQLite database.
    let dir = super::private_dir().unwrap();
    let conn = rusqlite::Connection::open(dir.path().join(STORE_FILE)).unwrap();
    conn.execute_batch("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('x');")
        .unwrap();
    drop(conn);
    let before = snapshot(dir.path());
    let err = open_err(dir.path());
    assert!(matches!(err, LocalError::NotAStore { .. }), "{err:?}");
    assert!(err.to_string().contains("another program's"), "{err}");
    assert_eq!(snapshot(dir.path()), before);
}

#[tokio::test]
async fn newer_schema_is_refused_and_left_alone() {
    let dir = super::private_dir().unwrap();
    store_with_secrets(dir.path(), 1).await;
    let conn = rusqlite::Connection::open(dir.path().join(STORE_FILE)).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    let before = snapshot(dir.path());
    let err = open_err(dir.path());
    assert!(
        matches!(
            err,
            LocalError::NewerSchema {
                found: 99,
                supported: 1,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("upgrade Keystack"), "{err}");
    assert_eq!(snapshot(dir.path()), before);
}

#[tokio::test]
async fn integrity_check_passes_on_a_healthy_store() {
    let dir = super::private_dir().unwrap();
    store_with_secrets(dir.path(), 10).await;
    open(dir.path()).verify().await.unwrap();
}

#[test]
fn config_rejects_unknown_settings() {
    use keystack_secrets_local::{LocalConfig, LocalConfigKey};
    let err = serde_json::from_str::<LocalConfig>(r#"{"path": "/x", "pth": "/y"}"#).unwrap_err();
    assert!(err.to_string().contains("unknown field `pth`"), "{err}");
    let err = "passphrase".parse::<LocalConfigKey>().unwrap_err();
    assert!(
        err.to_string()
            .contains("known settings are path, key_source, key_file, busy_timeout_ms")
    );
    let err = LocalBuilder::new().build().unwrap_err();
    assert!(err.to_string().contains("needs a store folder"), "{err}");
}

#[tokio::test]
async fn environment_selects_folder_and_key() {
    let dir = super::private_dir().unwrap();
    store_with_secrets(dir.path(), 1).await;
    let key_text = fs::read_to_string(dir.path().join(KEY_FILE)).unwrap();
    fs::remove_file(dir.path().join(KEY_FILE)).unwrap();
    let env = |key: Option<&str>| {
        let path = dir.path().display().to_string();
        let key = key.map(str::to_owned);
        move |name: &str| match name {
            "KEYSTACK_LOCAL_PATH" => Some(path.clone()),
            "KEYSTACK_LOCAL_KEY" => key.clone(),
            _ => None,
        }
    };
    let manager = LocalBuilder::from_lookup(env(Some(&key_text)))
        .build()
        .unwrap();
    assert_eq!(manager.list_secret_names().await.unwrap().len(), 1);

    let short = &key_text[..12];
    let err = LocalBuilder::from_lookup(env(Some(short)))
        .open()
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("KEYSTACK_LOCAL_KEY is not a usable store key"),
        "{err}"
    );
    assert!(!err.to_string().contains(short), "{err}");

    // No key in the environment: the (missing) key file is required.
    let err = LocalBuilder::from_lookup(env(None)).open().unwrap_err();
    assert!(matches!(err, LocalError::KeyFileMissing { .. }), "{err:?}");
}
