//! Task 1: the baseline, where every write pays for its own sync.

use std::io::Write;

use crate::sync::Mutex;
use crate::{CommitError, Lsn, Syncer};

// ANCHOR: per_write
/// A log in which every [`write`](Self::write) writes its record and syncs
/// it, under one lock. Correct, simple, and as slow as the disk: one sync
/// per record, one record at a time.
pub struct SyncPerWrite {
    inner: Mutex<Inner>,
}

/// Everything the lock protects.
struct Inner {
    sink: Box<dyn Write + Send>,
    syncer: Box<dyn Syncer>,
    /// The LSN of the last record written (0 before the first).
    last_lsn: u64,
    /// Reused for encoding, so that a write does not allocate.
    buf: Vec<u8>,
}

impl SyncPerWrite {
    /// A log that appends to `sink` and makes it durable with `syncer`.
    pub fn new<W, S>(sink: W, syncer: S) -> Self
    where
        W: Write + Send + 'static,
        S: Syncer,
    {
        todo!("task 1: box the sink and the syncer; no record written yet")
    }

    /// Appends `payload` as the next record, syncs, and returns its LSN once
    /// the sync has succeeded.
    ///
    /// - Under the lock: take the next LSN, encode the record with
    ///   [`encode_record`](crate::encode_record), write it with one
    ///   `write_all`, `flush`, then sync.
    /// - A failed write is [`CommitError::Write`] (and is not synced); a
    ///   failed sync is [`CommitError::Sync`]. The LSN is used up either way,
    ///   and the next write gets the one after it.
    pub fn write(&self, payload: &[u8]) -> Result<Lsn, CommitError> {
        todo!("task 1: lock, number, encode, write_all + flush, sync")
    }
}
// ANCHOR_END: per_write

impl std::fmt::Debug for SyncPerWrite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncPerWrite").finish_non_exhaustive()
    }
}
