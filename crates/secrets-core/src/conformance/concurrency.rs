//! Several callers at once on one manager.

use futures::future::join_all;

use super::{key, name, names, plain, secret};
use crate::{Error, Secret, SecretPatch, SecretsManager};

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
