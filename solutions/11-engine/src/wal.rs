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
        let file = fs.open(
            &wal_path(dir, id),
            OpenOptions::new().write(true).create_new(true),
        )?;
        sync_dir(fs, dir)?;
        Ok(Wal {
            file: BufWriter::with_capacity(64 << 10, file),
            id,
            scratch: Vec::new(),
        })
    }

    /// Buffers `batch` as one frame: [`encode_batch`] into a buffer, then
    /// [`encode_frame`] around it. A batch whose encoding is larger than
    /// [`MAX_FRAME_PAYLOAD`] is [`DbError::TooLarge`] and writes nothing.
    ///
    /// One frame per batch is what makes a batch atomic: after a crash its
    /// frame is either intact (every operation) or torn (none).
    pub fn append(&mut self, batch: &Batch) -> Result<(), DbError> {
        self.scratch.clear();
        encode_batch(batch, &mut self.scratch);
        let len = self.scratch.len();
        if len > MAX_FRAME_PAYLOAD {
            return Err(DbError::TooLarge {
                len,
                max: MAX_FRAME_PAYLOAD,
            });
        }
        let mut frame = Vec::with_capacity(FRAME_HEADER + len);
        encode_frame(&self.scratch, &mut frame);
        self.file.write_all(&frame)?;
        Ok(())
    }

    /// Hands everything buffered to the kernel (`flush`): it now survives a
    /// killed process, but not a power cut.
    pub fn flush(&mut self) -> Result<(), DbError> {
        self.file.flush()?;
        Ok(())
    }

    /// Makes everything appended durable: `flush`, then `sync_data`.
    pub fn sync(&mut self) -> Result<(), DbError> {
        self.file.flush()?;
        self.file.get_ref().sync_data()?;
        Ok(())
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
    let bytes = match fs.read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(WalContents::default()),
        Err(e) => return Err(e.into()),
    };
    let mut contents = WalContents::default();
    let mut at = 0;
    while at < bytes.len() {
        match decode_frame(&bytes[at..]) {
            Frame::Complete { payload } => {
                contents.batches.push(decode_batch(payload)?);
                at += FRAME_HEADER + payload.len();
            }
            Frame::Incomplete | Frame::Damaged => {
                if intact_frame_in(&bytes[at + 1..]) {
                    return Err(DbError::Corrupt(format!(
                        "{}: damaged frame at byte {at} with intact frames after it",
                        path.display()
                    )));
                }
                contents.torn_at = Some(at as u64);
                break;
            }
        }
    }
    Ok(contents)
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
    let mut recovered = Recovered {
        next_id: log_number,
        ..Recovered::default()
    };
    for id in list_wals(fs, dir)? {
        if id < log_number {
            recovered.obsolete.push(id);
            continue;
        }
        for batch in read_wal(fs, &wal_path(dir, id))?.batches {
            recovered.memtable.apply(&batch);
        }
        recovered.replayed.push(id);
        recovered.next_id = recovered.next_id.max(id + 1);
    }
    Ok(recovered)
}
// ANCHOR_END: task2
