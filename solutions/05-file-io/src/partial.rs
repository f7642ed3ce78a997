//! Task 3: partial writes and reads, and `Interrupted`.

use std::io::{ErrorKind, Read, Write};

use crate::error::FileIoError;

/// How [`write_fully`] got its bytes out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteReport {
    /// `write` calls that accepted at least one byte.
    pub calls: u64,
    /// `write` calls that returned [`ErrorKind::Interrupted`] and were retried.
    pub interrupted: u64,
}

/// Writes all of `buf` to `writer`, one `write` call at a time.
pub fn write_fully<W: Write + ?Sized>(
    writer: &mut W,
    buf: &[u8],
) -> Result<WriteReport, FileIoError> {
    let mut report = WriteReport::default();
    let mut written = 0;
    while written < buf.len() {
        match writer.write(&buf[written..]) {
            Ok(0) => {
                return Err(FileIoError::WriteZero {
                    written: written as u64,
                });
            }
            Ok(n) => {
                written += n;
                report.calls += 1;
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => report.interrupted += 1,
            Err(source) => {
                return Err(FileIoError::Write {
                    written: written as u64,
                    source,
                });
            }
        }
    }
    Ok(report)
}

/// Reads into `buf` until it is full or the reader is at its end, and
/// returns how many bytes arrived.
pub fn read_fully<R: Read + ?Sized>(reader: &mut R, buf: &mut [u8]) -> Result<usize, FileIoError> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(source) => {
                return Err(FileIoError::Read {
                    read: filled as u64,
                    source,
                });
            }
        }
    }
    Ok(filled)
}
