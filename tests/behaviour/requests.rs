//! Requests per operation, counted at the HTTP layer (a proxy in front of
//! the emulator sees every request, retries and pages included): the
//! remote budgets docs/performance.md lists. 50 secrets of 4 keys, a stack
//! with 200 references to them.

use std::collections::BTreeMap;
use std::path::Path;

use keystack_secrets_core::{Secret, SecretName, ValidationLevel};
use keystack_stack::project::LoadedStack;
use keystack_stack::{AttributeValue, Catalog, Component, ComponentType, Stack};

const SECRETS: usize = 50;
const REFERENCES: usize = 200;

/// What each operation may cost, in HTTP requests.
struct Budget {
    /// Validation at `SECRET_EXISTS`.
    exists: usize,
    /// Validation at `SECRET_AND_KEY_EXISTS` (also `run`'s whole cost).
    keys: usize,
    /// One `get_secret`.
    get: usize,
    /// `list_secret_names` of the 50.
    list: usize,
}

fn name(i: usize) -> SecretName {
    SecretName::new(format!("s-{i:02}")).unwrap()
}

fn stack_and_catalog() -> (LoadedStack, Catalog) {
    let mut flavor =
        String::from("flavors:\n  - type: experiment_tracker\n    name: budget\n    attributes:\n");
    let mut attributes = BTreeMap::new();
    for i in 0..REFERENCES {
        flavor.push_str(&format!("      - {{name: a{i}, sensitive: true}}\n"));
        attributes.insert(
            format!("a{i}"),
            AttributeValue::Text(format!("{{{{s-{:02}.k{}}}}}", i % SECRETS, i % 4)),
        );
    }
    let mut catalog = Catalog::builtin();
    catalog
        .add_yaml(&flavor, Path::new("budget.yaml"))
        .expect("the flavor loads");
    let component = Component {
        component_type: ComponentType::ExperimentTracker,
        name: "budget".to_owned(),
        flavor: "budget".to_owned(),
        attributes,
    };
    // The stack's secrets manager component; the manager under test is
    // what validation is given.
    let secrets_manager = Component {
        component_type: ComponentType::SecretsManager,
        name: "sm".to_owned(),
        flavor: "local".to_owned(),
        attributes: BTreeMap::new(),
    };
    let stack = LoadedStack {
        stack: Stack {
            name: "budget".to_owned(),
            components: BTreeMap::from([
                (ComponentType::SecretsManager, "sm".to_owned()),
                (ComponentType::ExperimentTracker, "budget".to_owned()),
            ]),
        },
        components: vec![secrets_manager, component],
    };
    (stack, catalog)
}

async fn check(counted: Option<keystack_tests::Counted>, budget: Budget) {
    let Some((fixture, proxy)) = counted else {
        return;
    };
    let manager = fixture.manager.as_ref();
    for i in 0..SECRETS {
        let secret = Secret::arbitrary(
            name(i),
            [("k0", "v0"), ("k1", "v1"), ("k2", "v2"), ("k3", "v3")],
        )
        .unwrap();
        manager.register_secret(&secret).await.unwrap();
    }
    let (stack, catalog) = stack_and_catalog();
    let counted = |what: &str, expected: usize| {
        let requests = proxy.requests();
        assert_eq!(
            requests.len(),
            expected,
            "{what}: {} requests, budget {expected}:\n{}",
            requests.len(),
            requests.join("\n")
        );
        proxy.reset();
        requests.len()
    };

    proxy.reset();
    keystack_stack::validate(&stack, &catalog, Some(manager), ValidationLevel::None, 32)
        .await
        .unwrap();
    counted("validation at NONE", 0);
    keystack_stack::validate(
        &stack,
        &catalog,
        Some(manager),
        ValidationLevel::SecretExists,
        32,
    )
    .await
    .unwrap();
    counted("validation at SECRET_EXISTS", budget.exists);
    let validated = keystack_stack::validate(
        &stack,
        &catalog,
        Some(manager),
        ValidationLevel::SecretAndKeyExists,
        32,
    )
    .await
    .unwrap();
    counted("validation at SECRET_AND_KEY_EXISTS", budget.keys);
    let resolved = keystack_stack::resolve_validated(&stack, Some(manager), validated, 32)
        .await
        .unwrap();
    assert!(!resolved.secret_values.is_empty());
    counted("resolution after validation", 0);

    manager.get_secret(&name(7)).await.unwrap();
    counted("one get", budget.get);
    assert_eq!(manager.list_secret_names().await.unwrap().len(), SECRETS);
    counted("list", budget.list);
    // The batch read is whole: each secret with its values, a missing one NotFound.
    let mut names: Vec<SecretName> = (0..SECRETS).map(name).collect();
    names.push(SecretName::new("missing").unwrap());
    let each = manager.get_secrets(&names, 32).await.unwrap();
    for (i, result) in each.iter().take(SECRETS).enumerate() {
        let secret = result.as_ref().unwrap();
        assert_eq!(secret.name(), &name(i));
        assert_eq!(secret.get("k3").unwrap().expose(), "v3");
    }
    assert!(each[SECRETS].as_ref().unwrap_err().is_not_found());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws() {
    // One ListSecrets page (tags and schemas of all 50) and three
    // BatchGetSecretValue requests of up to 20.
    check(
        keystack_tests::aws_counted(),
        Budget {
            exists: 1,
            keys: 4,
            get: 2,
            list: 1,
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gcp() {
    // One filtered ListSecrets (labels of all 50), then one
    // AccessSecretVersion per secret.
    check(
        keystack_tests::gcp_counted(),
        Budget {
            exists: 1,
            keys: 1 + SECRETS,
            get: 2,
            list: 1,
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vault() {
    // KV v2 lists keys only: ownership is in each entry's custom metadata,
    // one read per entry, so a listing is 1 + n. A read is one request
    // (the data answer carries the metadata).
    check(
        keystack_tests::vault_counted(),
        Budget {
            exists: 1 + SECRETS,
            keys: SECRETS,
            get: 1,
            list: 1 + SECRETS,
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn azure() {
    // Key Vault has no batch read, and a secret's GET answers its value and
    // tags (ownership, schema) together: one request per secret. Its list
    // pages hold 25 secrets at most.
    check(
        keystack_tests::azure_counted(),
        Budget {
            exists: 2,
            keys: SECRETS,
            get: 1,
            list: 2,
        },
    )
    .await;
}
