//! The user guide's walk-through, end to end.

use super::Sandbox;
use keystack_secrets_core::REDACTED;

#[test]
fn zenml_walkthrough_on_the_local_backend() {
    let s = Sandbox::new();
    s.register_mlflow_secret()
        .err_has("Registered secret 'mlflow_secret'");
    s.register_mlflow_tracker();
    s.run(&[
        "stack", "register", "ml", "-o", "default", "-a", "default", "-x", "default", "-e",
        "mlflow",
    ])
    .ok();
    s.run(&["stack", "set", "ml"]).ok();

    // Every level passes while the secret is whole.
    for level in ["NONE", "SECRET_EXISTS", "SECRET_AND_KEY_EXISTS"] {
        s.run_env(
            &["stack", "validate"],
            &[("KEYSTACK_SECRET_VALIDATION_LEVEL", level)],
        )
        .ok()
        .err_has(&format!("level {level}"));
    }

    // A missing key: only SECRET_AND_KEY_EXISTS notices.
    s.run(&[
        "secrets-manager",
        "secret",
        "update",
        "mlflow_secret",
        "--remove-key",
        "password",
    ])
    .ok();
    s.run_env(
        &["stack", "validate"],
        &[("KEYSTACK_SECRET_VALIDATION_LEVEL", "NONE")],
    )
    .ok();
    s.run_env(
        &["stack", "validate"],
        &[("ZENML_SECRET_VALIDATION_LEVEL", "SECRET_EXISTS")],
    )
    .ok();
    s.run(&["stack", "validate"])
        .fails(4)
        .err_has("stack 'ml' / experiment_tracker 'mlflow' / attribute 'tracking_password'")
        .err_has("{{mlflow_secret.password}} refers to key 'password' of secret 'mlflow_secret', which has no such key");
    s.run(&["run", "--", "true"]).fails(4);

    // A missing secret: SECRET_EXISTS notices too.
    s.run(&["secrets-manager", "secret", "delete", "mlflow_secret", "-y"])
        .ok();
    s.run_env(
        &["stack", "validate"],
        &[("KEYSTACK_SECRET_VALIDATION_LEVEL", "secret_exists")],
    )
    .fails(4)
    .err_has("2 problem(s)")
    .err_has("secret 'mlflow_secret', which does not exist");

    // Put it back and run.
    s.register_mlflow_secret();
    let run = s
        .run(&["run", "--", "sh", "-c", "echo \"$MLFLOW_TRACKING_URI $MLFLOW_TRACKING_USERNAME $MLFLOW_TRACKING_PASSWORD $KEYSTACK_STACK\""])
        .ok();
    assert_eq!(
        run.stdout,
        format!("http://127.0.0.1:5000 {REDACTED} {REDACTED} ml\n")
    );
    let run = s
        .run(&[
            "run",
            "--no-masking",
            "--",
            "sh",
            "-c",
            "echo \"$MLFLOW_TRACKING_USERNAME:$MLFLOW_TRACKING_PASSWORD\"",
        ])
        .ok();
    assert_eq!(run.stdout, "admin:abc123\n");
}

#[test]
fn unknown_validation_level_lists_the_allowed_ones() {
    let s = Sandbox::new();
    s.seed();
    s.run_env(
        &["stack", "validate"],
        &[("KEYSTACK_SECRET_VALIDATION_LEVEL", "strict")],
    )
    .fails(2)
    .err_has("use one of NONE, SECRET_EXISTS, SECRET_AND_KEY_EXISTS");
    s.run(&["stack", "validate", "--level", "bogus"])
        .fails(2)
        .err_has("--level \"bogus\"");
}

#[path = "../../../../xtask/src/walkthrough.rs"]
#[allow(dead_code)] // `shown` is for the demo's printing
mod script;

/// The script `cargo xtask demo` runs, step by step with its checks: the
/// demo cannot drift from what this test proves.
#[test]
fn the_demo_script_runs() {
    // The script starts with `keystack init`.
    let s = Sandbox::empty();
    let text = include_str!("walkthrough.script");
    let lines = script::parse(text).expect("the script parses");
    let mut steps = 0;
    for line in lines {
        let script::Line::Step(step) = line else {
            continue;
        };
        let args: Vec<&str> = step.args.iter().map(String::as_str).collect();
        let env: Vec<(&str, &str)> = step
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let mut run = s.run_env(&args, &env);
        run = if step.exit == 0 {
            run.ok()
        } else {
            run.fails(step.exit)
        };
        for text in &step.stdout_has {
            run = run.out_has(text);
        }
        for text in &step.stdout_lacks {
            assert!(
                !run.stdout.contains(text.as_str()),
                "{args:?} printed {text:?}"
            );
        }
        steps += 1;
    }
    assert!(steps >= 10, "the script has its steps");
}
