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
mod mask;
mod output;
mod progress;
mod prompt;

use std::process::ExitCode;

use clap::Parser;
use keystack_cli::pairs;

use crate::error::CliError;

/// ZenML spells the alerter flag `-al`; clap's short flags are one letter.
fn normalize_args() -> Vec<std::ffi::OsString> {
    let mut seen_separator = false;
    std::env::args_os()
        .map(|arg| {
            if arg == "--" {
                seen_separator = true;
            }
            if !seen_separator && arg == "-al" {
                "--alerter".into()
            } else {
                arg
            }
        })
        .collect()
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
