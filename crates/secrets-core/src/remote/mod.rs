//! What every remote backend shares (feature `remote`): Keystack's ownership
//! marks, namespaced remote IDs, the JSON payload of a secret's values,
//! retries with backoff and jitter, the refusals every remote backend makes
//! (foreign, unreadable, too large), and the defaults of the settings every
//! remote service has (attempts, timeout), and ZenML's layout of secrets
//! (`layout: zenml`).

pub mod mark;
pub mod naming;
pub mod payload;
mod refusal;
pub mod retry;
pub mod zenml;

pub use refusal::{Refusal, payload_within};

/// Reads a file a component names (a credential, a certificate authority),
/// at most `max` bytes: a path such as `/dev/zero` or a huge file is an
/// error, not a memory blow-up.
pub fn read_file_within(path: &std::path::Path, max: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(max + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("it is over {max} bytes"),
        ));
    }
    Ok(bytes)
}

/// Attempts per call, retries included, when a component does not say.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;

/// Seconds before one request is abandoned, when a component does not say.
pub const DEFAULT_TIMEOUT_SECONDS: u64 = 30;

#[cfg(test)]
mod tests {
    #[test]
    fn files_are_read_within_their_bound() {
        let err = super::read_file_within(std::path::Path::new("/dev/zero"), 1024).unwrap_err();
        assert!(err.to_string().contains("over 1024 bytes"), "{err}");
        let dir = tempfile_dir();
        let file = dir.join("f");
        std::fs::write(&file, b"12345").unwrap();
        assert_eq!(super::read_file_within(&file, 5).unwrap(), b"12345");
        assert!(super::read_file_within(&file, 4).is_err());
        let _ = std::fs::remove_dir_all(dir);
    }

    fn tempfile_dir() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("keystack-core-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
