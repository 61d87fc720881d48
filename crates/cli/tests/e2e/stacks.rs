//! `keystack stack …` and the validation rules that involve whole stacks.

use super::Sandbox;

#[test]
fn register_list_describe_set_update_delete() {
    let s = Sandbox::new();
    s.run(&[
        "experiment-tracker",
        "register",
        "mlflow",
        "--flavor=mlflow",
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
    s.run(&[
        "stack", "register", "ml", "-o", "default", "-a", "default", "-x", "default", "-e",
        "mlflow", "-al", "slack",
    ])
    .ok();
    s.run(&["stack", "register", "ml", "-o", "default"])
        .fails(5);
    s.run(&["stack", "register", "broken", "-o", "nope"])
        .fails(3)
        .err_has("orchestrator 'nope' does not exist");
    let list = s.run(&["stack", "list"]).ok();
    assert!(
        list.stdout
            .lines()
            .any(|l| l.starts_with('*') && l.contains("default")),
        "{}",
        list.stdout
    );
    s.run(&["stack", "describe", "ml"])
        .ok()
        .out_has("experiment_tracker  mlflow");
    s.run(&["stack", "set", "ml"]).ok();
    s.run(&["stack", "describe"])
        .ok()
        .out_has("stack 'ml' (active)");
    s.run(&["stack", "update", "ml", "--remove", "alerter"])
        .ok();
    s.run(&["stack", "describe", "ml", "--output", "json"])
        .ok()
        .out_has("\"experiment_tracker\": \"mlflow\"");
    s.run(&["stack", "delete", "ml"])
        .fails(2)
        .err_has("is the active stack");
    s.run(&["stack", "set", "default"]).ok();
    s.run(&["stack", "delete", "ml"]).ok();
    s.run(&["stack", "describe", "ml"]).fails(3);
    s.run(&["stack", "set", "defualt"])
        .fails(3)
        .err_has("did you mean 'default'?");
}

#[test]
fn local_secrets_manager_with_remote_orchestrator_fails_validation() {
    let s = Sandbox::new();
    s.run(&["orchestrator", "register", "k8s", "--flavor=kubernetes"])
        .ok();
    s.run(&[
        "stack", "register", "remote", "-o", "k8s", "-a", "default", "-x", "default",
    ])
    .ok();
    s.run(&["stack", "validate", "remote"])
        .fails(4)
        .err_has("secrets manager 'default' is local to this machine but orchestrator 'k8s' (kubernetes) runs elsewhere")
        .err_has("use a cloud secrets manager");
}

#[test]
fn references_without_a_secrets_manager_fail_validation() {
    let s = Sandbox::new();
    s.run(&[
        "experiment-tracker",
        "register",
        "m",
        "--flavor=mlflow",
        "--tracking_password={{mlflow.password}}",
    ])
    .ok();
    s.run(&[
        "stack", "register", "nosm", "-o", "default", "-a", "default", "-e", "m",
    ])
    .ok();
    s.run(&["stack", "validate", "nosm"])
        .fails(4)
        .err_has("refer to secrets but the stack has no secrets manager")
        .err_has("keystack stack update nosm -x NAME");
}

#[test]
fn export_and_import_round_trip() {
    let s = Sandbox::new();
    s.seed();
    let file = s.path().join("ml.yaml");
    s.run(&["stack", "export", "ml", file.to_str().unwrap()])
        .ok();
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.contains("{{mlflow_secret.password}}") && !text.contains("abc123"),
        "{text}"
    );

    let other = Sandbox::new();
    other
        .run(&["stack", "import", file.to_str().unwrap()])
        .ok()
        .err_has("Imported stack 'ml'");
    other
        .run(&["stack", "describe", "ml"])
        .ok()
        .out_has("mlflow");
    other
        .run(&["stack", "import", file.to_str().unwrap()])
        .fails(5);
    other
        .run(&["stack", "import", file.to_str().unwrap(), "--name", "ml2"])
        .ok();

    std::fs::write(&file, text.replace("tracking_uri", "tracking_url")).unwrap();
    let third = Sandbox::new();
    let before = third.snapshot();
    third
        .run(&["stack", "import", file.to_str().unwrap()])
        .fails(2)
        .err_has("did you mean 'tracking_uri'");
    assert_eq!(third.snapshot(), before, "a refused import wrote something");
}

#[test]
fn hostile_yaml_is_refused() {
    // Aliases in a file that is otherwise a valid stack export, so that
    // nothing but the alias budget can stop it: 5,000 references to one
    // component whose attribute is 1 KiB (5 MB once expanded; a real bomb
    // nests them, which a valid export cannot).
    let s = Sandbox::new();
    let file = s.path().join("bomb.yaml");
    let mut bomb = format!(
        "stack:\n  name: bombed\n  components: {{experiment_tracker: m}}\ncomponents:\n  - &c {{type: experiment_tracker, name: m, flavor: mlflow, attributes: {{tracking_uri: {}}}}}\n",
        "x".repeat(1024)
    );
    for _ in 0..5_000 {
        bomb.push_str("  - *c\n");
    }
    std::fs::write(&file, bomb).unwrap();
    let started = std::time::Instant::now();
    let run = s
        .run(&["stack", "import", file.to_str().unwrap()])
        .fails(2)
        .err_has("bomb.yaml");
    // Stopped by the parser's budget while it expanded the aliases (each
    // expansion counts against the scalar bytes allowed), not by a schema check.
    assert!(
        run.stderr
            .contains("too large or too complex: limits breached")
            && run.stderr.contains("(defined at line 5"),
        "stopped by the expansion budget: {}",
        run.stderr
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

#[test]
fn project_is_found_from_subfolders_and_config_dir_is_the_fallback() {
    let s = Sandbox::new();
    let sub = s.path().join("a/b");
    std::fs::create_dir_all(&sub).unwrap();
    let run = s
        .command()
        .current_dir(&sub)
        .args(["stack", "list"])
        .output()
        .unwrap();
    assert!(run.status.success());
    assert!(String::from_utf8_lossy(&run.stdout).contains("default"));

    // Outside any project: the config directory.
    let empty = Sandbox::empty();
    let config = empty.path().join("config");
    let run = empty
        .command()
        .env("KEYSTACK_CONFIG_DIR", &config)
        .args(["stack", "list"])
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    empty.run(&["init"]).ok();
    empty.run(&["init"]).fails(2).err_has("already initialized");
}

#[test]
fn validation_reports_every_problem_at_once() {
    let s = Sandbox::new();
    s.run(&["orchestrator", "register", "k8s", "--flavor=kubernetes"])
        .ok();
    s.run(&[
        "experiment-tracker",
        "register",
        "m",
        "--flavor=mlflow",
        "--tracking_password={{missing.password}}",
    ])
    .ok();
    s.run(&[
        "stack", "register", "bad", "-o", "k8s", "-a", "default", "-x", "default", "-e", "m",
    ])
    .ok();
    s.run(&["stack", "validate", "bad"])
        .fails(4)
        .err_has("2 problem(s)")
        .err_has("runs elsewhere")
        .err_has("secret 'missing', which does not exist");
}

#[test]
fn concurrency_is_configurable_and_checked() {
    let s = Sandbox::new();
    s.register_mlflow_secret();
    s.register_mlflow_tracker();
    s.run(&[
        "stack", "register", "st", "-o", "default", "-a", "default", "-x", "default", "-e",
        "mlflow", "--set",
    ])
    .ok();
    s.run_env(&["stack", "validate"], &[("KEYSTACK_CONCURRENCY", "1")])
        .ok();
    for bad in ["0", "lots"] {
        s.run_env(&["stack", "validate"], &[("KEYSTACK_CONCURRENCY", bad)])
            .fails(2)
            .err_has("KEYSTACK_CONCURRENCY")
            .err_has("from 1 to 256");
        s.run_env(&["run", "--", "true"], &[("KEYSTACK_CONCURRENCY", bad)])
            .fails(2)
            .err_has("KEYSTACK_CONCURRENCY");
    }
}

/// Written by ZenML 0.35.1 itself (`zenml stack export`).
const ZENML_EXPORT: &str = include_str!("../../../stack/tests/data/zenml/stack-export-0.35.1.yaml");

#[test]
fn a_zenml_stack_export_imports_and_what_cannot_be_mapped_is_reported_whole() {
    let s = Sandbox::new();
    let file = s.path().join("sm_stack.yaml");
    std::fs::write(&file, ZENML_EXPORT).unwrap();
    let file = file.to_str().unwrap();
    s.run(&["stack", "import", file])
        .ok()
        .err_has("Imported stack 'sm_stack' with 3 component(s)");
    s.run(&["stack", "describe", "sm_stack"])
        .ok()
        .out_has("local_sm");
    s.run(&["secrets-manager", "describe", "local_sm"])
        .ok()
        .out_has("local");

    // A ZenML export with keys, a flavor and a type Keystack lacks: every
    // problem in one report, exit 2, and nothing written.
    let bad = ZENML_EXPORT
        .replace("stack_name: sm_stack", "stack_name: other")
        .replace(
            "    configuration: {}\n    flavor: local\n    name: local_sm",
            "    configuration:\n      scope: component\n      namespace: team\n    flavor: local\n    name: local_sm2",
        )
        .replace("flavor: local\n    name: default\n    type: orchestrator", "flavor: airflowx\n    name: default\n    type: orchestrator");
    let bad_file = s.path().join("bad.yaml");
    std::fs::write(&bad_file, bad).unwrap();
    let before = s.snapshot();
    s.run(&["stack", "import", bad_file.to_str().unwrap()])
        .fails(2)
        .err_has("(ZenML 0.35.1) cannot be imported; nothing was written. 3 problem(s)")
        .err_has("configuration key 'namespace' has no Keystack attribute")
        .err_has("configuration key 'scope' has no Keystack attribute")
        .err_has("unknown orchestrator flavor 'airflowx'");
    s.assert_unchanged(&before);
    s.run(&["stack", "describe", "other"]).fails(3);
}

#[test]
fn an_attribute_that_names_a_secret_is_checked_to_exist() {
    let s = Sandbox::new();
    s.run(&[
        "artifact-store",
        "register",
        "s3",
        "--flavor=s3",
        "--path=s3://bucket",
        "--authentication_secret=s3_creds",
    ])
    .ok();
    s.run(&["stack", "update", "default", "-a", "s3"]).ok();
    for level in ["SECRET_EXISTS", "SECRET_AND_KEY_EXISTS"] {
        s.run(&["stack", "validate", "--level", level])
            .fails(4)
            .err_has("artifact_store 's3' / attribute 'authentication_secret': names secret 's3_creds', which does not exist");
    }
    s.run(&["stack", "validate", "--level", "NONE"]).ok();
    s.run(&[
        "secrets-manager",
        "secret",
        "register",
        "s3_creds",
        "--aws_access_key_id=a",
    ])
    .ok();
    for level in ["SECRET_EXISTS", "SECRET_AND_KEY_EXISTS"] {
        s.run(&["stack", "validate", "--level", level]).ok();
    }
}

#[test]
fn a_zenml_cloud_secrets_manager_imports_in_zenmls_layout() {
    let s = Sandbox::new();
    let export = |name: &str, configuration: &str| {
        format!(
            "stack_name: {name}\nzenml_version: 0.35.1\ncomponents:\n  secrets_manager:\n    \
             type: secrets_manager\n    flavor: aws\n    name: {name}_sm\n    configuration:\n\
             \x20     region_name: eu-west-1\n{configuration}"
        )
    };
    let write = |name: &str, text: String| {
        let file = s.path().join(format!("{name}.yaml"));
        std::fs::write(&file, text).unwrap();
        file.to_str().unwrap().to_owned()
    };

    // Scope namespace: read in place, where ZenML wrote.
    let ns = write(
        "ns",
        export("ns", "      scope: namespace\n      namespace: team\n"),
    );
    s.run(&["stack", "import", &ns]).ok();
    s.run(&["secrets-manager", "describe", "ns_sm", "-o", "json"])
        .ok()
        .out_has("\"layout\": \"zenml\"")
        .out_has("\"scope\": \"namespace\"")
        .out_has("zenml/namespace/team/");

    // Component scope (ZenML's default) needs the component's UUID.
    let bare = write("bare", export("bare", ""));
    let before = s.snapshot();
    s.run(&["stack", "import", &bare])
        .fails(2)
        .err_has("has ZenML's component scope")
        .err_has("add `component_id: <UUID>`");
    s.assert_unchanged(&before);
    let with_id = write(
        "with_id",
        export(
            "with_id",
            "      component_id: 0D6F3E52-8B1A-4C2D-9E0F-1A2B3C4D5E6F\n",
        ),
    );
    s.run(&["stack", "import", &with_id]).ok();
    s.run(&["secrets-manager", "describe", "with_id_sm"])
        .ok()
        .out_has("zenml/component/0d6f3e52-8b1a-4c2d-9e0f-1a2b3c4d5e6f/");

    // Settings that mean nothing in Keystack's layout are refused on use.
    s.run(&[
        "secrets-manager",
        "register",
        "plain",
        "--flavor=aws",
        "--region_name=eu-west-1",
        "--scope=global",
    ])
    .ok();
    s.run(&["secrets-manager", "describe", "plain"])
        .fails(2)
        .err_has("scope only apply with layout: zenml");
}
