//! `keystack`: the command line over Keystack's libraries.
//!
//! `main` parses the arguments ([`args`], clap) and hands them to
//! [`commands`], one module per command family, which check what they were
//! given and call the libraries through the shared [`context`]. Errors
//! ([`error`]) are printed once, with their causes, and mapped to documented
//! exit codes. The flow goes one way: main → commands → context.

#![allow(clippy::print_stderr)] // a command-line tool reports on stderr

mod args;
mod backends;
mod commands;
mod context;
mod error;
#[cfg(unix)]
mod files;
mod mask;
mod output;
mod progress;
mod prompt;

use std::process::ExitCode;

use clap::Parser;
use keystack_cli::pairs;

use crate::error::CliError;

/// ZenML's command forms, rewritten to Keystack's before clap sees them:
/// `-al` for the alerter (clap's short flags are one letter); `-v` anywhere
/// before `--`, also after `--KEY=VALUE` pairs, moved to the front; and
/// `secret register --KEY=VALUE... NAME`, the name after the pairs, moved
/// before them.
fn normalize_args() -> Vec<std::ffi::OsString> {
    normalize(std::env::args_os().collect())
}

fn normalize(args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let separator = args.iter().position(|a| a == "--").unwrap_or(args.len());
    let mut front = Vec::new();
    let mut out = Vec::with_capacity(args.len());
    for (i, arg) in args.into_iter().enumerate() {
        if i < separator && i > 0 && (arg == "-v" || arg == "--verbose") {
            front.push(arg);
        } else if i < separator && arg == "-al" {
            out.push("--alerter".into());
        } else {
            out.push(arg);
        }
    }
    let program = if out.is_empty() {
        Vec::new()
    } else {
        vec![out.remove(0)]
    };
    let mut args: Vec<std::ffi::OsString> = program.into_iter().chain(front).chain(out).collect();
    name_before_pairs(&mut args);
    args
}

/// `secret register --a=1 NAME` → `secret register NAME --a=1`.
fn name_before_pairs(args: &mut Vec<std::ffi::OsString>) {
    let Some(register) = args
        .windows(2)
        .position(|w| w[0] == "secret" && w[1] == "register")
        .map(|i| i + 1)
    else {
        return;
    };
    let starts_with_dash = |a: &std::ffi::OsString| a.to_string_lossy().starts_with('-');
    if !args.get(register + 1).is_some_and(starts_with_dash) {
        return;
    }
    let mut i = register + 1;
    while i < args.len() {
        let arg = args[i].to_string_lossy().into_owned();
        if arg == "--" {
            return;
        }
        if !arg.starts_with('-') {
            let name = args.remove(i);
            args.insert(register + 1, name);
            return;
        }
        let takes_value =
            !arg.contains('=') && !matches!(arg.as_str(), "-i" | "--interactive" | "-h" | "--help");
        i += if takes_value && args.get(i + 1).is_some_and(|n| !starts_with_dash(n)) {
            2
        } else {
            1
        };
    }
}

fn main() -> ExitCode {
    let args = normalize_args();
    progress::set_enabled(&args);
    let cli = args::Cli::parse_from(args);
    context::set_verbose(cli.verbose);
    keystack_secrets_core::warning::set_warning_sink(|message| eprintln!("warning: {message}"));
    let result = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(CliError::from)
        .and_then(|runtime| runtime.block_on(commands::dispatch(cli)));
    match result {
        Ok(code) => ExitCode::from(code),
        Err(err) if err.code == 0 => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {}", err.message);
            ExitCode::from(err.code)
        }
    }
}

#[cfg(test)]
mod tests {
    fn normalized(line: &str) -> String {
        super::normalize(line.split(' ').map(Into::into).collect())
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn zenml_forms_become_keystack_forms() {
        for (given, wanted) in [
            (
                "k secrets-manager secret register --a=1 db",
                "k secrets-manager secret register db --a=1",
            ),
            (
                "k secrets-manager secret register --a 1 -s aws db --b=2",
                "k secrets-manager secret register db --a 1 -s aws --b=2",
            ),
            (
                "k secrets-manager secret register -i db",
                "k secrets-manager secret register db -i",
            ),
            (
                "k secrets-manager secret register db --a=1",
                "k secrets-manager secret register db --a=1",
            ),
            (
                "k secrets-manager secret register db --a=1 -v",
                "k -v secrets-manager secret register db --a=1",
            ),
            (
                "k stack register s -al slack",
                "k stack register s --alerter slack",
            ),
            ("k run -- tool -v -al", "k run -- tool -v -al"),
        ] {
            assert_eq!(normalized(given), wanted, "{given}");
        }
    }
}
