//! Task 1: stream a file through a fixed-size buffer.

use std::fs::File;
use std::io::{BufRead, BufReader, ErrorKind, Read};
use std::path::Path;

use crate::error::FileIoError;

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
pub fn count_lines<R: Read>(reader: R, capacity: usize) -> Result<LineCount, FileIoError> {
    if capacity == 0 {
        return Err(FileIoError::ZeroCapacity);
    }
    let mut reader = BufReader::with_capacity(capacity, reader);
    let mut count = LineCount::default();
    // Length of the line that is still open (no `\n` seen yet).
    let mut current: u64 = 0;
    loop {
        let chunk = match reader.fill_buf() {
            Ok([]) => break,
            Ok(chunk) => chunk,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(source) => {
                return Err(FileIoError::Read {
                    read: count.bytes,
                    source,
                });
            }
        };
        let mut rest = chunk;
        while let Some(newline) = rest.iter().position(|&b| b == b'\n') {
            current += newline as u64;
            count.longest_line = count.longest_line.max(current);
            count.lines += 1;
            current = 0;
            rest = &rest[newline + 1..];
        }
        current += rest.len() as u64;
        let used = chunk.len();
        count.bytes += used as u64;
        reader.consume(used);
    }
    if current > 0 {
        count.lines += 1;
        count.longest_line = count.longest_line.max(current);
    }
    Ok(count)
}

/// Opens the file at `path` and counts its lines with [`count_lines`].
pub fn count_lines_in_file(
    path: impl AsRef<Path>,
    capacity: usize,
) -> Result<LineCount, FileIoError> {
    let path = path.as_ref();
    let file = File::open(path).map_err(|source| FileIoError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    count_lines(file, capacity)
}
