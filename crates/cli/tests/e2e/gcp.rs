//! The binary against drongo (GCP Secret Manager's API, started by `cargo
//! xtask test`); skipped, with one line, without it.

use crate::Sandbox;

#[test]
fn a_stack_on_gcp_validates_and_runs() {
    let Some(endpoint) = std::env::var("KEYSTACK_TEST_GCP_ENDPOINT")
        .ok()
        .filter(|e| !e.is_empty())
    else {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "skipping the keystack-on-GCP test: KEYSTACK_TEST_GCP_ENDPOINT is not set"
        );
        return;
    };
    let s = Sandbox::new();
    let project = format!("e2e-{}", std::process::id());
    s.run(&[
        "secrets-manager",
        "register",
        "gcp_sm",
        "--flavor=gcp",
        &format!("--project_id={project}"),
        &format!("--endpoint={endpoint}"),
        "--namespace=e2e",
    ])
    .ok();
    s.register_mlflow_tracker();
    s.run(&[
        "stack", "register", "g", "-o", "default", "-a", "default", "-x", "gcp_sm", "-e", "mlflow",
        "--set",
    ])
    .ok();
    s.run(&["stack", "validate"])
        .fails(4)
        .err_has("secret 'mlflow_secret', which does not exist");
    s.run(&[
        "secrets-manager",
        "secret",
        "register",
        "mlflow_secret",
        "--username=admin",
        "--password=gcp-e2e-pass",
    ])
    .ok();
    s.run(&["stack", "validate"]).ok();
    s.run(&[
        "run",
        "--no-masking",
        "--",
        "sh",
        "-c",
        "echo $MLFLOW_TRACKING_PASSWORD",
    ])
    .ok()
    .out_has("gcp-e2e-pass");
    s.run(&[
        "secrets-manager",
        "secret",
        "update",
        "mlflow_secret",
        "--password=rotated",
    ])
    .ok();
    s.run(&["secrets-manager", "secret", "get", "mlflow_secret"])
        .ok()
        .out_has("rotated");
    s.run(&["secrets-manager", "secret", "delete-all", "-y"])
        .ok()
        .err_has("Deleted 1 secret(s)");
}
