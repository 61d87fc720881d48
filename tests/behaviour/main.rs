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
