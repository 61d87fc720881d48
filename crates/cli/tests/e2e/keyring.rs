//! The local store's key in the OS keyring (`key_source: keyring`), against
//! a real Secret Service: gnome-keyring on a private D-Bus session bus,
//! which `cargo xtask test` installs, starts and names in
//! KEYSTACK_TEST_SECRET_SERVICE.

use std::process::Command;

use super::{Sandbox, emulator_var};

const ENV: &str = "KEYSTACK_TEST_SECRET_SERVICE";

/// A local secrets manager `kr` keeping its key in the keyring, in the active stack.
fn keyring_stack(s: &Sandbox) {
    s.local_manager_stack("kr", &["--key_source=keyring"], "krs");
    s.run(&["stack", "set", "krs"]).ok();
}

/// `secret-tool ACTION service keystack username ACCOUNT` on the test bus.
fn secret_tool(bus: &str, action: &str, account: &str, stdin: Option<&str>) -> String {
    use std::io::Write;
    let mut child = Command::new("secret-tool")
        .args([action])
        .args(if action == "store" {
            &["--label=keystack test"][..]
        } else {
            &[]
        })
        .args(["service", "keystack", "username", account])
        .env("DBUS_SESSION_BUS_ADDRESS", bus)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    let out = child.wait_with_output().unwrap();
    // `lookup` of a missing entry fails, printing nothing.
    assert!(
        out.status.success() || action == "lookup",
        "secret-tool {action} failed"
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_store_key_lives_in_the_os_keyring_and_nowhere_on_disk() {
    let Some(bus) = emulator_var(ENV, "the OS keyring tests") else {
        return;
    };
    let s = Sandbox::new();
    keyring_stack(&s);
    let on_bus = [("DBUS_SESSION_BUS_ADDRESS", bus.as_str())];
    let store = s.store_of(&s.path().join(".keystack"), "kr");
    s.run_stdin_env(
        &[
            "secrets-manager",
            "secret",
            "register",
            "db",
            "--password=@-",
        ],
        b"kept-in-the-keyring-value",
        &on_bus,
    )
    .ok();
    // The secret reads back with `vars` set.
    let reads_back = |vars: &[(&str, &str)]| {
        s.run_env(
            &[
                "secrets-manager",
                "secret",
                "get",
                "db",
                "--key",
                "password",
            ],
            vars,
        )
        .ok()
        .out_has("kept-in-the-keyring-value");
    };
    assert!(store.join("secrets.db").is_file());
    assert!(
        !store.join("secrets.key").exists(),
        "no key file beside the store"
    );
    reads_back(&on_bus);

    // The entry is the store's key: KEYSTACK_LOCAL_KEY opens the store with it.
    let account = store.display().to_string();
    let key = secret_tool(&bus, "lookup", &account, None);
    assert_eq!(key.trim().len(), 44, "a base64 key");
    reads_back(&[("KEYSTACK_LOCAL_KEY", key.trim())]);

    // A copy of the folder alone (a backup) does not open: there is no key in it.
    let copy = s.path().join("backup");
    std::fs::create_dir(&copy).unwrap();
    std::fs::set_permissions(&copy, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    std::fs::copy(store.join("secrets.db"), copy.join("secrets.db")).unwrap();
    s.run_env(
        &["secrets-manager", "secret", "list"],
        &[
            ("KEYSTACK_LOCAL_PATH", copy.to_str().unwrap()),
            ("DBUS_SESSION_BUS_ADDRESS", bus.as_str()),
        ],
    )
    .fails(6)
    .err_has("holds no key for it");

    // No Secret Service: a clear error, nothing changed.
    let before = s.snapshot();
    s.run_env(
        &["secrets-manager", "secret", "list"],
        &[("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")],
    )
    .fails(6)
    .err_has("could not use the OS keyring's entry (service 'keystack'")
    .err_has("is a Secret Service");
    s.assert_unchanged(&before);

    // The entry gone: refused, and never a new key for an existing store.
    secret_tool(&bus, "clear", &account, None);
    s.run_env(&["secrets-manager", "secret", "list"], &on_bus)
        .fails(6)
        .err_has("holds no key for it")
        .err_has("a new key is never made for an existing store");
    s.assert_unchanged(&before);
    assert_eq!(
        secret_tool(&bus, "lookup", &account, None).trim(),
        "",
        "none made"
    );
    // Put back, it opens the store again.
    secret_tool(&bus, "store", &account, Some(key.trim()));
    reads_back(&on_bus);
}

#[test]
fn key_source_settings_are_checked() {
    let s = Sandbox::new();
    s.local_manager_stack("e", &["--key_source=env"], "es");
    s.run_env(
        &["secrets-manager", "secret", "list"],
        &[("KEYSTACK_STACK", "es")],
    )
    .fails(2)
    .err_has("key_source is env, but KEYSTACK_LOCAL_KEY is not set");
    let key = "MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=";
    s.run_env(
        &["secrets-manager", "secret", "register", "a", "--k=v"],
        &[("KEYSTACK_STACK", "es"), ("KEYSTACK_LOCAL_KEY", key)],
    )
    .ok();
    let store = s.store_of(&s.path().join(".keystack"), "e");
    assert!(
        !store.join("secrets.key").exists(),
        "nothing of the key on disk"
    );

    // Refused when registered, before anything is saved.
    s.run(&[
        "secrets-manager",
        "register",
        "bad",
        "--flavor=local",
        "--key_source=vault",
    ])
    .fails(2)
    .err_has("key_source \"vault\" is not one of file, env, keyring");
}
