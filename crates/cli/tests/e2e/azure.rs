//! The binary against Keystack's Key Vault test server (started by `cargo
//! xtask test`, which also sets the AZURE_* variables of its test service
//! principal); skipped, with one line, without one.

use crate::Sandbox;

fn server() -> Option<(String, String)> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let server = var("KEYSTACK_TEST_AZURE_VAULT_URL").zip(var("KEYSTACK_TEST_AZURE_CA"));
    if server.is_none() {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "skipping the keystack-on-Key-Vault test: KEYSTACK_TEST_AZURE_VAULT_URL is not set"
        );
    }
    server
}

#[test]
fn a_stack_on_azure_key_vault_validates_and_runs() {
    let Some((url, ca)) = server() else {
        return;
    };
    let s = Sandbox::new();
    let namespace = format!("e2e{}", std::process::id());
    s.run(&[
        "secrets-manager",
        "register",
        "azure_sm",
        "--flavor=azure",
        &format!("--vault_url={url}"),
        &format!("--ca_file={ca}"),
        "--verify_challenge_resource=false",
        &format!("--namespace={namespace}"),
    ])
    .ok();
    s.register_mlflow_tracker();
    s.run(&[
        "stack", "register", "az", "-o", "default", "-a", "default", "-x", "azure_sm", "-e",
        "mlflow", "--set",
    ])
    .ok();
    s.run(&["stack", "validate"])
        .fails(4)
        .err_has("secret 'mlflow_secret', which does not exist");
    s.run(&[
        "secrets-manager",
        "secret",
        "register",
        "mlflow_secret",
        "--username=admin",
        "--password=azure-e2e-pass",
    ])
    .ok();
    s.run(&["stack", "validate"]).ok();
    s.run(&[
        "run",
        "--no-masking",
        "--",
        "sh",
        "-c",
        "echo $MLFLOW_TRACKING_PASSWORD",
    ])
    .ok()
    .out_has("azure-e2e-pass");
    s.run(&["secrets-manager", "secret", "list"])
        .ok()
        .out_has("mlflow_secret");

    // A rejected client secret: a clear error that never shows it.
    let wrong = s
        .run_env(
            &["stack", "validate"],
            &[("AZURE_CLIENT_SECRET", "not-it-93c1")],
        )
        .err_has("could not authenticate");
    assert_ne!(wrong.code, 0);
    assert!(!wrong.stderr.contains("not-it-93c1") && !wrong.stdout.contains("not-it-93c1"));

    s.run(&["secrets-manager", "secret", "delete-all", "-y"])
        .ok()
        .err_has("Deleted 1 secret(s)");
}
