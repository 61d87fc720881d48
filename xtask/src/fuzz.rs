//! `cargo xtask fuzz [--seconds N] [TARGET…]`: the coverage-guided fuzz
//! targets in `fuzz/`, on the stable toolchain.
//!
//! cargo-fuzz needs nightly (it passes `-Zsanitizer`); the coverage
//! instrumentation libFuzzer needs (`-Cpasses=sancov-module` with LLVM's
//! sanitizer-coverage options) is stable, so this builds the targets with
//! those flags and `libfuzzer-sys` directly, without a sanitizer (Rust code
//! without `unsafe` has none to find; panics, overflows — debug assertions
//! and overflow checks are on — timeouts and memory blow-ups are the bugs).
//! Each target runs for N seconds (default 60) from the seed corpus in
//! `fuzz/corpus/TARGET` plus what earlier runs found (kept under
//! `<target>/fuzz/corpus`); a failing input is saved under
//! `<target>/fuzz/artifacts/TARGET/` and fails the command.

use std::fs;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::flags::FuzzTarget;
use crate::{cargo, project_root};

const TRIPLE: &str = "x86_64-unknown-linux-gnu";

/// libFuzzer's instrumentation, as cargo-fuzz passes it (minus the sanitizer).
const RUSTFLAGS: &str = "-Cpasses=sancov-module \
    -Cllvm-args=-sanitizer-coverage-level=4 \
    -Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
    -Cllvm-args=-sanitizer-coverage-pc-table \
    -Cllvm-args=-sanitizer-coverage-trace-compares \
    --cfg fuzzing";

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| project_root().join("target"), PathBuf::from)
        .join("fuzz")
}

/// What one run of one target did.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub(crate) target: String,
    pub(crate) runs: u64,
    pub(crate) seconds: f64,
    pub(crate) corpus: usize,
}

pub(crate) fn command(seconds: u64, targets: &[FuzzTarget]) -> Result<(), String> {
    let all = <FuzzTarget as clap::ValueEnum>::value_variants();
    let chosen = if targets.is_empty() { all } else { targets };
    let targets: Vec<String> = chosen.iter().map(|t| t.as_str().to_owned()).collect();
    let outcomes = run(&targets, seconds)?;
    eprintln!("| target | seconds | executions | exec/s | corpus |");
    eprintln!("|---|---|---|---|---|");
    for o in &outcomes {
        eprintln!(
            "| {} | {:.0} | {} | {:.0} | {} |",
            o.target,
            o.seconds,
            o.runs,
            o.runs as f64 / o.seconds.max(1.0),
            o.corpus
        );
    }
    Ok(())
}

/// Builds the fuzz targets and runs each for `seconds`.
pub(crate) fn run(targets: &[String], seconds: u64) -> Result<Vec<Outcome>, String> {
    let started = Instant::now();
    let mut build = cargo();
    build
        .current_dir(project_root().join("fuzz"))
        .args([
            "build",
            "--release",
            "--locked",
            "--target",
            TRIPLE,
            "--bins",
        ])
        .env("CARGO_TARGET_DIR", target_dir())
        .env("RUSTFLAGS", RUSTFLAGS);
    eprintln!("==> building the fuzz targets");
    let status = build
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err(format!("building the fuzz targets failed ({status})"));
    }
    eprintln!("    built in {:.0}s", started.elapsed().as_secs_f64());
    let mut outcomes = Vec::new();
    for target in targets {
        outcomes.push(run_one(target, seconds)?);
    }
    Ok(outcomes)
}

fn run_one(target: &str, seconds: u64) -> Result<Outcome, String> {
    let binary = target_dir().join(TRIPLE).join("release").join(target);
    let work = target_dir().join("corpus").join(target);
    let artifacts = target_dir().join("artifacts").join(target);
    let seeds = project_root().join("fuzz/corpus").join(target);
    for dir in [&work, &artifacts] {
        fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    eprintln!("==> fuzzing {target} for {seconds}s");
    let started = Instant::now();
    let output = Command::new(&binary)
        .arg(format!("-max_total_time={seconds}"))
        // A single input taking 10 s, or 2 GiB, is a bug (a bound that does not hold).
        .arg("-timeout=10")
        .arg("-rss_limit_mb=2048")
        .arg("-max_len=65536")
        .arg(format!("-artifact_prefix={}/", artifacts.display()))
        .arg("-print_final_stats=1")
        .arg(&work)
        .arg(&seeds)
        .stdout(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", binary.display()))?;
    let log = String::from_utf8_lossy(&output.stderr);
    let elapsed = started.elapsed().as_secs_f64();
    if !output.status.success() {
        let tail: Vec<&str> = log.lines().rev().take(30).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(format!(
            "fuzz target {target} failed; the input is under {}:\n{}",
            artifacts.display(),
            tail.join("\n")
        ));
    }
    // "stat::number_of_executed_units: N"
    let runs = log
        .lines()
        .find_map(|l| l.strip_prefix("stat::number_of_executed_units:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    let corpus = fs::read_dir(&work).map(|d| d.count()).unwrap_or(0);
    eprintln!("    {runs} executions in {elapsed:.0}s, corpus {corpus}");
    Ok(Outcome {
        target: target.to_owned(),
        runs,
        seconds: elapsed,
        corpus,
    })
}
