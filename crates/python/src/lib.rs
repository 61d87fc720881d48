//! The native part of the `keystack` Python package (`keystack._native`):
//! step access to a stack's secrets over the same libraries as the command
//! line — project and stack discovery, the backends, validation,
//! resolution — with Python's names from ZenML's guide. The Python side
//! (`python/keystack/`) re-exports it and adds the exceptions and the
//! logging filter.

mod context;
mod errors;
mod mask;
mod resolve;
mod runtime;
mod secret;

use pyo3::prelude::*;

/// The backends the command line carries by default.
pub(crate) fn registry() -> keystack_stack::BackendRegistry {
    keystack_stack::BackendRegistry::new()
        .with(keystack_secrets_local::LocalFactory)
        .with(keystack_secrets_aws::AwsFactory)
        .with(keystack_secrets_gcp::GcpFactory)
        .with(keystack_secrets_azure::AzureFactory)
        .with(keystack_secrets_vault::VaultFactory)
}

/// `text` with every secret value this process fetched replaced by
/// `[REDACTED]` (each line of a multi-line value too).
#[pyfunction]
fn _mask(text: &str) -> String {
    mask::mask(text)
}

#[pymodule]
fn _native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<context::PyStepContext>()?;
    module.add_class::<context::PyStack>()?;
    module.add_class::<context::PySecretsManager>()?;
    module.add_class::<context::PyComponent>()?;
    module.add_class::<secret::PySecret>()?;
    module.add_function(wrap_pyfunction!(resolve::resolve, module)?)?;
    module.add_function(wrap_pyfunction!(_mask, module)?)?;
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
