//! Task 8: copying a file, in user space and in the kernel.

use std::fs::{File, OpenOptions};
use std::io::{self, ErrorKind, Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use crate::error::FileIoError;

// ANCHOR: task8
/// What [`copy_naive`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CopyReport {
    /// Bytes copied.
    pub bytes: u64,
    /// Chunks copied: `read` calls that returned data, each followed by one
    /// [`write_fully`](crate::write_fully).
    pub chunks: u64,
}

/// Copies everything from `reader` to `writer` through one buffer of
/// exactly `buf_size` bytes: the read/write loop every copy is made of.
///
/// - A `buf_size` of 0 is [`FileIoError::ZeroCapacity`].
/// - Allocate the buffer once. Each `reader.read(&mut buf)` asks for the
///   whole buffer; `Ok(0)` ends the copy; `Interrupted` is retried; any
///   other error is [`FileIoError::Read`] with the bytes copied so far.
/// - Write each chunk with your [`write_fully`](crate::write_fully) from
///   task 3. (Its error counts only this chunk's bytes; adding the bytes
///   copied before is a nice touch, not graded.)
pub fn copy_naive<R, W>(
    reader: &mut R,
    writer: &mut W,
    buf_size: usize,
) -> Result<CopyReport, FileIoError>
where
    R: Read + ?Sized,
    W: Write + ?Sized,
{
    todo!("task 8: one buffer of buf_size bytes, read into it, write_fully what arrived, repeat")
}

/// Copies the file `from` to `to` (created or truncated) with
/// [`copy_naive`] and a buffer of `buf_size` bytes. Check `buf_size` first,
/// then open both files with [`open_pair`].
pub fn copy_file_naive(
    from: impl AsRef<Path>,
    to: impl AsRef<Path>,
    buf_size: usize,
) -> Result<CopyReport, FileIoError> {
    todo!("task 8: open_pair, then copy_naive")
}

/// Copies the file `from` to `to` (created or truncated) with
/// `std::io::copy`, which on Linux lets the kernel copy
/// (`copy_file_range`), and returns the bytes copied. Open both files with
/// [`open_pair`]; an error of `io::copy` is [`FileIoError::Copy`].
pub fn copy_file_fast(from: impl AsRef<Path>, to: impl AsRef<Path>) -> Result<u64, FileIoError> {
    todo!("task 8: open_pair, then std::io::copy(&mut src, &mut dst)")
}
// ANCHOR_END: task8

// ANCHOR: open_pair
/// Opens the source first, so a missing source never touches the
/// destination; then opens the destination and empties it, unless it is
/// the source itself.
fn open_pair(from: &Path, to: &Path) -> Result<(File, File), FileIoError> {
    let open_failed = |path: &Path| {
        let path = path.to_path_buf();
        move |source| FileIoError::Open { path, source }
    };
    let src = File::open(from).map_err(open_failed(from))?;
    let dst = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(to)
        .map_err(open_failed(to))?;
    let copy_failed = |source| FileIoError::Copy {
        from: from.to_path_buf(),
        to: to.to_path_buf(),
        source,
    };
    let (s, d) = (
        src.metadata().map_err(copy_failed)?,
        dst.metadata().map_err(copy_failed)?,
    );
    if (s.dev(), s.ino()) == (d.dev(), d.ino()) {
        return Err(copy_failed(io::Error::new(
            ErrorKind::InvalidInput,
            "source and destination are the same file",
        )));
    }
    dst.set_len(0).map_err(copy_failed)?;
    Ok((src, dst))
}
// ANCHOR_END: open_pair
