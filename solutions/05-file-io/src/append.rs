//! Task 5: many writers append to one file without tearing records.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::FileIoError;

/// Size of a record's header: the payload length as a little-endian `u32`.
pub const RECORD_HEADER: usize = 4;

/// Appends length-prefixed records to a file opened with `O_APPEND`.
///
/// Any number of `Appender`s, in any number of threads and processes, may
/// append to the same file at once.
#[derive(Debug)]
pub struct Appender {
    file: File,
    path: PathBuf,
}

impl Appender {
    /// Opens (creating if needed) the file at `path` for appending.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, FileIoError> {
        let path = path.as_ref().to_path_buf();
        let file = OpenOptions::new()
            .append(true)
            .create(true)
            .open(&path)
            .map_err(|source| FileIoError::Open {
                path: path.clone(),
                source,
            })?;
        Ok(Self { file, path })
    }

    /// Appends one record: its header and payload in one buffer, written
    /// with one `write_all`.
    pub fn append(&self, payload: &[u8]) -> Result<(), FileIoError> {
        self.append_batch(&[payload])
    }

    /// Appends several records with one `write_all`, so they land next to
    /// each other, in order.
    pub fn append_batch(&self, payloads: &[&[u8]]) -> Result<(), FileIoError> {
        let len = payloads.iter().map(|p| RECORD_HEADER + p.len()).sum();
        let mut buf = Vec::with_capacity(len);
        for payload in payloads {
            let header = u32::try_from(payload.len()).map_err(|_| FileIoError::Append {
                path: self.path.clone(),
                source: std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "a payload longer than u32::MAX bytes cannot be framed",
                ),
            })?;
            buf.extend_from_slice(&header.to_le_bytes());
            buf.extend_from_slice(payload);
        }
        (&self.file)
            .write_all(&buf)
            .map_err(|source| FileIoError::Append {
                path: self.path.clone(),
                source,
            })
    }
}

/// Splits `bytes` into the payloads of the records it holds.
pub fn decode_records(bytes: &[u8]) -> Result<Vec<&[u8]>, FileIoError> {
    let mut records = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let offset = (bytes.len() - rest.len()) as u64;
        let Some((header, tail)) = rest.split_first_chunk::<RECORD_HEADER>() else {
            return Err(FileIoError::Torn { offset });
        };
        let len = u32::from_le_bytes(*header) as usize;
        let Some(payload) = tail.get(..len) else {
            return Err(FileIoError::Torn { offset });
        };
        records.push(payload);
        rest = &tail[len..];
    }
    Ok(records)
}
