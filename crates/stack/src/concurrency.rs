//! How many secrets are fetched at once: a default, and the variable that
//! overrides it.

use crate::StackError;

/// How many secrets are fetched at once by default. Validation against a
/// remote manager is latency-bound (each get is a round trip), so this is
/// well above the core count; see docs/performance.md for the measurements
/// behind the number.
pub const DEFAULT_CONCURRENCY: usize = 32;

/// The environment variable that overrides [`DEFAULT_CONCURRENCY`].
pub const CONCURRENCY_ENV: &str = "KEYSTACK_CONCURRENCY";

/// The most fetches in flight that [`CONCURRENCY_ENV`] may ask for.
pub const MAX_CONCURRENCY: usize = 256;

/// How many secrets to fetch at once: [`CONCURRENCY_ENV`] if set (1 to
/// [`MAX_CONCURRENCY`]), else [`DEFAULT_CONCURRENCY`].
pub fn concurrency_from_env() -> Result<usize, StackError> {
    concurrency_from_lookup(|var| std::env::var(var).ok())
}

/// [`concurrency_from_env`] over any variable lookup (for tests and embedders).
pub fn concurrency_from_lookup(
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<usize, StackError> {
    let Some(value) = lookup(CONCURRENCY_ENV).filter(|v| !v.trim().is_empty()) else {
        return Ok(DEFAULT_CONCURRENCY);
    };
    match value.trim().parse::<usize>() {
        Ok(n) if (1..=MAX_CONCURRENCY).contains(&n) => Ok(n),
        _ => Err(StackError::InvalidEnvironment {
            var: CONCURRENCY_ENV,
            shown: value
                .chars()
                .take(32)
                .flat_map(char::escape_debug)
                .collect(),
            problem: format!(
                "give a whole number of secrets to fetch at once, from 1 to {MAX_CONCURRENCY} \
                 (default {DEFAULT_CONCURRENCY})"
            ),
        }),
    }
}
