//! Task 1: stream a file through a fixed-size buffer.

use std::io::Read;
use std::path::Path;

use crate::error::FileIoError;

// ANCHOR: task1
/// What [`count_lines`] found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LineCount {
    /// Lines: every `\n` ends one, and bytes after the last `\n` (if any)
    /// form one more.
    pub lines: u64,
    /// Bytes read in all.
    pub bytes: u64,
    /// Length in bytes of the longest line, its `\n` not counted.
    pub longest_line: u64,
}

/// Counts the lines of everything `reader` yields, through a
/// `BufReader` of `capacity` bytes, with memory bounded by `capacity`.
///
/// - A `capacity` of 0 is [`FileIoError::ZeroCapacity`].
/// - Wrap the reader in `BufReader::with_capacity(capacity, reader)` and
///   loop over `fill_buf()` / `consume(n)`: each chunk is a borrowed slice
///   of the buffer. Count the `\n` bytes in it, and carry the length of the
///   line that is still open over to the next chunk.
/// - An empty chunk is the end of the input. `ErrorKind::Interrupted` is
///   not: try again. Any other error is [`FileIoError::Read`] with the
///   bytes counted so far.
/// - Never collect a line or the input: no `lines()`, `read_line` or
///   `read_to_end`. A single line may be larger than memory.
pub fn count_lines<R: Read>(reader: R, capacity: usize) -> Result<LineCount, FileIoError> {
    todo!("task 1: a BufReader::with_capacity loop over fill_buf and consume")
}

/// Opens the file at `path` and counts its lines with [`count_lines`]. A
/// file that cannot be opened is [`FileIoError::Open`], naming `path`.
pub fn count_lines_in_file(
    path: impl AsRef<Path>,
    capacity: usize,
) -> Result<LineCount, FileIoError> {
    todo!("task 1: File::open (map the error to FileIoError::Open), then count_lines")
}
// ANCHOR_END: task1
