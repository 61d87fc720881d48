//! The Vault backend against a real OpenBao dev server (started by
//! `cargo xtask test`) or, where noted, against nothing at all.

mod conformance;
mod vault;

use std::sync::Once;
use std::sync::atomic::{AtomicUsize, Ordering};

use keystack_secrets_vault::{VaultBuilder, VaultSecretsManager};

/// The server and its root token; `None` skips the server tests.
pub(crate) fn server() -> Option<(String, String)> {
    static SKIP: Once = Once::new();
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let server = var("KEYSTACK_TEST_VAULT_ADDR").zip(var("KEYSTACK_TEST_VAULT_TOKEN"));
    if server.is_none() {
        SKIP.call_once(|| {
            // Written to the stderr handle, not with eprintln!, so that the
            // test harness's output capture does not hide it.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "skipping the OpenBao suite: KEYSTACK_TEST_VAULT_ADDR is not set (`cargo xtask test` starts `bao server -dev` and sets it)"
            );
        });
    }
    server
}

/// A namespace no other test or run uses.
pub(crate) fn fresh_namespace() -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "t{}x{nanos:x}x{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

fn builder(addr: &str, token: &str, namespace: &str) -> VaultBuilder {
    VaultBuilder::new()
        .with_url(addr)
        .with_token(token)
        .with_namespace(namespace)
}

pub(crate) fn manager(addr: &str, token: &str, namespace: &str) -> VaultSecretsManager {
    builder(addr, token, namespace).build().unwrap()
}
