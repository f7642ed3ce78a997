//! Task 1: a read-only map of a whole file, read in place.

use std::fs::File;
use std::path::Path;

use memmap2::Mmap;

use crate::error::MmapError;
use crate::record::{LEN_PREFIX, Record};

// ANCHOR: task1
/// A file mapped read-only. Every read borrows from the map: the slices it
/// returns point into the kernel's page cache and live as long as `&self`.
#[derive(Debug)]
pub struct MappedFile {
    /// The map, or `None` for an empty file: `mmap(2)` refuses a length of
    /// zero, and some platforms (Windows) refuse to map an empty file.
    map: Option<Mmap>,
}

impl MappedFile {
    /// Maps the whole file at `path` read-only.
    ///
    /// - Open the file with [`File::open`]; a missing file is
    ///   [`MmapError::Io`] (the `?` operator converts it).
    /// - An empty file is not mapped at all: `map` is `None`.
    /// - Otherwise map it with `unsafe { Mmap::map(&file) }`, and write a
    ///   `// SAFETY:` comment saying what you promise by doing so.
    /// - The `File` may be dropped afterwards: the map stays valid.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, MmapError> {
        todo!("task 1: File::open, check the length, and map a non-empty file with Mmap::map")
    }

    /// The whole file, as one borrowed slice (empty for an empty file).
    pub fn as_bytes(&self) -> &[u8] {
        todo!("task 1: the map's bytes (Mmap derefs to [u8]), or &[] when there is no map")
    }

    /// The file's length in bytes, as it was when it was mapped.
    pub fn len(&self) -> u64 {
        self.as_bytes().len() as u64
    }

    /// Whether the file was empty when it was mapped.
    pub fn is_empty(&self) -> bool {
        self.as_bytes().is_empty()
    }

    /// The `len` bytes at `offset`, borrowed from the map: a slice of
    /// [`as_bytes`](Self::as_bytes), never a copy.
    ///
    /// Bytes that are not all inside the file are
    /// [`MmapError::OutOfBounds`] with the `offset` and `len` asked for and
    /// the file's length. Never panic, whatever the numbers: `offset` may
    /// not fit in a `usize`, and `offset + len` may overflow.
    pub fn read_at(&self, offset: u64, len: usize) -> Result<&[u8], MmapError> {
        todo!("task 1: usize::try_from(offset), checked_add(len), then as_bytes().get(start..end)")
    }

    /// The length-prefixed record that starts at `offset` (see
    /// [`LEN_PREFIX`] for the format), with its payload borrowed from the
    /// map.
    ///
    /// - A length prefix that is not all inside the file is the
    ///   [`MmapError::OutOfBounds`] of reading it.
    /// - A payload that runs past the end of the file is
    ///   [`MmapError::TruncatedRecord`].
    pub fn record_at(&self, offset: u64) -> Result<Record<'_>, MmapError> {
        todo!("task 1: read_at the 4-byte prefix, u32::from_le_bytes, then read_at the payload")
    }

    /// Every record, from offset 0 to the end of the file.
    pub fn records(&self) -> Records<'_> {
        Records {
            file: self,
            offset: 0,
            failed: false,
        }
    }
}
// ANCHOR_END: task1

// ANCHOR: records
/// An iterator over a file's records, built on [`MappedFile::record_at`].
///
/// It ends cleanly when a record ends exactly at the end of the file. A
/// damaged record is returned as one `Err`, after which the iterator ends:
/// once a length is wrong, nothing after it can be trusted.
#[derive(Debug)]
pub struct Records<'a> {
    file: &'a MappedFile,
    offset: u64,
    failed: bool,
}

impl<'a> Iterator for Records<'a> {
    type Item = Result<Record<'a>, MmapError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.offset == self.file.len() {
            return None;
        }
        match self.file.record_at(self.offset) {
            Ok(record) => {
                self.offset = record.next_offset();
                Some(Ok(record))
            }
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}
// ANCHOR_END: records
