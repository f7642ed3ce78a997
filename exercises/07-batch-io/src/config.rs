//! The batch's configuration and what it reports per file.

use std::path::PathBuf;

use crate::error::{BatchError, FileError};

// ANCHOR: config
/// Where a batch reads, where it writes, and how many files it may hold at
/// once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchConfig {
    /// The directory the batch's file names are relative to.
    pub input_dir: PathBuf,
    /// Where each output goes, under the same relative name as its input.
    /// `None` makes a read-only batch: the transform's output is dropped
    /// and nothing is written.
    pub output_dir: Option<PathBuf>,
    /// K: the most files in flight at once. A file is in flight from the
    /// moment its read starts until its output is written (or it fails).
    pub max_in_flight: usize,
}

/// What a file that went through the whole pipeline cost.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FileDone {
    /// Bytes read from the input.
    pub bytes_read: u64,
    /// Bytes written to the output (0 for a read-only batch).
    pub bytes_written: u64,
}

/// The outcome of one file of a batch.
#[derive(Debug)]
pub struct FileResult {
    /// The file's position in the list given to the batch.
    pub index: usize,
    /// The file's name as given (relative to the input directory).
    pub path: PathBuf,
    /// What happened to it.
    pub outcome: Result<FileDone, FileError>,
}
// ANCHOR_END: config

impl BatchConfig {
    /// A configuration that writes into `output_dir` with `max_in_flight`
    /// files at most in flight.
    pub fn new(
        input_dir: impl Into<PathBuf>,
        output_dir: impl Into<PathBuf>,
        max_in_flight: usize,
    ) -> Self {
        Self {
            input_dir: input_dir.into(),
            output_dir: Some(output_dir.into()),
            max_in_flight,
        }
    }

    /// A read-only configuration: files are read and transformed, and the
    /// transform's output is dropped.
    pub fn read_only(input_dir: impl Into<PathBuf>, max_in_flight: usize) -> Self {
        Self {
            input_dir: input_dir.into(),
            output_dir: None,
            max_in_flight,
        }
    }

    // ANCHOR: validate
    /// Checks the configuration before a batch starts (task 2).
    ///
    /// - `max_in_flight == 0` is [`BatchError::ZeroInFlight`].
    /// - An output directory that is the input directory is
    ///   [`BatchError::OutputIsInput`]: every output would replace its own
    ///   input. Compare the two with `fs::canonicalize` when both exist, so
    ///   that `in/../in` and a symbolic link to `in` are caught too
    ///   (`Path`'s `==` already treats `in` and `in/.` as equal, but not
    ///   those); otherwise compare the paths as given.
    pub fn validate(&self) -> Result<(), BatchError> {
        todo!(
            "task 2: refuse max_in_flight == 0, and an output directory that canonicalizes to the input directory"
        )
    }
    // ANCHOR_END: validate
}

// ANCHOR: sink
/// Receives what a running batch reports. Its methods run on the thread
/// that called [`run_batch`](crate::run_batch), one call at a time.
pub trait BatchSink {
    /// Called once per file, in input order: the result of file `i` comes
    /// as soon as files `0..=i` are all finished (task 4).
    fn result(&mut self, result: FileResult);

    /// Called once per file as it finishes, in the order files finish,
    /// with the running totals (task 5). It does nothing unless overridden.
    fn progress(&mut self, progress: &crate::Progress) {
        let _ = progress;
    }
}

/// Collecting into a `Vec` keeps every result and ignores progress.
impl BatchSink for Vec<FileResult> {
    fn result(&mut self, result: FileResult) {
        self.push(result);
    }
}
// ANCHOR_END: sink
