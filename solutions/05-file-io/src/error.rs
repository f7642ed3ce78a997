//! The lesson's error type. It is complete: you do not need to edit this
//! file.

use std::io;
use std::path::PathBuf;

use crate::replace::Step;

// ANCHOR: errors
/// Everything that can go wrong in this lesson, with the context a person
/// needs to act on it: which file, which step, how far it got.
#[derive(Debug, thiserror::Error)]
pub enum FileIoError {
    /// A file could not be opened (or created).
    #[error("cannot open {}: {source}", path.display())]
    Open {
        /// The file that was being opened.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: io::Error,
    },
    /// Reading failed after `read` bytes had arrived.
    #[error("reading failed after {read} bytes: {source}")]
    Read {
        /// Bytes read successfully before the error.
        read: u64,
        /// What the reader said.
        #[source]
        source: io::Error,
    },
    /// Writing failed after `written` bytes had been accepted.
    #[error("writing failed after {written} bytes: {source}")]
    Write {
        /// Bytes the writer had accepted before the error.
        written: u64,
        /// What the writer said.
        #[source]
        source: io::Error,
    },
    /// The writer accepted 0 bytes: it cannot take any more (a full disk,
    /// a closed pipe), and asking again would loop forever.
    #[error("the writer accepted 0 bytes after {written} bytes; it can take no more")]
    WriteZero {
        /// Bytes the writer had accepted before it stopped.
        written: u64,
    },
    /// Handing buffered bytes to the operating system failed.
    #[error("flushing the buffer failed: {0}")]
    Flush(#[source] io::Error),
    /// Waiting for the disk failed. What was written may or may not be on
    /// the disk, and the kernel may already have dropped it.
    #[error("sync_data failed: {0}")]
    Sync(#[source] io::Error),
    /// An earlier sync failed, so this writer refuses further work.
    #[error(
        "an earlier sync failed; the data's durability is unknown, so the writer refuses more work"
    )]
    Poisoned,
    /// A buffer capacity of zero bytes was asked for.
    #[error("a buffer must hold at least one byte")]
    ZeroCapacity,
    /// Atomic replace failed at `step`. The target is either entirely old
    /// or (after [`Step::SyncDir`]) entirely new.
    #[error("replacing {} failed at step \"{step}\": {source}", path.display())]
    Replace {
        /// The file being replaced.
        path: PathBuf,
        /// The step that failed.
        step: Step,
        /// What the operating system (or the injected fault) said.
        #[source]
        source: io::Error,
    },
    /// Appending a record to a shared file failed.
    #[error("appending to {} failed: {source}", path.display())]
    Append {
        /// The file being appended to.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: io::Error,
    },
    /// A record's length runs past the end of the data.
    #[error("the record at byte {offset} is torn: its length runs past the end of the data")]
    Torn {
        /// Where the torn record starts.
        offset: u64,
    },
    /// Another open file (in this process or another) holds the lock.
    #[error("{} is locked by another process{}", path.display(), holder_note(*holder))]
    Locked {
        /// The lock file.
        path: PathBuf,
        /// The holder's process id, as it wrote it into the lock file, if
        /// it could be read.
        holder: Option<u32>,
    },
    /// Taking the lock failed for a reason other than another holder.
    #[error("cannot lock {}: {source}", path.display())]
    Lock {
        /// The lock file.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: io::Error,
    },
    /// Reading or writing one aligned block failed.
    #[error("I/O on block {index} failed: {source}")]
    Block {
        /// The block's index (its offset divided by the block size).
        index: u64,
        /// What the operating system said.
        #[source]
        source: io::Error,
    },
    /// Copying one file to another with `std::io::copy` failed part-way.
    #[error("copying {} to {} failed: {source}", from.display(), to.display())]
    Copy {
        /// The source file.
        from: PathBuf,
        /// The destination file.
        to: PathBuf,
        /// What the operating system said.
        #[source]
        source: io::Error,
    },
}
// ANCHOR_END: errors

fn holder_note(holder: Option<u32>) -> String {
    match holder {
        Some(pid) => format!(" (pid {pid})"),
        None => " (holder unknown)".to_owned(),
    }
}
