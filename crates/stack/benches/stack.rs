//! Stack-level throughput: reference parsing of a 1 MiB component file,
//! loading that file, and resolving a 200-reference stack. Run with
//! `cargo xtask bench` (which puts the figures in its report).

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use keystack_secrets_core::memory::InMemorySecretsManager;
use keystack_secrets_core::{Secret, SecretName, SecretsManager, Template};
use keystack_stack::resolve;
use keystack_stack::{AttributeValue, ComponentType, LoadedStack, yaml};
use keystack_stack::{Component, Stack};

/// A component file just under Keystack's 1 MiB limit: attributes whose
/// values mix plain text, whole-value references, embedded references and
/// escapes, as real stacks do.
fn big_component() -> String {
    let mut text = String::from("type: experiment_tracker\nname: big\nflavor: big\nattributes:\n");
    let mut i = 0;
    while text.len() < yaml::MAX_FILE_BYTES - 200 {
        let value = match i % 4 {
            0 => format!("{{{{secret_{}.password}}}}", i % 500),
            1 => format!(
                "postgres://{{{{db_{}.user}}}}:{{{{db_{}.password}}}}@db-{i}.internal:5432/app",
                i % 50,
                i % 50
            ),
            2 => format!("https://tracking-{i}.example.com/api/2.0/mlflow?flag=on"),
            _ => format!("literal \\{{{{not_a_ref_{i}}}}} and {{{{s_{}.k}}}}", i % 7),
        };
        text.push_str(&format!(
            "  attr_{i}: \"{}\"\n",
            value.replace('\\', "\\\\")
        ));
        i += 1;
    }
    text
}

fn parse_references(c: &mut Criterion) {
    let text = big_component();
    let component: Component = yaml::parse(&text, Path::new("big.yaml")).unwrap();
    let values: Vec<String> = component
        .attributes
        .values()
        .map(|v| match v {
            AttributeValue::Text(t) => t.clone(),
            other => other.as_text(),
        })
        .collect();
    let bytes: usize = values.iter().map(String::len).sum();
    let references: usize = values
        .iter()
        .map(|v| Template::parse(v).unwrap().references().count())
        .sum();
    assert!(references > 10_000, "{references}");

    let mut group = c.benchmark_group("references");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function("parse_1mib", |b| {
        b.iter(|| {
            for value in &values {
                black_box(Template::parse(black_box(value)).unwrap());
            }
        });
    });
    group.finish();

    let mut group = c.benchmark_group("yaml");
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.bench_function("load_1mib_with_references", |b| {
        b.iter(|| {
            let component: Component =
                yaml::parse(black_box(&text), Path::new("big.yaml")).unwrap();
            black_box(component.references().unwrap());
        });
    });
    group.finish();
}

/// 200 references (embedded in text) to 4 keys of 50 secrets, resolved
/// against the in-memory manager: the cost of resolution itself.
fn resolution(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let manager: Arc<dyn SecretsManager> = Arc::new(InMemorySecretsManager::new());
    runtime.block_on(async {
        for i in 0..50 {
            let secret = Secret::arbitrary(
                SecretName::new(format!("s{i}")).unwrap(),
                (0..4).map(|k| (format!("k{k}"), format!("value-{i}-{k}"))),
            )
            .unwrap();
            manager.register_secret(&secret).await.unwrap();
        }
    });
    let attributes: BTreeMap<String, AttributeValue> = (0..200)
        .map(|i| {
            (
                format!("a{i}"),
                AttributeValue::Text(format!("x-{{{{s{}.k{}}}}}-y", i % 50, i % 4)),
            )
        })
        .collect();
    let stack = LoadedStack {
        stack: Stack {
            name: "bench".into(),
            components: [(ComponentType::ExperimentTracker, "t".to_owned())].into(),
        },
        components: vec![Component {
            component_type: ComponentType::ExperimentTracker,
            name: "t".into(),
            flavor: "many".into(),
            attributes,
        }],
    };
    let mut group = c.benchmark_group("resolve");
    group.bench_function("200_refs_50_secrets", |b| {
        b.iter(|| {
            runtime.block_on(async {
                black_box(resolve(&stack, Some(manager.as_ref()), 32).await.unwrap());
            });
        });
    });
    group.finish();
}

criterion_group!(benches, parse_references, resolution);
criterion_main!(benches);
