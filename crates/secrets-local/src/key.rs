//! The store key: 32 random bytes, kept in a 0600 key file beside the store
//! or given base64-encoded in `KEYSTACK_LOCAL_KEY`.

use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use zeroize::Zeroizing;

use crate::LocalError;

/// Environment variable holding the store key, base64-encoded.
pub const LOCAL_KEY_ENV: &str = "KEYSTACK_LOCAL_KEY";

/// Length of a store key in bytes.
pub const KEY_LEN: usize = 32;

/// A 256-bit store key. `Debug` never shows it; it is zeroized on drop.
#[derive(Clone)]
pub struct StoreKey(Zeroizing<[u8; KEY_LEN]>);

impl StoreKey {
    /// A fresh key from the operating system's random source.
    pub fn generate() -> Result<Self, LocalError> {
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        getrandom::fill(bytes.as_mut()).map_err(|e| LocalError::Random {
            message: e.to_string(),
        })?;
        Ok(Self(bytes))
    }

    /// Decodes a base64 key (standard alphabet, padding optional). Errors
    /// never repeat the text they were given.
    pub fn from_base64(text: &str, origin: &str) -> Result<Self, LocalError> {
        let decoded = Zeroizing::new(
            base64::engine::general_purpose::STANDARD_NO_PAD
                .decode(text.trim().trim_end_matches('='))
                .map_err(|_| LocalError::BadKey {
                    origin: origin.to_owned(),
                    problem: "it is not valid base64".to_owned(),
                })?,
        );
        let bytes: [u8; KEY_LEN] =
            decoded
                .as_slice()
                .try_into()
                .map_err(|_| LocalError::BadKey {
                    origin: origin.to_owned(),
                    problem: format!("it decodes to {} bytes", decoded.len()),
                })?;
        Ok(Self(Zeroizing::new(bytes)))
    }

    /// The key, base64-encoded: the format of key files and of `KEYSTACK_LOCAL_KEY`.
    pub fn to_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(BASE64.encode(self.0.as_ref()))
    }

    pub(crate) fn bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

impl fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StoreKey({})", keystack_secrets_core::REDACTED)
    }
}

/// Where the key comes from.
#[derive(Clone, Debug)]
pub enum KeySource {
    /// A key file; created with a fresh key when neither it nor the store exists.
    File(PathBuf),
    /// A key given directly (from `KEYSTACK_LOCAL_KEY`, or by the caller).
    Key(StoreKey),
    /// An entry of the OS keyring; created with a fresh key with the store.
    #[cfg(feature = "keyring")]
    Keyring(crate::keyring_key::KeyringEntry),
}

impl KeySource {
    /// How error messages name this source.
    pub(crate) fn describe(&self) -> String {
        match self {
            Self::File(path) => format!("key file {}", path.display()),
            Self::Key(_) => format!("the key given directly (or in {LOCAL_KEY_ENV})"),
            #[cfg(feature = "keyring")]
            Self::Keyring(entry) => entry.describe(),
        }
    }
}

/// The most a key file is read: a key is 44 characters of base64; room is
/// left for a newline and surrounding spaces, nothing more (a key file that
/// names `/dev/zero` must not fill memory).
pub(crate) const KEY_FILE_MAX: u64 = 256;

/// Reads a key file (at most [`KEY_FILE_MAX`] bytes), refusing one that
/// others may read.
pub(crate) fn read_key_file(path: &Path) -> Result<StoreKey, LocalError> {
    use std::io::Read;
    let file =
        fs::File::open(path).map_err(|source| LocalError::io("read key file", path, source))?;
    let mut bytes = Zeroizing::new(Vec::new());
    file.take(KEY_FILE_MAX + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| LocalError::io("read key file", path, source))?;
    if bytes.len() as u64 > KEY_FILE_MAX {
        return Err(LocalError::BadKey {
            origin: format!("key file {}", path.display()),
            problem: format!(
                "it is over {KEY_FILE_MAX} bytes, and a key is 44 characters of base64; \
                 point key_file at the store's key file"
            ),
        });
    }
    let text = Zeroizing::new(String::from_utf8(std::mem::take(&mut *bytes)).map_err(|_| {
        LocalError::BadKey {
            origin: format!("key file {}", path.display()),
            problem: "it is not text".to_owned(),
        }
    })?);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(path)
            .map_err(|source| LocalError::io("read key file", path, source))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(LocalError::KeyFilePermissions {
                path: path.to_owned(),
                mode: mode & 0o777,
            });
        }
    }
    // Not a symlink, and the user's own (the mode was checked just above).
    crate::files::check_private(path, false)?;
    StoreKey::from_base64(&text, &format!("key file {}", path.display()))
}

