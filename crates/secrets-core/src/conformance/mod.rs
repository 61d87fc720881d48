//! The behaviour suite every [`SecretsManager`] runs unchanged.
//!
//! Each function takes a manager that holds no secrets yet (a fresh store, or
//! a fresh namespace in a shared account) and panics with a message naming
//! the broken expectation. Differences between backends are expressed through
//! [`Capabilities`](crate::Capabilities), never by forking a test.
//!
//! The plumbing from an environment to a manager under test (fixtures,
//! emulator variables, unique ids, ports) is in [`crate::testkit`]; this
//! module holds behaviours only.
//!
//! A backend runs the whole suite with [`conformance_tests!`](crate::conformance_tests):
//!
//! ```ignore
//! async fn fixture() -> Option<Fixture> { /* None skips, printing why */ }
//! keystack_secrets_core::conformance_tests!(fixture);
//! ```

use std::collections::BTreeMap;

mod basic;
mod concurrency;
mod shared;

pub use basic::*;
pub use concurrency::*;
pub use shared::*;

use crate::{Secret, SecretKey, SecretName, SecretsManager};

/// Generates one `#[tokio::test]` per conformance function. `$fixture` is an
/// `async fn() -> Option<Fixture>`; `None` skips the test (the fixture should
/// print one line saying why). The calling crate needs `tokio` with the
/// `macros` and `rt-multi-thread` features as a dev-dependency.
#[macro_export]
macro_rules! conformance_tests {
    ($fixture:path) => {
        $crate::conformance_tests!(@each $fixture;
            register_and_get,
            register_with_typed_schema,
            register_existing_name_is_already_exists,
            missing_secret_is_not_found,
            batch_read_matches_single_reads,
            list_is_sorted_and_complete,
            update_sets_and_removes_keys,
            rejected_update_changes_nothing,
            delete_then_list_and_register_again,
            delete_all_removes_everything,
            unicode_keys_and_values,
            empty_and_64_kib_values,
            thousand_secrets,
            concurrent_registers_of_distinct_names,
            concurrent_registers_of_one_name,
            concurrent_updates_of_one_secret,
            debug_never_shows_values,
        );
    };
    (@each $fixture:path; $($test:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $test() {
                let Some(fixture) = $fixture().await else { return };
                $crate::conformance::$test(&*fixture.manager).await;
            }
        )*
    };
}

pub(super) fn name(s: &str) -> SecretName {
    SecretName::new(s).expect("test names are valid")
}

/// `s`, or where the backend cannot store it ([`crate::NameChars`]), the
/// same name in lowercase with `-` for `_`.
pub(super) fn fit(m: &dyn SecretsManager, s: &str) -> String {
    if m.info().capabilities.names.allows(s) {
        s.to_owned()
    } else {
        s.to_ascii_lowercase().replace('_', "-")
    }
}

pub(super) fn key(s: &str) -> SecretKey {
    SecretKey::new(s).expect("test keys are valid")
}

pub(super) fn secret<'a>(n: &str, pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Secret {
    Secret::arbitrary(name(n), pairs).expect("test secrets are valid")
}

/// The key-values of a secret as plain strings, for comparisons.
pub(super) fn plain(secret: &Secret) -> BTreeMap<String, String> {
    secret
        .values()
        .iter()
        .map(|(k, v)| (k.to_string(), v.expose().to_owned()))
        .collect()
}

pub(super) fn pairs<'a>(
    items: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> BTreeMap<String, String> {
    items
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

pub(super) async fn names(m: &dyn SecretsManager) -> Vec<String> {
    m.list_secret_names()
        .await
        .expect("list_secret_names")
        .into_iter()
        .map(SecretName::into_string)
        .collect()
}
