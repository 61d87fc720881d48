#![allow(clippy::print_stdout, clippy::print_stderr)] // a command-line tool prints
//! Project automation: `cargo xtask <task>` (see `cargo xtask --help`).
//!
//! The tasks and their flags are typed in [`flags`]; each task has its
//! module (`test` is here, the emulators one file each under `emulators/`).
//! Few dependencies: clap for the flags, rcgen for the Key Vault test
//! server's certificate authority.

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use clap::Parser;

mod bench;
mod demo;
mod emulators;
mod flags;
mod fuzz;
mod keyring;
mod peers;
mod python;
mod tidy;
mod walkthrough;

use flags::{Task, Xtask};

fn main() -> ExitCode {
    let result = match Xtask::parse().task {
        Task::Test => test(),
        Task::Bench { quick, only } => bench::bench(quick, &only),
        Task::Emulators { action } => emulators::command(action),
        Task::Fuzz { seconds, targets } => fuzz::command(seconds, &targets),
        Task::Demo { keep } => demo::demo(keep, true),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root, found from this crate's manifest folder.
pub(crate) fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the root")
        .to_owned()
}

/// Packages whose tests need an emulator, and the emulator.
const EMULATED_SUITES: &[(&str, &str)] = &[
    ("keystack-secrets-aws", "moto"),
    ("keystack-secrets-vault", "bao"),
    ("keystack-secrets-gcp", "drongo"),
    ("keystack-secrets-azure", "keyvault"),
    ("keystack-tests", "moto"),
    ("keystack-tests", "bao"),
    ("keystack-tests", "drongo"),
    ("keystack-tests", "keyvault"),
];

/// Runs every test of the workspace with the emulators' variables set, after
/// resetting them, then the Python package's pytest suite; prints the log of
/// the emulator behind each failed suite.
fn workspace_tests(
    running: &[emulators::Running],
    secret_service: &keyring::Session,
) -> Result<Totals, String> {
    for emulator in running {
        emulators::reset(emulator)?;
    }
    let mut tests = cargo();
    tests.args([
        "test",
        "--workspace",
        "--all-features",
        "--locked",
        "--no-fail-fast",
    ]);
    tests.envs(
        emulators::env_vars(running)
            .iter()
            .map(|(k, v)| (*k, v.as_str())),
    );
    tests.env(keyring::ENV, &secret_service.address);
    let mut totals = Totals::default();
    let result = test_step("cargo test", tests, &mut totals);
    // The Python package against the same emulators (its suite needs the
    // `keystack` binary the run above built).
    let env = emulators::env_vars(running);
    let python = python::test(&env, &mut totals);
    let result = result.and(python);
    for (package, emulator) in EMULATED_SUITES {
        if totals.failed_packages.iter().any(|p| p == package) {
            eprintln!("{package} failed against {emulator}:");
            emulators::print_log(emulator);
        }
    }
    result.map(|()| totals)
}

/// Whether `program` is on the `PATH`.
pub(crate) fn have(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Installs with apt-get the Debian packages of `needed` (program, package)
/// whose program is missing; `what` says who needs them.
pub(crate) fn apt_install(needed: &[(&str, &str)], what: &str) -> Result<(), String> {
    let missing: Vec<&str> = needed
        .iter()
        .filter(|(program, _)| !have(program))
        .map(|(_, package)| *package)
        .collect();
    apt_get(&missing, what)
}

/// Installs these Debian packages with apt-get (nothing if there are none).
pub(crate) fn apt_get(missing: &[&str], what: &str) -> Result<(), String> {
    if missing.is_empty() {
        return Ok(());
    }
    let command = format!(
        "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends {}",
        missing.join(" ")
    );
    eprintln!("==> installing {} for {what}", missing.join(", "));
    let status = Command::new("sh")
        .args(["-c", &command])
        .status()
        .map_err(|e| format!("cannot run apt-get: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "installing {} failed ({status}); as root, run: {command}",
            missing.join(", ")
        ))
    }
}

pub(crate) fn cargo() -> Command {
    let mut command = Command::new(env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.current_dir(project_root());
    command
}

/// Runs one step, printing its name and duration; fails with the step's name.
/// Test counts summed over every `cargo test` run of `cargo xtask test`.
#[derive(Debug, Default)]
struct Totals {
    passed: usize,
    failed: usize,
    ignored: usize,
    /// Packages cargo reported failing tests in (`to rerun pass `-p NAME …`).
    failed_packages: Vec<String>,
}

impl Totals {
    /// Reads the lines where cargo names a failed test target: `` `-p NAME --test it` ``
    /// (after "to rerun pass", or listed under "N targets failed:").
    fn add_error_line(&mut self, line: &str) {
        if let Some(rest) = line.split("`-p ").nth(1)
            && let Some(package) = rest.split([' ', '`']).next()
        {
            self.failed_packages.push(package.to_owned());
        }
    }

    /// Reads libtest's `test result: ok. 3 passed; 0 failed; 1 ignored; …` line.
    fn add_line(&mut self, line: &str) {
        let Some(rest) = line.strip_prefix("test result: ") else {
            return;
        };
        for part in rest.split(';') {
            let mut words = part.split_whitespace().rev();
            let (Some(what), Some(count)) = (words.next(), words.next()) else {
                continue;
            };
            let Ok(count) = count.parse::<usize>() else {
                continue;
            };
            match what {
                "passed" => self.passed += count,
                "failed" => self.failed += count,
                "ignored" => self.ignored += count,
                _ => {}
            }
        }
    }
}

/// Runs a `cargo test` step, echoing its output and adding up its counts.
fn test_step(name: &str, mut command: Command, totals: &mut Totals) -> Result<(), String> {
    use std::io::BufRead;
    eprintln!("==> {name}");
    let started = Instant::now();
    let mut child = command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("{name}: could not start: {e}"))?;
    // Echo stderr as it comes, keeping it to find the packages that failed.
    let stderr = child.stderr.take().expect("piped");
    let errors = std::thread::spawn(move || {
        let mut lines = Vec::new();
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            eprintln!("{line}");
            lines.push(line);
        }
        lines
    });
    let stdout = child.stdout.take().expect("piped");
    for line in std::io::BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
    {
        println!("{line}");
        totals.add_line(&line);
    }
    for line in errors.join().unwrap_or_default() {
        totals.add_error_line(&line);
    }
    let status = child.wait().map_err(|e| format!("{name}: {e}"))?;
    eprintln!("    {name}: {:.1}s", started.elapsed().as_secs_f64());
    if status.success() {
        Ok(())
    } else {
        Err(format!("{name} failed ({status})"))
    }
}

