//! `keystack run`: validate and resolve a stack, then run a command with the
//! stack's environment, masking secret values in its output.

use std::process::{Command, Stdio};
use std::thread;

use std::io::Write;
use std::path::Path;

use keystack_secrets_core::{SecretValue, ValidationLevel};
use keystack_stack::concurrency::concurrency_from_env;
use keystack_stack::{LoadedStack, Project, TemplateInput, resolve_with};

use crate::args::{InjectArgs, RunArgs};
use crate::context::{named_or_selected_stack, status, validate_for_resolution};
use crate::error::{CliError, exit};
#[cfg(unix)]
use crate::files::RunFolder;
use crate::mask::{copy_masked, patterns};
use keystack_cli::dotenv::is_env_name;

/// Variables Keystack reads for itself (the local store's key), removed
/// from the child's environment unless the stack maps them.
const CONSUMED_BY_KEYSTACK: &[&str] = &["KEYSTACK_LOCAL_KEY"];

/// What `run` delivers beyond the stack's mapped attributes, in the order
/// they are set: `--env-file` variables, then `--env` (a name given twice:
/// the later wins), then files.
struct Delivery {
    variables: Vec<(String, TemplateInput)>,
    files: Vec<(String, TemplateInput)>,
}

impl Delivery {
    fn from_args(args: &RunArgs) -> Result<Self, CliError> {
        let mut variables = Vec::new();
        for path in &args.env_file {
            // Read as `--from-dotenv` reads its file (`--KEY=@file`'s limits).
            let text = crate::pairs::expand_value(
                "env-file",
                zeroize::Zeroizing::new(format!("@{}", path.display())),
            )?;
            let pairs = keystack_cli::dotenv::parse(&text)
                .map_err(|e| CliError::usage(format!("--env-file {}: {e}", path.display())))?;
            for (name, value) in pairs {
                if !is_env_name(&name) {
                    return Err(CliError::usage(format!(
                        "--env-file {}: '{name}' is not a variable name (letters, digits and '_', \
                         not starting with a digit)",
                        path.display()
                    )));
                }
                let origin = format!("--env-file {} ({name})", path.display());
                variables.push((name, TemplateInput::new(origin, value)?));
            }
        }
        for given in &args.env {
            let (name, template) = assignment("--env", given)?;
            variables.push((
                name.to_owned(),
                TemplateInput::new(format!("--env {name}"), template)?,
            ));
        }
        let mut files: Vec<(String, TemplateInput)> = Vec::new();
        for given in &args.file {
            let (name, template) = assignment("--file", given)?;
            if files.iter().any(|(n, _)| n == name) {
                return Err(CliError::usage(format!(
                    "--file {name} is given twice; keep one"
                )));
            }
            files.push((
                name.to_owned(),
                TemplateInput::new(format!("--file {name}"), template)?,
            ));
        }
        if let Some((name, _)) = files
            .iter()
            .find(|(name, _)| variables.iter().any(|(v, _)| v == name))
        {
            return Err(CliError::usage(format!(
                "{name} is given both as a variable (--env or --env-file) and as a file (--file); keep one"
            )));
        }
        Ok(Self { variables, files })
    }

    /// Every template, variables first.
    fn templates(&self) -> Vec<TemplateInput> {
        self.variables
            .iter()
            .chain(&self.files)
            .map(|(_, t)| t.clone())
            .collect()
    }
}

/// `NAME=TEMPLATE` of `flag`, with NAME checked to be a variable name.
fn assignment<'a>(flag: &str, given: &'a str) -> Result<(&'a str, &'a str), CliError> {
    // The value is not repeated: it may be a credential pasted by mistake.
    let (name, template) = given.split_once('=').ok_or_else(|| {
        CliError::usage(format!(
            "{flag} takes NAME=TEMPLATE (e.g. {flag} 'DATABASE_URL=postgres://{{{{db.user}}}}@db/ml'); \
             the value given has no '='"
        ))
    })?;
    if !is_env_name(name) {
        return Err(CliError::usage(format!(
            "{flag} {}: not a variable name (letters, digits and '_', not starting with a digit)",
            name.chars().take(64).collect::<String>().escape_debug()
        )));
    }
    Ok((name, template))
}

