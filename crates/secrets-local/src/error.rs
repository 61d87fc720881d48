//! Errors of the local store, and their mapping onto the core error enum.

use std::io;
use std::path::{Path, PathBuf};

use keystack_secrets_core::{Error, SecretName};

use crate::FLAVOR;

/// Everything that can go wrong in the local store. Messages name files and
/// secrets, never values or key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LocalError {
    /// A file operation failed.
    #[error("could not {action} {}", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// The operating system's random source failed.
    #[error("could not draw random bytes: {message}")]
    Random {
        /// The error from the random source.
        message: String,
    },
    /// A key was given but is malformed.
    #[error("{origin} is not a usable store key: {problem}; a key is 32 bytes, base64-encoded")]
    BadKey {
        /// Where the key came from.
        origin: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The key file may be read by other users.
    #[error("key file {} has mode {mode:03o}, so other users may read it; run `chmod 600 {}`", path.display(), path.display())]
    KeyFilePermissions {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// A store folder, store file or key file that is not the user's alone
    /// (a symbolic link, another owner, or access for group or others).
    #[error("{} {problem}; {fix}", path.display())]
    Untrusted {
        /// The folder or file.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
        /// The command that fixes it.
        fix: String,
    },
    /// The store holds secrets but its key file is gone.
    #[error("store {} exists but its key file {} is missing; restore the key file, or set KEYSTACK_LOCAL_KEY to the store's key", store.display(), key.display())]
    KeyFileMissing {
        /// The store file.
        store: PathBuf,
        /// The expected key file.
        key: PathBuf,
    },
    /// The key does not open this store.
    #[error("{key} does not open store {}: it is not the key this store was created with; nothing was changed", store.display())]
    WrongKey {
        /// The store file.
        store: PathBuf,
        /// Where the key came from.
        key: String,
    },
    /// The file is not a Keystack store (not SQLite, or another program's database).
    #[error("{} is not a Keystack secrets store{}; move it away or choose another path", path.display(), detail)]
    NotAStore {
        /// The file.
        path: PathBuf,
        /// What it seems to be instead.
        detail: String,
    },
    /// The store is damaged.
    #[error("store {} is damaged ({detail}); restore it from a backup", path.display())]
    Corrupt {
        /// The store file.
        path: PathBuf,
        /// What was found.
        detail: String,
        /// SQLite's error, when it reported the damage.
        #[source]
        source: Option<rusqlite::Error>,
    },
    /// One secret's row cannot be decrypted or decoded: tampered, swapped or damaged.
    #[error("secret '{name}' in store {} cannot be decrypted: its data was altered or moved from another row", path.display())]
    SecretUnreadable {
        /// The store file.
        path: PathBuf,
        /// The secret.
        name: SecretName,
    },
    /// The store was written by a newer Keystack.
    #[error("store {} has schema version {found}, this Keystack reads versions up to {supported}; upgrade Keystack", path.display())]
    NewerSchema {
        /// The store file.
        path: PathBuf,
        /// The version in the file.
        found: i64,
        /// The newest version this build knows.
        supported: i64,
    },
    /// Another process held the store locked for longer than the busy timeout.
    #[error("store {} stayed locked by another process for {timeout_ms} ms; try again", path.display())]
    Busy {
        /// The store file.
        path: PathBuf,
        /// How long we waited.
        timeout_ms: u64,
    },
    /// The store could not be written; the transaction was rolled back.
    #[error("store {} cannot be written: {reason}; nothing was changed", path.display())]
    CannotWrite {
        /// The store file.
        path: PathBuf,
        /// Why, in words.
        reason: &'static str,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// Any other SQLite failure.
    #[error("SQLite failed on store {}", path.display())]
    Sqlite {
        /// The store file.
        path: PathBuf,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// The builder was not given what it needs.
    #[error("{0}")]
    Config(String),
    /// The OS keyring holding the key could not be used.
    #[error(
        "could not use {entry}: {problem}; is a Secret Service (gnome-keyring, KeePassXC) running and \
         unlocked in this session? Or set KEYSTACK_LOCAL_KEY, or use `key_source: file`"
    )]
    Keyring {
        /// The entry.
        entry: String,
        /// The keyring's own message.
        problem: String,
    },
    /// The store exists but the OS keyring has no key for it.
    #[error(
        "store {} exists but {entry} holds no key for it; restore the entry (the key in base64), \
         or set KEYSTACK_LOCAL_KEY to the store's key — a new key is never made for an existing store",
        store.display()
    )]
    KeyringEntryMissing {
        /// The store file.
        store: PathBuf,
        /// The entry.
        entry: String,
    },
}

