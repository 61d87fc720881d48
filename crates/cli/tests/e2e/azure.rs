//! The binary against Keystack's Key Vault test server (started by `cargo
//! xtask test`, which also sets the AZURE_* variables of its test service
//! principal); skipped, with one line, without one.

use crate::{Sandbox, emulator_var};

#[test]
fn a_stack_on_azure_key_vault_validates_and_runs() {
    let what = "the keystack-on-Key-Vault test";
    let Some((url, ca)) = emulator_var("KEYSTACK_TEST_AZURE_VAULT_URL", what)
        .zip(emulator_var("KEYSTACK_TEST_AZURE_CA", what))
    else {
        return;
    };
    let s = Sandbox::new();
    let namespace = format!("e2e{}", std::process::id());
    s.remote_stack_validates_and_runs(
        &[
            "--flavor=azure",
            &format!("--vault_url={url}"),
            &format!("--ca_file={ca}"),
            "--verify_challenge_resource=false",
            &format!("--namespace={namespace}"),
        ],
        &[],
        "azure-e2e-pass",
    );

    // A rejected client secret: a clear error that never shows it.
    let wrong = s.run_env(
        &["stack", "validate"],
        &[("AZURE_CLIENT_SECRET", "not-it-93c1")],
    );
    assert_ne!(wrong.code, 0);
    assert!(
        wrong.stderr.contains("could not authenticate"),
        "{}",
        wrong.stderr
    );
    assert!(!wrong.stderr.contains("not-it-93c1") && !wrong.stdout.contains("not-it-93c1"));

    s.run(&["secrets-manager", "secret", "delete-all", "-y"])
        .ok()
        .err_has("Deleted 1 secret(s)");
}
