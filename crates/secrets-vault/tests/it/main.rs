//! The Vault backend against a real OpenBao dev server (started by
//! `cargo xtask test`) or, where noted, against nothing at all.

mod vault;

use keystack_secrets_vault::{VaultBuilder, VaultSecretsManager};

/// The server and its root token; `None` skips the server tests.
pub(crate) fn server() -> Option<(String, String)> {
    let addr =
        keystack_secrets_core::testkit::emulator_var("KEYSTACK_TEST_VAULT_ADDR", "OpenBao suite")?;
    let token =
        keystack_secrets_core::testkit::emulator_var("KEYSTACK_TEST_VAULT_TOKEN", "OpenBao suite")?;
    Some((addr, token))
}

/// A namespace no other test or run uses.
pub(crate) fn fresh_namespace() -> String {
    keystack_secrets_core::testkit::unique_id()
}

fn builder(addr: &str, token: &str, namespace: &str) -> VaultBuilder {
    VaultBuilder::new()
        .with_url(addr)
        .with_token(token)
        .with_namespace(namespace)
}

pub(crate) fn manager(addr: &str, token: &str, namespace: &str) -> VaultSecretsManager {
    builder(addr, token, namespace).build().unwrap()
}
