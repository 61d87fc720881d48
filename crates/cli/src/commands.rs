//! The commands: each checks its input, calls the libraries, prints.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::Arc;

use keystack_secrets_core::{
    Secret, SecretKey, SecretName, SecretPatch, SecretSchema, SecretValue, SecretsManager,
    ValidationLevel,
};
use keystack_stack::project::STACK_ENV;
use keystack_stack::validate::{
    PlannedSecret, Validated, concurrency_from_env, plan_register_secrets, stack_references,
};
use keystack_stack::{
    AttributeType, AttributeValue, Component, ComponentType, LoadedStack, Project, Stack,
    StackError, StackExport, validate,
};
use serde_json::json;
use zeroize::Zeroizing;

use crate::args::{
    Cli, Command, ComponentCommand, FlavorCommand, Format, SecretCommand, SecretFormat,
    SecretsManagerCommand, StackCommand, StackComponents,
};
use crate::pairs::{expand_value, parse_pairs, take_flag, take_option};
use crate::{CliError, backends, output, prompt, run};

fn env(name: &str) -> Option<OsString> {
    std::env::var_os(name)
}

fn cwd() -> Result<PathBuf, CliError> {
    std::env::current_dir()
        .map_err(|e| CliError::failure(format!("cannot read the current directory: {e}")))
}

fn status(message: &str) {
    eprintln!("{message}");
}

/// Runs the command; the result is the process exit code.
pub(crate) async fn dispatch(cli: Cli) -> Result<u8, CliError> {
    let component = |t: ComponentType, c: ComponentCommand| (t, c);
    let (component_type, command) = match cli.command {
        Command::Init => return init(),
        Command::Completion { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut command, "keystack", &mut std::io::stdout());
            return Ok(0);
        }
        Command::SecretsManager(args) => match args.command {
            SecretsManagerCommand::Secret(secret) => return secret_command(secret.command).await,
            SecretsManagerCommand::Component(c) => component(ComponentType::SecretsManager, c),
        },
        Command::Orchestrator(a) => component(ComponentType::Orchestrator, a.command),
        Command::ArtifactStore(a) => component(ComponentType::ArtifactStore, a.command),
        Command::ExperimentTracker(a) => component(ComponentType::ExperimentTracker, a.command),
        Command::ContainerRegistry(a) => component(ComponentType::ContainerRegistry, a.command),
        Command::ModelDeployer(a) => component(ComponentType::ModelDeployer, a.command),
        Command::StepOperator(a) => component(ComponentType::StepOperator, a.command),
        Command::Alerter(a) => component(ComponentType::Alerter, a.command),
        Command::Stack(args) => return stack_command(args.command).await,
        Command::Run(args) => return run::run(&project()?, args).await,
    };
    component_command(&project()?, component_type, command)
}

fn project() -> Result<Project, CliError> {
    Ok(Project::discover(&cwd()?, &env)?)
}

fn init() -> Result<u8, CliError> {
    let dir = cwd()?;
    let project = Project::init(&dir, &env)?;
    status(&format!(
        "Initialized a Keystack project in {} with the active stack 'default' \
         (local orchestrator, artifact store and secrets manager).",
        project.root().display()
    ));
    Ok(0)
}

