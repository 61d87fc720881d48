//! `keystack stack …`: register, list, describe, set, update, delete,
//! validate, export and import stacks, and register the secrets they need.

use std::collections::{BTreeMap, BTreeSet};

use keystack_secrets_core::{
    Secret, SecretKey, SecretName, SecretPatch, SecretSchema, SecretValue,
};
use keystack_stack::concurrency::concurrency_from_env;
use keystack_stack::{
    ComponentType, LoadedStack, PlannedSecret, Project, Stack, StackError, StackExport,
    plan_register_secrets, stack_references,
};
use zeroize::Zeroizing;

use super::secrets::key_list;
use crate::args::{ExportFormat, Format, StackCommand, StackComponents};
use crate::context::{
    named_or_selected_stack, print_warnings, project, stack_manager, status, validate_stack,
    validation_level,
};
use crate::error::{CliError, with_causes};
use crate::{output, prompt};

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

pub(super) async fn stack_command(command: StackCommand) -> Result<u8, CliError> {
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
            let stack = named_or_selected_stack(&project, name.as_deref())?;
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
        StackCommand::Delete { name, yes: _ } => {
            project.delete_stack(&name)?;
            status(&format!(
                "Deleted stack '{name}' (its components are kept)."
            ));
        }
        StackCommand::Validate { name, level } => {
            let level = validation_level(level)?;
            let stack = named_or_selected_stack(&project, name.as_deref())?;
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
        StackCommand::Export { name, file, format } => {
            let stack = project.load_stack(&name)?;
            let text = match format {
                ExportFormat::Keystack => keystack_stack::yaml::to_string(&StackExport {
                    stack: stack.stack,
                    components: stack.components,
                }),
                ExportFormat::ExternalSecrets => external_secrets(&project, &stack)?,
            };
            // ZenML's forms: no file writes NAME.yaml; `-` is standard output.
            let file = file.unwrap_or_else(|| format!("{name}.yaml").into());
            if file.as_os_str() == "-" {
                crate::output::text(&text)?;
            } else {
                keystack_stack::project::write_atomic(&file, &text)?;
                status(&format!("Exported stack '{name}' to {}.", file.display()));
            }
        }
        StackCommand::Import { file, name } => import(&project, &file, name)?,
        StackCommand::RegisterSecrets {
            name,
            skip_existing,
        } => {
            let stack = named_or_selected_stack(&project, name.as_deref())?;
            register_secrets(&project, &stack, skip_existing).await?;
        }
    }
    Ok(0)
}

/// The answers piped to `register-secrets`: one `NAME.KEY=VALUE` per line
/// (blank lines and `#` comments skipped; `VALUE` with the `@` syntax of
/// `--KEY=VALUE`). Every key of `plan` must be answered, and nothing else;
/// else nothing is written.
fn piped_answers(
    plan: &[PlannedSecret],
) -> Result<BTreeMap<(SecretName, SecretKey), SecretValue>, CliError> {
    let text = crate::pairs::read_limited(std::io::stdin().lock(), "answers", "standard input")?;
    if text.trim().is_empty() {
        return Err(CliError::usage(
            "stack register-secrets needs answers: standard input is not a terminal and holds \
             none; pipe one NAME.KEY=VALUE per line, or run it in a terminal"
                .to_owned(),
        ));
    }
    let mut answers = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let bad = || {
            CliError::input(format!(
                "standard input, line {}: expected NAME.KEY=VALUE",
                i + 1
            ))
        };
        let (target, value) = line.split_once('=').ok_or_else(bad)?;
        let (name, key) = target.trim().split_once('.').ok_or_else(bad)?;
        let name =
            SecretName::new(name).map_err(|e| CliError::input(format!("line {}: {e}", i + 1)))?;
        let key =
            SecretKey::new(key).map_err(|e| CliError::input(format!("line {}: {e}", i + 1)))?;
        let value = crate::pairs::expand_value(key.as_str(), Zeroizing::new(value.to_owned()))?;
        answers.insert((name, key), SecretValue::new(value.as_str()));
    }
    let wanted: BTreeSet<(SecretName, SecretKey)> = plan
        .iter()
        .flat_map(|p| p.keys.iter().map(|k| (p.name.clone(), k.clone())))
        .collect();
    let missing: Vec<String> = wanted
        .iter()
        .filter(|w| !answers.contains_key(*w))
        .map(|(n, k)| format!("{n}.{k}"))
        .collect();
    let extra: Vec<String> = answers
        .keys()
        .filter(|a| !wanted.contains(*a))
        .map(|(n, k)| format!("{n}.{k}"))
        .collect();
    if !missing.is_empty() || !extra.is_empty() {
        let mut problems = Vec::new();
        if !missing.is_empty() {
            problems.push(format!("no answer for {}", missing.join(", ")));
        }
        if !extra.is_empty() {
            problems.push(format!(
                "answers for what the stack does not need: {}",
                extra.join(", ")
            ));
        }
        return Err(CliError::input(format!(
            "{}; nothing was registered",
            problems.join("; ")
        )));
    }
    Ok(answers)
}

