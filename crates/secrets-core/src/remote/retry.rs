//! Retries of transient failures, for remote backends (feature `remote`).
//!
//! A backend whose client has no retry policy of its own (or whose policy
//! does not know Keystack's errors) wraps each call in [`retry`]: the call is
//! made again while it fails with an error that [`Error::is_retryable`]
//! calls transient, at most `max_attempts` times in all, backing off
//! 100 ms, 200 ms, 400 ms, … (capped at 3.2 s).

use std::future::Future;
use std::time::Duration;

use crate::Result;

/// The pause before attempt `attempt + 1` (attempts count from 1).
pub fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(100 << (attempt.saturating_sub(1)).min(5))
}

/// Runs `call` until it succeeds, fails with an error that is not
/// retryable, or has been made `max_attempts` times (at least once).
pub async fn retry<T, F, Fut>(max_attempts: u32, mut call: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let mut attempt = 1;
    loop {
        match call().await {
            Err(e) if e.is_retryable() && attempt < max_attempts => {
                tokio::time::sleep(backoff(attempt)).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;
    use crate::Error;

    fn unavailable() -> Error {
        Error::Unavailable {
            backend: "test",
            message: "down".into(),
            source: None,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn retries_transient_errors_up_to_the_limit_with_backoff() {
        let calls = AtomicU32::new(0);
        let started = tokio::time::Instant::now();
        let result: Result<()> = retry(3, || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(unavailable())
        })
        .await;
        assert!(result.unwrap_err().is_retryable());
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        assert_eq!(started.elapsed(), Duration::from_millis(100 + 200));
    }

    #[tokio::test(start_paused = true)]
    async fn stops_at_success_and_at_permanent_errors() {
        let calls = AtomicU32::new(0);
        let ok = retry(5, || async {
            if calls.fetch_add(1, Ordering::SeqCst) < 1 {
                Err(unavailable())
            } else {
                Ok(7)
            }
        })
        .await;
        assert_eq!(ok.unwrap(), 7);
        assert_eq!(calls.load(Ordering::SeqCst), 2);

        let calls = AtomicU32::new(0);
        let permanent: Result<()> = retry(5, || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(Error::NotFound {
                name: crate::SecretName::new("x").unwrap(),
            })
        })
        .await;
        assert!(permanent.unwrap_err().is_not_found());
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(backoff(1), Duration::from_millis(100));
        assert_eq!(backoff(30), Duration::from_millis(3200));
    }
}
