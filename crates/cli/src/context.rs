//! What every command shares: the environment, the project and the stack it
//! works on, the secrets manager built for that stack, validation, and the
//! `-v` log. Commands call down into this module; it calls no command.

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use keystack_secrets_core::{SecretsManager, ValidationLevel};
use keystack_stack::concurrency::concurrency_from_env;
use keystack_stack::project::STACK_ENV;
use keystack_stack::{ComponentType, LoadedStack, Project, StackError, Validated};

use crate::backends;
use crate::error::CliError;
use crate::progress::{self, ProgressManager};

/// Whether `-v` (or `KEYSTACK_VERBOSE=1`) asked for a log on stderr.
static VERBOSE: AtomicBool = AtomicBool::new(false);

/// Turns the `-v` log on when `flag` is given or `KEYSTACK_VERBOSE` is `1`/`true`.
pub(crate) fn set_verbose(flag: bool) {
    let from_env = std::env::var("KEYSTACK_VERBOSE").is_ok_and(|v| v == "1" || v == "true");
    VERBOSE.store(flag || from_env, Ordering::Relaxed);
}

fn verbose() -> bool {
    VERBOSE.load(Ordering::Relaxed)
}

/// Writes one log line to standard error if `-v` is on. Callers pass
/// names, keys, paths and outcomes, never values.
pub(crate) fn log(line: &str) {
    if verbose() {
        eprintln!("keystack: {line}");
    }
}

/// A status line for people, on standard error.
pub(crate) fn status(message: &str) {
    eprintln!("{message}");
}

/// Prints the warnings a library call returned.
pub(crate) fn print_warnings(warnings: &[keystack_stack::Warning]) {
    for warning in warnings {
        eprintln!("warning: {warning}");
    }
}

/// A variable of this process's environment.
pub(crate) fn env(name: &str) -> Option<OsString> {
    std::env::var_os(name)
}

pub(crate) fn cwd() -> Result<PathBuf, CliError> {
    std::env::current_dir()
        .map_err(|e| CliError::failure(format!("cannot read the current directory: {e}")))
}

/// The project found from the current directory.
pub(crate) fn project() -> Result<Project, CliError> {
    Ok(Project::discover(&cwd()?, &env)?)
}

/// The stack the secret commands use: `KEYSTACK_STACK`, else the active one.
pub(crate) fn selected_stack(project: &Project) -> Result<LoadedStack, CliError> {
    let name = env(STACK_ENV)
        .and_then(|n| n.into_string().ok())
        .filter(|n| !n.is_empty());
    let stack = project.select_stack(name.as_deref())?;
    log(&format!(
        "project {}, stack '{}'{}",
        project.root().display(),
        stack.stack.name,
        if name.is_some() {
            " (from KEYSTACK_STACK)"
        } else {
            ""
        }
    ));
    Ok(stack)
}

/// The stack named by `name`, else [`selected_stack`].
pub(crate) fn named_or_selected_stack(
    project: &Project,
    name: Option<&str>,
) -> Result<LoadedStack, CliError> {
    match name {
        Some(name) => Ok(project.load_stack(name)?),
        None => selected_stack(project),
    }
}

/// Builds the stack's secrets manager (wrapped in the `-v` log when it is
/// on, and in a progress bar on a terminal).
pub(crate) fn stack_manager(
    project: &Project,
    stack: &LoadedStack,
) -> Result<Arc<dyn SecretsManager>, CliError> {
    let component = stack
        .component(ComponentType::SecretsManager)
        .ok_or_else(|| StackError::NoSecretsManager {
            stack: stack.stack.name.clone(),
        })?;
    component_manager(project, component)
}

