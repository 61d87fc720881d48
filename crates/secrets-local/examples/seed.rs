//! Fills a local store with secrets, for benchmarks:
//! `seed STORE_DIR COUNT KEYS_PER_SECRET`. Secret `bench-NNNNN` gets keys
//! `k0`… with values `value-NNNNN-K`.

#![allow(clippy::print_stderr)]

use keystack_secrets_core::{Secret, SecretName, SecretsManager};
use keystack_secrets_local::LocalBuilder;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir, count, keys] = args.as_slice() else {
        return Err("usage: seed STORE_DIR COUNT KEYS_PER_SECRET".into());
    };
    let (count, keys): (usize, usize) = (count.parse()?, keys.parse()?);
    let manager = LocalBuilder::from_env().with_path(dir).build()?;
    let runtime = tokio::runtime::Builder::new_current_thread().build()?;
    runtime.block_on(async {
        for i in 0..count {
            let pairs: Vec<(String, String)> = (0..keys)
                .map(|k| (format!("k{k}"), format!("value-{i:05}-{k}")))
                .collect();
            let secret = Secret::arbitrary(SecretName::new(format!("bench-{i:05}"))?, pairs)?;
            manager.register_secret(&secret).await?;
        }
        Ok::<_, Box<dyn std::error::Error>>(())
    })?;
    eprintln!("seeded {count} secrets into {dir}");
    Ok(())
}
