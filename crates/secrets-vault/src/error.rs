//! Vault errors, mapped onto the core error enum. No message carries a
//! token: vaultrs's errors do not, and ours name only the server and path.

use keystack_secrets_core::Error;
use vaultrs::error::ClientError;

use crate::FLAVOR;

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
