//! Pre-run validation of a stack: every component against its flavor, the
//! pairing of secrets manager and orchestrator, and, at the validation
//! level, that every referenced secret (and key) exists.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use keystack_secrets_core::{Secret, SecretName, SecretsManager, ValidationLevel};

use crate::StackError;
use crate::component::FoundReference;
use crate::delivery::TemplateInput;
use crate::flavor::{Catalog, ComponentType};
use crate::project::LoadedStack;

/// What validation fetched, so that resolution does not fetch it again:
/// after `SECRET_AND_KEY_EXISTS` validation, `run` costs no further call.
#[derive(Debug, Default)]
pub struct Validated {
    pub(crate) fetched: BTreeMap<SecretName, Secret>,
}

impl Validated {
    /// The secrets validation read (redacted in `Debug`).
    pub fn fetched(&self) -> &BTreeMap<SecretName, Secret> {
        &self.fetched
    }
}

/// One problem found by validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where: `stack 's' / experiment_tracker 'mlflow' / attribute 'x'`.
    pub location: String,
    /// The component it is in (type and name), if it is in one.
    pub component: Option<(ComponentType, String)>,
    /// The attribute it is in, if it is in one.
    pub attribute: Option<String>,
    /// What is wrong and what to do.
    pub message: String,
}

impl Problem {
    /// A problem of the stack as a whole.
    fn of_stack(stack: &str, message: String) -> Self {
        Self {
            location: format!("stack '{stack}'"),
            component: None,
            attribute: None,
            message,
        }
    }

    /// A problem of the place holding `site`'s reference.
    fn of_reference(stack: &str, site: &Site, message: String) -> Self {
        match &site.component {
            Some((component_type, component)) => Self {
                location: format!(
                    "stack '{stack}' / {component_type} '{component}' / attribute '{}'",
                    site.attribute
                ),
                component: Some((*component_type, component.clone())),
                attribute: Some(site.attribute.clone()),
                message,
            },
            None => Self {
                location: format!("stack '{stack}' / {}", site.attribute),
                component: None,
                attribute: Some(site.attribute.clone()),
                message,
            },
        }
    }
}

/// Where a reference is: an attribute of a component, or a template a
/// command was given (its origin in `attribute`).
struct Site {
    component: Option<(ComponentType, String)>,
    attribute: String,
    reference: keystack_secrets_core::SecretReference,
}

impl From<FoundReference> for Site {
    fn from(found: FoundReference) -> Self {
        Self {
            component: Some((found.component_type, found.component)),
            attribute: found.attribute,
            reference: found.reference,
        }
    }
}

/// Every problem validation found, reported together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationReport {
    /// The stack.
    pub stack: String,
    /// The problems, in component and attribute order.
    pub problems: Vec<Problem>,
}

impl fmt::Display for ValidationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "stack '{}' failed validation with {} problem(s):",
            self.stack,
            self.problems.len()
        )?;
        for problem in &self.problems {
            write!(f, "\n  - {}: {}", problem.location, problem.message)?;
        }
        Ok(())
    }
}

/// Checks that the stack can run: every component fits its flavor; a local
/// secrets manager is not paired with a remote orchestrator; references have
/// a secrets manager to come from; and, at `level`, the referenced secrets
/// (and keys) exist. All problems are reported together.
pub async fn validate(
    stack: &LoadedStack,
    catalog: &Catalog,
    manager: Option<&dyn SecretsManager>,
    level: ValidationLevel,
    concurrency: usize,
) -> Result<Validated, StackError> {
    validate_with(stack, &[], catalog, manager, level, concurrency).await
}

