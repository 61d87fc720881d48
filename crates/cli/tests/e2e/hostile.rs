//! Hostile and bad input: every case is refused with a clear error and a
//! non-zero exit, quickly, and nothing already stored changes.

use std::time::{Duration, Instant};

use crate::Sandbox;
use crate::secret_args as sm;

#[test]
fn odd_value_sources_are_refused_and_change_nothing() {
    let s = Sandbox::new();
    s.run(&sm(&["register", "db", "--password=original"])).ok();
    let dir = s.path().join("a-folder");
    std::fs::create_dir(&dir).unwrap();
    // Outside the sandbox: its snapshot reads every file, and reading a
    // FIFO without a writer waits for ever.
    let pipes = tempfile::tempdir().unwrap();
    let fifo = pipes.path().join("fifo");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let before = s.snapshot();

    s.run(&sm(&["register", "k", &format!("--v=@{}", dir.display())]))
        .fails(2)
        .err_has("is a directory; @ reads a file");

    // A FIFO nobody writes to: a bounded wait, then a clear error.
    let started = Instant::now();
    s.run(&sm(&["register", "k", &format!("--v=@{}", fifo.display())]))
        .fails(2)
        .err_has("nothing was written to");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );

    // Standard input empty, or closed (Rust reopens it as /dev/null).
    s.run_stdin(&sm(&["register", "k", "--v=@-"]), b"")
        .fails(2)
        .err_has("standard input is empty");
    let closed = s
        .std_command()
        .args(sm(&["register", "k", "--v=@-"]))
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(closed.status.code(), Some(2));
    let closed_by_shell = std::process::Command::new("sh")
        .arg("-c")
        .arg("exec \"$0\" secrets-manager secret register k --v=@- <&-")
        .arg(crate::binary())
        .current_dir(s.path())
        .env("HOME", s.path().join("home"))
        .env("KEYSTACK_DATA_DIR", s.path().join("data"))
        .env_remove("KEYSTACK_CONFIG_DIR")
        .output()
        .unwrap();
    assert_eq!(closed_by_shell.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&closed_by_shell.stderr).contains("standard input is empty"));
    s.assert_unchanged(&before);

    // A pipe a program writes to (what `@<(pass show db)` gives) works.
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::write(fifo, "piped-value").unwrap())
    };
    s.run(&sm(&[
        "register",
        "piped",
        &format!("--v=@{}", fifo.display()),
    ]))
    .ok();
    writer.join().unwrap();
    assert_eq!(
        s.run(&sm(&["get", "piped", "--key", "v"])).ok().stdout,
        "piped-value\n"
    );
}

#[test]
fn hostile_names_and_keys_are_refused_without_echoing_control_characters() {
    let s = Sandbox::new();
    s.run(&sm(&["register", "db", "--password=original"])).ok();
    let before = s.snapshot();
    let long = "x".repeat(10_000);
    let names = [
        "",
        &long,
        "..",
        "a/b",
        "../etc",
        "a\u{7}b",
        "a\u{1b}[31mred",
        "a\u{202e}b",
        "é",
        " lead",
        "a b",
    ];
    for name in names {
        let run = s.run(&sm(&["register", name, "--k=v"]));
        assert_eq!(run.code, 2, "{name:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("secret name"),
            "{name:?}: {}",
            run.stderr
        );
        for raw in ['\u{7}', '\u{1b}', '\u{202e}'] {
            assert!(
                !run.stderr.contains(raw),
                "{name:?} echoed raw: {}",
                run.stderr
            );
        }
        assert!(
            run.stderr.len() < 2_000,
            "{name:?}: the message must stay short"
        );
    }
    let long_key = format!("--{}=v", "k".repeat(10_000));
    let keys = [
        "--=v",
        long_key.as_str(),
        "--..=v",
        "--.hidden=v",
        "--a/b=v",
        "--a\u{202e}b=v",
        "--a\u{7}b=v",
        "--a b=v",
    ];
    for key in keys {
        let run = s.run(&sm(&["register", "k", key]));
        assert_eq!(run.code, 2, "{key:?}: {}", run.stderr);
        for raw in ['\u{7}', '\u{202e}'] {
            assert!(
                !run.stderr.contains(raw),
                "{key:?} echoed raw: {}",
                run.stderr
            );
        }
    }
    s.assert_unchanged(&before);
}

#[test]
fn malformed_references_are_refused_where_they_are_written() {
    let s = Sandbox::new();
    let before = s.snapshot();
    for (i, value) in [
        "{{unclosed",
        "{{.key}}",
        "{{name.}}",
        "{{a.b}",
        "{{a.{{b.c}}}}",
        "{{a b.c}}",
        "{{a.b c}}",
        "ok {{a.b}} then {{",
        "{{a\u{202e}.b}}",
    ]
    .into_iter()
    .enumerate()
    {
        let run = s.run(&[
            "experiment-tracker",
            "register",
            &format!("t{i}"),
            "--flavor=mlflow",
            "--tracking_uri=http://127.0.0.1:5000",
            &format!("--tracking_password={value}"),
        ]);
        assert_eq!(run.code, 2, "{value:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("reference"),
            "{value:?}: {}",
            run.stderr
        );
    }
    assert_eq!(s.snapshot(), before, "a refused reference wrote something");
    // Braces around text without a '.' are no reference (Airflow's and
    // Jinja's `{{ ds }}`): kept as written, as ZenML kept them.
    for (i, value) in ["{{ ds }}", "{{}}", "{{name}}"].into_iter().enumerate() {
        s.run(&[
            "experiment-tracker",
            "register",
            &format!("literal{i}"),
            "--flavor=mlflow",
            &format!("--tracking_uri=http://mlflow/{value}"),
        ])
        .ok();
        s.run(&["experiment-tracker", "describe", &format!("literal{i}")])
            .ok()
            .out_has(&format!("http://mlflow/{value}"));
    }
}