/// The stack the secret commands use: `KEYSTACK_STACK`, else the active one.
pub(crate) fn selected_stack(project: &Project) -> Result<LoadedStack, CliError> {
    let name = env(STACK_ENV)
        .and_then(|n| n.into_string().ok())
        .filter(|n| !n.is_empty());
    let stack = project.select_stack(name.as_deref())?;
    crate::log(&format!(
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

pub(crate) fn stack_manager(
    project: &Project,
    stack: &LoadedStack,
) -> Result<Arc<dyn SecretsManager>, CliError> {
    let component = stack
        .component(ComponentType::SecretsManager)
        .ok_or_else(|| StackError::NoSecretsManager {
            stack: stack.stack.name.clone(),
        })?;
    let manager = backends::registry().build(component, project)?;
    crate::log(&format!(
        "secrets manager '{}' (flavor {})",
        component.name, component.flavor
    ));
    if crate::VERBOSE.load(std::sync::atomic::Ordering::Relaxed) {
        let sink: keystack_secrets_core::logging::LogSink = Arc::new(|line: &str| crate::log(line));
        return Ok(Arc::new(
            keystack_secrets_core::logging::LoggingManager::new(manager, sink),
        ));
    }
    Ok(manager)
}

// ----------------------------------------------------------------- secrets

fn secret_name(name: &str) -> Result<SecretName, CliError> {
    SecretName::new(name).map_err(|e| CliError::usage(e.to_string()))
}

fn secret_key(key: &str) -> Result<SecretKey, CliError> {
    SecretKey::new(key).map_err(|e| CliError::usage(e.to_string()))
}

/// The variable that silences [`warn_about_command_line_values`] (for
/// scripts that knowingly pass values, e.g. from CI variables).
pub(crate) const NO_ARGV_WARNING_ENV: &str = "KEYSTACK_NO_ARGV_WARNING";

/// Says, naming the keys and never the values, that values given as
/// arguments can be read by other users of the machine while the command
/// runs (`ps`, `/proc/PID/cmdline`) and stay in shell history. Printed after
/// the command succeeded, so that a failure's first line is its error.
fn warn_about_command_line_values(keys: &[String]) {
    if keys.is_empty() || std::env::var_os(NO_ARGV_WARNING_ENV).is_some_and(|v| !v.is_empty()) {
        return;
    }
    status(&format!(
        "warning: the value of {} was given on the command line, where other users of this machine \
         can read it while keystack runs (`ps`) and your shell history keeps it; prefer -i (asks without \
         echo), --KEY=@file or --KEY=@- (reads standard input). Set {NO_ARGV_WARNING_ENV}=1 to silence this.",
        keys.join(", ")
    ));
}

/// Reads `--KEY=VALUE` pairs (with the `@` syntax) and, with `interactive`,
/// asks for more on the terminal.
/// Also returns the `--KEY` options whose values were written in the
/// arguments, for [`warn_about_command_line_values`] once the command is done.
fn collect_values(
    pairs: &[String],
    interactive: bool,
    command: &str,
) -> Result<(BTreeMap<SecretKey, SecretValue>, Vec<String>), CliError> {
    let mut values = BTreeMap::new();
    let mut on_command_line = Vec::new();
    for (key, value) in parse_pairs(pairs)? {
        let parsed = secret_key(&key)?;
        if !value.is_empty() && (!value.starts_with('@') || value.starts_with("@@")) {
            on_command_line.push(format!("--{key}"));
        }
        let value = expand_value(&key, value)?;
        values.insert(parsed, SecretValue::new(value.as_str()));
    }
    if interactive {
        prompt::require_terminal(
            command,
            "give the values as --KEY=VALUE (or --KEY=@file, --KEY=@-)",
        )?;
        status("Enter keys and values; an empty key ends. Values are not shown.");
        loop {
            let key = prompt::ask("Key: ")?;
            if key.is_empty() {
                break;
            }
            let key = match SecretKey::new(&key) {
                Ok(key) => key,
                Err(e) => {
                    status(&format!("{e}; try again"));
                    continue;
                }
            };
            let value: Zeroizing<String> = prompt::ask_hidden(&format!("Value for '{key}': "))?;
            values.insert(key, SecretValue::new(value.as_str()));
        }
    }
    Ok((values, on_command_line))
}

fn key_list<'a>(keys: impl Iterator<Item = &'a SecretKey>) -> String {
    keys.map(SecretKey::as_str).collect::<Vec<_>>().join(", ")
}

fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

async fn secret_command(command: SecretCommand) -> Result<u8, CliError> {
    let project = project()?;
    let stack = selected_stack(&project)?;
    let manager = stack_manager(&project, &stack)?;
    match command {
        SecretCommand::Register {
            name,
            mut interactive,
            mut schema,
            mut pairs,
        } => {
            interactive |= take_flag(&mut pairs, "interactive", Some("-i"));
            if let Some(last) = take_option(&mut pairs, "schema", None)?.pop() {
                schema = last;
            }
            let name = secret_name(&name)?;
            let schema: SecretSchema = schema
                .parse()
                .map_err(|e: keystack_secrets_core::SchemaError| CliError::usage(e.to_string()))?;
            let (values, visible) = collect_values(&pairs, interactive, "secret register -i")?;
            if values.is_empty() {
                return Err(CliError::usage(
                    "a secret needs at least one key-value pair: give --KEY=VALUE, or -i to enter them".to_owned(),
                ));
            }
            let secret = Secret::new(name.clone(), schema, values)
                .map_err(|problem| keystack_secrets_core::Error::InvalidSecret { name, problem })?;
            manager.register_secret(&secret).await?;
            status(&format!(
                "Registered secret '{}' ({} schema) with key(s) {}.",
                secret.name(),
                secret.schema(),
                key_list(secret.keys())
            ));
            warn_about_command_line_values(&visible);
        }
        SecretCommand::Get { name, key, output } => {
            let secret = manager.get_secret(&secret_name(&name)?).await?;
            if let Some(key) = key {
                let key = secret_key(&key)?;
                let value = secret.get(key.as_str()).ok_or_else(|| {
                    keystack_secrets_core::Error::KeyNotFound {
                        name: secret.name().clone(),
                        key,
                    }
                })?;
                output::line(value.expose())?;
                return Ok(0);
            }
            let plain: BTreeMap<&str, &str> = secret
                .values()
                .iter()
                .map(|(k, v)| (k.as_str(), v.expose()))
                .collect();
            match output {
                SecretFormat::Table => {
                    let rows: Vec<Vec<String>> = plain
                        .iter()
                        .map(|(k, v)| vec![(*k).to_owned(), (*v).to_owned()])
                        .collect();
                    output::table(&["KEY", "VALUE"], &rows)?;
                }
                SecretFormat::Json => output::json(&plain)?,
                SecretFormat::Yaml => output::yaml(&plain)?,
                SecretFormat::Env => {
                    for (k, v) in &plain {
                        output::line(&format!("{k}={}", shell_quote(v)))?;
                    }
                }
            }
        }
        SecretCommand::List { output } => {
            let names = manager.list_secret_names().await?;
            let rows: Vec<Vec<String>> = names.iter().map(|n| vec![n.to_string()]).collect();
            let data: Vec<&str> = names.iter().map(SecretName::as_str).collect();
            output::print(output.output, &["NAME"], &rows, &data)?;
        }
        SecretCommand::Update {
            name,
            mut interactive,
            mut remove,
            mut pairs,
        } => {
            interactive |= take_flag(&mut pairs, "interactive", Some("-i"));
            remove.extend(take_option(&mut pairs, "remove-key", None)?);
            let name = secret_name(&name)?;
            let (values, visible) = collect_values(&pairs, interactive, "secret update -i")?;
            let mut patch = SecretPatch::new();
            for (key, value) in values {
                patch = patch.set(key, value);
            }
            for key in &remove {
                patch = patch.remove(secret_key(key)?);
            }
            if patch.is_empty() {
                return Err(CliError::usage(
                    "nothing to update: give --KEY=VALUE, --remove-key KEY, or -i".to_owned(),
                ));
            }
            manager.update_secret(&name, &patch).await?;
            status(&format!(
                "Updated secret '{name}': set {}; removed {}.",
                if patch.sets().is_empty() {
                    "nothing".to_owned()
                } else {
                    key_list(patch.sets().keys())
                },
                if patch.removals().is_empty() {
                    "nothing".to_owned()
                } else {
                    key_list(patch.removals().iter())
                },
            ));
            warn_about_command_line_values(&visible);
        }
        SecretCommand::Delete { name, yes } => {
            let name = secret_name(&name)?;
            if !yes {
                prompt::require_terminal("secret delete", "pass -y to delete without asking")?;
                if !prompt::confirm(&format!("Delete secret '{name}'?"))? {
                    status("Nothing deleted.");
                    return Ok(0);
                }
            }
            manager.delete_secret(&name).await?;
            status(&format!("Deleted secret '{name}'."));
        }
        SecretCommand::DeleteAll { yes } => {
            if !yes {
                prompt::require_terminal("secret delete-all", "pass -y to delete without asking")?;
                let count = manager.list_secret_names().await?.len();
                if !prompt::confirm(&format!(
                    "Delete all {count} secret(s) of secrets manager '{}'?",
                    stack
                        .component(ComponentType::SecretsManager)
                        .map_or("", |c| c.name.as_str())
                ))? {
                    status("Nothing deleted.");
                    return Ok(0);
                }
            }
            let count = manager.delete_all_secrets().await?;
            status(&format!("Deleted {count} secret(s)."));
        }
    }
    Ok(0)
}

// --------------------------------------------------------------- components

/// Turns `--ATTRIBUTE=VALUE` arguments into typed attribute values.
fn attributes(
    project: &Project,
    component_type: ComponentType,
    flavor: &str,
    args: &[String],
) -> Result<BTreeMap<String, AttributeValue>, CliError> {
    let flavor = project.catalog().get(component_type, flavor)?;
    let mut out = BTreeMap::new();
    for (name, value) in parse_pairs(args)? {
        let text = value.to_string();
        let typed = match flavor.attribute(&name).map(|a| a.kind) {
            Some(AttributeType::Integer) => text
                .parse()
                .map_or(AttributeValue::Text(text.clone()), AttributeValue::Integer),
            Some(AttributeType::Boolean) => text
                .parse()
                .map_or(AttributeValue::Text(text.clone()), AttributeValue::Boolean),
            _ => AttributeValue::Text(text),
        };
        out.insert(name, typed);
    }
    Ok(out)
}

fn print_warnings(warnings: &[keystack_stack::Warning]) {
    for warning in warnings {
        eprintln!("warning: {warning}");
    }
}

/// An attribute as shown: plain values of sensitive attributes are masked.
fn shown_attribute(
    project: &Project,
    component: &Component,
    name: &str,
    value: &AttributeValue,
) -> String {
    let text = value.as_text();
    let sensitive = component
        .flavor(project.catalog())
        .ok()
        .and_then(|f| f.attribute(name))
        .is_some_and(|a| a.sensitive);
    let is_reference =
        keystack_secrets_core::Template::parse(&text).is_ok_and(|t| t.has_references());
    if sensitive && !is_reference {
        "********".to_owned()
    } else {
        text
    }
}

fn component_command(
    project: &Project,
    component_type: ComponentType,
    command: ComponentCommand,
) -> Result<u8, CliError> {
    match command {
        ComponentCommand::Register {
            name,
            flavor,
            attributes: mut args,
        } => {
            let flavor = take_option(&mut args, "flavor", Some("-f"))?
                .pop()
                .or(flavor)
                .ok_or_else(|| {
                    CliError::usage(format!(
                        "{0} register needs --flavor; see `keystack {0} flavor list`",
                        component_type.cli_name()
                    ))
                })?;
            let component = Component {
                component_type,
                name,
                attributes: attributes(project, component_type, &flavor, &args)?,
                flavor,
            };
            let warnings = project.save_component(&component, true)?;
            print_warnings(&warnings);
            status(&format!(
                "Registered {component_type} '{}' (flavor {}).",
                component.name, component.flavor
            ));
        }
        ComponentCommand::List { output } => {
            let active = selected_stack(project).ok();
            let components = project.components(component_type)?;
            let rows: Vec<Vec<String>> = components
                .iter()
                .map(|c| {
                    let in_active = active
                        .as_ref()
                        .and_then(|s| s.component(component_type))
                        .is_some_and(|a| a.name == c.name);
                    vec![
                        if in_active { "*".into() } else { String::new() },
                        c.name.clone(),
                        c.flavor.clone(),
                    ]
                })
                .collect();
            let data: Vec<_> = components
                .iter()
                .map(|c| json!({"name": c.name, "flavor": c.flavor}))
                .collect();
            output::print(output.output, &["ACTIVE", "NAME", "FLAVOR"], &rows, &data)?;
        }
        ComponentCommand::Describe { name, output } => {
            let component = project.component(component_type, &name)?;
            let shown: BTreeMap<&str, String> = component
                .attributes
                .iter()
                .map(|(k, v)| (k.as_str(), shown_attribute(project, &component, k, v)))
                .collect();
            if output.output == Format::Table {
                output::line(&format!(
                    "{component_type} '{}' (flavor {})",
                    component.name, component.flavor
                ))?;
                let rows: Vec<Vec<String>> = shown
                    .iter()
                    .map(|(k, v)| vec![(*k).to_owned(), v.clone()])
                    .collect();
                output::table(&["ATTRIBUTE", "VALUE"], &rows)?;
            } else {
                let data = json!({"type": component_type.as_str(), "name": component.name, "flavor": component.flavor, "attributes": shown});
                output::print(output.output, &[], &[], &data)?;
            }
        }
        ComponentCommand::Update {
            name,
            mut remove,
            attributes: mut args,
        } => {
            remove.extend(take_option(&mut args, "remove-attribute", None)?);
            let mut component = project.component(component_type, &name)?;
            for attribute in &remove {
                if component.attributes.remove(attribute).is_none() {
                    return Err(CliError::usage(format!(
                        "{component_type} '{name}' has no attribute '{attribute}' to remove"
                    )));
                }
            }
            component.attributes.extend(attributes(
                project,
                component_type,
                &component.flavor,
                &args,
            )?);
            let warnings = project.save_component(&component, false)?;
            print_warnings(&warnings);
            status(&format!("Updated {component_type} '{name}'."));
        }
        ComponentCommand::Remove { name } => {
            project.remove_component(component_type, &name)?;
            status(&format!("Removed {component_type} '{name}'."));
        }
        ComponentCommand::Flavor {
            command: FlavorCommand::List { output },
        } => {
            let flavors: Vec<_> = project.catalog().of_type(component_type).collect();
            let rows: Vec<Vec<String>> = flavors
                .iter()
                .map(|f| {
                    let attributes = f
                        .attributes
                        .iter()
                        .map(|a| {
                            format!(
                                "{}{}{}",
                                a.name,
                                if a.required { "*" } else { "" },
                                if a.sensitive { " (sensitive)" } else { "" }
                            )
                        })
                        .collect::<Vec<_>>()
                        .join(", ");
                    vec![
                        f.name.clone(),
                        if f.local {
                            "local".into()
                        } else {
                            "remote".into()
                        },
                        attributes,
                    ]
                })
                .collect();
            output::print(
                output.output,
                &["FLAVOR", "RUNS", "ATTRIBUTES (* required)"],
                &rows,
                &flavors,
            )?;
        }
    }
    Ok(0)
}

// -------------------------------------------------------------------- stacks

fn stack_components(components: StackComponents) -> Vec<(ComponentType, String)> {
    [
        (ComponentType::Orchestrator, components.orchestrator),
        (ComponentType::ArtifactStore, components.artifact_store),
        (ComponentType::SecretsManager, components.secrets_manager),
        (
            ComponentType::ExperimentTracker,
            components.experiment_tracker,
        ),
        (
            ComponentType::ContainerRegistry,
            components.container_registry,
        ),
        (ComponentType::ModelDeployer, components.model_deployer),
        (ComponentType::StepOperator, components.step_operator),
        (ComponentType::Alerter, components.alerter),
    ]
    .into_iter()
    .filter_map(|(t, name)| name.map(|n| (t, n)))
    .collect()
}

fn validation_level(level: Option<String>) -> Result<ValidationLevel, CliError> {
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
    let has_references = stack_references(stack).is_ok_and(|r| !r.is_empty());
    let manager = match stack.component(ComponentType::SecretsManager) {
        Some(_) if level != ValidationLevel::None && has_references => {
            Some(stack_manager(project, stack)?)
        }
        _ => None,
    };
    let validated = validate(
        stack,
        project.catalog(),
        manager.as_deref(),
        level,
        concurrency_from_env()?,
    )
    .await?;
    Ok((manager, validated))
}

async fn stack_command(command: StackCommand) -> Result<u8, CliError> {
    let project = project()?;
    match command {
        StackCommand::Register {
            name,
            components,
            set,
        } => {
            let stack = Stack {
                name,
                components: stack_components(components).into_iter().collect(),
            };
            project.save_stack(&stack, true)?;
            if set {
                project.set_active_stack(&stack.name)?;
            }
            status(&format!(
                "Registered stack '{}'{}.",
                stack.name,
                if set { " and made it active" } else { "" }
            ));
        }
        StackCommand::List { output } => {
            let active = project.active_stack_name()?;
            let stacks = project.stacks()?;
            let rows: Vec<Vec<String>> = stacks
                .iter()
                .map(|s| {
                    let mut row = vec![
                        if active.as_deref() == Some(s.name.as_str()) {
                            "*".into()
                        } else {
                            String::new()
                        },
                        s.name.clone(),
                    ];
                    row.extend(
                        ComponentType::ALL
                            .iter()
                            .map(|t| s.components.get(t).cloned().unwrap_or_default()),
                    );
                    row
                })
                .collect();
            let mut headers = vec!["ACTIVE", "NAME"];
            headers.extend(ComponentType::ALL.iter().map(|t| t.as_str()));
            output::print(output.output, &headers, &rows, &stacks)?;
        }
        StackCommand::Describe { name, output } => {
            let stack = match name {
                Some(name) => project.load_stack(&name)?,
                None => selected_stack(&project)?,
            };
            let rows: Vec<Vec<String>> = stack
                .components
                .iter()
                .map(|c| {
                    vec![
                        c.component_type.to_string(),
                        c.name.clone(),
                        c.flavor.clone(),
                    ]
                })
                .collect();
            if output.output == Format::Table {
                let active =
                    project.active_stack_name()?.as_deref() == Some(stack.stack.name.as_str());
                output::line(&format!(
                    "stack '{}'{}",
                    stack.stack.name,
                    if active { " (active)" } else { "" }
                ))?;
                output::table(&["COMPONENT TYPE", "NAME", "FLAVOR"], &rows)?;
            } else {
                output::print(output.output, &[], &[], &stack.stack)?;
            }
        }
        StackCommand::Set { name } => {
            project.set_active_stack(&name)?;
            status(&format!("Active stack: '{name}'."));
        }
        StackCommand::Update {
            name,
            components,
            remove,
        } => {
            let mut stack = project.stack(&name)?;
            for t in &remove {
                let t: ComponentType = t.parse()?;
                if stack.components.remove(&t).is_none() {
                    return Err(CliError::usage(format!(
                        "stack '{name}' has no {t} to remove"
                    )));
                }
            }
            stack.components.extend(stack_components(components));
            project.save_stack(&stack, false)?;
            status(&format!("Updated stack '{name}'."));
        }
        StackCommand::Delete { name } => {
            project.delete_stack(&name)?;
            status(&format!(
                "Deleted stack '{name}' (its components are kept)."
            ));
        }
        StackCommand::Validate { name, level } => {
            let level = validation_level(level)?;
            let stack = match name {
                Some(name) => project.load_stack(&name)?,
                None => selected_stack(&project)?,
            };
            validate_stack(&project, &stack, level).await?;
            let references = stack_references(&stack)?;
            let secrets: BTreeSet<_> = references.iter().map(|r| &r.reference.name).collect();
            status(&format!(
                "Stack '{}' is valid (level {level}; {} reference(s) to {} secret(s)).",
                stack.stack.name,
                references.len(),
                secrets.len()
            ));
        }
        StackCommand::Export { name, file } => {
            let stack = project.load_stack(&name)?;
            let export = StackExport {
                stack: stack.stack,
                components: stack.components,
            };
            keystack_stack::project::write_atomic(
                &file,
                &keystack_stack::yaml::to_string(&export),
            )?;
            status(&format!("Exported stack '{name}' to {}.", file.display()));
        }
        StackCommand::Import { file, name } => import(&project, &file, name)?,
        StackCommand::RegisterSecrets {
            name,
            skip_existing,
        } => {
            let stack = match name {
                Some(name) => project.load_stack(&name)?,
                None => selected_stack(&project)?,
            };
            register_secrets(&project, &stack, skip_existing).await?;
        }
    }
    Ok(0)
}

fn import(project: &Project, file: &std::path::Path, name: Option<String>) -> Result<(), CliError> {
    // A file the user names that cannot be read is bad input (exit 2).
    let text = keystack_stack::yaml::read_file(file).map_err(|e| match e {
        StackError::Io { .. } => CliError::input(crate::with_causes(&e)),
        other => other.into(),
    })?;
    let mut export: StackExport = keystack_stack::yaml::parse(&text, file)?;
    if let Some(name) = name {
        export.stack.name = name;
    }
    // Check everything before writing anything.
    for component in &export.components {
        component.check(project.catalog())?;
        if let Ok(existing) = project.component(component.component_type, &component.name)
            && existing != *component
        {
            return Err(CliError::usage(format!(
                "{} '{}' already exists with another configuration; rename it in {} or remove the existing one",
                component.component_type,
                component.name,
                file.display()
            )));
        }
    }
    for (t, n) in &export.stack.components {
        if !export
            .components
            .iter()
            .any(|c| c.component_type == *t && c.name == *n)
            && project.component(*t, n).is_err()
        {
            return Err(CliError::usage(format!(
                "{} lists {t} '{n}' but does not include it",
                file.display()
            )));
        }
    }
    if project.stack(&export.stack.name).is_ok() {
        return Err(StackError::StackExists {
            name: export.stack.name,
        }
        .into());
    }
    for component in &export.components {
        if project
            .component(component.component_type, &component.name)
            .is_err()
        {
            print_warnings(&project.save_component(component, true)?);
        }
    }
    project.save_stack(&export.stack, true)?;
    status(&format!(
        "Imported stack '{}' with {} component(s).",
        export.stack.name,
        export.components.len()
    ));
    Ok(())
}

async fn register_secrets(
    project: &Project,
    stack: &LoadedStack,
    skip_existing: bool,
) -> Result<(), CliError> {
    let references = stack_references(stack)?;
    if references.is_empty() {
        status(&format!(
            "Stack '{}' refers to no secrets; nothing to register.",
            stack.stack.name
        ));
        return Ok(());
    }
    let manager = stack_manager(project, stack)?;
    let plan = plan_register_secrets(
        stack,
        manager.as_ref(),
        skip_existing,
        concurrency_from_env()?,
    )
    .await?;
    if plan.is_empty() {
        status(&format!(
            "Every secret and key stack '{}' refers to exists.",
            stack.stack.name
        ));
        return Ok(());
    }
    prompt::require_terminal(
        "stack register-secrets",
        "register the secrets with `keystack secrets-manager secret register NAME --KEY=VALUE`",
    )?;
    for PlannedSecret { name, create, keys } in plan {
        status(&format!(
            "{} '{name}': enter {} (not shown).",
            if create { "New secret" } else { "Secret" },
            if create {
                "its values".to_owned()
            } else {
                format!("the missing key(s) {}", key_list(keys.iter()))
            }
        ));
        let mut values = BTreeMap::new();
        for key in keys {
            let value = prompt::ask_hidden(&format!("{name}.{key}: "))?;
            values.insert(key, SecretValue::new(value.as_str()));
        }
        if create {
            let secret =
                Secret::new(name.clone(), SecretSchema::Arbitrary, values).map_err(|problem| {
                    keystack_secrets_core::Error::InvalidSecret {
                        name: name.clone(),
                        problem,
                    }
                })?;
            manager.register_secret(&secret).await?;
            status(&format!("Registered secret '{name}'."));
        } else {
            let patch = values
                .into_iter()
                .fold(SecretPatch::new(), |p, (k, v)| p.set(k, v));
            manager.update_secret(&name, &patch).await?;
            status(&format!("Updated secret '{name}'."));
        }
    }
    Ok(())
}
