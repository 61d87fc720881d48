//! The progress bar of long remote work: on a terminal once the work takes
//! over a second, never when standard error is piped or `NO_COLOR` is set.
//! OpenBao behind a proxy that holds every request for 250 ms, read one
//! secret at a time, makes validation take about two seconds.

use std::time::Duration;

use keystack_secrets_core::testkit::CountingProxy;
use rexpect::session::spawn_command;

use crate::{Sandbox, emulator_var};

const SECRETS: usize = 8;

/// Variables every command of the test runs with.
type Env = Vec<(&'static str, String)>;

/// A sandbox whose active stack `slow` reads its 8 secrets through the slow
/// proxy; they were registered through `fill`, straight to OpenBao.
fn slow_stack() -> Option<(Sandbox, Env, CountingProxy)> {
    let what = "the progress bar test";
    let (addr, token) = emulator_var("KEYSTACK_TEST_VAULT_ADDR", what)
        .zip(emulator_var("KEYSTACK_TEST_VAULT_TOKEN", what))?;
    let proxy = CountingProxy::start_with_latency(&addr, Duration::from_millis(250));
    let s = Sandbox::new();
    let env = vec![
        ("VAULT_TOKEN", token),
        ("BAO_TOKEN", String::new()),
        ("KEYSTACK_CONCURRENCY", "1".to_owned()),
    ];
    let env_ref: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let namespace = format!("progress{}", std::process::id());
    for (name, url) in [("fill", addr.as_str()), ("slow", proxy.url())] {
        s.run(&[
            "secrets-manager",
            "register",
            name,
            "--flavor=vault",
            &format!("--url={url}"),
            &format!("--namespace={namespace}"),
        ])
        .ok();
    }
    let flavors = s.path().join(".keystack/flavors");
    std::fs::create_dir_all(&flavors).unwrap();
    let mut flavor =
        String::from("flavors:\n  - type: experiment_tracker\n    name: many\n    attributes:\n");
    let mut register = vec![
        "experiment-tracker".to_owned(),
        "register".to_owned(),
        "many".to_owned(),
        "--flavor=many".to_owned(),
    ];
    for i in 0..SECRETS {
        flavor.push_str(&format!("      - {{name: a{i}, sensitive: true}}\n"));
        register.push(format!("--a{i}={{{{s{i}.k}}}}"));
    }
    std::fs::write(flavors.join("many.yaml"), flavor).unwrap();
    let register: Vec<&str> = register.iter().map(String::as_str).collect();
    s.run(&register).ok();
    for (stack, manager) in [("fill", "fill"), ("slow", "slow")] {
        s.run(&[
            "stack", "register", stack, "-o", "default", "-a", "default", "-x", manager, "-e",
            "many",
        ])
        .ok();
    }
    let mut fill = env_ref.clone();
    fill.push(("KEYSTACK_STACK", "fill"));
    for i in 0..SECRETS {
        let name = format!("s{i}");
        s.run_env(
            &["secrets-manager", "secret", "register", &name, "--k=v"],
            &fill,
        )
        .ok();
    }
    s.run(&["stack", "set", "slow"]).ok();
    Some((s, env, proxy))
}

/// `stack validate` in a pseudo-terminal, with `no_color` or not; all it
/// printed.
fn validate_on_a_terminal(s: &Sandbox, env: &[(&str, String)], no_color: bool) -> String {
    let mut command = s.std_command();
    command.args(["stack", "validate"]).env("TERM", "xterm");
    for (k, v) in env {
        command.env(k, v);
    }
    if !no_color {
        command.env_remove("NO_COLOR");
    }
    let mut p = spawn_command(command, Some(30_000)).expect("spawn in a pty");
    let printed = p.exp_eof().expect("validate ends");
    assert!(
        printed.contains("Stack 'slow' is valid"),
        "validation failed: {printed}"
    );
    printed
}

#[test]
fn a_long_remote_read_shows_a_bar_on_a_terminal_only() {
    let Some((s, env, proxy)) = slow_stack() else {
        return;
    };
    proxy.reset();
    let printed = validate_on_a_terminal(&s, &env, false);
    assert!(
        proxy.count() >= SECRETS,
        "the reads went through the slow proxy"
    );
    assert!(
        printed.contains(&format!(
            "reading {SECRETS} secret(s) from secrets manager 'slow'"
        )),
        "no progress bar on a terminal: {printed:?}"
    );
    assert!(
        printed.contains(&format!("/{SECRETS}")),
        "the bar counts secrets: {printed:?}"
    );
    assert!(
        !printed.contains("=v") && !printed.contains(": v"),
        "a value in the terminal: {printed:?}"
    );

    let quiet = validate_on_a_terminal(&s, &env, true);
    assert!(
        !quiet.contains("reading"),
        "NO_COLOR still drew a bar: {quiet:?}"
    );

    let env_ref: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let piped = s
        .command()
        .args(["stack", "validate"])
        .env("TERM", "xterm")
        .env_remove("NO_COLOR")
        .envs(env_ref.iter().copied())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&piped.stderr);
    assert!(piped.status.success(), "{stderr}");
    assert!(
        !stderr.contains("reading") && !stderr.contains('\r') && !stderr.contains('\u{1b}'),
        "a bar on a pipe: {stderr:?}"
    );
}
