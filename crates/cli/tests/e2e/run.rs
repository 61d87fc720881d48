//! `keystack run`: environment, masking, exit codes; and output plumbing.

use super::Sandbox;

#[test]
fn run_passes_environment_and_exit_code() {
    let s = Sandbox::new();
    s.seed();
    let run = s.run(&[
        "run",
        "--",
        "sh",
        "-c",
        "echo $MLFLOW_TRACKING_URI; echo $MLFLOW_TRACKING_INSECURE_TLS; exit 42",
    ]);
    assert_eq!(run.code, 42, "{}", run.stderr);
    assert_eq!(run.stdout, "http://127.0.0.1:5000\nfalse\n");
    s.run(&["run", "--", "definitely-not-a-command-xyz"])
        .fails(127)
        .err_has("cannot run definitely-not-a-command-xyz");
}

#[test]
fn secret_values_are_masked_on_both_streams() {
    let s = Sandbox::new();
    s.seed();
    let run = s
        .run(&[
            "run",
            "--",
            "sh",
            "-c",
            "echo out:$MLFLOW_TRACKING_PASSWORD; echo err:$MLFLOW_TRACKING_PASSWORD >&2",
        ])
        .ok();
    assert_eq!(run.stdout, "out:********\n");
    assert_eq!(run.stderr, "err:********\n");
}

#[test]
fn run_on_a_named_stack_without_references() {
    let s = Sandbox::new();
    let run = s
        .run(&[
            "run",
            "--stack",
            "default",
            "--",
            "sh",
            "-c",
            "echo $KEYSTACK_STACK",
        ])
        .ok();
    assert_eq!(run.stdout, "default\n");
}

#[test]
fn broken_pipe_is_not_an_error() {
    let s = Sandbox::new();
    for i in 0..50 {
        s.run(&[
            "secrets-manager",
            "secret",
            "register",
            &format!("s{i:02}"),
            "--k=v",
        ])
        .ok();
    }
    let mut child = s
        .std_command()
        .args(["secrets-manager", "secret", "list"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn completions_and_version() {
    let s = Sandbox::new();
    s.run(&["completion", "bash"]).ok().out_has("keystack");
    s.run(&["completion", "zsh"]).ok();
    s.run(&["completion", "fish"]).ok();
    s.run(&["--version"]).ok().out_has("keystack ");
    let help = s.run(&["--help"]).ok();
    assert!(help.stdout.contains("Exit codes:"));
    s.run(&["no-such-command"]).fails(2);
}
