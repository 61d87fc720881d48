//! Azure-specific behaviour: name mapping, soft-delete cycles, paging,
//! foreign secrets, permissions, faults and configuration.

use std::time::{Duration, Instant};

use keystack_secrets_azure::{AzureBuilder, DeletedSecretAction};
use keystack_secrets_core::conformance::foreign_secret_is_refused;
use keystack_secrets_core::testkit::free_port;
use keystack_secrets_core::{Error, Secret, SecretName, SecretsManager};

use super::{builder, fresh, manager, start_server, var, vault_url};

fn name(s: &str) -> SecretName {
    SecretName::new(s).unwrap()
}

fn secret(n: &str, value: &str) -> Secret {
    Secret::arbitrary(name(n), [("k", value)]).unwrap()
}

async fn value(m: &dyn SecretsManager, n: &str) -> String {
    m.get_secret(&name(n))
        .await
        .unwrap()
        .get("k")
        .unwrap()
        .expose()
        .to_owned()
}

#[tokio::test]
async fn names_differing_in_case_dash_or_underscore_stay_apart() {
    let Some(url) = vault_url() else { return };
    let m = manager(&url, Some(&fresh()));
    let names = ["a_b", "a-b", "A-b", "a-B", "A_B", "ab", "AB"];
    for n in names {
        m.register_secret(&secret(n, n)).await.unwrap();
    }
    for n in names {
        assert_eq!(value(&m, n).await, n);
    }
    let mut expected: Vec<SecretName> = names.iter().map(|n| name(n)).collect();
    expected.sort();
    assert_eq!(m.list_secret_names().await.unwrap(), expected);
}

#[tokio::test]
async fn a_name_too_long_for_key_vault_is_refused_before_any_call() {
    let Some(url) = vault_url() else { return };
    let m = manager(&url, Some("ns"));
    // 100 characters is a valid Keystack name, but each '_' takes two.
    let long = "a_".repeat(50);
    let err = m.register_secret(&secret(&long, "v")).await.unwrap_err();
    let text = format!("{err}: {}", std::error::Error::source(&err).unwrap());
    assert!(text.contains("too long for Azure Key Vault"), "{text}");
    assert!(text.contains("limit is 127"), "{text}");
    assert!(m.list_secret_names().await.unwrap().is_empty());
    // 60 plain characters fit.
    m.register_secret(&secret(&"b".repeat(60), "v"))
        .await
        .unwrap();
}

#[tokio::test]
async fn delete_purges_so_the_name_is_free_again_at_once() {
    let Some(url) = vault_url() else { return };
    let m = manager(&url, Some(&fresh()));
    for round in 0..3 {
        let v = format!("round-{round}");
        m.register_secret(&secret("cycled", &v)).await.unwrap();
        assert_eq!(value(&m, "cycled").await, v);
        m.delete_secret(&name("cycled")).await.unwrap();
        assert!(
            m.get_secret(&name("cycled"))
                .await
                .unwrap_err()
                .is_not_found()
        );
    }
}

#[tokio::test]
async fn a_soft_deleted_secret_is_recovered_and_overwritten_or_purged_as_configured() {
    let Some(url) = vault_url() else { return };
    for action in [DeletedSecretAction::Recover, DeletedSecretAction::Purge] {
        let m = builder(&url, Some(&fresh()))
            .with_purge_on_delete(false)
            .with_on_deleted_secret(action)
            .build()
            .unwrap();
        m.register_secret(&secret("soft", "old")).await.unwrap();
        m.delete_secret(&name("soft")).await.unwrap();
        assert!(
            m.get_secret(&name("soft"))
                .await
                .unwrap_err()
                .is_not_found()
        );
        assert!(m.list_secret_names().await.unwrap().is_empty());
        // Registering the name again goes through the deleted secret.
        m.register_secret(&secret("soft", "new")).await.unwrap();
        assert_eq!(value(&m, "soft").await, "new", "{action:?}");
        assert_eq!(m.list_secret_names().await.unwrap(), [name("soft")]);
    }
}

#[tokio::test]
async fn purge_protection_leaves_deleted_secrets_recoverable_and_says_so_when_purge_is_asked() {
    if vault_url().is_none() {
        return;
    }
    let port = free_port();
    let _server = start_server(port, &["--purge-protection"]);
    let url = format!("https://127.0.0.1:{port}");
    let m = manager(&url, None);
    m.register_secret(&secret("kept", "old")).await.unwrap();
    // The delete succeeds; the secret stays soft-deleted.
    m.delete_secret(&name("kept")).await.unwrap();
    let purging = builder(&url, None)
        .with_on_deleted_secret(DeletedSecretAction::Purge)
        .build()
        .unwrap();
    let err = purging
        .register_secret(&secret("kept", "new"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::PermissionDenied { .. }), "{err:?}");
    assert!(
        err.to_string().contains("on_deleted_secret: recover"),
        "{err}"
    );
    // The default, recover, works with purge protection.
    m.register_secret(&secret("kept", "new")).await.unwrap();
    assert_eq!(value(&m, "kept").await, "new");
}