impl LocalError {
    pub(crate) fn io(action: &'static str, path: &Path, source: io::Error) -> Self {
        Self::Io {
            action,
            path: path.to_owned(),
            source,
        }
    }

    /// Classifies a SQLite error met while using the store at `path`.
    pub(crate) fn sqlite(path: &Path, source: rusqlite::Error, timeout_ms: u64) -> Self {
        use rusqlite::ErrorCode;
        let path = path.to_owned();
        match source.sqlite_error_code() {
            Some(ErrorCode::DatabaseCorrupt) => Self::Corrupt {
                path,
                detail: "SQLite reports a malformed database".to_owned(),
                source: Some(source),
            },
            Some(ErrorCode::NotADatabase) => Self::NotAStore {
                path,
                detail: " (it is not a SQLite database)".to_owned(),
            },
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
                Self::Busy { path, timeout_ms }
            }
            Some(ErrorCode::ReadOnly) => Self::CannotWrite {
                path,
                reason: "the file, its folder or the file system is read-only \
                         (check permissions; reading still works)",
                source,
            },
            Some(ErrorCode::DiskFull) => Self::CannotWrite {
                path,
                reason: "the disk is full",
                source,
            },
            // SQLITE_IOERR_WRITE, _FSYNC, _TRUNCATE: the operating system
            // refused a write (no space, a file size limit, a failing disk).
            Some(ErrorCode::SystemIoFailure)
                if matches!(
                    &source,
                    rusqlite::Error::SqliteFailure(e, _)
                        if matches!(e.extended_code, 778 | 1034 | 1546)
                ) =>
            {
                Self::CannotWrite {
                    path,
                    reason: "the operating system refused the write (disk full, a file size \
                             limit, or a failing disk)",
                    source,
                }
            }
            _ => Self::Sqlite { path, source },
        }
    }
}

impl From<LocalError> for Error {
    fn from(err: LocalError) -> Self {
        let message = err.to_string();
        match err {
            LocalError::BadKey { .. }
            | LocalError::KeyFilePermissions { .. }
            | LocalError::Config(_) => Error::InvalidConfig {
                backend: FLAVOR,
                message,
            },
            LocalError::Untrusted { .. } => Error::PermissionDenied {
                backend: FLAVOR,
                message,
                source: None,
            },
            LocalError::Keyring { .. } => Error::Unavailable {
                backend: FLAVOR,
                message,
                source: None,
            },
            LocalError::KeyFileMissing { .. }
            | LocalError::KeyringEntryMissing { .. }
            | LocalError::WrongKey { .. } => Error::Unauthenticated {
                backend: FLAVOR,
                message,
                source: None,
            },
            LocalError::NotAStore { .. }
            | LocalError::SecretUnreadable { .. }
            | LocalError::NewerSchema { .. } => Error::Corrupt {
                backend: FLAVOR,
                message,
                source: None,
            },
            LocalError::Corrupt { source, .. } => Error::Corrupt {
                backend: FLAVOR,
                message,
                source: source.map(|s| Box::new(s) as _),
            },
            LocalError::Busy { .. } => Error::Unavailable {
                backend: FLAVOR,
                message,
                source: None,
            },
            other @ (LocalError::Io { .. }
            | LocalError::Random { .. }
            | LocalError::Sqlite { .. }
            | LocalError::CannotWrite { .. }) => Error::Backend {
                backend: FLAVOR,
                source: Box::new(other),
            },
        }
    }
}
