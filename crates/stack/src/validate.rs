//! Pre-run validation of a stack's secret references, and their resolution.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use futures::StreamExt;
use keystack_secrets_core::{
    Error, Secret, SecretName, SecretValue, SecretsManager, Template, ValidationLevel,
};

use crate::StackError;
use crate::flavor::{Catalog, ComponentType};
use crate::model::{AttributeValue, FoundReference};
use crate::project::LoadedStack;

/// How many secrets are fetched at once by default. Validation against a
/// remote manager is latency-bound, so this is well above the core count.
pub const DEFAULT_CONCURRENCY: usize = 16;

/// One problem found by validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where: `stack 's' / experiment_tracker 'mlflow' / attribute 'x'`.
    pub location: String,
    /// What is wrong and what to do.
    pub message: String,
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

fn location(stack: &str, found: &FoundReference) -> String {
    format!(
        "stack '{stack}' / {} '{}' / attribute '{}'",
        found.component_type, found.component, found.attribute
    )
}

/// Every reference in the stack's components.
pub fn stack_references(stack: &LoadedStack) -> Result<Vec<FoundReference>, StackError> {
    let mut found = Vec::new();
    for component in &stack.components {
        found.extend(component.references()?);
    }
    Ok(found)
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
) -> Result<(), StackError> {
    let name = &stack.stack.name;
    let mut problems = Vec::new();
    for component in &stack.components {
        if let Err(e) = component.check(catalog) {
            problems.push(Problem {
                location: format!(
                    "stack '{name}' / {} '{}'",
                    component.component_type, component.name
                ),
                message: e.to_string(),
            });
        }
    }
    // A component whose references do not parse was reported just above;
    // the secrets of the others are still checked, so one run shows all.
    let references: Vec<FoundReference> = stack
        .components
        .iter()
        .filter_map(|c| c.references().ok())
        .flatten()
        .collect();
    let secrets_manager = stack.component(ComponentType::SecretsManager);
    let orchestrator = stack.component(ComponentType::Orchestrator);
    if let (Some(sm), Some(orch)) = (secrets_manager, orchestrator) {
        let sm_local = sm.flavor(catalog).is_ok_and(|f| f.local);
        let orch_remote = orch.flavor(catalog).is_ok_and(|f| !f.local);
        if sm_local && orch_remote {
            problems.push(Problem {
                location: format!("stack '{name}'"),
                message: format!(
                    "secrets manager '{}' is local to this machine but orchestrator '{}' ({}) runs elsewhere, \
                     where the secrets cannot be read; use a cloud secrets manager (aws, gcp, azure, vault) \
                     or a local orchestrator",
                    sm.name, orch.name, orch.flavor
                ),
            });
        }
    }
    if !references.is_empty() && secrets_manager.is_none() {
        problems.push(Problem {
            location: format!("stack '{name}'"),
            message: format!(
                "{} attribute(s) refer to secrets but the stack has no secrets manager; \
                 add one with `keystack stack update {name} -x NAME`",
                references.len()
            ),
        });
    }
    if let Some(manager) = manager {
        problems.extend(check_secrets(name, &references, manager, level, concurrency).await?);
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(StackError::Validation(ValidationReport {
            stack: name.clone(),
            problems,
        }))
    }
}

async fn check_secrets(
    stack: &str,
    references: &[FoundReference],
    manager: &dyn SecretsManager,
    level: ValidationLevel,
    concurrency: usize,
) -> Result<Vec<Problem>, StackError> {
    let missing_secret = |found: &FoundReference| Problem {
        location: location(stack, found),
        message: format!(
            "{} refers to secret '{}', which does not exist; register it with \
             `keystack secrets-manager secret register {}`, or run `keystack stack register-secrets`",
            found.reference, found.reference.name, found.reference.name
        ),
    };
    match level {
        ValidationLevel::None => Ok(Vec::new()),
        ValidationLevel::SecretExists => {
            let names: BTreeSet<SecretName> =
                manager.list_secret_names().await?.into_iter().collect();
            Ok(references
                .iter()
                .filter(|f| !names.contains(&f.reference.name))
                .map(missing_secret)
                .collect())
        }
        ValidationLevel::SecretAndKeyExists => {
            let secrets = fetch_secrets(references, manager, concurrency).await?;
            Ok(references
                .iter()
                .filter_map(|found| match secrets.get(&found.reference.name) {
                    None => Some(missing_secret(found)),
                    Some(secret) if secret.get(found.reference.key.as_str()).is_none() => Some(Problem {
                        location: location(stack, found),
                        message: format!(
                            "{} refers to key '{}' of secret '{}', which has no such key (it has: {}); \
                             add it with `keystack secrets-manager secret update {} --{}=VALUE`",
                            found.reference,
                            found.reference.key,
                            found.reference.name,
                            secret.keys().map(|k| k.as_str()).collect::<Vec<_>>().join(", "),
                            found.reference.name,
                            found.reference.key
                        ),
                    }),
                    Some(_) => None,
                })
                .collect())
        }
    }
}

