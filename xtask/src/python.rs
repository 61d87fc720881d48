//! The Python package's tests: a virtualenv under `target/python` with
//! maturin and pytest (pinned in `crates/python/tests/requirements.txt`),
//! the package built into it with `maturin develop` (the workspace's target
//! folder, so the libraries are reused), then pytest over
//! `crates/python/tests` with the emulators' variables and the `keystack`
//! binary the workspace tests built.

use std::fs;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::{Totals, project_root, step};

fn venv() -> PathBuf {
    crate::bench::target_dir().join("python")
}

/// The virtualenv's interpreter, made (or brought up to the pinned
/// requirements) first.
pub(crate) fn interpreter() -> Result<PathBuf, String> {
    let venv = venv();
    let requirements = project_root().join("crates/python/tests/requirements.txt");
    let wanted = fs::read_to_string(&requirements)
        .map_err(|e| format!("cannot read {}: {e}", requirements.display()))?;
    let marker = venv.join("keystack-requirements.txt");
    let python = venv.join("bin/python");
    if python.exists() && fs::read_to_string(&marker).is_ok_and(|have| have == wanted) {
        return Ok(python);
    }
    if !python.exists() {
        let mut make = Command::new("python3");
        make.args(["-m", "venv"]).arg(&venv);
        step("python3 -m venv target/python", make)?;
    }
    let mut install = Command::new(venv.join("bin/pip"));
    install
        .args(["install", "--quiet", "--disable-pip-version-check", "-r"])
        .arg(&requirements);
    step("pip install maturin and pytest", install)?;
    fs::write(&marker, &wanted).map_err(|e| e.to_string())?;
    Ok(python)
}

/// Builds the package into the virtualenv (`release`: an optimised build,
/// for the benchmark).
pub(crate) fn build(release: bool) -> Result<PathBuf, String> {
    let python = interpreter()?;
    let mut develop = Command::new(venv().join("bin/maturin"));
    develop
        .current_dir(project_root())
        .env("VIRTUAL_ENV", venv())
        .args(["develop", "--quiet", "-m", "crates/python/Cargo.toml"]);
    if release {
        develop.arg("--release");
    }
    step("maturin develop (the keystack Python package)", develop)?;
    Ok(python)
}

/// Runs the pytest suite, adding its counts to `totals`; `env` holds the
/// emulators' variables.
pub(crate) fn test(env: &[(&str, String)], totals: &mut Totals) -> Result<(), String> {
    let python = build(false)?;
    let keystack = crate::bench::target_dir().join("debug/keystack");
    eprintln!("==> pytest crates/python/tests");
    let output = Command::new(&python)
        .current_dir(project_root())
        .args([
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "crates/python/tests",
        ])
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .env("KEYSTACK_BIN", &keystack)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run pytest: {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    print!("{text}");
    // The summary line: `== 31 passed, 1 skipped in 6.4s ==`.
    let summary = text
        .lines()
        .rev()
        .find(|l| l.contains(" passed") || l.contains(" failed") || l.contains(" error"))
        .unwrap_or_default();
    let count = |word: &str| -> usize {
        let words: Vec<&str> = summary
            .trim_matches(|c: char| c == '=' || c.is_whitespace())
            .split([',', ' '])
            .filter(|w| !w.is_empty())
            .collect();
        words
            .windows(2)
            .find(|pair| pair[1].starts_with(word))
            .and_then(|pair| pair[0].parse().ok())
            .unwrap_or(0)
    };
    totals.passed += count("passed");
    totals.failed += count("failed") + count("error");
    totals.ignored += count("skipped");
    if output.status.success() {
        Ok(())
    } else {
        totals.failed_packages.push("keystack (Python)".to_owned());
        Err(format!("pytest failed ({})", output.status))
    }
}
