//! Interactive paths through a pseudo-terminal: prompts work, hidden input
//! is not echoed, and confirmations are honoured.

use rexpect::session::{PtySession, spawn_command};

use super::Sandbox;

fn spawn(s: &Sandbox, args: &[&str]) -> PtySession {
    let mut command = s.std_command();
    command.args(args);
    spawn_command(command, Some(20_000)).expect("spawn in a pty")
}

#[test]
fn register_interactively_hides_values() {
    let s = Sandbox::new();
    let mut p = spawn(&s, &["secrets-manager", "secret", "register", "db", "-i"]);
    p.exp_string("Key: ").unwrap();
    p.send_line("username").unwrap();
    p.exp_string("Value for 'username': ").unwrap();
    p.send_line("hidden-admin-value").unwrap();
    let echoed = p.exp_string("Key: ").unwrap();
    assert!(
        !echoed.contains("hidden-admin-value"),
        "the value was echoed: {echoed:?}"
    );
    p.send_line("bad key").unwrap();
    p.exp_string("try again").unwrap();
    p.exp_string("Key: ").unwrap();
    p.send_line("password").unwrap();
    p.exp_string("Value for 'password': ").unwrap();
    p.send_line("hidden-password-value").unwrap();
    let echoed = p.exp_string("Key: ").unwrap();
    assert!(
        !echoed.contains("hidden-password-value"),
        "the value was echoed: {echoed:?}"
    );
    p.send_line("").unwrap();
    p.exp_string("Registered secret 'db'").unwrap();
    p.exp_eof().unwrap();
    let got = s
        .run(&["secrets-manager", "secret", "get", "db", "-o", "json"])
        .ok();
    let json: serde_json::Value = serde_json::from_str(&got.stdout).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"username": "hidden-admin-value", "password": "hidden-password-value"})
    );
}

#[test]
fn update_interactively() {
    let s = Sandbox::new();
    s.run(&["secrets-manager", "secret", "register", "db", "--user=u"])
        .ok();
    s.run(&["secrets-manager", "secret", "update", "db", "--pw=p"])
        .ok();
    std::fs::write(s.path().join("pw.txt"), "pw-from-file").unwrap();
    // As ZenML: the secret's own keys first (empty keeps a value), then
    // more keys; `@file` works at the prompt too.
    let mut p = spawn(&s, &["secrets-manager", "secret", "update", "db", "-i"]);
    p.exp_string("New value for 'pw' (empty keeps it): ")
        .unwrap();
    p.send_line("@pw.txt").unwrap();
    p.exp_string("New value for 'user' (empty keeps it): ")
        .unwrap();
    p.send_line("").unwrap();
    p.exp_string("Key: ").unwrap();
    p.send_line("token").unwrap();
    p.exp_string("Value for 'token': ").unwrap();
    // An empty value is asked again.
    p.send_line("").unwrap();
    p.exp_string("a value cannot be empty here").unwrap();
    p.exp_string("Value for 'token': ").unwrap();
    p.send_line("tok-value").unwrap();
    p.exp_string("Key: ").unwrap();
    p.send_line("").unwrap();
    p.exp_eof().unwrap();
    let json: serde_json::Value = serde_json::from_str(
        &s.run(&["secrets-manager", "secret", "get", "db", "-o", "json"])
            .ok()
            .stdout,
    )
    .unwrap();
    assert_eq!(
        json,
        serde_json::json!({"pw": "pw-from-file", "user": "u", "token": "tok-value"})
    );
}

#[test]
fn register_interactively_walks_a_schemas_keys() {
    let s = Sandbox::new();
    let mut p = spawn(
        &s,
        &[
            "secrets-manager",
            "secret",
            "register",
            "creds",
            "-i",
            "--schema",
            "aws",
            "--aws_access_key_id=AKIA-cli",
        ],
    );
    // The key given on the command line is not asked again.
    p.exp_string("Value for 'aws_secret_access_key' (required): ")
        .unwrap();
    p.send_line("").unwrap();
    p.exp_string("'aws_secret_access_key' is required").unwrap();
    p.exp_string("Value for 'aws_secret_access_key' (required): ")
        .unwrap();
    p.send_line("sk-typed").unwrap();
    p.exp_string("Value for 'aws_session_token' (optional, empty to skip): ")
        .unwrap();
    p.send_line("").unwrap();
    p.exp_string("Registered secret 'creds' (aws schema)")
        .unwrap();
    p.exp_eof().unwrap();
    let json: serde_json::Value = serde_json::from_str(
        &s.run(&["secrets-manager", "secret", "get", "creds", "-o", "json"])
            .ok()
            .stdout,
    )
    .unwrap();
    assert_eq!(
        json,
        serde_json::json!({"aws_access_key_id": "AKIA-cli", "aws_secret_access_key": "sk-typed"})
    );

    // A key typed at the prompt that the command line gave too: a warning.
    let mut p = spawn(
        &s,
        &[
            "secrets-manager",
            "secret",
            "register",
            "db",
            "-i",
            "--user=cli",
        ],
    );
    p.exp_string("Key: ").unwrap();
    p.send_line("user").unwrap();
    p.exp_string("Value for 'user': ").unwrap();
    p.send_line("typed").unwrap();
    p.exp_string("warning: key 'user' was also given on the command line")
        .unwrap();
    p.exp_string("Key: ").unwrap();
    p.send_line("").unwrap();
    p.exp_eof().unwrap();
    s.run(&["secrets-manager", "secret", "get", "db", "--key", "user"])
        .ok()
        .out_has("typed");
}

