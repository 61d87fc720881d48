//! Integration tests of the local store: one test binary, several modules.

mod files;
mod leaks;
mod processes;

use std::path::Path;

use keystack_secrets_core::{Secret, SecretName};
use keystack_secrets_local::{LocalBuilder, LocalSecretsManager};

/// A temporary folder that is the user's alone (0700), as Keystack requires
/// of a store folder (`tempfile::tempdir()` honours the umask: 0755).
pub(crate) fn private_dir() -> std::io::Result<tempfile::TempDir> {
    let mut builder = tempfile::Builder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o700));
    }
    builder.tempdir()
}

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
