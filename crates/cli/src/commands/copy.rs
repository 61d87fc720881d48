//! `secret copy` and `secret migrate`: secrets from the active stack's
//! secrets manager into another secrets-manager component, of any backend.
//!
//! Each secret is written whole (one register). A name the destination
//! already has with the same schema and key-values counts as copied, so
//! running the command again after an interruption finishes the job without
//! duplicating anything; one it has with other contents is left as it is and
//! reported. `migrate` then reads every copy back from the destination and
//! compares schema and every key; only a copy that verified is deleted from
//! the source, and only with `--delete-source`.

use std::collections::BTreeSet;
use std::sync::Arc;

use keystack_secrets_core::{Secret, SecretName, SecretsManager};
use keystack_stack::{ComponentType, LoadedStack, Project};

use crate::args::CopyArgs;
use crate::context::{component_manager, status};
use crate::error::CliError;
use crate::progress::Progress;

/// What became of one secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Copied,
    AlreadyThere,
    Differs,
    Verified,
    NotVerified,
    Deleted,
}

impl Outcome {
    fn says(self) -> &'static str {
        match self {
            Outcome::Copied => "copied",
            Outcome::AlreadyThere => "already there, identical",
            Outcome::Differs => "left as it is: the destination holds another secret of that name",
            Outcome::Verified => "copied and verified",
            Outcome::NotVerified => "NOT verified: the copy read back differs; the source is kept",
            Outcome::Deleted => "copied, verified, deleted from the source",
        }
    }

    fn failed(self) -> bool {
        matches!(self, Outcome::Differs | Outcome::NotVerified)
    }
}

/// What a destination that already has `secret`'s name holds: the same
/// secret (schema and every key-value; `Secret`'s own equality), or another.
async fn compare(destination: &dyn SecretsManager, secret: &Secret) -> Result<Outcome, CliError> {
    let theirs = destination.get_secret(secret.name()).await?;
    Ok(if theirs == *secret {
        Outcome::AlreadyThere
    } else {
        Outcome::Differs
    })
}

/// Runs `copy` (`verify`: false) or `migrate`.
pub(super) async fn copy(
    project: &Project,
    stack: &LoadedStack,
    source: Arc<dyn SecretsManager>,
    args: CopyArgs,
    verify: bool,
    delete_source: bool,
) -> Result<(), CliError> {
    let from = stack
        .component(ComponentType::SecretsManager)
        .map_or_else(String::new, |c| c.name.clone());
    let target = project.component(ComponentType::SecretsManager, &args.to)?;
    if target.name == from {
        return Err(CliError::usage(format!(
            "--to {} is the secrets manager the secrets come from; name another one",
            args.to
        )));
    }
    let destination = component_manager(project, &target)?;
    let names: Vec<SecretName> = if args.all {
        source.list_secret_names().await?
    } else {
        args.names
            .iter()
            .map(|n| super::secrets::secret_name(n))
            .collect::<Result<_, _>>()?
    };
    let concurrency = keystack_stack::concurrency::concurrency_from_env()?;
    let read = source.get_secrets(&names, concurrency).await?;
    let mut secrets = Vec::new();
    let mut missing = Vec::new();
    for (name, result) in names.iter().zip(read) {
        match result {
            Ok(secret) => secrets.push(secret),
            Err(e) if e.is_not_found() => missing.push(format!("'{name}'")),
            Err(e) => return Err(e.into()),
        }
    }
    if !missing.is_empty() {
        return Err(CliError::not_found(format!(
            "secrets manager '{from}' has no secret {}; nothing was copied",
            missing.join(", ")
        )));
    }
    let there: BTreeSet<SecretName> = destination.list_secret_names().await?.into_iter().collect();
    if args.dry_run {
        let (existing, new): (Vec<&Secret>, Vec<&Secret>) =
            secrets.iter().partition(|s| there.contains(s.name()));
        let list = |s: &[&Secret]| {
            s.iter()
                .map(|s| s.name().as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        status(&format!(
            "Would copy {} secret(s) from '{from}' to '{}'{}{}{}; nothing was changed.",
            new.len(),
            target.name,
            if new.is_empty() {
                String::new()
            } else {
                format!(": {}", list(&new))
            },
            if existing.is_empty() {
                String::new()
            } else {
                format!(
                    "; {} already there (compared when copying): {}",
                    existing.len(),
                    list(&existing)
                )
            },
            if delete_source {
                "; verified copies would be deleted from the source"
            } else {
                ""
            }
        ));
        return Ok(());
    }

    let progress = Progress::start(
        format!(
            "copying {} secret(s) to secrets manager '{}'",
            secrets.len(),
            target.name
        ),
        Some(secrets.len()),
    );
    let outcomes = transfer(
        source.as_ref(),
        destination.as_ref(),
        &secrets,
        &there,
        Plan {
            verify,
            delete_source,
            concurrency,
            destination: &target.name,
        },
    )
    .await;
    drop(progress);
    let outcomes = outcomes?;
    let failed: Vec<String> = outcomes
        .iter()
        .filter(|(_, o)| o.failed())
        .map(|(s, _)| format!("'{}'", s.name()))
        .collect();
    if !failed.is_empty() {
        return Err(CliError::failure(format!(
            "{} of {} secret(s) were not copied to '{}': {}\n{}",
            failed.len(),
            outcomes.len(),
            target.name,
            failed.join(", "),
            report(&outcomes)
        )));
    }
    status(&report(&outcomes));
    status(&format!(
        "{} {} secret(s) from '{from}' to '{}'.",
        match (verify, delete_source) {
            (false, _) => "Copied",
            (true, false) => "Copied and verified",
            (true, true) => "Migrated",
        },
        outcomes.len(),
        target.name
    ));
    Ok(())
}

/// How [`transfer`] goes about it.
struct Plan<'a> {
    verify: bool,
    delete_source: bool,
    concurrency: usize,
    /// The destination's component name, for messages.
    destination: &'a str,
}

/// Writes each of `secrets` to `destination` (whose names are `there`),
/// then, with `plan.verify`, reads every copy back and compares it, and,
/// with `plan.delete_source`, deletes from `source` what verified.
async fn transfer<'s>(
    source: &dyn SecretsManager,
    destination: &dyn SecretsManager,
    secrets: &'s [Secret],
    there: &BTreeSet<SecretName>,
    plan: Plan<'_>,
) -> Result<Vec<(&'s Secret, Outcome)>, CliError> {
    let mut outcomes = Vec::new();
    for secret in secrets {
        let outcome = if there.contains(secret.name()) {
            compare(destination, secret).await?
        } else {
            match destination.register_secret(secret).await {
                Ok(()) => Outcome::Copied,
                // Written by someone else meanwhile.
                Err(keystack_secrets_core::Error::AlreadyExists { .. }) => {
                    compare(destination, secret).await?
                }
                Err(e) => {
                    return Err(CliError::from(e).context(&format!(
                        "copying '{}' to '{}' failed; run the command again to finish. Done before it:\n{}",
                        secret.name(),
                        plan.destination,
                        report(&outcomes)
                    )));
                }
            }
        };
        keystack_secrets_core::progress::advance(1);
        outcomes.push((secret, outcome));
    }
    if plan.verify {
        let copied: Vec<SecretName> = outcomes
            .iter()
            .filter(|(_, o)| !o.failed())
            .map(|(s, _)| s.name().clone())
            .collect();
        let back = destination.get_secrets(&copied, plan.concurrency).await?;
        let mut back = copied.iter().zip(back);
        for (secret, outcome) in outcomes.iter_mut() {
            if outcome.failed() {
                continue;
            }
            let (_, read) = back.next().expect("one read per copied secret");
            *outcome = match read {
                Ok(copy) if copy == **secret => Outcome::Verified,
                _ => Outcome::NotVerified,
            };
        }
        if plan.delete_source {
            for (secret, outcome) in outcomes.iter_mut() {
                if *outcome == Outcome::Verified {
                    source.delete_secret(secret.name()).await?;
                    *outcome = Outcome::Deleted;
                }
            }
        }
    }
    Ok(outcomes)
}

