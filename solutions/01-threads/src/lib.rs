//! Lesson 01: threads (reference solution).
//!
//! OS threads in place of goroutines: spawn and join, scoped threads that
//! borrow instead of sharing, panics that travel through `JoinHandle::join`,
//! and a parallel map with a bound on the calls in flight.

use std::any::Any;
use std::num::NonZeroUsize;
use std::ops::Range;
use std::panic;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};

/// Errors returned by the functions of this lesson.
#[derive(Debug, thiserror::Error)]
pub enum ThreadsError {
    /// The caller asked for zero workers.
    #[error("at least one worker is required")]
    NoWorkers,
    /// The operating system refused to create a thread.
    #[error("failed to spawn worker {index}: {source}")]
    Spawn {
        /// Index of the worker that could not be started.
        index: usize,
        /// The error reported by the OS.
        #[source]
        source: std::io::Error,
    },
}

/// Runs `work(0)`, …, `work(count - 1)`, each on its own thread named
/// `worker-{index}`, and returns the results in spawn order.
///
/// If a worker panics, every other worker is still joined, and then the
/// first panic is resumed with its original payload.
pub fn spawn_workers<T, F>(count: usize, work: F) -> Result<Vec<T>, ThreadsError>
where
    F: Fn(usize) -> T + Send + Sync + 'static,
    T: Send + 'static,
{
    let handles = spawn_named(count, work)?;
    let mut results = Vec::with_capacity(count);
    let mut first_panic = None;
    for handle in handles {
        match handle.join() {
            Ok(value) => results.push(value),
            Err(payload) => {
                first_panic.get_or_insert(payload);
            }
        }
    }
    if let Some(payload) = first_panic {
        panic::resume_unwind(payload);
    }
    Ok(results)
}

/// Spawns the named workers. On failure, joins the ones already started
/// before reporting which index could not be spawned.
fn spawn_named<T, F>(count: usize, work: F) -> Result<Vec<JoinHandle<T>>, ThreadsError>
where
    F: Fn(usize) -> T + Send + Sync + 'static,
    T: Send + 'static,
{
    let work = Arc::new(work);
    let mut handles = Vec::with_capacity(count);
    for index in 0..count {
        let work = Arc::clone(&work);
        let spawned = thread::Builder::new()
            .name(format!("worker-{index}"))
            .spawn(move || work(index));
        match spawned {
            Ok(handle) => handles.push(handle),
            Err(source) => {
                // Leave no worker running unsupervised; its outcome no longer matters.
                for handle in handles {
                    let _ = handle.join();
                }
                return Err(ThreadsError::Spawn { index, source });
            }
        }
    }
    Ok(handles)
}

/// Splits `0..len` into `min(workers, len)` contiguous, non-empty ranges
/// whose lengths differ by at most one; the first `len % n` get the extra item.
pub fn chunk_ranges(len: usize, workers: usize) -> Result<Vec<Range<usize>>, ThreadsError> {
    if workers == 0 {
        return Err(ThreadsError::NoWorkers);
    }
    let n = workers.min(len);
    if n == 0 {
        return Ok(Vec::new());
    }
    let (base, extra) = (len / n, len % n);
    let mut start = 0;
    Ok((0..n)
        .map(|i| {
            let end = start + base + usize::from(i < extra);
            let range = start..end;
            start = end;
            range
        })
        .collect())
}

/// Sums `f(item)` over `items`, one scoped thread per chunk from
/// [`chunk_ranges`]. The threads borrow `items` and `f`; nothing is cloned.
///
/// Overflow behaves like [`Iterator::sum`]. A panic in `f` is resumed.
pub fn concurrent_sum_by<T, F>(items: &[T], workers: usize, f: F) -> Result<u64, ThreadsError>
where
    T: Sync,
    F: Fn(&T) -> u64 + Sync,
{
    let ranges = chunk_ranges(items.len(), workers)?;
    let f = &f;
    thread::scope(|s| {
        let mut handles = Vec::with_capacity(ranges.len());
        for (index, range) in ranges.into_iter().enumerate() {
            let chunk = &items[range];
            let handle = thread::Builder::new()
                .name(format!("sum-{index}"))
                .spawn_scoped(s, move || chunk.iter().map(f).sum::<u64>())
                .map_err(|source| ThreadsError::Spawn { index, source })?;
            handles.push(handle);
        }
        let mut total = 0u64;
        for handle in handles {
            total += handle
                .join()
                .unwrap_or_else(|payload| panic::resume_unwind(payload));
        }
        Ok(total)
    })
}

