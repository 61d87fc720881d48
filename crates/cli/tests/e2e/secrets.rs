//! `keystack secrets-manager secret …`: every command and the bad input it refuses.

use super::Sandbox;
use super::secret_args as args;

#[test]
fn register_get_list_update_delete() {
    let s = Sandbox::new();
    s.run(&args(&[
        "register",
        "db",
        "--user=admin",
        "--password",
        "p@ss word",
    ]))
    .ok();
    let get = s.run(&args(&["get", "db"])).ok();
    assert_eq!(
        get.stdout,
        "KEY       VALUE\npassword  p@ss word\nuser      admin\n"
    );
    assert_eq!(
        s.run(&args(&["get", "db", "--key", "password"]))
            .ok()
            .stdout,
        "p@ss word\n"
    );
    let json: serde_json::Value =
        serde_json::from_str(&s.run(&args(&["get", "db", "-o", "json"])).ok().stdout).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"password": "p@ss word", "user": "admin"})
    );
    s.run(&args(&["get", "db", "-o", "yaml"]))
        .ok()
        .out_has("user: admin");
    assert_eq!(
        s.run(&args(&["get", "db", "-o", "env"])).ok().stdout,
        "password='p@ss word'\nuser='admin'\n"
    );

    s.run(&args(&["register", "api", "--token=t"])).ok();
    assert_eq!(s.run(&args(&["list"])).ok().stdout, "NAME\napi\ndb\n");
    let names: Vec<String> =
        serde_json::from_str(&s.run(&args(&["list", "-o", "json"])).ok().stdout).unwrap();
    assert_eq!(names, ["api", "db"]);

    s.run(&args(&[
        "update",
        "db",
        "--password=new",
        "--port=5432",
        "--remove-key",
        "user",
    ]))
    .ok();
    let json: serde_json::Value =
        serde_json::from_str(&s.run(&args(&["get", "db", "-o", "json"])).ok().stdout).unwrap();
    assert_eq!(json, serde_json::json!({"password": "new", "port": "5432"}));

    s.run(&args(&["delete", "db", "-y"])).ok();
    s.run(&args(&["get", "db"]))
        .fails(3)
        .err_has("secret 'db' does not exist");
    s.run(&args(&["delete-all", "-y"]))
        .ok()
        .err_has("Deleted 1 secret(s)");
    assert_eq!(s.run(&args(&["list"])).ok().stdout, "NAME\n");
}

#[test]
fn values_from_files_stdin_and_literal_at() {
    let s = Sandbox::new();
    let file = s.path().join("cert.pem");
    std::fs::write(&file, "-----BEGIN-----\nline\n").unwrap();
    let at_file = format!("--cert=@{}", file.display());
    s.run(&args(&["register", "tls", &at_file, "--handle=@@me"]))
        .ok();
    assert_eq!(
        s.run(&args(&["get", "tls", "--key", "cert"])).ok().stdout,
        "-----BEGIN-----\nline\n\n"
    );
    assert_eq!(
        s.run(&args(&["get", "tls", "--key", "handle"])).ok().stdout,
        "@me\n"
    );
    s.run_stdin(&args(&["register", "piped", "--token=@-"]), b"from-stdin")
        .ok();
    assert_eq!(
        s.run(&args(&["get", "piped", "--key", "token"]))
            .ok()
            .stdout,
        "from-stdin\n"
    );
}

#[test]
fn typed_schemas() {
    let s = Sandbox::new();
    s.run(&args(&[
        "register",
        "creds",
        "--schema",
        "aws",
        "--aws_access_key_id=AKIA",
    ]))
    .fails(2)
    .err_has("schema 'aws' requires the key(s) 'aws_secret_access_key'");
    s.run(&args(&[
        "register",
        "creds",
        "--schema",
        "aws",
        "--aws_access_key_id=AKIA",
        "--aws_secret_access_key=s",
    ]))
    .ok();
    s.run(&args(&["update", "creds", "--region=x"]))
        .fails(2)
        .err_has("does not allow the key(s) 'region'");
    s.run(&args(&["register", "x", "--schema", "oauth", "--a=b"]))
        .fails(2)
        .err_has("known schemas are: arbitrary, aws, gcp, azure, basic_auth");
}

