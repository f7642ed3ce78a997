//! Task 5: many writers append to one file without tearing records.

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::error::FileIoError;

// ANCHOR: task5
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
    /// Opens (creating if needed) the file at `path` for appending:
    /// `OpenOptions::new().append(true).create(true)`. An error is
    /// [`FileIoError::Open`].
    pub fn open(path: impl AsRef<Path>) -> Result<Self, FileIoError> {
        todo!("task 5: open with append(true) and create(true)")
    }

    /// Appends one record: the payload's length as a little-endian `u32`
    /// ([`RECORD_HEADER`] bytes), then the payload.
    ///
    /// Build the whole record in one buffer and write it with ONE
    /// `write_all` on `&self.file` (`&File` implements `Write`). With
    /// `O_APPEND`, each `write` lands whole at the end of the file, but
    /// nothing keeps two writes together. An error is
    /// [`FileIoError::Append`].
    pub fn append(&self, payload: &[u8]) -> Result<(), FileIoError> {
        todo!("task 5: header and payload in one Vec, then one write_all")
    }

    /// Appends several records with one `write_all`, so they land next to
    /// each other, in order. An empty batch writes nothing.
    pub fn append_batch(&self, payloads: &[&[u8]]) -> Result<(), FileIoError> {
        todo!("task 5: frame every payload into one Vec, then one write_all")
    }
}
// ANCHOR_END: task5

// ANCHOR: decode
/// Splits `bytes` into the payloads of the records it holds. A record whose
/// length runs past the end is [`FileIoError::Torn`].
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
// ANCHOR_END: decode
