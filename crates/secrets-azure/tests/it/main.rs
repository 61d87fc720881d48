//! The Azure backend against Keystack's Key Vault test server (started by
//! `cargo xtask test`), with Microsoft's own Python client as a cross-check
//! of the server and of the layout.

mod azure;
mod python;

use std::process::Child;

use keystack_secrets_azure::{AzureBuilder, AzureSecretsManager};

/// The test server's vault URL; `None` skips the suite.
pub(crate) fn vault_url() -> Option<String> {
    keystack_secrets_core::testkit::emulator_var(
        "KEYSTACK_TEST_AZURE_VAULT_URL",
        "Azure Key Vault suite",
    )
}

pub(crate) fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is set by `cargo xtask test`"))
}

/// A namespace no other test or run uses.
pub(crate) fn fresh() -> String {
    keystack_secrets_core::testkit::unique_id()
}

/// A builder for the test server: its certificate authority trusted, and
/// the challenge's resource (`https://vault.azure.net`, as Key Vault sends
/// it) not required to match 127.0.0.1.
pub(crate) fn builder(url: &str, namespace: Option<&str>) -> AzureBuilder {
    let builder = AzureBuilder::new()
        .with_vault_url(url)
        .with_ca_file(var("KEYSTACK_TEST_AZURE_CA"))
        .with_verify_challenge_resource(false);
    match namespace {
        Some(ns) => builder.with_namespace(ns),
        None => builder,
    }
}

pub(crate) fn manager(url: &str, namespace: Option<&str>) -> AzureSecretsManager {
    builder(url, namespace).build().unwrap()
}

/// A test server of a test's own, stopped when dropped (also when the
/// test panics, so that no server outlives its test).
pub(crate) struct Server(Option<Child>);

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Starts a test server of this test's own on `port`, with `extra` flags.
pub(crate) fn start_server(port: u16, extra: &[&str]) -> Server {
    let args_file = var("KEYSTACK_TEST_KEYVAULT_ARGS");
    let mut args: Vec<String> = std::fs::read_to_string(&args_file)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    args.extend(["--port".to_owned(), port.to_string()]);
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    Server(Some(keystack_secrets_core::testkit::start_server(
        &var("KEYSTACK_TEST_KEYVAULT"),
        &args,
        port,
    )))
}
