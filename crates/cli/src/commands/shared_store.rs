//! `keystack secrets-manager adopt-shared-store`: moves secrets out of the
//! store every project shared by default before each local secrets manager
//! had its own (`<data dir>/local`), into the active stack's manager.

use std::fs;

use keystack_secrets_core::{Error, SecretName, SecretsManager};
use keystack_secrets_local::{KEY_FILE, LocalBuilder, STORE_FILE};
use keystack_stack::{ComponentType, Project};

use crate::context::{selected_stack, stack_manager, status};
use crate::error::CliError;

pub(super) async fn adopt(
    project: &Project,
    names: &[String],
    keep: bool,
    dry_run: bool,
) -> Result<u8, CliError> {
    let Some(folder) = keystack_secrets_local::shared_store(project.data_dir()) else {
        status(&format!(
            "There is no shared store at {}: nothing to move.",
            project
                .data_dir()
                .join(keystack_secrets_local::SHARED_STORE_DIR)
                .display()
        ));
        return Ok(0);
    };
    let stack = selected_stack(project)?;
    let target = stack_manager(project, &stack)?;
    let component = stack
        .component(ComponentType::SecretsManager)
        .map_or_else(String::new, |c| c.name.clone());
    let target_location = target.info().location;
    if target_location == folder.display().to_string() {
        return Err(CliError::usage(format!(
            "secrets manager '{component}' uses the shared store {} itself (its `path` points there); \
             nothing to move",
            folder.display()
        )));
    }
    let env = |name: &str| std::env::var(name).ok();
    let shared = LocalBuilder::from_lookup(env)
        .with_path(folder.clone())
        .build()?;
    let wanted: Vec<SecretName> = if names.is_empty() {
        shared.list_secret_names().await?
    } else {
        names
            .iter()
            .map(|n| SecretName::new(n).map_err(|e| CliError::usage(e.to_string())))
            .collect::<Result<_, _>>()?
    };
    let existing = target.list_secret_names().await?;
    let (mut moved, mut skipped) = (Vec::new(), Vec::new());
    for name in wanted {
        if existing.contains(&name) {
            skipped.push(name.to_string());
            continue;
        }
        let secret = shared.get_secret(&name).await?;
        if !dry_run {
            match target.register_secret(&secret).await {
                Ok(()) => {}
                Err(Error::AlreadyExists { .. }) => {
                    skipped.push(name.to_string());
                    continue;
                }
                Err(e) => return Err(e.into()),
            }
            if !keep {
                shared.delete_secret(&name).await?;
            }
        }
        moved.push(name.to_string());
    }
    let verb = match (dry_run, keep) {
        (true, true) => "Would copy",
        (true, false) => "Would move",
        (false, true) => "Copied",
        (false, false) => "Moved",
    };
    status(&format!(
        "{verb} {} secret(s) from the shared store {} to secrets manager '{component}' ({target_location}){}",
        moved.len(),
        folder.display(),
        if moved.is_empty() {
            ".".to_owned()
        } else {
            format!(": {}.", moved.join(", "))
        }
    ));
    if !skipped.is_empty() {
        status(&format!(
            "Left in the shared store, because secrets manager '{component}' already has a secret of that name: {}.",
            skipped.join(", ")
        ));
    }
    if !dry_run && !keep && shared.list_secret_names().await?.is_empty() {
        drop(shared);
        remove_empty_store(&folder)?;
        status(&format!(
            "The shared store is empty now and was removed ({}).",
            folder.display()
        ));
    }
    Ok(0)
}

/// Removes an emptied shared store: its database, journal, key file (if it
/// is the default one) and folder, if nothing else is in it.
fn remove_empty_store(folder: &std::path::Path) -> Result<(), CliError> {
    for file in [STORE_FILE, "secrets.db-journal", KEY_FILE] {
        match fs::remove_file(folder.join(file)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(CliError::failure(format!(
                    "cannot remove {}: {e}",
                    folder.join(file).display()
                )));
            }
        }
    }
    // Left in place if the user keeps other files there.
    let _ = fs::remove_dir(folder);
    Ok(())
}
