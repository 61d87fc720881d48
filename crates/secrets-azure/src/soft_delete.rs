//! Key Vault's soft delete: a deleted secret keeps its name until it is
//! purged or recovered, and a name being deleted, purged or recovered is
//! busy for a while. How Keystack waits, recovers and purges.

use keystack_secrets_core::remote::retry::backoff;
use keystack_secrets_core::{Error, Result};

use crate::error::{AzureError, Failure};
use crate::{AzureSecretsManager, CONFLICT_WAIT, DeletedSecretAction, FLAVOR};

impl AzureSecretsManager {
    /// Pauses before another attempt on a name in conflict, or gives up.
    pub(super) async fn wait_out_conflict(
        &self,
        id: &str,
        started: tokio::time::Instant,
        round: u32,
    ) -> Result<()> {
        if started.elapsed() >= CONFLICT_WAIT {
            return Err(Error::Unavailable {
                backend: FLAVOR,
                message: format!(
                    "{id} in {} is still being deleted, purged or recovered after {} s; try again later",
                    self.vault,
                    CONFLICT_WAIT.as_secs()
                ),
                source: None,
            });
        }
        tokio::time::sleep(backoff(round)).await;
        Ok(())
    }

    /// Recovers or purges the deleted secret `id` (configured by
    /// `on_deleted_secret`), if it is Keystack's.
    pub(super) async fn clear_deleted(&self, id: &str) -> Result<()> {
        let client = self.client().await?;
        let deleted = self
            .call("read the deleted secret", id, || async {
                client.get_deleted_secret(id, None).await?.into_model()
            })
            .await?;
        match deleted {
            Ok(deleted) if self.is_ours(None, deleted.tags.as_ref()) => {}
            // Gone in the meantime (purged by someone else): write again.
            Err(Failure::NotFound) => return Ok(()),
            Ok(_) => {
                return Err(AzureError::DeletedForeign {
                    id: id.to_owned(),
                    vault: self.vault.clone(),
                }
                .into());
            }
            Err(other) => return Err(other.into_error(format!("read the deleted secret {id}"))),
        }
        let outcome = match self.config.on_deleted_secret() {
            DeletedSecretAction::Recover => {
                self.call("recover", id, || async {
                    client.recover_deleted_secret(id, None).await.map(|_| ())
                })
                .await
            }
            DeletedSecretAction::Purge => {
                self.call("purge", id, || async {
                    client.purge_deleted_secret(id, None).await.map(|_| ())
                })
                .await
            }
        };
        match outcome {
            // Done, done by another writer, or still in progress: the next
            // write finds out and waits if need be.
            Ok(Ok(()) | Err(Failure::NotFound | Failure::Conflict)) => Ok(()),
            Err(Error::PermissionDenied { message, .. })
                if self.config.on_deleted_secret() == DeletedSecretAction::Purge =>
            {
                Err(Error::PermissionDenied {
                    backend: FLAVOR,
                    message: format!(
                        "{message}. {id} is a deleted Keystack secret that cannot be purged here \
                         (purge protection, or no purge permission); set on_deleted_secret: \
                         recover to reuse its name"
                    ),
                    source: None,
                })
            }
            Err(e) => Err(e),
            Ok(Err(other)) => Err(other.into_error(format!("clear the deleted secret {id}"))),
        }
    }

    /// Purges the just-deleted `id`, waiting while Key Vault finishes the
    /// deletion. A vault that forbids purging (purge protection, or no
    /// purge permission) leaves it soft-deleted.
    pub(super) async fn purge(&self, id: &str) -> Result<()> {
        let client = self.client().await?;
        let started = tokio::time::Instant::now();
        let mut round = 0;
        loop {
            round += 1;
            let purged = self
                .call("purge", id, || async {
                    client.purge_deleted_secret(id, None).await.map(|_| ())
                })
                .await;
            match purged {
                Ok(Ok(())) => return Ok(()),
                Err(Error::PermissionDenied { .. }) => return Ok(()),
                // Not yet listed as deleted, or still being deleted.
                Ok(Err(Failure::NotFound | Failure::Conflict)) => {
                    self.wait_out_conflict(id, started, round).await?
                }
                Ok(Err(other)) => return Err(other.into_error(format!("purge {id}"))),
                Err(e) => return Err(e),
            }
        }
    }
}
