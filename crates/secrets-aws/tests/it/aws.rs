//! What is specific to AWS: layout, tags, pagination, namespaces, foreign
//! secrets, deletion windows, errors.

use std::collections::BTreeMap;

use aws_sdk_secretsmanager::types::Tag;
use keystack_secrets_aws::{AwsBuilder, MANAGED_TAG, NAMESPACE_TAG, SCHEMA_TAG};
use keystack_secrets_core::{Error, Secret, SecretName, SecretSchema, SecretValue, SecretsManager};

use super::{builder, endpoint, fresh_namespace, manager, raw_client};

fn name(s: &str) -> SecretName {
    SecretName::new(s).unwrap()
}

fn secret(n: &str, pairs: &[(&str, &str)]) -> Secret {
    Secret::arbitrary(name(n), pairs.iter().copied()).unwrap()
}

/// Every secret name in the emulator's account.
async fn all_aws_names(client: &aws_sdk_secretsmanager::Client) -> Vec<String> {
    let mut names = Vec::new();
    let mut token = None;
    loop {
        let page = client
            .list_secrets()
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        names.extend(
            page.secret_list()
                .iter()
                .filter_map(|s| s.name().map(str::to_owned)),
        );
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_owned()),
            _ => return names,
        }
    }
}

#[tokio::test]
async fn layout_is_one_json_secret_with_tags() {
    let Some(endpoint) = endpoint() else { return };
    let ns = fresh_namespace();
    let m = manager(&endpoint, &ns);
    let values = [("username", "admin"), ("password", "abc123")]
        .into_iter()
        .map(|(k, v)| (k.parse().unwrap(), SecretValue::from(v)))
        .collect();
    m.register_secret(&Secret::new(name("db"), SecretSchema::BasicAuth, values).unwrap())
        .await
        .unwrap();

    let raw = raw_client(&endpoint);
    let aws_name = format!("keystack/{ns}/db");
    let value = raw
        .get_secret_value()
        .secret_id(&aws_name)
        .send()
        .await
        .unwrap();
    let json: BTreeMap<String, String> =
        serde_json::from_str(value.secret_string().unwrap()).unwrap();
    assert_eq!(
        json,
        BTreeMap::from([
            ("password".into(), "abc123".into()),
            ("username".into(), "admin".into())
        ])
    );
    let described = raw
        .describe_secret()
        .secret_id(&aws_name)
        .send()
        .await
        .unwrap();
    let tags: BTreeMap<&str, &str> = described
        .tags()
        .iter()
        .map(|t| (t.key().unwrap(), t.value().unwrap()))
        .collect();
    assert_eq!(tags[MANAGED_TAG], "true");
    assert_eq!(tags[NAMESPACE_TAG], ns);
    assert_eq!(tags[SCHEMA_TAG], "basic_auth");
    assert_eq!(
        m.get_secret(&name("db")).await.unwrap().schema(),
        SecretSchema::BasicAuth
    );
}

#[tokio::test]
async fn listing_follows_pages() {
    let Some(endpoint) = endpoint() else { return };
    let m = builder(&endpoint, &fresh_namespace())
        .with_page_size(7)
        .build()
        .unwrap();
    for i in 0..23 {
        m.register_secret(&secret(&format!("p{i:02}"), &[("k", "v")]))
            .await
            .unwrap();
    }
    let names = m.list_secret_names().await.unwrap();
    assert_eq!(names.len(), 23);
    assert_eq!(names.first().unwrap().as_str(), "p00");
    assert_eq!(names.last().unwrap().as_str(), "p22");
    assert_eq!(m.delete_all_secrets().await.unwrap(), 23);
}

#[tokio::test]
async fn namespaces_keep_managers_apart() {
    let Some(endpoint) = endpoint() else { return };
    let (a, b) = (
        manager(&endpoint, &fresh_namespace()),
        manager(&endpoint, &fresh_namespace()),
    );
    a.register_secret(&secret("db", &[("password", "from-a")]))
        .await
        .unwrap();
    b.register_secret(&secret("db", &[("password", "from-b")]))
        .await
        .unwrap();
    b.register_secret(&secret("only-b", &[("k", "v")]))
        .await
        .unwrap();
    assert_eq!(a.list_secret_names().await.unwrap(), [name("db")]);
    assert_eq!(
        a.get_secret(&name("db"))
            .await
            .unwrap()
            .get("password")
            .unwrap()
            .expose(),
        "from-a"
    );
    assert_eq!(a.delete_all_secrets().await.unwrap(), 1);
    assert_eq!(b.list_secret_names().await.unwrap().len(), 2);
    assert_eq!(
        b.get_secret(&name("db"))
            .await
            .unwrap()
            .get("password")
            .unwrap()
            .expose(),
        "from-b"
    );
}

