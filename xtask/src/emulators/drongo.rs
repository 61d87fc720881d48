//! drongo: GCP Secret Manager's REST API, in memory. Google's own Python
//! client is installed beside it: the suite cross-checks the two.

use super::{Emulator, venv};

/// How to install, start, probe and reset it.
pub(super) const EMULATOR: Emulator = Emulator {
    name: "drongo",
    requirements: &["drongo==0.8.0", "google-cloud-secret-manager==2.32.0"],
    program: "drongo",
    marker: "drongo",
    prepare: None,
    tls: false,
    args: |port| {
        vec![
            "server".into(),
            "--host".into(),
            "127.0.0.1".into(),
            "--port".into(),
            port.to_string(),
        ]
    },
    ready_path: "/drongo/health",
    reset_path: Some("/drongo/reset"),
    env: |port| {
        vec![
            (
                "KEYSTACK_TEST_GCP_ENDPOINT",
                format!("http://127.0.0.1:{port}"),
            ),
            (
                "KEYSTACK_TEST_PYTHON",
                venv().join("bin/python").display().to_string(),
            ),
            // For suites that start (and stop) an emulator of their own.
            (
                "KEYSTACK_TEST_DRONGO",
                venv().join("bin/drongo").display().to_string(),
            ),
        ]
    },
};
