//! Warnings a backend gives without failing: a fallback it took (a batch
//! read refused, say), which a person should hear of once. Libraries do not
//! print; the program says where warnings go ([`set_warning_sink`]: the
//! command line prints them on standard error), and without a sink they
//! are dropped. Warnings name actions, secrets and settings, never values.

use std::sync::OnceLock;

type Sink = Box<dyn Fn(&str) + Send + Sync>;

static SINK: OnceLock<Sink> = OnceLock::new();

/// Sends every later warning to `sink`. The first call wins; later calls
/// are ignored (one program, one place for its warnings).
pub fn set_warning_sink(sink: impl Fn(&str) + Send + Sync + 'static) {
    let _ = SINK.set(Box::new(sink));
}

/// Gives a warning to the sink, if there is one.
pub fn warn(message: &str) {
    if let Some(sink) = SINK.get() {
        sink(message);
    }
}
