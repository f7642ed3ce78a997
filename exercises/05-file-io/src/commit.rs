//! Task 2: a buffered writer whose `commit` is flush, then `sync_data`.

use std::fs::File;
use std::io::{self, BufWriter, Write};

use crate::error::FileIoError;

// ANCHOR: durable
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
// ANCHOR_END: durable

// ANCHOR: task2
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
    ///
    /// - A poisoned writer refuses with [`FileIoError::Poisoned`].
    /// - `write_all` the record into the buffer; never flush or sync here.
    ///   An error is [`FileIoError::Write`] with the bytes appended before
    ///   this record.
    pub fn append(&mut self, record: &[u8]) -> Result<(), FileIoError> {
        todo!("task 2: refuse if poisoned, write_all into the BufWriter, count the bytes")
    }

    /// Makes every appended record durable: flush the buffer, then sync.
    ///
    /// - A poisoned writer refuses with [`FileIoError::Poisoned`].
    /// - `flush()` first; its error is [`FileIoError::Flush`], and then
    ///   nothing is synced.
    /// - Then `sync_data()` on the inner writer (`get_mut()`). Its error is
    ///   [`FileIoError::Sync`], and it poisons the writer: after a failed
    ///   sync nobody knows what is on the disk, and a retried sync may
    ///   report success for data the kernel has already thrown away.
    pub fn commit(&mut self) -> Result<(), FileIoError> {
        todo!(
            "task 2: flush the BufWriter, then sync_data its inner writer; poison on a failed sync"
        )
    }
}
// ANCHOR_END: task2