pub(crate) fn step(name: &str, mut command: Command) -> Result<(), String> {
    eprintln!("==> {name}");
    let started = Instant::now();
    let status = command
        .status()
        .map_err(|e| format!("{name}: could not start: {e}"))?;
    eprintln!("    {name}: {:.1}s", started.elapsed().as_secs_f64());
    if status.success() {
        Ok(())
    } else {
        Err(format!("{name} failed ({status})"))
    }
}

/// Checks every crate of `crates/` on its own, with its own features only:
/// the workspace build unifies features across crates, which can hide a
/// crate that forgot to ask for a feature it uses, and users depend on
/// `keystack-secrets-core` plus one backend crate alone.
fn each_crate_alone() -> Result<(), String> {
    let root = project_root();
    let started = Instant::now();
    eprintln!("==> cargo check, each crate on its own");
    for manifest in tidy::crate_manifests(&root) {
        let Some(name) = std::fs::read_to_string(&manifest)
            .ok()
            .and_then(|text| {
                text.lines().find_map(|l| {
                    l.strip_prefix("name = \"")?
                        .strip_suffix('"')
                        .map(str::to_owned)
                })
            })
            .filter(|name| name.starts_with("keystack-"))
        else {
            continue;
        };
        let status = cargo()
            .args(["check", "--quiet", "--locked", "-p", &name])
            .status()
            .map_err(|e| format!("cargo check -p {name}: could not start: {e}"))?;
        if !status.success() {
            return Err(format!(
                "{name} does not build on its own (a feature of a dependency it uses is only \
                 enabled by another crate of the workspace?)"
            ));
        }
    }
    eprintln!(
        "    each crate on its own: {:.1}s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The cargo-deny release `cargo xtask test` installs and runs.
const CARGO_DENY_VERSION: &str = "0.20.2";

/// `cargo deny check licenses bans sources` with the checked-in deny.toml,
/// installing cargo-deny (pinned) under `<target>/tools` on first use. The
/// advisories check needs the RustSec database from the network, so it is
/// left to `cargo deny check advisories` where there is one.
fn deny() -> Result<(), String> {
    let target = env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| project_root().join("target"), PathBuf::from);
    let root = target.join("tools");
    let binary = root.join("bin/cargo-deny");
    let installed = Command::new(&binary)
        .arg("--version")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains(CARGO_DENY_VERSION));
    if !installed {
        let mut install = cargo();
        install
            .args([
                "install",
                "cargo-deny",
                "--locked",
                "--version",
                CARGO_DENY_VERSION,
                "--root",
            ])
            .arg(&root);
        step("install cargo-deny", install)?;
    }
    // cargo-deny reads the metadata of every platform's dependencies
    // (wasm-only ones too), which a build never downloads: fetch them from
    // the registry first, so that the check itself runs offline.
    let mut fetch = cargo();
    fetch.args(["fetch", "--locked"]);
    step("cargo fetch", fetch)?;
    let mut deny = Command::new(&binary);
    deny.current_dir(project_root())
        .args(["--offline", "check", "licenses", "bans", "sources"]);
    step("cargo deny check licenses bans sources", deny)
}

