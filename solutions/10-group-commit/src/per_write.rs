//! Task 1: the baseline, where every write pays for its own sync.

use std::io::Write;
use std::sync::{Arc, PoisonError};

use crate::sync::Mutex;
use crate::{CommitError, Lsn, Syncer, encode_record};

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
        Self {
            inner: Mutex::new(Inner {
                sink: Box::new(sink),
                syncer: Box::new(syncer),
                last_lsn: 0,
                buf: Vec::new(),
            }),
        }
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
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let Inner {
            sink,
            syncer,
            last_lsn,
            buf,
        } = &mut *inner;
        *last_lsn += 1;
        let lsn = Lsn(*last_lsn);
        buf.clear();
        encode_record(buf, lsn, payload);
        sink.write_all(buf)
            .and_then(|()| sink.flush())
            .map_err(|e| CommitError::Write(Arc::new(e)))?;
        syncer.sync().map_err(|e| CommitError::Sync(Arc::new(e)))?;
        Ok(lsn)
    }
}

impl std::fmt::Debug for SyncPerWrite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncPerWrite").finish_non_exhaustive()
    }
}