#[test]
fn bad_input_is_refused_and_changes_nothing() {
    let s = Sandbox::new();
    s.run(&args(&["register", "db", "--password=original"]))
        .ok();
    let before = s.snapshot();
    let not_utf8 = s.path().join("binary");
    std::fs::write(&not_utf8, [0xff, 0xfe, 0x00, 0x01]).unwrap();
    let big = s.path().join("big");
    std::fs::write(&big, vec![b'a'; 2 * 1024 * 1024]).unwrap();
    let cases: Vec<(Vec<String>, i32, &str)> = vec![
        (
            vec!["register".into(), "db".into(), "--password=x".into()],
            5,
            "already exists",
        ),
        (
            vec!["register".into(), "bad.name".into(), "--a=b".into()],
            2,
            "character '.' at position 4",
        ),
        (
            vec!["register".into(), "x".repeat(101), "--a=b".into()],
            2,
            "the limit is 100",
        ),
        (
            vec!["register".into(), "empty".into()],
            2,
            "at least one key-value pair",
        ),
        (
            vec!["register".into(), "k".into(), "--bad key=v".into()],
            2,
            "character ' ' at position 4",
        ),
        (
            vec![
                "register".into(),
                "k".into(),
                "--a=1".into(),
                "--a=2".into(),
            ],
            2,
            "--a is given twice",
        ),
        (
            vec!["register".into(), "k".into(), "positional-value".into()],
            2,
            "give key-value pairs as --KEY=VALUE",
        ),
        (
            vec![
                "register".into(),
                "k".into(),
                format!("--v=@{}", not_utf8.display()),
            ],
            2,
            "not UTF-8",
        ),
        (
            vec![
                "register".into(),
                "k".into(),
                format!("--v=@{}", big.display()),
            ],
            2,
            "limited to 1048576 bytes",
        ),
        (
            vec!["register".into(), "k".into(), "--v=@/no/such/file".into()],
            2,
            "cannot read file /no/such/file",
        ),
        (
            vec![
                "update".into(),
                "db".into(),
                "--remove-key".into(),
                "nope".into(),
            ],
            3,
            "has no key 'nope'",
        ),
        (
            vec![
                "update".into(),
                "db".into(),
                "--remove-key".into(),
                "password".into(),
            ],
            2,
            "at least one key-value pair",
        ),
        (vec!["update".into(), "db".into()], 2, "nothing to update"),
        (
            vec!["update".into(), "missing".into(), "--a=b".into()],
            3,
            "does not exist",
        ),
        (
            vec!["get".into(), "db".into(), "--key".into(), "nope".into()],
            3,
            "has no key 'nope'",
        ),
        (vec!["delete".into(), "db".into()], 2, "pass -y"),
        (vec!["delete-all".into()], 2, "pass -y"),
        (
            vec!["register".into(), "k".into(), "-i".into()],
            2,
            "standard input is not a terminal",
        ),
    ];
    for (rest, code, message) in cases {
        let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
        s.run(&args(&rest)).fails(code).err_has(message);
    }
    s.assert_unchanged(&before);
    assert_eq!(
        s.run(&args(&["get", "db", "--key", "password"]))
            .ok()
            .stdout,
        "original\n"
    );
}

#[test]
fn wrong_store_key_is_a_clear_error() {
    let s = Sandbox::new();
    s.run(&args(&["register", "db", "--password=x"])).ok();
    let before = s.snapshot();
    let other_key = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    s.run_env(&args(&["list"]), &[("KEYSTACK_LOCAL_KEY", other_key)])
        .fails(6)
        .err_has("is not the key this store was created with");
    assert_eq!(s.snapshot(), before);
}

#[test]
fn no_secrets_manager_in_the_stack() {
    let s = Sandbox::new();
    s.run(&[
        "stack", "register", "bare", "-o", "default", "-a", "default", "--set",
    ])
    .ok();
    s.run(&args(&["list"]))
        .fails(3)
        .err_has("stack 'bare' has no secrets manager");
}

#[test]
fn values_never_reach_errors_or_listings() {
    let s = Sandbox::new();
    let canary = "CANARY-d00d-1234";
    s.run(&args(&["register", "db", &format!("--password={canary}")]))
        .ok();
    let outputs = [
        s.run(&args(&["register", "db", &format!("--password={canary}")])),
        s.run(&args(&[
            "update",
            "db",
            &format!("--x={canary}"),
            "--remove-key",
            "nope",
        ])),
        s.run(&args(&["list"])),
        s.run(&args(&["list", "-o", "yaml"])),
        s.run(&args(&["register", "k", canary])),
    ];
    for run in outputs {
        assert!(
            !run.stdout.contains(canary) && !run.stderr.contains(canary),
            "{}{}",
            run.stdout,
            run.stderr
        );
    }
}

