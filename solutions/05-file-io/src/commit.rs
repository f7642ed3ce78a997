//! Task 2: a buffered writer whose `commit` is flush, then `sync_data`.

use std::fs::File;
use std::io::{self, BufWriter, Write};

use crate::error::FileIoError;

/// A writer that can also wait until what it was given is on the disk.
///
/// [`File`] implements it with [`File::sync_data`] (`fdatasync`); the tests
/// implement it with a double that records the order of every call.
pub trait Durable: Write {
    /// Waits until every byte written so far is durable.
    fn sync_data(&mut self) -> io::Result<()>;
}

impl Durable for File {
    fn sync_data(&mut self) -> io::Result<()> {
        File::sync_data(self)
    }
}

/// A file opened through the [`simfs`] seam: the real disk or the simulated
/// one the power-loss tests use.
impl Durable for Box<dyn simfs::FsFile> {
    fn sync_data(&mut self) -> io::Result<()> {
        simfs::FsFile::sync_data(&**self)
    }
}

/// Buffers appended records and makes them durable on [`commit`](Self::commit).
#[derive(Debug)]
pub struct DurableWriter<D: Durable> {
    /// The buffer in front of the durable writer.
    out: BufWriter<D>,
    /// Bytes appended successfully so far.
    appended: u64,
    /// Set when a sync fails: from then on, every call is refused.
    poisoned: bool,
}

impl<D: Durable> DurableWriter<D> {
    /// Wraps `inner` behind a buffer of the default size (8 KiB).
    pub fn new(inner: D) -> Self {
        Self::with_capacity(8 * 1024, inner)
    }

    /// Wraps `inner` behind a buffer of `capacity` bytes.
    pub fn with_capacity(capacity: usize, inner: D) -> Self {
        Self {
            out: BufWriter::with_capacity(capacity, inner),
            appended: 0,
            poisoned: false,
        }
    }

    /// The durable writer behind the buffer.
    pub fn get_ref(&self) -> &D {
        self.out.get_ref()
    }

    /// Buffers `record`. Only [`commit`](Self::commit) promises it is durable.
    pub fn append(&mut self, record: &[u8]) -> Result<(), FileIoError> {
        if self.poisoned {
            return Err(FileIoError::Poisoned);
        }
        self.out
            .write_all(record)
            .map_err(|source| FileIoError::Write {
                written: self.appended,
                source,
            })?;
        self.appended += record.len() as u64;
        Ok(())
    }

    /// Makes every appended record durable: flush the buffer, then sync.
    pub fn commit(&mut self) -> Result<(), FileIoError> {
        if self.poisoned {
            return Err(FileIoError::Poisoned);
        }
        self.out.flush().map_err(FileIoError::Flush)?;
        if let Err(e) = self.out.get_mut().sync_data() {
            self.poisoned = true;
            return Err(FileIoError::Sync(e));
        }
        Ok(())
    }
}
