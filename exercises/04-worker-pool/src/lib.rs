//! Lesson 04: a worker pool.
//!
//! Replace every `todo!()` with an implementation. The tests in
//! `tests/worker_pool.rs` grade your work: `cargo test -p worker-pool t1_`
//! runs the tests of task 1, and so on. The loom models in `tests/loom.rs`
//! run in the loom stage.
//!
//! - `queue.rs`: task 1, the bounded queue.
//! - `handle.rs` and `pool.rs`: tasks 2 to 5, the pool itself.
//! - `error.rs`: the error types, already written.
//! - `sync.rs`: the `std`/loom switch; do not edit it.

mod error;
mod handle;
mod pool;
mod queue;
mod sync;

pub use error::{JobError, PoolError, QueueFull};
pub use handle::{JobHandle, JobId};
pub use pool::{ShutdownReport, ThreadPool};
pub use queue::{BoundedQueue, Closed, Permit, TryReserveError};
