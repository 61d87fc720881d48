//! Pre-run validation of a stack's secret references, and their resolution.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use futures::StreamExt;
use keystack_secrets_core::{
    Error, Secret, SecretKey, SecretName, SecretValue, SecretsManager, Template, ValidationLevel,
};

use crate::StackError;
use crate::flavor::{Catalog, ComponentType};
use crate::model::{AttributeValue, FoundReference};
use crate::project::LoadedStack;

/// How many secrets are fetched at once by default. Validation against a
/// remote manager is latency-bound (each get is a round trip), so this is
/// well above the core count; see docs/performance.md for the measurements
/// behind the number.
pub const DEFAULT_CONCURRENCY: usize = 32;

/// The environment variable that overrides [`DEFAULT_CONCURRENCY`].
pub const CONCURRENCY_ENV: &str = "KEYSTACK_CONCURRENCY";

/// The most fetches in flight that [`CONCURRENCY_ENV`] may ask for.
pub const MAX_CONCURRENCY: usize = 256;

/// How many secrets to fetch at once: [`CONCURRENCY_ENV`] if set (1 to
/// [`MAX_CONCURRENCY`]), else [`DEFAULT_CONCURRENCY`].
pub fn concurrency_from_env() -> Result<usize, StackError> {
    concurrency_from_lookup(|var| std::env::var(var).ok())
}