#[tokio::test]
async fn listing_follows_next_link_across_small_pages() {
    let Some(url) = vault_url() else { return };
    let ns = fresh();
    let m = builder(&url, Some(&ns)).with_page_size(2).build().unwrap();
    for i in 0..7 {
        m.register_secret(&secret(&format!("p{i}"), "v"))
            .await
            .unwrap();
    }
    let expected: Vec<SecretName> = (0..7).map(|i| name(&format!("p{i}"))).collect();
    assert_eq!(m.list_secret_names().await.unwrap(), expected);
    assert_eq!(m.delete_all_secrets().await.unwrap(), 7);
    assert!(m.list_secret_names().await.unwrap().is_empty());
}

#[tokio::test]
async fn foreign_and_other_namespace_secrets_are_never_touched() {
    let Some(url) = vault_url() else { return };
    let ns = fresh();
    let other_ns = fresh();
    let m = manager(&url, Some(&ns));
    let neighbour = manager(&url, Some(&other_ns));
    neighbour
        .register_secret(&secret("shared-name", "theirs"))
        .await
        .unwrap();
    m.register_secret(&secret("mine", "v")).await.unwrap();
    // Foreign secrets under names Keystack would use for this namespace:
    // one without tags, one tagged for another namespace, one in the
    // opposite case of a Keystack name (Key Vault ignores case).
    let raw = |id: &str| format!("keystack{}-{ns}-{id}", ns.len());
    let unmarked = super::python::set_raw(&url, &raw("unmarked"), "{}", &[]);
    let elsewhere = super::python::set_raw(
        &url,
        &raw("elsewhere"),
        r#"{"k":"v"}"#,
        &[("keystack-managed", "true"), ("keystack-namespace", "nope")],
    );
    let upper = super::python::set_raw(&url, &raw("upper").to_uppercase(), "{}", &[]);
    assert_eq!(m.list_secret_names().await.unwrap(), [name("mine")]);
    for foreign in ["unmarked", "elsewhere", "upper"] {
        foreign_secret_is_refused(&m, foreign).await;
    }
    assert_eq!(m.delete_all_secrets().await.unwrap(), 1);
    for id in [&unmarked, &elsewhere, &upper] {
        assert!(super::python::exists(&url, id), "{id} was touched");
    }
    assert_eq!(value(&neighbour, "shared-name").await, "theirs");

    // A deleted secret Keystack did not create is neither recovered nor purged.
    super::python::delete(&url, &raw("gone"), &raw("gone"));
    let err = m.register_secret(&secret("gone", "x")).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("deleted secret that Keystack did not create"),
        "{err}"
    );
}

#[tokio::test]
async fn a_disabled_secret_is_reported_as_disabled_and_its_name_stays_taken() {
    let Some(url) = vault_url() else { return };
    let ns = fresh();
    let m = manager(&url, Some(&ns));
    m.register_secret(&secret("paused", "v")).await.unwrap();
    let id = format!("keystack{}-{ns}-paused", ns.len());
    super::python::set_enabled(&url, &id, false);
    let err = m.get_secret(&name("paused")).await.unwrap_err();
    assert!(matches!(err, Error::PermissionDenied { .. }), "{err:?}");
    assert!(err.to_string().contains("is disabled"), "{err}");
    let err = m.register_secret(&secret("paused", "x")).await.unwrap_err();
    assert!(matches!(err, Error::AlreadyExists { .. }), "{err:?}");
    super::python::set_enabled(&url, &id, true);
    assert_eq!(value(&m, "paused").await, "v");
}

#[tokio::test]
async fn a_reader_role_is_refused_writes_with_the_role_it_needs() {
    let Some(url) = vault_url() else { return };
    let ns = fresh();
    manager(&url, Some(&ns))
        .register_secret(&secret("readable", "v"))
        .await
        .unwrap();
    let reader = builder(&url, Some(&ns))
        .with_client_secret(
            var("AZURE_TENANT_ID"),
            var("KEYSTACK_TEST_AZURE_READER_ID"),
            var("KEYSTACK_TEST_AZURE_READER_SECRET"),
        )
        .build()
        .unwrap();
    assert_eq!(value(&reader, "readable").await, "v");
    let err = reader
        .register_secret(&secret("new", "v"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::PermissionDenied { .. }), "{err:?}");
    assert!(
        err.to_string().contains("Key Vault Secrets Officer"),
        "{err}"
    );
}

