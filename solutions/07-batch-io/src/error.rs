//! The lesson's error types. They are complete: you do not need to edit
//! this file.

use std::io;
use std::path::PathBuf;

// ANCHOR: errors
/// What a transform returns when it refuses a file: any error type will do.
pub type TransformError = Box<dyn std::error::Error + Send + Sync>;

/// Why one file of a batch failed. Every variant names the file as it was
/// given to the batch (its name relative to the input directory).
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The name is not a plain relative path inside the input directory: it
    /// is empty, absolute, or has a `..` or a leading `.`. Nothing was read
    /// or written.
    #[error("{}: not a plain relative name inside the input directory", path.display())]
    BadName {
        /// The name as given.
        path: PathBuf,
    },
    /// The input could not be read (it is missing, a directory, ...).
    #[error("reading {}: {source}", path.display())]
    Read {
        /// The name as given.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
    /// The transform returned an error for this file.
    #[error("transforming {}: {source}", path.display())]
    Transform {
        /// The name as given.
        path: PathBuf,
        /// What the transform said.
        source: TransformError,
    },
    /// The transform panicked on this file.
    #[error("transforming {}: the transform panicked: {message}", path.display())]
    Panicked {
        /// The name as given.
        path: PathBuf,
        /// The panic's message, or `<non-string panic payload>`.
        message: String,
    },
    /// The output could not be written.
    #[error("writing the output of {} to {}: {source}", path.display(), output.display())]
    Write {
        /// The name as given.
        path: PathBuf,
        /// Where the output was to go.
        output: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
}

impl FileError {
    /// The name of the file that failed, as it was given to the batch.
    pub fn path(&self) -> &std::path::Path {
        match self {
            FileError::BadName { path }
            | FileError::Read { path, .. }
            | FileError::Transform { path, .. }
            | FileError::Panicked { path, .. }
            | FileError::Write { path, .. } => path,
        }
    }
}

/// Why a whole batch could not run. A file that fails is *not* a
/// `BatchError`: it is reported in that file's [`FileResult`](crate::FileResult)
/// and the batch carries on.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// `max_in_flight` was 0: no file could ever be processed.
    #[error("max_in_flight must be at least 1")]
    ZeroInFlight,
    /// The output directory is the input directory, so every output would
    /// replace its own input.
    #[error("the output directory {} is the input directory", dir.display())]
    OutputIsInput {
        /// The directory named twice.
        dir: PathBuf,
    },
    /// A worker thread could not be started.
    #[error("could not start a worker thread: {0}")]
    Spawn(io::Error),
    /// A worker thread panicked outside the guarded per-file step, so some
    /// files may have no result.
    #[error("a worker thread panicked")]
    WorkerPanicked,
}
// ANCHOR_END: errors
