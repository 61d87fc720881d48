//! What `keystack run` lets through, and what it reads, when the input is
//! hostile or merely large (issue 15's findings 3, 5, 7, 8, 9 and 11).

use super::Sandbox;
use keystack_secrets_core::REDACTED;

const PEM: &str = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\nVJTUt9Us8cKjMzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDu\n-----END PRIVATE KEY-----";

/// A stack whose mlflow tracker's password is `{{tls.pem}}`, a PEM.
fn pem_stack() -> Sandbox {
    let s = Sandbox::new();
    std::fs::write(s.path().join("pem.txt"), PEM).unwrap();
    s.run(&[
        "secrets-manager",
        "secret",
        "register",
        "tls",
        "--pem=@pem.txt",
    ])
    .ok();
    s.run(&[
        "experiment-tracker",
        "register",
        "mlflow",
        "--flavor=mlflow",
        "--tracking_password={{tls.pem}}",
    ])
    .ok();
    s.run(&[
        "stack", "register", "ml", "-o", "default", "-a", "default", "-x", "default", "-e",
        "mlflow", "--set",
    ])
    .ok();
    s
}

fn assert_no_pem_line(text: &str) {
    for line in PEM.lines().filter(|l| l.len() >= 3) {
        assert!(!text.contains(line), "{line:?} leaked in:\n{text}");
    }
}

#[test]
fn multi_line_values_are_masked_whole_and_line_by_line() {
    let s = pem_stack();
    let whole = s
        .run(&[
            "run",
            "--",
            "sh",
            "-c",
            "printf '%s\\n' \"$MLFLOW_TRACKING_PASSWORD\"",
        ])
        .ok();
    assert_eq!(whole.stdout, format!("{REDACTED}\n"));
    // Line by line, re-indented, on standard error, and written slowly so
    // that lines arrive split across reads.
    let lines = s
        .run(&[
            "run",
            "--",
            "sh",
            "-c",
            "printf '%s\\n' \"$MLFLOW_TRACKING_PASSWORD\" | while IFS= read -r l; do \
             printf '  %s' \"${l%??????}\" >&2; sleep 0.05; printf '%s\\n' \"${l#\"${l%??????}\"}\" >&2; done",
        ])
        .ok();
    assert_no_pem_line(&lines.stderr);
    assert_eq!(
        lines.stderr.matches(REDACTED).count(),
        4,
        "{}",
        lines.stderr
    );
}

#[test]
fn masking_holds_back_no_more_than_a_value_could_still_need() {
    let s = Sandbox::new();
    s.seed();
    // 64 MiB without a newline: keystack's own peak memory (read by the
    // child from /proc, keystack being its parent) stays far below it.
    let run = s
        .run(&[
            "run",
            "-q",
            "--",
            "sh",
            "-c",
            "head -c 67108864 /dev/zero | tr '\\0' a; grep VmHWM /proc/$PPID/status >&2",
        ])
        .ok();
    assert_eq!(run.stdout.len(), 64 << 20);
    let peak_kib: u64 = run
        .stderr
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("VmHWM in {:?}", run.stderr));
    assert!(peak_kib < 32 * 1024, "keystack peaked at {peak_kib} KiB");
}

