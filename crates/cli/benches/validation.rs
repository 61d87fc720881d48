//! Validation of a stack with 200 references to 50 secrets, at each level,
//! against managers with different latencies: wall time (median) and the
//! calls made, counted by `CountingManager`. Then the same at
//! `SECRET_AND_KEY_EXISTS` for several concurrency bounds, which is how
//! `DEFAULT_CONCURRENCY` was chosen.
//!
//! Run through `cargo xtask bench`, which starts the emulators (moto,
//! drongo, the Key Vault test server, OpenBao) and passes their addresses;
//! rows of an emulator that is not set are left out.
//! Prints markdown table rows on stdout. `--quick`: 3 runs instead of 11.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use keystack_secrets_core::counting::{Calls, CountingManager};
use keystack_secrets_core::memory::InMemorySecretsManager;
use keystack_secrets_core::testkit::LatencyManager;
use keystack_secrets_core::{Secret, SecretName, SecretsManager, ValidationLevel};
use keystack_stack::concurrency::DEFAULT_CONCURRENCY;
use keystack_stack::validate;
use keystack_stack::{AttributeValue, Catalog, ComponentType, LoadedStack};
use keystack_stack::{Component, Stack};

const LEVELS: [ValidationLevel; 3] = [
    ValidationLevel::None,
    ValidationLevel::SecretExists,
    ValidationLevel::SecretAndKeyExists,
];

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let runs = if quick { 3 } else { 11 };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (stack, catalog) = bench_stack();

    let mut managers: Vec<(String, Arc<dyn SecretsManager>)> = vec![(
        "in-process, 50 ms per call".to_owned(),
        Arc::new(LatencyManager::new(
            Arc::new(InMemorySecretsManager::new()),
            Duration::from_millis(50),
        )),
    )];
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    match var("KEYSTACK_TEST_AWS_ENDPOINT") {
        Some(endpoint) => managers.push(("moto (AWS)".to_owned(), aws(&endpoint))),
        None => eprintln!("KEYSTACK_TEST_AWS_ENDPOINT is not set: no moto rows"),
    }
    match var("KEYSTACK_TEST_GCP_ENDPOINT") {
        Some(endpoint) => managers.push(("drongo (GCP)".to_owned(), gcp(&endpoint))),
        None => eprintln!("KEYSTACK_TEST_GCP_ENDPOINT is not set: no drongo rows"),
    }
    match var("KEYSTACK_TEST_AZURE_VAULT_URL").zip(var("KEYSTACK_TEST_AZURE_CA")) {
        Some((url, ca)) => {
            managers.push(("Key Vault test server (Azure)".to_owned(), azure(&url, &ca)))
        }
        None => eprintln!("KEYSTACK_TEST_AZURE_VAULT_URL is not set: no Key Vault rows"),
    }
    match var("KEYSTACK_TEST_VAULT_ADDR").zip(var("KEYSTACK_TEST_VAULT_TOKEN")) {
        Some((addr, token)) => managers.push(("OpenBao (Vault)".to_owned(), vault(&addr, &token))),
        None => eprintln!("KEYSTACK_TEST_VAULT_ADDR is not set: no OpenBao rows"),
    }

    println!(
        "| validation, 200 refs / 50 secrets | level | concurrency | wall time (median of {runs}) | backend calls |"
    );
    println!("|---|---|---|---|---|");
    for (what, manager) in &managers {
        runtime.block_on(seed(manager.as_ref()));
        for level in LEVELS {
            let (time, calls) = runtime.block_on(measure(
                &stack,
                &catalog,
                manager,
                level,
                DEFAULT_CONCURRENCY,
                runs,
            ));
            row(what, level, DEFAULT_CONCURRENCY, time, calls);
        }
        for concurrency in [1, 4, 8, 16, 32, 64] {
            if concurrency == DEFAULT_CONCURRENCY {
                continue;
            }
            let level = ValidationLevel::SecretAndKeyExists;
            let (time, calls) =
                runtime.block_on(measure(&stack, &catalog, manager, level, concurrency, runs));
            row(what, level, concurrency, time, calls);
        }
    }
}

fn row(what: &str, level: ValidationLevel, concurrency: usize, time: Duration, calls: Calls) {
    println!(
        "| {what} | {level} | {concurrency} | {:.1} ms | {} |",
        time.as_secs_f64() * 1000.0,
        calls
    );
}