/// Fetches each distinct referenced secret once, `concurrency` at a time.
/// Missing secrets are left out of the map; other errors stop the fetch.
pub async fn fetch_secrets(
    references: &[FoundReference],
    manager: &dyn SecretsManager,
    concurrency: usize,
) -> Result<BTreeMap<SecretName, Secret>, StackError> {
    let names: BTreeSet<&SecretName> = references.iter().map(|f| &f.reference.name).collect();
    let results: Vec<Result<Option<Secret>, Error>> = futures::stream::iter(names)
        .map(|name| async move {
            match manager.get_secret(name).await {
                Ok(secret) => Ok(Some(secret)),
                Err(e) if e.is_not_found() => Ok(None),
                Err(e) => Err(e),
            }
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    let mut secrets = BTreeMap::new();
    for result in results {
        if let Some(secret) = result? {
            secrets.insert(secret.name().clone(), secret);
        }
    }
    Ok(secrets)
}

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
    /// an `env` mapping (set, or defaulted), plus `KEYSTACK_STACK`.
    pub fn environment(&self, catalog: &Catalog) -> Vec<(String, SecretValue)> {
        let mut env = vec![(
            crate::project::STACK_ENV.to_owned(),
            SecretValue::new(self.name.clone()),
        )];
        for component in &self.components {
            let Ok(flavor) = catalog.get(component.component_type, &component.flavor) else {
                continue;
            };
            for spec in &flavor.attributes {
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

/// Replaces every reference of the stack by its value, fetching each
/// distinct secret once. Run [`validate`] first for a full report; this
/// stops at the first missing secret or key.
pub async fn resolve(
    stack: &LoadedStack,
    manager: Option<&dyn SecretsManager>,
    concurrency: usize,
) -> Result<ResolvedStack, StackError> {
    let references = stack_references(stack)?;
    let secrets = match manager {
        Some(manager) if !references.is_empty() => {
            fetch_secrets(&references, manager, concurrency).await?
        }
        None if !references.is_empty() => {
            return Err(StackError::NoSecretsManager {
                stack: stack.stack.name.clone(),
            });
        }
        _ => BTreeMap::new(),
    };
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
                        let secret = secrets.get(&r.name).ok_or_else(|| Error::NotFound {
                            name: r.name.clone(),
                        })?;
                        let value = secret.get(r.key.as_str()).cloned().ok_or_else(|| {
                            Error::KeyNotFound {
                                name: r.name.clone(),
                                key: r.key.clone(),
                            }
                        })?;
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
    Ok(ResolvedStack {
        name: stack.stack.name.clone(),
        components,
        secret_values,
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use async_trait::async_trait;
    use keystack_secrets_core::memory::InMemorySecretsManager;
    use keystack_secrets_core::{ManagerInfo, Result, SecretPatch};

    use super::*;
    use crate::model::{Component, Stack};

    /// Counts calls and the most calls in flight at once; gets take a while
    /// so that concurrent calls overlap.
    #[derive(Debug, Default)]
    struct Counting {
        inner: InMemorySecretsManager,
        lists: AtomicUsize,
        gets: AtomicUsize,
        in_flight: AtomicUsize,
        peak: AtomicUsize,
    }

    #[async_trait]
    impl SecretsManager for Counting {
        fn info(&self) -> ManagerInfo {
            self.inner.info()
        }
        async fn register_secret(&self, secret: &Secret) -> Result<()> {
            self.inner.register_secret(secret).await
        }
        async fn get_secret(&self, name: &SecretName) -> Result<Secret> {
            self.gets.fetch_add(1, Ordering::SeqCst);
            let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            self.peak.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
            self.inner.get_secret(name).await
        }
        async fn list_secret_names(&self) -> Result<Vec<SecretName>> {
            self.lists.fetch_add(1, Ordering::SeqCst);
            self.inner.list_secret_names().await
        }
        async fn update_secret(&self, name: &SecretName, patch: &SecretPatch) -> Result<Secret> {
            self.inner.update_secret(name, patch).await
        }
        async fn delete_secret(&self, name: &SecretName) -> Result<()> {
            self.inner.delete_secret(name).await
        }
        async fn delete_all_secrets(&self) -> Result<usize> {
            self.inner.delete_all_secrets().await
        }
    }

    /// A stack whose tracker (a user flavor with 200 attributes) refers to
    /// 50 secrets, 4 keys each; secret 49 is left unregistered.
    async fn fixture() -> (LoadedStack, Catalog, Arc<Counting>) {
        let mut catalog = Catalog::builtin();
        let mut flavor = String::from(
            "flavors:\n  - type: experiment_tracker\n    name: many\n    attributes:\n",
        );
        let mut attributes = BTreeMap::new();
        for i in 0..200 {
            flavor.push_str(&format!("      - {{name: a{i}}}\n"));
            attributes.insert(
                format!("a{i}"),
                AttributeValue::Text(format!("x-{{{{s{}.k{}}}}}", i % 50, i % 4)),
            );
        }
        catalog
            .add_yaml(&flavor, std::path::Path::new("many.yaml"))
            .unwrap();
        let tracker = Component {
            component_type: ComponentType::ExperimentTracker,
            name: "t".into(),
            flavor: "many".into(),
            attributes,
        };
        let manager = Arc::new(Counting::default());
        for i in 0..49 {
            let pairs: Vec<(String, String)> = (0..4)
                .map(|k| (format!("k{k}"), format!("v{i}-{k}")))
                .collect();
            let secret =
                Secret::arbitrary(SecretName::new(format!("s{i}")).unwrap(), pairs).unwrap();
            manager.register_secret(&secret).await.unwrap();
        }
        let secrets_manager = Component {
            component_type: ComponentType::SecretsManager,
            name: "sm".into(),
            flavor: "local".into(),
            attributes: BTreeMap::new(),
        };
        let stack = LoadedStack {
            stack: Stack {
                name: "st".into(),
                components: [
                    (ComponentType::ExperimentTracker, "t".to_owned()),
                    (ComponentType::SecretsManager, "sm".to_owned()),
                ]
                .into(),
            },
            components: vec![tracker, secrets_manager],
        };
        (stack, catalog, manager)
    }

    async fn run(level: ValidationLevel) -> (Option<ValidationReport>, Arc<Counting>) {
        let (stack, catalog, manager) = fixture().await;
        let result = validate(
            &stack,
            &catalog,
            Some(manager.as_ref()),
            level,
            DEFAULT_CONCURRENCY,
        )
        .await;
        let report = match result {
            Ok(()) => None,
            Err(StackError::Validation(report)) => Some(report),
            Err(other) => panic!("{other}"),
        };
        (report, manager)
    }

    #[tokio::test]
    async fn none_asks_nothing() {
        let (report, m) = run(ValidationLevel::None).await;
        assert!(report.is_none());
        assert_eq!(
            (
                m.lists.load(Ordering::SeqCst),
                m.gets.load(Ordering::SeqCst)
            ),
            (0, 0)
        );
    }

    #[tokio::test]
    async fn secret_exists_makes_one_listing() {
        let (report, m) = run(ValidationLevel::SecretExists).await;
        assert_eq!(
            (
                m.lists.load(Ordering::SeqCst),
                m.gets.load(Ordering::SeqCst)
            ),
            (1, 0)
        );
        let report = report.unwrap();
        assert_eq!(
            report.problems.len(),
            4,
            "secret s49 is referred to by 4 attributes"
        );
        assert!(
            report.problems[0]
                .location
                .contains("experiment_tracker 't' / attribute 'a")
        );
    }

    #[tokio::test]
    async fn secret_and_key_exists_gets_each_secret_once_concurrently() {
        let (report, m) = run(ValidationLevel::SecretAndKeyExists).await;
        assert_eq!(
            (
                m.lists.load(Ordering::SeqCst),
                m.gets.load(Ordering::SeqCst)
            ),
            (0, 50)
        );
        let peak = m.peak.load(Ordering::SeqCst);
        assert!(
            peak > 1 && peak <= DEFAULT_CONCURRENCY,
            "peak in-flight gets: {peak}"
        );
        assert_eq!(report.unwrap().problems.len(), 4);
    }

    #[tokio::test]
    async fn resolution_replaces_embedded_references_and_redacts() {
        let (stack, catalog, manager) = fixture().await;
        manager
            .register_secret(
                &Secret::arbitrary(
                    SecretName::new("s49").unwrap(),
                    (0..4).map(|k| (format!("k{k}"), format!("v49-{k}"))),
                )
                .unwrap(),
            )
            .await
            .unwrap();
        let resolved = resolve(&stack, Some(manager.as_ref()), 4).await.unwrap();
        let attrs = &resolved.components[0].attributes;
        assert_eq!(attrs["a0"].expose(), "x-v0-0");
        assert_eq!(attrs["a199"].expose(), "x-v49-3");
        assert!(!format!("{resolved:?}").contains("v0-0"));
        assert_eq!(manager.gets.load(Ordering::SeqCst), 50);
        let env = resolved.environment(&catalog);
        assert_eq!(env[0].0, "KEYSTACK_STACK");
    }
}
