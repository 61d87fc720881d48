//! Cross-cutting tests of the public API of `keystack-secrets-core`.

mod leaks;
