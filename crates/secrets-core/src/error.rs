//! The one error type of the secrets layer. Backends map their SDK's errors
//! onto it; callers match on variants, never on message text.

use crate::{NameError, ReferenceError, SchemaError, SecretKey, SecretName};

/// A boxed error from a backend or SDK, kept as the source of an [`Error`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Result alias for the secrets layer.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the secrets layer.
///
/// Messages never contain a secret value: variants carry names, keys and
/// backend messages only, and backends must not put values into the sources
/// they attach.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No secret of that name exists.
    #[error("secret '{name}' does not exist")]
    NotFound {
        /// The missing secret.
        name: SecretName,
    },
    /// The secret exists but has no such key.
    #[error("secret '{name}' has no key '{key}'")]
    KeyNotFound {
        /// The secret.
        name: SecretName,
        /// The missing key.
        key: SecretKey,
    },
    /// A secret of that name exists already.
    #[error("secret '{name}' already exists; update it, or delete it first")]
    AlreadyExists {
        /// The existing secret.
        name: SecretName,
    },
    /// A name or key breaks the grammar.
    #[error(transparent)]
    InvalidName(#[from] NameError),
    /// A secret reference breaks the grammar.
    #[error(transparent)]
    InvalidReference(#[from] ReferenceError),
    /// The key-values do not fit the secret's schema.
    #[error("secret '{name}' is not valid: {problem}")]
    InvalidSecret {
        /// The secret.
        name: SecretName,
        /// What is wrong with it.
        problem: SchemaError,
    },
    /// The backend's configuration is wrong (unknown key, bad value, missing setting).
    #[error("{backend} secrets manager is misconfigured: {message}")]
    InvalidConfig {
        /// The backend flavor.
        backend: &'static str,
        /// What to fix.
        message: String,
    },
    /// The credentials were accepted but do not allow this operation.
    #[error("{backend} secrets manager denied access: {message}")]
    PermissionDenied {
        /// The backend flavor.
        backend: &'static str,
        /// What was refused.
        message: String,
        /// The backend's own error.
        #[source]
        source: Option<BoxError>,
    },
    /// No usable credentials, or they were rejected.
    #[error("{backend} secrets manager could not authenticate: {message}")]
    Unauthenticated {
        /// The backend flavor.
        backend: &'static str,
        /// What to fix.
        message: String,
        /// The backend's own error.
        #[source]
        source: Option<BoxError>,
    },
    /// The backend is unreachable, throttling or briefly failing; retrying may help.
    #[error("{backend} secrets manager is unavailable: {message}")]
    Unavailable {
        /// The backend flavor.
        backend: &'static str,
        /// What happened.
        message: String,
        /// The backend's own error.
        #[source]
        source: Option<BoxError>,
    },
    /// Another writer changed the secret at the same time; retrying may help.
    #[error("secret '{name}' was changed concurrently; try again")]
    Conflict {
        /// The secret.
        name: SecretName,
    },
    /// Stored data could not be read back: corrupt, undecryptable or foreign.
    #[error("{backend} secrets manager holds data it cannot read: {message}")]
    Corrupt {
        /// The backend flavor.
        backend: &'static str,
        /// What is wrong and what to do.
        message: String,
        /// The underlying error.
        #[source]
        source: Option<BoxError>,
    },
    /// Any other backend failure.
    #[error("{backend} secrets manager failed")]
    Backend {
        /// The backend flavor.
        backend: &'static str,
        /// The backend's own error.
        source: BoxError,
    },
}

impl Error {
    /// A setting of `backend` that cannot be used, with what to fix.
    pub fn invalid_config(backend: &'static str, message: impl Into<String>) -> Self {
        Self::InvalidConfig {
            backend,
            message: message.into(),
        }
    }

    /// Whether the same call may succeed if tried again later.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Unavailable { .. } | Self::Conflict { .. })
    }

    /// Whether this is [`Error::NotFound`].
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound { .. })
    }
}

/// The message of an error followed by its causes, one per line (a cause
/// whose text the message already holds is left out): how the command line
/// and the Python package report every error.
pub fn with_causes(err: &dyn std::error::Error) -> String {
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(&format!("\n  caused by: {text}"));
        }
        source = cause.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn only_transient_errors_are_retryable() {
        let name = SecretName::new("db").unwrap();
        assert!(
            Error::Unavailable {
                backend: "aws",
                message: "throttled".into(),
                source: None
            }
            .is_retryable()
        );
        assert!(Error::Conflict { name: name.clone() }.is_retryable());
        assert!(!Error::NotFound { name: name.clone() }.is_retryable());
        assert!(!Error::AlreadyExists { name }.is_retryable());
    }

    #[test]
    fn sources_are_kept() {
        let io = std::io::Error::other("disk on fire");
        let err = Error::Backend {
            backend: "local",
            source: Box::new(io),
        };
        assert_eq!(err.source().unwrap().to_string(), "disk on fire");
        assert_eq!(err.to_string(), "local secrets manager failed");
    }
}
