//! Task 1: a read-only map of a whole file, read in place.

use std::fs::File;
use std::path::Path;

use memmap2::Mmap;

use crate::error::MmapError;
use crate::record::{LEN_PREFIX, Record};

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
    pub fn open(path: impl AsRef<Path>) -> Result<Self, MmapError> {
        let file = File::open(path)?;
        if file.metadata()?.len() == 0 {
            return Ok(Self { map: None });
        }
        // SAFETY: `Mmap::map` is unsafe because the map's bytes can change,
        // or vanish (SIGBUS), if anyone modifies or truncates the file while
        // it is mapped. This lesson's files belong to the process that maps
        // them, which changes them only through the map or not at all.
        let map = unsafe { Mmap::map(&file)? };
        // Closing `file` here does not unmap: the map keeps its own
        // reference to the file until it is dropped.
        Ok(Self { map: Some(map) })
    }

    /// The whole file, as one borrowed slice (empty for an empty file).
    pub fn as_bytes(&self) -> &[u8] {
        self.map.as_deref().unwrap_or(&[])
    }

    /// The file's length in bytes, as it was when it was mapped.
    pub fn len(&self) -> u64 {
        self.as_bytes().len() as u64
    }

    /// Whether the file was empty when it was mapped.
    pub fn is_empty(&self) -> bool {
        self.as_bytes().is_empty()
    }

    /// The `len` bytes at `offset`, borrowed from the map.
    pub fn read_at(&self, offset: u64, len: usize) -> Result<&[u8], MmapError> {
        let bytes = self.as_bytes();
        let out_of_bounds = || MmapError::OutOfBounds {
            offset,
            len: len as u64,
            file_len: bytes.len() as u64,
        };
        let start = usize::try_from(offset).map_err(|_| out_of_bounds())?;
        let end = start.checked_add(len).ok_or_else(out_of_bounds)?;
        bytes.get(start..end).ok_or_else(out_of_bounds)
    }

    /// The length-prefixed record that starts at `offset`.
    pub fn record_at(&self, offset: u64) -> Result<Record<'_>, MmapError> {
        let prefix = self.read_at(offset, LEN_PREFIX)?;
        let mut len = [0u8; LEN_PREFIX];
        len.copy_from_slice(prefix);
        let payload_len = u32::from_le_bytes(len);
        // `read_at` succeeded, so `offset + LEN_PREFIX` is within the file.
        let payload = self
            .read_at(offset + LEN_PREFIX as u64, payload_len as usize)
            .map_err(|_| MmapError::TruncatedRecord {
                offset,
                payload_len,
                file_len: self.len(),
            })?;
        Ok(Record { offset, payload })
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