/// [`concurrency_from_env`] over any variable lookup (for tests and embedders).
pub fn concurrency_from_lookup(
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<usize, StackError> {
    let Some(value) = lookup(CONCURRENCY_ENV).filter(|v| !v.trim().is_empty()) else {
        return Ok(DEFAULT_CONCURRENCY);
    };
    match value.trim().parse::<usize>() {
        Ok(n) if (1..=MAX_CONCURRENCY).contains(&n) => Ok(n),
        _ => Err(StackError::InvalidEnvironment {
            var: CONCURRENCY_ENV,
            shown: value
                .chars()
                .take(32)
                .flat_map(char::escape_debug)
                .collect(),
            problem: format!(
                "give a whole number of secrets to fetch at once, from 1 to {MAX_CONCURRENCY} \
                 (default {DEFAULT_CONCURRENCY})"
            ),
        }),
    }
}

/// What validation fetched, so that resolution does not fetch it again:
/// after `SECRET_AND_KEY_EXISTS` validation, `run` costs no further call.
#[derive(Debug, Default)]
pub struct Validated {
    fetched: BTreeMap<SecretName, Secret>,
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
    let mut validated = Validated::default();
    if let Some(manager) = manager {
        let (found, fetched) =
            check_secrets(name, &references, manager, level, concurrency).await?;
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

async fn check_secrets(
    stack: &str,
    references: &[FoundReference],
    manager: &dyn SecretsManager,
    level: ValidationLevel,
    concurrency: usize,
) -> Result<(Vec<Problem>, BTreeMap<SecretName, Secret>), StackError> {
    let missing_secret = |found: &FoundReference| Problem {
        location: location(stack, found),
        message: format!(
            "{} refers to secret '{}', which does not exist; register it with \
             `keystack secrets-manager secret register {}`, or run `keystack stack register-secrets`",
            found.reference, found.reference.name, found.reference.name
        ),
    };
    match level {
        ValidationLevel::None => Ok((Vec::new(), BTreeMap::new())),
        ValidationLevel::SecretExists => {
            let names: BTreeSet<SecretName> =
                manager.list_secret_names().await?.into_iter().collect();
            let problems = references
                .iter()
                .filter(|f| !names.contains(&f.reference.name))
                .map(missing_secret)
                .collect();
            Ok((problems, BTreeMap::new()))
        }
        ValidationLevel::SecretAndKeyExists => {
            let secrets = fetch_secrets(references, manager, concurrency).await?;
            let problems = references
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
                .collect();
            Ok((problems, secrets))
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
    fetch_named(names, manager, concurrency).await
}

async fn fetch_named(
    names: BTreeSet<&SecretName>,
    manager: &dyn SecretsManager,
    concurrency: usize,
) -> Result<BTreeMap<SecretName, Secret>, StackError> {
    // Results come back as they finish; the first error other than "not
    // found" ends the fetch (the calls still in flight are dropped).
    let mut results = futures::stream::iter(names)
        .map(|name| async move {
            match manager.get_secret(name).await {
                Ok(secret) => Ok((name, Some(secret))),
                Err(e) if e.is_not_found() => Ok((name, None)),
                Err(e) => Err(e),
            }
        })
        .buffer_unordered(concurrency.max(1));
    let mut secrets = BTreeMap::new();
    while let Some(result) = results.next().await {
        if let (name, Some(secret)) = result? {
            // Keyed by the name asked for: a case-insensitive backend may
            // answer with another spelling.
            secrets.insert(name.clone(), secret);
        }
    }
    Ok(secrets)
}

/// One secret `stack register-secrets` has to ask values for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedSecret {
    /// The secret.
    pub name: SecretName,
    /// Whether it does not exist yet (else keys are added to it).
    pub create: bool,
    /// The keys the stack refers to that it lacks, sorted.
    pub keys: Vec<SecretKey>,
}

/// Plans `stack register-secrets`: every secret the stack refers to that is
/// missing, and every existing secret that lacks keys the stack refers to
/// (unless `skip_existing`). Costs one get per distinct secret, `concurrency`
/// at a time: the same as `SECRET_AND_KEY_EXISTS` validation.
pub async fn plan_register_secrets(
    stack: &LoadedStack,
    manager: &dyn SecretsManager,
    skip_existing: bool,
    concurrency: usize,
) -> Result<Vec<PlannedSecret>, StackError> {
    let references = stack_references(stack)?;
    let mut wanted: BTreeMap<&SecretName, BTreeSet<&SecretKey>> = BTreeMap::new();
    for found in &references {
        wanted
            .entry(&found.reference.name)
            .or_default()
            .insert(&found.reference.key);
    }
    let existing = fetch_named(wanted.keys().copied().collect(), manager, concurrency).await?;
    let mut plan = Vec::new();
    for (name, keys) in wanted {
        match existing.get(name) {
            None => plan.push(PlannedSecret {
                name: name.clone(),
                create: true,
                keys: keys.into_iter().cloned().collect(),
            }),
            Some(_) if skip_existing => {}
            Some(secret) => {
                let keys: Vec<SecretKey> = keys
                    .into_iter()
                    .filter(|k| secret.get(k.as_str()).is_none())
                    .cloned()
                    .collect();
                if !keys.is_empty() {
                    plan.push(PlannedSecret {
                        name: name.clone(),
                        create: false,
                        keys,
                    });
                }
            }
        }
    }
    Ok(plan)
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
    let references = stack_references(stack)?;
    let mut secrets = validated.fetched;
    let missing: BTreeSet<&SecretName> = references
        .iter()
        .map(|f| &f.reference.name)
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
    use std::time::Duration;

    use keystack_secrets_core::counting::{Calls, CountingManager};
    use keystack_secrets_core::memory::InMemorySecretsManager;
    use keystack_secrets_core::testkit::LatencyManager;

    use super::*;
    use crate::model::{Component, Stack};

    /// What the tests talk to: a 50 ms-latency manager, counted.
    struct Fixture {
        stack: LoadedStack,
        catalog: Catalog,
        latency: Arc<LatencyManager>,
        counting: CountingManager,
    }

    /// A stack whose tracker (a user flavor with 200 attributes) refers to
    /// 50 secrets, 4 keys each; secret 49 is left unregistered.
    async fn fixture() -> Fixture {
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
        let memory = Arc::new(InMemorySecretsManager::new());
        for i in 0..49 {
            memory.register_secret(&secret(i)).await.unwrap();
        }
        let latency = Arc::new(LatencyManager::new(memory, Duration::from_millis(50)));
        let counting = CountingManager::new(latency.clone());
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
        Fixture {
            stack,
            catalog,
            latency,
            counting,
        }
    }

    fn secret(i: usize) -> Secret {
        Secret::arbitrary(
            SecretName::new(format!("s{i}")).unwrap(),
            (0..4).map(|k| (format!("k{k}"), format!("v{i}-{k}"))),
        )
        .unwrap()
    }

    async fn check(f: &Fixture, level: ValidationLevel) -> Result<Validated, ValidationReport> {
        match validate(
            &f.stack,
            &f.catalog,
            Some(&f.counting),
            level,
            DEFAULT_CONCURRENCY,
        )
        .await
        {
            Ok(validated) => Ok(validated),
            Err(StackError::Validation(report)) => Err(report),
            Err(other) => panic!("{other}"),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn none_asks_nothing() {
        let f = fixture().await;
        assert!(check(&f, ValidationLevel::None).await.is_ok());
        assert_eq!(f.counting.calls(), Calls::default());
    }

    #[tokio::test(start_paused = true)]
    async fn secret_exists_makes_one_listing() {
        let f = fixture().await;
        let report = check(&f, ValidationLevel::SecretExists).await.unwrap_err();
        assert_eq!(
            f.counting.calls(),
            Calls {
                list: 1,
                ..Calls::default()
            }
        );
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

    #[tokio::test(start_paused = true)]
    async fn secret_and_key_exists_gets_each_secret_once_concurrently() {
        let f = fixture().await;
        let started = tokio::time::Instant::now();
        let report = check(&f, ValidationLevel::SecretAndKeyExists)
            .await
            .unwrap_err();
        // Virtual time (the clock is paused and jumps to each timer): what
        // is measured is how the calls were scheduled, not this machine.
        let elapsed = started.elapsed();
        assert_eq!(
            f.counting.calls(),
            Calls {
                get: 50,
                ..Calls::default()
            }
        );
        let peak = f.latency.peak_in_flight();
        assert!(
            (12..=DEFAULT_CONCURRENCY).contains(&peak),
            "peak in-flight gets: {peak}"
        );
        assert!(
            elapsed < Duration::from_millis(250),
            "50 gets at 50 ms each took {elapsed:?} of scheduled time"
        );
        assert_eq!(report.problems.len(), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn concurrency_is_a_bound() {
        let f = fixture().await;
        fetch_secrets(&stack_references(&f.stack).unwrap(), &f.counting, 3)
            .await
            .unwrap();
        assert_eq!(f.latency.peak_in_flight(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn resolution_after_validation_costs_no_call_at_secret_and_key_exists() {
        let f = fixture().await;
        f.counting.register_secret(&secret(49)).await.unwrap();
        let validated = check(&f, ValidationLevel::SecretAndKeyExists)
            .await
            .unwrap();
        let after_validation = f.counting.calls();
        let resolved = resolve_validated(&f.stack, Some(&f.counting), validated, 4)
            .await
            .unwrap();
        assert_eq!(
            f.counting.calls(),
            after_validation,
            "no call after validation"
        );
        let attrs = &resolved.components[0].attributes;
        assert_eq!(attrs["a0"].expose(), "x-v0-0");
        assert_eq!(attrs["a199"].expose(), "x-v49-3");
        assert!(!format!("{resolved:?}").contains("v0-0"));
        let env = resolved.environment(&f.catalog);
        assert_eq!(env[0].0, "KEYSTACK_STACK");
    }

    #[tokio::test(start_paused = true)]
    async fn resolution_at_lower_levels_gets_each_secret_once() {
        for level in [ValidationLevel::None, ValidationLevel::SecretExists] {
            let f = fixture().await;
            f.counting.register_secret(&secret(49)).await.unwrap();
            let validated = check(&f, level).await.unwrap();
            let before = f.counting.calls();
            resolve_validated(&f.stack, Some(&f.counting), validated, 8)
                .await
                .unwrap();
            assert_eq!(
                f.counting.calls() - before,
                Calls {
                    get: 50,
                    ..Calls::default()
                },
                "{level}"
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn register_secrets_plan_costs_one_get_per_secret() {
        let f = fixture().await;
        // The stack refers to keys k1 and k3 of s3 (and of s49); s3 lacks k3.
        f.counting
            .delete_secret(&SecretName::new("s3").unwrap())
            .await
            .unwrap();
        f.counting
            .register_secret(
                &Secret::arbitrary(SecretName::new("s3").unwrap(), [("k0", "a"), ("k1", "b")])
                    .unwrap(),
            )
            .await
            .unwrap();
        let before = f.counting.calls();
        let plan = plan_register_secrets(&f.stack, &f.counting, false, DEFAULT_CONCURRENCY)
            .await
            .unwrap();
        assert_eq!(
            f.counting.calls() - before,
            Calls {
                get: 50,
                ..Calls::default()
            }
        );
        let names: Vec<(&str, bool, usize)> = plan
            .iter()
            .map(|p| (p.name.as_str(), p.create, p.keys.len()))
            .collect();
        assert_eq!(names, [("s3", false, 1), ("s49", true, 2)]);
        let skipping = plan_register_secrets(&f.stack, &f.counting, true, DEFAULT_CONCURRENCY)
            .await
            .unwrap();
        assert_eq!(skipping.len(), 1);
        assert_eq!(skipping[0].name.as_str(), "s49");
    }

    #[tokio::test(start_paused = true)]
    async fn a_failing_fetch_stops_early() {
        let f = fixture().await;
        let broken = CountingManager::new(Arc::new(Unreachable));
        let err = fetch_secrets(&stack_references(&f.stack).unwrap(), &broken, 4)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("unreachable"), "{err}");
        assert!(broken.calls().get < 50, "{}", broken.calls());
    }

    #[test]
    fn concurrency_comes_from_the_environment() {
        let env = |v: &'static str| move |_: &str| Some(v.to_owned());
        assert_eq!(
            concurrency_from_lookup(|_| None).unwrap(),
            DEFAULT_CONCURRENCY
        );
        assert_eq!(
            concurrency_from_lookup(env("")).unwrap(),
            DEFAULT_CONCURRENCY
        );
        assert_eq!(concurrency_from_lookup(env(" 4 ")).unwrap(), 4);
        for bad in ["0", "257", "-1", "many", "1e3"] {
            let err = concurrency_from_lookup(env(bad)).unwrap_err().to_string();
            assert!(
                err.contains("KEYSTACK_CONCURRENCY") && err.contains("from 1 to 256"),
                "{err}"
            );
        }
    }

    /// A manager whose every call fails as unreachable.
    #[derive(Debug)]
    struct Unreachable;

    #[async_trait::async_trait]
    impl SecretsManager for Unreachable {
        fn info(&self) -> keystack_secrets_core::ManagerInfo {
            InMemorySecretsManager::new().info()
        }
        async fn register_secret(&self, _: &Secret) -> keystack_secrets_core::Result<()> {
            Err(down())
        }
        async fn get_secret(&self, _: &SecretName) -> keystack_secrets_core::Result<Secret> {
            tokio::task::yield_now().await;
            Err(down())
        }
        async fn list_secret_names(&self) -> keystack_secrets_core::Result<Vec<SecretName>> {
            Err(down())
        }
        async fn update_secret(
            &self,
            _: &SecretName,
            _: &keystack_secrets_core::SecretPatch,
        ) -> keystack_secrets_core::Result<Secret> {
            Err(down())
        }
        async fn delete_secret(&self, _: &SecretName) -> keystack_secrets_core::Result<()> {
            Err(down())
        }
        async fn delete_all_secrets(&self) -> keystack_secrets_core::Result<usize> {
            Err(down())
        }
    }

    fn down() -> Error {
        Error::Unavailable {
            backend: "test",
            message: "the service is unreachable".into(),
            source: None,
        }
    }
}
