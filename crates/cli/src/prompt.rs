//! Questions asked on a terminal. They refuse to run, rather than hang,
//! when standard input is not a terminal.

use std::io::{self, BufRead, IsTerminal, Write};

use zeroize::Zeroizing;

use crate::error::CliError;

/// Fails unless standard input is a terminal.
pub(crate) fn require_terminal(what: &str, instead: &str) -> Result<(), CliError> {
    if io::stdin().is_terminal() {
        Ok(())
    } else {
        Err(CliError::usage(format!(
            "{what} asks questions, but standard input is not a terminal; {instead}"
        )))
    }
}

/// Asks for a visible line of text (for keys and confirmations).
pub(crate) fn ask(question: &str) -> Result<String, CliError> {
    let mut err = io::stderr().lock();
    write!(err, "{question}")?;
    err.flush()?;
    let mut answer = String::new();
    io::stdin().lock().read_line(&mut answer)?;
    Ok(answer.trim().to_owned())
}

/// Asks for a secret value without echoing it.
pub(crate) fn ask_hidden(question: &str) -> Result<Zeroizing<String>, CliError> {
    rpassword::prompt_password(question)
        .map(Zeroizing::new)
        .map_err(|e| CliError::failure(format!("could not read a hidden value: {e}")))
}

/// Asks a yes/no question; anything but y/yes is no.
pub(crate) fn confirm(question: &str) -> Result<bool, CliError> {
    let answer = ask(&format!("{question} [y/N] "))?;
    Ok(matches!(answer.to_ascii_lowercase().as_str(), "y" | "yes"))
}
