//! Vault-specific behaviour: layout, check-and-set, prefix isolation and
//! foreign entries, authentication, configuration.

use std::collections::HashMap;
use std::sync::Arc;

use keystack_secrets_core::{
    Error, Secret, SecretKey, SecretName, SecretPatch, SecretSchema, SecretsManager,
};
use keystack_secrets_vault::{VaultBuilder, VaultConfigKey, VaultSecretsManager};
use vaultrs::client::{VaultClient, VaultClientSettingsBuilder};

use super::{fresh_namespace, manager, server};

fn name(s: &str) -> SecretName {
    SecretName::new(s).unwrap()
}

fn secret(n: &str, pairs: &[(&str, &str)]) -> Secret {
    Secret::arbitrary(name(n), pairs.iter().copied()).unwrap()
}

/// A plain client with the root token, to look behind Keystack's back.
fn raw(addr: &str, token: &str) -> VaultClient {
    VaultClient::new(
        VaultClientSettingsBuilder::default()
            .address(addr)
            .token(token)
            .build()
            .unwrap(),
    )
    .unwrap()
}

async fn raw_write(client: &VaultClient, path: &str, custom: Option<HashMap<String, String>>) {
    vaultrs::kv2::set(client, "secret", path, &HashMap::from([("k", "foreign")]))
        .await
        .unwrap();
    if let Some(custom) = custom {
        let mut options = vaultrs::api::kv2::requests::SetSecretMetadataRequest::builder();
        options.custom_metadata(custom);
        vaultrs::kv2::set_metadata(client, "secret", path, Some(&mut options))
            .await
            .unwrap();
    }
}

async fn raw_exists(client: &VaultClient, path: &str) -> bool {
    vaultrs::kv2::read_metadata(client, "secret", path)
        .await
        .is_ok()
}

fn marked(namespace: &str) -> HashMap<String, String> {
    HashMap::from([
        ("keystack-managed".to_owned(), "true".to_owned()),
        ("keystack-namespace".to_owned(), namespace.to_owned()),
        ("keystack-schema".to_owned(), "arbitrary".to_owned()),
    ])
}

#[tokio::test]
async fn entries_hold_the_values_as_data_and_the_mark_as_custom_metadata() {
    let Some((addr, token)) = server() else {
        return;
    };
    let ns = fresh_namespace();
    let m = manager(&addr, &token, &ns);
    let s = Secret::new(
        name("db"),
        SecretSchema::BasicAuth,
        [
            (SecretKey::new("username").unwrap(), "admin".into()),
            (SecretKey::new("password").unwrap(), "pa ss".into()),
        ]
        .into(),
    )
    .unwrap();
    assert!(
        m.info().capabilities.atomic_update,
        "check-and-set makes updates atomic"
    );
    m.register_secret(&s).await.unwrap();
    let client = raw(&addr, &token);
    let path = format!("keystack/{ns}/db");
    let data: HashMap<String, String> = vaultrs::kv2::read(&client, "secret", &path).await.unwrap();
    assert_eq!(
        data,
        HashMap::from([
            ("username".to_owned(), "admin".to_owned()),
            ("password".to_owned(), "pa ss".to_owned())
        ])
    );
    let meta = vaultrs::kv2::read_metadata(&client, "secret", &path)
        .await
        .unwrap();
    let custom = meta.custom_metadata.unwrap();
    assert_eq!(custom["keystack-managed"], "true");
    assert_eq!(custom["keystack-namespace"], ns);
    assert_eq!(custom["keystack-schema"], "basic_auth");
    assert_eq!(meta.current_version, 1);

    m.update_secret(
        &name("db"),
        &SecretPatch::new().set(SecretKey::new("password").unwrap(), "new"),
    )
    .await
    .unwrap();
    let meta = vaultrs::kv2::read_metadata(&client, "secret", &path)
        .await
        .unwrap();
    assert_eq!(meta.current_version, 2, "an update writes a new version");
    assert_eq!(
        m.get_secret(&name("db")).await.unwrap().schema(),
        SecretSchema::BasicAuth
    );

    m.delete_secret(&name("db")).await.unwrap();
    assert!(
        !raw_exists(&client, &path).await,
        "delete removes the metadata and every version"
    );
}

