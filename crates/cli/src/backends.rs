//! The secrets-manager backends this binary was built with, by flavor.

use std::sync::Arc;

use keystack_secrets_core::SecretsManager;
use keystack_stack::{BackendRegistry, Component, Project, StackError};

/// Every backend enabled by cargo features.
pub(crate) fn registry() -> BackendRegistry {
    let registry = BackendRegistry::new();
    #[cfg(feature = "local")]
    let registry = registry.with(keystack_secrets_local::FLAVOR, local);
    #[cfg(feature = "aws")]
    let registry = registry.with(keystack_secrets_aws::FLAVOR, aws);
    #[cfg(feature = "gcp")]
    let registry = registry.with(keystack_secrets_gcp::FLAVOR, gcp);
    #[cfg(feature = "azure")]
    let registry = registry.with(keystack_secrets_azure::FLAVOR, azure);
    #[cfg(feature = "vault")]
    let registry = registry.with(keystack_secrets_vault::FLAVOR, vault);
    registry
}

/// AWS Secrets Manager: the component's attributes over the standard
/// variables (`AWS_REGION`, `AWS_ENDPOINT_URL_SECRETS_MANAGER`, `AWS_PROFILE`);
/// credentials from the standard chain.
#[cfg(feature = "aws")]
fn aws(component: &Component, _project: &Project) -> Result<Arc<dyn SecretsManager>, StackError> {
    use keystack_secrets_aws::{AwsBuilder, AwsConfigKey};

    let mut builder = AwsBuilder::from_env();
    for (name, value) in &component.attributes {
        let key: AwsConfigKey = name.parse()?;
        builder = builder.with_config(key, &value.as_text())?;
    }
    Ok(Arc::new(builder.build()?))
}

/// GCP Secret Manager: the component's attributes over `GOOGLE_CLOUD_PROJECT`;
/// Application Default Credentials.
#[cfg(feature = "gcp")]
fn gcp(component: &Component, _project: &Project) -> Result<Arc<dyn SecretsManager>, StackError> {
    use keystack_secrets_gcp::{GcpBuilder, GcpConfigKey};

    let mut builder = GcpBuilder::from_env();
    for (name, value) in &component.attributes {
        let key: GcpConfigKey = name.parse()?;
        builder = builder.with_config(key, &value.as_text())?;
    }
    Ok(Arc::new(builder.build()?))
}

/// Azure Key Vault: the component's attributes over `AZURE_KEYVAULT_URL`;
/// credentials from the standard variables, workload or managed identity, or
/// the Azure CLI. A relative `ca_file` is taken from the project folder.
#[cfg(feature = "azure")]
fn azure(component: &Component, project: &Project) -> Result<Arc<dyn SecretsManager>, StackError> {
    use keystack_secrets_azure::{AzureBuilder, AzureConfigKey};

    let mut builder = AzureBuilder::from_env();
    for (name, value) in &component.attributes {
        let key: AzureConfigKey = name.parse()?;
        let mut text = value.as_text();
        if key == AzureConfigKey::CaFile {
            text = project.root().join(text).display().to_string();
        }
        builder = builder.with_config(key, &text)?;
    }
    Ok(Arc::new(builder.build()?))
}

/// Vault / OpenBao: the component's attributes over the standard variables
/// (`VAULT_ADDR`, `VAULT_TOKEN`, `VAULT_NAMESPACE`, …, then `BAO_…`); relative
/// credential files are taken from the project folder.
#[cfg(feature = "vault")]
fn vault(component: &Component, project: &Project) -> Result<Arc<dyn SecretsManager>, StackError> {
    use keystack_secrets_vault::{VaultBuilder, VaultConfigKey};

    let mut builder = VaultBuilder::from_env();
    for (name, value) in &component.attributes {
        let key: VaultConfigKey = name.parse()?;
        let mut text = value.as_text();
        if matches!(
            key,
            VaultConfigKey::TokenFile | VaultConfigKey::SecretIdFile
        ) {
            text = project.root().join(text).display().to_string();
        }
        builder = builder.with_config(key, &text)?;
    }
    Ok(Arc::new(builder.build()?))
}

/// The local store: `path` (relative paths are taken from the project
/// folder), else `KEYSTACK_LOCAL_PATH`, else `<data dir>/local`.
#[cfg(feature = "local")]
fn local(component: &Component, project: &Project) -> Result<Arc<dyn SecretsManager>, StackError> {
    use keystack_secrets_local::{LocalBuilder, LocalConfigKey, LocalError};

    let config_error = |e: LocalError| StackError::Secrets(e.into());
    let mut builder = LocalBuilder::from_env().map_err(config_error)?;
    let mut has_path =
        std::env::var_os(keystack_secrets_local::LOCAL_PATH_ENV).is_some_and(|p| !p.is_empty());
    for (name, value) in &component.attributes {
        let key: LocalConfigKey = name.parse().map_err(config_error)?;
        let mut text = value.as_text();
        if matches!(key, LocalConfigKey::Path | LocalConfigKey::KeyFile) {
            text = project.root().join(text).display().to_string();
            has_path |= key == LocalConfigKey::Path;
        }
        builder = builder.with_config(key, &text).map_err(config_error)?;
    }
    if !has_path {
        builder = builder.with_path(project.data_dir().join("local"));
    }
    Ok(Arc::new(builder.build().map_err(config_error)?))
}
