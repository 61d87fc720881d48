//! Keystack stacks: flavors (as data), components and stacks kept as YAML
//! files, pre-run validation of secret references, their resolution, and the
//! [`StepContext`] through which code running on a stack reads its secrets.
//!
//! This crate knows secrets-manager backends only through a
//! [`BackendRegistry`] of constructors keyed by flavor, filled in by the
//! binary (or by the code running a step) with the backends it was built with.
//!
//! One concern a file: [`component`] and [`stack`] are what is stored,
//! [`project`] where, [`flavor`] the catalogue; then, in the order a run
//! goes through them, [`validation`], [`fetch`], [`resolve`], and
//! [`register_secrets`] planning; [`concurrency`] is the one setting they share.
//! [`delivery`] is what a command adds to a stack (templates, files) or
//! takes from it (`--only`).

mod component;
pub mod concurrency;
pub mod delivery;
mod error;
pub mod external_secrets;
pub mod fetch;
pub mod flavor;
mod hint;
mod import;
pub mod project;
pub mod register_secrets;
mod registry;
pub mod resolve;
mod stack;
mod step;
pub mod trust;
pub mod validation;
pub mod yaml;
pub mod zenml;

#[cfg(test)]
mod pipeline_tests;

pub use component::{AttributeValue, Component, FoundReference, Warning, check_name};
pub use delivery::TemplateInput;
pub use error::StackError;
pub use fetch::stack_references;
pub use flavor::{AttributeSpec, AttributeType, Catalog, ComponentType, Flavor};
pub use hint::did_you_mean;
pub use project::{LoadedStack, Project};
pub use register_secrets::{PlannedSecret, plan_register_secrets};
pub use registry::BackendRegistry;
pub use resolve::{ResolvedComponent, ResolvedStack, resolve, resolve_validated, resolve_with};
pub use stack::{Stack, StackExport};
pub use step::{StackHandle, StepContext};
pub use validation::{Problem, Validated, ValidationReport, validate, validate_with};

/// The example of docs/step-access.md, compiled as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/step-access.md")]
struct StepAccessGuide;
