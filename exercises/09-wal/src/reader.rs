//! Task 3: reading a log back, and recovering after a crash.

use std::path::Path;

use simfs::{Fs, RealFs};

use crate::error::WalError;
use crate::record::Record;

// ANCHOR: task3
/// What reading a log found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogScan {
    /// Every intact record, in order; their LSNs are 1, 2, 3, ...
    pub records: Vec<Record>,
    /// Length in bytes of the intact records: where the next record goes.
    pub valid_len: u64,
    /// `Some(valid_len)` if bytes follow the intact records (a torn tail),
    /// `None` if the log ends exactly after its last record.
    pub torn_at: Option<u64>,
}

impl LogScan {
    /// The LSN of the last intact record, or 0 for an empty log.
    pub fn last_lsn(&self) -> u64 {
        self.records.last().map_or(0, |r| r.lsn)
    }
}

/// Reads the records of an in-memory log.
///
/// Walk the bytes with [`decode`](crate::decode). The first record must
/// have LSN 1 and each next one the previous LSN plus one. At the first spot
/// that is not the next intact record, decide:
///
/// - An intact record with the wrong LSN is [`WalError::Corrupt`] with
///   [`Defect::LsnGap`](crate::Defect::LsnGap).
/// - Otherwise (incomplete or damaged bytes), look at **every later byte
///   offset**. If any of them starts an intact record whose LSN is greater
///   than the last good LSN, valid data follows the damage:
///   [`WalError::Corrupt`] at the damaged record's offset, with the defect
///   `decode` reported there ([`Defect::Truncated`](crate::Defect::Truncated)
///   for [`Decoded::Incomplete`](crate::Decoded::Incomplete)).
/// - If none does, the log simply stops there: a torn tail. Return the
///   records before it, with `valid_len` and `torn_at` both at its offset.
pub fn scan(bytes: &[u8]) -> Result<LogScan, WalError> {
    todo!(
        "task 3: decode record after record; at the first bad spot, search the rest for a later intact record"
    )
}

/// Reads the log at `path` on the real disk; see [`read_log_on`].
pub fn read_log(path: impl AsRef<Path>) -> Result<LogScan, WalError> {
    read_log_on(&RealFs, path)
}

/// Reads the log at `path` on the real disk and cuts off a torn tail; see
/// [`recover_on`].
pub fn recover(path: impl AsRef<Path>) -> Result<LogScan, WalError> {
    recover_on(&RealFs, path)
}

/// Reads the log at `path` on `fs` without changing it ([`Fs::read`]). A
/// missing file (`ErrorKind::NotFound`) is an empty log
/// (`LogScan::default()`).
pub fn read_log_on(fs: &dyn Fs, path: impl AsRef<Path>) -> Result<LogScan, WalError> {
    todo!("task 3: read the log's bytes on fs and scan them")
}

/// Reads the log at `path` on `fs` and cuts off a torn tail, durably, so
/// that [`Wal::open_on`](crate::Wal::open_on) can append after it.
///
/// - A torn tail is removed with [`FsFile::set_len`](simfs::FsFile::set_len)
///   on a file opened for writing, and the cut must survive a crash too.
/// - A corrupt log is reported and left exactly as it was.
/// - A missing file is an empty log and is not created.
pub fn recover_on(fs: &dyn Fs, path: impl AsRef<Path>) -> Result<LogScan, WalError> {
    todo!("task 3: cut off a torn tail, durably")
}
// ANCHOR_END: task3
