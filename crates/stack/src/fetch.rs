//! Which secrets a stack refers to, and fetching each of them once,
//! concurrently and bounded.

use std::collections::{BTreeMap, BTreeSet};

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

/// Fetches `names` in one batch read ([`SecretsManager::get_secrets`]).
/// Missing secrets are left out of the map; the first other error ends
/// the fetch.
pub async fn fetch_named(
    names: BTreeSet<&SecretName>,
    manager: &dyn SecretsManager,
    concurrency: usize,
) -> Result<BTreeMap<SecretName, Secret>, StackError> {
    if names.is_empty() {
        return Ok(BTreeMap::new());
    }
    let names: Vec<SecretName> = names.into_iter().cloned().collect();
    let results = manager.get_secrets(&names, concurrency).await?;
    let mut secrets = BTreeMap::new();
    for (name, result) in names.into_iter().zip(results) {
        match result {
            // Keyed by the name asked for: a case-insensitive backend may
            // answer with another spelling.
            Ok(secret) => {
                secrets.insert(name, secret);
            }
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(secrets)
}
