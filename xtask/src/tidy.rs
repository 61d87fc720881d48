//! Tidy checks: project conventions that neither rustc nor clippy enforce.
//! They run in `cargo xtask test` and as a `#[test]`.

use std::fs;
use std::path::{Path, PathBuf};

/// Checks every convention, reporting all violations at once.
pub(crate) fn check(root: &Path) -> Result<(), String> {
    let mut problems = Vec::new();
    for manifest in crate_manifests(root) {
        check_manifest(root, &manifest, &mut problems);
    }
    for file in rust_files(&root.join("crates")) {
        check_source(root, &file, &mut problems);
    }
    for page in [
        "README.md",
        "docs/secrets.md",
        "docs/references.md",
        "docs/backends/local.md",
        "docs/backends/aws.md",
        "docs/backends/vault.md",
        "docs/backends/gcp.md",
        "docs/backends/azure.md",
        "docs/security.md",
        "docs/performance.md",
        "docs/python.md",
        "docs/zenml.md",
    ] {
        if !root.join(page).is_file() {
            problems.push(format!("{page}: missing"));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "tidy found {} problem(s):\n  {}",
            problems.len(),
            problems.join("\n  ")
        ))
    }
}

pub(crate) fn crate_manifests(root: &Path) -> Vec<PathBuf> {
    let mut manifests = vec![root.join("xtask/Cargo.toml")];
    if let Ok(entries) = fs::read_dir(root.join("crates")) {
        for entry in entries.flatten() {
            let manifest = entry.path().join("Cargo.toml");
            if manifest.is_file() {
                manifests.push(manifest);
            }
        }
    }
    manifests.sort();
    manifests
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

fn check_manifest(root: &Path, manifest: &Path, problems: &mut Vec<String>) {
    let shown = relative(root, manifest);
    let Ok(text) = fs::read_to_string(manifest) else {
        problems.push(format!("{shown}: unreadable"));
        return;
    };
    // The Python package's crate cannot take the workspace's lints (PyO3's
    // macros expand to `unsafe`, which they forbid): it declares its own,
    // and check_source keeps handwritten `unsafe` out of it.
    let python = manifest.starts_with(root.join(PYTHON_CRATE));
    if python {
        if !text.contains("[lints.rust]") {
            problems.push(format!("{shown}: declare [lints.rust]"));
        }
    } else if !text.contains("[lints]\nworkspace = true") {
        problems.push(format!("{shown}: add `[lints] workspace = true`"));
    }
    let in_crates = manifest.starts_with(root.join("crates"));
    if in_crates && !text.contains("name = \"keystack-") {
        problems.push(format!("{shown}: package names start with `keystack-`"));
    }
    // Versions belong in [workspace.dependencies], so one version of each
    // crate is built.
    for line in text.lines() {
        let line = line.trim();
        if line.contains("version = \"")
            && !line.starts_with("version")
            && !line.starts_with("rust-version")
        {
            problems.push(format!(
                "{shown}: `{line}`: declare the version in [workspace.dependencies]"
            ));
        }
    }
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return files;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

/// The crate of the Python package, whose lints are its own.
const PYTHON_CRATE: &str = "crates/python";

fn check_source(root: &Path, file: &Path, problems: &mut Vec<String>) {
    let Ok(text) = fs::read_to_string(file) else {
        return;
    };
    let shown = relative(root, file);
    let python = file.starts_with(root.join(PYTHON_CRATE));
    for (i, line) in text.lines().enumerate() {
        if python
            && line
                .split(|c: char| !c.is_alphanumeric() && c != '_')
                .any(|word| word == concat!("un", "safe"))
        {
            problems.push(format!(
                "{shown}:{}: no handwritten `unsafe` in the Python package",
                i + 1
            ));
        }
        // Spelled in pieces so that this file does not match its own check.
        for banned in [
            concat!("todo", "!("),
            concat!("unimplemented", "!("),
            concat!("dbg", "!("),
        ] {
            if line.contains(banned) {
                problems.push(format!("{shown}:{}: remove `{banned}`", i + 1));
            }
        }
        if line.contains("derive(") && line.contains("Debug") && is_secret_holder(&text, i) {
            problems.push(format!(
                "{shown}:{}: a type holding secret material derives Debug; write a redacting Debug",
                i + 1
            ));
        }
    }
}

/// Whether the item after the derive on line `index` declares a type whose
/// name says it holds secret material.
fn is_secret_holder(text: &str, index: usize) -> bool {
    text.lines()
        .skip(index + 1)
        .find(|l| l.contains("struct ") || l.contains("enum "))
        .is_some_and(|l| {
            ["SecretValue", "StoreKey", "Cipher"]
                .iter()
                .any(|n| l.contains(&format!(" {n}")))
        })
}

#[cfg(test)]
mod tests {
    #[test]
    fn tidy() {
        super::check(&crate::project_root()).unwrap_or_else(|e| panic!("{e}"));
    }
}
