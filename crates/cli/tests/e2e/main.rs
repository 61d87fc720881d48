//! End-to-end tests: the built `keystack` binary in temporary projects.

mod azure;
mod components;
mod copy;
mod delivery;
mod docs;
mod faults;
mod gcp;
mod hostile;
mod interactive;
mod isolation;
mod keyring;
mod leaks;
mod planted;
mod progress;
mod run;
mod secrets;
mod stacks;
mod trust;
mod vault;
mod walkthrough;
mod zenml;
mod zenml_layouts;

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

/// A temporary project with its own home and data folders.
pub(crate) struct Sandbox {
    dir: tempfile::TempDir,
}

/// The value of `var` (set by `cargo xtask test` for the emulators), or
/// `None` after saying on standard error that `what` is skipped.
pub(crate) fn emulator_var(var: &str, what: &str) -> Option<String> {
    let value = std::env::var(var).ok().filter(|v| !v.is_empty());
    if value.is_none() {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "skipping {what}: {var} is not set (`cargo xtask test` starts the emulator and sets it)"
        );
    }
    value
}

/// `secrets-manager secret REST…`: the arguments of a secret command.
pub(crate) fn secret_args<'a>(rest: &[&'a str]) -> Vec<&'a str> {
    ["secrets-manager", "secret"]
        .into_iter()
        .chain(rest.iter().copied())
        .collect()
}

