//! `keystack secrets-manager secret …`: the secrets in the stack's manager.

use std::collections::BTreeMap;

use keystack_secrets_core::{
    Secret, SecretKey, SecretName, SecretPatch, SecretSchema, SecretValue,
};
use keystack_stack::ComponentType;
use zeroize::Zeroizing;

use crate::args::{SecretCommand, SecretFormat};
use crate::context::{project, selected_stack, stack_manager, status};
use crate::error::CliError;
use crate::pairs::{expand_value, parse_pairs, take_flag, take_option};
use crate::{output, prompt};

pub(super) fn secret_name(name: &str) -> Result<SecretName, CliError> {
    SecretName::new(name).map_err(|e| CliError::usage(e.to_string()))
}

pub(super) fn secret_key(key: &str) -> Result<SecretKey, CliError> {
    SecretKey::new(key).map_err(|e| CliError::usage(e.to_string()))
}

/// The variable that silences [`warn_about_command_line_values`] (for
/// scripts that knowingly pass values, e.g. from CI variables).
pub(crate) const NO_ARGV_WARNING_ENV: &str = "KEYSTACK_NO_ARGV_WARNING";

/// Says, naming the keys and never the values, that values given as
/// arguments can be read by other users of the machine while the command
/// runs (`ps`, `/proc/PID/cmdline`) and stay in shell history. Printed after
/// the command succeeded, so that a failure's first line is its error.
fn warn_about_command_line_values(keys: &[String]) {
    if keys.is_empty() || std::env::var_os(NO_ARGV_WARNING_ENV).is_some_and(|v| !v.is_empty()) {
        return;
    }
    status(&format!(
        "warning: the value of {} was given on the command line, where other users of this machine \
         can read it while keystack runs (`ps`) and your shell history keeps it; prefer -i (asks without \
         echo), --KEY=@file or --KEY=@- (reads standard input). Set {NO_ARGV_WARNING_ENV}=1 to silence this.",
        keys.join(", ")
    ));
}

/// What `-i` asks for, as ZenML asked.
#[derive(Clone, Copy)]
enum Ask<'a> {
    /// A new secret of this schema: a typed schema's keys one by one, else
    /// keys and values until an empty key.
    Register(SecretSchema),
    /// An existing secret: a new value for each of its keys (empty keeps
    /// it), then more keys and values until an empty key.
    Update(&'a Secret),
}

/// Reads `--KEY=VALUE` pairs (with the `@` syntax) and, with `ask`, asks
/// for more on the terminal.
/// Also returns the `--KEY` options whose values were written in the
/// arguments, for [`warn_about_command_line_values`] once the command is done.
fn collect_values(
    pairs: &[String],
    ask: Option<Ask<'_>>,
    command: &str,
) -> Result<(BTreeMap<SecretKey, SecretValue>, Vec<String>), CliError> {
    let mut values = BTreeMap::new();
    let mut on_command_line = Vec::new();
    for (key, value) in parse_pairs(pairs)? {
        let parsed = secret_key(&key)?;
        if !value.is_empty() && (!value.starts_with('@') || value.starts_with("@@")) {
            on_command_line.push(format!("--{key}"));
        }
        let value = expand_value(&key, value)?;
        values.insert(parsed, SecretValue::new(value.as_str()));
    }
    if let Some(ask) = ask {
        prompt::require_terminal(
            command,
            "give the values as --KEY=VALUE (or --KEY=@file, --KEY=@-)",
        )?;
        ask_values(&mut values, ask)?;
    }
    Ok((values, on_command_line))
}

/// One value from the terminal, not echoed, `@file` expanded as on the
/// command line; `None` for an empty answer.
fn ask_value(key: &SecretKey, question: &str) -> Result<Option<Zeroizing<String>>, CliError> {
    let typed = prompt::ask_hidden(question)?;
    if typed.is_empty() {
        return Ok(None);
    }
    Ok(Some(expand_value(key.as_str(), typed)?))
}