fn aws(endpoint: &str) -> Arc<dyn SecretsManager> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    Arc::new(
        keystack_secrets_aws::AwsBuilder::new()
            .with_region("us-east-1")
            .with_endpoint_url(endpoint)
            .with_namespace(format!("bench{}x{nanos:x}", std::process::id()))
            .with_credentials(keystack_secrets_aws::Credentials::new(
                "testing",
                "testing",
                None,
                None,
                "keystack-bench",
            ))
            .build()
            .unwrap(),
    )
}

fn unique() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("bench{}x{nanos:x}", std::process::id())
}

fn gcp(endpoint: &str) -> Arc<dyn SecretsManager> {
    Arc::new(
        keystack_secrets_gcp::GcpBuilder::new()
            .with_project_id(format!("p{}", unique()))
            .with_endpoint(endpoint)
            .build()
            .unwrap(),
    )
}

fn azure(url: &str, ca: &str) -> Arc<dyn SecretsManager> {
    Arc::new(
        keystack_secrets_azure::AzureBuilder::new()
            .with_vault_url(url)
            .with_ca_file(ca)
            .with_verify_challenge_resource(false)
            .with_namespace(unique())
            .build()
            .unwrap(),
    )
}

fn vault(addr: &str, token: &str) -> Arc<dyn SecretsManager> {
    Arc::new(
        keystack_secrets_vault::VaultBuilder::new()
            .with_url(addr)
            .with_token(token)
            .with_namespace(unique())
            .build()
            .unwrap(),
    )
}

/// The 50 secrets, 4 keys each.
async fn seed(manager: &dyn SecretsManager) {
    for i in 0..50 {
        let secret = Secret::arbitrary(
            SecretName::new(format!("s{i}")).unwrap(),
            (0..4).map(|k| (format!("k{k}"), format!("value-{i}-{k}"))),
        )
        .unwrap();
        manager.register_secret(&secret).await.unwrap();
    }
}

/// Median wall time and the calls of one validation.
async fn measure(
    stack: &LoadedStack,
    catalog: &Catalog,
    manager: &Arc<dyn SecretsManager>,
    level: ValidationLevel,
    concurrency: usize,
    runs: usize,
) -> (Duration, Calls) {
    let counting = CountingManager::new(manager.clone());
    let mut times = Vec::with_capacity(runs);
    let mut calls = Calls::default();
    for _ in 0..runs {
        let before = counting.calls();
        let started = Instant::now();
        validate(stack, catalog, Some(&counting), level, concurrency)
            .await
            .unwrap();
        times.push(started.elapsed());
        calls = counting.calls() - before;
    }
    times.sort();
    (times[runs / 2], calls)
}

/// A tracker of a user flavor with 200 attributes referring to 4 keys of 50
/// secrets, and a secrets manager (built in-process here, not from it).
fn bench_stack() -> (LoadedStack, Catalog) {
    let mut catalog = Catalog::builtin();
    let mut flavor =
        String::from("flavors:\n  - type: experiment_tracker\n    name: bench\n    attributes:\n");
    let mut attributes = BTreeMap::new();
    for i in 0..200 {
        flavor.push_str(&format!("      - {{name: a{i}, sensitive: true}}\n"));
        attributes.insert(
            format!("a{i}"),
            AttributeValue::Text(format!("{{{{s{}.k{}}}}}", i % 50, i % 4)),
        );
    }
    catalog
        .add_yaml(&flavor, std::path::Path::new("bench.yaml"))
        .unwrap();
    let stack = LoadedStack {
        stack: Stack {
            name: "bench".into(),
            components: [
                (ComponentType::ExperimentTracker, "t".to_owned()),
                (ComponentType::SecretsManager, "sm".to_owned()),
            ]
            .into(),
        },
        components: vec![
            Component {
                component_type: ComponentType::ExperimentTracker,
                name: "t".into(),
                flavor: "bench".into(),
                attributes,
            },
            Component {
                component_type: ComponentType::SecretsManager,
                name: "sm".into(),
                flavor: "aws".into(),
                attributes: [(
                    "region_name".to_owned(),
                    AttributeValue::Text("us-east-1".into()),
                )]
                .into(),
            },
        ],
    };
    (stack, catalog)
}