/// One line per secret: what became of it.
fn report(outcomes: &[(&Secret, Outcome)]) -> String {
    outcomes
        .iter()
        .map(|(secret, outcome)| format!("  {}: {}", secret.name(), outcome.says()))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use async_trait::async_trait;
    use keystack_secrets_core::memory::InMemorySecretsManager;
    use keystack_secrets_core::{ManagerInfo, Result, SecretPatch, SecretValue};

    use super::*;

    /// A destination that loses every value on the way in.
    #[derive(Debug)]
    struct Lossy(InMemorySecretsManager);

    #[async_trait]
    impl SecretsManager for Lossy {
        fn info(&self) -> ManagerInfo {
            self.0.info()
        }
        async fn register_secret(&self, secret: &Secret) -> Result<()> {
            let (name, schema, mut values) = secret.clone().into_parts();
            for value in values.values_mut() {
                *value = SecretValue::new("garbled");
            }
            self.0
                .register_secret(&Secret::new(name, schema, values).unwrap())
                .await
        }
        async fn get_secret(&self, name: &SecretName) -> Result<Secret> {
            self.0.get_secret(name).await
        }
        async fn list_secret_names(&self) -> Result<Vec<SecretName>> {
            self.0.list_secret_names().await
        }
        async fn update_secret(&self, name: &SecretName, patch: &SecretPatch) -> Result<Secret> {
            self.0.update_secret(name, patch).await
        }
        async fn delete_secret(&self, name: &SecretName) -> Result<()> {
            self.0.delete_secret(name).await
        }
        async fn delete_all_secrets(&self) -> Result<usize> {
            self.0.delete_all_secrets().await
        }
    }

    #[tokio::test]
    async fn a_copy_that_does_not_read_back_the_same_is_never_deleted_from_the_source() {
        let source = Arc::new(InMemorySecretsManager::new());
        let secret = Secret::arbitrary(SecretName::new("db").unwrap(), [("pw", "real")]).unwrap();
        source.register_secret(&secret).await.unwrap();
        let plan = |delete_source| Plan {
            verify: true,
            delete_source,
            concurrency: 4,
            destination: "dst",
        };
        let lossy = Lossy(InMemorySecretsManager::new());
        let secrets = [secret.clone()];
        let outcomes = transfer(
            source.as_ref(),
            &lossy,
            &secrets,
            &BTreeSet::new(),
            plan(true),
        )
        .await
        .unwrap();
        assert_eq!(outcomes[0].1, Outcome::NotVerified);
        assert_eq!(
            source
                .get_secret(secret.name())
                .await
                .unwrap()
                .get("pw")
                .unwrap()
                .expose(),
            "real",
            "the source is kept"
        );
        // A faithful destination: verified, then deleted from the source.
        let faithful = InMemorySecretsManager::new();
        let outcomes = transfer(
            source.as_ref(),
            &faithful,
            &secrets,
            &BTreeSet::new(),
            plan(true),
        )
        .await
        .unwrap();
        assert_eq!(outcomes[0].1, Outcome::Deleted);
        assert!(source.get_secret(secret.name()).await.is_err());
    }
}
