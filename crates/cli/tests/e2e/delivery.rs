//! Delivering secrets where programs expect them: `run --env`,
//! `--env-file`, `--file` (and attributes delivered as files), `inject`,
//! `run --only`, CI masking, and External Secrets manifests.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use keystack_secrets_core::testkit::CountingProxy;

use crate::{Sandbox, emulator_var, secret_args};

const PEM: &str = "-----BEGIN KEY-----\ndl-line-one-9f\ndl-line-two-4c\n-----END KEY-----";

/// A sandbox whose store holds `db` (user, password) and `pem` (a
/// multi-line key).
fn with_secrets() -> Sandbox {
    let s = Sandbox::new();
    s.run_stdin(
        &secret_args(&["register", "db", "--user=dl-ana", "--password=@-"]),
        b"dl-pw-7c1e",
    )
    .ok();
    s.run_stdin(
        &secret_args(&["register", "pem", "--key=@-"]),
        PEM.as_bytes(),
    )
    .ok();
    s
}

#[test]
fn templated_variables_are_validated_resolved_and_masked() {
    let s = with_secrets();
    let url = "DATABASE_URL=postgres://{{db.user}}:{{db.password}}@db:5432/ml";
    s.run(&[
        "run",
        "--no-masking",
        "--env",
        url,
        "--",
        "sh",
        "-c",
        "echo $DATABASE_URL",
    ])
    .ok()
    .out_has("postgres://dl-ana:dl-pw-7c1e@db:5432/ml");
    // Masked like every other value.
    let masked = s
        .run(&["run", "--env", url, "--", "sh", "-c", "echo $DATABASE_URL"])
        .ok();
    assert!(!masked.stdout.contains("dl-pw-7c1e"), "{}", masked.stdout);
    assert!(masked.stdout.contains("@db:5432/ml"), "{}", masked.stdout);

    // A dotenv file of templates; `--env` wins over it.
    let env_file = s.path().join("job.env");
    std::fs::write(
        &env_file,
        "# the job's variables\nDATABASE_URL=postgres://{{db.user}}@db/ml\nMODE='batch'\nKEY=\"{{pem.key}}\"\n",
    )
    .unwrap();
    let env_file = env_file.to_str().unwrap();
    let out = s
        .run(&[
            "run",
            "--no-masking",
            "--env-file",
            env_file,
            "--env",
            "MODE=stream",
            "--",
            "sh",
            "-c",
            "echo \"$DATABASE_URL|$MODE\"; printf '%s' \"$KEY\" | wc -l",
        ])
        .ok();
    assert!(
        out.stdout.contains("postgres://dl-ana@db/ml|stream"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains('3'),
        "a multi-line value whole: {}",
        out.stdout
    );

    // A missing secret or key is found before anything runs, with where
    // it was given; validation of the stack's own references runs too.
    let marker = s.path().join("ran");
    let touch = format!("touch {}", marker.display());
    s.run(&[
        "run",
        "--env",
        "A={{db.nope}}",
        "--env-file",
        env_file,
        "--file",
        "F={{ghost.k}}",
        "--",
        "sh",
        "-c",
        &touch,
    ])
    .fails(4)
    .err_has("2 problem(s)")
    .err_has("--env A: {{db.nope}} refers to key 'nope' of secret 'db'")
    .err_has("--file F: {{ghost.k}} refers to secret 'ghost', which does not exist");
    assert!(!marker.exists(), "the command ran");
    // Bad input: a clear error, exit 2.
    s.run(&["run", "--env", "A={{db.}}", "--", "true"])
        .fails(2)
        .err_has("--env A: invalid secret reference");
    s.run(&["run", "--env", "1A=x", "--", "true"])
        .fails(2)
        .err_has("not a variable name");
    s.run(&["run", "--env", "noequals", "--", "true"])
        .fails(2)
        .err_has("--env takes NAME=TEMPLATE");
    s.run(&["run", "--env", "X=1", "--file", "X=2", "--", "true"])
        .fails(2)
        .err_has("both as a variable");
}

/// The run folders of the sandbox's user (`XDG_RUNTIME_DIR` is the sandbox's).
fn run_folders(s: &Sandbox) -> Vec<PathBuf> {
    let runs = s.path().join("runtime/keystack/runs");
    std::fs::read_dir(&runs)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default()
}

fn runtime_env(s: &Sandbox) -> (String, String) {
    let runtime = s.path().join("runtime");
    std::fs::create_dir_all(&runtime).unwrap();
    std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700)).unwrap();
    ("XDG_RUNTIME_DIR".into(), runtime.to_str().unwrap().into())
}

