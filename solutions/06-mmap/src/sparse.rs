//! Task 3: a huge sparse file, mapped, of which only a few pages are ever
//! resident.

use std::fs::{File, OpenOptions};
use std::path::Path;

use memmap2::{Advice, MmapMut};

use crate::error::MmapError;
use crate::rss::{mapping_rss, page_size};

/// The byte [`SparseMap::touch_page`] writes at the start of a page.
pub const TOUCHED: u8 = 0xA5;

/// Creates a new file of `len` bytes at `path` without writing any of them:
/// a sparse file, whose unwritten ranges (holes) read as zeros and take no
/// disk space.
///
/// An existing file is never overwritten: that is an
/// `io::ErrorKind::AlreadyExists` error.
pub fn create_sparse(path: impl AsRef<Path>, len: u64) -> Result<File, MmapError> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(path)?;
    file.set_len(len)?;
    Ok(file)
}

/// A sparse file mapped read-write, shared with the file.
#[derive(Debug)]
pub struct SparseMap {
    map: MmapMut,
}

impl SparseMap {
    /// Creates a sparse file of `len` bytes at `path` (see
    /// [`create_sparse`]), maps all of it, and tells the kernel that the
    /// map is accessed at random (`madvise(MADV_RANDOM)`), so that a page
    /// fault reads no pages around the one touched.
    pub fn create(path: impl AsRef<Path>, len: u64) -> Result<Self, MmapError> {
        if len == 0 {
            return Err(MmapError::Empty);
        }
        usize::try_from(len).map_err(|_| MmapError::TooLarge { len })?;
        let file = create_sparse(path, len)?;
        // SAFETY: we just created the file with `create_new`, so no one else
        // has it open; nothing truncates it while it is mapped.
        let map = unsafe { MmapMut::map_mut(&file)? };
        // Without this, every first touch makes the kernel read ahead
        // around it (up to the device's read_ahead_kb), filling the page
        // cache with zeros that no one asked for.
        map.advise(Advice::Random)?;
        Ok(Self { map })
    }

    /// The map's length in bytes.
    pub fn len(&self) -> u64 {
        self.map.len() as u64
    }

    /// Whether the map is empty (never true: [`create`](Self::create)
    /// refuses a length of zero).
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// How many pages the map spans.
    pub fn page_count(&self) -> u64 {
        self.len().div_ceil(page_size() as u64)
    }

    /// The address where the map starts.
    pub fn as_ptr(&self) -> *const u8 {
        self.map.as_ptr()
    }

    /// Writes [`TOUCHED`] into the first byte of page `page`.
    pub fn touch_page(&mut self, page: u64) -> Result<(), MmapError> {
        let offset = page.saturating_mul(page_size() as u64);
        let out_of_bounds = MmapError::OutOfBounds {
            offset,
            len: 1,
            file_len: self.len(),
        };
        let byte = usize::try_from(offset)
            .ok()
            .and_then(|i| self.map.get_mut(i))
            .ok_or(out_of_bounds)?;
        *byte = TOUCHED;
        Ok(())
    }

    /// How many bytes of this map are resident in memory right now.
    pub fn resident_bytes(&self) -> Result<u64, MmapError> {
        let smaps = std::fs::read_to_string("/proc/self/smaps")?;
        let start = self.as_ptr() as usize;
        mapping_rss(&smaps, start).ok_or(MmapError::MappingNotFound { start })
    }

    /// Writes the dirty pages back to the file (`msync`), and waits.
    pub fn flush(&self) -> Result<(), MmapError> {
        Ok(self.map.flush()?)
    }
}
