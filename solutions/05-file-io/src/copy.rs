//! Task 8: copying a file, in user space and in the kernel.

use std::fs::{File, OpenOptions};
use std::io::{self, ErrorKind, Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use crate::error::FileIoError;
use crate::partial::write_fully;

/// What [`copy_naive`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CopyReport {
    /// Bytes copied.
    pub bytes: u64,
    /// Chunks copied: `read` calls that returned data, each followed by one
    /// [`write_fully`].
    pub chunks: u64,
}

/// Copies everything from `reader` to `writer` through one buffer of
/// exactly `buf_size` bytes.
pub fn copy_naive<R, W>(
    reader: &mut R,
    writer: &mut W,
    buf_size: usize,
) -> Result<CopyReport, FileIoError>
where
    R: Read + ?Sized,
    W: Write + ?Sized,
{
    if buf_size == 0 {
        return Err(FileIoError::ZeroCapacity);
    }
    let mut buf = vec![0; buf_size];
    let mut report = CopyReport::default();
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => return Ok(report),
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(source) => {
                return Err(FileIoError::Read {
                    read: report.bytes,
                    source,
                });
            }
        };
        write_fully(writer, &buf[..n]).map_err(|e| match e {
            FileIoError::Write { written, source } => FileIoError::Write {
                written: report.bytes + written,
                source,
            },
            FileIoError::WriteZero { written } => FileIoError::WriteZero {
                written: report.bytes + written,
            },
            other => other,
        })?;
        report.bytes += n as u64;
        report.chunks += 1;
    }
}

/// Copies the file `from` to `to` (created or truncated) with
/// [`copy_naive`] and a buffer of `buf_size` bytes.
pub fn copy_file_naive(
    from: impl AsRef<Path>,
    to: impl AsRef<Path>,
    buf_size: usize,
) -> Result<CopyReport, FileIoError> {
    if buf_size == 0 {
        return Err(FileIoError::ZeroCapacity);
    }
    let (mut src, mut dst) = open_pair(from.as_ref(), to.as_ref())?;
    copy_naive(&mut src, &mut dst, buf_size)
}

/// Copies the file `from` to `to` (created or truncated) with
/// `std::io::copy`, which on Linux lets the kernel copy
/// (`copy_file_range`), and returns the bytes copied.
pub fn copy_file_fast(from: impl AsRef<Path>, to: impl AsRef<Path>) -> Result<u64, FileIoError> {
    let (from, to) = (from.as_ref(), to.as_ref());
    let (mut src, mut dst) = open_pair(from, to)?;
    io::copy(&mut src, &mut dst).map_err(|source| FileIoError::Copy {
        from: from.to_path_buf(),
        to: to.to_path_buf(),
        source,
    })
}

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