#[test]
fn files_are_private_and_removed_when_the_command_ends() {
    let s = with_secrets();
    let (k, v) = runtime_env(&s);
    let env = [(k.as_str(), v.as_str())];
    let script = "f=$CREDS; printf '%s|' \"$(stat -c %a \"$f\")\" \"$(stat -c %a \"$(dirname \"$f\")\")\"; cat \"$f\"; echo; echo \"$GOOGLE_APPLICATION_CREDENTIALS\"";
    s.run(&[
        "artifact-store",
        "register",
        "gcs",
        "--flavor=gcp",
        "--path=gs://bucket",
        "--service_account_key={{pem.key}}",
    ])
    .ok();
    s.run(&["stack", "update", "default", "-a", "gcs"]).ok();
    let out = s
        .run_env(
            &[
                "run",
                "--no-masking",
                "--file",
                "CREDS={\"user\": \"{{db.user}}\", \"password\": \"{{db.password}}\"}",
                "--",
                "sh",
                "-c",
                script,
            ],
            &env,
        )
        .ok();
    assert!(
        out.stdout
            .starts_with("600|700|{\"user\": \"dl-ana\", \"password\": \"dl-pw-7c1e\"}\n"),
        "{}",
        out.stdout
    );
    // The attribute declared as a file: its path in the variable.
    let creds = out.stdout.lines().nth(1).unwrap();
    assert!(
        creds.ends_with("/GOOGLE_APPLICATION_CREDENTIALS"),
        "{creds}"
    );
    assert!(
        !out.stdout.contains("dl-line-one-9f"),
        "the key itself is not in the environment"
    );
    assert!(
        run_folders(&s).is_empty(),
        "left behind: {:?}",
        run_folders(&s)
    );
    // Also when the command fails.
    let failed = s.run_env(&["run", "--file", "CREDS={{db.user}}", "--", "false"], &env);
    assert_eq!(failed.code, 1);
    assert!(run_folders(&s).is_empty());
}

/// Starts `keystack run --file CREDS=… -- sh -c 'echo $$ "$CREDS"; exec sleep 60'`
/// and gives the process, the command's pid and the file's path.
fn started_with_a_file(s: &Sandbox, env: &[(&str, &str)]) -> (Child, i32, PathBuf) {
    let mut command = s.std_command();
    command
        .args([
            "run",
            "-q",
            "--file",
            "CREDS={{db.password}}",
            "--",
            "sh",
            "-c",
            "echo $$ \"$CREDS\"; exec sleep 60",
        ])
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = command.spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let (pid, path) = line.trim().split_once(' ').expect("pid and path");
    let path = PathBuf::from(path);
    assert!(path.is_file(), "{path:?}");
    (child, pid.parse().unwrap(), path)
}

fn wait_gone(path: &Path) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while path.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    !path.exists()
}

fn kill(pid: i32, signal: &str) {
    assert!(
        Command::new("kill")
            .args([signal, &pid.to_string()])
            .status()
            .unwrap()
            .success()
    );
}

#[test]
fn files_are_removed_after_a_forwarded_sigterm() {
    let s = with_secrets();
    let (k, v) = runtime_env(&s);
    let env = [(k.as_str(), v.as_str())];
    let (mut keystack, _, path) = started_with_a_file(&s, &env);
    kill(keystack.id() as i32, "-TERM");
    let status = keystack.wait().unwrap();
    // The command got the signal (143 = 128 + SIGTERM) and keystack cleaned up.
    assert_eq!(status.code(), Some(143), "{status:?}");
    assert!(!path.exists(), "{path:?} is still there");
    assert!(run_folders(&s).is_empty());
}

