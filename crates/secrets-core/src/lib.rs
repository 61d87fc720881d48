//! The core of Keystack's secrets layer: the secret model, the
//! [`SecretsManager`] trait every backend implements, the `{{name.key}}`
//! reference grammar, the validation level, and (with the `conformance`
//! feature) the behaviour suite every backend runs.

pub mod counting;
mod error;
pub mod factory;
pub mod logging;
mod manager;
pub mod mask;
pub mod memory;
mod name;
pub mod progress;
pub mod reference;
#[cfg(feature = "remote")]
pub mod remote;
mod schema;
mod secret;
pub mod settings;
mod validation;
mod value;
pub mod warning;

#[cfg(feature = "conformance")]
pub mod conformance;
#[cfg(feature = "testkit")]
mod proxy;
#[cfg(feature = "testkit")]
pub mod testkit;

pub use error::{BoxError, Error, Result, with_causes};
pub use factory::{BackendConfig, BackendFactory};
pub use manager::{
    Capabilities, ManagerInfo, NameChars, SecretsManager, SecretsManagerExt, get_each,
};
pub use name::{NameError, NameKind, NameProblem, SecretKey, SecretName};
pub use reference::{ReferenceError, ReferenceProblem, SecretReference, Template};
pub use schema::{SchemaError, SecretSchema};
pub use secret::{Secret, SecretPatch};
pub use validation::{
    VALIDATION_LEVEL_ENV, ValidationLevel, ValidationLevelError, ZENML_VALIDATION_LEVEL_ENV,
};
pub use value::{REDACTED, SecretValue};

/// The Rust examples in the user guide, compiled and run as doctests so the
/// docs cannot drift from the code.
#[cfg(doctest)]
mod guide {
    #[doc = include_str!("../../../docs/secrets.md")]
    struct Secrets;
    #[doc = include_str!("../../../docs/references.md")]
    struct References;
}
