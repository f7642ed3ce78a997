//! Task 7: direct I/O with aligned blocks, and a clear fallback.

use std::fs::File;
use std::io;
use std::path::Path;

use crate::error::FileIoError;

// ANCHOR: block
/// The size of one block, and the alignment `O_DIRECT` asks of buffers,
/// offsets and lengths.
pub const BLOCK_SIZE: usize = 4096;

/// One block of data, aligned in memory to [`BLOCK_SIZE`] bytes, as
/// `O_DIRECT` requires.
#[derive(Clone, PartialEq, Eq)]
#[repr(C, align(4096))]
pub struct Block(pub [u8; BLOCK_SIZE]);

impl Block {
    /// A block of zeros, on the heap.
    pub fn zeroed() -> Box<Self> {
        Box::new(Block([0; BLOCK_SIZE]))
    }

    /// A block filled with `byte`, on the heap.
    pub fn filled(byte: u8) -> Box<Self> {
        Box::new(Block([byte; BLOCK_SIZE]))
    }
}
// ANCHOR_END: block

impl std::fmt::Debug for Block {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Block([{:#04x}, {:#04x}, ...])", self.0[0], self.0[1])
    }
}

// ANCHOR: iopath
/// Which path the data takes between memory and disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IoPath {
    /// `O_DIRECT`: straight between the aligned buffer and the device,
    /// bypassing the page cache.
    Direct,
    /// Ordinary I/O through the page cache, because the file system refused
    /// `O_DIRECT`.
    Buffered {
        /// Why direct I/O is not used, for the log.
        reason: String,
    },
}
// ANCHOR_END: iopath

// ANCHOR: task7
/// Opens `path` for reading and writing, creating it if needed (without
/// truncating it); with `O_DIRECT` if `direct` is true:
/// `std::os::unix::fs::OpenOptionsExt::custom_flags(libc::O_DIRECT)`.
pub fn open_file(path: &Path, direct: bool) -> io::Result<File> {
    todo!("task 7: OpenOptions read+write+create, plus custom_flags(libc::O_DIRECT) if direct")
}

/// A file read and written in whole, aligned blocks.
#[derive(Debug)]
pub struct BlockFile {
    file: File,
    io_path: IoPath,
}

impl BlockFile {
    /// Opens `path` with direct I/O, or with buffered I/O where the file
    /// system refuses `O_DIRECT`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, FileIoError> {
        Self::open_with(path, open_file)
    }

    /// [`open`](Self::open), opening files with `open(path, direct)`; the
    /// tests pass an `open` that pretends `O_DIRECT` is refused.
    ///
    /// - Call `open(path, true)`. If it works, the path is
    ///   [`IoPath::Direct`].
    /// - If it fails because the file system refuses `O_DIRECT` (the raw OS
    ///   error is `libc::EINVAL`, or `libc::EOPNOTSUPP`), call
    ///   `open(path, false)`; the path is [`IoPath::Buffered`] with a reason
    ///   that says `O_DIRECT` was refused, names the file, and includes the
    ///   error.
    /// - Any other error (and an error of the second open) is
    ///   [`FileIoError::Open`]: a missing directory or a permission problem
    ///   is not a reason to try again without `O_DIRECT`.
    pub fn open_with(
        path: impl AsRef<Path>,
        open: impl FnMut(&Path, bool) -> io::Result<File>,
    ) -> Result<Self, FileIoError> {
        todo!("task 7: try open(path, true); on EINVAL fall back to open(path, false)")
    }

    /// Which path the data takes.
    pub fn io_path(&self) -> &IoPath {
        &self.io_path
    }

    /// The open file.
    pub fn file(&self) -> &File {
        &self.file
    }

    /// Writes `block` at block index `index`, that is at byte offset
    /// `index * BLOCK_SIZE` (check the multiplication for overflow), with
    /// `std::os::unix::fs::FileExt::write_all_at`. An error is
    /// [`FileIoError::Block`].
    pub fn write_block(&self, index: u64, block: &Block) -> Result<(), FileIoError> {
        todo!("task 7: write_all_at(&block.0, index * BLOCK_SIZE)")
    }

    /// Reads the block at index `index` into `block` with `read_exact_at`.
    /// An error, including reading past the end, is [`FileIoError::Block`].
    pub fn read_block(&self, index: u64, block: &mut Block) -> Result<(), FileIoError> {
        todo!("task 7: read_exact_at(&mut block.0, index * BLOCK_SIZE)")
    }

    /// Makes the written blocks durable (`sync_data`; an error is
    /// [`FileIoError::Sync`]). Direct I/O skips the page cache, not the
    /// disk's own cache, nor the file's size in its metadata.
    pub fn sync_data(&self) -> Result<(), FileIoError> {
        todo!("task 7: File::sync_data")
    }
}
// ANCHOR_END: task7