#[test]
fn a_reference_inside_a_secret_value_stays_literal() {
    let s = Sandbox::new();
    s.run(&sm(&["register", "inner", "--v=never-resolved"]))
        .ok();
    s.run(&sm(&[
        "register",
        "mlflow_secret",
        "--username=admin",
        "--password={{inner.v}}",
    ]))
    .ok();
    s.register_mlflow_tracker();
    s.run(&[
        "stack", "register", "ml", "-o", "default", "-a", "default", "-x", "default", "-e",
        "mlflow", "--set",
    ])
    .ok();
    let run = s
        .run(&[
            "run",
            "--no-masking",
            "--",
            "sh",
            "-c",
            "echo $MLFLOW_TRACKING_PASSWORD",
        ])
        .ok();
    assert_eq!(
        run.stdout, "{{inner.v}}\n",
        "values are never resolved again"
    );
}

#[test]
fn a_hundred_thousand_references_in_one_attribute_resolve_in_bounded_time() {
    let s = Sandbox::new();
    s.run(&sm(&["register", "a", "--b=x"])).ok();
    let folder = s.path().join(".keystack/components/experiment_tracker");
    std::fs::create_dir_all(&folder).unwrap();
    let file = folder.join("big.yaml");
    std::fs::write(
        &file,
        format!(
            "type: experiment_tracker\nname: big\nflavor: mlflow\nattributes:\n  \
             tracking_uri: http://127.0.0.1:5000\n  tracking_password: \"{}\"\n",
            "{{a.b}}".repeat(100_000)
        ),
    )
    .unwrap();
    s.run(&[
        "stack", "register", "big", "-o", "default", "-a", "default", "-x", "default", "-e", "big",
        "--set",
    ])
    .ok();
    let started = Instant::now();
    s.run(&["stack", "validate"]).ok();
    let run = s
        .run(&[
            "run",
            "--no-masking",
            "--",
            "sh",
            "-c",
            "printf %s \"$MLFLOW_TRACKING_PASSWORD\" | wc -c",
        ])
        .ok();
    assert_eq!(run.stdout.trim(), "100000");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn hostile_stack_files_are_refused_quickly() {
    let s = Sandbox::new();
    let before = s.snapshot();
    let import = |name: &str, contents: &[u8]| {
        let file = s.path().join(name);
        std::fs::write(&file, contents).unwrap();
        s.run(&["stack", "import", file.to_str().unwrap()])
    };
    let started = Instant::now();
    // 100 MB (sparse: quick to make); never read past the 1 MiB limit.
    let huge = s.path().join("huge.yaml");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(100 * 1024 * 1024)
        .unwrap();
    s.run(&["stack", "import", huge.to_str().unwrap()])
        .fails(2)
        .err_has("over the 1048576-byte limit");
    // The same through a FIFO, whose writer counts what keystack read: no
    // more than the limit, plus what the pipe buffers.
    let fifo = s.path().join("endless.yaml");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            use std::io::Write;
            let mut out = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
            let chunk = [b'a'; 4096];
            let mut written = 0usize;
            while written < 100 * 1024 * 1024 && out.write_all(&chunk).is_ok() {
                written += chunk.len();
            }
            written
        })
    };
    s.run(&["stack", "import", fifo.to_str().unwrap()])
        .fails(2)
        .err_has("over the 1048576-byte limit");
    let written = writer.join().unwrap();
    assert!(
        written <= 1024 * 1024 + 4096 + 1024 * 1024,
        "keystack let {written} bytes be written into the FIFO"
    );
    std::fs::remove_file(&fifo).unwrap();
    import("deep.yaml", "[".repeat(100_000).as_bytes())
        .fails(2)
        .err_has("deep.yaml");
    import("types.yaml", b"stack: 5\ncomponents: nope\n")
        .fails(2)
        .err_has("types.yaml");
    import(
        "dup.yaml",
        b"stack:\n  name: a\n  name: b\n  components: {}\ncomponents: []\n",
    )
    .fails(2)
    .err_has("dup.yaml");
    import(
        "unknown.yaml",
        b"stack:\n  name: a\n  components: {}\n  colour: red\ncomponents: []\n",
    )
    .fails(2)
    .err_has("unknown.yaml");
    import(
        "flavor.yaml",
        b"stack:\n  name: a\n  components:\n    orchestrator: o\ncomponents:\n- type: orchestrator\n  name: o\n  flavor: teleporter\n  attributes: {}\n",
    )
    .fails(2)
    .err_has("teleporter");
    import("binary.yaml", &[0xff, 0xfe, b'a', b':'])
        .fails(2)
        .err_has("not UTF-8");
    s.run(&["stack", "import", "/no/such/stack.yaml"])
        .fails(2)
        .err_has("/no/such/stack.yaml");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    s.assert_unchanged(&before);

    // A hand-written stack naming a component that does not exist.
    std::fs::write(
        s.path().join(".keystack/stacks/ghost.yaml"),
        "name: ghost\ncomponents:\n  orchestrator: default\n  artifact_store: nowhere\n",
    )
    .unwrap();
    s.run(&["stack", "describe", "ghost"])
        .fails(3)
        .err_has("nowhere");
}
