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

mod component;
pub mod concurrency;
mod error;
pub mod fetch;
pub mod flavor;
mod import;
pub mod project;
pub mod register_secrets;
mod registry;
pub mod resolve;
mod stack;
mod step;
pub mod validation;
pub mod yaml;

#[cfg(test)]
mod pipeline_tests;

pub use component::{AttributeValue, Component, FoundReference, Warning, check_name};
pub use error::StackError;
pub use fetch::stack_references;
pub use flavor::{AttributeSpec, AttributeType, Catalog, ComponentType, Flavor};
pub use project::{LoadedStack, Project};
pub use register_secrets::{PlannedSecret, plan_register_secrets};
pub use registry::BackendRegistry;
pub use resolve::{ResolvedComponent, ResolvedStack, resolve, resolve_validated};
pub use stack::{Stack, StackExport};
pub use step::{StackHandle, StepContext};
pub use validation::{Problem, Validated, ValidationReport, validate};

/// The example of docs/step-access.md, compiled as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/step-access.md")]
struct StepAccessGuide;

/// `"; did you mean 'x'?"` for the closest candidate within a small edit
/// distance, else the empty string.
pub fn did_you_mean<'a>(given: &str, candidates: impl Iterator<Item = &'a str>) -> String {
    candidates
        .map(|c| (edit_distance(given, c), c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 4))
        .min()
        .map(|(_, c)| format!("; did you mean '{c}'?"))
        .unwrap_or_default()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (diagonal + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(above + 1);
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn did_you_mean_picks_close_names_only() {
        let names = ["tracking_uri", "tracking_username", "tracking_password"];
        assert_eq!(
            did_you_mean("tracking_usernme", names.into_iter()),
            "; did you mean 'tracking_username'?"
        );
        assert_eq!(did_you_mean("zzz", names.into_iter()), "");
    }
}
