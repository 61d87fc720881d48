//! `cargo xtask demo`: ZenML's walk-through on the local backend, in a
//! temporary project, with nothing installed outside `target/`.

use std::path::PathBuf;
use std::process::Command;

use crate::{cargo, project_root, step};

struct Demo {
    binary: PathBuf,
    dir: PathBuf,
}

impl Demo {
    /// Prints and runs `keystack ARGS`; fails unless it exits with `expect`.
    fn keystack(&self, env: &[(&str, &str)], args: &[&str], expect: i32) -> Result<(), String> {
        let shown_env: String = env.iter().map(|(k, v)| format!("{k}={v} ")).collect();
        println!(
            "\n$ {shown_env}keystack {}",
            args.iter().map(|a| quote(a)).collect::<Vec<_>>().join(" ")
        );
        let status = Command::new(&self.binary)
            .args(args)
            .current_dir(&self.dir)
            .env("HOME", self.dir.join("home"))
            .env("KEYSTACK_DATA_DIR", self.dir.join("data"))
            .env_remove("KEYSTACK_SECRET_VALIDATION_LEVEL")
            .env_remove("ZENML_SECRET_VALIDATION_LEVEL")
            .env_remove("KEYSTACK_STACK")
            .env_remove("KEYSTACK_LOCAL_KEY")
            .env_remove("KEYSTACK_LOCAL_PATH")
            .envs(env.iter().copied())
            .status()
            .map_err(|e| format!("cannot run keystack: {e}"))?;
        let code = status.code().unwrap_or(-1);
        if code != expect {
            return Err(format!(
                "`keystack {}` exited with {code}, expected {expect}",
                args.join(" ")
            ));
        }
        if expect != 0 {
            println!("(exit code {code}, as expected)");
        }
        Ok(())
    }
}

fn quote(arg: &str) -> String {
    if arg
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_=./:".contains(c))
    {
        arg.to_owned()
    } else {
        format!("'{arg}'")
    }
}

/// Runs the walk-through; `build` first builds the binary (`cargo xtask
/// test` passes false: its test run has just built it with the same features).
pub(crate) fn demo(keep: bool, build: bool) -> Result<(), String> {
    if build {
        let mut command = cargo();
        command.args([
            "build",
            "--quiet",
            "-p",
            "keystack-cli",
            "--bin",
            "keystack",
        ]);
        step("build keystack", command)?;
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| project_root().join("target"), PathBuf::from);
    let dir = std::env::temp_dir().join(format!("keystack-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let demo = Demo {
        binary: target.join("debug/keystack"),
        dir: dir.clone(),
    };
    println!("A temporary project in {}", dir.display());
    let result = walk(&demo);
    if keep {
        println!("\nThe project is kept in {}", dir.display());
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result?;
    println!("\nThe demo ran every step as expected.");
    Ok(())
}

fn walk(d: &Demo) -> Result<(), String> {
    let none: &[(&str, &str)] = &[];
    d.keystack(none, &["init"], 0)?;
    d.keystack(
        none,
        &[
            "secrets-manager",
            "secret",
            "register",
            "mlflow_secret",
            "--username=admin",
            "--password=abc123",
        ],
        0,
    )?;
    d.keystack(
        none,
        &[
            "experiment-tracker",
            "register",
            "mlflow",
            "--flavor=mlflow",
            "--tracking_uri=http://127.0.0.1:5000",
            "--tracking_username={{mlflow_secret.username}}",
            "--tracking_password={{mlflow_secret.password}}",
        ],
        0,
    )?;
    d.keystack(
        none,
        &[
            "stack", "register", "ml_stack", "-o", "default", "-a", "default", "-x", "default",
            "-e", "mlflow", "--set",
        ],
        0,
    )?;
    d.keystack(none, &["stack", "describe"], 0)?;
    d.keystack(none, &["stack", "validate"], 0)?;
    println!("\n# Remove a key the stack needs; each level notices what it checks.");
    d.keystack(
        none,
        &[
            "secrets-manager",
            "secret",
            "update",
            "mlflow_secret",
            "--remove-key",
            "password",
        ],
        0,
    )?;
    d.keystack(
        &[("KEYSTACK_SECRET_VALIDATION_LEVEL", "NONE")],
        &["stack", "validate"],
        0,
    )?;
    d.keystack(
        &[("ZENML_SECRET_VALIDATION_LEVEL", "SECRET_EXISTS")],
        &["stack", "validate"],
        0,
    )?;
    d.keystack(none, &["stack", "validate"], 4)?;
    d.keystack(
        none,
        &[
            "secrets-manager",
            "secret",
            "update",
            "mlflow_secret",
            "--password=abc123",
        ],
        0,
    )?;
    println!(
        "\n# Run a command on the stack: its environment holds the resolved values, its output masks them."
    );
    d.keystack(
        none,
        &["run", "--", "sh", "-c", "echo \"MLFLOW_TRACKING_URI=$MLFLOW_TRACKING_URI user=$MLFLOW_TRACKING_USERNAME password=$MLFLOW_TRACKING_PASSWORD\""],
        0,
    )?;
    d.keystack(none, &["secrets-manager", "secret", "list"], 0)?;
    d.keystack(
        none,
        &["secrets-manager", "secret", "get", "mlflow_secret"],
        0,
    )?;
    Ok(())
}
