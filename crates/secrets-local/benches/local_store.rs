//! Local store throughput: 1,000 registers into a fresh store, 1,000 gets
//! from a store of 1,000 secrets. Run with `cargo xtask bench`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use keystack_secrets_core::{Secret, SecretName, SecretsManager};
use keystack_secrets_local::{LocalBuilder, LocalSecretsManager};

const N: usize = 1000;

fn names() -> Vec<SecretName> {
    (0..N)
        .map(|i| SecretName::new(format!("secret-{i:04}")).unwrap())
        .collect()
}

fn secrets() -> Vec<Secret> {
    names()
        .into_iter()
        .map(|name| {
            Secret::arbitrary(
                name,
                [
                    ("username", "admin"),
                    ("password", "a-password-of-32-characters-long"),
                ],
            )
            .unwrap()
        })
        .collect()
}

fn fresh_store() -> (tempfile::TempDir, LocalSecretsManager) {
    let dir = tempfile::tempdir().unwrap();
    let manager = LocalBuilder::new()
        .with_path(dir.path().join("store"))
        .build()
        .unwrap();
    (dir, manager)
}

fn local_store(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let secrets = secrets();
    let mut group = c.benchmark_group("local");

    group.bench_function("register_1000", |b| {
        b.iter_batched(
            fresh_store,
            |(dir, manager)| {
                runtime.block_on(async {
                    for secret in &secrets {
                        manager.register_secret(secret).await.unwrap();
                    }
                });
                (dir, manager)
            },
            BatchSize::PerIteration,
        );
    });

    let (_dir, manager) = fresh_store();
    runtime.block_on(async {
        for secret in &secrets {
            manager.register_secret(secret).await.unwrap();
        }
    });
    let names = names();
    group.bench_function("get_1000", |b| {
        b.iter(|| {
            runtime.block_on(async {
                for name in &names {
                    black_box(manager.get_secret(name).await.unwrap());
                }
            });
        });
    });
    group.finish();
}

criterion_group! {
    name = benches;
    // Each sample is 1,000 durable transactions: few samples, long enough to
    // take them. Set here (not on the group) so that command-line options
    // such as `cargo xtask bench --quick`'s still override them.
    config = Criterion::default().sample_size(10).measurement_time(Duration::from_secs(20));
    targets = local_store
}
criterion_main!(benches);
