//! The thread pool: workers, submission, panics, and the two ways to stop.

use std::any::Any;
use std::mem;
use std::num::NonZeroUsize;
use std::panic::{self, AssertUnwindSafe};
use std::sync::PoisonError;
use std::time::{Duration, Instant};

use crate::queue::BoundedQueue;
use crate::sync::atomic::{AtomicU64, Ordering};
use crate::sync::{Arc, Condvar, Mutex, MutexGuard, mpsc, thread};
use crate::{JobError, JobHandle, JobId, PoolError, QueueFull};

/// A job as the queue stores it: its id and the type-erased work.
struct Job {
    id: JobId,
    /// Runs the user's closure and sends its outcome to the job's handle.
    run: Box<dyn FnOnce() + Send + 'static>,
}

/// What the pool and its workers share.
struct Shared {
    queue: BoundedQueue<Job>,
    /// `exited[i]` becomes true when worker `i` leaves its loop.
    exited: Mutex<Vec<bool>>,
    /// Signalled whenever a worker exits.
    worker_exited: Condvar,
}

impl Shared {
    fn exited(&self) -> MutexGuard<'_, Vec<bool>> {
        // Only plain stores happen under this lock; poisoning cannot leave it half-written.
        self.exited.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

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
    next_id: AtomicU64,
}

impl ThreadPool {
    /// Starts `workers` threads named `pool-worker-0`, `pool-worker-1`, …
    /// that share a queue with room for `queue_capacity` jobs.
    pub fn new(workers: usize, queue_capacity: usize) -> Result<Self, PoolError> {
        if workers == 0 {
            return Err(PoolError::NoWorkers);
        }
        let capacity = NonZeroUsize::new(queue_capacity).ok_or(PoolError::ZeroCapacity)?;
        let mut pool = Self {
            shared: Arc::new(Shared {
                queue: BoundedQueue::new(capacity),
                exited: Mutex::new(vec![false; workers]),
                worker_exited: Condvar::new(),
            }),
            workers: Vec::with_capacity(workers),
            next_id: AtomicU64::new(0),
        };
        for index in 0..workers {
            let shared = Arc::clone(&pool.shared);
            let worker = thread::Builder::new()
                .name(format!("pool-worker-{index}"))
                .spawn(move || work(&shared, index))
                // Returning drops `pool`, which stops the workers started so far.
                .map_err(|source| PoolError::Spawn { index, source })?;
            pool.workers.push(worker);
        }
        Ok(pool)
    }

