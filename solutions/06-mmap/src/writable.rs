//! Task 4: a writable map of fixed-size records: write, flush, grow.

use std::fs::{File, OpenOptions};
use std::path::Path;

use memmap2::MmapMut;

use crate::error::MmapError;

/// A file of `SIZE`-byte records, mapped read-write and shared with the
/// file: a write through the map *is* a write to the file's pages in the
/// page cache. It becomes durable when it is flushed (`msync`).
#[derive(Debug)]
pub struct WritableRecords<const SIZE: usize> {
    /// The file, kept open to grow it with `set_len` and map it again.
    file: File,
    /// The whole file, mapped.
    map: MmapMut,
}

/// `capacity` records of `SIZE` bytes, in bytes, or `TooLarge`.
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
    pub fn create(path: impl AsRef<Path>, capacity: u64) -> Result<Self, MmapError> {
        const { assert!(SIZE > 0, "a record must be at least one byte long") };
        if capacity == 0 {
            return Err(MmapError::Empty);
        }
        let len = byte_len::<SIZE>(capacity)?;
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)?;
        file.set_len(len)?;
        // SAFETY: the file is new (`create_new`) and only this value changes
        // its length, and only ever grows it.
        let map = unsafe { MmapMut::map_mut(&file)? };
        Ok(Self { file, map })
    }

    /// Opens and maps an existing file of `SIZE`-byte records.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, MmapError> {
        const { assert!(SIZE > 0, "a record must be at least one byte long") };
        let file = OpenOptions::new().read(true).write(true).open(path)?;
        let len = file.metadata()?.len();
        if len == 0 {
            return Err(MmapError::Empty);
        }
        if len % SIZE as u64 != 0 {
            return Err(MmapError::PartialRecord {
                file_len: len,
                record_size: SIZE,
            });
        }
        // SAFETY: as in `create`, this value is the only one that changes
        // the file's length while it is mapped.
        let map = unsafe { MmapMut::map_mut(&file)? };
        Ok(Self { file, map })
    }

    /// How many records fit in the file (and the map).
    pub fn capacity(&self) -> u64 {
        (self.map.len() / SIZE) as u64
    }

    /// Record `id`, borrowed from the map.
    pub fn get(&self, id: u64) -> Result<&[u8; SIZE], MmapError> {
        let (records, _) = self.map.as_chunks::<SIZE>();
        let count = records.len() as u64;
        usize::try_from(id)
            .ok()
            .and_then(|i| records.get(i))
            .ok_or(MmapError::NoSuchRecord { id, count })
    }

    /// Overwrites record `id` in place, through the map.
    pub fn put(&mut self, id: u64, record: &[u8; SIZE]) -> Result<(), MmapError> {
        let (records, _) = self.map.as_chunks_mut::<SIZE>();
        let count = records.len() as u64;
        let slot = usize::try_from(id)
            .ok()
            .and_then(|i| records.get_mut(i))
            .ok_or(MmapError::NoSuchRecord { id, count })?;
        *slot = *record;
        Ok(())
    }

    /// Makes records `first .. first + count` durable: `msync` of exactly
    /// their byte range, and wait for it. An empty range does nothing.
    pub fn flush_records(&self, first: u64, count: u64) -> Result<(), MmapError> {
        if count == 0 {
            return Ok(());
        }
        let capacity = self.capacity();
        match first.checked_add(count) {
            Some(end) if end <= capacity => {}
            _ => {
                return Err(MmapError::NoSuchRecord {
                    id: first.max(capacity),
                    count: capacity,
                });
            }
        }
        // Both fit in the map, whose length is a usize.
        let (offset, len) = (first as usize * SIZE, count as usize * SIZE);
        Ok(self.map.flush_range(offset, len)?)
    }

    /// Makes every record durable: `msync` of the whole map.
    pub fn flush(&self) -> Result<(), MmapError> {
        Ok(self.map.flush()?)
    }

    /// Grows the file to `new_capacity` records (the new ones all zero) and
    /// maps it again. Shrinking is refused.
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
        let capacity = self.capacity();
        if new_capacity < capacity {
            return Err(MmapError::Shrink {
                capacity,
                requested: new_capacity,
            });
        }
        if new_capacity == capacity {
            return Ok(());
        }
        let len = byte_len::<SIZE>(new_capacity)?;
        // Growing the file leaves every page of the old map valid, so the
        // old map may live until the new one replaces it. If mapping fails,
        // the old map is still there and still right.
        self.file.set_len(len)?;
        // SAFETY: see `create`.
        self.map = unsafe { MmapMut::map_mut(&self.file)? };
        Ok(())
    }
}
