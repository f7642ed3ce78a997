//! The thread pool: workers and submission (task 2), panics (task 3), and
//! the two ways to stop (tasks 4 and 5).

use std::time::Duration;

use crate::queue::BoundedQueue;
use crate::sync::atomic::AtomicU64;
use crate::sync::{Arc, Condvar, Mutex, thread};
use crate::{JobError, JobHandle, JobId, PoolError, QueueFull};

// ANCHOR: pool_types
/// A job as the queue stores it: its id and the type-erased work.
struct Job {
    id: JobId,
    /// Runs the user's closure and sends its outcome to the job's handle.
    run: Box<dyn FnOnce() + Send + 'static>,
}

/// What the pool and its workers share.
struct Shared {
    queue: BoundedQueue<Job>,
    /// Task 5: `exited[i]` becomes true when worker `i` leaves its loop.
    exited: Mutex<Vec<bool>>,
    /// Task 5: signalled whenever a worker exits.
    worker_exited: Condvar,
}

/// A fixed set of worker threads fed by a bounded job queue.
///
/// - [`submit`](Self::submit) blocks while the queue is full, and
///   [`try_submit`](Self::try_submit) hands the job back instead.
/// - A panicking job becomes [`JobError::Panicked`] in its handle; the worker
///   survives.
/// - Dropping the pool runs every queued job and joins every worker;
///   [`shutdown_timeout`](Self::shutdown_timeout) gives up at a deadline.
pub struct ThreadPool {
    shared: Arc<Shared>,
    workers: Vec<thread::JoinHandle<()>>,
    /// The id of the next submitted job.
    next_id: AtomicU64,
}
// ANCHOR_END: pool_types

// ANCHOR: task2
impl ThreadPool {
    /// Starts `workers` threads named `pool-worker-0`, `pool-worker-1`, …
    /// that share a queue with room for `queue_capacity` jobs.
    ///
    /// Zero workers is [`PoolError::NoWorkers`] (checked first), a zero
    /// capacity is [`PoolError::ZeroCapacity`], and a thread the OS refuses to
    /// start is [`PoolError::Spawn`]; the workers already started are then
    /// stopped again.
    pub fn new(workers: usize, queue_capacity: usize) -> Result<Self, PoolError> {
        todo!("task 2: validate, build Shared in an Arc, spawn named workers running `work`")
    }

    /// Queues `job`, blocking while the queue is full, and returns the handle
    /// that will receive its result.
    pub fn submit<F, T>(&self, job: F) -> JobHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        todo!("task 2: take an id, make a channel, box a closure that sends run_catching(job)")
    }

    /// Queues `job` if there is room right now. Otherwise it never blocks:
    /// it returns the job, unrun, inside [`QueueFull`].
    pub fn try_submit<F, T>(&self, job: F) -> Result<JobHandle<T>, QueueFull<F>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        todo!("task 2: try_reserve a slot *before* you box the job, then push through the permit")
    }
}

/// The loop of worker `index`: run jobs until the queue is closed and empty.
fn work(shared: &Shared, index: usize) {
    todo!("task 2: pop and run jobs until pop returns None (task 5: then mark `index` exited)")
}
// ANCHOR_END: task2

// ANCHOR: task3
/// Runs `job` and returns its value, or [`JobError::Panicked`] with the panic
/// message (or `<non-string panic payload>`) if it panics.
///
/// Call this from the closure that `submit` builds, so that a panic never
/// reaches the worker's loop.
fn run_catching<T>(job: impl FnOnce() -> T) -> Result<T, JobError> {
    // Task 3: this lets a panic escape, which ends the worker thread. Catch it.
    Ok(job())
}
// ANCHOR_END: task3

// ANCHOR: task4
impl Drop for ThreadPool {
    /// Closes the queue, lets the workers finish every queued job, and joins
    /// every worker.
    fn drop(&mut self) {
        // Task 4: close the queue, then join every worker.
        //
        // (This body is empty rather than a `todo!()`, so that the tests of
        // tasks 2 and 3 can drop their pools before you get here.)
    }
}
// ANCHOR_END: task4

// ANCHOR: task5
/// What [`ThreadPool::shutdown_timeout`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Jobs still queued at the deadline, oldest first. They never ran, and
    /// their handles return [`JobError::Abandoned`].
    pub abandoned: Vec<JobId>,
    /// Workers that had exited by the deadline; they were joined.
    pub joined_workers: usize,
    /// Workers still busy with a job at the deadline. They were detached:
    /// each finishes its current job and then exits on its own.
    pub detached_workers: usize,
}

impl ThreadPool {
    /// Stops the pool, waiting at most `timeout` for the workers.
    ///
    /// - Close the queue; the workers keep running queued jobs until the
    ///   deadline, and it returns as soon as they have all exited.
    /// - At the deadline, the jobs still queued are abandoned: removed and
    ///   dropped, so that their handles return [`JobError::Abandoned`].
    /// - The workers that have exited are joined; the ones still inside a
    ///   job are detached (their `JoinHandle`s are dropped).
    /// - A timeout too large to add to `Instant::now()` means no deadline.
    pub fn shutdown_timeout(self, timeout: Duration) -> ShutdownReport {
        todo!("task 5: close, wait on worker_exited until all exited or the deadline, take_all")
    }
}
// ANCHOR_END: task5

impl std::fmt::Debug for ThreadPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ThreadPool")
            .field("workers", &self.workers.len())
            .finish_non_exhaustive()
    }
}
