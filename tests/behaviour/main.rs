//! The behaviour suites every backend runs unchanged: one module per
//! backend, each test on a fresh manager from `keystack_tests`. A backend
//! whose emulator `cargo xtask test` did not export skips, saying why once.

/// The conformance suite against one backend's fixture function.
macro_rules! backend {
    ($name:ident) => {
        mod $name {
            async fn fixture() -> Option<keystack_secrets_core::testkit::Fixture> {
                keystack_tests::$name()
            }

            keystack_secrets_core::conformance_tests!(fixture);
        }
    };
}

backend!(local);
backend!(aws);
backend!(gcp);
backend!(vault);
backend!(azure);
// ZenML's layout (`layout: zenml`), scope `namespace`, a fresh namespace each.
backend!(aws_zenml);
backend!(gcp_zenml);
backend!(azure_zenml);
backend!(vault_zenml);

/// Outage and recovery against a server of the test's own: a read while it
/// is down fails with a retryable `Unavailable` naming the address, within
/// bounds; once it is back, the same manager works again.
mod requests;

mod outage {
    macro_rules! outage {
        ($($name:ident),*) => {$(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let Some(server) = keystack_tests::own_server::$name() else { return };
                keystack_secrets_core::conformance::outage_and_recovery(
                    &server.start,
                    &*server.manager,
                    &server.endpoint,
                )
                .await;
            }
        )*};
    }

    outage!(aws, gcp, vault, azure);
}

/// With nothing listening, a read fails with a retryable `Unavailable`
/// naming the address, after bounded retries.
mod unreachable {
    macro_rules! unreachable {
        ($($name:ident),*) => {$(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let Some((manager, endpoint)) = keystack_tests::unreachable::$name() else { return };
                keystack_secrets_core::conformance::unreachable_is_unavailable(&*manager, &endpoint)
                    .await;
            }
        )*};
    }

    unreachable!(aws, gcp, vault, azure);
}
