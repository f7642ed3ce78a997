//! Task 2: the writer.

use std::io::BufWriter;
use std::path::{Path, PathBuf};

use simfs::{Fs, FsFile, RealFs};

use crate::error::WalError;

// ANCHOR: task2
/// An append-only log file.
///
/// [`append`](Self::append) only buffers; [`sync`](Self::sync) makes every
/// record appended so far durable.
#[derive(Debug)]
pub struct Wal {
    /// The log file behind a write buffer. The file comes from
    /// [`Fs::open`], so the same code runs on the real disk and on the
    /// simulated one the power-loss tests use.
    writer: BufWriter<Box<dyn FsFile>>,
    /// Where the log lives.
    path: PathBuf,
    /// The LSN of the last record appended, or 0.
    last_lsn: u64,
    /// The LSN of the last record a successful sync covered, or 0.
    synced_lsn: u64,
}

impl Wal {
    /// Opens the log at `path` on the real disk; see [`open_on`](Self::open_on).
    pub fn open(path: impl AsRef<Path>) -> Result<Self, WalError> {
        Self::open_on(&RealFs, path)
    }

    /// Opens the log at `path` on `fs`, creating it if it does not exist, and
    /// continues its LSNs.
    ///
    /// Every file operation goes through `fs`, never through [`std::fs`]:
    /// `fs.open(path, simfs::OpenOptions::new().read(true).append(true).create(true))`
    /// opens the log for reading and appending.
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
    ///   synced ([`Fs::sync_dir`] on the parent; a bare file name's parent
    ///   is `.`).
    pub fn open_on(fs: &dyn Fs, path: impl AsRef<Path>) -> Result<Self, WalError> {
        todo!("task 2: open (or create) the log on fs and continue its LSNs")
    }

    /// Buffers one record and returns its LSN (the last LSN plus one).
    ///
    /// Write the header from [`encode_header`](crate::encode_header) and then
    /// the payload into the buffer. A payload over
    /// [`MAX_PAYLOAD_LEN`](crate::MAX_PAYLOAD_LEN) is refused, writes nothing,
    /// and uses up no LSN.
    pub fn append(&mut self, payload: &[u8]) -> Result<u64, WalError> {
        todo!("task 2: buffer one record and return its LSN")
    }

    /// Makes every appended record durable: flushes the buffer to the OS,
    /// then waits for the OS to put the data on disk
    /// ([`FsFile::sync_data`]). Then `synced_lsn() == last_lsn()`.
    pub fn sync(&mut self) -> Result<(), WalError> {
        todo!("task 2: make every appended record durable")
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
        todo!("task 2: close the log without losing an error")
    }
}
// ANCHOR_END: task2