/// Builds the secrets manager of one secrets-manager component, wrapped as
/// [`stack_manager`] wraps it.
pub(crate) fn component_manager(
    project: &Project,
    component: &keystack_stack::Component,
) -> Result<Arc<dyn SecretsManager>, CliError> {
    let manager = backends::registry().build(component, project)?;
    log(&format!(
        "secrets manager '{}' (flavor {}, {})",
        component.name,
        component.flavor,
        manager.info().location
    ));
    #[cfg(feature = "local")]
    warn_about_shared_store(project, manager.as_ref());
    let manager: Arc<dyn SecretsManager> = if verbose() {
        let sink: keystack_secrets_core::logging::LogSink = Arc::new(|line: &str| log(line));
        Arc::new(keystack_secrets_core::logging::LoggingManager::new(
            manager, sink,
        ))
    } else {
        manager
    };
    if progress::enabled() {
        return Ok(Arc::new(ProgressManager::new(manager, &component.name)));
    }
    Ok(manager)
}

/// Says so when the store every project shared before each local secrets
/// manager had its own is still there, and this manager is not using it.
#[cfg(feature = "local")]
fn warn_about_shared_store(project: &Project, manager: &dyn SecretsManager) {
    let info = manager.info();
    let Some(shared) = keystack_secrets_local::shared_store(project.data_dir()) else {
        return;
    };
    if info.flavor == keystack_secrets_local::FLAVOR
        && info.location != shared.display().to_string()
    {
        eprintln!(
            "warning: {} holds secrets of the store every project shared by default before Keystack \
             gave each local secrets manager its own; this one keeps its secrets in {}. Move them here \
             with `keystack secrets-manager adopt-shared-store [NAME...]` (see docs/backends/local.md).",
            shared.display(),
            info.location
        );
    }
}

/// The validation level: `--level` if given, else the environment's.
pub(crate) fn validation_level(level: Option<String>) -> Result<ValidationLevel, CliError> {
    match level {
        Some(level) => level
            .parse()
            .map_err(|e: keystack_secrets_core::ValidationLevelError| {
                CliError::usage(e.to_string().replacen(
                    "KEYSTACK_SECRET_VALIDATION_LEVEL=",
                    "--level ",
                    1,
                ))
            }),
        None => ValidationLevel::from_env().map_err(|e| CliError::usage(e.to_string())),
    }
}

/// Validates `stack` at `level`, building its secrets manager only when the
/// level needs one. Returns the manager (if built) and what validation
/// fetched, so that resolution does not fetch it again.
pub(crate) async fn validate_stack(
    project: &Project,
    stack: &LoadedStack,
    level: ValidationLevel,
) -> Result<(Option<Arc<dyn SecretsManager>>, Validated), CliError> {
    validate_stack_with(project, stack, &[], level).await
}

/// [`validate_stack_with`], then the manager resolution needs if
/// validation did not build one (at level `NONE`): what `run` and `inject`
/// do before they resolve.
pub(crate) async fn validate_for_resolution(
    project: &Project,
    stack: &LoadedStack,
    templates: &[keystack_stack::TemplateInput],
    level: ValidationLevel,
) -> Result<(Option<Arc<dyn SecretsManager>>, Validated), CliError> {
    let (manager, validated) = validate_stack_with(project, stack, templates, level).await?;
    let refers = templates
        .iter()
        .any(keystack_stack::TemplateInput::has_references)
        || !keystack_stack::stack_references(stack)?.is_empty();
    let manager = match manager {
        None if refers => Some(stack_manager(project, stack)?),
        manager => manager,
    };
    Ok((manager, validated))
}

/// [`validate_stack`] with `templates` a command was given checked too.
pub(crate) async fn validate_stack_with(
    project: &Project,
    stack: &LoadedStack,
    templates: &[keystack_stack::TemplateInput],
    level: ValidationLevel,
) -> Result<(Option<Arc<dyn SecretsManager>>, Validated), CliError> {
    let needed = keystack_stack::validation::needs_secrets_manager(stack, project.catalog())
        || templates
            .iter()
            .any(keystack_stack::TemplateInput::has_references);
    let manager = match stack.component(ComponentType::SecretsManager) {
        Some(_) if level != ValidationLevel::None && needed => Some(stack_manager(project, stack)?),
        _ => None,
    };
    let validated = keystack_stack::validate_with(
        stack,
        templates,
        project.catalog(),
        manager.as_deref(),
        level,
        concurrency_from_env()?,
    )
    .await?;
    Ok((manager, validated))
}
