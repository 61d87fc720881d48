//! `keystack run`: validate and resolve a stack, then run a command with the
//! stack's environment, masking secret values in its output.

use std::process::{Command, Stdio};
use std::thread;

use keystack_secrets_core::ValidationLevel;
use keystack_stack::Project;
use keystack_stack::concurrency::concurrency_from_env;
use keystack_stack::{resolve_validated, stack_references};

use crate::args::RunArgs;
use crate::context::{named_or_selected_stack, stack_manager, status, validate_stack};
use crate::error::{CliError, exit};
use crate::mask::{copy_masked, patterns};

/// Variables Keystack reads for itself (the local store's key), removed
/// from the child's environment unless the stack maps them.
const CONSUMED_BY_KEYSTACK: &[&str] = &["KEYSTACK_LOCAL_KEY"];

pub(super) async fn run(project: &Project, args: RunArgs) -> Result<u8, CliError> {
    let stack = named_or_selected_stack(project, args.stack.as_deref())?;
    let announcement = (!args.quiet).then(|| {
        format!(
            "keystack: running on stack '{}' of project {}",
            stack.stack.name,
            project.root().display()
        )
    });
    let level = ValidationLevel::from_env().map_err(|e| CliError::usage(e.to_string()))?;
    let (mut manager, validated) = validate_stack(project, &stack, level).await?;
    if manager.is_none() && !stack_references(&stack)?.is_empty() {
        manager = Some(stack_manager(project, &stack)?);
    }
    // What validation fetched is reused: at SECRET_AND_KEY_EXISTS, running
    // costs no call beyond validation's.
    let resolved = resolve_validated(
        &stack,
        manager.as_deref(),
        validated,
        concurrency_from_env()?,
    )
    .await?;
    let (program, rest) = args.command.split_first().expect("clap requires a command");
    let mut command = Command::new(program);
    command.args(rest);
    let environment = resolved.environment(project.catalog());
    // Key material Keystack used to open its own store is not the stack's:
    // the child gets it only if the stack maps it explicitly.
    for consumed in CONSUMED_BY_KEYSTACK {
        if !environment.iter().any(|(name, _)| name == consumed) {
            command.env_remove(consumed);
        }
    }
    for (name, value) in &environment {
        command.env(name, value.expose());
    }
    let masks = if args.no_masking {
        Vec::new()
    } else {
        patterns(resolved.secret_values.iter().map(|v| v.expose()))
    };
    // Nothing of the manager, and no copy of a value but the masks (the
    // child's environment is copied into it by the OS at spawn), outlives
    // this point.
    drop(environment);
    drop(resolved);
    drop(manager);
    let masking = !masks.is_empty();
    if masking {
        command.stdout(Stdio::piped()).stderr(Stdio::piped());
    }
    // Taken over before the child exists, so that no signal meant for it
    // can kill keystack first and leave the child running alone.
    #[cfg(unix)]
    let signals = signals::Signals::new()?;
    let mut child = command.spawn().map_err(|e| CliError {
        code: match e.kind() {
            std::io::ErrorKind::NotFound => 127,
            std::io::ErrorKind::PermissionDenied => 126,
            _ => exit::FAILURE,
        },
        message: format!("cannot run {}: {e}", program.to_string_lossy()),
    })?;
    // Which project's stack set the child's environment is never a surprise
    // (a project found above the current folder, say). Printed once the
    // command runs, so that a failure's first line stays its error, and
    // before its output is copied.
    if let Some(line) = announcement {
        status(&line);
    }
    let mut copiers = Vec::new();
    if masking {
        let out = child.stdout.take().expect("piped");
        let err = child.stderr.take().expect("piped");
        // A pipe of 1 MiB instead of 64 KiB: a sixteenth of the switches
        // between the command and keystack for the same output. Best effort
        // (the system's pipe-max-size may be lower).
        #[cfg(target_os = "linux")]
        for pipe in [
            std::os::fd::AsFd::as_fd(&out),
            std::os::fd::AsFd::as_fd(&err),
        ] {
            let _ = rustix::pipe::fcntl_setpipe_size(pipe, crate::mask::CHUNK);
        }
        let (m1, m2) = (masks.clone(), masks);
        let (to_out, to_err) = (raw_stdout()?, raw_stderr()?);
        copiers.push(thread::spawn(move || copy_masked(out, to_out, m1)));
        copiers.push(thread::spawn(move || copy_masked(err, to_err, m2)));
    }
    #[cfg(unix)]
    let status = signals.wait_forwarding(child).await?;
    #[cfg(not(unix))]
    let status = child.wait()?;
    for copier in copiers {
        let _ = copier.join();
    }
    Ok(exit_code(status))
}

