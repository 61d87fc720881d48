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

mod tidy;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  test     cargo fmt --check, clippy -D warnings, tidy checks, all workspace tests
  bench    run the criterion benchmarks (extra arguments go to criterion)
";

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("bench") => bench(&args[1..]),
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

fn cargo() -> Command {
    let mut command = Command::new(env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.current_dir(project_root());
    command
}

/// Runs one step, printing its name and duration; fails with the step's name.
fn step(name: &str, mut command: Command) -> Result<(), String> {
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

    eprintln!(
        "xtask test: all steps passed in {:.0}s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn bench(extra: &[String]) -> Result<(), String> {
    let mut bench = cargo();
    bench.args([
        "bench",
        "--workspace",
        "--locked",
        "--bench",
        "local_store",
        "--",
    ]);
    bench.args(extra);
    step("cargo bench", bench)
}
