//! The shared conformance suite, each test in a namespace of its own.

use std::sync::Arc;

use keystack_secrets_core::testkit::Fixture;

async fn fixture() -> Option<Fixture> {
    let (addr, token) = super::server()?;
    let manager = super::manager(&addr, &token, &super::fresh_namespace());
    Some(Fixture::new(Arc::new(manager)))
}

keystack_secrets_core::conformance_tests!(fixture);
