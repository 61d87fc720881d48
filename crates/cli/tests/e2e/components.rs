//! Components of every type: register, list, describe, update, remove, flavors.

use super::Sandbox;

#[test]
fn every_component_type_has_the_same_commands() {
    let s = Sandbox::new();
    for (cli_type, flavor, attrs) in [
        (
            "orchestrator",
            "kubernetes",
            vec!["--kubernetes_context=ctx"],
        ),
        ("artifact-store", "s3", vec!["--path=s3://bucket"]),
        ("secrets-manager", "aws", vec!["--region_name=eu-west-1"]),
        (
            "experiment-tracker",
            "wandb",
            vec!["--api_key={{wandb.key}}"],
        ),
        (
            "container-registry",
            "default",
            vec!["--uri=localhost:5000"],
        ),
        ("model-deployer", "seldon", vec!["--base_url=http://seldon"]),
        ("step-operator", "vertex", vec!["--region=europe-west1"]),
        ("alerter", "slack", vec!["--slack_token={{slack.token}}"]),
    ] {
        let mut register = vec![cli_type, "register", "c1", "--flavor", flavor];
        register.extend(attrs.iter().copied());
        s.run(&register).ok();
        s.run(&[cli_type, "list"]).ok().out_has("c1");
        s.run(&[cli_type, "describe", "c1"]).ok().out_has(flavor);
        s.run(&[cli_type, "flavor", "list"]).ok().out_has(flavor);
        s.run(&[cli_type, "remove", "c1"]).ok();
        s.run(&[cli_type, "describe", "c1"]).fails(3);
    }
}

#[test]
fn attributes_are_checked_against_the_flavor() {
    let s = Sandbox::new();
    let tracker = |rest: &[&str]| {
        let mut a = vec!["experiment-tracker"];
        a.extend(rest);
        s.run(&a)
    };
    tracker(&["register", "m", "--flavor=mlflow", "--tracking_usernme=x"])
        .fails(2)
        .err_has("has no attribute 'tracking_usernme'; did you mean 'tracking_username'?");
    tracker(&["register", "m", "--flavor=mlfow"])
        .fails(2)
        .err_has("unknown experiment_tracker flavor 'mlfow'; known flavors: mlflow, wandb");
    tracker(&["register", "m", "--flavor=wandb"])
        .fails(2)
        .err_has("needs attribute 'api_key'");
    tracker(&[
        "register",
        "m",
        "--flavor=mlflow",
        "--tracking_insecure_tls=maybe",
    ])
    .fails(2)
    .err_has("must be true or false");
    tracker(&["register", "m", "--flavor=mlflow", "--tracking_uri={{db.x"])
        .fails(2)
        .err_has("at column 1");
    // A sensitive attribute with a plain value works, with a warning, and is masked when shown.
    tracker(&[
        "register",
        "m",
        "--flavor=mlflow",
        "--tracking_password=plain-pw",
    ])
    .ok()
    .err_has("warning: attribute 'tracking_password' of experiment_tracker 'm' is sensitive");
    let describe = tracker(&["describe", "m"]).ok();
    assert!(!describe.stdout.contains("plain-pw"), "{}", describe.stdout);
    tracker(&[
        "update",
        "m",
        "--tracking_password={{mlflow.password}}",
        "--tracking_uri=http://x",
    ])
    .ok();
    tracker(&["describe", "m", "-o", "json"])
        .ok()
        .out_has("{{mlflow.password}}");
    tracker(&["update", "m", "--remove-attribute", "tracking_uri"]).ok();
    tracker(&["update", "m", "--remove-attribute", "tracking_uri"])
        .fails(2)
        .err_has("has no attribute 'tracking_uri' to remove");
    tracker(&["register", "m", "--flavor=mlflow"])
        .fails(5)
        .err_has("already exists");
}

#[test]
fn a_secrets_manager_cannot_refer_to_secrets() {
    let s = Sandbox::new();
    s.run(&[
        "secrets-manager",
        "register",
        "aws",
        "--flavor=aws",
        "--region_name={{cfg.region}}",
    ])
    .fails(2)
    .err_has("a secrets manager cannot need itself to start");
}

#[test]
fn components_in_use_cannot_be_removed() {
    let s = Sandbox::new();
    s.run(&["orchestrator", "remove", "default"])
        .fails(2)
        .err_has("is used by stack(s) default");
}

#[test]
fn user_flavors_from_yaml() {
    let s = Sandbox::new();
    std::fs::create_dir_all(s.path().join(".keystack/flavors")).unwrap();
    std::fs::write(
        s.path().join(".keystack/flavors/neptune.yaml"),
        "flavors:\n  - type: experiment_tracker\n    name: neptune\n    attributes:\n      - {name: api_token, required: true, sensitive: true, env: NEPTUNE_API_TOKEN}\n",
    )
    .unwrap();
    s.run(&["experiment-tracker", "flavor", "list"])
        .ok()
        .out_has("neptune");
    s.run(&[
        "experiment-tracker",
        "register",
        "n",
        "--flavor=neptune",
        "--api_token={{neptune.token}}",
    ])
    .ok();
}

#[test]
fn hand_edited_files_are_checked() {
    let s = Sandbox::new();
    let file = s
        .path()
        .join(".keystack/components/orchestrator/default.yaml");
    std::fs::write(
        &file,
        "type: orchestrator\nname: default\nflavor: local\nflavour: x\n",
    )
    .unwrap();
    s.run(&["orchestrator", "describe", "default"])
        .fails(2)
        .err_has("default.yaml");
    std::fs::write(
        &file,
        "type: orchestrator\nname: default\nflavor: local\nflavor: local\n",
    )
    .unwrap();
    s.run(&["orchestrator", "describe", "default"])
        .fails(2)
        .err_has("default.yaml");
}

#[test]
fn a_secrets_managers_settings_are_checked_before_it_is_saved() {
    let s = Sandbox::new();
    for (args, message) in [
        (
            &[
                "--flavor=aws",
                "--region_name=eu-west-1",
                "--page_size=1000",
            ][..],
            "page_size must be between 1 and 100, not 1000",
        ),
        (
            &["--flavor=aws", "--region_name=eu-west-1", "--layout=zenml2"][..],
            "layout \"zenml2\" is not one of keystack, zenml",
        ),
        (
            &["--flavor=local", "--key_source=nope"][..],
            "key_source \"nope\" is not one of file, env, keyring",
        ),
    ] {
        let mut register = vec!["secrets-manager", "register", "bad"];
        register.extend(args);
        let before = s.snapshot();
        s.run(&register).fails(2).err_has(message);
        s.assert_unchanged(&before);
    }
    // An update out of range leaves the component as it was; what may come
    // from the environment (a token) is not asked for yet.
    s.run(&[
        "secrets-manager",
        "register",
        "v",
        "--flavor=vault",
        "--url=https://vault:8200",
    ])
    .ok();
    let before = s.snapshot();
    s.run(&["secrets-manager", "update", "v", "--max_attempts=0"])
        .fails(2)
        .err_has("max_attempts must be at least 1");
    s.assert_unchanged(&before);
}