/// The text of a file a command reads (`-`: standard input), at most 16 MiB.
fn read_text(path: &Path, what: &str) -> Result<String, CliError> {
    const MAX: u64 = 16 << 20;
    let bytes = if path == Path::new("-") {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(
            &mut std::io::Read::take(std::io::stdin(), MAX + 1),
            &mut bytes,
        )?;
        bytes
    } else {
        let mut bytes = Vec::new();
        std::fs::File::open(path)
            .and_then(|f| {
                std::io::Read::read_to_end(&mut std::io::Read::take(f, MAX + 1), &mut bytes)
            })
            .map_err(|e| {
                CliError::usage(format!("{what} {}: cannot read it: {e}", path.display()))
            })?;
        bytes
    };
    if bytes.len() as u64 > MAX {
        return Err(CliError::usage(format!(
            "{what} {}: over {MAX} bytes",
            path.display()
        )));
    }
    String::from_utf8(bytes)
        .map_err(|_| CliError::usage(format!("{what} {}: not UTF-8 text", path.display())))
}

/// The lines GitHub Actions (and runners that read its workflow commands)
/// masks in its log: one `::add-mask::` per piece `run` itself masks (each
/// value, and each line of a multi-line value, of three characters or
/// more; a multi-line value whole cannot be one command), with `%`, CR and
/// LF escaped as the Actions toolkit does.
fn ci_mask_lines(values: &[SecretValue]) -> Vec<String> {
    patterns(values.iter().map(|v| v.expose()))
        .iter()
        .filter(|piece| !piece.contains(&b'\n'))
        .map(|piece| {
            let escaped = String::from_utf8_lossy(piece)
                .replace('%', "%25")
                .replace('\r', "%0D");
            format!("::add-mask::{escaped}")
        })
        .collect()
}

/// The stack a command works on: all of it, or the components `--only` names.
fn selected(stack: LoadedStack, only: &[String]) -> Result<LoadedStack, CliError> {
    if only.is_empty() {
        Ok(stack)
    } else {
        Ok(keystack_stack::delivery::only(&stack, only)?)
    }
}

