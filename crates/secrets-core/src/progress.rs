//! Progress of long work on many secrets (a batch read,
//! [`crate::SecretsManager::get_secrets`], and a delete-all), for a program
//! that shows it (the command line's progress bar on a terminal). Backends
//! call [`advance`] as secrets are done; the program says
//! where that goes ([`set_progress_sink`]); without a sink it is dropped.
//! Progress carries counts only, never names or values.

use std::sync::OnceLock;

type Sink = Box<dyn Fn(usize) + Send + Sync>;

static SINK: OnceLock<Sink> = OnceLock::new();

/// Sends every later count of secrets read to `sink`. The first call wins;
/// later calls are ignored (one program, one place for its progress).
pub fn set_progress_sink(sink: impl Fn(usize) + Send + Sync + 'static) {
    let _ = SINK.set(Box::new(sink));
}

/// Says that `secrets` more secrets have been read (or have failed: they
/// are done either way) or deleted.
pub fn advance(secrets: usize) {
    if let Some(sink) = SINK.get() {
        sink(secrets);
    }
}