    /// Queues `job`, blocking while the queue is full, and returns the handle
    /// that will receive its result.
    pub fn submit<F, T>(&self, job: F) -> JobHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let (job, handle) = self.package(job);
        // The queue closes only when the pool is dropped or shut down, and
        // both need the pool by value, so this push cannot fail while anyone
        // can call submit. Were it to fail, the job would be dropped here and
        // its handle would report Abandoned.
        if let Err(rejected) = self.shared.queue.push(job) {
            drop(rejected);
        }
        handle
    }

    /// Queues `job` if there is room right now; otherwise returns it unrun.
    pub fn try_submit<F, T>(&self, job: F) -> Result<JobHandle<T>, QueueFull<F>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        // Reserve first: once `job` is boxed into a `Job`, it cannot be handed back.
        let Ok(permit) = self.shared.queue.try_reserve() else {
            return Err(QueueFull(job));
        };
        let (job, handle) = self.package(job);
        if let Err(rejected) = permit.push(job) {
            drop(rejected); // unreachable for the same reason as in `submit`
        }
        Ok(handle)
    }

    /// Wraps `job` so that running it sends its outcome to a new handle.
    fn package<F, T>(&self, job: F) -> (Job, JobHandle<T>)
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let id = JobId(self.next_id.fetch_add(1, Ordering::Relaxed));
        let (sender, receiver) = mpsc::channel();
        let run = Box::new(move || {
            // If the handle was dropped, nobody wants the result: ignore the error.
            let _ = sender.send(run_catching(job));
        });
        (
            Job { id, run },
            JobHandle {
                id,
                result: receiver,
            },
        )
    }

    /// Stops the pool, waiting at most `timeout` for the workers.
    ///
    /// Queued jobs keep running until the deadline. Then the jobs still
    /// queued are abandoned, the workers that have exited are joined, and
    /// the ones still inside a job are detached. Returns within `timeout`
    /// plus the time to join workers that have already exited.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> ShutdownReport {
        // Taken out, so that Drop (which runs when this function returns)
        // does not join the detached workers after all.
        let workers = mem::take(&mut self.workers);
        // `None`: the timeout is too large to represent, so there is no deadline.
        let deadline = Instant::now().checked_add(timeout);
        self.shared.queue.close();
        self.wait_for_workers(deadline);

        // Dropping the jobs drops their result senders, which resolves their
        // handles to Abandoned.
        let abandoned = self
            .shared
            .queue
            .take_all()
            .into_iter()
            .map(|job| job.id)
            .collect();

        let exited = self.shared.exited().clone();
        let mut report = ShutdownReport {
            abandoned,
            ..ShutdownReport::default()
        };
        for (worker, has_exited) in workers.into_iter().zip(exited) {
            if has_exited {
                // It has left its loop, so this join waits only for the thread to end.
                let _ = worker.join();
                report.joined_workers += 1;
            } else {
                // Dropping a JoinHandle detaches the thread.
                report.detached_workers += 1;
            }
        }
        report
    }

    /// Waits until every worker has exited, or until `deadline`.
    fn wait_for_workers(&self, deadline: Option<Instant>) {
        let mut exited = self.shared.exited();
        while !exited.iter().all(|&done| done) {
            let Some(deadline) = deadline else {
                exited = self
                    .shared
                    .worker_exited
                    .wait(exited)
                    .unwrap_or_else(PoisonError::into_inner);
                continue;
            };
            let now = Instant::now();
            if now >= deadline {
                return;
            }
            exited = self
                .shared
                .worker_exited
                .wait_timeout(exited, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}

impl Drop for ThreadPool {
    /// Closes the queue, lets the workers finish every queued job, and joins them.
    fn drop(&mut self) {
        self.shared.queue.close();
        let me = thread::current().id();
        for worker in self.workers.drain(..) {
            // If a job dropped the last reference to its own pool, this runs
            // on a worker thread, which cannot join itself.
            if worker.thread().id() == me {
                continue;
            }
            // Workers catch job panics, so join fails only on a bug in the
            // pool itself; a destructor has no one to report it to.
            let _ = worker.join();
        }
    }
}

impl std::fmt::Debug for ThreadPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ThreadPool")
            .field("workers", &self.workers.len())
            .field("queue", &self.shared.queue)
            .finish()
    }
}

/// The loop of worker `index`: run jobs until the queue is closed and empty.
fn work(shared: &Shared, index: usize) {
    let _exit = ExitSignal { shared, index };
    while let Some(job) = shared.queue.pop() {
        (job.run)();
    }
}

/// Marks its worker as exited when dropped, even if the worker unwinds.
struct ExitSignal<'a> {
    shared: &'a Shared,
    index: usize,
}

impl Drop for ExitSignal<'_> {
    fn drop(&mut self) {
        self.shared.exited()[self.index] = true;
        self.shared.worker_exited.notify_all();
    }
}

/// Runs `job`, turning a panic into [`JobError::Panicked`].
fn run_catching<T>(job: impl FnOnce() -> T) -> Result<T, JobError> {
    // AssertUnwindSafe: the job's captures are dropped or never touched again
    // after a panic, and the panic itself is reported through the handle.
    panic::catch_unwind(AssertUnwindSafe(job))
        .map_err(|payload| JobError::Panicked(panic_message(payload.as_ref())))
}

/// The text of a panic payload: `panic!` produces a `&'static str` or a `String`.
fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "<non-string panic payload>".to_owned()
    }
}