fn import(project: &Project, file: &std::path::Path, name: Option<String>) -> Result<(), CliError> {
    // A file the user names that cannot be read is bad input (exit 2).
    let text = keystack_stack::yaml::read_file(file).map_err(|e| match e {
        StackError::Io { .. } => CliError::input(with_causes(&e)),
        other => other.into(),
    })?;
    let mut export: StackExport = if keystack_stack::zenml::is_zenml_export(&text) {
        let zenml: keystack_stack::zenml::ZenmlStackExport =
            keystack_stack::yaml::parse(&text, file)?;
        zenml.to_keystack(project.catalog(), file)?
    } else {
        keystack_stack::yaml::parse(&text, file)?
    };
    if let Some(name) = name {
        export.stack.name = name;
    }
    print_warnings(&project.import(&export, file)?);
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
    // Without a terminal, the answers may come piped in (for CI), one
    // `NAME.KEY=VALUE` per line; with neither, it refuses at once.
    let mut piped = if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        None
    } else {
        Some(piped_answers(&plan)?)
    };
    if piped.is_none() {
        prompt::require_terminal(
            "stack register-secrets",
            "pipe the answers in, one NAME.KEY=VALUE per line, or register the secrets with \
             `keystack secrets-manager secret register NAME --KEY=VALUE`",
        )?;
    }
    for PlannedSecret { name, create, keys } in plan {
        let mut values = BTreeMap::new();
        if let Some(answers) = piped.as_mut() {
            for key in keys {
                let value = answers
                    .remove(&(name.clone(), key.clone()))
                    .expect("every planned key was answered");
                values.insert(key, value);
            }
        } else {
            status(&format!(
                "{} '{name}': enter {} (not shown).",
                if create { "New secret" } else { "Secret" },
                if create {
                    "its values".to_owned()
                } else {
                    format!("the missing key(s) {}", key_list(keys.iter()))
                }
            ));
            for key in keys {
                let value = prompt::ask_hidden(&format!("{name}.{key}: "))?;
                values.insert(key, SecretValue::new(value.as_str()));
            }
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

/// The stack as External Secrets Operator manifests; what could not be
/// carried over is reported on standard error.
fn external_secrets(project: &Project, stack: &LoadedStack) -> Result<String, CliError> {
    // The local store is refused before anything opens it.
    let remote = stack
        .component(ComponentType::SecretsManager)
        .is_some_and(|sm| sm.flavor(project.catalog()).is_ok_and(|f| !f.local));
    let manager = if remote {
        Some(stack_manager(project, stack)?)
    } else {
        None
    };
    let (text, left_out) =
        keystack_stack::external_secrets::manifests(stack, project.catalog(), &|name| {
            manager.as_ref()?.remote_name(name)
        })?;
    for item in left_out {
        eprintln!("note: {item}");
    }
    Ok(text)
}