#[test]
fn values_on_the_command_line_draw_a_warning_naming_keys_not_values() {
    let s = Sandbox::new();
    let warned = s
        .run(&[
            "secrets-manager",
            "secret",
            "register",
            "db",
            "--user=argv-user-value",
            "--password=argv-password-value",
        ])
        .ok()
        .err_has("warning: the value of --user, --password was given on the command line")
        .err_has("-i")
        .err_has("--KEY=@file");
    assert!(
        !warned.stderr.contains("argv-password-value")
            && !warned.stderr.contains("argv-user-value"),
        "{}",
        warned.stderr
    );
    // Files, standard input, prompts and empty values are not visible in `ps`.
    std::fs::write(s.path().join("pw"), "from-a-file").unwrap();
    let quiet = s
        .run(&[
            "secrets-manager",
            "secret",
            "update",
            "db",
            "--password=@pw",
        ])
        .ok();
    assert!(!quiet.stderr.contains("warning"), "{}", quiet.stderr);
    let quiet = s
        .run_stdin(
            &["secrets-manager", "secret", "update", "db", "--user=@-"],
            b"from-stdin",
        )
        .ok();
    assert!(!quiet.stderr.contains("warning"), "{}", quiet.stderr);
    // `@@x` is the literal `@x`: on the command line, so warned about.
    s.run(&["secrets-manager", "secret", "update", "db", "--user=@@x"])
        .ok()
        .err_has("warning: the value of --user");
    let silenced = s
        .run_env(
            &["secrets-manager", "secret", "update", "db", "--user=again"],
            &[("KEYSTACK_NO_ARGV_WARNING", "1")],
        )
        .ok();
    assert!(!silenced.stderr.contains("warning"), "{}", silenced.stderr);
}

/// Written by ZenML 0.35.1's local secrets manager itself.
const ZENML_SECRETS: &str =
    include_str!("../../../stack/tests/data/zenml/local-secrets-0.35.1.yaml");

#[test]
fn zenml_local_secrets_import_whole_secrets_and_leave_existing_names() {
    let s = Sandbox::new();
    let file = s.path().join("secrets.yaml");
    std::fs::write(&file, ZENML_SECRETS).unwrap();
    let file = file.to_str().unwrap();
    s.run(&args(&["import", file, "--dry-run"]))
        .ok()
        .err_has("Would import 3 secret(s)")
        .err_has("nothing was changed");
    assert_eq!(s.run(&args(&["list"])).ok().stdout, "NAME\n");

    s.run(&args(&["register", "s_10", "--a=mine"])).ok();
    s.run(&args(&["import", file]))
        .ok()
        .err_has("Imported 2 secret(s)")
        .err_has("s_1, s_100")
        .err_has("skipped 1 it already has (left as they are): s_10");
    let s1: serde_json::Value =
        serde_json::from_str(&s.run(&args(&["get", "s_1", "-o", "json"])).ok().stdout).unwrap();
    assert_eq!(s1, serde_json::json!({"a": "1", "b": "2"}));
    let mine: serde_json::Value =
        serde_json::from_str(&s.run(&args(&["get", "s_10", "-o", "json"])).ok().stdout).unwrap();
    assert_eq!(
        mine,
        serde_json::json!({"a": "mine"}),
        "an existing secret is left as it is"
    );

    // Running it again finishes with nothing to do.
    s.run(&args(&["import", file]))
        .ok()
        .err_has("Imported 0 secret(s)")
        .err_has("skipped 3");

    // Names not in the file, and a file with one bad entry: nothing written.
    let before = s.snapshot();
    s.run(&args(&["import", file, "s_1", "nope"]))
        .fails(3)
        .err_has("has no secret 'nope'; nothing was written");
    let bad = format!(
        "{ZENML_SECRETS}broken:\n  a: '%%%'\n  zenml_schema_name: arbitrary\nfresh:\n  a: MQ==\n  zenml_schema_name: arbitrary\n"
    );
    let bad_file = s.path().join("bad.yaml");
    std::fs::write(&bad_file, bad).unwrap();
    s.run(&args(&["import", bad_file.to_str().unwrap()]))
        .fails(2)
        .err_has("cannot be imported; nothing was written. 1 problem(s)")
        .err_has("secret 'broken': the value of key 'a' is not base64");
    s.assert_unchanged(&before);
    s.run(&args(&["get", "fresh"])).fails(3);
}
