//! Task 4: a writable map of fixed-size records: write, flush, grow.

use std::fs::File;
use std::path::Path;

use memmap2::MmapMut;

use crate::error::MmapError;

// ANCHOR: task4
/// A file of `SIZE`-byte records, mapped read-write and shared with the
/// file: a write through the map *is* a write to the file's pages in the
/// page cache. It becomes durable when it is flushed (`msync`).
#[derive(Debug)]
pub struct WritableRecords<const SIZE: usize> {
    /// The file, kept open to grow it with `set_len` and map it again.
    file: File,
    /// The whole file, mapped with `MmapMut::map_mut` (a shared map: not
    /// `map_copy`, whose writes never reach the file).
    map: MmapMut,
}

/// `capacity` records of `SIZE` bytes, in bytes; [`MmapError::TooLarge`]
/// if that overflows a `u64` or does not fit in a `usize`. (Given.)
#[allow(dead_code)] // You need it for task 4.
fn byte_len<const SIZE: usize>(capacity: u64) -> Result<u64, MmapError> {
    let len = capacity
        .checked_mul(SIZE as u64)
        .ok_or(MmapError::TooLarge { len: u64::MAX })?;
    usize::try_from(len).map_err(|_| MmapError::TooLarge { len })?;
    Ok(len)
}

impl<const SIZE: usize> WritableRecords<SIZE> {
    /// Creates a new file at `path` with room for `capacity` records, all
    /// zero, and maps it.
    ///
    /// - A `capacity` of zero is [`MmapError::Empty`].
    /// - Never overwrite an existing file: open it read-write with
    ///   `create_new(true)`.
    /// - `set_len` to [`byte_len`], then map it with `MmapMut::map_mut`.
    pub fn create(path: impl AsRef<Path>, capacity: u64) -> Result<Self, MmapError> {
        const { assert!(SIZE > 0, "a record must be at least one byte long") };
        todo!("task 4: check capacity, open with create_new, set_len, map_mut")
    }

    /// Opens and maps an existing file of `SIZE`-byte records, read-write.
    ///
    /// A missing file is [`MmapError::Io`] (do not create it), an empty one
    /// [`MmapError::Empty`], and one that is not a whole number of records
    /// [`MmapError::PartialRecord`]. A refused file is left untouched.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, MmapError> {
        const { assert!(SIZE > 0, "a record must be at least one byte long") };
        todo!("task 4: open read + write, check the length, map_mut")
    }

    /// How many records fit in the file (and the map).
    pub fn capacity(&self) -> u64 {
        todo!("task 4: the map's length divided by SIZE")
    }

    /// Record `id`, borrowed from the map. An id at or past the capacity
    /// is [`MmapError::NoSuchRecord`].
    pub fn get(&self, id: u64) -> Result<&[u8; SIZE], MmapError> {
        todo!("task 4: as in task 2: as_chunks, then .get(id)")
    }

    /// Overwrites record `id` in place, through the map. An id at or past
    /// the capacity is [`MmapError::NoSuchRecord`] and writes nothing.
    pub fn put(&mut self, id: u64, record: &[u8; SIZE]) -> Result<(), MmapError> {
        todo!("task 4: as_chunks_mut, .get_mut(id), and copy the record into the slot")
    }

    /// Makes records `first .. first + count` durable: `msync` of exactly
    /// their byte range ([`MmapMut::flush_range`]), and wait for it.
    ///
    /// An empty range (`count == 0`) does nothing. A range that does not
    /// fit (or whose end overflows) is [`MmapError::NoSuchRecord`] with
    /// `count` set to the capacity and `id` set to the first missing id,
    /// `first.max(capacity)`.
    pub fn flush_records(&self, first: u64, count: u64) -> Result<(), MmapError> {
        todo!("task 4: check first + count <= capacity (checked_add), then map.flush_range")
    }

    /// Makes every record durable: `msync` of the whole map.
    pub fn flush(&self) -> Result<(), MmapError> {
        Ok(self.map.flush()?)
    }

    /// Grows the file to `new_capacity` records (the new ones all zero) and
    /// maps it again.
    ///
    /// - A smaller `new_capacity` is [`MmapError::Shrink`] and changes
    ///   nothing; the same capacity changes nothing either.
    /// - Grow the file with `set_len` first, then map it again and replace
    ///   `self.map`. If mapping fails, keep the old map: it is still valid.
    ///
    /// Growing takes `&mut self`, so no slice borrowed from the old map can
    /// still be alive: the borrow checker rejects this.
    ///
    /// ```compile_fail,E0502
    /// # fn demo(store: &mut mmap_files::WritableRecords<8>) -> Result<(), mmap_files::MmapError> {
    /// let old = store.get(0)?;     // borrows the old map
    /// store.grow(100)?;            // error: `store` is still borrowed
    /// println!("{old:?}");
    /// # Ok(())
    /// # }
    /// ```
    pub fn grow(&mut self, new_capacity: u64) -> Result<(), MmapError> {
        todo!("task 4: refuse to shrink, byte_len, self.file.set_len, then map_mut again")
    }
}
// ANCHOR_END: task4
