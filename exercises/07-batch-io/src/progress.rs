//! Task 5: progress counts.

use crate::config::FileDone;
use crate::error::FileError;

// ANCHOR: progress
/// Running totals of a batch. Every field only ever grows, except
/// `files_total`, which never changes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    /// How many files the batch was given.
    pub files_total: usize,
    /// How many files have finished, successfully or not.
    pub files_done: usize,
    /// How many of the finished files failed.
    pub files_failed: usize,
    /// Input bytes of the files that succeeded.
    pub bytes_read: u64,
    /// Output bytes of the files that succeeded.
    pub bytes_written: u64,
}
// ANCHOR_END: progress

impl Progress {
    /// The totals of a batch of `files_total` files before any has finished.
    pub fn new(files_total: usize) -> Self {
        Self {
            files_total,
            ..Self::default()
        }
    }

    /// How many of the finished files succeeded.
    pub fn files_ok(&self) -> usize {
        self.files_done - self.files_failed
    }

    /// Whether every file has finished.
    pub fn is_complete(&self) -> bool {
        self.files_done == self.files_total
    }

    // ANCHOR: task5
    /// Counts one finished file (task 5): one more file done; a failure
    /// counts as failed; a success adds its bytes read and written.
    pub fn record(&mut self, outcome: &Result<FileDone, FileError>) {
        todo!("task 5: one more file done; a failure counts as failed, a success adds its bytes")
    }
    // ANCHOR_END: task5
}
