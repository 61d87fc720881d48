//! The shared conformance suite, each test on a fresh store in its own folder.

use std::sync::Arc;

use keystack_secrets_core::testkit::Fixture;

async fn fixture() -> Option<Fixture> {
    let dir = tempfile::tempdir().expect("temporary folder");
    let manager = super::open(dir.path());
    Some(Fixture::new(Arc::new(manager)).with_guard(dir))
}

keystack_secrets_core::conformance_tests!(fixture);