#[test]
fn register_secrets_asks_for_what_is_missing() {
    let s = Sandbox::new();
    s.run(&[
        "experiment-tracker",
        "register",
        "mlflow",
        "--flavor=mlflow",
        "--tracking_username={{mlflow_secret.username}}",
        "--tracking_password={{mlflow_secret.password}}",
        "--tracking_token={{tokens.mlflow}}",
    ])
    .ok();
    s.run(&[
        "stack", "register", "ml", "-o", "default", "-a", "default", "-x", "default", "-e",
        "mlflow", "--set",
    ])
    .ok();
    s.run(&[
        "secrets-manager",
        "secret",
        "register",
        "tokens",
        "--other=x",
    ])
    .ok();
    // Without a terminal it refuses instead of hanging.
    s.run(&["stack", "register-secrets"])
        .fails(2)
        .err_has("standard input is not a terminal");

    let mut p = spawn(&s, &["stack", "register-secrets"]);
    p.exp_string("mlflow_secret.password: ").unwrap();
    p.send_line("pw-value").unwrap();
    p.exp_string("mlflow_secret.username: ").unwrap();
    p.send_line("user-value").unwrap();
    p.exp_string("Registered secret 'mlflow_secret'").unwrap();
    p.exp_string("tokens.mlflow: ").unwrap();
    p.send_line("token-value").unwrap();
    let rest = p.exp_string("Updated secret 'tokens'").unwrap();
    assert!(
        !rest.contains("token-value"),
        "the value was echoed: {rest:?}"
    );
    p.exp_eof().unwrap();
    s.run(&["stack", "validate"]).ok();
    s.run(&[
        "secrets-manager",
        "secret",
        "get",
        "tokens",
        "--key",
        "other",
    ])
    .ok()
    .out_has("x");

    // Everything exists now.
    s.run(&["stack", "register-secrets"]).ok().err_has("exists");
}

#[test]
fn delete_asks_for_confirmation() {
    let s = Sandbox::new();
    s.run(&["secrets-manager", "secret", "register", "db", "--user=u"])
        .ok();
    let mut p = spawn(&s, &["secrets-manager", "secret", "delete", "db"]);
    p.exp_string("Delete secret 'db'? [y/N] ").unwrap();
    p.send_line("n").unwrap();
    p.exp_string("Nothing deleted.").unwrap();
    p.exp_eof().unwrap();
    s.run(&["secrets-manager", "secret", "get", "db"]).ok();
    let mut p = spawn(&s, &["secrets-manager", "secret", "delete-all"]);
    p.exp_string(&format!(
        "Delete all 1 secret(s) of secrets manager 'default' (store: {})?",
        s.store().display()
    ))
    .unwrap();
    p.send_line("yes").unwrap();
    p.exp_string("Deleted 1 secret(s) from ").unwrap();
    p.exp_eof().unwrap();
}

#[test]
fn ctrl_c_on_a_terminal_reaches_the_command_and_keystack_reports_its_exit() {
    let s = Sandbox::new();
    s.seed();
    let mut p = spawn(
        &s,
        &[
            "run",
            "--",
            "sh",
            "-c",
            "trap 'echo got-int; exit 3' INT; echo ready; while :; do sleep 0.05; done",
        ],
    );
    p.exp_string("ready").unwrap();
    p.send_control('c').unwrap();
    p.exp_string("got-int").unwrap();
    p.exp_eof().unwrap();
    let status = format!("{:?}", p.process().wait().unwrap());
    assert!(
        status.starts_with("Exited(") && status.ends_with(", 3)"),
        "keystack must survive Ctrl-C and exit with the command's code 3, got {status}"
    );
}

#[test]
fn register_secrets_takes_piped_answers() {
    let s = Sandbox::new();
    s.run(&[
        "experiment-tracker",
        "register",
        "mlflow",
        "--flavor=mlflow",
        "--tracking_username={{mlflow_secret.username}}",
        "--tracking_password={{mlflow_secret.password}}",
    ])
    .ok();
    s.run(&[
        "stack", "register", "ml", "-o", "default", "-a", "default", "-x", "default", "-e",
        "mlflow", "--set",
    ])
    .ok();
    // An answer missing, or one the stack does not need: nothing written.
    s.run_stdin(
        &["stack", "register-secrets"],
        b"mlflow_secret.username=ana\n",
    )
    .fails(2)
    .err_has("no answer for mlflow_secret.password; nothing was registered");
    s.run_stdin(
        &["stack", "register-secrets"],
        b"mlflow_secret.username=ana\nmlflow_secret.password=pw\nother.key=x\n",
    )
    .fails(2)
    .err_has("answers for what the stack does not need: other.key");
    s.run(&["secrets-manager", "secret", "list"])
        .ok()
        .out_has("NAME\n");
    s.run_stdin(
        &["stack", "register-secrets"],
        b"# from CI\nmlflow_secret.username=ana\n\nmlflow_secret.password=p=w\n",
    )
    .ok()
    .err_has("Registered secret 'mlflow_secret'");
    s.run(&["stack", "validate"]).ok();
    s.run(&[
        "secrets-manager",
        "secret",
        "get",
        "mlflow_secret",
        "--key",
        "password",
    ])
    .ok()
    .out_has("p=w");
}