#[tokio::test]
async fn delete_all_never_touches_foreign_secrets() {
    let Some(endpoint) = endpoint() else { return };
    let ns = fresh_namespace();
    let raw = raw_client(&endpoint);
    let tag = |k: &str, v: &str| Tag::builder().key(k).value(v).build();
    // Someone else's secret; one hiding under our prefix without our tags;
    // one with our tags but another namespace's; one of a manager without namespace.
    let foreign = [
        (format!("prod/{ns}/db-password"), vec![]),
        (format!("keystack/{ns}/untagged"), vec![]),
        (
            format!("keystack/{ns}/othertag"),
            vec![tag(MANAGED_TAG, "true"), tag(NAMESPACE_TAG, "someone-else")],
        ),
        (
            format!("keystack/{ns}x"),
            vec![tag(MANAGED_TAG, "true"), tag(NAMESPACE_TAG, "")],
        ),
    ];
    for (aws_name, tags) in &foreign {
        raw.create_secret()
            .name(aws_name)
            .secret_string(r#"{"password":"do-not-delete"}"#)
            .set_tags(Some(tags.clone()))
            .send()
            .await
            .unwrap();
    }
    let m = manager(&endpoint, &ns);
    m.register_secret(&secret("mine", &[("k", "v")]))
        .await
        .unwrap();
    assert_eq!(m.list_secret_names().await.unwrap(), [name("mine")]);
    assert_eq!(m.delete_all_secrets().await.unwrap(), 1);
    let left = all_aws_names(&raw).await;
    for (aws_name, _) in &foreign {
        assert!(left.contains(aws_name), "{aws_name} was deleted");
    }
    // Reading or deleting the untagged one through Keystack is refused too.
    let err = m.get_secret(&name("untagged")).await.unwrap_err();
    assert!(matches!(err, Error::PermissionDenied { .. }), "{err:?}");
    assert!(err.to_string().contains("not created by Keystack"), "{err}");
    assert!(m.delete_secret(&name("untagged")).await.is_err());
    assert!(
        all_aws_names(&raw)
            .await
            .contains(&format!("keystack/{ns}/untagged"))
    );
}

#[tokio::test]
async fn a_recovery_window_is_reported_clearly() {
    let Some(endpoint) = endpoint() else { return };
    let m = builder(&endpoint, &fresh_namespace())
        .with_config("recovery_window_days".parse().unwrap(), "7")
        .unwrap()
        .build()
        .unwrap();
    m.register_secret(&secret("db", &[("k", "v")]))
        .await
        .unwrap();
    m.delete_secret(&name("db")).await.unwrap();
    assert!(m.list_secret_names().await.unwrap().is_empty());
    for err in [
        m.get_secret(&name("db")).await.unwrap_err(),
        m.register_secret(&secret("db", &[("k", "v")]))
            .await
            .unwrap_err(),
    ] {
        assert!(
            err.to_string().contains("scheduled for deletion")
                || matches!(err, Error::Backend { .. }),
            "{err:?}"
        );
        let text = format!(
            "{err} {}",
            std::error::Error::source(&err)
                .map(|s| s.to_string())
                .unwrap_or_default()
        );
        assert!(text.contains("scheduled for deletion"), "{text}");
        assert!(!matches!(err, Error::Corrupt { .. }));
    }
}

#[tokio::test]
async fn unreachable_endpoint_is_unavailable_and_named() {
    // Needs no emulator: nothing listens on port 1.
    let m = AwsBuilder::new()
        .with_region("eu-west-1")
        .with_endpoint_url("http://127.0.0.1:1")
        .with_max_attempts(1)
        .with_credentials(super::credentials())
        .build()
        .unwrap();
    let err = m.list_secret_names().await.unwrap_err();
    assert!(matches!(err, Error::Unavailable { .. }), "{err:?}");
    assert!(err.is_retryable());
    assert!(err.to_string().contains("http://127.0.0.1:1"), "{err}");
}

#[test]
fn configuration_is_checked() {
    let err = AwsBuilder::new().build().unwrap_err().to_string();
    assert!(err.contains("region_name"), "{err}");
    let err = AwsBuilder::new()
        .with_region("x")
        .with_namespace("a/b")
        .build()
        .unwrap_err()
        .to_string();
    assert!(err.contains("namespace"), "{err}");
    let err = "regoin_name"
        .parse::<keystack_secrets_aws::AwsConfigKey>()
        .unwrap_err()
        .to_string();
    assert!(err.contains("known settings are region_name"), "{err}");
    let err = serde_json::from_str::<keystack_secrets_aws::AwsConfig>(
        r#"{"region_name":"x","regoin":"y"}"#,
    )
    .unwrap_err();
    assert!(err.to_string().contains("unknown field"), "{err}");
    let err = AwsBuilder::new()
        .with_region("x")
        .with_config("recovery_window_days".parse().unwrap(), "3")
        .unwrap()
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("between 7 and 30"), "{err}");
}

#[test]
fn debug_hides_credentials() {
    let m = AwsBuilder::new()
        .with_region("eu-west-1")
        .with_credentials(keystack_secrets_aws::Credentials::new(
            "AKIAVISIBLE",
            "very-secret-key",
            None,
            None,
            "t",
        ))
        .build()
        .unwrap();
    let shown = format!("{m:?}");
    assert!(
        !shown.contains("very-secret-key") && !shown.contains("AKIAVISIBLE"),
        "{shown}"
    );
}
