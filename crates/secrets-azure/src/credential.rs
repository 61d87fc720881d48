//! The HTTP client and the token credential, from the configuration and
//! the standard Azure variables.

use std::sync::Arc;
use std::time::Duration;

use azure_core::credentials::{Secret as Token, TokenCredential};
use azure_core::http::ClientOptions;
use azure_identity::{
    ClientAssertionCredentialOptions, ClientSecretCredential, ClientSecretCredentialOptions,
    DeveloperToolsCredential, ManagedIdentityCredential, ManagedIdentityCredentialOptions,
    UserAssignedId, WorkloadIdentityCredential, WorkloadIdentityCredentialOptions,
};
use keystack_secrets_core::{Error, Result};

use crate::config::ClientSecret;
use crate::{AzureConfig, CredentialKind, FLAVOR};

/// The most a `ca_file` is read (a bundle of every public CA is about 220 KiB).
const CA_FILE_MAX: u64 = 1024 * 1024;

/// The reqwest client every request goes through (the vault's and the
/// credential's): the configured timeout, no redirects, and the extra
/// certificate authorities of `ca_file`.
pub(crate) fn http_client(config: &AzureConfig) -> Result<reqwest::Client> {
    let timeout = config.timeout();
    let mut builder = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .redirect(reqwest::redirect::Policy::none());
    if let Some(path) = &config.ca_file {
        let pem =
            keystack_secrets_core::remote::read_file_within(path, CA_FILE_MAX).map_err(|e| {
                Error::invalid_config(
                    FLAVOR,
                    format!(
                        "cannot read ca_file {}: {e}; give a PEM file of certificate authorities",
                        path.display()
                    ),
                )
            })?;
        let certificates = reqwest::Certificate::from_pem_bundle(&pem)
            .ok()
            .filter(|c| !c.is_empty())
            .ok_or_else(|| {
                Error::invalid_config(
                    FLAVOR,
                    format!(
                        "ca_file {} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
                        path.display()
                    ),
                )
            })?;
        builder = builder.tls_certs_merge(certificates);
    }
    builder
        .build()
        .map_err(|e| Error::invalid_config(FLAVOR, format!("cannot set up the HTTP client: {e}")))
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn required(kind: &str, names: &[&str]) -> Result<Vec<String>> {
    let missing: Vec<&str> = names.iter().copied().filter(|n| var(n).is_none()).collect();
    if !missing.is_empty() {
        return Err(Error::Unauthenticated {
            backend: FLAVOR,
            message: format!(
                "credential {kind} needs {} set; missing: {}",
                names.join(", "),
                missing.join(", ")
            ),
            source: None,
        });
    }
    Ok(names.iter().filter_map(|n| var(n)).collect())
}

fn unauthenticated(kind: &str, e: azure_core::Error) -> Error {
    Error::Unauthenticated {
        backend: FLAVOR,
        message: format!("cannot set up the {kind} credential: {e}"),
        source: None,
    }
}

/// Which credential `auto` picks, from the variables that are set.
pub(crate) fn auto_kind(var: impl Fn(&str) -> bool) -> CredentialKind {
    if var("AZURE_CLIENT_SECRET") {
        CredentialKind::ClientSecret
    } else if var("AZURE_FEDERATED_TOKEN_FILE") {
        CredentialKind::WorkloadIdentity
    } else if var("IDENTITY_ENDPOINT") || var("MSI_ENDPOINT") {
        CredentialKind::ManagedIdentity
    } else {
        CredentialKind::AzureCli
    }
}

/// The credential `config` asks for, its requests sent with `options`.
pub(crate) fn credential(
    config: &AzureConfig,
    given: Option<&ClientSecret>,
    options: ClientOptions,
) -> Result<Arc<dyn TokenCredential>> {
    if let Some(given) = given {
        return Ok(ClientSecretCredential::new(
            &given.tenant_id,
            given.client_id.clone(),
            Token::from(given.secret.to_string()),
            Some(ClientSecretCredentialOptions {
                client_options: options,
            }),
        )
        .map_err(|e| unauthenticated("client_secret", e))?);
    }
    let kind = match config.credential.unwrap_or(CredentialKind::Auto) {
        CredentialKind::Auto => auto_kind(|n| var(n).is_some()),
        kind => kind,
    };
    Ok(match kind {
        CredentialKind::ClientSecret => {
            let values = required(
                "client_secret",
                &["AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"],
            )?;
            let [tenant, client, secret] = <[String; 3]>::try_from(values).map_err(|_| {
                Error::invalid_config(FLAVOR, "the client secret variables changed while read")
            })?;
            ClientSecretCredential::new(
                &tenant,
                client,
                Token::from(secret),
                Some(ClientSecretCredentialOptions {
                    client_options: options,
                }),
            )
            .map_err(|e| unauthenticated("client_secret", e))?
        }
        CredentialKind::WorkloadIdentity => {
            required(
                "workload_identity",
                &[
                    "AZURE_TENANT_ID",
                    "AZURE_CLIENT_ID",
                    "AZURE_FEDERATED_TOKEN_FILE",
                ],
            )?;
            WorkloadIdentityCredential::new(Some(WorkloadIdentityCredentialOptions {
                credential_options: ClientAssertionCredentialOptions {
                    client_options: options,
                },
                ..WorkloadIdentityCredentialOptions::default()
            }))
            .map_err(|e| unauthenticated("workload_identity", e))?
        }
        CredentialKind::ManagedIdentity => {
            ManagedIdentityCredential::new(Some(ManagedIdentityCredentialOptions {
                user_assigned_id: config
                    .managed_identity_client_id
                    .clone()
                    .map(UserAssignedId::ClientId),
                client_options: options,
            }))
            .map_err(|e| unauthenticated("managed_identity", e))?
        }
        CredentialKind::AzureCli | CredentialKind::Auto => {
            DeveloperToolsCredential::new(None).map_err(|e| unauthenticated("azure_cli", e))?
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_picks_the_first_credential_whose_variables_are_set() {
        let with = |set: &'static [&'static str]| auto_kind(move |n| set.contains(&n));
        assert_eq!(with(&[]), CredentialKind::AzureCli);
        assert_eq!(with(&["MSI_ENDPOINT"]), CredentialKind::ManagedIdentity);
        assert_eq!(
            with(&["IDENTITY_ENDPOINT", "AZURE_FEDERATED_TOKEN_FILE"]),
            CredentialKind::WorkloadIdentity
        );
        assert_eq!(
            with(&["AZURE_CLIENT_SECRET", "AZURE_FEDERATED_TOKEN_FILE"]),
            CredentialKind::ClientSecret
        );
    }
}
