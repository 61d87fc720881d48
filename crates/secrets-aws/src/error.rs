//! AWS errors, mapped onto the core error enum.

use aws_sdk_secretsmanager::config::http::HttpResponse;
use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};
use keystack_secrets_core::{Error, SecretName};

use crate::{AwsSecretsManager, FLAVOR};

/// Problems specific to the AWS backend (those every remote backend has
/// are [`keystack_secrets_core::remote::Refusal`]s).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AwsError {
    /// The secret is scheduled for deletion (a recovery window is running).
    #[error(
        "secret '{name}' ({aws_name}) is scheduled for deletion in AWS; restore it with `aws secretsmanager restore-secret --secret-id {aws_name}`, or wait for the recovery window to end"
    )]
    ScheduledForDeletion {
        /// The Keystack name.
        name: SecretName,
        /// The AWS name.
        aws_name: String,
    },
}

impl From<AwsError> for Error {
    fn from(err: AwsError) -> Self {
        match err {
            AwsError::ScheduledForDeletion { .. } => Error::Backend {
                backend: FLAVOR,
                source: Box::new(err),
            },
        }
    }
}

/// Maps an SDK error of operation `action` (on secret `name`) onto the core enum.
pub(crate) fn sdk_error<E>(
    err: SdkError<E, HttpResponse>,
    manager: &AwsSecretsManager,
    action: &str,
    name: Option<&SecretName>,
) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let endpoint = manager.endpoint();
    match &err {
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) | SdkError::ResponseError(_) => {
            Error::Unavailable {
                backend: FLAVOR,
                message: format!("cannot reach AWS Secrets Manager at {endpoint} to {action}"),
                source: Some(Box::new(err)),
            }
        }
        SdkError::ServiceError(service)
            if service.raw().status().is_server_error() && service.err().code().is_none() =>
        {
            Error::Unavailable {
                backend: FLAVOR,
                message: format!(
                    "AWS Secrets Manager at {endpoint} failed with HTTP {} while trying to {action}{}",
                    service.raw().status().as_u16(),
                    on(name)
                ),
                source: Some(Box::new(err)),
            }
        }
        SdkError::ServiceError(service) => {
            let code = service.err().code().unwrap_or_default().to_owned();
            let text = service.err().message().unwrap_or_default().to_owned();
            match (code.as_str(), name) {
                ("ResourceNotFoundException", Some(name)) => Error::NotFound { name: name.clone() },
                ("ResourceExistsException", Some(name)) => {
                    Error::AlreadyExists { name: name.clone() }
                }
                ("InvalidRequestException", Some(name))
                    if text.contains("deletion") || text.contains("deleted") =>
                {
                    AwsError::ScheduledForDeletion {
                        name: name.clone(),
                        aws_name: manager.aws_name(name),
                    }
                    .into()
                }
                ("AccessDeniedException" | "AccessDenied", _) => Error::PermissionDenied {
                    backend: FLAVOR,
                    message: format!("not allowed to {action}{}: {text}", on(name)),
                    source: Some(Box::new(err)),
                },
                (
                    "UnrecognizedClientException"
                    | "InvalidClientTokenId"
                    | "InvalidSignatureException"
                    | "SignatureDoesNotMatch"
                    | "ExpiredTokenException"
                    | "IncompleteSignature"
                    | "MissingAuthenticationToken",
                    _,
                ) => Error::Unauthenticated {
                    backend: FLAVOR,
                    message: format!(
                        "AWS rejected the credentials ({code}); check the profile or AWS_* variables"
                    ),
                    source: Some(Box::new(err)),
                },
                (
                    "ThrottlingException"
                    | "TooManyRequestsException"
                    | "InternalServiceError"
                    | "ServiceUnavailable",
                    _,
                ) => Error::Unavailable {
                    backend: FLAVOR,
                    message: format!(
                        "AWS Secrets Manager at {endpoint} is busy ({code}) while trying to {action}{}",
                        on(name)
                    ),
                    source: Some(Box::new(err)),
                },
                _ => Error::Backend {
                    backend: FLAVOR,
                    source: Box::new(err),
                },
            }
        }
        _ => match credentials_problem(&err) {
            Some(message) => Error::Unauthenticated {
                backend: FLAVOR,
                message,
                source: Some(Box::new(err)),
            },
            None => Error::Backend {
                backend: FLAVOR,
                source: Box::new(err),
            },
        },
    }
}

fn on(name: Option<&SecretName>) -> String {
    name.map(|n| format!(" secret '{n}'")).unwrap_or_default()
}

/// A construction failure caused by missing credentials says so.
fn credentials_problem<E: std::error::Error + 'static, R: std::fmt::Debug + 'static>(
    err: &SdkError<E, R>,
) -> Option<String> {
    let text = keystack_error_chain(err);
    text.contains("credentials").then(|| {
        "no AWS credentials found; set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or run on a role".to_owned()
    })
}

fn keystack_error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(inner) = source {
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}
