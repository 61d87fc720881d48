//! GCP errors, mapped onto the core error enum.
//!
//! The client's errors are reduced to text built here: some kinds keep the
//! response (a secret's payload, on a read) or a deserializer message that
//! can quote it, and `Debug` would print them.

use google_cloud_gax::error::Error as GaxError;
use google_cloud_gax::error::rpc::Code;
use keystack_secrets_core::Error;

use crate::FLAVOR;

/// What went wrong with one request, before it becomes a core error.
pub(crate) enum Failure {
    /// NOT_FOUND.
    NotFound,
    /// ALREADY_EXISTS.
    AlreadyExists,
    /// Anything else, already mapped.
    Other(Error),
}

/// Maps a client error of `action` on `resource` at `endpoint`.
pub(crate) fn classify(err: &GaxError, endpoint: &str, action: &str, resource: &str) -> Failure {
    let unavailable = |message: String| {
        Failure::Other(Error::Unavailable {
            backend: FLAVOR,
            message,
            source: None,
        })
    };
    if let Some(status) = err.status() {
        let message = format!(
            "{action} {resource} at {endpoint}: {} ({})",
            status.message,
            status.code.name()
        );
        return match status.code {
            Code::NotFound => Failure::NotFound,
            Code::AlreadyExists => Failure::AlreadyExists,
            Code::PermissionDenied => Failure::Other(Error::PermissionDenied {
                backend: FLAVOR,
                message: format!(
                    "{message}; the credentials need roles/secretmanager.admin on the project \
                     (see docs/backends/gcp.md)"
                ),
                source: None,
            }),
            Code::Unauthenticated => Failure::Other(Error::Unauthenticated {
                backend: FLAVOR,
                message: format!(
                    "{message}; refresh Application Default Credentials with \
                     `gcloud auth application-default login`"
                ),
                source: None,
            }),
            Code::Unavailable
            | Code::ResourceExhausted
            | Code::DeadlineExceeded
            | Code::Aborted => unavailable(message),
            _ => Failure::Other(Error::Backend {
                backend: FLAVOR,
                source: message.into(),
            }),
        };
    }
    if err.is_timeout() {
        return unavailable(format!(
            "{action} {resource}: no answer from {endpoint} in time"
        ));
    }
    if err.is_connect() || err.is_io() || err.is_transport() {
        return unavailable(format!(
            "cannot reach Secret Manager at {endpoint} to {action} {resource}"
        ));
    }
    if err.is_authentication() {
        return Failure::Other(Error::Unauthenticated {
            backend: FLAVOR,
            message: format!(
                "no credentials to {action} {resource}: Keystack uses Application Default Credentials; \
                 run `gcloud auth application-default login`, or set GOOGLE_APPLICATION_CREDENTIALS"
            ),
            source: None,
        });
    }
    if let Some(code) = err.http_status_code() {
        let message = format!("{action} {resource} at {endpoint}: HTTP {code}");
        return if code == 429 || code >= 500 {
            unavailable(message)
        } else {
            Failure::Other(Error::Backend {
                backend: FLAVOR,
                source: message.into(),
            })
        };
    }
    Failure::Other(Error::Backend {
        backend: FLAVOR,
        source: format!(
            "{action} {resource} at {endpoint}: the request or its answer could not be processed"
        )
        .into(),
    })
}