#[tokio::test]
async fn concurrent_updates_are_serialized_by_check_and_set() {
    let Some((addr, token)) = server() else {
        return;
    };
    let ns = fresh_namespace();
    let m = Arc::new(manager(&addr, &token, &ns));
    m.register_secret(&secret("shared", &[("k0", "v")]))
        .await
        .unwrap();
    let tasks: Vec<_> = (1..=12)
        .map(|i| {
            let m = m.clone();
            tokio::spawn(async move {
                m.update_secret(
                    &name("shared"),
                    &SecretPatch::new().set(SecretKey::new(format!("k{i}")).unwrap(), "v"),
                )
                .await
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let stored = m.get_secret(&name("shared")).await.unwrap();
    assert_eq!(
        stored.keys().count(),
        13,
        "every concurrent update was kept"
    );
    let meta = vaultrs::kv2::read_metadata(
        &raw(&addr, &token),
        "secret",
        &format!("keystack/{ns}/shared"),
    )
    .await
    .unwrap();
    assert_eq!(meta.current_version, 13, "one version per successful write");
}

#[tokio::test]
async fn foreign_and_other_namespace_entries_are_never_touched() {
    let Some((addr, token)) = server() else {
        return;
    };
    let ns = fresh_namespace();
    let other_ns = fresh_namespace();
    let client = raw(&addr, &token);
    let m = manager(&addr, &token, &ns);
    let neighbour = manager(&addr, &token, &other_ns);
    m.register_secret(&secret("a", &[("k", "1")]))
        .await
        .unwrap();
    m.register_secret(&secret("b", &[("k", "2")]))
        .await
        .unwrap();
    neighbour
        .register_secret(&secret("a", &[("k", "theirs")]))
        .await
        .unwrap();
    let foreign = [
        // In our folder, no mark.
        (format!("keystack/{ns}/unmarked"), None),
        // In our folder, marked for another namespace.
        (format!("keystack/{ns}/elsewhere"), Some(marked(&other_ns))),
        // A sub-folder of ours, even marked as ours.
        (format!("keystack/{ns}/sub/deep"), Some(marked(&ns))),
        // Outside the prefix.
        (format!("other/{ns}/c"), Some(marked(&ns))),
    ];
    for (path, custom) in &foreign {
        raw_write(&client, path, custom.clone()).await;
    }

    assert_eq!(m.list_secret_names().await.unwrap(), [name("a"), name("b")]);
    assert_eq!(
        m.get_secret(&name("a"))
            .await
            .unwrap()
            .get("k")
            .unwrap()
            .expose(),
        "1"
    );

    for foreign in ["unmarked", "elsewhere"] {
        keystack_secrets_core::conformance::foreign_secret_is_refused(&m, foreign).await;
    }
    let refused = m.get_secret(&name("unmarked")).await.unwrap_err();
    assert!(
        refused
            .to_string()
            .contains(&format!("secret/keystack/{ns}/unmarked")),
        "{refused}"
    );

    assert_eq!(m.delete_all_secrets().await.unwrap(), 2);
    assert!(m.list_secret_names().await.unwrap().is_empty());
    for (path, _) in &foreign {
        assert!(raw_exists(&client, path).await, "{path} was deleted");
    }
    let data: HashMap<String, String> =
        vaultrs::kv2::read(&client, "secret", &format!("keystack/{ns}/unmarked"))
            .await
            .unwrap();
    assert_eq!(
        data["k"], "foreign",
        "the foreign entry's data is unchanged"
    );
    assert_eq!(neighbour.list_secret_names().await.unwrap(), [name("a")]);
    assert_eq!(
        neighbour
            .get_secret(&name("a"))
            .await
            .unwrap()
            .get("k")
            .unwrap()
            .expose(),
        "theirs"
    );
}

#[tokio::test]
async fn a_custom_mount_and_prefix_are_used() {
    let Some((addr, token)) = server() else {
        return;
    };
    let client = raw(&addr, &token);
    let mount = format!("kv-{}", fresh_namespace());
    let mut options = vaultrs::api::sys::requests::EnableEngineRequest::builder();
    options.options(HashMap::from([("version".to_owned(), "2".to_owned())]));
    vaultrs::sys::mount::enable(&client, &mount, "kv", Some(&mut options))
        .await
        .unwrap();
    let m = VaultBuilder::new()
        .with_url(&addr)
        .with_token(&token)
        .with_mount_point(&mount)
        .with_path_prefix("teams/ml")
        .build()
        .unwrap();
    m.register_secret(&secret("s", &[("k", "v")]))
        .await
        .unwrap();
    assert!(
        vaultrs::kv2::read_metadata(&client, &mount, "teams/ml/s")
            .await
            .is_ok()
    );
    assert_eq!(m.list_secret_names().await.unwrap(), [name("s")]);
    assert_eq!(m.delete_all_secrets().await.unwrap(), 1);
}

#[tokio::test]
async fn a_bad_token_is_refused_without_showing_it() {
    let Some((addr, _)) = server() else { return };
    let token = "hvs.not-a-real-token-4f8e2a";
    let m = manager(&addr, token, &fresh_namespace());
    let err = m.get_secret(&name("x")).await.unwrap_err();
    assert!(matches!(err, Error::PermissionDenied { .. }), "{err:?}");
    let text = format!("{err} {err:?}");
    assert!(!text.contains(token), "{text}");
    assert!(text.contains("HTTP 403") && text.contains(&addr), "{text}");
    let err = m.list_secret_names().await.unwrap_err();
    assert!(!format!("{err} {err:?}").contains(token));
}

/// The least-privilege policy of docs/backends/vault.md, as written there.
fn documented_policy() -> String {
    let doc = include_str!("../../../../docs/backends/vault.md");
    let start = doc.find("```hcl\n").expect("the doc has an hcl block") + "```hcl\n".len();
    let end = start + doc[start..].find("```").unwrap();
    doc[start..end].to_owned()
}

#[tokio::test]
async fn approle_login_with_the_documented_policy_is_enough() {
    let Some((addr, token)) = server() else {
        return;
    };
    let client = raw(&addr, &token);
    let id = fresh_namespace();
    let mount = format!("approle-{id}");
    vaultrs::sys::auth::enable(&client, &mount, "approle", None)
        .await
        .unwrap();
    vaultrs::sys::policy::set(&client, &format!("keystack-{id}"), &documented_policy())
        .await
        .unwrap();
    let mut role = vaultrs::api::auth::approle::requests::SetAppRoleRequest::builder();
    role.token_policies(vec![format!("keystack-{id}")]);
    vaultrs::auth::approle::role::set(&client, &mount, "keystack", Some(&mut role))
        .await
        .unwrap();
    let role_id = vaultrs::auth::approle::role::read_id(&client, &mount, "keystack")
        .await
        .unwrap()
        .role_id;
    let secret_id =
        vaultrs::auth::approle::role::secret::generate(&client, &mount, "keystack", None)
            .await
            .unwrap()
            .secret_id;

    let build = |ns: &str, secret_id: &str| {
        VaultBuilder::new()
            .with_url(&addr)
            .with_approle(&role_id, secret_id)
            .with_config(VaultConfigKey::ApproleMount, &mount)
            .unwrap()
            .with_namespace(ns)
            .build()
            .unwrap()
    };
    let ns = fresh_namespace();
    let m = build(&ns, &secret_id);
    m.register_secret(&secret("s", &[("k", "v")]))
        .await
        .unwrap();
    m.update_secret(
        &name("s"),
        &SecretPatch::new().set(SecretKey::new("k2").unwrap(), "v2"),
    )
    .await
    .unwrap();
    assert_eq!(m.list_secret_names().await.unwrap(), [name("s")]);
    assert_eq!(m.get_secret(&name("s")).await.unwrap().keys().count(), 2);
    assert_eq!(m.delete_all_secrets().await.unwrap(), 1);

    // The policy gives nothing outside the prefix.
    let outside = vaultrs::kv2::set(
        m_client_for_policy_check(&addr, &mount, &role_id, &secret_id)
            .await
            .as_ref(),
        "secret",
        "other/x",
        &HashMap::from([("k", "v")]),
    )
    .await;
    assert!(
        outside.is_err(),
        "the documented policy allows writes outside keystack/"
    );

    let wrong = build(&fresh_namespace(), "00000000-0000-0000-0000-000000000000");
    let err = wrong.get_secret(&name("s")).await.unwrap_err();
    assert!(matches!(err, Error::Unauthenticated { .. }), "{err:?}");
    assert!(!format!("{err} {err:?}").contains(&secret_id));
}

/// A raw client logged in with the AppRole, to try what the policy forbids.
async fn m_client_for_policy_check(
    addr: &str,
    mount: &str,
    role_id: &str,
    secret_id: &str,
) -> Box<VaultClient> {
    let mut client = raw(addr, "");
    let auth = vaultrs::auth::approle::login(&client, mount, role_id, secret_id)
        .await
        .unwrap();
    use vaultrs::client::Client;
    client.set_token(&auth.client_token);
    Box::new(client)
}

#[test]
fn configuration_errors_say_what_to_do() {
    let err = |b: VaultBuilder| b.build().unwrap_err().to_string();
    let empty_home = tempfile_dir();
    let no_env = VaultBuilder::from_lookup(|v| (v == "HOME").then(|| empty_home.clone()));
    assert!(err(no_env.clone()).contains("set url (or VAULT_ADDR)"));
    let e = err(no_env.clone().with_url("http://127.0.0.1:8200"));
    assert!(
        e.contains("no Vault token") && e.contains("VAULT_TOKEN"),
        "{e}"
    );
    let e = err(VaultBuilder::new()
        .with_url("vault.example.com")
        .with_token("t"));
    assert!(e.contains("is not a URL") || e.contains("http://"), "{e}");
    let e = err(VaultBuilder::new().with_url("ftp://h").with_token("t"));
    assert!(e.contains("http:// or https://"), "{e}");
    for bad in ["a/../b", "/abs", "a//b", "sp ace", ""] {
        let e = err(VaultBuilder::new()
            .with_url("http://h")
            .with_token("t")
            .with_path_prefix(bad));
        assert!(e.contains("path_prefix"), "{bad:?}: {e}");
    }
    let e = err(VaultBuilder::new()
        .with_url("http://h")
        .with_token("t")
        .with_namespace("a/b"));
    assert!(e.contains("namespace"), "{e}");
    let e = VaultBuilder::new()
        .with_config(VaultConfigKey::AuthMethod, "kerberos")
        .unwrap_err()
        .to_string();
    assert!(e.contains("token or approle"), "{e}");
    let e = err(VaultBuilder::new()
        .with_url("http://h")
        .with_config(VaultConfigKey::AuthMethod, "approle")
        .unwrap());
    assert!(e.contains("role_id"), "{e}");
    let e = "tokenn".parse::<VaultConfigKey>().unwrap_err().to_string();
    assert!(
        e.contains("unknown setting") && e.contains("token_file"),
        "{e}"
    );
    let e = err(VaultBuilder::new()
        .with_url("http://h")
        .with_config(VaultConfigKey::TokenFile, "/nonexistent/token")
        .unwrap());
    assert!(
        e.contains("cannot read token_file /nonexistent/token"),
        "{e}"
    );
}

fn tempfile_dir() -> String {
    let dir = std::env::temp_dir().join(format!("keystack-vault-test-{}", fresh_namespace()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.display().to_string()
}

#[test]
fn the_environment_is_read_vault_first_then_bao() {
    let env = |pairs: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    };
    let m = VaultBuilder::from_lookup(env(&[
        ("BAO_ADDR", "http://bao:8200"),
        ("BAO_TOKEN", "bao-token"),
        ("VAULT_ADDR", "http://vault:8200"),
    ]))
    .build()
    .unwrap();
    assert_eq!(m.config().url.as_deref(), Some("http://vault:8200"));
    let m = VaultBuilder::from_lookup(env(&[
        ("BAO_ADDR", "http://bao:8200"),
        ("BAO_TOKEN", "bao-token"),
        ("BAO_NAMESPACE", "team-a"),
    ]))
    .build()
    .unwrap();
    assert_eq!(m.config().url.as_deref(), Some("http://bao:8200"));
    assert_eq!(m.config().vault_namespace.as_deref(), Some("team-a"));
}

#[test]
fn credentials_never_show_in_debug() {
    let dir = tempfile_dir();
    let file = std::path::Path::new(&dir).join("token");
    std::fs::write(&file, "s.file-token-value\n").unwrap();
    let from_file = VaultBuilder::new()
        .with_url("http://h")
        .with_config(VaultConfigKey::TokenFile, file.to_str().unwrap())
        .unwrap();
    let shown = format!("{from_file:?} {:?}", from_file.clone().build().unwrap());
    assert!(!shown.contains("file-token-value"), "{shown}");
    let b = VaultBuilder::new()
        .with_url("http://h")
        .with_token("s.given-token-value");
    let m: VaultSecretsManager = b.clone().build().unwrap();
    let shown = format!("{b:?} {m:?} {:?}", m.config());
    assert!(!shown.contains("given-token-value"), "{shown}");
    let b = VaultBuilder::new()
        .with_url("http://h")
        .with_approle("role", "secret-id-value");
    let shown = format!("{b:?} {:?}", b.clone().build().unwrap());
    assert!(!shown.contains("secret-id-value"), "{shown}");
}

/// A server that answers every request with `status` and Vault's error body,
/// counting the requests; no OpenBao needed.
fn canned_server(status: &'static str) -> (String, Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let count = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let body = r#"{"errors":["Vault is sealed"]}"#;
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (url, count)
}

#[tokio::test]
async fn a_sealed_server_is_unavailable_after_max_attempts() {
    let (url, requests) = canned_server("503 Service Unavailable");
    let m = VaultBuilder::new()
        .with_url(&url)
        .with_token("t")
        .with_max_attempts(3)
        .build()
        .unwrap();
    let err = m.get_secret(&name("x")).await.unwrap_err();
    assert!(matches!(err, Error::Unavailable { .. }), "{err:?}");
    assert!(err.is_retryable());
    let text = err.to_string();
    assert!(text.contains("sealed") && text.contains(&url), "{text}");
    assert_eq!(
        requests.load(std::sync::atomic::Ordering::SeqCst),
        3,
        "one request per attempt"
    );
}