#[test]
fn files_left_by_a_killed_keystack_are_removed_by_the_next_run() {
    let s = with_secrets();
    let (k, v) = runtime_env(&s);
    let env = [(k.as_str(), v.as_str())];
    let (mut keystack, command, path) = started_with_a_file(&s, &env);
    kill(keystack.id() as i32, "-KILL");
    keystack.wait().unwrap();
    // While the command it started still runs, its files stay: another
    // run leaves them.
    s.run_env(&["run", "--", "true"], &env).ok();
    assert!(path.exists(), "removed under a running command");
    kill(command, "-KILL");
    assert!(wait_gone(Path::new(&format!("/proc/{command}"))));
    // Then the next run removes them.
    s.run_env(&["run", "--", "true"], &env).ok();
    assert!(!path.exists(), "{path:?} is still there");
    assert!(run_folders(&s).is_empty(), "{:?}", run_folders(&s));
}

#[test]
fn inject_renders_a_file_through_the_stack() {
    let s = with_secrets();
    let template = s.path().join("app.yaml.tpl");
    std::fs::write(
        &template,
        "db:\n  url: postgres://{{db.user}}:{{db.password}}@db/ml\n  literal: \\{{not.a_ref}}\n  jinja: {{ ds }}\n",
    )
    .unwrap();
    let template = template.to_str().unwrap();
    let expected = "db:\n  url: postgres://dl-ana:dl-pw-7c1e@db/ml\n  literal: {{not.a_ref}}\n  jinja: {{ ds }}\n";
    assert_eq!(s.run(&["inject", "-i", template]).ok().stdout, expected);
    let out = s.path().join("app.yaml");
    let out_str = out.to_str().unwrap();
    s.run(&["inject", "-i", template, "-o", out_str]).ok();
    assert_eq!(std::fs::read_to_string(&out).unwrap(), expected);
    assert_eq!(
        std::fs::metadata(&out).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // An existing file is kept unless --force.
    std::fs::write(&out, "mine\n").unwrap();
    s.run(&["inject", "-i", template, "-o", out_str])
        .fails(5)
        .err_has("give --force");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "mine\n");
    s.run(&["inject", "-i", template, "-o", out_str, "--force"])
        .ok();
    assert_eq!(std::fs::read_to_string(&out).unwrap(), expected);
    assert_eq!(
        std::fs::metadata(&out).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // Standard input; missing references reported whole, nothing written.
    s.run_stdin(&["inject", "-i", "-"], b"k={{pem.key}}\n")
        .ok()
        .out_has("dl-line-two-4c");
    let bad = s.path().join("bad.out");
    s.run_stdin(
        &["inject", "-i", "-", "-o", bad.to_str().unwrap()],
        b"{{db.nope}} {{ghost.k}}",
    )
    .fails(4)
    .err_has("standard input: {{db.nope}}")
    .err_has("standard input: {{ghost.k}}");
    assert!(!bad.exists());
    let leak = s.run_stdin(&["inject", "-i", "-"], b"{{db.}} dl-pw-7c1e");
    assert_eq!(leak.code, 2);
    assert!(!leak.stderr.contains("dl-pw-7c1e"), "{}", leak.stderr);
}

#[test]
fn ci_masking_prints_each_value_and_line_before_the_command() {
    let s = with_secrets();
    let args = [
        "run",
        "-q",
        "--env",
        "K={{pem.key}}",
        "--env",
        "P={{db.password}}",
        "--",
        "echo",
        "child-output",
    ];
    let out = s.run_env(&args, &[("GITHUB_ACTIONS", "true")]).ok().stdout;
    let lines: Vec<&str> = out.lines().collect();
    for line in [
        "::add-mask::-----BEGIN KEY-----",
        "::add-mask::dl-line-one-9f",
        "::add-mask::dl-line-two-4c",
        "::add-mask::-----END KEY-----",
        "::add-mask::dl-pw-7c1e",
    ] {
        let at = lines.iter().position(|l| *l == line);
        let child = lines.iter().position(|l| *l == "child-output");
        assert!(
            at.is_some() && at < child,
            "{line} before the command's output:\n{out}"
        );
    }
    assert!(!out.contains("%0A"), "a multi-line value goes line by line");
    // Not outside CI; on with --ci-mask.
    let plain = s.run_env(&args, &[("GITHUB_ACTIONS", "")]).ok().stdout;
    assert!(!plain.contains("::add-mask::"), "{plain}");
    let mut forced = args.to_vec();
    forced.insert(2, "--ci-mask");
    s.run_env(&forced, &[("GITHUB_ACTIONS", "")])
        .ok()
        .out_has("::add-mask::dl-pw-7c1e");
}

#[test]
fn only_the_named_components_are_validated_fetched_and_delivered() {
    let what = "the --only test on OpenBao";
    let Some((addr, token)) = emulator_var("KEYSTACK_TEST_VAULT_ADDR", what)
        .zip(emulator_var("KEYSTACK_TEST_VAULT_TOKEN", what))
    else {
        return;
    };
    let proxy = CountingProxy::start(&addr);
    let s = Sandbox::new();
    let ns = format!("only{}", std::process::id());
    let env = [("VAULT_TOKEN", token.as_str()), ("BAO_TOKEN", "")];
    s.run_env(
        &[
            "secrets-manager",
            "register",
            "bao",
            "--flavor=vault",
            &format!("--url={}", proxy.url()),
            &format!("--namespace={ns}"),
        ],
        &env,
    )
    .ok();
    s.run(&[
        "experiment-tracker",
        "register",
        "mlflow",
        "--flavor=mlflow",
        "--tracking_uri=http://127.0.0.1:5000",
        "--tracking_password={{tracker.password}}",
    ])
    .ok();
    s.run(&[
        "alerter",
        "register",
        "slack",
        "--flavor=slack",
        "--slack_token={{alerts.token}}",
    ])
    .ok();
    s.run(&[
        "stack", "register", "ml", "-o", "default", "-a", "default", "-x", "bao", "-e", "mlflow",
        "-al", "slack", "--set",
    ])
    .ok();
    s.run_env(
        &secret_args(&["register", "tracker", "--password=dl-tr-pw"]),
        &env,
    )
    .ok();

    // The alerter's secret does not exist: the whole stack fails, the
    // tracker alone runs.
    s.run_env(&["run", "--", "true"], &env)
        .fails(4)
        .err_has("secret 'alerts'");
    proxy.reset();
    let out = s
        .run_env(
            &[
                "run",
                "--no-masking",
                "--only",
                "experiment_tracker",
                "--env",
                "AGAIN={{tracker.password}}",
                "--",
                "sh",
                "-c",
                "echo \"$MLFLOW_TRACKING_PASSWORD|$AGAIN|${SLACK_BOT_TOKEN:-unset}\"",
            ],
            &env,
        )
        .ok();
    assert!(
        out.stdout.contains("dl-tr-pw|dl-tr-pw|unset"),
        "{}",
        out.stdout
    );
    let requests = proxy.requests();
    assert!(
        requests.iter().all(|r| !r.contains("alerts")),
        "the alerter's secret was asked for: {requests:#?}"
    );
    // The tracker's secret was read once, for validation and both uses.
    let reads = requests
        .iter()
        .filter(|r| r.contains("/data/") && r.contains("tracker"))
        .count();
    assert_eq!(reads, 1, "{requests:#?}");
    // By name too, and the same budget.
    proxy.reset();
    s.run_env(&["run", "--only", "mlflow", "--", "true"], &env)
        .ok();
    assert_eq!(
        proxy
            .requests()
            .iter()
            .filter(|r| r.contains("/data/"))
            .count(),
        1,
        "{:#?}",
        proxy.requests()
    );
    s.run_env(&["run", "--only", "nothing", "--", "true"], &env)
        .fails(3)
        .err_has("has no component 'nothing'")
        .err_has("experiment_tracker 'mlflow'");
    s.run_env(&secret_args(&["delete-all", "-y"]), &env).ok();
}

/// Checks `manifests` against the operator's CRD schemas (`eso_schema.py`).
fn fits_the_operators_schemas(manifests: &str) {
    use std::io::Write;
    let python = std::env::var("KEYSTACK_TEST_PYTHON").expect("KEYSTACK_TEST_PYTHON");
    let crds = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../stack/tests/data/external-secrets"
    );
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/e2e/eso_schema.py");
    let mut child = Command::new(python)
        .args([script, crds])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(manifests.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{report}\n{manifests}");
    assert!(
        report.contains("SecretStore") && report.contains("ExternalSecret"),
        "{report}"
    );
}

#[test]
fn external_secrets_manifests_fit_the_operators_schemas() {
    // The schema check needs the emulators' Python (jsonschema, PyYAML).
    if emulator_var("KEYSTACK_TEST_PYTHON", "the External Secrets schema check").is_none() {
        return;
    }
    let s = Sandbox::new();
    s.run(&[
        "experiment-tracker",
        "register",
        "mlflow",
        "--flavor=mlflow",
        "--tracking_uri=https://{{db.user}}:{{db.password}}@mlflow:5000/\\{{literal}}",
        "--tracking_password={{mlflow_secret.password}}",
    ])
    .ok();
    s.run(&[
        "alerter",
        "register",
        "slack",
        "--flavor=slack",
        "--slack_token={{slack.token}}",
    ])
    .ok();
    let managers: [(&str, &[&str], &str); 4] = [
        (
            "aws",
            &["--region_name=eu-west-1", "--namespace=prod"],
            "keystack/prod/db",
        ),
        ("gcp", &["--project_id=ml-prod"], "keystack-db"),
        (
            "azure",
            &["--key_vault_name=ml-vault", "--namespace=prod"],
            "keystack4-prod-db",
        ),
        (
            "vault",
            &["--url=https://vault.example:8200", "--vault_namespace=ml"],
            "keystack/db",
        ),
    ];
    for (flavor, settings, remote_db) in managers {
        let mut register = vec![
            "secrets-manager".to_owned(),
            "register".to_owned(),
            format!("{flavor}_sm"),
            format!("--flavor={flavor}"),
        ];
        register.extend(settings.iter().map(|s| s.to_string()));
        let register: Vec<&str> = register.iter().map(String::as_str).collect();
        s.run(&register).ok();
        let stack = format!("on_{flavor}");
        s.run(&[
            "stack",
            "register",
            &stack,
            "-o",
            "default",
            "-a",
            "default",
            "-x",
            &format!("{flavor}_sm"),
            "-e",
            "mlflow",
            "-al",
            "slack",
        ])
        .ok();
        let out = s
            .run_env(
                &[
                    "stack",
                    "export",
                    &stack,
                    "-",
                    "--format",
                    "external-secrets",
                ],
                &[("VAULT_TOKEN", "unused"), ("BAO_TOKEN", "")],
            )
            .ok();
        let manifests = out.stdout;
        fits_the_operators_schemas(&manifests);
        // One store, one ExternalSecret per component with references;
        // the Secret's keys are the variables `keystack run` sets.
        let kinds = |kind: &str| manifests.lines().filter(|l| *l == kind).count();
        assert_eq!(kinds("kind: SecretStore"), 1, "{manifests}");
        assert_eq!(kinds("kind: ExternalSecret"), 2, "{manifests}");
        for needle in [
            &format!("key: {remote_db}")[..],
            "property: password",
            "MLFLOW_TRACKING_URI: https://{{ .ref0 }}:{{ .ref1 }}{{ \"@mlflow:5000/{{literal}}\" }}",
            "MLFLOW_TRACKING_PASSWORD: \"{{ .ref2 }}\"",
            "SLACK_BOT_TOKEN: \"{{ .ref0 }}\"",
            "name: on-",
        ] {
            assert!(manifests.contains(needle), "{needle} in:\n{manifests}");
        }
    }
    // The local store: refused, with the reason.
    s.run(&[
        "stack",
        "export",
        "default",
        "-",
        "--format",
        "external-secrets",
    ])
    .fails(2)
    .err_has("this machine's store, which a cluster cannot read");
}