/// The result of one run of the binary.
pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Run {
    pub(crate) fn from(output: Output) -> Self {
        Self {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Asserts success and returns self.
    #[track_caller]
    pub(crate) fn ok(self) -> Self {
        assert_eq!(
            self.code, 0,
            "expected success\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }

    /// Asserts failure with `code` and returns self.
    #[track_caller]
    pub(crate) fn fails(self, code: i32) -> Self {
        assert_eq!(
            self.code, code,
            "expected exit code {code}\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        assert!(
            self.stderr.starts_with("error: ") || code == 2,
            "no error line: {}",
            self.stderr
        );
        self
    }

    /// Asserts that stderr contains `text`.
    #[track_caller]
    pub(crate) fn err_has(self, text: &str) -> Self {
        assert!(
            self.stderr.contains(text),
            "stderr lacks {text:?}:\n{}",
            self.stderr
        );
        self
    }

    /// Asserts that stdout contains `text`.
    #[track_caller]
    pub(crate) fn out_has(self, text: &str) -> Self {
        assert!(
            self.stdout.contains(text),
            "stdout lacks {text:?}:\n{}",
            self.stdout
        );
        self
    }
}

pub(crate) fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_keystack"))
}

impl Sandbox {
    /// A sandbox with `keystack init` already run.
    pub(crate) fn new() -> Self {
        let sandbox = Self::empty();
        sandbox.run(&["init"]).ok();
        sandbox
    }

    /// A sandbox with nothing in it.
    pub(crate) fn empty() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The store folder of the project's default local secrets manager:
    /// `data/projects/<project id>/secrets_manager/default`.
    pub(crate) fn store(&self) -> PathBuf {
        self.store_of(&self.path().join(".keystack"), "default")
    }

    /// The default store folder of local secrets manager `name` of the
    /// project in `project` (a `.keystack` folder).
    pub(crate) fn store_of(&self, project: &Path, name: &str) -> PathBuf {
        let id = std::fs::read_to_string(project.join("id")).unwrap();
        self.path()
            .join("data/projects")
            .join(id.trim())
            .join("secrets_manager")
            .join(name)
    }

    /// Registers a local secrets manager `manager` with `attributes`
    /// (`--NAME=VALUE`), and a stack `stack` of the default orchestrator and
    /// artifact store with it.
    pub(crate) fn local_manager_stack(&self, manager: &str, attributes: &[&str], stack: &str) {
        let mut register = vec!["secrets-manager", "register", manager, "--flavor=local"];
        register.extend_from_slice(attributes);
        self.run(&register).ok();
        self.run(&[
            "stack", "register", stack, "-o", "default", "-a", "default", "-x", manager,
        ])
        .ok();
    }

    /// The binary, set up to run in this sandbox.
    pub(crate) fn std_command(&self) -> std::process::Command {
        self.std_command_via(&[])
    }

    /// [`Sandbox::std_command`] started through `wrapper` (a program and
    /// its arguments, to which the binary's path is added), e.g.
    /// `setpriv --reuid=…` or `sh -c '… exec "$0"'`.
    pub(crate) fn std_command_via(&self, wrapper: &[&str]) -> std::process::Command {
        let mut command = match wrapper.split_first() {
            None => std::process::Command::new(binary()),
            Some((program, args)) => {
                let mut command = std::process::Command::new(program);
                command.args(args).arg(binary());
                command
            }
        };
        command.current_dir(self.dir.path());
        for (name, _) in std::env::vars_os() {
            let name = name.to_string_lossy();
            if name.starts_with("KEYSTACK_")
                || name.starts_with("ZENML_")
                || name.starts_with("XDG_")
            {
                command.env_remove(&*name);
            }
        }
        // A run under GitHub Actions would print `::add-mask::` lines.
        command.env_remove("GITHUB_ACTIONS");
        command
            .env("HOME", self.dir.path().join("home"))
            .env("KEYSTACK_DATA_DIR", self.dir.path().join("data"))
            .env("NO_COLOR", "1");
        command
    }

    /// [`Sandbox::std_command`] with assert_cmd's helpers.
    pub(crate) fn command(&self) -> Command {
        Command::from_std(self.std_command())
    }

    /// Runs `keystack ARGS` with no standard input.
    pub(crate) fn run(&self, args: &[&str]) -> Run {
        Run::from(self.command().args(args).write_stdin("").output().unwrap())
    }

    /// Runs `keystack ARGS` with extra environment variables.
    pub(crate) fn run_env(&self, args: &[&str], vars: &[(&str, &str)]) -> Run {
        let mut command = self.command();
        for (k, v) in vars {
            command.env(k, v);
        }
        Run::from(command.args(args).write_stdin("").output().unwrap())
    }

    /// Runs `keystack ARGS` with `stdin` as standard input.
    pub(crate) fn run_stdin(&self, args: &[&str], stdin: &[u8]) -> Run {
        self.run_stdin_env(args, stdin, &[])
    }

    /// [`Sandbox::run_stdin`] with extra environment variables.
    pub(crate) fn run_stdin_env(&self, args: &[&str], stdin: &[u8], vars: &[(&str, &str)]) -> Run {
        let mut command = self.command();
        for (k, v) in vars {
            command.env(k, v);
        }
        Run::from(
            command
                .args(args)
                .write_stdin(stdin.to_vec())
                .output()
                .unwrap(),
        )
    }

    /// Every file under the sandbox with its bytes, to prove a refusal changed nothing.
    pub(crate) fn snapshot(&self) -> Vec<(PathBuf, Vec<u8>)> {
        fn walk(dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, out);
                } else {
                    out.push((path.clone(), std::fs::read(&path).unwrap()));
                }
            }
        }
        let mut out = Vec::new();
        walk(self.dir.path(), &mut out);
        out.sort();
        out
    }

    /// Registers `mlflow_secret`, the guide's secret.
    pub(crate) fn register_mlflow_secret(&self) -> Run {
        self.run(&[
            "secrets-manager",
            "secret",
            "register",
            "mlflow_secret",
            "--username=admin",
            "--password=abc123",
        ])
        .ok()
    }

    /// Registers the guide's mlflow tracker, referring to `mlflow_secret`.
    pub(crate) fn register_mlflow_tracker(&self) {
        self.register_mlflow_tracker_with(&[]);
    }

    /// [`Sandbox::register_mlflow_tracker`] with `env` added.
    pub(crate) fn register_mlflow_tracker_with(&self, env: &[(&str, &str)]) {
        self.run_env(
            &[
                "experiment-tracker",
                "register",
                "mlflow",
                "--flavor=mlflow",
                "--tracking_uri=http://127.0.0.1:5000",
                "--tracking_username={{mlflow_secret.username}}",
                "--tracking_password={{mlflow_secret.password}}",
            ],
            env,
        )
        .ok();
    }

    /// The walk every remote backend's e2e test shares: registers the
    /// secrets manager (`register_args` after `secrets-manager register`),
    /// a stack with it and the mlflow tracker; validation fails (exit 4)
    /// until `mlflow_secret` exists, then passes; `run` sees `password`; the
    /// secret is listed. Every command runs with `env` added.
    pub(crate) fn remote_stack_validates_and_runs(
        &self,
        register_args: &[&str],
        env: &[(&str, &str)],
        password: &str,
    ) {
        let mut register = vec!["secrets-manager", "register", "remote_sm"];
        register.extend(register_args);
        self.run_env(&register, env).ok();
        self.register_mlflow_tracker();
        self.run(&[
            "stack",
            "register",
            "remote",
            "-o",
            "default",
            "-a",
            "default",
            "-x",
            "remote_sm",
            "-e",
            "mlflow",
            "--set",
        ])
        .ok();
        self.run_env(&["stack", "validate"], env)
            .fails(4)
            .err_has("secret 'mlflow_secret', which does not exist");
        let password_arg = format!("--password={password}");
        self.run_env(
            &[
                "secrets-manager",
                "secret",
                "register",
                "mlflow_secret",
                "--username=admin",
                &password_arg,
            ],
            env,
        )
        .ok();
        self.run_env(&["stack", "validate"], env).ok();
        self.run_env(
            &[
                "run",
                "--no-masking",
                "--",
                "sh",
                "-c",
                "echo $MLFLOW_TRACKING_PASSWORD",
            ],
            env,
        )
        .ok()
        .out_has(password);
        self.run_env(&["secrets-manager", "secret", "list"], env)
            .ok()
            .out_has("mlflow_secret");
    }

    /// Asserts that every file of `before` (a [`Sandbox::snapshot`]) is
    /// still there, unchanged: files a command may add are not compared.
    pub(crate) fn assert_unchanged(&self, before: &[(PathBuf, Vec<u8>)]) {
        let after: Vec<_> = self
            .snapshot()
            .into_iter()
            .filter(|(p, _)| before.iter().any(|(b, _)| b == p))
            .collect();
        assert_eq!(after, before, "a refused command changed a file");
    }

    /// Registers `mlflow_secret`, the mlflow tracker referring to it, and a
    /// stack `ml` with both, made active.
    pub(crate) fn seed(&self) {
        self.register_mlflow_secret();
        self.register_mlflow_tracker();
        self.run(&[
            "stack", "register", "ml", "-o", "default", "-a", "default", "-x", "default", "-e",
            "mlflow", "--set",
        ])
        .ok();
    }
}
