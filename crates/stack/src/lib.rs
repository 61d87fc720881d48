//! Keystack stacks: flavors (as data), components and stacks kept as YAML
//! files, pre-run validation of secret references, their resolution, and the
//! [`StepContext`] through which code running on a stack reads its secrets.
//!
//! This crate knows secrets-manager backends only through a
//! [`BackendRegistry`] of constructors keyed by flavor, filled in by the
//! binary (or by the code running a step) with the backends it was built with.

mod error;
pub mod flavor;
pub mod model;
pub mod project;
pub mod validate;
pub mod yaml;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::Path;
use std::sync::Arc;

use keystack_secrets_core::SecretsManager;

pub use error::StackError;
pub use flavor::{AttributeSpec, AttributeType, Catalog, ComponentType, Flavor};
pub use model::{AttributeValue, Component, FoundReference, Stack, StackExport, Warning};
pub use project::{LoadedStack, Project};
pub use validate::{Problem, ResolvedStack, ValidationReport, resolve, validate};

/// The example of docs/step-access.md, compiled as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/step-access.md")]
struct StepAccessGuide;

/// Builds a secrets manager from its component configuration.
pub type BackendConstructor =
    fn(&Component, &Project) -> Result<Arc<dyn SecretsManager>, StackError>;

/// The secrets-manager backends available, keyed by flavor.
#[derive(Debug, Clone, Default)]
pub struct BackendRegistry {
    constructors: BTreeMap<&'static str, BackendConstructor>,
}

impl BackendRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) the constructor for `flavor`.
    pub fn with(mut self, flavor: &'static str, constructor: BackendConstructor) -> Self {
        self.constructors.insert(flavor, constructor);
        self
    }

    /// Builds the secrets manager `component` describes.
    pub fn build(
        &self,
        component: &Component,
        project: &Project,
    ) -> Result<Arc<dyn SecretsManager>, StackError> {
        component.check(project.catalog())?;
        let constructor = self
            .constructors
            .get(component.flavor.as_str())
            .ok_or_else(|| StackError::BackendUnavailable {
                flavor: component.flavor.clone(),
                available: self
                    .constructors
                    .keys()
                    .copied()
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
        constructor(component, project)
    }
}

/// What code running on a stack (a "step") sees of it.
///
/// ```
/// # use std::sync::Arc;
/// # use keystack_secrets_core::{Secret, SecretName, SecretsManager};
/// # use keystack_stack::{BackendRegistry, Component, Project, StackError, StepContext};
/// # fn local(component: &Component, project: &Project) -> Result<Arc<dyn SecretsManager>, StackError> {
/// #     let manager = keystack_secrets_local::LocalBuilder::new()
/// #         .with_path(project.data_dir().join("local")).build()
/// #         .map_err(|e| StackError::Secrets(e.into()))?;
/// #     Ok(Arc::new(manager))
/// # }
/// # let dir = tempfile::tempdir().unwrap();
/// # let env = |name: &str| (name == "KEYSTACK_DATA_DIR").then(|| dir.path().join("data").into_os_string());
/// # Project::init(dir.path(), &env).unwrap();
/// # let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// # runtime.block_on(async {
/// // The backends this program was built with.
/// let registry = BackendRegistry::new().with("local", local);
/// let context = StepContext::discover(dir.path(), &env, registry)?;
/// # let manager = context.stack().secrets_manager()?;
/// # manager.register_secret(&Secret::arbitrary(SecretName::new("mlflow_secret")?, [("password", "abc123")])?).await?;
///
/// let name = SecretName::new("mlflow_secret")?;
/// let secret = context.stack().secrets_manager()?.get_secret(&name).await?;
/// assert_eq!(secret.get("password").unwrap().expose(), "abc123");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
#[derive(Debug)]
pub struct StepContext {
    project: Project,
    stack: LoadedStack,
    registry: BackendRegistry,
}

impl StepContext {
    /// The context of the current process: the project found from the
    /// current directory, and the stack named by `KEYSTACK_STACK` (which
    /// `keystack run` sets) or else the active stack.
    pub fn from_env(registry: BackendRegistry) -> Result<Self, StackError> {
        let cwd = std::env::current_dir().map_err(|e| StackError::Io {
            action: "find",
            path: ".".into(),
            source: e,
        })?;
        Self::discover(&cwd, &|name| std::env::var_os(name), registry)
    }

    /// Like [`StepContext::from_env`], from `cwd` and the variables `env` gives.
    pub fn discover(
        cwd: &Path,
        env: &dyn Fn(&str) -> Option<OsString>,
        registry: BackendRegistry,
    ) -> Result<Self, StackError> {
        let project = Project::discover(cwd, env)?;
        let name = env(project::STACK_ENV)
            .and_then(|n| n.into_string().ok())
            .filter(|n| !n.is_empty());
        let stack = project.select_stack(name.as_deref())?;
        Ok(Self {
            project,
            stack,
            registry,
        })
    }

    /// The stack the step runs on.
    pub fn stack(&self) -> StackHandle<'_> {
        StackHandle { context: self }
    }
}

/// The stack of a [`StepContext`].
#[derive(Debug, Clone, Copy)]
pub struct StackHandle<'a> {
    context: &'a StepContext,
}

impl StackHandle<'_> {
    /// The stack's name.
    pub fn name(&self) -> &str {
        &self.context.stack.stack.name
    }

    /// The stack's secrets manager; an error if the stack has none.
    pub fn secrets_manager(&self) -> Result<Arc<dyn SecretsManager>, StackError> {
        let component = self
            .context
            .stack
            .component(ComponentType::SecretsManager)
            .ok_or_else(|| StackError::NoSecretsManager {
                stack: self.name().to_owned(),
            })?;
        self.context
            .registry
            .build(component, &self.context.project)
    }
}

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
