//! Task 7: direct I/O with aligned blocks, and a clear fallback.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::Path;

use crate::error::FileIoError;

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

impl std::fmt::Debug for Block {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Block([{:#04x}, {:#04x}, ...])", self.0[0], self.0[1])
    }
}

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

/// Opens `path` for reading and writing, creating it if needed; with
/// `O_DIRECT` if `direct` is true.
pub fn open_file(path: &Path, direct: bool) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    if direct {
        options.custom_flags(libc::O_DIRECT);
    }
    options.open(path)
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

    /// [`open`](Self::open), opening files with `open(path, direct)`.
    pub fn open_with(
        path: impl AsRef<Path>,
        mut open: impl FnMut(&Path, bool) -> io::Result<File>,
    ) -> Result<Self, FileIoError> {
        let path = path.as_ref();
        let failed = |source| FileIoError::Open {
            path: path.to_path_buf(),
            source,
        };
        match open(path, true) {
            Ok(file) => Ok(Self {
                file,
                io_path: IoPath::Direct,
            }),
            Err(e) if refuses_direct_io(&e) => {
                let file = open(path, false).map_err(failed)?;
                let reason = format!(
                    "the file system refused O_DIRECT for {} ({e}); using buffered I/O",
                    path.display()
                );
                Ok(Self {
                    file,
                    io_path: IoPath::Buffered { reason },
                })
            }
            Err(e) => Err(failed(e)),
        }
    }

    /// Which path the data takes.
    pub fn io_path(&self) -> &IoPath {
        &self.io_path
    }

    /// The open file.
    pub fn file(&self) -> &File {
        &self.file
    }

    /// Writes `block` at block index `index` (byte offset `index * BLOCK_SIZE`).
    pub fn write_block(&self, index: u64, block: &Block) -> Result<(), FileIoError> {
        self.file
            .write_all_at(&block.0, offset(index)?)
            .map_err(|source| FileIoError::Block { index, source })
    }

    /// Reads the block at index `index` into `block`.
    pub fn read_block(&self, index: u64, block: &mut Block) -> Result<(), FileIoError> {
        self.file
            .read_exact_at(&mut block.0, offset(index)?)
            .map_err(|source| FileIoError::Block { index, source })
    }

    /// Makes the written blocks durable. Direct I/O skips the page cache,
    /// not the disk's own cache, nor the file's size in its metadata.
    pub fn sync_data(&self) -> Result<(), FileIoError> {
        self.file.sync_data().map_err(FileIoError::Sync)
    }
}

/// Whether opening with `O_DIRECT` failed because the file system does not
/// support it (as opposed to a missing file, a permission, ...).
fn refuses_direct_io(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EINVAL | libc::EOPNOTSUPP))
}

/// The byte offset of block `index`.
fn offset(index: u64) -> Result<u64, FileIoError> {
    index
        .checked_mul(BLOCK_SIZE as u64)
        .ok_or_else(|| FileIoError::Block {
            index,
            source: io::Error::new(io::ErrorKind::InvalidInput, "block index too large"),
        })
}
