//! ZenML's command forms of the 0.30–0.37 era, accepted as ZenML accepted
//! them.

use crate::{Sandbox, secret_args as secret};

#[test]
fn zenml_secret_command_forms_work() {
    let s = Sandbox::new();
    // `-s` for `--schema`, and the name after the pairs.
    s.run(&secret(&[
        "register",
        "--aws_access_key_id=AKIA",
        "--aws_secret_access_key=sk",
        "-s",
        "aws",
        "creds",
    ]))
    .ok()
    .err_has("Registered secret 'creds' (aws schema)");
    // `@~/file`: the shell leaves `~` alone after `=@`.
    std::fs::create_dir_all(s.path().join("home")).unwrap();
    std::fs::write(s.path().join("home/token.txt"), "from-home-file").unwrap();
    s.run(&secret(&["register", "api", "--token=@~/token.txt"]))
        .ok();
    s.run(&secret(&["get", "api", "--key", "token"]))
        .ok()
        .out_has("from-home-file");
    // `-o json` together with `-k`: that key alone, as JSON.
    let json: serde_json::Value = serde_json::from_str(
        &s.run(&secret(&[
            "get",
            "creds",
            "-k",
            "aws_access_key_id",
            "-o",
            "json",
        ]))
        .ok()
        .stdout,
    )
    .unwrap();
    assert_eq!(json, serde_json::json!({"aws_access_key_id": "AKIA"}));
    // `-v` after the pairs.
    s.run(&secret(&["update", "api", "--token=t2", "-v"]))
        .ok()
        .err_has("keystack: local update 'api'");
    // `secret rename`.
    s.run(&secret(&["rename", "api", "api2"]))
        .ok()
        .err_has("Renamed secret 'api' to 'api2'");
    s.run(&secret(&["get", "api"])).fails(3);
    s.run(&secret(&["get", "api2", "--key", "token"]))
        .ok()
        .out_has("t2");
    s.run(&secret(&["rename", "api2", "creds"])).fails(5);
    s.run(&secret(&["rename", "api2", "--new-name", "api3"]))
        .ok();
    s.run(&secret(&["rename", "api3", "-n", "api2"])).ok();
    s.run(&secret(&["get", "api2", "--key", "token"])).ok();
    // `secret cleanup`: ZenML's delete-all.
    s.run(&secret(&["cleanup", "-y"]))
        .ok()
        .err_has("Deleted 2 secret(s)");
}

#[test]
fn zenml_stack_and_component_forms_work() {
    let s = Sandbox::new();
    // `secrets-manager describe` without a name: the active one.
    s.run(&["secrets-manager", "describe"])
        .ok()
        .out_has("secrets_manager 'default' (flavor local)");
    s.run(&["orchestrator", "describe"])
        .ok()
        .out_has("'default'");
    // `stack export S` writes S.yaml; `stack export S -` prints it.
    s.run(&["stack", "export", "default"])
        .ok()
        .err_has("Exported stack 'default' to default.yaml");
    let written = std::fs::read_to_string(s.path().join("default.yaml")).unwrap();
    let printed = s.run(&["stack", "export", "default", "-"]).ok().stdout;
    assert_eq!(printed, written);
    assert!(!s.path().join("-").exists(), "no file named '-'");
    // `stack delete S -y`.
    s.run(&[
        "stack", "register", "other", "-o", "default", "-a", "default",
    ])
    .ok();
    s.run(&["stack", "delete", "other", "-y"])
        .ok()
        .err_has("Deleted stack 'other'");
}

#[test]
fn zenml_integration_schemas_fill_their_defaults() {
    let s = Sandbox::new();
    s.run(&secret(&[
        "register",
        "seldon",
        "-s",
        "seldon_s3",
        "--rclone_config_s3_access_key_id=AKIA",
    ]))
    .ok();
    let json: serde_json::Value =
        serde_json::from_str(&s.run(&secret(&["get", "seldon", "-o", "json"])).ok().stdout)
            .unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "rclone_config_s3_access_key_id": "AKIA",
            "rclone_config_s3_env_auth": "False",
            "rclone_config_s3_provider": "aws",
            "rclone_config_s3_type": "s3",
        })
    );
    s.run(&secret(&[
        "register",
        "k",
        "-s",
        "kserve_gs",
        "--storage_type=S3",
    ]))
    .fails(2)
    .err_has("fixes key 'storage_type' to 'GCS'");
}
