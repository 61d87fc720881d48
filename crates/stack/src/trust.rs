//! Which project files Keystack acts on: only the user's own. A project
//! folder, or a file in it, owned by another user or writable by group or
//! others is refused, as git refuses a repository another user owns: whoever
//! can change a project decides which secrets its stacks read and which
//! variables (`PATH`, say) `keystack run` sets with them. Projects listed in
//! the user's `trusted.yaml` are exempt, as git's `safe.directory`.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::{StackError, yaml};

/// The trust list's file name, in the user's config directory.
pub const TRUST_FILE: &str = "trusted.yaml";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TrustFile {
    /// Project folders (`.keystack`, or the folder holding it), or `*` for all.
    #[serde(default)]
    projects: Vec<String>,
}

/// The user's trust list, and where it is (named in every refusal).
#[derive(Debug, Clone)]
pub(crate) struct Trust {
    file: Option<PathBuf>,
    all: bool,
    projects: Vec<PathBuf>,
}

impl Trust {
    /// Reads `config_dir/trusted.yaml`, if there is one. The list itself
    /// must be the user's own, or it could trust anything.
    pub(crate) fn load(config_dir: Option<PathBuf>) -> Result<Self, StackError> {
        let file = config_dir.map(|dir| dir.join(TRUST_FILE));
        let mut trust = Self {
            file: file.clone(),
            all: false,
            projects: Vec::new(),
        };
        let Some(file) = file.filter(|f| f.exists()) else {
            return Ok(trust);
        };
        check(&file, &trust)?;
        let list: TrustFile = yaml::parse(&yaml::read_file(&file)?, &file)?;
        for entry in list.projects {
            if entry == "*" {
                trust.all = true;
            } else if let Ok(path) = std::fs::canonicalize(&entry) {
                trust.projects.push(path);
            }
        }
        Ok(trust)
    }

    /// Whether the project kept in `root` (a `.keystack` folder, or the
    /// config directory) is on the list.
    pub(crate) fn covers(&self, root: &Path) -> bool {
        if self.all {
            return true;
        }
        let Ok(root) = std::fs::canonicalize(root) else {
            return false;
        };
        self.projects
            .iter()
            .any(|p| *p == root || p.join(crate::project::PROJECT_DIR) == root)
    }

    fn how_to_trust(&self, root_hint: &Path) -> String {
        match &self.file {
            Some(file) => format!(
                "or, if you trust whoever can change it, list it in {}:\n    projects:\n      - {}",
                file.display(),
                root_hint.display()
            ),
            None => "or set HOME so that Keystack has a trust list to read".to_owned(),
        }
    }
}

/// Refuses `path` unless it is owned by the user (or root) and neither
/// group nor others may write it. What a symbolic link leads to is checked.
pub(crate) fn check(path: &Path, trust: &Trust) -> Result<(), StackError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let meta = match std::fs::metadata(path) {
            Ok(meta) => meta,
            // Missing files are for the caller to report.
            Err(_) => return Ok(()),
        };
        let me = rustix::process::geteuid().as_raw();
        let owner = meta.uid();
        let mode = meta.permissions().mode() & 0o7777;
        let project = path
            .ancestors()
            .find(|p| {
                p.file_name()
                    .is_some_and(|n| n == crate::project::PROJECT_DIR)
            })
            .unwrap_or(path);
        let (problem, fix) = if owner != me && owner != 0 {
            (
                format!("is owned by uid {owner}, not by you (uid {me}) or root"),
                format!(
                    "if it is yours, run `chown -R {me} {}`; {}",
                    project.display(),
                    trust.how_to_trust(project)
                ),
            )
        } else if mode & 0o022 != 0 {
            (
                format!(
                    "has mode {:o}, so {} may change it",
                    mode & 0o777,
                    if mode & 0o002 != 0 {
                        "every user"
                    } else {
                        "its group"
                    }
                ),
                format!(
                    "run `chmod -R go-w {}`; {}",
                    project.display(),
                    trust.how_to_trust(project)
                ),
            )
        } else {
            return Ok(());
        };
        Err(StackError::Untrusted {
            path: path.to_owned(),
            problem,
            fix,
        })
    }
    #[cfg(not(unix))]
    {
        let _ = (path, trust);
        Ok(())
    }
}
