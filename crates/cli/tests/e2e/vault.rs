//! The binary against a real OpenBao dev server (started by `cargo xtask
//! test`); skipped, with one line, without one.

use crate::Sandbox;

fn server() -> Option<(String, String)> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let server = var("KEYSTACK_TEST_VAULT_ADDR").zip(var("KEYSTACK_TEST_VAULT_TOKEN"));
    if server.is_none() {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "skipping the keystack-on-OpenBao test: KEYSTACK_TEST_VAULT_ADDR is not set"
        );
    }
    server
}

#[test]
fn a_stack_on_vault_validates_and_runs() {
    let Some((addr, token)) = server() else {
        return;
    };
    let s = Sandbox::new();
    let namespace = format!("e2e{}", std::process::id());
    let env = [("VAULT_TOKEN", token.as_str()), ("BAO_TOKEN", "")];
    s.run(&[
        "secrets-manager",
        "register",
        "vault_sm",
        "--flavor=vault",
        &format!("--url={addr}"),
        &format!("--namespace={namespace}"),
    ])
    .ok();
    s.register_mlflow_tracker();
    s.run(&[
        "stack", "register", "v", "-o", "default", "-a", "default", "-x", "vault_sm", "-e",
        "mlflow", "--set",
    ])
    .ok();
    s.run_env(&["stack", "validate"], &env)
        .fails(4)
        .err_has("secret 'mlflow_secret', which does not exist");
    s.run_env(
        &[
            "secrets-manager",
            "secret",
            "register",
            "mlflow_secret",
            "--username=admin",
            "--password=vault-e2e-pass",
        ],
        &env,
    )
    .ok();
    s.run_env(&["stack", "validate"], &env).ok();
    s.run_env(
        &[
            "run",
            "--no-masking",
            "--",
            "sh",
            "-c",
            "echo $MLFLOW_TRACKING_PASSWORD",
        ],
        &env,
    )
    .ok()
    .out_has("vault-e2e-pass");
    s.run_env(&["secrets-manager", "secret", "list"], &env)
        .ok()
        .out_has("mlflow_secret");

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