/// Standard output as a plain file (a duplicate of the descriptor): the
/// masked copy writes what it settled in one call per read, instead of going
/// through `Stdout`'s line buffer, which splits the stream at every newline.
#[cfg(unix)]
fn raw_stdout() -> std::io::Result<std::fs::File> {
    Ok(std::fs::File::from(rustix::io::dup(std::io::stdout())?))
}

/// [`raw_stdout`] for standard error.
#[cfg(unix)]
fn raw_stderr() -> std::io::Result<std::fs::File> {
    Ok(std::fs::File::from(rustix::io::dup(std::io::stderr())?))
}

#[cfg(not(unix))]
fn raw_stdout() -> std::io::Result<std::io::Stdout> {
    Ok(std::io::stdout())
}

#[cfg(not(unix))]
fn raw_stderr() -> std::io::Result<std::io::Stderr> {
    Ok(std::io::stderr())
}

/// While the command runs, keystack stays alive to report its status:
/// - SIGTERM and SIGHUP (a supervisor, `timeout`, a closed session) are
///   forwarded to the command, so it is never left running alone;
/// - SIGINT and SIGQUIT from a terminal (Ctrl-C, Ctrl-\\) already reach the
///   command, which is in the same foreground process group; keystack only
///   survives them. Without a terminal on standard input they were sent to
///   keystack alone, and are forwarded.
#[cfg(unix)]
mod signals {
    use std::io::IsTerminal;
    use std::process::{Child, ExitStatus};

    use rustix::process::{Pid, Signal, kill_process};
    use tokio::signal::unix::{SignalKind, signal};

    pub(super) struct Signals {
        term: tokio::signal::unix::Signal,
        hup: tokio::signal::unix::Signal,
        int: tokio::signal::unix::Signal,
        quit: tokio::signal::unix::Signal,
    }

    impl Signals {
        pub(super) fn new() -> std::io::Result<Self> {
            Ok(Self {
                term: signal(SignalKind::terminate())?,
                hup: signal(SignalKind::hangup())?,
                int: signal(SignalKind::interrupt())?,
                quit: signal(SignalKind::quit())?,
            })
        }

        pub(super) async fn wait_forwarding(
            mut self,
            mut child: Child,
        ) -> std::io::Result<ExitStatus> {
            let pid = i32::try_from(child.id()).ok().and_then(Pid::from_raw);
            let from_terminal = std::io::stdin().is_terminal();
            let mut waiter = tokio::task::spawn_blocking(move || child.wait());
            loop {
                let signal = tokio::select! {
                    status = &mut waiter => return status.map_err(std::io::Error::other)?,
                    _ = self.term.recv() => Signal::TERM,
                    _ = self.hup.recv() => Signal::HUP,
                    _ = self.int.recv() => {
                        if from_terminal { continue }
                        Signal::INT
                    }
                    _ = self.quit.recv() => {
                        if from_terminal { continue }
                        Signal::QUIT
                    }
                };
                if let Some(pid) = pid {
                    // The command may have just ended: nothing to forward to.
                    let _ = kill_process(pid, signal);
                }
            }
        }
    }
}

fn exit_code(status: std::process::ExitStatus) -> u8 {
    if let Some(code) = status.code() {
        return u8::try_from(code & 0xff).unwrap_or(exit::FAILURE);
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return u8::try_from(128 + signal).unwrap_or(exit::FAILURE);
        }
    }
    exit::FAILURE
}

#[cfg(all(test, feature = "local"))]
mod tests {
    #[test]
    fn the_local_store_key_is_among_the_variables_kept_from_the_child() {
        assert!(super::CONSUMED_BY_KEYSTACK.contains(&keystack_secrets_local::LOCAL_KEY_ENV));
    }
}
