//! The error types of the pool.

// ANCHOR: errors
/// Why [`ThreadPool::new`](crate::ThreadPool::new) could not build a pool.
#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    /// The caller asked for zero workers.
    #[error("a pool needs at least one worker")]
    NoWorkers,
    /// The caller asked for a queue that can hold nothing.
    #[error("the job queue needs room for at least one job")]
    ZeroCapacity,
    /// The operating system refused to create a worker thread.
    #[error("failed to spawn worker {index}: {source}")]
    Spawn {
        /// Index of the worker that could not be started.
        index: usize,
        /// The error reported by the OS.
        #[source]
        source: std::io::Error,
    },
}

/// Why a [`JobHandle`](crate::JobHandle) has no value to give.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    /// The job panicked; this is its panic message, or
    /// `<non-string panic payload>`.
    #[error("the job panicked: {0}")]
    Panicked(String),
    /// The job never ran: the pool shut down while it was still queued.
    #[error("the job was abandoned before it started")]
    Abandoned,
}

/// [`ThreadPool::try_submit`](crate::ThreadPool::try_submit) found the queue
/// full. The job comes back unrun in field `.0`, so the caller can retry it,
/// run it inline, or drop it.
#[derive(thiserror::Error)]
#[error("the pool's job queue is full")]
pub struct QueueFull<F>(pub F);
// ANCHOR_END: errors

impl<F> std::fmt::Debug for QueueFull<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("QueueFull").finish_non_exhaustive()
    }
}
