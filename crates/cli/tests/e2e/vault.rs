//! The binary against a real OpenBao dev server (started by `cargo xtask
//! test`); skipped, with one line, without one.

use crate::{Sandbox, emulator_var};

#[test]
fn a_stack_on_vault_validates_and_runs() {
    let what = "the keystack-on-OpenBao test";
    let Some((addr, token)) = emulator_var("KEYSTACK_TEST_VAULT_ADDR", what)
        .zip(emulator_var("KEYSTACK_TEST_VAULT_TOKEN", what))
    else {
        return;
    };
    let s = Sandbox::new();
    let namespace = format!("e2e{}", std::process::id());
    let env = [("VAULT_TOKEN", token.as_str()), ("BAO_TOKEN", "")];
    s.remote_stack_validates_and_runs(
        &[
            "--flavor=vault",
            &format!("--url={addr}"),
            &format!("--namespace={namespace}"),
        ],
        &env,
        "vault-e2e-pass",
    );

    // Without a token (and no ~/.vault-token in the sandbox's HOME): a
    // clear configuration error, not a request with an empty token.
    s.run_env(
        &["stack", "validate"],
        &[("VAULT_TOKEN", ""), ("BAO_TOKEN", "")],
    )
    .fails(2)
    .err_has("no Vault token");

    s.run_env(&["secrets-manager", "secret", "delete-all", "-y"], &env)
        .ok()
        .err_has("Deleted 1 secret(s)");
}
