//! Azure errors, mapped onto the core error enum.
//!
//! The SDK's errors are reduced to text built here: they keep the whole
//! response, and a body that failed to deserialize may be a secret's.

use azure_core::error::ErrorKind;
use keystack_secrets_core::{Error, SecretName};
use serde::Deserialize;

use crate::FLAVOR;

/// Problems specific to the Azure backend.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AzureError {
    /// A deleted secret that Keystack did not create holds the name.
    #[error(
        "{id} in {vault} is a deleted secret that Keystack did not create (in this namespace); \
         Keystack neither recovers nor purges it: purge or recover it yourself, or pick another name"
    )]
    DeletedForeign {
        /// The Key Vault secret name.
        id: String,
        /// The vault.
        vault: String,
    },
    /// The name, as Key Vault spells it, is longer than Key Vault allows.
    #[error(
        "secret name '{name}' is too long for Azure Key Vault: stored as {id} it is {len} \
         characters and the limit is 127 (each '_', '-' and capital letter takes two); \
         use a shorter name{namespace_hint}"
    )]
    NameTooLong {
        /// The Keystack name.
        name: SecretName,
        /// The Key Vault name it maps to.
        id: String,
        /// Its length.
        len: usize,
        /// A hint about the namespace's share, if there is one.
        namespace_hint: String,
    },
}

impl From<AzureError> for Error {
    fn from(err: AzureError) -> Self {
        let message = err.to_string();
        match err {
            AzureError::DeletedForeign { .. } => Error::PermissionDenied {
                backend: FLAVOR,
                message,
                source: None,
            },
            AzureError::NameTooLong { .. } => Error::Backend {
                backend: FLAVOR,
                source: Box::new(err),
            },
        }
    }
}

/// What went wrong with one request, before it becomes a core error.
#[derive(Debug)]
pub(crate) enum Failure {
    /// 404.
    NotFound,
    /// 409 `ObjectIsDeletedButRecoverable`: the name is held by a deleted secret.
    DeletedButRecoverable,
    /// Any other 409: the name is being deleted, purged or recovered.
    Conflict,
    /// 403 `SecretDisabled`: the secret exists but its latest version is disabled.
    Disabled,
    /// Anything else, already mapped.
    Other(Error),
}

impl Failure {
    /// The failure as an error, where the caller has no meaning of its own for it.
    pub(crate) fn into_error(self, what: String) -> Error {
        match self {
            Failure::Other(e) => e,
            other => Error::Backend {
                backend: FLAVOR,
                source: format!("{what}: unexpected answer ({other:?})").into(),
            },
        }
    }
}

#[derive(Deserialize)]
struct Body {
    error: Option<Detail>,
}

#[derive(Deserialize)]
struct Detail {
    code: Option<String>,
    message: Option<String>,
    #[serde(rename = "innererror")]
    inner: Option<Box<Detail>>,
}

/// Whether a transport error is TLS refusing the server's certificate
/// (which no retry mends), from the text of its sources.
fn untrusted_certificate(err: &azure_core::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        let text = e.to_string();
        if text.contains("invalid peer certificate") || text.contains("certificate verify") {
            return true;
        }
        source = e.source();
    }
    false
}

/// Maps an SDK error of `action` on `resource` in `vault`.
pub(crate) fn classify(
    err: &azure_core::Error,
    vault: &str,
    action: &str,
    resource: &str,
) -> Failure {
    let unavailable = |message: String| {
        Failure::Other(Error::Unavailable {
            backend: FLAVOR,
            message,
            source: None,
        })
    };
    match err.kind() {
        ErrorKind::HttpResponse {
            status,
            error_code,
            raw_response,
        } => {
            // Key Vault's error bodies name secrets, never values.
            let detail = raw_response
                .as_ref()
                .and_then(|r| serde_json::from_slice::<Body>(r.body()).ok())
                .and_then(|b| b.error);
            let code = detail
                .as_ref()
                .and_then(|d| d.code.clone())
                .or_else(|| error_code.clone())
                .unwrap_or_default();
            let inner = detail
                .as_ref()
                .and_then(|d| d.inner.as_ref())
                .and_then(|i| i.code.clone())
                .unwrap_or_default();
            let text = detail
                .as_ref()
                .and_then(|d| d.message.clone())
                .unwrap_or_default();
            let status = u16::from(*status);
            let message = format!(
                "{action} {resource} in {vault}: HTTP {status} {code}{}{}",
                if inner.is_empty() {
                    String::new()
                } else {
                    format!("/{inner}")
                },
                if text.is_empty() {
                    String::new()
                } else {
                    format!(": {text}")
                }
            );
            match status {
                404 => Failure::NotFound,
                409 if inner == "ObjectIsDeletedButRecoverable" => Failure::DeletedButRecoverable,
                409 => Failure::Conflict,
                403 if inner == "SecretDisabled" => Failure::Disabled,
                401 => Failure::Other(Error::Unauthenticated {
                    backend: FLAVOR,
                    message: format!(
                        "{message}; the vault refused the token: check that the credential is for \
                         the vault's tenant (see docs/backends/azure.md)"
                    ),
                    source: None,
                }),
                403 => Failure::Other(Error::PermissionDenied {
                    backend: FLAVOR,
                    message: format!(
                        "{message}; the identity needs the \"Key Vault Secrets Officer\" role on \
                         the vault (or an access policy with get, list, set, delete, recover and \
                         purge on secrets)"
                    ),
                    source: None,
                }),
                408 | 429 | 500..=599 => unavailable(message),
                _ => Failure::Other(Error::Backend {
                    backend: FLAVOR,
                    source: message.into(),
                }),
            }
        }
        ErrorKind::Connection | ErrorKind::Io if untrusted_certificate(err) => {
            Failure::Other(Error::InvalidConfig {
                backend: FLAVOR,
                message: format!(
                    "the TLS certificate of {vault} is not trusted (unknown issuer, expired, or \
                     for another name); if the vault is reached through a TLS-inspecting proxy \
                     or a private endpoint with its own certificate authority, set ca_file to \
                     that authority's PEM file"
                ),
            })
        }
        ErrorKind::Connection | ErrorKind::Io => unavailable(format!(
            "cannot reach Key Vault at {vault} to {action} {resource} (no answer, or no answer in time)"
        )),
        ErrorKind::Credential => Failure::Other(Error::Unauthenticated {
            backend: FLAVOR,
            message: format!(
                "no token to {action} {resource} in {vault}: {err}; log in with `az login`, or \
                 set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (see \
                 docs/backends/azure.md)"
            ),
            source: None,
        }),
        _ => Failure::Other(Error::Backend {
            backend: FLAVOR,
            source: format!(
                "{action} {resource} in {vault}: the request or its answer could not be processed"
            )
            .into(),
        }),
    }
}
