//! Lesson 04: a worker pool (reference solution).
//!
//! A fixed number of threads take jobs from a bounded queue. Submitting
//! blocks while the queue is full, every job's result (or panic) comes back
//! through a handle, dropping the pool drains the queue and joins every
//! worker, and `shutdown_timeout` stops at a deadline and reports what it
//! abandoned.

mod error;
mod handle;
mod pool;
mod queue;
mod sync;

pub use error::{JobError, PoolError, QueueFull};
pub use handle::{JobHandle, JobId};
pub use pool::{ShutdownReport, ThreadPool};
pub use queue::{BoundedQueue, Closed, Permit, TryReserveError};
