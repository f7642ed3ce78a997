//! Task 3: reading a log back, and recovering after a crash.
//!
//! The rule that tells a torn tail from damage in the middle: after the
//! first spot that is not the next intact record, look at every later byte
//! offset. If any of them starts an intact record (correct CRC) with an LSN
//! greater than the last good one, the damage has valid records after it and
//! is corruption. If none does, the log simply stops there: a torn tail.

use std::io::ErrorKind;
use std::path::Path;

use simfs::{Fs, OpenOptions, RealFs};

use crate::error::{Defect, WalError};
use crate::record::{Decoded, Record, decode, encoded_len};

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
/// Stops cleanly at a torn tail and reports where it starts. Damage followed
/// by an intact record with a later LSN is [`WalError::Corrupt`] at the
/// damaged record's offset, and so is an intact record with the wrong LSN.
pub fn scan(bytes: &[u8]) -> Result<LogScan, WalError> {
    let mut records = Vec::new();
    let mut offset = 0usize;
    let mut last_lsn = 0u64;
    while offset < bytes.len() {
        let defect = match decode(&bytes[offset..]) {
            Decoded::Record { lsn, payload } if lsn == last_lsn + 1 => {
                records.push(Record {
                    lsn,
                    payload: payload.to_vec(),
                });
                offset += encoded_len(payload.len());
                last_lsn = lsn;
                continue;
            }
            Decoded::Record { lsn, .. } => Defect::LsnGap {
                expected: last_lsn + 1,
                found: lsn,
            },
            Decoded::Incomplete => Defect::Truncated,
            Decoded::Corrupt(defect) => defect,
        };
        if matches!(defect, Defect::LsnGap { .. }) || later_record_exists(bytes, offset, last_lsn) {
            return Err(WalError::Corrupt {
                offset: offset as u64,
                defect,
            });
        }
        return Ok(LogScan {
            records,
            valid_len: offset as u64,
            torn_at: Some(offset as u64),
        });
    }
    Ok(LogScan {
        records,
        valid_len: offset as u64,
        torn_at: None,
    })
}

/// Whether an intact record with an LSN above `last_lsn` starts anywhere
/// after the damaged spot at `bad`.
fn later_record_exists(bytes: &[u8], bad: usize, last_lsn: u64) -> bool {
    (bad + 1..bytes.len()).any(
        |start| matches!(decode(&bytes[start..]), Decoded::Record { lsn, .. } if lsn > last_lsn),
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

/// Reads the log at `path` on `fs` without changing it. A missing file is
/// an empty log.
pub fn read_log_on(fs: &dyn Fs, path: impl AsRef<Path>) -> Result<LogScan, WalError> {
    match fs.read(path.as_ref()) {
        Ok(bytes) => scan(&bytes),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(LogScan::default()),
        Err(e) => Err(e.into()),
    }
}

/// Reads the log at `path` on `fs` and cuts off a torn tail, durably, so
/// that [`Wal::open_on`](crate::Wal::open_on) can append after it.
///
/// A corrupt log is reported and left exactly as it was. A missing file is
/// an empty log and is not created.
pub fn recover_on(fs: &dyn Fs, path: impl AsRef<Path>) -> Result<LogScan, WalError> {
    let path = path.as_ref();
    let scan = read_log_on(fs, path)?;
    if scan.torn_at.is_some() {
        let file = fs.open(path, OpenOptions::new().write(true))?;
        file.set_len(scan.valid_len)?;
        file.sync_all()?;
    }
    Ok(scan)
}
