//! moto: AWS Secrets Manager's API, in memory (PyPI `moto[server]`).

use super::{Emulator, venv};

/// How to install, start, probe and reset it.
pub(super) const EMULATOR: Emulator = Emulator {
    name: "moto",
    // jsonschema and PyYAML (which moto needs too, at these versions) also
    // check the External Secrets manifests against the operator's CRDs.
    requirements: &["moto[server]==5.2.5", "jsonschema==4.26.0", "PyYAML==6.0.4"],
    program: "moto_server",
    marker: "moto_server",
    prepare: None,
    tls: false,
    args: |port| {
        vec![
            "-H".into(),
            "127.0.0.1".into(),
            "-p".into(),
            port.to_string(),
        ]
    },
    ready_path: "/moto-api/data.json",
    reset_path: Some("/moto-api/reset"),
    env: |port| {
        let url = format!("http://127.0.0.1:{port}");
        vec![
            ("KEYSTACK_TEST_AWS_ENDPOINT", url.clone()),
            ("AWS_ENDPOINT_URL_SECRETS_MANAGER", url),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("AWS_REGION", "us-east-1".into()),
            // For suites that start (and stop) an emulator of their own.
            (
                "KEYSTACK_TEST_MOTO",
                venv().join("bin/moto_server").display().to_string(),
            ),
        ]
    },
};
