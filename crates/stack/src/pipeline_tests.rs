//! Unit tests of validation, fetching, resolution and register-secrets
//! planning, over one fixture: a 50 ms-latency manager, counted.

use std::sync::Arc;
use std::time::Duration;

use keystack_secrets_core::counting::{Calls, CountingManager};
use keystack_secrets_core::memory::InMemorySecretsManager;
use keystack_secrets_core::testkit::LatencyManager;

use std::collections::BTreeMap;

use keystack_secrets_core::{Error, Secret, SecretName, SecretsManager, ValidationLevel};

use crate::concurrency::{DEFAULT_CONCURRENCY, concurrency_from_lookup};
use crate::fetch::{fetch_secrets, stack_references};
use crate::flavor::{Catalog, ComponentType};
use crate::project::LoadedStack;
use crate::register_secrets::plan_register_secrets;
use crate::resolve::resolve_validated;
use crate::validation::{Validated, ValidationReport, validate};
use crate::{AttributeValue, Component, Stack, StackError};

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
    let mut flavor =
        String::from("flavors:\n  - type: experiment_tracker\n    name: many\n    attributes:\n");
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
async fn secret_and_key_exists_reads_each_secret_once_in_one_batch() {
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
            batch: 1,
            batch_secrets: 50,
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
async fn resolution_at_lower_levels_reads_each_secret_once_in_one_batch() {
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
                batch: 1,
                batch_secrets: 50,
                ..Calls::default()
            },
            "{level}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn register_secrets_plan_reads_each_secret_once_in_one_batch() {
    let f = fixture().await;
    // The stack refers to keys k1 and k3 of s3 (and of s49); s3 lacks k3.
    f.counting
        .delete_secret(&SecretName::new("s3").unwrap())
        .await
        .unwrap();
    f.counting
        .register_secret(
            &Secret::arbitrary(SecretName::new("s3").unwrap(), [("k0", "a"), ("k1", "b")]).unwrap(),
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
            batch: 1,
            batch_secrets: 50,
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
