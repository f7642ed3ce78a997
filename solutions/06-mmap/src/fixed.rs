//! Task 2: fixed-size records by id.

use std::path::Path;

use crate::error::MmapError;
use crate::mapped::MappedFile;

/// A mapped file of records of exactly `SIZE` bytes each: record `id`
/// occupies bytes `id * SIZE .. (id + 1) * SIZE`.
#[derive(Debug)]
pub struct FixedRecords<const SIZE: usize> {
    file: MappedFile,
}

impl<const SIZE: usize> FixedRecords<SIZE> {
    /// Maps the file at `path` as an array of `SIZE`-byte records.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, MmapError> {
        const { assert!(SIZE > 0, "a record must be at least one byte long") };
        let file = MappedFile::open(path)?;
        let (_, rest) = file.as_bytes().as_chunks::<SIZE>();
        if !rest.is_empty() {
            return Err(MmapError::PartialRecord {
                file_len: file.len(),
                record_size: SIZE,
            });
        }
        Ok(Self { file })
    }

    /// How many records the file holds.
    pub fn len(&self) -> u64 {
        self.file.len() / SIZE as u64
    }

    /// Whether the file holds no records.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Record `id`, borrowed from the map.
    pub fn get(&self, id: u64) -> Result<&[u8; SIZE], MmapError> {
        let (records, _) = self.file.as_bytes().as_chunks::<SIZE>();
        usize::try_from(id)
            .ok()
            .and_then(|i| records.get(i))
            .ok_or(MmapError::NoSuchRecord {
                id,
                count: records.len() as u64,
            })
    }
}
