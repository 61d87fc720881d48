//! Planning `stack register-secrets`: which secrets and keys a stack refers
//! to that its secrets manager lacks.

use std::collections::{BTreeMap, BTreeSet};

use keystack_secrets_core::{SecretKey, SecretName, SecretsManager};

use crate::StackError;
use crate::fetch::{fetch_named, stack_references};
use crate::project::LoadedStack;

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
