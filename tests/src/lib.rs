//! The step from an environment to a manager under test, for every backend
//! (as OpenDAL's testkit does): each function returns a fresh, empty
//! manager, or `None` (after saying why, once) when `cargo xtask test` did
//! not export the backend's emulator. The behaviour suites in `behaviour/`
//! run unchanged against each.
//!
//! Suites that need a vendor's own client to set the scene (a secret
//! planted behind Keystack's back, the vendor's view of the layout) stay in
//! that backend's crate, next to the client.

use std::sync::Arc;

use keystack_secrets_core::testkit::{Fixture, emulator_var, unique_id};

/// A fresh local store in a temporary folder of its own.
pub fn local() -> Option<Fixture> {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let manager = keystack_secrets_local::LocalBuilder::new()
        .with_path(dir.path())
        .build()
        .expect("a new store opens");
    Some(Fixture::new(Arc::new(manager)).with_guard(dir))
}

/// A fresh namespace in moto.
pub fn aws() -> Option<Fixture> {
    let endpoint = emulator_var("KEYSTACK_TEST_AWS_ENDPOINT", "AWS emulator suite")?;
    let manager = keystack_secrets_aws::AwsBuilder::new()
        .with_region("us-east-1")
        .with_endpoint_url(endpoint)
        .with_namespace(unique_id())
        .with_credentials(keystack_secrets_aws::Credentials::new(
            "testing",
            "testing",
            None,
            None,
            "keystack-tests",
        ))
        .build()
        .expect("the AWS settings are valid");
    Some(Fixture::new(Arc::new(manager)))
}

/// A fresh project in drongo.
pub fn gcp() -> Option<Fixture> {
    let endpoint = emulator_var("KEYSTACK_TEST_GCP_ENDPOINT", "GCP emulator suite")?;
    let manager = keystack_secrets_gcp::GcpBuilder::new()
        .with_project_id(format!("p{}", unique_id()))
        .with_endpoint(endpoint)
        .build()
        .expect("the GCP settings are valid");
    Some(Fixture::new(Arc::new(manager)))
}

/// A fresh namespace in the OpenBao dev server.
pub fn vault() -> Option<Fixture> {
    let addr = emulator_var("KEYSTACK_TEST_VAULT_ADDR", "OpenBao suite")?;
    let token = emulator_var("KEYSTACK_TEST_VAULT_TOKEN", "OpenBao suite")?;
    let manager = keystack_secrets_vault::VaultBuilder::new()
        .with_url(addr)
        .with_token(token)
        .with_namespace(unique_id())
        .build()
        .expect("the Vault settings are valid");
    Some(Fixture::new(Arc::new(manager)))
}

/// A fresh namespace in the Key Vault test server: its certificate
/// authority trusted, and the challenge's resource (`https://vault.azure.net`,
/// as Key Vault sends it) not required to match 127.0.0.1.
pub fn azure() -> Option<Fixture> {
    let url = emulator_var("KEYSTACK_TEST_AZURE_VAULT_URL", "Azure Key Vault suite")?;
    let ca = emulator_var("KEYSTACK_TEST_AZURE_CA", "Azure Key Vault suite")?;
    let manager = keystack_secrets_azure::AzureBuilder::new()
        .with_vault_url(url)
        .with_ca_file(ca)
        .with_verify_challenge_resource(false)
        .with_namespace(unique_id())
        .build()
        .expect("the Azure settings are valid");
    Some(Fixture::new(Arc::new(manager)))
}
