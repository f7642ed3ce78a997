//! The lesson's error type. It is complete: you do not need to edit this
//! file.

// ANCHOR: errors
/// Everything that can go wrong in this lesson.
#[derive(Debug, thiserror::Error)]
pub enum MmapError {
    /// The operating system reported an I/O error (opening, mapping,
    /// `set_len`, `msync`, reading `/proc`, ...).
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// A read asked for bytes that are not in the file.
    #[error("{len} byte(s) at offset {offset} run past the end of the {file_len}-byte file")]
    OutOfBounds {
        /// Where the read starts.
        offset: u64,
        /// How many bytes it asked for.
        len: u64,
        /// How long the mapped file is.
        file_len: u64,
    },
    /// A record's length prefix announces more bytes than the file holds.
    #[error(
        "the record at offset {offset} announces {payload_len} byte(s), \
         but the file ends at byte {file_len}"
    )]
    TruncatedRecord {
        /// Where the record (its length prefix) starts.
        offset: u64,
        /// The payload length the prefix announces.
        payload_len: u32,
        /// How long the mapped file is.
        file_len: u64,
    },
    /// A record id at or past the number of records.
    #[error("there is no record {id}: the file holds {count} record(s)")]
    NoSuchRecord {
        /// The id that was asked for.
        id: u64,
        /// How many records there are (ids `0..count` exist).
        count: u64,
    },
    /// A file of fixed-size records whose length is not a multiple of the
    /// record size: it was cut short, or it is not such a file.
    #[error("the file's {file_len} bytes are not a whole number of {record_size}-byte records")]
    PartialRecord {
        /// How long the file is.
        file_len: u64,
        /// The record size that was expected.
        record_size: usize,
    },
    /// A writable map needs a file of at least one byte (one record).
    #[error("a writable map needs a non-empty file (at least one record)")]
    Empty,
    /// A size that this platform cannot map or that overflows a `u64`.
    #[error("{len} bytes is more than this platform can map")]
    TooLarge {
        /// The size that was asked for, saturated at `u64::MAX`.
        len: u64,
    },
    /// Shrinking a file under a live map would turn its tail into SIGBUS.
    #[error("cannot shrink from {capacity} to {requested} record(s): only growing is allowed")]
    Shrink {
        /// The current number of records.
        capacity: u64,
        /// The smaller number that was asked for.
        requested: u64,
    },
    /// `/proc/self/smaps` has no mapping that starts at this address.
    #[error("no mapping starts at address {start:#x} in /proc/self/smaps")]
    MappingNotFound {
        /// The address that was looked for.
        start: usize,
    },
}
// ANCHOR_END: errors