/// [`validate`] with the references of `templates` a command was given
/// checked too, at the same level and in the same calls.
pub async fn validate_with(
    stack: &LoadedStack,
    templates: &[TemplateInput],
    catalog: &Catalog,
    manager: Option<&dyn SecretsManager>,
    level: ValidationLevel,
    concurrency: usize,
) -> Result<Validated, StackError> {
    let name = &stack.stack.name;
    let mut problems = Vec::new();
    for component in &stack.components {
        if let Err(e) = component.check(catalog) {
            problems.push(Problem {
                location: format!(
                    "stack '{name}' / {} '{}'",
                    component.component_type, component.name
                ),
                component: Some((component.component_type, component.name.clone())),
                attribute: None,
                message: e.to_string(),
            });
        }
    }
    // A component whose references do not parse was reported just above;
    // the secrets of the others are still checked, so one run shows all.
    let mut references: Vec<Site> = stack
        .components
        .iter()
        .filter_map(|c| c.references().ok())
        .flatten()
        .map(Site::from)
        .collect();
    for template in templates {
        match template.references() {
            Ok(found) => references.extend(found.into_iter().map(|reference| Site {
                component: None,
                attribute: template.origin.clone(),
                reference,
            })),
            Err(e) => problems.push(Problem {
                location: format!("stack '{name}' / {}", template.origin),
                component: None,
                attribute: Some(template.origin.clone()),
                message: e.to_string(),
            }),
        }
    }
    let secrets_manager = stack.component(ComponentType::SecretsManager);
    let orchestrator = stack.component(ComponentType::Orchestrator);
    if let (Some(sm), Some(orch)) = (secrets_manager, orchestrator) {
        let sm_local = sm.flavor(catalog).is_ok_and(|f| f.local);
        let orch_remote = orch.flavor(catalog).is_ok_and(|f| !f.local);
        if sm_local && orch_remote {
            problems.push(Problem::of_stack(
                name,
                format!(
                    "secrets manager '{}' is local to this machine but orchestrator '{}' ({}) runs elsewhere, \
                     where the secrets cannot be read; use a cloud secrets manager (aws, gcp, azure, vault) \
                     or a local orchestrator",
                    sm.name, orch.name, orch.flavor
                ),
            ));
        }
    }
    if !references.is_empty() && secrets_manager.is_none() {
        problems.push(Problem::of_stack(
            name,
            format!(
                "{} attribute(s) refer to secrets but the stack has no secrets manager; \
                 add one with `keystack stack update {name} -x NAME`",
                references.len()
            ),
        ));
    }
    let named = named_secrets(stack, catalog, name, &mut problems);
    let mut validated = Validated::default();
    if let Some(manager) = manager {
        let (found, fetched) =
            check_secrets(name, &references, &named, manager, level, concurrency).await?;
        problems.extend(found);
        validated.fetched = fetched;
    }
    if problems.is_empty() {
        Ok(validated)
    } else {
        Err(StackError::Validation(ValidationReport {
            stack: name.clone(),
            problems,
        }))
    }
}

/// Whether validating `stack` above `NONE` needs its secrets manager: an
/// attribute refers to a secret, or names one (`names_secret`).
pub fn needs_secrets_manager(stack: &LoadedStack, catalog: &Catalog) -> bool {
    let references = crate::fetch::stack_references(stack).is_ok_and(|r| !r.is_empty());
    references
        || stack.components.iter().any(|c| {
            c.flavor(catalog).is_ok_and(|f| {
                f.attributes
                    .iter()
                    .any(|a| a.names_secret && c.attributes.contains_key(&a.name))
            })
        })
}

/// An attribute whose value names a secret (`names_secret` in its flavor).
struct NamedSecret {
    component_type: ComponentType,
    component: String,
    attribute: String,
    name: SecretName,
}

impl NamedSecret {
    fn missing(&self, stack: &str) -> Problem {
        Problem {
            location: format!(
                "stack '{stack}' / {} '{}' / attribute '{}'",
                self.component_type, self.component, self.attribute
            ),
            component: Some((self.component_type, self.component.clone())),
            attribute: Some(self.attribute.clone()),
            message: format!(
                "names secret '{}', which does not exist; register it with \
                 `keystack secrets-manager secret register {}`",
                self.name, self.name
            ),
        }
    }
}

