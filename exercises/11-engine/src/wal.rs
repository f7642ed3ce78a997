//! Task 2: the write-ahead log, and recovery from it.

use std::io::{BufWriter, ErrorKind, Write};
use std::path::{Path, PathBuf};

use simfs::{Fs, FsFile, OpenOptions};

use crate::codec::{
    Batch, FRAME_HEADER, Frame, MAX_FRAME_PAYLOAD, decode_batch, decode_frame, encode_batch,
    encode_frame, intact_frame_in,
};
use crate::error::DbError;
use crate::memtable::Memtable;

/// The file of the WAL with id `id`: `dir/00000042.wal`.
///
/// Every memtable has its own log, with the same id: when the memtable is
/// frozen, the store starts a new log, and once the frozen memtable is safe
/// in an SSTable, its log can be deleted.
pub fn wal_path(dir: &Path, id: u64) -> PathBuf {
    dir.join(format!("{id:08}.wal"))
}

/// The ids of the WAL files in `dir`, in increasing order.
pub fn list_wals(fs: &dyn Fs, dir: &Path) -> Result<Vec<u64>, DbError> {
    list_ids(fs, dir, "wal")
}

/// The ids of the files `NNNNNNNN.<ext>` in `dir`, in increasing order.
pub(crate) fn list_ids(fs: &dyn Fs, dir: &Path, ext: &str) -> Result<Vec<u64>, DbError> {
    let mut ids = Vec::new();
    for name in fs.read_dir(dir)? {
        if let Some(id) = name
            .strip_suffix(ext)
            .and_then(|s| s.strip_suffix('.'))
            .and_then(|s| s.parse().ok())
        {
            ids.push(id);
        }
    }
    ids.sort_unstable();
    Ok(ids)
}

/// Syncs a directory, so that the names created in it (or renamed into
/// it) survive a power cut.
pub fn sync_dir(fs: &dyn Fs, dir: &Path) -> Result<(), DbError> {
    fs.sync_dir(dir)?;
    Ok(())
}

// ANCHOR: task2
/// One WAL file, open for appending.
#[derive(Debug)]
pub struct Wal {
    /// The file behind a write buffer.
    file: BufWriter<Box<dyn FsFile>>,
    /// The log's id (the id of its memtable).
    id: u64,
    /// A reusable buffer for encoding.
    scratch: Vec<u8>,
}

impl Wal {
    /// Creates the log file [`wal_path`]`(dir, id)`, which must not exist
    /// yet (`OpenOptions::create_new`), and syncs `dir` so that the new name
    /// is durable.
    pub fn create(fs: &dyn Fs, dir: &Path, id: u64) -> Result<Wal, DbError> {
        todo!("task 2: create the log file so that its name survives a power cut")
    }

    /// Buffers `batch` as one frame: [`encode_batch`] into a buffer, then
    /// [`encode_frame`] around it. A batch whose encoding is larger than
    /// [`MAX_FRAME_PAYLOAD`] is [`DbError::TooLarge`] and writes nothing.
    ///
    /// One frame per batch is what makes a batch atomic: after a crash its
    /// frame is either intact (every operation) or torn (none).
    pub fn append(&mut self, batch: &Batch) -> Result<(), DbError> {
        todo!("task 2: encode_batch, check the size, encode_frame, write_all into the BufWriter")
    }

    /// Hands everything buffered to the kernel (`flush`): it now survives a
    /// killed process, but not a power cut.
    pub fn flush(&mut self) -> Result<(), DbError> {
        todo!("task 2: flush the BufWriter")
    }

    /// Makes everything appended durable: `flush`, then `sync_data`.
    pub fn sync(&mut self) -> Result<(), DbError> {
        todo!("task 2: make everything appended durable")
    }

    /// The log's id.
    pub fn id(&self) -> u64 {
        self.id
    }
}

/// What one WAL file holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WalContents {
    /// Every intact batch, in the order they were appended.
    pub batches: Vec<Batch>,
    /// `Some(offset)` if a torn frame (a crash in the middle of a write)
    /// starts at `offset` after the intact frames; `None` if the file ends
    /// exactly after its last frame.
    pub torn_at: Option<u64>,
}

/// Reads the WAL file at `path`. A missing file is an empty log.
///
/// Walk the bytes with [`decode_frame`] and [`decode_batch`]:
/// - [`Frame::Complete`]: decode its payload (a payload that is not a
///   batch is [`DbError::Corrupt`]) and go on after it.
/// - [`Frame::Incomplete`] or [`Frame::Damaged`]: the log stops here. If an
///   intact frame starts anywhere after this frame's first byte
///   ([`intact_frame_in`]), the damage is in the middle of the log:
///   [`DbError::Corrupt`]. Otherwise it is a torn tail (a crash in the
///   middle of a write): stop, with `torn_at` at this frame's offset.
///
/// Why look further even for an incomplete frame? A damaged length field
/// can point past the end of the file, and then an intact frame in the
/// middle looks like one that has not finished arriving.
pub fn read_wal(fs: &dyn Fs, path: &Path) -> Result<WalContents, DbError> {
    todo!(
        "task 2: read the file (missing = empty), decode frame after frame, tell a torn tail from corruption"
    )
}

/// What [`replay_wals`] recovered.
#[derive(Debug, Default)]
pub struct Recovered {
    /// Every batch of the replayed logs, applied in order.
    pub memtable: Memtable,
    /// The ids of the logs that were replayed, in increasing order.
    pub replayed: Vec<u64>,
    /// The ids of the logs below `log_number`: their memtables are already
    /// in SSTables, so they were not replayed and may be deleted.
    pub obsolete: Vec<u64>,
    /// The id for the next log: larger than every log id in the directory,
    /// and at least `log_number`.
    pub next_id: u64,
}

/// Rebuilds the memtable from the WAL files in `dir` ([`list_wals`]).
///
/// Logs with an id below `log_number` are obsolete: skip them. Replay the
/// others in increasing id order, applying every batch of each to one
/// memtable. `next_id` is `max(log_number, last id + 1)`.
pub fn replay_wals(fs: &dyn Fs, dir: &Path, log_number: u64) -> Result<Recovered, DbError> {
    todo!("task 2: list_wals, skip ids below log_number, apply the others in order")
}
// ANCHOR_END: task2