pub(super) async fn run(project: &Project, args: RunArgs) -> Result<u8, CliError> {
    let stack = selected(
        named_or_selected_stack(project, args.stack.as_deref())?,
        &args.only,
    )?;
    let delivery = Delivery::from_args(&args)?;
    let templates = delivery.templates();
    #[cfg(unix)]
    crate::files::sweep_left_behind();
    let announcement = (!args.quiet).then(|| {
        format!(
            "keystack: running on stack '{}' of project {}",
            stack.stack.name,
            project.root().display()
        )
    });
    let level = ValidationLevel::from_env().map_err(|e| CliError::usage(e.to_string()))?;
    let (manager, validated) = validate_for_resolution(project, &stack, &templates, level).await?;
    // What validation fetched is reused: at SECRET_AND_KEY_EXISTS, running
    // costs no call beyond validation's.
    let (resolved, rendered) = resolve_with(
        &stack,
        &templates,
        manager.as_deref(),
        validated,
        concurrency_from_env()?,
    )
    .await?;
    let (variable_values, file_values) = rendered.split_at(delivery.variables.len());
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
    for ((name, _), value) in delivery.variables.iter().zip(variable_values) {
        command.env(name, value.expose());
    }
    // Files: the stack's attributes declared `as_file`, then `--file`
    // (which wins for the same variable).
    let stack_files = resolved.files(project.catalog());
    let mut files: Vec<(&str, &SecretValue)> = Vec::new();
    for (name, value, origin) in &stack_files {
        if delivery.files.iter().any(|(n, _)| n == name) {
            continue;
        }
        if files.iter().any(|(n, _)| n == name) {
            return Err(CliError::usage(format!(
                "{name} would be the path of two files ({origin} and another component's); \
                 choose one with --only, or give it with --file"
            )));
        }
        files.push((name, value));
    }
    for ((name, _), value) in delivery.files.iter().zip(file_values) {
        files.push((name, value));
    }
    // Removed when dropped: after the command ends, or on any error.
    let _folder = if files.is_empty() {
        None
    } else {
        let folder = RunFolder::create()?;
        for (name, value) in &files {
            let path = folder.write(name, value)?;
            command.env(name, path);
        }
        folder.share_with_child()?;
        Some(folder)
    };
    drop(files);
    drop(stack_files);
    if args.ci_mask || std::env::var("GITHUB_ACTIONS").as_deref() == Ok("true") {
        let mut out = std::io::stdout().lock();
        for line in ci_mask_lines(&resolved.secret_values) {
            writeln!(out, "{line}")?;
        }
        out.flush()?;
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
    drop(rendered);
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

/// Secrets as files rely on Unix file modes and locks.
#[cfg(not(unix))]
struct RunFolder;

#[cfg(not(unix))]
impl RunFolder {
    fn create() -> Result<Self, CliError> {
        Err(CliError::usage(
            "secrets as files (--file, attributes delivered as files) need a Unix system: \
             Keystack relies on its file modes and locks to keep them private"
                .to_owned(),
        ))
    }

    fn write(&self, _: &str, _: &SecretValue) -> Result<std::path::PathBuf, CliError> {
        unreachable!("create() refuses")
    }

    fn share_with_child(&self) -> Result<(), CliError> {
        Ok(())
    }
}

/// `keystack inject`: renders a text file's references through the stack's
/// secrets manager, with the grammar and escapes of every other value. Its
/// references are validated at the level first (all problems at once), and
/// each distinct secret is read once.
pub(super) async fn inject(project: &Project, args: InjectArgs) -> Result<u8, CliError> {
    // Only the secrets manager: the stack's other components are not this
    // command's business.
    let stack = keystack_stack::delivery::only(
        &named_or_selected_stack(project, args.stack.as_deref())?,
        &[],
    )?;
    if let Some(out) = &args.output
        && !args.force
        && out.symlink_metadata().is_ok()
    {
        return Err(CliError {
            code: exit::EXISTS,
            message: format!("{} exists; give --force to replace it", out.display()),
        });
    }
    let text = read_text(&args.input, "-i")?;
    let origin = if args.input == Path::new("-") {
        "standard input".to_owned()
    } else {
        args.input.display().to_string()
    };
    let template = TemplateInput::new(origin, text)?;
    let templates = [template];
    let level = ValidationLevel::from_env().map_err(|e| CliError::usage(e.to_string()))?;
    let (manager, validated) = validate_for_resolution(project, &stack, &templates, level).await?;
    let (_, rendered) = resolve_with(
        &stack,
        &templates,
        manager.as_deref(),
        validated,
        concurrency_from_env()?,
    )
    .await?;
    let rendered = &rendered[0];
    match &args.output {
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(rendered.expose().as_bytes())?;
            out.flush()?;
        }
        Some(path) => write_private(path, rendered.expose(), args.force)?,
    }
    Ok(0)
}

/// Writes `text` to `path` with mode 0600: a new file, or with `replace`
/// through the project's atomic write (a 0600 file of an unpredictable name
/// beside it, renamed over it: never half-written).
fn write_private(path: &Path, text: &str, replace: bool) -> Result<(), CliError> {
    if replace {
        return Ok(keystack_stack::project::write_atomic(path, text)?);
    }
    let failed =
        |e: std::io::Error| CliError::failure(format!("cannot write {}: {e}", path.display()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => CliError {
            code: exit::EXISTS,
            message: format!("{} exists; give --force to replace it", path.display()),
        },
        _ => failed(e),
    })?;
    let written = file
        .write_all(text.as_bytes())
        .and_then(|()| file.sync_all());
    if let Err(e) = written {
        let _ = std::fs::remove_file(path);
        return Err(failed(e));
    }
    Ok(())
}
