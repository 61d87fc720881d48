//! `cargo xtask demo`: ZenML's walk-through on the local backend, in a
//! temporary project, with nothing installed outside `target/`.

use std::path::PathBuf;
use std::process::Command;

use crate::walkthrough::{Line, Step, parse, shown};
use crate::{cargo, project_root, step};

/// The walk-through, shared with the e2e tests.
const SCRIPT: &str = "crates/cli/tests/e2e/walkthrough.script";

struct Demo {
    binary: PathBuf,
    dir: PathBuf,
}

impl Demo {
    /// Prints and runs one step; fails unless it does what the script says.
    fn run(&self, step: &Step) -> Result<(), String> {
        let shown_env: String = step.env.iter().map(|(k, v)| format!("{k}={v} ")).collect();
        println!(
            "\n$ {shown_env}keystack {}",
            step.args
                .iter()
                .map(|a| shown(a))
                .collect::<Vec<_>>()
                .join(" ")
        );
        let output = Command::new(&self.binary)
            .args(&step.args)
            .current_dir(&self.dir)
            .env("HOME", self.dir.join("home"))
            .env("KEYSTACK_DATA_DIR", self.dir.join("data"))
            .env_remove("KEYSTACK_SECRET_VALIDATION_LEVEL")
            .env_remove("ZENML_SECRET_VALIDATION_LEVEL")
            .env_remove("KEYSTACK_STACK")
            .env_remove("KEYSTACK_LOCAL_KEY")
            .env_remove("KEYSTACK_LOCAL_PATH")
            .envs(step.env.iter().map(|(k, v)| (k, v)))
            .stderr(std::process::Stdio::inherit())
            .output()
            .map_err(|e| format!("cannot run keystack: {e}"))?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        print!("{stdout}");
        let code = output.status.code().unwrap_or(-1);
        let command = format!("`keystack {}`", step.args.join(" "));
        if code != step.exit {
            return Err(format!(
                "{command} exited with {code}, expected {}",
                step.exit
            ));
        }
        for text in &step.stdout_has {
            if !stdout.contains(text.as_str()) {
                return Err(format!("{command} printed no {text:?}"));
            }
        }
        for text in &step.stdout_lacks {
            if stdout.contains(text.as_str()) {
                return Err(format!("{command} printed {text:?}"));
            }
        }
        if step.exit != 0 {
            println!("(exit code {code}, as expected)");
        }
        Ok(())
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
            // The walk-through needs the local store only: the cloud SDKs
            // are not compiled, so a first run on a fresh clone is quick.
            "--no-default-features",
            "--features",
            "local",
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
    let path = project_root().join(SCRIPT);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    for line in parse(&text)? {
        match line {
            Line::Comment(text) => println!("\n# {text}"),
            Line::Step(step) => d.run(&step)?,
        }
    }
    Ok(())
}
