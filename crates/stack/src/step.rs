//! Step access: what code running on a stack sees of it.

use std::ffi::OsString;
use std::path::Path;
use std::sync::Arc;

use keystack_secrets_core::SecretsManager;

use crate::{BackendRegistry, ComponentType, LoadedStack, Project, StackError};

/// What code running on a stack (a "step") sees of it.
///
/// ```
/// # use keystack_secrets_core::{Secret, SecretName};
/// # use keystack_stack::{BackendRegistry, Project, StepContext};
/// # let dir = tempfile::tempdir().unwrap();
/// # let env = |name: &str| (name == "KEYSTACK_DATA_DIR").then(|| dir.path().join("data").into_os_string());
/// # Project::init(dir.path(), &env).unwrap();
/// # let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// # runtime.block_on(async {
/// // The backends this program was built with.
/// let registry = BackendRegistry::new().with(keystack_secrets_local::LocalFactory);
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
        let name = env(crate::project::STACK_ENV)
            .and_then(|n| n.into_string().ok())
            .filter(|n| !n.is_empty());
        let stack = project.select_stack(name.as_deref())?;
        Ok(Self {
            project,
            stack,
            registry,
        })
    }

    /// The project the stack belongs to.
    pub fn project(&self) -> &Project {
        &self.project
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

impl<'a> StackHandle<'a> {
    /// The stack with its components, as loaded from the project.
    pub fn loaded(&self) -> &'a LoadedStack {
        &self.context.stack
    }

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
