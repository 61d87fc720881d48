//! One Tokio runtime per process, shared by every thread, and the GIL
//! released while it works.
//!
//! A process that forks (multiprocessing, DataLoader workers) keeps the
//! parent's runtime object but none of its threads: the child makes its own
//! on first use, and leaves the parent's alone (dropping it would wait for
//! worker threads that do not exist in the child).

use std::future::Future;
use std::sync::{Arc, Mutex};

use pyo3::prelude::*;
use tokio::runtime::Runtime;

use crate::errors;

static RUNTIME: Mutex<Option<(u32, Arc<Runtime>)>> = Mutex::new(None);

fn runtime() -> PyResult<Arc<Runtime>> {
    let pid = std::process::id();
    let mut slot = RUNTIME.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((owner, runtime)) = slot.as_ref()
        && *owner == pid
    {
        return Ok(Arc::clone(runtime));
    }
    if let Some(parents) = slot.take() {
        let _ = Box::leak(Box::new(parents));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("keystack")
        .enable_all()
        .build()
        .map(Arc::new)
        .map_err(|e| errors::keystack_error(format!("cannot start Keystack's runtime: {e}")))?;
    *slot = Some((pid, Arc::clone(&runtime)));
    Ok(runtime)
}

/// Runs `work` to completion on the process's runtime with the GIL
/// released, so other Python threads go on meanwhile.
pub(crate) fn block_on<F>(py: Python<'_>, work: F) -> PyResult<F::Output>
where
    F: Future + Send,
    F::Output: Send,
{
    let runtime = runtime()?;
    Ok(py.detach(move || runtime.block_on(work)))
}
