//! Group commit: many writers, one committer thread, one write and one sync
//! per batch.
//!
//! The exercise suggests the simplest design that works: a queue of
//! records, and a waiter per writer that the committer unparks. This
//! reference goes three steps further, each measured (see the chapter):
//!
//! 1. **Batches are formed as writers arrive.** A writer appends its encoded
//!    record to the newest open batch if the limits allow, or opens a new
//!    one. The committer takes whole batches and writes each one's buffer
//!    as it is.
//! 2. **One wake-up call per batch.** The writers of a batch all wait on the
//!    batch's [`Latch`]; the committer sets it once, which wakes all of them
//!    with a single futex call instead of one `unpark` per writer.
//! 3. **The next batch waits for the last one's wave.** The committer does
//!    not start the next sync until every writer it just released has woken
//!    up. Those writers usually want to write again, and a sync started
//!    without them would be small, while they would then wait a whole extra
//!    sync: batches would alternate between a few records and nearly all of
//!    them, which halves the throughput.

use std::collections::VecDeque;
use std::io::Write;
use std::sync::PoisonError;
use std::time::Duration;

use crate::sync::atomic::{AtomicUsize, Ordering};
use crate::sync::thread::{self, JoinHandle};
use crate::sync::{Arc, Condvar, Mutex, MutexGuard};
use crate::{CommitError, Lsn, Syncer, encode_record, encoded_len};

use latch::Latch;

/// How long the committer waits for the writers of the last batch to wake
/// up before it starts the next batch without the stragglers. A wave of 128
/// writers takes about half a millisecond here; this only matters if a
/// writer's thread is stopped or starved.
const WAVE_PATIENCE: Duration = Duration::from_millis(2);

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

impl Config {
    /// Rejects a limit of zero with [`CommitError::InvalidConfig`]: such a
    /// log could never commit anything.
    pub fn validate(&self) -> Result<(), CommitError> {
        if self.max_batch_records == 0 {
            return Err(CommitError::InvalidConfig(
                "max_batch_records must be at least 1",
            ));
        }
        if self.max_batch_bytes == 0 {
            return Err(CommitError::InvalidConfig(
                "max_batch_bytes must be at least 1",
            ));
        }
        Ok(())
    }
}

/// A write-ahead log whose writers share syncs.
///
/// [`write`](Self::write) takes `&self`: share the log between threads with
/// an `Arc` (or borrow it in `thread::scope`). One committer thread, started
/// by [`new`](Self::new), writes each batch with one call, syncs it once,
/// and releases its writers.
pub struct GroupCommit {
    shared: Arc<Shared>,
    /// The committer thread; `shutdown` takes it out and joins it.
    committer: Mutex<Option<JoinHandle<()>>>,
}

/// What the writers and the committer share.
struct Shared {
    state: Mutex<State>,
    /// The committer waits here for a batch it may start, or for shutdown.
    work_ready: Condvar,
    config: Config,
}

/// Everything the `state` lock protects.
struct State {
    /// Batches not yet taken by the committer, oldest first. Only the last
    /// one accepts more records.
    batches: VecDeque<OpenBatch>,
    /// The LSN of the last accepted record (0 before the first).
    last_lsn: u64,
    /// Writers accepted and not yet released.
    pending: usize,
    /// Set by `shutdown`: no more records are accepted.
    closed: bool,
    /// The committer is waiting on `work_ready`; whoever changes what it
    /// waits for clears this and notifies.
    committer_waiting: bool,
    /// The sequence number of the last released batch while some of its
    /// writers have not woken up yet.
    wave_pending: Option<u64>,
    /// The sequence number of the next batch to open.
    next_seq: u64,
}

/// A batch that is still filling up.
struct OpenBatch {
    /// The encoded records, ready for one `write_all`.
    bytes: Vec<u8>,
    records: usize,
    done: Arc<Done>,
}

/// How the writers of one batch learn its outcome.
struct Done {
    /// Which batch this is, so that a late wave cannot end a newer one.
    seq: u64,
    outcome: Latch<Result<(), CommitError>>,
    /// Writers that have not picked up the outcome yet; set by the committer
    /// when it takes the batch.
    unclaimed: AtomicUsize,
}

