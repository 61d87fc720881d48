//! The command line's error: a message printed once, with its causes, and
//! the documented exit code it maps to.

use std::fmt;
use std::io;

use keystack_cli::pairs;
use keystack_secrets_core::Error as SecretsError;
use keystack_stack::StackError;

/// Exit codes, documented in `--help` and docs/cli.md.
pub(crate) mod exit {
    /// Any failure not listed below.
    pub(crate) const FAILURE: u8 = 1;
    /// Bad usage or bad input.
    pub(crate) const USAGE: u8 = 2;
    /// A secret, key, component or stack does not exist.
    pub(crate) const NOT_FOUND: u8 = 3;
    /// Stack validation failed.
    pub(crate) const VALIDATION: u8 = 4;
    /// A secret, component or stack exists already.
    pub(crate) const EXISTS: u8 = 5;
    /// The store is locked, unreadable, or the key is wrong.
    pub(crate) const STORE: u8 = 6;
}

/// An error of the command line, with its exit code.
#[derive(Debug)]
pub(crate) struct CliError {
    pub(crate) code: u8,
    pub(crate) message: String,
}

impl CliError {
    pub(crate) fn usage(message: String) -> Self {
        Self {
            code: exit::USAGE,
            message,
        }
    }

    pub(crate) fn input(message: String) -> Self {
        Self {
            code: exit::USAGE,
            message,
        }
    }

    pub(crate) fn failure(message: String) -> Self {
        Self {
            code: exit::FAILURE,
            message,
        }
    }

    /// Something named does not exist (exit 3).
    pub(crate) fn not_found(message: String) -> Self {
        Self {
            code: exit::NOT_FOUND,
            message,
        }
    }

    /// The same error, its message followed by what was going on.
    pub(crate) fn context(self, what: &str) -> Self {
        Self {
            code: self.code,
            message: format!("{}\n  ({what})", self.message),
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

pub(crate) use keystack_secrets_core::with_causes;

fn secrets_code(err: &SecretsError) -> u8 {
    match err {
        SecretsError::NotFound { .. } | SecretsError::KeyNotFound { .. } => exit::NOT_FOUND,
        SecretsError::AlreadyExists { .. } => exit::EXISTS,
        SecretsError::InvalidName(_)
        | SecretsError::InvalidReference(_)
        | SecretsError::InvalidSecret { .. }
        | SecretsError::InvalidConfig { .. } => exit::USAGE,
        SecretsError::Unavailable { .. }
        | SecretsError::Corrupt { .. }
        | SecretsError::Unauthenticated { .. } => exit::STORE,
        _ => exit::FAILURE,
    }
}

impl From<pairs::PairsError> for CliError {
    fn from(err: pairs::PairsError) -> Self {
        Self::usage(err.to_string())
    }
}

impl From<SecretsError> for CliError {
    fn from(err: SecretsError) -> Self {
        Self {
            code: secrets_code(&err),
            message: with_causes(&err),
        }
    }
}

impl From<StackError> for CliError {
    fn from(err: StackError) -> Self {
        let code = match &err {
            StackError::Secrets(inner) => secrets_code(inner),
            StackError::Validation(_) => exit::VALIDATION,
            StackError::ComponentNotFound { .. }
            | StackError::StackNotFound { .. }
            | StackError::NoActiveStack
            | StackError::NoSecretsManager { .. }
            | StackError::NoSuchSelection { .. } => exit::NOT_FOUND,
            StackError::ComponentExists { .. } | StackError::StackExists { .. } => exit::EXISTS,
            StackError::Io { .. } | StackError::Untrusted { .. } => exit::FAILURE,
            _ => exit::USAGE,
        };
        Self {
            code,
            message: with_causes(&err),
        }
    }
}

impl From<io::Error> for CliError {
    fn from(err: io::Error) -> Self {
        // A reader that stops early (`keystack secret list | head`) is not a failure.
        if err.kind() == io::ErrorKind::BrokenPipe {
            return Self {
                code: 0,
                message: String::new(),
            };
        }
        Self::failure(err.to_string())
    }
}