/// Sums `numbers` with [`concurrent_sum_by`].
pub fn concurrent_sum(numbers: &[u64], workers: usize) -> Result<u64, ThreadsError> {
    concurrent_sum_by(numbers, workers, |&n| n)
}

/// A worker that panicked, and what it said.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("worker {index} panicked: {message}")]
pub struct WorkerPanic {
    /// The spawn index of the worker.
    pub index: usize,
    /// The panic message, or `<non-string panic payload>`.
    pub message: String,
}

/// What one isolated worker produced.
pub type WorkerOutcome<T> = Result<T, WorkerPanic>;

/// Like [`spawn_workers`], but a panicking worker becomes an `Err` at its
/// index instead of a panic in the caller.
pub fn run_isolated<T, F>(count: usize, work: F) -> Result<Vec<WorkerOutcome<T>>, ThreadsError>
where
    F: Fn(usize) -> T + Send + Sync + 'static,
    T: Send + 'static,
{
    let handles = spawn_named(count, work)?;
    Ok(handles
        .into_iter()
        .enumerate()
        .map(|(index, handle)| {
            handle.join().map_err(|payload| WorkerPanic {
                index,
                message: panic_message(payload.as_ref()),
            })
        })
        .collect())
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

/// Maps `f` over `items` on `min(limit, items.len())` scoped threads, so no
/// more than `limit` calls run at once. The output keeps the input order.
///
/// A panic in `f` is resumed once every thread has stopped.
pub fn parallel_map_with_limit<T, U, F>(items: Vec<T>, limit: NonZeroUsize, f: F) -> Vec<U>
where
    T: Send,
    U: Send,
    F: Fn(T) -> U + Sync,
{
    let len = items.len();
    let threads = limit.get().min(len);
    // Threads pull the next (index, item) pair from a shared queue, so a slow
    // item holds up only its own thread.
    let queue = Mutex::new(items.into_iter().enumerate());
    let mut slots: Vec<Option<U>> = (0..len).map(|_| None).collect();
    let (queue, f) = (&queue, &f);
    thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(move || {
                    let mut done = Vec::new();
                    loop {
                        // The guard is dropped at the end of this statement,
                        // so `f` never runs while the queue is locked.
                        let next = queue.lock().unwrap_or_else(PoisonError::into_inner).next();
                        let Some((index, item)) = next else { break };
                        done.push((index, f(item)));
                    }
                    done
                })
            })
            .collect();
        let mut first_panic = None;
        for handle in handles {
            match handle.join() {
                Ok(done) => {
                    for (index, value) in done {
                        slots[index] = Some(value);
                    }
                }
                Err(payload) => {
                    first_panic.get_or_insert(payload);
                }
            }
        }
        if let Some(payload) = first_panic {
            panic::resume_unwind(payload);
        }
    });
    slots
        .into_iter()
        .map(|slot| slot.expect("every index is taken from the queue exactly once"))
        .collect()
}

/// [`parallel_map_with_limit`] with `limit` set to
/// [`std::thread::available_parallelism`] (1 if it cannot be determined).
pub fn parallel_map<T, U, F>(items: Vec<T>, f: F) -> Vec<U>
where
    T: Send,
    U: Send,
    F: Fn(T) -> U + Sync,
{
    let limit = thread::available_parallelism().unwrap_or(NonZeroUsize::MIN);
    parallel_map_with_limit(items, limit, f)
}
