//! The GCP backend against drongo (started by `cargo xtask test`), with
//! Google's own Python client as a cross-check, or, where noted, against
//! nothing at all.

mod gcp;

use keystack_secrets_gcp::{GcpBuilder, GcpSecretsManager};

/// The emulator's endpoint; `None` skips the emulated tests.
pub(crate) fn endpoint() -> Option<String> {
    keystack_secrets_core::testkit::emulator_var("KEYSTACK_TEST_GCP_ENDPOINT", "GCP emulator suite")
}

/// A project (drongo keeps one state per project) and namespace no other
/// test or run uses.
pub(crate) fn fresh() -> String {
    keystack_secrets_core::testkit::unique_id()
}

pub(crate) fn builder(endpoint: &str, project: &str, namespace: Option<&str>) -> GcpBuilder {
    let builder = GcpBuilder::new()
        .with_project_id(project)
        .with_endpoint(endpoint);
    match namespace {
        Some(ns) => builder.with_namespace(ns),
        None => builder,
    }
}

pub(crate) fn manager(endpoint: &str, project: &str, namespace: Option<&str>) -> GcpSecretsManager {
    builder(endpoint, project, namespace).build().unwrap()
}
