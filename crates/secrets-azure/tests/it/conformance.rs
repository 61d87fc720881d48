//! The shared conformance suite, each test in a namespace of its own.

use std::sync::Arc;

use keystack_secrets_core::testkit::Fixture;

async fn fixture() -> Option<Fixture> {
    let url = super::vault_url()?;
    let manager = super::manager(&url, Some(&super::fresh()));
    Some(Fixture::new(Arc::new(manager)))
}

keystack_secrets_core::conformance_tests!(fixture);
