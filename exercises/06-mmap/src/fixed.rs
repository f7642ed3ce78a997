//! Task 2: fixed-size records by id.

use std::path::Path;

use crate::error::MmapError;
use crate::mapped::MappedFile;

// ANCHOR: task2
/// A mapped file of records of exactly `SIZE` bytes each: record `id`
/// occupies bytes `id * SIZE .. (id + 1) * SIZE`. A lookup is arithmetic
/// and a slice: no system call, no copy.
#[derive(Debug)]
pub struct FixedRecords<const SIZE: usize> {
    file: MappedFile,
}

impl<const SIZE: usize> FixedRecords<SIZE> {
    /// Maps the file at `path` (with [`MappedFile::open`]) as an array of
    /// `SIZE`-byte records.
    ///
    /// A file whose length is not a multiple of `SIZE` is
    /// [`MmapError::PartialRecord`]: it was cut short, or it is not such a
    /// file. An empty file holds zero records.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, MmapError> {
        // A record size of zero does not compile.
        const { assert!(SIZE > 0, "a record must be at least one byte long") };
        todo!("task 2: MappedFile::open, then check that the length is a multiple of SIZE")
    }

    /// How many records the file holds.
    pub fn len(&self) -> u64 {
        todo!("task 2: the file's length divided by SIZE")
    }

    /// Whether the file holds no records.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Record `id`, borrowed from the map.
    ///
    /// An id at or past [`len`](Self::len) is [`MmapError::NoSuchRecord`]
    /// with the id and the number of records; no id may panic or overflow.
    pub fn get(&self, id: u64) -> Result<&[u8; SIZE], MmapError> {
        todo!("task 2: view the bytes as &[[u8; SIZE]] with as_chunks, then .get(id)")
    }
}
// ANCHOR_END: task2
