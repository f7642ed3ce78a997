//! Task 2: the writer.

use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use simfs::{Fs, FsFile, OpenOptions, RealFs};

use crate::error::WalError;
use crate::record::{Decoded, encode_header, encoded_len};

/// An append-only log file.
///
/// [`append`](Self::append) only buffers; [`sync`](Self::sync) makes every
/// record appended so far durable.
#[derive(Debug)]
pub struct Wal {
    writer: BufWriter<Box<dyn FsFile>>,
    path: PathBuf,
    last_lsn: u64,
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
    /// The existing file must be a clean log; anything else is
    /// [`WalError::NeedsRecovery`]. What it holds is synced once, so that
    /// `synced_lsn() == last_lsn()` after opening.
    pub fn open_on(fs: &dyn Fs, path: impl AsRef<Path>) -> Result<Self, WalError> {
        let path = path.as_ref().to_path_buf();
        let existed = fs.exists(&path)?;
        let mut file = fs.open(
            &path,
            OpenOptions::new().read(true).append(true).create(true),
        )?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        let last_lsn = last_lsn_of(&bytes)?;
        if !existed {
            // The new file's directory entry must survive a crash too.
            fs.sync_dir(parent_dir(&path))?;
        } else if !bytes.is_empty() {
            // A crashed writer may have left unsynced records: make them durable
            // before anything is appended after them.
            file.sync_data()?;
        }
        Ok(Self {
            writer: BufWriter::new(file),
            path,
            last_lsn,
            synced_lsn: last_lsn,
        })
    }

    /// Buffers one record and returns its LSN (the last LSN plus one).
    ///
    /// A payload over [`MAX_PAYLOAD_LEN`](crate::MAX_PAYLOAD_LEN) is refused
    /// and uses up no LSN.
    pub fn append(&mut self, payload: &[u8]) -> Result<u64, WalError> {
        let lsn = self.last_lsn + 1;
        let header = encode_header(lsn, payload)?;
        // Header and payload go to the buffer separately: no copy of the payload.
        self.writer.write_all(&header)?;
        self.writer.write_all(payload)?;
        self.last_lsn = lsn;
        Ok(lsn)
    }

    /// Makes every appended record durable: flushes the buffer to the OS,
    /// then waits for the OS to put the data on disk (`sync_data`).
    pub fn sync(&mut self) -> Result<(), WalError> {
        if self.synced_lsn == self.last_lsn {
            return Ok(());
        }
        self.writer.flush()?;
        self.writer.get_ref().sync_data()?;
        self.synced_lsn = self.last_lsn;
        Ok(())
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
    pub fn close(mut self) -> Result<(), WalError> {
        self.sync()
    }
}

/// The LSN of the last record of a clean log, or where it stops being clean.
fn last_lsn_of(mut bytes: &[u8]) -> Result<u64, WalError> {
    let mut last = 0;
    let mut offset = 0u64;
    while !bytes.is_empty() {
        match crate::record::decode(bytes) {
            Decoded::Record { lsn, payload } if lsn == last + 1 => {
                let size = encoded_len(payload.len());
                bytes = &bytes[size..];
                offset += size as u64;
                last = lsn;
            }
            _ => return Err(WalError::NeedsRecovery { offset }),
        }
    }
    Ok(last)
}

/// The directory holding `path`: its parent, or `.` for a bare file name.
fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}
