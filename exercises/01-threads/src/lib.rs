//! Lesson 01: threads.
//!
//! Replace every `todo!()` with an implementation. The tests in
//! `tests/threads.rs` grade your work: `cargo test -p threads t1_` runs the
//! tests of task 1, and so on.

use std::num::NonZeroUsize;
use std::ops::Range;

// ANCHOR: errors
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
// ANCHOR_END: errors

// ANCHOR: task1
/// Runs `work(0)`, `work(1)`, …, `work(count - 1)`, each on its own OS thread,
/// and returns their results in spawn order (index order), whatever order the
/// threads happen to finish in.
///
/// - Every worker runs on a thread named `worker-{index}`. Start it with
///   [`std::thread::Builder`], so that a thread the OS refuses to create
///   becomes [`ThreadsError::Spawn`] instead of a panic.
/// - `count == 0` returns `Ok(vec![])`.
/// - If a worker panics, join all the other workers first, then resume the
///   first panic with its original payload ([`std::panic::resume_unwind`]).
///   "First" is in spawn order: when several workers panic, the one with
///   the lowest index wins, whichever panicked first in time.
pub fn spawn_workers<T, F>(count: usize, work: F) -> Result<Vec<T>, ThreadsError>
where
    F: Fn(usize) -> T + Send + Sync + 'static,
    T: Send + 'static,
{
    todo!("task 1: spawn `count` named threads, keep their JoinHandles in order, join them all")
}
// ANCHOR_END: task1

// ANCHOR: task2
/// Splits `0..len` into contiguous ranges, one per worker, for
/// [`concurrent_sum_by`].
///
/// - Returns `min(workers, len)` ranges that cover `0..len` in order.
/// - No range is empty, and lengths differ by at most one: with
///   `n` ranges, the first `len % n` ranges get one extra item.
///   For example, `chunk_ranges(10, 4)` is `[0..3, 3..6, 6..8, 8..10]`.
/// - `workers == 0` is [`ThreadsError::NoWorkers`]; `len == 0` (with at
///   least one worker) gives an empty `Vec`.
pub fn chunk_ranges(len: usize, workers: usize) -> Result<Vec<Range<usize>>, ThreadsError> {
    todo!("task 2: base = len / n and extra = len % n, where n = min(workers, len)")
}

/// Sums `f(item)` over `items` using up to `workers` threads.
///
/// Split `items` with [`chunk_ranges`] and sum each chunk on its own scoped
/// thread ([`std::thread::scope`]); the threads borrow `items` and `f`
/// directly, with no `Arc` and no copying. The caller's thread only waits.
///
/// - `workers == 0` is [`ThreadsError::NoWorkers`], even for empty input.
/// - An empty `items` sums to 0.
/// - If `f` panics, the panic reaches the caller with its original payload.
pub fn concurrent_sum_by<T, F>(items: &[T], workers: usize, f: F) -> Result<u64, ThreadsError>
where
    T: Sync,
    F: Fn(&T) -> u64 + Sync,
{
    todo!("task 2: split with chunk_ranges and spawn one scoped thread per chunk")
}

/// Sums `numbers` with [`concurrent_sum_by`].
///
/// `concurrent_sum(&(1..=1_000_000).collect::<Vec<u64>>(), 4)` is
/// `Ok(500000500000)`.
pub fn concurrent_sum(numbers: &[u64], workers: usize) -> Result<u64, ThreadsError> {
    todo!("task 2: one line, built on concurrent_sum_by")
}
// ANCHOR_END: task2

// ANCHOR: task3
/// A worker that panicked, and what it said.
///
/// Displays as `worker 3 panicked: boom`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("worker {index} panicked: {message}")]
pub struct WorkerPanic {
    /// The spawn index of the worker.
    pub index: usize,
    /// The panic message: the payload if it is a `&'static str` or a
    /// `String`, otherwise `<non-string panic payload>`.
    pub message: String,
}

/// What one isolated worker produced: its value, or how it panicked.
pub type WorkerOutcome<T> = Result<T, WorkerPanic>;

/// Like [`spawn_workers`] (same thread names, same spawn order), but a
/// panicking worker does not take the caller down: its slot in the result
/// holds a [`WorkerPanic`], and every other worker's value is kept.
///
/// This function never panics because a worker did.
pub fn run_isolated<T, F>(count: usize, work: F) -> Result<Vec<WorkerOutcome<T>>, ThreadsError>
where
    F: Fn(usize) -> T + Send + Sync + 'static,
    T: Send + 'static,
{
    todo!("task 3: turn each JoinHandle::join error into a WorkerPanic at that index")
}
// ANCHOR_END: task3

// ANCHOR: task4
/// Maps `f` over `items` in parallel and returns the results in input order.
///
/// - Never more than `limit` calls of `f` run at the same time.
/// - Never more than `min(limit, items.len())` threads are used.
/// - Empty input gives empty output.
/// - If `f` panics, the panic reaches the caller with its original payload.
pub fn parallel_map_with_limit<T, U, F>(items: Vec<T>, limit: NonZeroUsize, f: F) -> Vec<U>
where
    T: Send,
    U: Send,
    F: Fn(T) -> U + Sync,
{
    todo!("task 4: min(limit, len) scoped threads pulling (index, item) pairs from a shared queue")
}

/// [`parallel_map_with_limit`] with `limit` set to
/// [`std::thread::available_parallelism`], or 1 if that returns an error.
pub fn parallel_map<T, U, F>(items: Vec<T>, f: F) -> Vec<U>
where
    T: Send,
    U: Send,
    F: Fn(T) -> U + Sync,
{
    todo!("task 4: ask available_parallelism for the limit")
}
// ANCHOR_END: task4
