//! Task 3: partial writes and reads, and `Interrupted`.

use std::io::{Read, Write};

use crate::error::FileIoError;

// ANCHOR: task3
/// How [`write_fully`] got its bytes out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteReport {
    /// `write` calls that accepted at least one byte.
    pub calls: u64,
    /// `write` calls that returned `ErrorKind::Interrupted` and were retried.
    pub interrupted: u64,
}

/// Writes all of `buf` to `writer`, one `write` call at a time: your own
/// `write_all`, which also reports what it took.
///
/// `writer.write(rest)` returns how many bytes it accepted, which may be
/// fewer than offered:
/// - `Ok(n)` with `n > 0`: count a call, and offer the rest next time;
/// - `Ok(0)`: the writer can take no more: [`FileIoError::WriteZero`]
///   (retrying would loop forever);
/// - `Err` of kind `Interrupted`: nothing was written; count it and retry;
/// - any other `Err`: stop at once with [`FileIoError::Write`], saying how
///   many bytes were accepted before it.
pub fn write_fully<W: Write + ?Sized>(
    writer: &mut W,
    buf: &[u8],
) -> Result<WriteReport, FileIoError> {
    todo!("task 3: loop on writer.write(&buf[written..]) until everything is written")
}

/// Reads into `buf` until it is full or the reader is at its end, and
/// returns how many bytes arrived.
///
/// A short read is not the end: only `Ok(0)` is. Retry `Interrupted`; any
/// other error is [`FileIoError::Read`] with the bytes read before it.
pub fn read_fully<R: Read + ?Sized>(reader: &mut R, buf: &mut [u8]) -> Result<usize, FileIoError> {
    todo!("task 3: loop on reader.read(&mut buf[filled..]) until buf is full or Ok(0)")
}
// ANCHOR_END: task3
