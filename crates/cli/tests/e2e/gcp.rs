//! The binary against drongo (GCP Secret Manager's API, started by `cargo
//! xtask test`); skipped, with one line, without it.

use crate::{Sandbox, emulator_var};

#[test]
fn a_stack_on_gcp_validates_and_runs() {
    let Some(endpoint) = emulator_var("KEYSTACK_TEST_GCP_ENDPOINT", "the keystack-on-GCP test")
    else {
        return;
    };
    let s = Sandbox::new();
    let project = format!("e2e-{}", std::process::id());
    s.remote_stack_validates_and_runs(
        &[
            "--flavor=gcp",
            &format!("--project_id={project}"),
            &format!("--endpoint={endpoint}"),
            "--namespace=e2e",
        ],
        &[],
        "gcp-e2e-pass",
    );
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
