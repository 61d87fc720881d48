//! Integration tests of the local store: one test binary, several modules.

mod files;
mod leaks;
mod processes;

use std::path::Path;

use keystack_secrets_core::{Secret, SecretName};
use keystack_secrets_local::{LocalBuilder, LocalSecretsManager};

pub(crate) fn open(dir: &Path) -> LocalSecretsManager {
    LocalBuilder::new()
        .with_path(dir)
        .build()
        .expect("open store")
}

pub(crate) fn name(s: &str) -> SecretName {
    SecretName::new(s).unwrap()
}

pub(crate) fn secret(n: &str, pairs: &[(&str, &str)]) -> Secret {
    Secret::arbitrary(name(n), pairs.iter().copied()).unwrap()
}
