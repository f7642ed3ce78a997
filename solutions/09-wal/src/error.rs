//! The lesson's error types.

use crate::record::MAX_PAYLOAD_LEN;

/// Why the bytes at some offset are not an intact record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Defect {
    /// The stored CRC does not match the CRC of the bytes it covers.
    #[error("checksum mismatch (stored {stored:#010x}, computed {computed:#010x})")]
    Checksum {
        /// The CRC found in the record's first four bytes.
        stored: u32,
        /// The CRC of the record's LSN, length and payload as they are now.
        computed: u32,
    },
    /// The length field is larger than [`MAX_PAYLOAD_LEN`].
    #[error("length field {len} exceeds the maximum payload of {MAX_PAYLOAD_LEN} bytes")]
    TooLong {
        /// The length field as stored.
        len: u32,
    },
    /// The record runs past the end of the data.
    #[error("the record runs past the end of the log")]
    Truncated,
    /// An intact record whose LSN is not the previous record's LSN plus one
    /// (or 1, for the first record).
    #[error("expected LSN {expected}, found {found}")]
    LsnGap {
        /// The LSN that should have come next.
        expected: u64,
        /// The LSN the record holds.
        found: u64,
    },
}

/// Errors returned by the log.
#[derive(Debug, thiserror::Error)]
pub enum WalError {
    /// The operating system reported an I/O error.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// A payload longer than [`MAX_PAYLOAD_LEN`] cannot be logged.
    #[error("a payload of {len} bytes exceeds the maximum of {MAX_PAYLOAD_LEN} bytes")]
    PayloadTooLarge {
        /// The payload's length.
        len: usize,
    },
    /// The log is damaged in the middle: valid records follow the damage, so
    /// it is not a torn tail, and truncating it would throw them away.
    #[error("the log is corrupt at byte {offset}: {defect}")]
    Corrupt {
        /// Where the damaged record starts.
        offset: u64,
        /// What is wrong with it.
        defect: Defect,
    },
    /// [`Wal::open`](crate::Wal::open) found bytes that are not the next
    /// record; [`recover`](crate::recover) must run first.
    #[error(
        "the log has a damaged or incomplete record at byte {offset}; run wal::recover before opening it"
    )]
    NeedsRecovery {
        /// Where the intact records end.
        offset: u64,
    },
    /// A thread panicked while it held the log's lock, so the log may hold
    /// half a record.
    #[error("a thread panicked while it held the log; its state is unknown")]
    Poisoned,
    /// The background syncer's thread panicked.
    #[error("the background syncer thread panicked")]
    SyncerPanicked,
}
