//! Which secrets a stack refers to, and fetching each of them once,
//! concurrently and bounded.

use std::collections::{BTreeMap, BTreeSet};

use futures::StreamExt;
use keystack_secrets_core::{Secret, SecretName, SecretsManager};

use crate::StackError;
use crate::component::FoundReference;
use crate::project::LoadedStack;

/// Every reference in the stack's components.
pub fn stack_references(stack: &LoadedStack) -> Result<Vec<FoundReference>, StackError> {
    let mut found = Vec::new();
    for component in &stack.components {
        found.extend(component.references()?);
    }
    Ok(found)
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

pub(crate) async fn fetch_named(
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
