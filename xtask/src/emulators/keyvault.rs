//! Keystack's own Key Vault test server (xtask/keyvault/server.py), HTTPS
//! under a certificate authority made here; Microsoft's Python client is
//! installed beside it: the suite cross-checks the two.

use std::fs;
use std::path::PathBuf;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};

use super::{Emulator, dir, venv};
use crate::project_root;

/// How to install, start, probe and reset it.
pub(super) const EMULATOR: Emulator = Emulator {
    name: "keyvault",
    requirements: &["azure-keyvault-secrets==4.12.0", "azure-identity==1.27.0"],
    program: "python",
    marker: "keyvault/server.py",
    prepare: Some(certificates),
    tls: true,
    args,
    ready_path: "/_test/health",
    reset_path: None,
    env,
};

/// The test tenant, client and secret: credentials of a loopback
/// server that lives as long as the test run.
pub(super) const TENANT: &str = "00000000-0000-0000-0000-00000000cafe";
pub(super) const CLIENT_ID: &str = "keystack-test";
pub(super) const CLIENT_SECRET: &str = "keystack-test-secret";
/// A client the server lets read but not write (RBAC tests).
pub(super) const READER_ID: &str = "keystack-reader";
pub(super) const READER_SECRET: &str = "keystack-reader-secret";

fn folder() -> PathBuf {
    dir().join("keyvault")
}

fn script() -> PathBuf {
    project_root().join("xtask/keyvault/server.py")
}

/// A certificate authority and a server certificate for 127.0.0.1 and
/// localhost that it signed, made anew at every start.
pub(super) fn certificates() -> Result<(), String> {
    let failed = |e: rcgen::Error| format!("cannot make the test certificates: {e}");
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(failed)?;
    ca.distinguished_name.push(
        DnType::CommonName,
        "Keystack test CA (never trust outside tests)",
    );
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_key = KeyPair::generate().map_err(failed)?;
    let ca_cert = ca.self_signed(&ca_key).map_err(failed)?;
    let issuer = Issuer::new(ca, ca_key);
    let mut server = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
        .map_err(failed)?;
    server
        .distinguished_name
        .push(DnType::CommonName, "Keystack Key Vault test server");
    let server_key = KeyPair::generate().map_err(failed)?;
    let server_cert = server.signed_by(&server_key, &issuer).map_err(failed)?;
    fs::create_dir_all(folder()).map_err(|e| e.to_string())?;
    let write = |name: &str, text: String| {
        fs::write(folder().join(name), text)
            .map_err(|e| format!("cannot write {}: {e}", folder().join(name).display()))
    };
    write("ca.pem", ca_cert.pem())?;
    write("server.pem", server_cert.pem())?;
    write("server-key.pem", server_key.serialize_pem())?;
    let mut args = server_args(0, &[]);
    args.drain(1..3);
    write("args", args.join("\n") + "\n")
}

/// The arguments of a server on `port`, with `extra` flags.
pub(super) fn server_args(port: u16, extra: &[&str]) -> Vec<String> {
    let mut args = vec![
        script().display().to_string(),
        "--port".into(),
        port.to_string(),
        "--cert".into(),
        folder().join("server.pem").display().to_string(),
        "--key".into(),
        folder().join("server-key.pem").display().to_string(),
        "--tenant".into(),
        TENANT.into(),
        "--client".into(),
        format!("{CLIENT_ID}:{CLIENT_SECRET}:officer"),
        "--client".into(),
        format!("{READER_ID}:{READER_SECRET}:reader"),
    ];
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    args
}

pub(super) fn args(port: u16) -> Vec<String> {
    server_args(port, &[])
}

pub(super) fn env(port: u16) -> Vec<(&'static str, String)> {
    let url = format!("https://127.0.0.1:{port}");
    vec![
        ("KEYSTACK_TEST_AZURE_VAULT_URL", url.clone()),
        (
            "KEYSTACK_TEST_AZURE_CA",
            folder().join("ca.pem").display().to_string(),
        ),
        // Microsoft's credentials read these; the server is its own
        // Entra ID (token endpoint) too.
        ("AZURE_AUTHORITY_HOST", url),
        ("AZURE_TENANT_ID", TENANT.into()),
        ("AZURE_CLIENT_ID", CLIENT_ID.into()),
        ("AZURE_CLIENT_SECRET", CLIENT_SECRET.into()),
        ("KEYSTACK_TEST_AZURE_READER_ID", READER_ID.into()),
        ("KEYSTACK_TEST_AZURE_READER_SECRET", READER_SECRET.into()),
        (
            "KEYSTACK_TEST_PYTHON",
            venv().join("bin/python").display().to_string(),
        ),
        // For suites that start (and stop) a server of their own: the
        // program, and a file of its arguments (one per line) to which
        // the suite adds `--port P`.
        (
            "KEYSTACK_TEST_KEYVAULT",
            venv().join("bin/python").display().to_string(),
        ),
        (
            "KEYSTACK_TEST_KEYVAULT_ARGS",
            folder().join("args").display().to_string(),
        ),
    ]
}
