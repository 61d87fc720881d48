//! Vault errors, mapped onto the core error enum. No message carries a
//! token: vaultrs's errors do not, and ours name only the server and path.

use keystack_secrets_core::{Error, SecretName};
use vaultrs::error::ClientError;

use crate::FLAVOR;

/// Problems specific to the Vault backend.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VaultError {
    /// An entry of that name exists but Keystack did not create it.
    #[error(
        "the entry at {path} exists in Vault but was not created by Keystack; Keystack leaves it alone \
         (remove it with `bao kv metadata delete` / `vault kv metadata delete` if it is yours)"
    )]
    Foreign {
        /// The full path (mount and folder included).
        path: String,
    },
    /// The stored entry cannot be read as a Keystack secret.
    #[error("secret '{name}' at {path} cannot be read: {problem}")]
    Unreadable {
        /// The Keystack name.
        name: SecretName,
        /// The full path.
        path: String,
        /// What is wrong.
        problem: String,
    },
}

impl From<VaultError> for Error {
    fn from(err: VaultError) -> Self {
        let message = err.to_string();
        match err {
            VaultError::Foreign { .. } => Error::PermissionDenied {
                backend: FLAVOR,
                message,
                source: None,
            },
            VaultError::Unreadable { .. } => Error::Corrupt {
                backend: FLAVOR,
                message,
                source: None,
            },
        }
    }
}

/// What went wrong with one request, before it becomes a core error.
pub(crate) enum Failure {
    /// 404.
    NotFound,
    /// 400 "check-and-set parameter did not match the current version".
    CasMismatch,
    /// Anything else, already mapped.
    Other(Error),
}

/// Maps a vaultrs error of `action` on `path` at server `url`.
pub(crate) fn classify(err: ClientError, url: &str, action: &str, path: &str) -> Failure {
    match err {
        ClientError::APIError { code: 404, .. } => Failure::NotFound,
        ClientError::APIError { code, ref errors }
            if code == 400 && errors.iter().any(|e| e.contains("check-and-set")) =>
        {
            Failure::CasMismatch
        }
        ClientError::APIError { code, errors } => {
            let detail = if errors.is_empty() {
                String::new()
            } else {
                format!(": {}", errors.join("; "))
            };
            let message = format!("{action} {path} at {url}: HTTP {code}{detail}");
            Failure::Other(match code {
                401 | 403 => Error::PermissionDenied {
                    backend: FLAVOR,
                    message: format!(
                        "{message}; check that the token is valid (Vault answers 403 to unknown or expired \
                         tokens too) and that its policy allows this path (see docs/backends/vault.md)"
                    ),
                    source: None,
                },
                412 | 429 | 500.. => Error::Unavailable {
                    backend: FLAVOR,
                    message: if code == 503 {
                        format!("{message} (the server is sealed, on standby or overloaded)")
                    } else {
                        message
                    },
                    source: None,
                },
                _ => Error::Backend {
                    backend: FLAVOR,
                    source: message.into(),
                },
            })
        }
        // The transport's errors are reduced to text: some of them keep the
        // response body (a secret's values, on a read) in a field that
        // `Debug` would print.
        ClientError::RestClientError {
            source: rustify::errors::ClientError::RequestError { source, .. },
        } => Failure::Other(Error::Unavailable {
            backend: FLAVOR,
            message: format!("cannot reach Vault at {url} to {action} {path}"),
            source: Some(format!("{source:#}").into()),
        }),
        ClientError::RestClientError { source } => Failure::Other(Error::Backend {
            backend: FLAVOR,
            source: format!("{action} {path} at {url}: {source}").into(),
        }),
        other => Failure::Other(Error::Backend {
            backend: FLAVOR,
            source: format!("{action} {path} at {url}: {other}").into(),
        }),
    }
}
