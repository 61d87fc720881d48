//! Secrets delivered as files (`run --file`, attributes declared
//! `as_file`): each in a 0600 file of a private 0700 folder of its own run,
//! removed when the run ends — normally, on an error, or after a signal
//! keystack forwarded to the command. A keystack killed outright (SIGKILL)
//! cannot clean up; the next `keystack run` removes its folder: every run
//! holds a lock on its folder for as long as it lives, so a folder whose lock
//! can be taken belongs to no living run.
//!
//! The folders live in `$XDG_RUNTIME_DIR/keystack/runs` (a per-user tmpfs on
//! most Linux systems) or else `<temp dir>/keystack-<uid>/runs`, made 0700
//! and refused if another user owns them.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use keystack_secrets_core::SecretValue;
use rustix::fs::{FlockOperation, flock};

use crate::error::CliError;

/// The lock every living run holds in its folder.
const LOCK: &str = ".lock";

/// A run's private folder; removed (with its files) when dropped.
pub(crate) struct RunFolder {
    path: PathBuf,
    /// Held (locked) for the run's life.
    lock: File,
}

impl RunFolder {
    /// A new folder, after removing those left by runs that no longer live.
    pub(crate) fn create() -> Result<Self, CliError> {
        let base = runs_dir()?;
        sweep(&base);
        let path = base.join(format!("run-{}-{:08x}", std::process::id(), rand_suffix()));
        fs::DirBuilder::new()
            .mode(0o700)
            .create(&path)
            .map_err(|e| failure("create", &path, e))?;
        let lock_path = path.join(LOCK);
        let lock = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&lock_path)
            .map_err(|e| failure("create", &lock_path, e))?;
        flock(&lock, FlockOperation::NonBlockingLockExclusive)
            .map_err(|e| failure("lock", &lock_path, e.into()))?;
        Ok(Self { path, lock })
    }

    /// Writes `content` into a new 0600 file named after the variable
    /// `name` (an environment name: no path separators), and gives its path.
    pub(crate) fn write(&self, name: &str, content: &SecretValue) -> Result<PathBuf, CliError> {
        let path = self.path.join(name);
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(|e| failure("create", &path, e))?;
        file.write_all(content.expose().as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|e| failure("write", &path, e))?;
        Ok(path)
    }
}

impl RunFolder {
    /// Lets the command about to be started inherit the lock, so that the
    /// folder outlives a keystack killed outright for as long as the command
    /// (which may still read its files) runs.
    pub(crate) fn share_with_child(&self) -> Result<(), CliError> {
        rustix::io::fcntl_setfd(&self.lock, rustix::io::FdFlags::empty())
            .map_err(|e| CliError::failure(format!("cannot hand the run folder's lock on: {e}")))
    }
}

impl Drop for RunFolder {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

fn failure(action: &str, path: &Path, e: std::io::Error) -> CliError {
    CliError::failure(format!("cannot {action} {}: {e}", path.display()))
}

/// Eight random-enough hex digits: the folder's name must not be guessed
/// before it exists (it is created exclusively either way).
fn rand_suffix() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    hasher.finish() as u32
}

/// The folder of the run folders, made 0700 if it is not there; refused
/// if another user owns it or others may write in it.
pub(crate) fn runs_dir() -> Result<PathBuf, CliError> {
    let uid = rustix::process::getuid().as_raw();
    let (top, runs) = places();
    for dir in [&top, &runs] {
        match fs::DirBuilder::new().mode(0o700).create(dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(failure("create", dir, e)),
        }
        let meta = fs::symlink_metadata(dir).map_err(|e| failure("inspect", dir, e))?;
        if !is_private(&meta, uid) {
            return Err(CliError::failure(format!(
                "{} is not a private folder of this user (owner uid {}, mode {:o}); Keystack \
                 keeps the files of `run --file` there only when it is. Remove it, or set \
                 XDG_RUNTIME_DIR to a folder of your own",
                dir.display(),
                meta.uid(),
                meta.mode() & 0o7777
            )));
        }
    }
    Ok(runs)
}

/// Whether `meta` is a folder of user `uid` that no one else may enter.
fn is_private(meta: &fs::Metadata, uid: u32) -> bool {
    meta.is_dir() && meta.uid() == uid && meta.mode() & 0o077 == 0
}

/// `keystack` and `keystack/runs` under the runtime (or temporary) folder.
fn places() -> (PathBuf, PathBuf) {
    let top = match std::env::var_os("XDG_RUNTIME_DIR").filter(|v| !v.is_empty()) {
        Some(runtime) => PathBuf::from(runtime).join("keystack"),
        None => {
            std::env::temp_dir().join(format!("keystack-{}", rustix::process::getuid().as_raw()))
        }
    };
    let runs = top.join("runs");
    (top, runs)
}

/// Removes what runs killed outright left, if there is a folder of run
/// folders and it is this user's own: every `keystack run` does this
/// first, files or not.
pub(crate) fn sweep_left_behind() {
    let (top, runs) = places();
    let uid = rustix::process::getuid().as_raw();
    let private = |dir: &Path| fs::symlink_metadata(dir).is_ok_and(|m| is_private(&m, uid));
    if private(&top) && private(&runs) {
        sweep(&runs);
    }
}

/// Removes the folders of runs that no longer live: their lock can be
/// taken (or, for a folder its run died before locking, it is a minute old).
fn sweep(base: &Path) {
    let Ok(entries) = fs::read_dir(base) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let is_run = entry.file_name().to_string_lossy().starts_with("run-")
            && entry.file_type().is_ok_and(|t| t.is_dir());
        if !is_run {
            continue;
        }
        let stale = match File::open(path.join(LOCK)) {
            Ok(lock) => flock(&lock, FlockOperation::NonBlockingLockExclusive).is_ok(),
            Err(_) => entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > Duration::from_secs(60)),
        };
        if stale {
            let _ = fs::remove_dir_all(&path);
        }
    }
}
