//! The store's files on disk, before SQLite sees them: folders and files
//! created private, loose or planted ones refused, the header checked.

use std::fs;
use std::path::Path;

use crate::error::LocalError;
use crate::store::SQLITE_MAGIC;

/// Creates `dir` (mode 0700) if it does not exist.
pub(crate) fn create_dir(dir: &Path) -> Result<(), LocalError> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .map_err(|source| LocalError::io("create store folder", dir, source))
}

/// Creates an empty store file with mode 0600, unless one exists. SQLite
/// gives its journal the same mode as the database.
pub(crate) fn create_private_file(path: &Path) -> Result<(), LocalError> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(source) => Err(LocalError::io("create store file", path, source)),
    }
}

/// Refuses a store folder (`folder`) or file that is not the user's alone,
/// as ssh refuses a loose private key: a file that is a symbolic link (the
/// folder may be one; what it points to is checked), owned by someone else,
/// or open to group or others. The error names the path and the fix.
pub(crate) fn check_private(path: &Path, folder: bool) -> Result<(), LocalError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let untrusted = |problem: String, fix: String| LocalError::Untrusted {
            path: path.to_owned(),
            problem,
            fix,
        };
        let meta = if folder {
            fs::metadata(path)
        } else {
            fs::symlink_metadata(path)
        }
        .map_err(|source| LocalError::io("check", path, source))?;
        if meta.file_type().is_symlink() {
            return Err(untrusted(
                "is a symbolic link, which Keystack does not follow for its store and key files"
                    .to_owned(),
                format!(
                    "replace it with the file itself, or point `path` (or `key_file`) at where it leads ({})",
                    fs::canonicalize(path)
                        .map_or_else(|_| "a missing file".to_owned(), |p| p.display().to_string())
                ),
            ));
        }
        let me = rustix::process::geteuid().as_raw();
        if meta.uid() != me {
            return Err(untrusted(
                format!("is owned by uid {}, not by you (uid {me})", meta.uid()),
                format!(
                    "if it is yours, run `chown {me} {}`; otherwise use a store of your own",
                    path.display()
                ),
            ));
        }
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(untrusted(
                format!("has mode {mode:03o}, so other users may read or change it"),
                format!(
                    "run `chmod {} {}`",
                    if folder { "700" } else { "600" },
                    path.display()
                ),
            ));
        }
    }
    #[cfg(not(unix))]
    let _ = (path, folder);
    Ok(())
}

/// Checks the file's header without going through SQLite, so that a foreign
/// or cut-off file is refused before SQLite reads (or rolls back into) it.
pub(crate) fn check_header(path: &Path) -> Result<(), LocalError> {
    use std::io::Read;
    let mut header = [0u8; 100];
    let mut file =
        fs::File::open(path).map_err(|source| LocalError::io("open store file", path, source))?;
    let mut read = 0;
    while read < header.len() {
        match file.read(&mut header[read..]) {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(source) => return Err(LocalError::io("read store file", path, source)),
        }
    }
    if read == 0 {
        return Ok(()); // a store being created
    }
    if read < SQLITE_MAGIC.len() || header[..SQLITE_MAGIC.len()] != *SQLITE_MAGIC {
        return Err(LocalError::NotAStore {
            path: path.to_owned(),
            detail: " (it is not a SQLite database)".to_owned(),
        });
    }
    let truncated = |detail: String| LocalError::Corrupt {
        path: path.to_owned(),
        detail,
        source: None,
    };
    if read < header.len() {
        return Err(truncated(format!(
            "the file has {read} bytes, less than a SQLite header: it was truncated"
        )));
    }
    // An interrupted write leaves a hot journal that SQLite rolls back; the
    // header cannot be trusted until then.
    let mut journal = path.as_os_str().to_owned();
    journal.push("-journal");
    if fs::metadata(&journal).is_ok_and(|m| m.len() > 0) {
        return Ok(());
    }
    let be32 = |at: usize| {
        u32::from_be_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]])
    };
    let page_size = match u16::from_be_bytes([header[16], header[17]]) {
        1 => 65_536,
        n => u64::from(n),
    };
    let pages = u64::from(be32(28));
    // The page count in the header is valid only when the change counter
    // matches the version-valid-for number (SQLite file format, section 1.3).
    if pages > 0 && be32(24) == be32(92) {
        let expected = pages * page_size;
        let len = file
            .metadata()
            .map_err(|source| LocalError::io("read store file", path, source))?
            .len();
        if len < expected {
            return Err(truncated(format!(
                "the file has {len} bytes where its header promises {expected}: it was truncated"
            )));
        }
    }
    Ok(())
}