fn test() -> Result<(), String> {
    let started = Instant::now();
    let mut fmt = cargo();
    fmt.args(["fmt", "--all", "--", "--check"]);
    step("cargo fmt --check", fmt)?;
    let mut fmt_fuzz = cargo();
    fmt_fuzz.args(["fmt", "--manifest-path", "fuzz/Cargo.toml", "--", "--check"]);
    step("cargo fmt --check (fuzz targets)", fmt_fuzz)?;

    eprintln!("==> tidy");
    tidy::check(&project_root())?;

    let mut clippy = cargo();
    clippy.args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--all-features",
        "--locked",
        "--",
        "-D",
        "warnings",
    ]);
    step("cargo clippy", clippy)?;

    deny()?;
    each_crate_alone()?;

    // One test run over the whole workspace (one build, one feature set),
    // with the emulators up so that the backends' suites run against them.
    let running = emulators::up()?;
    let secret_service = keyring::up().inspect_err(|_| {
        let _ = emulators::down();
    })?;
    let result = workspace_tests(&running, &secret_service);
    drop(secret_service);
    let _ = emulators::down();
    let totals = result?;

    // The README's first command must keep working.
    eprintln!("==> demo");
    demo::demo(false, false)?;

    eprintln!(
        "xtask test: all steps passed in {:.0}s",
        started.elapsed().as_secs_f64()
    );
    // The closing line CI reads: every test counted, ignored ones as skipped.
    println!(
        "xtask: {} passed, {} failed, {} skipped",
        totals.passed, totals.failed, totals.ignored
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn totals_read_libtest_summaries() {
        let mut totals = super::Totals::default();
        totals.add_line("test result: ok. 54 passed; 0 failed; 2 ignored; 0 measured; 0 filtered out; finished in 0.91s");
        totals.add_line(
            "test result: FAILED. 3 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out",
        );
        totals.add_line("running 3 tests");
        assert_eq!((totals.passed, totals.failed, totals.ignored), (57, 1, 2));
        totals.add_error_line(
            "error: test failed, to rerun pass `-p keystack-secrets-aws --test it`",
        );
        assert_eq!(totals.failed_packages, ["keystack-secrets-aws"]);
    }
}
