//! `keystack run`: environment, masking, exit codes; and output plumbing.

use super::Sandbox;
use keystack_secrets_core::REDACTED;

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
    assert_eq!(run.stdout, format!("out:{REDACTED}\n"));
    assert_eq!(
        run.stderr,
        format!(
            "keystack: running on stack 'ml' of project {}\nerr:{REDACTED}\n",
            s.path().join(".keystack").display()
        ),
        "one line says which project and stack"
    );
    let quiet = s
        .run(&[
            "run",
            "-q",
            "--",
            "sh",
            "-c",
            "echo err:$MLFLOW_TRACKING_PASSWORD >&2",
        ])
        .ok();
    assert_eq!(
        quiet.stderr,
        format!("err:{REDACTED}\n"),
        "-q leaves it out"
    );
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

/// Waits until `file` exists and holds a process ID.
fn read_pid(file: &std::path::Path) -> i32 {
    for _ in 0..200 {
        if let Ok(text) = std::fs::read_to_string(file)
            && let Ok(pid) = text.trim().parse()
        {
            return pid;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    panic!("{} never held a pid", file.display());
}

fn signal(pid: i32, signal: rustix::process::Signal) {
    rustix::process::kill_process(rustix::process::Pid::from_raw(pid).unwrap(), signal).unwrap();
}

/// `keystack run -- sh -c SCRIPT` in the background, without a terminal.
fn spawn_run(s: &Sandbox, script: &str) -> std::process::Child {
    s.std_command()
        .args(["run", "--", "sh", "-c", script])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

fn alive(pid: i32) -> bool {
    // A reaped process has no /proc entry; a zombie would say "Z".
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|stat| stat.split_whitespace().nth(2).is_none_or(|s| s != "Z"))
}

#[test]
fn sigterm_to_keystack_reaches_the_command_and_the_exit_code_is_128_plus_the_signal() {
    let s = Sandbox::new();
    s.seed();
    let pid_file = s.path().join("child.pid");
    let child = spawn_run(
        &s,
        &format!("echo $$ > {}; exec sleep 30", pid_file.display()),
    );
    let command_pid = read_pid(&pid_file);
    let keystack_pid = i32::try_from(child.id()).unwrap();
    signal(keystack_pid, rustix::process::Signal::TERM);
    let output = child.wait_with_output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(128 + 15),
        "keystack reports the command's death by SIGTERM: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!alive(command_pid), "the command outlived keystack");
}

#[test]
fn sigint_without_a_terminal_is_forwarded_and_the_commands_own_exit_code_wins() {
    let s = Sandbox::new();
    s.seed();
    let pid_file = s.path().join("child.pid");
    let child = spawn_run(
        &s,
        &format!(
            "trap 'echo got-int; exit 3' INT; echo $$ > {}; while :; do sleep 0.05; done",
            pid_file.display()
        ),
    );
    read_pid(&pid_file);
    signal(
        i32::try_from(child.id()).unwrap(),
        rustix::process::Signal::INT,
    );
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(3));
    assert_eq!(String::from_utf8_lossy(&output.stdout), "got-int\n");
}