fn ask_values(values: &mut BTreeMap<SecretKey, SecretValue>, ask: Ask<'_>) -> Result<(), CliError> {
    let given: std::collections::BTreeSet<SecretKey> = values.keys().cloned().collect();
    let mut set = |key: SecretKey, value: Zeroizing<String>| {
        if given.contains(&key) {
            status(&format!(
                "warning: key '{key}' was also given on the command line; the value typed here is used"
            ));
        }
        values.insert(key, SecretValue::new(value.as_str()));
    };
    match ask {
        Ask::Register(schema) if schema.allowed_keys().is_some() => {
            status(&format!(
                "Enter the keys of schema '{schema}'; values are not shown, @file reads a file."
            ));
            for key in schema.allowed_keys().unwrap_or_default() {
                let key = SecretKey::new(*key).expect("schema keys are valid keys");
                if given.contains(&key) {
                    continue;
                }
                let required = schema.required_keys().contains(&key.as_str());
                let question = format!(
                    "Value for '{key}' ({}): ",
                    if required {
                        "required"
                    } else {
                        "optional, empty to skip"
                    }
                );
                loop {
                    match ask_value(&key, &question)? {
                        Some(value) => {
                            set(key, value);
                            break;
                        }
                        None if required => status(&format!("'{key}' is required; type a value")),
                        None => break,
                    }
                }
            }
            return Ok(());
        }
        Ask::Update(secret) => {
            status(
                "Enter new values for the secret's keys (empty keeps a value), then more keys; values are not shown, @file reads a file.",
            );
            for key in secret.keys() {
                if given.contains(key) {
                    continue;
                }
                if let Some(value) =
                    ask_value(key, &format!("New value for '{key}' (empty keeps it): "))?
                {
                    set(key.clone(), value);
                }
            }
        }
        Ask::Register(_) => {
            status(
                "Enter keys and values; an empty key ends. Values are not shown, @file reads a file.",
            );
        }
    }
    loop {
        let key = prompt::ask("Key: ")?;
        if key.is_empty() {
            return Ok(());
        }
        let key = match SecretKey::new(&key) {
            Ok(key) => key,
            Err(e) => {
                status(&format!("{e}; try again"));
                continue;
            }
        };
        loop {
            match ask_value(&key, &format!("Value for '{key}': "))? {
                Some(value) => {
                    set(key, value);
                    break;
                }
                None => status(&format!(
                    "a value cannot be empty here; type one (an empty value is --{key}= on the command line)"
                )),
            }
        }
    }
}

pub(super) fn key_list<'a>(keys: impl Iterator<Item = &'a SecretKey>) -> String {
    keys.map(SecretKey::as_str).collect::<Vec<_>>().join(", ")
}

/// The key-values of a `.env` file (`-`: standard input), read with the
/// limits of `--KEY=@file`.
fn dotenv_values(file: &str) -> Result<BTreeMap<SecretKey, SecretValue>, CliError> {
    let text = expand_value("from-dotenv", Zeroizing::new(format!("@{file}")))?;
    let parsed = keystack_cli::dotenv::parse(&text)
        .map_err(|e| CliError::input(format!("--from-dotenv {file}: {e}")))?;
    let mut values = BTreeMap::new();
    for (key, value) in parsed {
        let key = SecretKey::new(&key).map_err(|e| {
            CliError::input(format!(
                "--from-dotenv {file}: key '{key}' cannot be a secret key: {e}"
            ))
        })?;
        values.insert(key, SecretValue::new(value));
    }
    if values.is_empty() {
        return Err(CliError::input(format!(
            "--from-dotenv {file}: the file sets no KEY=VALUE"
        )));
    }
    Ok(values)
}

