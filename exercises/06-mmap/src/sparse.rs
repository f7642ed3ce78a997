//! Task 3: a huge sparse file, mapped, of which only a few pages are ever
//! resident.

use std::fs::File;
use std::path::Path;

use memmap2::{Advice, MmapMut};

use crate::error::MmapError;
#[allow(unused_imports)] // You need these for task 3.
use crate::rss::{mapping_rss, page_size};

/// The byte [`SparseMap::touch_page`] writes at the start of a page.
pub const TOUCHED: u8 = 0xA5;

// ANCHOR: task3
/// Creates a new file of `len` bytes at `path` without writing any of them:
/// a sparse file, whose unwritten ranges (holes) read as zeros and take no
/// disk space.
///
/// - Open it read-write with `OpenOptions::create_new(true)`: an existing
///   file is never overwritten, that is an `io::ErrorKind::AlreadyExists`
///   error (as [`MmapError::Io`]).
/// - Set its length with [`File::set_len`]. Write nothing.
pub fn create_sparse(path: impl AsRef<Path>, len: u64) -> Result<File, MmapError> {
    todo!("task 3: OpenOptions read + write + create_new, then set_len")
}

/// A sparse file mapped read-write, shared with the file.
#[derive(Debug)]
pub struct SparseMap {
    map: MmapMut,
}

impl SparseMap {
    /// Creates a sparse file of `len` bytes at `path` with
    /// [`create_sparse`] and maps all of it with `MmapMut::map_mut`.
    ///
    /// Then tell the kernel that the map is accessed at random:
    /// `map.advise(Advice::Random)` (`madvise(MADV_RANDOM)`). Otherwise
    /// every page fault makes it read ahead around the touched page, up to
    /// the device's `read_ahead_kb`, and fill the page cache with zeros.
    /// (RSS cannot show this, as read-ahead pages are not mapped; the test
    /// reads the advice back from the map's `VmFlags` in
    /// `/proc/self/smaps`, and the benchmark shows the cost.)
    ///
    /// A `len` of zero is [`MmapError::Empty`]; a `len` that does not fit
    /// in a `usize` is [`MmapError::TooLarge`]. Check both before creating
    /// the file.
    pub fn create(path: impl AsRef<Path>, len: u64) -> Result<Self, MmapError> {
        todo!("task 3: check len, create_sparse, unsafe {{ MmapMut::map_mut(&file) }}, then advise")
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

    /// Writes [`TOUCHED`] into the first byte of page `page` (at offset
    /// `page * page_size()`), which makes that page resident.
    ///
    /// A page past the end is [`MmapError::OutOfBounds`] (with `len: 1`),
    /// never a panic or an overflow.
    pub fn touch_page(&mut self, page: u64) -> Result<(), MmapError> {
        todo!("task 3: compute the offset without overflow, then self.map.get_mut(offset)")
    }

    /// How many bytes of this map are resident in memory right now: read
    /// `/proc/self/smaps` and ask [`mapping_rss`] about the mapping that
    /// starts at [`as_ptr`](Self::as_ptr). No such mapping is
    /// [`MmapError::MappingNotFound`].
    pub fn resident_bytes(&self) -> Result<u64, MmapError> {
        todo!(
            "task 3: fs::read_to_string(\"/proc/self/smaps\"), then mapping_rss(&smaps, self.as_ptr() as usize)"
        )
    }

    /// Writes the dirty pages back to the file (`msync`), and waits.
    pub fn flush(&self) -> Result<(), MmapError> {
        Ok(self.map.flush()?)
    }
}
// ANCHOR_END: task3
