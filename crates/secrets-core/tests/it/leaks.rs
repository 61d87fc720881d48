//! No secret value appears in the `Debug` or `Display` of any public type, nor
//! in any error message or error source.

use std::collections::BTreeMap;

use keystack_secrets_core::memory::InMemorySecretsManager;
use keystack_secrets_core::{
    Error, ReferenceError, SchemaError, Secret, SecretKey, SecretName, SecretPatch,
    SecretReference, SecretSchema, SecretValue, SecretsManager, SecretsManagerExt, Template,
};

const CANARY: &str = "CANARY-VALUE-5e1d";

fn key(s: &str) -> SecretKey {
    SecretKey::new(s).unwrap()
}

fn name(s: &str) -> SecretName {
    SecretName::new(s).unwrap()
}

/// Display, Debug and alternate Debug of a value, plus the whole source chain
/// of an error.
fn everything_shown(err: &dyn std::error::Error) -> String {
    let mut text = format!("{err} {err:?} {err:#?}");
    let mut source = err.source();
    while let Some(inner) = source {
        text.push_str(&format!(" {inner} {inner:?}"));
        source = inner.source();
    }
    text
}

fn assert_clean(what: &str, text: &str) {
    assert!(
        !text.contains(CANARY),
        "{what} shows a secret value: {text}"
    );
}

#[tokio::test]
async fn public_types_never_show_values() {
    let value = SecretValue::new(CANARY);
    assert_clean("SecretValue", &format!("{value} {value:?} {value:#?}"));

    let secret = Secret::arbitrary(name("db"), [("password", CANARY), ("user", CANARY)]).unwrap();
    assert_clean("Secret", &format!("{secret:?} {secret:#?}"));
    assert_clean("Secret::values", &format!("{:?}", secret.values()));
    let (n, schema, values) = secret.clone().into_parts();
    assert_clean("Secret parts", &format!("{n:?} {schema:?} {values:?}"));

    let patch = SecretPatch::new()
        .set(key("password"), CANARY)
        .remove(key("user"));
    assert_clean("SecretPatch", &format!("{patch:?} {patch:#?}"));

    let template = Template::parse("postgres://{{db.user}}:{{db.password}}@h").unwrap();
    let rendered = template
        .render(|_| Ok::<_, Error>(SecretValue::new(CANARY)))
        .unwrap();
    assert_clean("rendered template", &format!("{rendered} {rendered:?}"));
    assert_clean("template", &format!("{template:?}"));

    let manager = InMemorySecretsManager::new();
    manager.register_secret(&secret).await.unwrap();
    assert_clean(
        "InMemorySecretsManager",
        &format!("{manager:?} {:?}", manager.info()),
    );
    let fetched = manager
        .get_secret_value(&name("db"), &key("password"))
        .await
        .unwrap();
    assert_clean("fetched value", &format!("{fetched:?} {fetched}"));
}

#[tokio::test]
async fn errors_never_show_values() {
    let secret = Secret::arbitrary(name("db"), [("password", CANARY)]).unwrap();
    let manager = InMemorySecretsManager::new();
    manager.register_secret(&secret).await.unwrap();

    let mut errors: Vec<Error> = vec![
        manager.register_secret(&secret).await.unwrap_err(),
        manager
            .update_secret(
                &name("db"),
                &SecretPatch::new().set(key("x"), CANARY).remove(key("nope")),
            )
            .await
            .unwrap_err(),
        manager
            .update_secret(&name("db"), &SecretPatch::new().remove(key("password")))
            .await
            .unwrap_err(),
        manager
            .get_secret_value(&name("db"), &key("user"))
            .await
            .unwrap_err(),
        manager.get_secret(&name("missing")).await.unwrap_err(),
    ];

    // Schema violations built from values.
    let values: BTreeMap<SecretKey, SecretValue> = [
        (key("username"), SecretValue::new(CANARY)),
        (key("token"), SecretValue::new(CANARY)),
    ]
    .into_iter()
    .collect();
    let schema_err: SchemaError =
        Secret::new(name("basic"), SecretSchema::BasicAuth, values).unwrap_err();
    errors.push(Error::InvalidSecret {
        name: name("basic"),
        problem: schema_err,
    });

    // References written next to a plain value, and malformed ones.
    for input in [
        format!("{CANARY} {{{{unclosed"),
        format!("{{{{{CANARY} x.k}}}}"),
        format!("{{{{db.{CANARY} x}}}}"),
        format!("prefix-{CANARY}-{{{{db.}}}}"),
    ] {
        let err: ReferenceError = Template::parse(&input).unwrap_err();
        errors.push(err.into());
    }
    let err = format!("x{CANARY}{{{{db.k}}}}")
        .parse::<SecretReference>()
        .unwrap_err();
    errors.push(err.into());

    for err in &errors {
        assert_clean("error", &everything_shown(err));
    }
}
