//! Tasks 2 to 5: group commit. Many writers, one committer thread, one
//! write and one sync per batch.
//!
//! The private types below are one design that works (and that the hints
//! follow): a queue under a mutex, a condvar that wakes the committer, and
//! a small [`Waiter`] per write that the committer fills in and unparks.
//! You may change them; the tests use only the public API.

use std::collections::VecDeque;
use std::io::Write;
use std::sync::PoisonError;

use crate::sync::thread::{self, JoinHandle, Thread};
use crate::sync::{Arc, Condvar, Mutex, MutexGuard};
use crate::{CommitError, Lsn, Syncer};

// ANCHOR: config
/// Limits on the size of one batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// At most this many records go into one write and one sync.
    pub max_batch_records: usize,
    /// At most this many encoded bytes (headers included) go into one batch,
    /// except that a single record larger than this is committed in a batch
    /// of its own.
    pub max_batch_bytes: usize,
}

impl Default for Config {
    /// 1024 records or 1 MiB per batch.
    fn default() -> Self {
        Self {
            max_batch_records: 1024,
            max_batch_bytes: 1 << 20,
        }
    }
}
// ANCHOR_END: config

// ANCHOR: types
/// A write-ahead log whose writers share syncs.
///
/// [`write`](Self::write) takes `&self`: share the log between threads with
/// an `Arc` (or borrow it in `thread::scope`). One committer thread, started
/// by [`new`](Self::new), turns whatever has queued up into one batch,
/// writes it with one call, syncs it once, and releases its writers.
pub struct GroupCommit {
    shared: Arc<Shared>,
    /// The committer thread; `shutdown` takes it out and joins it.
    committer: Mutex<Option<JoinHandle<()>>>,
}

/// What the writers and the committer share.
struct Shared {
    state: Mutex<State>,
    /// The committer waits here for records, or for shutdown.
    work_ready: Condvar,
    config: Config,
}

/// Everything the `state` lock protects.
struct State {
    /// Accepted records not yet taken by the committer, in LSN order.
    queue: VecDeque<Pending>,
    /// The LSN of the last accepted record (0 before the first).
    last_lsn: u64,
    /// Writers accepted and not yet released (see [`GroupCommit::pending`]).
    pending: usize,
    /// Set by `shutdown`: no more records are accepted.
    closed: bool,
}

/// One accepted record, waiting for its batch.
struct Pending {
    lsn: Lsn,
    payload: Vec<u8>,
    /// How the committer reaches the writer.
    waiter: Arc<Waiter>,
}

/// Where one writer waits for the outcome of its batch.
struct Waiter {
    /// The writer's thread, for `unpark`.
    thread: Thread,
    /// `None` until the committer fills in the batch's outcome.
    outcome: Mutex<Option<Result<(), CommitError>>>,
}
// ANCHOR_END: types

/// Locks `mutex`, ignoring poisoning: every critical section in this file
/// leaves the data consistent even if it panics.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

// ANCHOR: task2
impl GroupCommit {
    /// Checks `config` ([`Config::validate`]), then starts the committer
    /// thread (named `group-committer`), which owns `sink` and `syncer`
    /// and runs [`commit_loop`].
    ///
    /// A thread the OS refuses to start is [`CommitError::Spawn`].
    pub fn new<W, S>(sink: W, syncer: S, config: Config) -> Result<Self, CommitError>
    where
        W: Write + Send + 'static,
        S: Syncer,
    {
        todo!("task 2: build Shared in an Arc, spawn the committer with a clone of it")
    }

    /// Appends `payload` as a record and returns its LSN once the record is
    /// durable: written, and synced by a sync that returned `Ok`.
    ///
    /// Under the `state` lock: refuse if closed ([`CommitError::Closed`]),
    /// take the next LSN, queue the record with a fresh [`Waiter`], and count
    /// the writer as pending. Then wake the committer and wait, outside the
    /// lock, until the committer fills in the outcome.
    pub fn write(&self, payload: &[u8]) -> Result<Lsn, CommitError> {
        todo!("task 2: queue a Pending with the next LSN, notify the committer, wait")
    }

    /// The number of writers that have been accepted (their record has an
    /// LSN and is queued or in a batch) and not yet released.
    pub fn pending(&self) -> usize {
        todo!("task 2: read State::pending")
    }
}