/// The secrets the stack's attributes name; an attribute whose value is not
/// a valid secret name is a problem.
fn named_secrets(
    stack: &LoadedStack,
    catalog: &Catalog,
    stack_name: &str,
    problems: &mut Vec<Problem>,
) -> Vec<NamedSecret> {
    let mut named = Vec::new();
    for component in &stack.components {
        let Ok(flavor) = component.flavor(catalog) else {
            continue;
        };
        for spec in flavor.attributes.iter().filter(|a| a.names_secret) {
            let Some(value) = component.attributes.get(&spec.name) else {
                continue;
            };
            let text = value.as_text();
            match SecretName::new(&text) {
                Ok(name) => named.push(NamedSecret {
                    component_type: component.component_type,
                    component: component.name.clone(),
                    attribute: spec.name.clone(),
                    name,
                }),
                Err(e) => problems.push(Problem {
                    location: format!(
                        "stack '{stack_name}' / {} '{}' / attribute '{}'",
                        component.component_type, component.name, spec.name
                    ),
                    component: Some((component.component_type, component.name.clone())),
                    attribute: Some(spec.name.clone()),
                    message: format!("should name a secret: {e}"),
                }),
            }
        }
    }
    named
}

async fn check_secrets(
    stack: &str,
    references: &[Site],
    named: &[NamedSecret],
    manager: &dyn SecretsManager,
    level: ValidationLevel,
    concurrency: usize,
) -> Result<(Vec<Problem>, BTreeMap<SecretName, Secret>), StackError> {
    let missing_secret = |found: &Site| {
        Problem::of_reference(
            stack,
            found,
            format!(
                "{} refers to secret '{}', which does not exist; register it with \
                 `keystack secrets-manager secret register {}`, or run `keystack stack register-secrets`",
                found.reference, found.reference.name, found.reference.name
            ),
        )
    };
    match level {
        ValidationLevel::None => Ok((Vec::new(), BTreeMap::new())),
        ValidationLevel::SecretExists => {
            let names: BTreeSet<SecretName> =
                manager.list_secret_names().await?.into_iter().collect();
            let mut problems: Vec<Problem> = references
                .iter()
                .filter(|f| !names.contains(&f.reference.name))
                .map(missing_secret)
                .collect();
            problems.extend(
                named
                    .iter()
                    .filter(|n| !names.contains(&n.name))
                    .map(|n| n.missing(stack)),
            );
            Ok((problems, BTreeMap::new()))
        }
        ValidationLevel::SecretAndKeyExists => {
            let wanted: BTreeSet<&SecretName> = references
                .iter()
                .map(|f| &f.reference.name)
                .chain(named.iter().map(|n| &n.name))
                .collect();
            let secrets = crate::fetch::fetch_named(wanted, manager, concurrency).await?;
            let named_problems: Vec<Problem> = named
                .iter()
                .filter(|n| !secrets.contains_key(&n.name))
                .map(|n| n.missing(stack))
                .collect();
            let mut problems: Vec<Problem> = references
                .iter()
                .filter_map(|found| match secrets.get(&found.reference.name) {
                    None => Some(missing_secret(found)),
                    Some(secret) if secret.get(found.reference.key.as_str()).is_none() => Some(Problem::of_reference(
                        stack,
                        found,
                        format!(
                            "{} refers to key '{}' of secret '{}', which has no such key (it has: {}); \
                             add it with `keystack secrets-manager secret update {} --{}=VALUE`",
                            found.reference,
                            found.reference.key,
                            found.reference.name,
                            secret.keys().map(|k| k.as_str()).collect::<Vec<_>>().join(", "),
                            found.reference.name,
                            found.reference.key
                        ),
                    )),
                    Some(_) => None,
                })
                .collect();
            problems.extend(named_problems);
            Ok((problems, secrets))
        }
    }
}
