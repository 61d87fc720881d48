#![allow(clippy::print_stdout, clippy::print_stderr)] // a command-line tool prints
//! Project automation: `cargo xtask <command>`.
//!
//! - `test`  — formatting, clippy with warnings denied, tidy checks, and every
//!   test of the workspace. This is what CI runs.
//! - `bench` — the criterion benchmarks, in release mode.
//!
//! xtask has no dependencies, so it builds in a second on a cold machine.

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

mod bench;
mod demo;
mod tidy;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  test     cargo fmt --check, clippy -D warnings, tidy checks, all workspace tests
  demo     ZenML's walk-through on the local backend, in a temporary project (--keep keeps it)
  bench    the command-line benchmarks, then the criterion benchmarks
           (`bench cli` or `bench lib` runs one half)
";

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("bench") => bench::bench(&args[1..]),
        Some("demo") => demo::demo(args[1..].iter().any(|a| a == "--keep")),
        Some("-h" | "--help" | "help") => {
            print!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(format!("unknown command {other:?}\n\n{USAGE}")),
        None => Err(USAGE.to_owned()),
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

pub(crate) fn cargo() -> Command {
    let mut command = Command::new(env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.current_dir(project_root());
    command
}

/// Runs one step, printing its name and duration; fails with the step's name.
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

fn test() -> Result<(), String> {
    let started = Instant::now();
    let mut fmt = cargo();
    fmt.args(["fmt", "--all", "--", "--check"]);
    step("cargo fmt --check", fmt)?;

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

    let mut tests = cargo();
    tests.args(["test", "--workspace", "--all-features", "--locked"]);
    step("cargo test", tests)?;

    // The README's first command must keep working.
    demo::demo(false)?;

    eprintln!(
        "xtask test: all steps passed in {:.0}s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
