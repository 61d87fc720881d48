//! `cargo xtask bench`: medians of the `keystack` binary on seeded local
//! stores, then the criterion benchmarks of the libraries.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::{cargo, project_root, step};

const RUNS: usize = 21;

pub(crate) fn bench(args: &[String]) -> Result<(), String> {
    let which = args.first().map(String::as_str);
    if matches!(which, None | Some("cli")) {
        cli()?;
    }
    if matches!(which, None | Some("lib")) {
        let mut bench = cargo();
        bench.args(["bench", "--workspace", "--bench", "local_store", "--"]);
        bench.args(args.iter().skip(1));
        step("cargo bench", bench)?;
    }
    Ok(())
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| project_root().join("target"), PathBuf::from)
}

struct Sandbox {
    dir: PathBuf,
    binary: PathBuf,
}

impl Sandbox {
    fn command(&self, program: &Path) -> Command {
        let mut command = Command::new(program);
        command
            .current_dir(&self.dir)
            .env("HOME", self.dir.join("home"))
            .env("KEYSTACK_DATA_DIR", self.dir.join("data"))
            .env_remove("KEYSTACK_SECRET_VALIDATION_LEVEL")
            .env_remove("KEYSTACK_LOCAL_KEY")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        command
    }

    fn keystack(&self, args: &[&str]) -> Result<(), String> {
        let status = self
            .command(&self.binary)
            .args(args)
            .status()
            .map_err(|e| e.to_string())?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("keystack {} failed", args.join(" ")))
        }
    }

    /// Median wall time of `keystack ARGS` over [`RUNS`] runs (after one warm-up).
    fn median(&self, args: &[&str], env: &[(&str, &str)]) -> Result<Duration, String> {
        let mut times = Vec::with_capacity(RUNS);
        for i in 0..=RUNS {
            let started = Instant::now();
            let status = self
                .command(&self.binary)
                .args(args)
                .envs(env.iter().copied())
                .status()
                .map_err(|e| e.to_string())?;
            let elapsed = started.elapsed();
            if !status.success() {
                return Err(format!("keystack {} failed", args.join(" ")));
            }
            if i > 0 {
                times.push(elapsed);
            }
        }
        times.sort();
        Ok(times[RUNS / 2])
    }
}

fn cli() -> Result<(), String> {
    let mut build = cargo();
    build.args([
        "build",
        "--quiet",
        "--release",
        "-p",
        "keystack-cli",
        "--bin",
        "keystack",
        "-p",
        "keystack-secrets-local",
        "--example",
        "seed",
    ]);
    step("build release binaries", build)?;
    let release = target_dir().join("release");
    let dir = std::env::temp_dir().join(format!("keystack-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let sandbox = Sandbox {
        dir: dir.clone(),
        binary: release.join("keystack"),
    };
    let result = cli_rows(&sandbox, &release.join("examples/seed"));
    let _ = std::fs::remove_dir_all(&dir);
    let rows = result?;
    let mut report =
        String::from("| command (release, median of 21 runs) | wall time |\n|---|---|\n");
    for (what, time) in rows {
        report.push_str(&format!(
            "| {what} | {:.1} ms |\n",
            time.as_secs_f64() * 1000.0
        ));
    }
    println!("\n{report}");
    let out = target_dir().join("bench");
    std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
    std::fs::write(out.join("report.md"), &report).map_err(|e| e.to_string())?;
    println!("(also written to {})", out.join("report.md").display());
    Ok(())
}

fn cli_rows(s: &Sandbox, seed: &Path) -> Result<Vec<(String, Duration)>, String> {
    let mut rows = Vec::new();
    rows.push((
        "`keystack --version`".to_owned(),
        s.median(&["--version"], &[])?,
    ));
    s.keystack(&["init"])?;
    let store = s.dir.join("data/local");
    eprintln!("==> seeding 10,000 secrets");
    let status = s
        .command(seed)
        .args([store.to_str().unwrap(), "10000", "4"])
        .status()
        .map_err(|e| e.to_string())?;
    if !status.success() {
        return Err("seeding failed".into());
    }
    rows.push((
        "`secret get` with 10,000 secrets stored".to_owned(),
        s.median(&["secrets-manager", "secret", "get", "bench-05000"], &[])?,
    ));
    rows.push((
        "`secret list` of 10,000 secrets".to_owned(),
        s.median(&["secrets-manager", "secret", "list"], &[])?,
    ));

    // A stack with 200 references to 50 secrets, through a user flavor with 200 attributes.
    let flavors = s.dir.join(".keystack/flavors");
    std::fs::create_dir_all(&flavors).map_err(|e| e.to_string())?;
    let mut flavor =
        String::from("flavors:\n  - type: experiment_tracker\n    name: bench\n    attributes:\n");
    let mut component =
        String::from("type: experiment_tracker\nname: bench\nflavor: bench\nattributes:\n");
    for i in 0..200 {
        flavor.push_str(&format!("      - {{name: a{i}, sensitive: true}}\n"));
        component.push_str(&format!(
            "  a{i}: \"{{{{bench-{:05}.k{}}}}}\"\n",
            i % 50,
            i % 4
        ));
    }
    std::fs::write(flavors.join("bench.yaml"), flavor).map_err(|e| e.to_string())?;
    let components = s.dir.join(".keystack/components/experiment_tracker");
    std::fs::create_dir_all(&components).map_err(|e| e.to_string())?;
    std::fs::write(components.join("bench.yaml"), component).map_err(|e| e.to_string())?;
    s.keystack(&[
        "stack", "register", "bench", "-o", "default", "-a", "default", "-x", "default", "-e",
        "bench", "--set",
    ])?;
    for level in ["NONE", "SECRET_EXISTS", "SECRET_AND_KEY_EXISTS"] {
        rows.push((
            format!("`stack validate`, 200 refs / 50 secrets, {level}"),
            s.median(
                &["stack", "validate"],
                &[("KEYSTACK_SECRET_VALIDATION_LEVEL", level)],
            )?,
        ));
    }
    Ok(rows)
}