#[test]
fn a_prompt_is_shown_before_the_command_ends() {
    use std::io::Read;
    let s = Sandbox::new();
    s.seed();
    let mut child = s
        .std_command()
        .args(["run", "--", "sh", "-c", "printf 'Continue? '; sleep 5"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut buf = [0u8; 10];
    let started = std::time::Instant::now();
    out.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"Continue? ");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(4),
        "the prompt waited for the command to end"
    );
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn the_child_does_not_get_the_store_key() {
    let s = Sandbox::empty();
    let key = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    let env = [("KEYSTACK_LOCAL_KEY", key)];
    s.run_env(&["init"], &env).ok();
    s.run_env(
        &[
            "secrets-manager",
            "secret",
            "register",
            "mlflow_secret",
            "--username=admin",
            "--password=abc123",
        ],
        &env,
    )
    .ok();
    s.register_mlflow_tracker_with(&env);
    s.run_env(&["stack", "update", "default", "-e", "mlflow"], &env)
        .ok();
    let run = s
        .run_env(
            &[
                "run",
                "--",
                "sh",
                "-c",
                "echo \"key=${KEYSTACK_LOCAL_KEY:-none}\"",
            ],
            &env,
        )
        .ok();
    assert_eq!(run.stdout, "key=none\n");
    assert!(!run.stderr.contains(key));
}

/// `secret list` under a 256 MiB address-space limit (reading `/dev/zero`
/// whole would die), without a Vault token from the environment: it must
/// exit 2 (bad configuration). Returns its standard error.
fn list_under_a_memory_limit_fails_with_bad_input(s: &Sandbox) -> String {
    let run = s
        .std_command_via(&["sh", "-c", "ulimit -v 262144; exec \"$0\" \"$@\""])
        .env_remove("VAULT_TOKEN")
        .env_remove("BAO_TOKEN")
        .args(["secrets-manager", "secret", "list"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr).into_owned();
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    stderr
}

#[test]
fn a_key_file_is_read_only_as_far_as_a_key_can_be() {
    let s = Sandbox::new();
    s.run(&[
        "secrets-manager",
        "register",
        "zero",
        "--flavor=local",
        "--path=store",
        "--key_file=/dev/zero",
    ])
    .ok();
    s.run(&["stack", "update", "default", "-x", "zero"]).ok();
    let stderr = list_under_a_memory_limit_fails_with_bad_input(&s);
    assert!(
        stderr.contains("/dev/zero") && stderr.contains("over 256 bytes"),
        "{stderr}"
    );
}

#[test]
fn flavor_environment_names_are_names_that_do_not_hijack_the_command() {
    for (env, why) in [
        ("LD_PRELOAD=/evil.so", "not a variable name"),
        ("", "not a variable name"),
        ("A\\nB", "not a variable name"),
        ("LD_PRELOAD", "changes what the command loads or runs"),
        ("PATH", "changes what the command loads or runs"),
        ("PYTHONPATH", "changes what the command loads or runs"),
    ] {
        let s = Sandbox::new();
        std::fs::create_dir_all(s.path().join(".keystack/flavors")).unwrap();
        std::fs::write(
            s.path().join(".keystack/flavors/evil.yaml"),
            format!("flavors:\n  - type: experiment_tracker\n    name: evil\n    attributes:\n      - {{name: x, env: \"{env}\"}}\n"),
        )
        .unwrap();
        s.run(&["stack", "describe"])
            .fails(2)
            .err_has("evil.yaml")
            .err_has("attribute 'x' maps to the environment variable")
            .err_has(why);
    }
}

#[test]
fn a_command_found_but_not_executable_is_126_and_one_not_found_127() {
    let s = Sandbox::new();
    s.run(&["run", "--", "/etc/passwd"])
        .fails(126)
        .err_has("cannot run /etc/passwd");
    s.run(&["run", "--", "./no-such-command"]).fails(127);
}

fn chmod(mode: u32, path: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

#[test]
fn loose_or_planted_store_files_are_refused_with_the_fix() {
    // A store file made beforehand, open to everyone.
    let s = Sandbox::new();
    let store = s.store();
    std::fs::create_dir_all(&store).unwrap();
    chmod(0o700, &store);
    std::fs::write(store.join("secrets.db"), b"").unwrap();
    chmod(0o666, &store.join("secrets.db"));
    s.run(&["secrets-manager", "secret", "list"])
        .fails(1)
        .err_has("secrets.db has mode 666, so other users may read or change it")
        .err_has("chmod 600");
    assert_eq!(
        std::fs::read(store.join("secrets.db")).unwrap(),
        b"",
        "not initialized"
    );
    assert!(
        !store.join("secrets.key").exists(),
        "no key made for a loose store"
    );

    // A store folder open to everyone.
    let s = Sandbox::new();
    s.run(&["secrets-manager", "secret", "register", "a", "--k=v"])
        .ok();
    let store = s.store();
    chmod(0o777, &store);
    s.run(&["secrets-manager", "secret", "get", "a"])
        .fails(1)
        .err_has("has mode 777")
        .err_has("chmod 700");

    // A store file that is a symlink to a loose file elsewhere.
    let s = Sandbox::new();
    let store = s.store();
    std::fs::create_dir_all(&store).unwrap();
    chmod(0o700, &store);
    std::fs::write(s.path().join("elsewhere.db"), b"").unwrap();
    chmod(0o666, &s.path().join("elsewhere.db"));
    std::os::unix::fs::symlink(s.path().join("elsewhere.db"), store.join("secrets.db")).unwrap();
    s.run(&["secrets-manager", "secret", "list"])
        .fails(1)
        .err_has("is a symbolic link");
    assert_eq!(std::fs::read(s.path().join("elsewhere.db")).unwrap(), b"");
}

#[test]
fn a_store_owned_by_another_user_is_refused() {
    if !is_root() {
        // Handing a folder to another user needs root; CI runs as root.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "a_store_owned_by_another_user_is_refused: needs root (chown)"
        );
        return;
    }
    let s = Sandbox::new();
    s.run(&["secrets-manager", "secret", "register", "a", "--k=v"])
        .ok();
    let store = s.store();
    let status = std::process::Command::new("chown")
        .args(["-R", "1001:1001"])
        .arg(&store)
        .status()
        .unwrap();
    assert!(status.success());
    s.run(&["secrets-manager", "secret", "get", "a"])
        .fails(1)
        .err_has("is owned by uid 1001, not by you (uid 0)")
        .err_has("chown 0");
}

#[test]
fn planted_temporary_files_cannot_redirect_a_write() {
    let s = Sandbox::new();
    s.run(&["secrets-manager", "secret", "register", "a", "--k=v"])
        .ok();
    let key = s.store().join("secrets.key");
    let before = std::fs::read(&key).unwrap();
    let shared = s.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    // The names an earlier Keystack would have used (`.NAME.PID.tmp`) for
    // the next 400 processes, each a symlink to the store's key file.
    let last: u32 = std::fs::read_to_string("/proc/sys/kernel/ns_last_pid")
        .map_or(1000, |t| t.trim().parse().unwrap_or(1000));
    for pid in last + 1..=last + 400 {
        std::os::unix::fs::symlink(&key, shared.join(format!(".export.yaml.{pid}.tmp"))).unwrap();
    }
    // And the target itself, a symlink to the key file: it is replaced, not followed.
    std::os::unix::fs::symlink(&key, shared.join("other.yaml")).unwrap();
    s.run(&["stack", "export", "default", "shared/export.yaml"])
        .ok();
    s.run(&["stack", "export", "default", "shared/other.yaml"])
        .ok();
    assert_eq!(
        std::fs::read(&key).unwrap(),
        before,
        "the key file is untouched"
    );
    assert!(!shared.join("other.yaml").is_symlink());
    assert!(
        std::fs::read_to_string(shared.join("export.yaml"))
            .unwrap()
            .contains("default")
    );
    s.run(&["secrets-manager", "secret", "get", "a", "-k", "k"])
        .ok()
        .out_has("v");
}

#[test]
fn yaml_errors_give_positions_and_never_quote_the_file() {
    let s = Sandbox::new();
    let file = s
        .path()
        .join(".keystack/components/experiment_tracker/m.yaml");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(
        &file,
        "type: experiment_tracker\nname: m\nflavor: mlflow\nattributes:\n  tracking_password: plain-Hunter2\n  tracking_password: plain-Hunter2\n",
    )
    .unwrap();
    let run = s.run(&["experiment-tracker", "describe", "m"]).fails(2);
    let run = run
        .err_has("m.yaml: line 6, column 3")
        .err_has("duplicate mapping key `tracking_password`");
    assert!(!run.stderr.contains("plain-Hunter2"), "{}", run.stderr);
}

#[test]
fn files_a_component_names_are_read_within_bounds() {
    let s = Sandbox::new();
    s.run(&[
        "secrets-manager",
        "register",
        "v",
        "--flavor=vault",
        "--url=http://127.0.0.1:1",
        "--token_file=/dev/zero",
    ])
    .ok();
    s.run(&["stack", "update", "default", "-x", "v"]).ok();
    let stderr = list_under_a_memory_limit_fails_with_bad_input(&s);
    assert!(
        stderr.contains("cannot read token_file /dev/zero: it is over 65536 bytes"),
        "{stderr}"
    );
}
