//! Task 3: freeze the memtable exactly once per threshold crossing, and
//! flush frozen memtables on a background thread.
//!
//! Use the `Arc`, `Mutex`, `RwLock`, `mpsc` and `thread` imported below from
//! `crate::sync`, not the ones in `std`: the loom stage swaps them for
//! loom's models, and `tests/loom.rs` checks this file's code.

use std::collections::VecDeque;

use crate::codec::{Batch, Entry, KeyEntry};
use crate::error::DbError;
use crate::memtable::Memtable;
use crate::sync::{Arc, Mutex, RwLock, mpsc, thread};

/// A memtable that takes no more writes, waiting to become an SSTable.
#[derive(Debug, Clone)]
pub struct Frozen {
    /// The memtable's id, which is also the id of its WAL file.
    pub id: u64,
    /// Its entries. Readers still search it until it has been flushed.
    pub memtable: Arc<Memtable>,
}

/// What the lock of [`MemTables`] guards.
#[derive(Debug)]
struct MemState {
    /// The memtable that takes writes.
    active: Memtable,
    /// Its id (and its WAL's).
    active_id: u64,
    /// Frozen memtables not flushed yet, newest first.
    frozen: VecDeque<Frozen>,
}

// ANCHOR: memtables
/// The active memtable and the frozen ones, shared by writers, readers and
/// the flusher.
#[derive(Debug)]
pub struct MemTables {
    state: RwLock<MemState>,
    /// Freeze the active memtable once its `approx_bytes()` reach this.
    threshold: usize,
}
// ANCHOR_END: memtables

impl MemTables {
    /// An empty active memtable with id `active_id`, and no frozen ones.
    pub fn new(active_id: u64, threshold: usize) -> Self {
        Self::with_memtable(Memtable::new(), active_id, threshold)
    }

    /// Starts from `active` (recovered from the log) as the active memtable.
    pub fn with_memtable(active: Memtable, active_id: u64, threshold: usize) -> Self {
        Self {
            state: RwLock::new(MemState {
                active,
                active_id,
                frozen: VecDeque::new(),
            }),
            threshold,
        }
    }

    /// The flush threshold.
    pub fn threshold(&self) -> usize {
        self.threshold
    }

    /// The id of the active memtable.
    pub fn active_id(&self) -> Result<u64, DbError> {
        Ok(self.state.read()?.active_id)
    }

    /// The active memtable's `approx_bytes()` and the number of frozen
    /// memtables.
    pub fn sizes(&self) -> Result<(usize, usize), DbError> {
        let state = self.state.read()?;
        Ok((state.active.approx_bytes(), state.frozen.len()))
    }

    /// Looks `key` up in the active memtable, then the frozen ones, newest
    /// first, under the read lock ([`lookup`](crate::lookup) with no tables).
    pub fn lookup(&self, key: &[u8]) -> Result<Option<Entry>, DbError> {
        let state = self.state.read()?;
        let memtables: Vec<&Memtable> = std::iter::once(&state.active)
            .chain(state.frozen.iter().map(|f| &*f.memtable))
            .collect();
        crate::read::lookup(key, &memtables, &[])
    }

    /// Copies the entries in `range` out of every memtable, newest first,
    /// so that a scan can merge them without holding the lock.
    pub fn range_snapshot(
        &self,
        range: &crate::codec::KeyRange,
    ) -> Result<Vec<Vec<KeyEntry>>, DbError> {
        let state = self.state.read()?;
        Ok(std::iter::once(&state.active)
            .chain(state.frozen.iter().map(|f| &*f.memtable))
            .map(|m| {
                m.range(range)
                    .map(|(k, e)| (k.to_vec(), e.clone()))
                    .collect()
            })
            .collect())
    }

    // ANCHOR: task3_mem
    /// Applies `batches` to the active memtable, in order, and freezes it if
    /// that made its `approx_bytes()` reach the threshold.
    ///
    /// Freezing moves the active memtable, with its id, to the front of the
    /// frozen list, and starts an empty one with id `active_id + 1`. The
    /// caller must start a new WAL with the new id and hand the returned
    /// [`Frozen`] to the flusher, both before any other writer can freeze:
    /// memtables must be flushed oldest first (the store does both under the
    /// lock that orders its writers).
    ///
    /// Apply, check and freeze under **one** write lock: if two writers could
    /// both see the memtable over the threshold, both would freeze (the
    /// second one an almost empty memtable), and a write landing between a
    /// check and a freeze could be lost.
    pub fn apply(&self, batches: &[Batch]) -> Result<Option<Frozen>, DbError> {
        todo!(
            "task 3: one write lock: apply every batch, compare approx_bytes with the threshold, freeze"
        )
    }