/// Creates the key file with a fresh key, atomically and with mode 0600: the
/// key is written to a private temporary file which is then hard-linked into
/// place, so a reader never sees a half-written key and two processes racing
/// to create it agree on one key (the loser reads the winner's).
pub(crate) fn create_key_file(path: &Path) -> Result<StoreKey, LocalError> {
    let key = StoreKey::generate()?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("key"),
        std::process::id()
    ));
    let write = || -> io::Result<()> {
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&tmp)?;
        file.write_all(key.to_base64().as_bytes())?;
        file.write_all(b"\n")?;
        file.sync_all()
    };
    let _ = fs::remove_file(&tmp);
    let result = write().and_then(|()| fs::hard_link(&tmp, path));
    let _ = fs::remove_file(&tmp);
    match result {
        Ok(()) => {
            sync_dir(dir);
            Ok(key)
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => read_key_file(path),
        Err(source) => Err(LocalError::io("create key file", path, source)),
    }
}

/// Makes a new directory entry durable; best effort, as some file systems
/// cannot sync directories.
pub(crate) fn sync_dir(dir: &Path) {
    if let Ok(handle) = fs::File::open(dir) {
        let _ = handle.sync_all();
    }
}

#[cfg(test)]
mod tests {
    /// Key material is wiped when dropped: the key itself and the cipher
    /// that holds a copy of it (checked by the types, not by reading freed
    /// memory, which safe Rust cannot do).
    #[test]
    fn key_material_is_zeroized_on_drop() {
        fn zeroized_on_drop<T: zeroize::ZeroizeOnDrop>() {}
        zeroized_on_drop::<Zeroizing<[u8; KEY_LEN]>>();
        zeroized_on_drop::<Zeroizing<String>>();
        zeroized_on_drop::<chacha20poly1305::XChaCha20Poly1305>();
    }

    use super::*;

    #[test]
    fn debug_hides_the_key() {
        let key = StoreKey::generate().unwrap();
        let shown = format!("{key:?} {:?}", KeySource::Key(key.clone()));
        assert!(!shown.contains(key.to_base64().as_str()));
        assert!(shown.contains(keystack_secrets_core::REDACTED));
    }

    #[test]
    fn base64_round_trips_and_errors_do_not_echo() {
        let key = StoreKey::generate().unwrap();
        let again = StoreKey::from_base64(&key.to_base64(), "test").unwrap();
        assert_eq!(key.bytes(), again.bytes());
        let err = StoreKey::from_base64("c2VjcmV0LWJ1dC1zaG9ydA==", "test").unwrap_err();
        assert!(err.to_string().contains("decodes to 16 bytes"), "{err}");
        assert!(!err.to_string().contains("c2VjcmV0"));
        let err = StoreKey::from_base64("not base64 at all!", "test").unwrap_err();
        assert!(!err.to_string().contains("at all"), "{err}");
    }

    #[test]
    fn key_file_is_private_and_stable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets.key");
        let key = create_key_file(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        // A second creation (a racing process) reads the existing key.
        let again = create_key_file(&path).unwrap();
        assert_eq!(key.bytes(), again.bytes());
        assert_eq!(read_key_file(&path).unwrap().bytes(), key.bytes());
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "temporary file left behind"
        );
    }

    #[cfg(unix)]
    #[test]
    fn readable_key_file_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets.key");
        create_key_file(&path).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let err = read_key_file(&path).unwrap_err();
        assert!(err.to_string().contains("chmod 600"), "{err}");
    }
}