impl Waiter {
    /// A waiter for the calling thread.
    fn new() -> Self {
        Self {
            thread: thread::current(),
            outcome: Mutex::new(None),
        }
    }

    /// Called by the committer: store the outcome, then unpark the writer.
    fn complete(&self, outcome: Result<(), CommitError>) {
        todo!("task 2: fill in the outcome, then unpark")
    }

    /// Called by the writer: park until the outcome is there, and take it.
    ///
    /// `park` may return spuriously, and an `unpark` that comes first makes
    /// the next `park` return at once; check the outcome in a loop.
    fn wait(&self) -> Result<(), CommitError> {
        todo!("task 2: in a loop, take the outcome if it is there, else park")
    }
}

/// The committer thread: until shutdown, and then until the queue is empty:
///
/// 1. wait on `work_ready` while the queue is empty (return if it is empty
///    and closed);
/// 2. take a batch off the queue with [`take_batch`], and unlock;
/// 3. encode the whole batch into one buffer and [`write_and_sync`] it;
/// 4. subtract the batch from `pending`, then hand every waiter of the
///    batch the outcome.
///
/// (You will want `mut sink` and `mut syncer`.)
fn commit_loop<W: Write, S: Syncer>(shared: &Shared, sink: W, syncer: S) {
    todo!("task 2: wait for records, take a batch, encode, write_and_sync, release")
}
// ANCHOR_END: task2

// ANCHOR: task3
/// Writes one encoded batch with a single `write_all`, flushes, and syncs.
///
/// Task 3: this version panics on the first I/O error, which kills the
/// committer and leaves every writer waiting forever. Return the error
/// instead: a failed write is [`CommitError::Write`] (and is not synced), a
/// failed sync is [`CommitError::Sync`]. The committer then hands the same
/// outcome to every writer of the batch, and carries on with the next one.
fn write_and_sync<W: Write, S: Syncer>(
    sink: &mut W,
    syncer: &mut S,
    bytes: &[u8],
) -> Result<(), CommitError> {
    sink.write_all(bytes)
        .expect("task 3: return CommitError::Write");
    sink.flush().expect("task 3: return CommitError::Write");
    syncer.sync().expect("task 3: return CommitError::Sync");
    Ok(())
}
// ANCHOR_END: task3

// ANCHOR: task4
impl Config {
    /// Rejects a limit of zero with [`CommitError::InvalidConfig`]: such a
    /// log could never commit anything.
    pub fn validate(&self) -> Result<(), CommitError> {
        // Task 4: check both limits.
        Ok(())
    }
}

/// Moves the next batch from the front of `queue` into `batch` (which is
/// empty): at most `config.max_batch_records` records and at most
/// `config.max_batch_bytes` encoded bytes
/// ([`encoded_len`](crate::encoded_len)), but always at least one record
/// if the queue is not empty, however large it is.
fn take_batch(queue: &mut VecDeque<Pending>, config: &Config, batch: &mut Vec<Pending>) {
    // Task 4: this takes the whole queue, however long. Respect the limits.
    let _ = config;
    batch.extend(queue.drain(..));
}
// ANCHOR_END: task4

// ANCHOR: task5
impl GroupCommit {
    /// Stops the log: every write accepted before the call is committed and
    /// its writer released; every write after it fails with
    /// [`CommitError::Closed`].
    ///
    /// Set `closed`, wake the committer (it drains the queue, then exits),
    /// and join it. Calling it again, or concurrently, is fine: only the call
    /// that takes the `JoinHandle` joins.
    pub fn shutdown(&self) {
        todo!("task 5: close, notify, take the JoinHandle and join it")
    }

    /// Whether [`shutdown`](Self::shutdown) has been called.
    pub fn is_closed(&self) -> bool {
        todo!("task 5: read State::closed")
    }
}

impl Drop for GroupCommit {
    /// Shuts the log down (see [`GroupCommit::shutdown`]).
    fn drop(&mut self) {
        // Task 5: shut down.
        //
        // (This body is empty rather than a `todo!()`, so that the tests of
        // tasks 2 to 4 can drop their logs before you get here. Until then,
        // a dropped log leaves its committer thread waiting forever.)
    }
}
// ANCHOR_END: task5

impl std::fmt::Debug for GroupCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit")
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}
