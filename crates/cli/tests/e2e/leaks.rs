//! A secret with a unique marker value goes through every command, output
//! format and error path; the marker must show only where the user asked to
//! see it (`secret get`, `run --no-masking`) and never on disk in plain text
//! (the store is encrypted; the YAML holds references).

use super::{Run, Sandbox};
use keystack_secrets_core::REDACTED;

/// Two lines, so that a value leaking line by line (a PEM, a JSON key file)
/// is caught as surely as one leaking whole.
const MARKER: &str = "LEAK-MARKER-7f3a9c-never-print-me\nsecond-line-LEAK-0d2e91-never-print-me";

/// Whether `text` shows the marker, whole or any line of it.
fn shows(text: &str) -> bool {
    text.contains(MARKER) || MARKER.lines().any(|line| text.contains(line))
}

fn sm(args: &[&str]) -> Vec<String> {
    let mut all = vec!["secrets-manager".to_owned(), "secret".to_owned()];
    all.extend(args.iter().map(|a| (*a).to_owned()));
    all
}

#[test]
fn a_secret_value_shows_only_where_it_was_asked_for() {
    let s = Sandbox::new();
    std::fs::write(s.path().join("marker.txt"), MARKER).unwrap();
    s.run(&[
        "secrets-manager",
        "secret",
        "register",
        "mlflow_secret",
        "--username=admin",
        "--password=@marker.txt",
    ])
    .ok();
    std::fs::remove_file(s.path().join("marker.txt")).unwrap();
    s.register_mlflow_tracker();
    s.run(&[
        "stack", "register", "ml", "-o", "default", "-a", "default", "-x", "default", "-e",
        "mlflow", "--set",
    ])
    .ok();

    // Every command logs what it does (-v): the log must hold names and
    // keys, never the value.
    let run = |args: Vec<String>| -> Run {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        s.run_env(&args, &[("KEYSTACK_VERBOSE", "1")])
    };
    let strings = |a: &[&str]| a.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
    let must_not_show: Vec<(String, Run)> = [
        sm(&["list"]),
        sm(&["list", "-o", "json"]),
        sm(&["list", "-o", "yaml"]),
        strings(&["stack", "describe"]),
        strings(&["stack", "describe", "-o", "json"]),
        strings(&["stack", "describe", "-o", "yaml"]),
        strings(&["stack", "list", "-o", "json"]),
        strings(&["experiment-tracker", "describe", "mlflow", "-o", "yaml"]),
        strings(&["experiment-tracker", "list"]),
        strings(&["secrets-manager", "describe", "default"]),
        strings(&["stack", "validate"]),
        strings(&["stack", "validate", "--level", "SECRET_EXISTS"]),
        strings(&["stack", "export", "ml", "exported.yaml"]),
        // masked run: the value is in the command's environment, not in output
        strings(&[
            "run",
            "--",
            "sh",
            "-c",
            "echo \"pw=$MLFLOW_TRACKING_PASSWORD\" >&2; echo \"pw=$MLFLOW_TRACKING_PASSWORD\"",
        ]),
        // error paths
        sm(&["register", "mlflow_secret", "--password=other"]),
        sm(&["update", "mlflow_secret", "--remove-key", "nope"]),
        sm(&["get", "mlflow_secret", "--key", "nope"]),
        sm(&["get", "missing"]),
        sm(&["update", "mlflow_secret", "--password"]),
        sm(&["register", "bad name", "--k=v"]),
        sm(&["delete", "mlflow_secret"]),
        strings(&["run", "--", "definitely-not-a-command-xyz"]),
        strings(&["stack", "register-secrets"]),
        strings(&[
            "experiment-tracker",
            "update",
            "mlflow",
            "--tracking_password={{mlflow_secret.nokey}}",
        ]),
        strings(&["stack", "validate"]),
        strings(&["run", "--", "true"]),
        strings(&[
            "experiment-tracker",
            "update",
            "mlflow",
            "--tracking_password={{mlflow_secret.password}}",
        ]),
    ]
    .into_iter()
    .map(|args| (args.join(" "), run(args)))
    .collect();
    for (what, out) in &must_not_show {
        assert!(
            !shows(&out.stdout) && !shows(&out.stderr),
            "`keystack {what}` showed the value:\nstdout: {}\nstderr: {}",
            out.stdout,
            out.stderr
        );
    }
    let masked = &must_not_show
        .iter()
        .find(|(what, _)| what.starts_with("run -- sh"))
        .unwrap()
        .1;
    assert_eq!(masked.stdout, format!("pw={REDACTED}\n"));
    assert!(
        masked.stderr.ends_with(&format!("\npw={REDACTED}\n")),
        "{}",
        masked.stderr
    );

    assert!(
        must_not_show.iter().any(|(_, out)| out
            .stderr
            .contains("keystack: local batch get of 'mlflow_secret' (1 of 1 read): ok")),
        "the commands ran without their log"
    );

    // Where the user asked for it, it is there (so the checks above could
    // fail), and only on standard output: the log never has it.
    let asked = run(sm(&["get", "mlflow_secret"])).ok();
    assert!(asked.stdout.contains(MARKER));
    assert!(asked.stderr.contains("keystack: ") && !shows(&asked.stderr));
    assert!(
        run(sm(&["get", "mlflow_secret", "-o", "env"]))
            .ok()
            .stdout
            .contains(MARKER)
    );
    assert!(
        run(strings(&[
            "run",
            "--no-masking",
            "--",
            "sh",
            "-c",
            "echo \"$MLFLOW_TRACKING_PASSWORD\""
        ]))
        .ok()
        .stdout
        .contains(MARKER)
    );
    // A wrong store key is refused without a word of the store's content.
    let wrong_key = s.run_env(
        &["secrets-manager", "secret", "get", "mlflow_secret"],
        &[(
            "KEYSTACK_LOCAL_KEY",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        )],
    );
    assert_ne!(wrong_key.code, 0);
    assert!(!shows(&wrong_key.stdout) && !shows(&wrong_key.stderr));

    // Nowhere on disk in plain text: not the YAML, not the export, not the
    // encrypted store or its key file, not anything else in the sandbox.
    let files = s.snapshot();
    assert!(files.iter().any(|(p, _)| p.ends_with("exported.yaml")));
    for (path, bytes) in files {
        assert!(
            !MARKER
                .lines()
                .any(|line| bytes.windows(line.len()).any(|w| w == line.as_bytes())),
            "{} holds the value in plain text",
            path.display()
        );
    }
}

#[cfg(unix)]
#[test]
fn every_file_keystack_creates_is_the_owners_alone() {
    use std::os::unix::fs::PermissionsExt;

    let s = Sandbox::new();
    s.seed();
    s.run(&["stack", "export", "ml", "out/ml.yaml"]).ok();
    s.run(&["stack", "set", "default"]).ok();
    let mut checked = 0;
    let mut stack = vec![
        s.path().join(".keystack"),
        s.path().join("data"),
        s.path().join("out"),
    ];
    while let Some(path) = stack.pop() {
        let meta = std::fs::symlink_metadata(&path).unwrap();
        let mode = meta.permissions().mode() & 0o777;
        if meta.is_dir() {
            assert_eq!(mode, 0o700, "folder {} is {mode:o}", path.display());
            stack.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        } else {
            assert_eq!(mode, 0o600, "file {} is {mode:o}", path.display());
        }
        checked += 1;
    }
    assert!(checked > 10, "only {checked} paths checked");
}
