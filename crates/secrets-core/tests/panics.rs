//! Panics carry what `Debug` and `Display` print: a panic over a secret, a
//! value, a patch, a manager or an error (an `unwrap`, an `expect`, an
//! assertion) never shows a value.

use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Mutex};

use keystack_secrets_core::memory::InMemorySecretsManager;
use keystack_secrets_core::{
    Error, Secret, SecretName, SecretPatch, SecretValue, SecretsManager, SecretsManagerExt,
};

const MARKER: &str = "PANIC-MARKER-b71d0e";

#[test]
fn panics_never_show_values() {
    let messages = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = messages.clone();
    panic::set_hook(Box::new(move |info| {
        sink.lock().unwrap().push(info.to_string());
    }));

    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let name = SecretName::new("db").unwrap();
    let secret = Secret::arbitrary(name.clone(), [("password", MARKER)]).unwrap();
    let manager = InMemorySecretsManager::new();
    runtime.block_on(manager.register_secret(&secret)).unwrap();
    let patch = SecretPatch::new().set("password".parse().unwrap(), MARKER);

    let provoked: Vec<Box<dyn Fn()>> = vec![
        Box::new(|| panic!("secret: {secret:?}")),
        Box::new(|| {
            panic!(
                "value: {:?} / {}",
                SecretValue::new(MARKER),
                SecretValue::new(MARKER)
            )
        }),
        Box::new(|| panic!("patch: {patch:?}")),
        Box::new(|| panic!("manager: {manager:?}")),
        // An unwrap of a result that holds a secret, as code does by accident.
        Box::new(|| {
            let held: Result<(), Secret> = std::hint::black_box(Err(secret.clone()));
            held.unwrap();
        }),
        Box::new(|| {
            let held: Result<Secret, ()> = std::hint::black_box(Ok(secret.clone()));
            held.unwrap_err();
        }),
        Box::new(|| {
            assert_eq!(
                secret,
                Secret::arbitrary(name.clone(), [("password", "other")]).unwrap()
            )
        }),
        Box::new(|| {
            runtime
                .block_on(manager.register_secret(&secret))
                .expect("register twice");
        }),
        Box::new(|| {
            let err: Error = runtime
                .block_on(manager.get_secret_value(&name, &"nokey".parse().unwrap()))
                .unwrap_err();
            panic!("{err} / {err:?}");
        }),
    ];
    for provoke in &provoked {
        assert!(panic::catch_unwind(AssertUnwindSafe(provoke)).is_err());
    }
    let _ = panic::take_hook();
    let messages = messages.lock().unwrap();
    assert_eq!(messages.len(), provoked.len());
    for message in messages.iter() {
        assert!(
            !message.contains(MARKER),
            "a panic showed the value: {message}"
        );
    }
    assert!(
        messages[0].contains("db"),
        "the panic still says which secret: {}",
        messages[0]
    );
}