impl Done {
    fn new(seq: u64) -> Arc<Self> {
        Arc::new(Self {
            seq,
            outcome: Latch::new(),
            unclaimed: AtomicUsize::new(0),
        })
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl State {
    /// Adds the record to the newest batch if the limits allow, or to a new
    /// batch, and returns that batch's `Done`.
    fn enqueue(&mut self, lsn: Lsn, payload: &[u8], config: &Config) -> Arc<Done> {
        let len = encoded_len(payload.len());
        let fits = self.batches.back().is_some_and(|b| {
            b.records < config.max_batch_records && b.bytes.len() + len <= config.max_batch_bytes
        });
        if !fits {
            self.next_seq += 1;
            self.batches.push_back(OpenBatch {
                bytes: Vec::with_capacity(len.min(config.max_batch_bytes)),
                records: 0,
                done: Done::new(self.next_seq),
            });
        }
        let batch = self.batches.back_mut().expect("a batch was just ensured");
        encode_record(&mut batch.bytes, lsn, payload);
        batch.records += 1;
        Arc::clone(&batch.done)
    }

    /// Whether the committer may take the front batch now.
    fn batch_ready(&self) -> bool {
        match self.batches.len() {
            0 => false,
            // The newest batch can still grow: wait for the last wave first.
            1 => self.wave_pending.is_none() || self.closed,
            // The front batch is full.
            _ => true,
        }
    }

    /// Clears `committer_waiting` and says whether to notify.
    fn take_waiting(&mut self) -> bool {
        std::mem::take(&mut self.committer_waiting)
    }
}

impl GroupCommit {
    /// Checks `config` ([`Config::validate`]), then starts the committer
    /// thread (named `group-committer`), which owns `sink` and `syncer`.
    ///
    /// A thread the OS refuses to start is [`CommitError::Spawn`].
    pub fn new<W, S>(sink: W, syncer: S, config: Config) -> Result<Self, CommitError>
    where
        W: Write + Send + 'static,
        S: Syncer,
    {
        config.validate()?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                batches: VecDeque::new(),
                last_lsn: 0,
                pending: 0,
                closed: false,
                committer_waiting: false,
                wave_pending: None,
                next_seq: 0,
            }),
            work_ready: Condvar::new(),
            config,
        });
        let committer = {
            let shared = Arc::clone(&shared);
            thread::Builder::new()
                .name("group-committer".into())
                .spawn(move || Committer::new(&shared).run(sink, syncer))
                .map_err(|e| CommitError::Spawn(std::sync::Arc::new(e)))?
        };
        Ok(Self {
            shared,
            committer: Mutex::new(Some(committer)),
        })
    }

    /// Appends `payload` as a record and returns its LSN once the record is
    /// durable: written, and synced by a sync that returned `Ok`.
    ///
    /// A write after [`shutdown`](Self::shutdown) began is
    /// [`CommitError::Closed`]; a failed write or sync of the record's batch
    /// is [`CommitError::Write`] or [`CommitError::Sync`].
    pub fn write(&self, payload: &[u8]) -> Result<Lsn, CommitError> {
        let shared = &*self.shared;
        let (lsn, done) = {
            let mut state = lock(&shared.state);
            if state.closed {
                return Err(CommitError::Closed);
            }
            state.last_lsn += 1;
            let lsn = Lsn(state.last_lsn);
            state.pending += 1;
            let done = state.enqueue(lsn, payload, &shared.config);
            // While a wave is pending, the committer cannot start yet
            // anyway; the wave's last writer will wake it.
            if state.batch_ready() && state.take_waiting() {
                shared.work_ready.notify_one();
            }
            (lsn, done)
        };
        let outcome = done.outcome.wait();
        // The last writer of the wave lets the committer start the next batch.
        if done.unclaimed.fetch_sub(1, Ordering::AcqRel) == 1 {
            let mut state = lock(&shared.state);
            if state.wave_pending == Some(done.seq) {
                state.wave_pending = None;
            }
            if state.batch_ready() && state.take_waiting() {
                shared.work_ready.notify_one();
            }
        }
        outcome.map(|()| lsn)
    }

    /// The number of writers that have been accepted (their record has an
    /// LSN and is queued or in a batch) and not yet released.
    pub fn pending(&self) -> usize {
        lock(&self.shared.state).pending
    }

    /// Stops the log: every write accepted before the call is committed and
    /// its writer released; every write after it fails with
    /// [`CommitError::Closed`]. Returns once the committer has exited.
    ///
    /// Calling it again, or concurrently, is fine: only the call that takes
    /// the committer's `JoinHandle` waits for it.
    pub fn shutdown(&self) {
        {
            let mut state = lock(&self.shared.state);
            state.closed = true;
            if state.take_waiting() {
                self.shared.work_ready.notify_one();
            }
        }
        let handle = lock(&self.committer).take();
        if let Some(handle) = handle {
            // A committer that panicked has already failed its writers
            // (see `Committer::drop`); there is nothing left to report.
            let _ = handle.join();
        }
    }

    /// Whether [`shutdown`](Self::shutdown) has been called.
    pub fn is_closed(&self) -> bool {
        lock(&self.shared.state).closed
    }
}

impl Drop for GroupCommit {
    /// Shuts the log down (see [`GroupCommit::shutdown`]).
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl std::fmt::Debug for GroupCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit")
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

/// The committer thread's side.
struct Committer<'a> {
    shared: &'a Shared,
    /// The batch being written and synced, until its outcome is set.
    in_flight: Option<Arc<Done>>,
}

