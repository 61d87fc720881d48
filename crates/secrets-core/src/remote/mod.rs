//! What every remote backend shares (feature `remote`): Keystack's ownership
//! marks, namespaced remote IDs, the JSON payload of a secret's values,
//! retries with backoff and jitter, the refusals every remote backend makes
//! (foreign, unreadable, too large), and the defaults of the settings every
//! remote service has (attempts, timeout).

pub mod mark;
pub mod naming;
pub mod payload;
mod refusal;
pub mod retry;

pub use refusal::{Refusal, payload_within};

/// Attempts per call, retries included, when a component does not say.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;

/// Seconds before one request is abandoned, when a component does not say.
pub const DEFAULT_TIMEOUT_SECONDS: u64 = 30;