/// `secret import`: the secrets of ZenML's local secrets file, checked
/// whole before anything is written; names the manager already has are
/// left as they are and reported; each secret is written whole.
async fn import_zenml(
    manager: &dyn keystack_secrets_core::SecretsManager,
    component: &str,
    file: &std::path::Path,
    names: &[String],
    dry_run: bool,
) -> Result<(), CliError> {
    let shown = file.display();
    let text = keystack_stack::yaml::read_file(file)
        .map_err(|e| CliError::input(crate::error::with_causes(&e)))?;
    let secrets = keystack_cli::zenml::parse_local_secrets(&text).map_err(|problems| {
        CliError::input(format!(
            "{shown} cannot be imported; nothing was written. {} problem(s):\n  - {}",
            problems.len(),
            problems.join("\n  - ")
        ))
    })?;
    let wanted: Vec<SecretName> = names
        .iter()
        .map(|n| secret_name(n))
        .collect::<Result<_, _>>()?;
    let missing: Vec<String> = wanted
        .iter()
        .filter(|n| !secrets.iter().any(|s| s.name() == *n))
        .map(|n| format!("'{n}'"))
        .collect();
    if !missing.is_empty() {
        return Err(CliError::not_found(format!(
            "{shown} has no secret {}; nothing was written",
            missing.join(", ")
        )));
    }
    let chosen: Vec<&Secret> = secrets
        .iter()
        .filter(|s| wanted.is_empty() || wanted.contains(s.name()))
        .collect();
    let existing: std::collections::BTreeSet<SecretName> =
        manager.list_secret_names().await?.into_iter().collect();
    let (mut skipped, to_write): (Vec<&Secret>, Vec<&Secret>) = chosen
        .into_iter()
        .partition(|s| existing.contains(s.name()));
    let list = |secrets: &[&Secret]| {
        secrets
            .iter()
            .map(|s| s.name().as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if dry_run {
        status(&format!(
            "Would import {} secret(s) from {shown} into secrets manager '{component}'{}{}; nothing was changed.",
            to_write.len(),
            if to_write.is_empty() {
                String::new()
            } else {
                format!(": {}", list(&to_write))
            },
            if skipped.is_empty() {
                String::new()
            } else {
                format!(
                    "; would skip {} it already has: {}",
                    skipped.len(),
                    list(&skipped)
                )
            }
        ));
        return Ok(());
    }
    let _progress = crate::progress::Progress::start(
        format!("importing secrets into secrets manager '{component}'"),
        Some(to_write.len()),
    );
    let mut imported = Vec::new();
    for secret in to_write {
        match manager.register_secret(secret).await {
            Ok(()) => imported.push(secret),
            // Registered by someone else meanwhile: theirs is kept.
            Err(keystack_secrets_core::Error::AlreadyExists { .. }) => skipped.push(secret),
            Err(e) => {
                return Err(CliError::from(e).context(&format!(
                    "importing from {shown} stopped; imported before the failure: {}",
                    if imported.is_empty() {
                        "none".to_owned()
                    } else {
                        list(&imported)
                    }
                )));
            }
        }
        keystack_secrets_core::progress::advance(1);
    }
    status(&format!(
        "Imported {} secret(s) from {shown} into secrets manager '{component}'{}{}.",
        imported.len(),
        if imported.is_empty() {
            String::new()
        } else {
            format!(": {}", list(&imported))
        },
        if skipped.is_empty() {
            String::new()
        } else {
            format!(
                "; skipped {} it already has (left as they are): {}",
                skipped.len(),
                list(&skipped)
            )
        }
    ));
    Ok(())
}

/// Refuses keys that are not shell variable names, naming all of them.
fn env_names_only(plain: &BTreeMap<&str, &str>, format: &str) -> Result<(), CliError> {
    let bad: Vec<&str> = plain
        .keys()
        .copied()
        .filter(|k| !keystack_cli::dotenv::is_env_name(k))
        .collect();
    if bad.is_empty() {
        return Ok(());
    }
    Err(CliError::usage(format!(
        "-o {format} writes shell variables, and key(s) {} cannot be variable names \
         (letters, digits and _, not starting with a digit); use -o json or -o yaml, or \
         print one key with --key",
        bad.iter()
            .map(|k| format!("'{k}'"))
            .collect::<Vec<_>>()
            .join(", ")
    )))
}

pub(super) async fn secret_command(command: SecretCommand) -> Result<u8, CliError> {
    let project = project()?;
    let stack = selected_stack(&project)?;
    let manager = stack_manager(&project, &stack)?;
    match command {
        SecretCommand::Register {
            name,
            mut interactive,
            mut schema,
            mut from_dotenv,
            mut pairs,
        } => {
            interactive |= take_flag(&mut pairs, "interactive", Some("-i"));
            if let Some(last) = take_option(&mut pairs, "schema", Some("-s"))?.pop() {
                schema = last;
            }
            if let Some(last) = take_option(&mut pairs, "from-dotenv", None)?.pop() {
                from_dotenv = Some(last);
            }
            let name = secret_name(&name)?;
            let schema: SecretSchema = schema
                .parse()
                .map_err(|e: keystack_secrets_core::SchemaError| CliError::usage(e.to_string()))?;
            let (mut values, visible) = collect_values(
                &pairs,
                interactive.then_some(Ask::Register(schema)),
                "secret register -i",
            )?;
            if let Some(file) = from_dotenv {
                for (key, value) in dotenv_values(&file)? {
                    if values.contains_key(&key) {
                        return Err(CliError::usage(format!(
                            "key '{key}' is given both in {file} and as --{key}; keep one"
                        )));
                    }
                    values.insert(key, value);
                }
            }
            if values.is_empty() {
                return Err(CliError::usage(
                    "a secret needs at least one key-value pair: give --KEY=VALUE, or -i to enter them".to_owned(),
                ));
            }
            // As ZenML did: the schema's defaults for keys not given.
            schema.fill_defaults(&mut values);
            let secret = Secret::new(name.clone(), schema, values)
                .map_err(|problem| keystack_secrets_core::Error::InvalidSecret { name, problem })?;
            manager.register_secret(&secret).await?;
            status(&format!(
                "Registered secret '{}' ({} schema) with key(s) {}.",
                secret.name(),
                secret.schema(),
                key_list(secret.keys())
            ));
            warn_about_command_line_values(&visible);
        }
        SecretCommand::Get { name, key, output } => {
            let secret = manager.get_secret(&secret_name(&name)?).await?;
            let mut plain: BTreeMap<&str, &str> = secret
                .values()
                .iter()
                .map(|(k, v)| (k.as_str(), v.expose()))
                .collect();
            if let Some(key) = key {
                let key = secret_key(&key)?;
                let value = secret.get(key.as_str()).ok_or_else(|| {
                    keystack_secrets_core::Error::KeyNotFound {
                        name: secret.name().clone(),
                        key: key.clone(),
                    }
                })?;
                if output == SecretFormat::Table {
                    output::line(value.expose())?;
                    return Ok(0);
                }
                // ZenML's `-k KEY -o json`: that key alone, in the format.
                plain.retain(|k, _| *k == key.as_str());
            }
            match output {
                SecretFormat::Table => {
                    let rows: Vec<Vec<String>> = plain
                        .iter()
                        .map(|(k, v)| vec![(*k).to_owned(), (*v).to_owned()])
                        .collect();
                    output::table(&["KEY", "VALUE"], &rows)?;
                }
                SecretFormat::Json => output::json(&plain)?,
                SecretFormat::Yaml => output::yaml(&plain)?,
                SecretFormat::Env => {
                    env_names_only(&plain, "env")?;
                    for (k, v) in &plain {
                        output::line(&keystack_cli::dotenv::shell_line(k, v))?;
                    }
                }
                SecretFormat::Dotenv => {
                    env_names_only(&plain, "dotenv")?;
                    let lines: Vec<Option<String>> = plain
                        .iter()
                        .map(|(k, v)| keystack_cli::dotenv::dotenv_line(k, v))
                        .collect();
                    let unwritable: Vec<String> = plain
                        .keys()
                        .zip(&lines)
                        .filter(|(_, l)| l.is_none())
                        .map(|(k, _)| format!("'{k}'"))
                        .collect();
                    if !unwritable.is_empty() {
                        return Err(CliError::usage(format!(
                            "the value(s) of {} hold '${{' (which python-dotenv expands), or a quote \
                             or backslash together with '$' or a backquote: no .env line gives them \
                             back the same to python-dotenv and a POSIX shell; use -o env (for a \
                             shell) or -o json",
                            unwritable.join(", ")
                        )));
                    }
                    for line in lines.into_iter().flatten() {
                        output::line(&line)?;
                    }
                }
            }
        }
        SecretCommand::List { output } => {
            let names = manager.list_secret_names().await?;
            let rows: Vec<Vec<String>> = names.iter().map(|n| vec![n.to_string()]).collect();
            let data: Vec<&str> = names.iter().map(SecretName::as_str).collect();
            output::print(output.output, &["NAME"], &rows, &data)?;
        }
        SecretCommand::Update {
            name,
            mut interactive,
            mut remove,
            mut pairs,
        } => {
            interactive |= take_flag(&mut pairs, "interactive", Some("-i"));
            remove.extend(take_option(&mut pairs, "remove-key", None)?);
            let name = secret_name(&name)?;
            let current = if interactive {
                Some(manager.get_secret(&name).await?)
            } else {
                None
            };
            let (values, visible) = collect_values(
                &pairs,
                current.as_ref().map(Ask::Update),
                "secret update -i",
            )?;
            let mut patch = SecretPatch::new();
            for (key, value) in values {
                patch = patch.set(key, value);
            }
            for key in &remove {
                patch = patch.remove(secret_key(key)?);
            }
            if patch.is_empty() {
                return Err(CliError::usage(
                    "nothing to update: give --KEY=VALUE, --remove-key KEY, or -i".to_owned(),
                ));
            }
            manager.update_secret(&name, &patch).await?;
            status(&format!(
                "Updated secret '{name}': set {}; removed {}.",
                if patch.sets().is_empty() {
                    "nothing".to_owned()
                } else {
                    key_list(patch.sets().keys())
                },
                if patch.removals().is_empty() {
                    "nothing".to_owned()
                } else {
                    key_list(patch.removals().iter())
                },
            ));
            warn_about_command_line_values(&visible);
        }
        SecretCommand::Rename {
            name,
            new_name,
            new_name_option,
        } => {
            let new_name = new_name.or(new_name_option).unwrap_or_default();
            let (old, new) = (secret_name(&name)?, secret_name(&new_name)?);
            let secret = manager.get_secret(&old).await?;
            let (_, schema, values) = secret.into_parts();
            let renamed = Secret::new(new.clone(), schema, values).map_err(|problem| {
                keystack_secrets_core::Error::InvalidSecret {
                    name: new.clone(),
                    problem,
                }
            })?;
            // The new name first: if it is taken, nothing changes; if the
            // delete fails, both names hold the secret, and the error says so.
            manager.register_secret(&renamed).await?;
            manager.delete_secret(&old).await.map_err(|e| {
                CliError::from(e).context(&format!(
                    "secret '{new}' was written; '{old}' is still there too: delete it with `keystack secrets-manager secret delete {old}`"
                ))
            })?;
            status(&format!("Renamed secret '{old}' to '{new}'."));
        }
        SecretCommand::Delete { name, yes } => {
            let name = secret_name(&name)?;
            if !yes {
                prompt::require_terminal("secret delete", "pass -y to delete without asking")?;
                if !prompt::confirm(&format!("Delete secret '{name}'?"))? {
                    status("Nothing deleted.");
                    return Ok(0);
                }
            }
            manager.delete_secret(&name).await?;
            status(&format!("Deleted secret '{name}'."));
        }
        SecretCommand::Import {
            file,
            names,
            dry_run,
        } => {
            let component = stack
                .component(ComponentType::SecretsManager)
                .map_or_else(String::new, |c| c.name.clone());
            import_zenml(manager.as_ref(), &component, &file, &names, dry_run).await?;
        }
        SecretCommand::Copy(args) => {
            super::copy::copy(&project, &stack, manager, args, false, false).await?;
        }
        SecretCommand::Migrate {
            copy,
            delete_source,
        } => {
            super::copy::copy(&project, &stack, manager, copy, true, delete_source).await?;
        }
        SecretCommand::DeleteAll { yes } => {
            if !yes {
                prompt::require_terminal("secret delete-all", "pass -y to delete without asking")?;
                let count = manager.list_secret_names().await?.len();
                if !prompt::confirm(&format!(
                    "Delete all {count} secret(s) of secrets manager '{}' (store: {})?",
                    stack
                        .component(ComponentType::SecretsManager)
                        .map_or("", |c| c.name.as_str()),
                    manager.info().location
                ))? {
                    status("Nothing deleted.");
                    return Ok(0);
                }
            }
            let count = manager.delete_all_secrets().await?;
            status(&format!(
                "Deleted {count} secret(s) from {}.",
                manager.info().location
            ));
        }
    }
    Ok(0)
}