impl<'a> Committer<'a> {
    fn new(shared: &'a Shared) -> Self {
        Self {
            shared,
            in_flight: None,
        }
    }

    /// Until shutdown, and then until every batch is committed: take the
    /// oldest batch, write it, sync it, release its writers.
    fn run<W: Write, S: Syncer>(mut self, mut sink: W, mut syncer: S) {
        while let Some(batch) = self.next_batch() {
            batch.done.unclaimed.store(batch.records, Ordering::Relaxed);
            self.in_flight = Some(Arc::clone(&batch.done));
            let outcome = write_and_sync(&mut sink, &mut syncer, &batch.bytes);
            {
                let mut state = lock(&self.shared.state);
                state.pending -= batch.records;
                state.wave_pending = Some(batch.done.seq);
            }
            self.in_flight = None;
            batch.done.outcome.set(outcome);
        }
    }

    /// Waits for a batch the committer may take; `None` once the log is
    /// closed and empty.
    fn next_batch(&self) -> Option<OpenBatch> {
        let mut state = lock(&self.shared.state);
        loop {
            if state.batch_ready() {
                return state.batches.pop_front();
            }
            if state.closed && state.batches.is_empty() {
                return None;
            }
            state.committer_waiting = true;
            if state.batches.is_empty() {
                state = self
                    .shared
                    .work_ready
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
            } else {
                // Only the last wave holds the batch back: wait for it, but
                // not forever.
                let (guard, waited) = self
                    .shared
                    .work_ready
                    .wait_timeout(state, WAVE_PATIENCE)
                    .unwrap_or_else(PoisonError::into_inner);
                state = guard;
                if waited.timed_out() {
                    state.wave_pending = None;
                }
            }
        }
    }
}

impl Drop for Committer<'_> {
    /// If the committer unwinds (a panicking sink or syncer), fail every
    /// writer it would have released, so that none waits forever.
    fn drop(&mut self) {
        if !std::thread::panicking() {
            return;
        }
        let mut state = lock(&self.shared.state);
        state.closed = true;
        let stranded: Vec<_> = state
            .batches
            .drain(..)
            .map(|b| {
                b.done.unclaimed.store(b.records, Ordering::Relaxed);
                b.done
            })
            .collect();
        drop(state);
        for done in self.in_flight.take().into_iter().chain(stranded) {
            done.outcome.set(Err(CommitError::Closed));
        }
    }
}

/// Writes one encoded batch with a single `write_all`, flushes, and syncs.
/// A failed write is not synced.
fn write_and_sync<W: Write, S: Syncer>(
    sink: &mut W,
    syncer: &mut S,
    bytes: &[u8],
) -> Result<(), CommitError> {
    sink.write_all(bytes)
        .and_then(|()| sink.flush())
        .map_err(|e| CommitError::Write(std::sync::Arc::new(e)))?;
    syncer
        .sync()
        .map_err(|e| CommitError::Sync(std::sync::Arc::new(e)))
}

/// A value that is set once and that any number of threads can wait for.
///
/// Outside loom it is [`std::sync::OnceLock`]: setting it wakes every
/// waiter with a single futex call. loom does not model `OnceLock`, so under
/// loom it is the equivalent mutex and condvar.
mod latch {
    #[cfg(not(loom))]
    pub(super) struct Latch<T>(std::sync::OnceLock<T>);

    #[cfg(not(loom))]
    impl<T: Clone> Latch<T> {
        pub(super) fn new() -> Self {
            Self(std::sync::OnceLock::new())
        }

        /// Sets the value (the first call wins) and wakes every waiter.
        pub(super) fn set(&self, value: T) {
            let _ = self.0.set(value);
        }

        /// Blocks until the value is set, and returns a clone of it.
        pub(super) fn wait(&self) -> T {
            self.0.wait().clone()
        }
    }

    #[cfg(loom)]
    pub(super) struct Latch<T> {
        value: loom::sync::Mutex<Option<T>>,
        set: loom::sync::Condvar,
    }

    #[cfg(loom)]
    impl<T: Clone> Latch<T> {
        pub(super) fn new() -> Self {
            Self {
                value: loom::sync::Mutex::new(None),
                set: loom::sync::Condvar::new(),
            }
        }

        pub(super) fn set(&self, value: T) {
            let mut slot = self.value.lock().expect("latch lock");
            if slot.is_none() {
                *slot = Some(value);
            }
            self.set.notify_all();
        }

        /// Blocks until the value is set, and returns a clone of it.
        pub(super) fn wait(&self) -> T {
            let mut slot = self.value.lock().expect("latch lock");
            loop {
                if let Some(value) = &*slot {
                    return value.clone();
                }
                slot = self.set.wait(slot).expect("latch lock");
            }
        }
    }
}
