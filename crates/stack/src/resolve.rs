//! Resolution: a stack's components with every reference replaced by its
//! value, and the environment a command run on the stack gets.

use std::collections::{BTreeMap, BTreeSet};

use keystack_secrets_core::{
    Error, Secret, SecretName, SecretReference, SecretValue, SecretsManager, Template,
};

use crate::StackError;
use crate::component::AttributeValue;
use crate::delivery::TemplateInput;
use crate::fetch::{fetch_named, stack_references};
use crate::flavor::{Catalog, ComponentType};
use crate::project::LoadedStack;
use crate::validation::Validated;

/// A component with every reference replaced by its value.
#[derive(Debug, Clone)]
pub struct ResolvedComponent {
    /// The component's type.
    pub component_type: ComponentType,
    /// Its name.
    pub name: String,
    /// Its flavor.
    pub flavor: String,
    /// Its attributes, resolved (redacted in `Debug`).
    pub attributes: BTreeMap<String, SecretValue>,
}

/// A stack with every reference resolved.
#[derive(Debug, Clone)]
pub struct ResolvedStack {
    /// The stack's name.
    pub name: String,
    /// Its components.
    pub components: Vec<ResolvedComponent>,
    /// The values that came from secrets, for masking output.
    pub secret_values: Vec<SecretValue>,
}

impl ResolvedStack {
    /// The environment a command run on this stack gets: each attribute with
    /// an `env` mapping (set, or defaulted), plus `KEYSTACK_STACK`. An
    /// attribute delivered as a file (`as_file`) is left out: see
    /// [`ResolvedStack::files`].
    pub fn environment(&self, catalog: &Catalog) -> Vec<(String, SecretValue)> {
        let mut env = vec![(
            crate::project::STACK_ENV.to_owned(),
            SecretValue::new(self.name.clone()),
        )];
        for component in &self.components {
            let Ok(flavor) = catalog.get(component.component_type, &component.flavor) else {
                continue;
            };
            for spec in flavor.attributes.iter().filter(|a| !a.as_file) {
                let Some(var) = &spec.env else { continue };
                let value = component
                    .attributes
                    .get(&spec.name)
                    .cloned()
                    .or_else(|| spec.default.clone().map(SecretValue::new));
                if let Some(value) = value {
                    env.push((var.clone(), value));
                }
            }
        }
        env
    }
}

impl ResolvedStack {
    /// The attributes delivered as files (`as_file`) that are set: the
    /// variable that gets the file's path, the file's content, and where
    /// it comes from (`artifact_store 'gcs' / attribute 'x'`).
    pub fn files(&self, catalog: &Catalog) -> Vec<(String, SecretValue, String)> {
        let mut files = Vec::new();
        for component in &self.components {
            let Ok(flavor) = catalog.get(component.component_type, &component.flavor) else {
                continue;
            };
            for spec in flavor.attributes.iter().filter(|a| a.as_file) {
                let (Some(var), Some(value)) = (&spec.env, component.attributes.get(&spec.name))
                else {
                    continue;
                };
                files.push((
                    var.clone(),
                    value.clone(),
                    format!(
                        "{} '{}' / attribute '{}'",
                        component.component_type, component.name, spec.name
                    ),
                ));
            }
        }
        files
    }
}

/// The value `reference` stands for among fetched `secrets`: `NotFound` for
/// a secret that is not there, `KeyNotFound` for a key it lacks.
pub fn value_of(
    secrets: &BTreeMap<SecretName, Secret>,
    reference: &SecretReference,
) -> Result<SecretValue, Error> {
    let secret = secrets
        .get(&reference.name)
        .ok_or_else(|| Error::NotFound {
            name: reference.name.clone(),
        })?;
    secret
        .get(reference.key.as_str())
        .cloned()
        .ok_or_else(|| Error::KeyNotFound {
            name: reference.name.clone(),
            key: reference.key.clone(),
        })
}

/// Replaces every reference of the stack by its value, fetching each
/// distinct secret once. Run [`validate`] first for a full report (and use
/// [`resolve_validated`] to reuse what it fetched); this stops at the first
/// missing secret or key.
pub async fn resolve(
    stack: &LoadedStack,
    manager: Option<&dyn SecretsManager>,
    concurrency: usize,
) -> Result<ResolvedStack, StackError> {
    resolve_validated(stack, manager, Validated::default(), concurrency).await
}

/// [`resolve`] after [`validate`]: the secrets validation already fetched
/// are used as they are, and only the others are fetched.
pub async fn resolve_validated(
    stack: &LoadedStack,
    manager: Option<&dyn SecretsManager>,
    validated: Validated,
    concurrency: usize,
) -> Result<ResolvedStack, StackError> {
    Ok(resolve_with(stack, &[], manager, validated, concurrency)
        .await?
        .0)
}

/// [`resolve_validated`] with `templates` a command was given rendered
/// too, in order: their secrets are fetched with the stack's, each distinct
/// secret once (none that validation fetched), and the values they use are
/// among the stack's `secret_values`, for masking.
pub async fn resolve_with(
    stack: &LoadedStack,
    templates: &[TemplateInput],
    manager: Option<&dyn SecretsManager>,
    validated: Validated,
    concurrency: usize,
) -> Result<(ResolvedStack, Vec<SecretValue>), StackError> {
    let mut references: Vec<SecretReference> = stack_references(stack)?
        .into_iter()
        .map(|f| f.reference)
        .collect();
    for template in templates {
        references.extend(template.references()?);
    }
    let mut secrets = validated.fetched;
    let missing: BTreeSet<&SecretName> = references
        .iter()
        .map(|r| &r.name)
        .filter(|name| !secrets.contains_key(*name))
        .collect();
    match manager {
        Some(manager) if !missing.is_empty() => {
            let fetched = fetch_named(missing, manager, concurrency).await?;
            secrets.extend(fetched);
        }
        None if !missing.is_empty() => {
            return Err(StackError::NoSecretsManager {
                stack: stack.stack.name.clone(),
            });
        }
        _ => {}
    }
    let mut secret_values = Vec::new();
    let mut components = Vec::new();
    for component in &stack.components {
        let mut attributes = BTreeMap::new();
        for (name, value) in &component.attributes {
            let resolved = match value {
                AttributeValue::Text(text) => {
                    let template =
                        Template::parse(text).map_err(|source| StackError::Reference {
                            component_type: component.component_type,
                            component: component.name.clone(),
                            attribute: name.clone(),
                            source,
                        })?;
                    template.render(|r| {
                        let value = value_of(&secrets, r)?;
                        secret_values.push(value.clone());
                        Ok::<_, Error>(value)
                    })?
                }
                other => SecretValue::new(other.as_text()),
            };
            attributes.insert(name.clone(), resolved);
        }
        components.push(ResolvedComponent {
            component_type: component.component_type,
            name: component.name.clone(),
            flavor: component.flavor.clone(),
            attributes,
        });
    }
    let mut rendered = Vec::new();
    for template in templates {
        rendered.push(template.parse()?.render(|r| {
            let value = value_of(&secrets, r)?;
            secret_values.push(value.clone());
            Ok::<_, Error>(value)
        })?);
    }
    Ok((
        ResolvedStack {
            name: stack.stack.name.clone(),
            components,
            secret_values,
        },
        rendered,
    ))
}