#[tokio::test]
async fn a_wrong_client_secret_is_unauthenticated_and_never_shown() {
    let Some(url) = vault_url() else { return };
    const WRONG: &str = "wrong-secret-5d1c0a";
    let m = builder(&url, None)
        .with_client_secret(var("AZURE_TENANT_ID"), var("AZURE_CLIENT_ID"), WRONG)
        .build()
        .unwrap();
    let err = m.get_secret(&name("any")).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Unauthenticated { .. } | Error::PermissionDenied { .. }
        ),
        "{err:?}"
    );
    for shown in [format!("{err}"), format!("{err:?}"), format!("{m:?}")] {
        assert!(!shown.contains(WRONG), "{shown}");
    }
}

#[tokio::test]
async fn throttling_and_server_errors_are_retried_then_reported_as_unavailable() {
    if vault_url().is_none() {
        return;
    }
    let port = free_port();
    let _server = start_server(port, &[]);
    let url = format!("https://127.0.0.1:{port}");
    let m = builder(&url, None).with_max_attempts(3).build().unwrap();
    m.register_secret(&secret("flaky", "v")).await.unwrap();
    super::python::faults(port, 429, 2);
    assert_eq!(
        value(&m, "flaky").await,
        "v",
        "two failures, third attempt wins"
    );
    super::python::faults(port, 503, 3);
    let err = m.get_secret(&name("flaky")).await.unwrap_err();
    assert!(matches!(err, Error::Unavailable { .. }), "{err:?}");
    assert!(err.to_string().contains("503"), "{err}");
    assert_eq!(
        value(&m, "flaky").await,
        "v",
        "exactly three attempts were used"
    );
}

#[tokio::test]
async fn an_untrusted_certificate_is_refused_with_a_hint() {
    let Some(url) = vault_url() else { return };
    let m = AzureBuilder::new()
        .with_vault_url(&url)
        .with_verify_challenge_resource(false)
        .with_max_attempts(1)
        .build()
        .unwrap();
    let started = Instant::now();
    let err = m.get_secret(&name("any")).await.unwrap_err();
    assert!(err.to_string().contains("certificate"), "{err}");
    assert!(err.to_string().contains("ca_file"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn configuration_mistakes_are_explained() {
    let cases: Vec<(AzureBuilder, &str)> = vec![
        (AzureBuilder::new(), "set key_vault_name"),
        (
            AzureBuilder::new()
                .with_key_vault_name("kv-one")
                .with_vault_url("https://kv-one.vault.azure.net"),
            "not both",
        ),
        (
            AzureBuilder::new().with_key_vault_name("1bad"),
            "is not a vault name",
        ),
        (
            AzureBuilder::new().with_key_vault_name("a--b-c"),
            "no \"--\"",
        ),
        (
            AzureBuilder::new().with_vault_url("http://kv.vault.azure.net"),
            "https://",
        ),
        (
            AzureBuilder::new().with_vault_url("https://kv.vault.azure.net/secrets/x"),
            "nothing after the host",
        ),
        (
            AzureBuilder::new()
                .with_key_vault_name("kv-one")
                .with_namespace("Prod"),
            "lowercase",
        ),
        (
            AzureBuilder::new()
                .with_key_vault_name("kv-one")
                .with_page_size(26),
            "between 1 and 25",
        ),
        (
            AzureBuilder::new()
                .with_key_vault_name("kv-one")
                .with_max_attempts(0),
            "at least 1",
        ),
    ];
    for (builder, expected) in cases {
        let err = builder.build().unwrap_err();
        assert!(matches!(err, Error::InvalidConfig { .. }), "{err:?}");
        assert!(
            err.to_string().contains(expected),
            "{err} lacks {expected:?}"
        );
    }
    let m = AzureBuilder::new()
        .with_key_vault_name("ml-vault")
        .build()
        .unwrap();
    assert_eq!(m.config().vault_url(), "https://ml-vault.vault.azure.net");
    assert!(
        "colour"
            .parse::<keystack_secrets_azure::AzureConfigKey>()
            .is_err()
    );
}

#[tokio::test]
async fn a_missing_ca_file_is_a_configuration_error() {
    let m = AzureBuilder::new()
        .with_key_vault_name("ml-vault")
        .with_ca_file("/nonexistent/ca.pem")
        .build()
        .unwrap();
    let err = m.get_secret(&name("any")).await.unwrap_err();
    assert!(matches!(err, Error::InvalidConfig { .. }), "{err:?}");
    assert!(err.to_string().contains("/nonexistent/ca.pem"), "{err}");
}
