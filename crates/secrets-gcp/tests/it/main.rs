//! The GCP backend against drongo (started by `cargo xtask test`), with
//! Google's own Python client as a cross-check, or, where noted, against
//! nothing at all.

mod conformance;
mod gcp;

use std::sync::Once;
use std::sync::atomic::{AtomicUsize, Ordering};

use keystack_secrets_gcp::{GcpBuilder, GcpSecretsManager};

/// The emulator's endpoint; `None` skips the emulated tests.
pub(crate) fn endpoint() -> Option<String> {
    static SKIP: Once = Once::new();
    let endpoint = std::env::var("KEYSTACK_TEST_GCP_ENDPOINT")
        .ok()
        .filter(|e| !e.is_empty());
    if endpoint.is_none() {
        SKIP.call_once(|| {
            // Written to the stderr handle, not with eprintln!, so that the
            // test harness's output capture does not hide it.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "skipping the GCP emulator suite: KEYSTACK_TEST_GCP_ENDPOINT is not set (`cargo xtask test` starts drongo and sets it)"
            );
        });
    }
    endpoint
}

/// A project (drongo keeps one state per project) and namespace no other
/// test or run uses.
pub(crate) fn fresh() -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "t{}x{nanos:x}x{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
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
