//! `keystack <component-type> …`: register, list, describe, update and
//! remove components, and list flavors.

use std::collections::BTreeMap;

use keystack_stack::{AttributeType, AttributeValue, Component, ComponentType, Project};
use serde_json::json;

use crate::args::{ComponentCommand, FlavorCommand, Format};
use crate::context::{print_warnings, selected_stack, status};
use crate::error::CliError;
use crate::output;
use crate::pairs::{parse_pairs, take_option};

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
        keystack_secrets_core::REDACTED.to_owned()
    } else {
        text
    }
}

/// Where a secrets manager keeps its secrets, and how many it holds.
struct StoreSummary {
    location: String,
    /// The count, or why it could not be taken (e.g. no credentials here).
    count: Result<usize, String>,
}

impl StoreSummary {
    fn count_text(&self) -> String {
        match &self.count {
            Ok(count) => count.to_string(),
            Err(why) => format!("not counted: {why}"),
        }
    }
}

async fn store_summary(project: &Project, component: &Component) -> Result<StoreSummary, CliError> {
    let manager = crate::backends::registry().build(component, project)?;
    let count = manager
        .list_secret_names()
        .await
        .map(|names| names.len())
        .map_err(|e| e.to_string());
    Ok(StoreSummary {
        location: manager.info().location,
        count,
    })
}

pub(super) async fn component_command(
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
            check_backend_settings(project, &component)?;
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
            let name = match name {
                Some(name) => name,
                // ZenML's form: the active stack's component of this type.
                None => selected_stack(project)?
                    .component(component_type)
                    .map(|c| c.name.clone())
                    .ok_or_else(|| {
                        CliError::not_found(format!(
                            "the active stack has no {component_type}; name one: `{} describe NAME`",
                            component_type.as_str().replace('_', "-")
                        ))
                    })?,
            };
            let component = project.component(component_type, &name)?;
            let shown: BTreeMap<&str, String> = component
                .attributes
                .iter()
                .map(|(k, v)| (k.as_str(), shown_attribute(project, &component, k, v)))
                .collect();
            let store = if component_type == ComponentType::SecretsManager {
                Some(store_summary(project, &component).await?)
            } else {
                None
            };
            if output.output == Format::Table {
                output::line(&format!(
                    "{component_type} '{}' (flavor {})",
                    component.name, component.flavor
                ))?;
                if let Some(store) = &store {
                    output::line(&format!("store: {}", store.location))?;
                    output::line(&format!("secrets: {}", store.count_text()))?;
                }
                let rows: Vec<Vec<String>> = shown
                    .iter()
                    .map(|(k, v)| vec![(*k).to_owned(), v.clone()])
                    .collect();
                output::table(&["ATTRIBUTE", "VALUE"], &rows)?;
            } else {
                let mut data = json!({"type": component_type.as_str(), "name": component.name, "flavor": component.flavor, "attributes": shown});
                if let Some(store) = &store {
                    data["store"] = json!(store.location);
                    data["secrets"] = match &store.count {
                        Ok(count) => json!(count),
                        Err(_) => serde_json::Value::Null,
                    };
                }
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
            check_backend_settings(project, &component)?;
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

/// A secrets manager's settings, checked by its backend before the
/// component is saved: a value out of range or of the wrong kind is refused
/// now, not at the first command that uses it.
fn check_backend_settings(project: &Project, component: &Component) -> Result<(), CliError> {
    if component.component_type == ComponentType::SecretsManager {
        crate::backends::registry().check_settings(component, project)?;
    }
    Ok(())
}
