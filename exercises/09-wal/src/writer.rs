//! Task 2: the writer.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use crate::error::WalError;

// ANCHOR: task2
/// An append-only log file.
///
/// [`append`](Self::append) only buffers; [`sync`](Self::sync) makes every
/// record appended so far durable.
#[derive(Debug)]
pub struct Wal {
    /// The log file behind a write buffer. Open the file for reading and
    /// appending (`OpenOptions::read(true).append(true).create(true)`).
    writer: BufWriter<File>,
    /// Where the log lives.
    path: PathBuf,
    /// The LSN of the last record appended, or 0.
    last_lsn: u64,
    /// The LSN of the last record a successful sync covered, or 0.
    synced_lsn: u64,
}

impl Wal {
    /// Opens the log at `path`, creating it if it does not exist, and
    /// continues its LSNs.
    ///
    /// - Read the whole file and walk it with [`decode`](crate::decode): it
    ///   must be records with LSNs 1, 2, 3, ... and nothing else. At the
    ///   first spot that is not the next record (a partial or damaged record,
    ///   or a wrong LSN), return [`WalError::NeedsRecovery`] with its offset,
    ///   and change nothing. Repairing is [`recover`](crate::recover)'s job.
    /// - The next append gets the last LSN found plus one.
    /// - What the file holds counts as synced: sync it once (`sync_data`) if
    ///   it is not empty, so that `synced_lsn() == last_lsn()` is true.
    /// - A newly created file's name is only durable once its directory is
    ///   synced: open the parent directory with `File::open` and `sync_all`
    ///   it.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, WalError> {
        todo!(
            "task 2: open read+append+create, read_to_end, find the last LSN, wrap the file in a BufWriter"
        )
    }

    /// Buffers one record and returns its LSN (the last LSN plus one).
    ///
    /// Write the header from [`encode_header`](crate::encode_header) and then
    /// the payload into the buffer. A payload over
    /// [`MAX_PAYLOAD_LEN`](crate::MAX_PAYLOAD_LEN) is refused, writes nothing,
    /// and uses up no LSN.
    pub fn append(&mut self, payload: &[u8]) -> Result<u64, WalError> {
        todo!("task 2: encode_header, write_all the header and the payload, then count the LSN")
    }

    /// Makes every appended record durable: flushes the buffer to the OS,
    /// then waits for the OS to put the data on disk (`sync_data`). Then
    /// `synced_lsn() == last_lsn()`.
    pub fn sync(&mut self) -> Result<(), WalError> {
        todo!("task 2: flush the BufWriter, then sync_data the file it wraps (get_ref)")
    }

    /// The LSN of the last record appended, or 0 for an empty log.
    pub fn last_lsn(&self) -> u64 {
        self.last_lsn
    }

    /// The LSN of the last record known to be durable, or 0.
    pub fn synced_lsn(&self) -> u64 {
        self.synced_lsn
    }

    /// The log file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Syncs and closes the log, reporting any error that dropping it would
    /// swallow.
    pub fn close(self) -> Result<(), WalError> {
        todo!("task 2: sync, and let the Wal drop")
    }
}
// ANCHOR_END: task2
