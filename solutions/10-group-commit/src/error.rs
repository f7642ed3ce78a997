//! The one error type of the lesson.

use std::io;
use std::sync::Arc;

// ANCHOR: error
/// Why a write was not acknowledged as durable.
///
/// It is `Clone` because one failure reaches every writer of a batch: the
/// committer builds one `CommitError` and hands each writer a copy. The I/O
/// errors sit behind an [`Arc`] for that reason ([`io::Error`] is not
/// `Clone`).
#[derive(Debug, Clone, thiserror::Error)]
pub enum CommitError {
    /// The log was shut down before this write was accepted: the record was
    /// not written. (A log whose committer thread died, say because the sink
    /// or the syncer panicked, may also answer this; then the record may or
    /// may not be in the file.)
    #[error("the log is shut down")]
    Closed,
    /// Writing the batch to the sink failed. The record may be partly in the
    /// file, and it is not durable.
    #[error("writing the batch failed: {0}")]
    Write(#[source] Arc<io::Error>),
    /// The sync after writing the batch failed. The record is in the file but
    /// may or may not be on the disk: treat it as lost.
    #[error("syncing the batch failed: {0}")]
    Sync(#[source] Arc<io::Error>),
    /// A [`Config`](crate::Config) limit was zero.
    #[error("invalid configuration: {0}")]
    InvalidConfig(&'static str),
    /// The operating system refused to start the committer thread.
    #[error("failed to start the committer thread: {0}")]
    Spawn(#[source] Arc<io::Error>),
}
// ANCHOR_END: error
