//! The lesson's error type. It is complete: you do not need to edit it.

use std::path::PathBuf;

// ANCHOR: errors
/// Everything that can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The operating system reported an I/O error.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// Bytes on disk are not what the store wrote: a checksum does not match,
    /// a length points past the end, a magic number is wrong. The store never
    /// returns data it could not verify.
    #[error("corrupt data: {0}")]
    Corrupt(String),
    /// Another process (or another `Db` in this one) has the directory open.
    #[error("the database in {} is locked: another process has it open", dir.display())]
    Locked {
        /// The database directory.
        dir: PathBuf,
    },
    /// A batch is too large to be logged as one WAL frame.
    #[error("a batch of {len} encoded bytes exceeds the limit of {max} bytes")]
    TooLarge {
        /// The encoded size.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The store (or the part of it that was asked) has been shut down.
    #[error("the database is closed")]
    Closed,
    /// An earlier write, sync or background flush failed, so the store
    /// refuses to go on: its files may not match what it acknowledged.
    /// Reopening it recovers from the log.
    #[error("the database stopped after an earlier failure: {0}")]
    Failed(String),
    /// A thread panicked while it held one of the store's locks.
    #[error("a thread panicked while it held the database's state")]
    Poisoned,
}
// ANCHOR_END: errors

impl<T> From<std::sync::PoisonError<T>> for DbError {
    fn from(_: std::sync::PoisonError<T>) -> Self {
        DbError::Poisoned
    }
}