    /// Freezes the active memtable now, whatever its size (for
    /// [`Db::flush`](crate::Db::flush) and a clean close). An empty active
    /// memtable is not frozen: `None`.
    pub fn freeze(&self) -> Result<Option<Frozen>, DbError> {
        todo!("task 3: write lock; an empty active memtable is not frozen")
    }

    /// Forgets the frozen memtable `id`: it is now in an SSTable that
    /// readers can see. An unknown id is not an error.
    pub fn remove_frozen(&self, id: u64) -> Result<(), DbError> {
        todo!("task 3: write lock, retain the frozen memtables whose id differs")
    }
    // ANCHOR_END: task3_mem
}

// ANCHOR: flusher
/// A message to the flusher thread.
enum Job {
    /// Flush this memtable.
    Flush(Frozen),
    /// Reply once every memtable submitted before this message is flushed.
    Wait(mpsc::Sender<Result<(), DbError>>),
    /// Every job before this one is done: end the thread. (Dropping the
    /// sender would say the same with `std`, but loom's channel does not
    /// model a disconnection, so the stop signal is a message.)
    Stop,
}

/// A background thread that flushes frozen memtables, one at a time, in the
/// order they were submitted.
pub struct Flusher {
    /// The channel to the thread; `None` after shutdown.
    jobs: Option<mpsc::Sender<Job>>,
    /// The thread.
    thread: Option<thread::JoinHandle<()>>,
    /// The first failure of the sink, as a message; once set, the thread
    /// flushes nothing more.
    failure: Arc<Mutex<Option<String>>>,
}
// ANCHOR_END: flusher

impl std::fmt::Debug for Flusher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Flusher").finish_non_exhaustive()
    }
}

impl Flusher {
    // ANCHOR: task3_flusher
    /// Starts the flusher on a thread named `flusher`. For every submitted
    /// memtable it calls `sink` exactly once, in submission order.
    ///
    /// - If `sink` fails, store its message in `failure`, and flush nothing
    ///   more: the memtables stay frozen in memory, and their WAL files on
    ///   disk, so nothing is lost. Every later `Wait` gets
    ///   [`DbError::Failed`] with that message.
    /// - A `Wait` is answered with `Ok(())` (or the failure) when it is
    ///   taken off the channel: every job before it is done by then.
    /// - `Stop` (or a disconnected channel) ends the thread: every job
    ///   before it is done by then.
    pub fn spawn<F>(sink: F) -> Result<Flusher, DbError>
    where
        F: FnMut(&Frozen) -> Result<(), DbError> + Send + 'static,
    {
        todo!(
            "task 3: a channel, a thread named flusher that loops over the jobs, the failure slot"
        )
    }

    /// Queues `frozen` for flushing and returns at once. After
    /// [`shutdown`](Self::shutdown) it is [`DbError::Closed`].
    pub fn submit(&self, frozen: Frozen) -> Result<(), DbError> {
        todo!("task 3: send Job::Flush; no sender or a send error is DbError::Closed")
    }

    /// Waits until every memtable submitted before this call has been
    /// flushed: send a `Wait` with a reply channel, and wait for the reply.
    pub fn wait(&self) -> Result<(), DbError> {
        todo!("task 3: send Job::Wait with a reply channel, then wait for the reply")
    }

    /// Flushes everything submitted, stops the thread (send `Stop`) and
    /// joins it. Returns the sink's failure, if there was one
    /// ([`DbError::Failed`]). A panicked thread is [`DbError::Poisoned`]; a
    /// second call is `Ok(())`.
    pub fn shutdown(&mut self) -> Result<(), DbError> {
        todo!("task 3: take the sender, send Stop, join the thread, report the failure")
    }
    // ANCHOR_END: task3_flusher
}

impl Drop for Flusher {
    /// Stops the thread like [`shutdown`](Flusher::shutdown), but with
    /// nowhere to report an error. While panicking it does not wait.
    fn drop(&mut self) {
        if std::thread::panicking() {
            if let Some(jobs) = self.jobs.take() {
                let _ = jobs.send(Job::Stop);
            }
        } else {
            let _ = self.shutdown();
        }
    }
}
