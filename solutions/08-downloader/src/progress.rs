//! Task 5: progress events.

use std::io::{self, Read};
use std::time::Duration;

// ANCHOR: events
/// What a download reports while it runs. `job` is the job's index in the
/// list given to [`download_all`](crate::download_all).
///
/// For each job, in this order: one `Started`; then, per attempt, a
/// `Receiving` when the response head has arrived, `Progress` as the body
/// arrives, and a `Retrying` if the attempt failed and another follows;
/// finally exactly one `Finished` or `Failed`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A worker has taken the job.
    Started {
        /// The job's index.
        job: usize,
        /// The job's URL.
        url: String,
    },
    /// A response is arriving: the file will grow from `from` bytes (kept
    /// from a `.part` file) to `total` bytes, if the server said how long
    /// it is.
    Receiving {
        /// The job's index.
        job: usize,
        /// Bytes already on disk.
        from: u64,
        /// The whole file's size, if known.
        total: Option<u64>,
    },
    /// The file on disk now holds `bytes` bytes (resumed bytes included).
    Progress {
        /// The job's index.
        job: usize,
        /// The file's length so far.
        bytes: u64,
    },
    /// Attempt number `attempt` failed with `error`; the next one starts
    /// after `delay`.
    Retrying {
        /// The job's index.
        job: usize,
        /// The attempt that failed (1 for the first).
        attempt: u32,
        /// How long the job waits before the next attempt.
        delay: Duration,
        /// What went wrong.
        error: String,
    },
    /// The download is complete: the file is at its destination.
    Finished {
        /// The job's index.
        job: usize,
        /// The file's size.
        bytes: u64,
    },
    /// The download failed for good.
    Failed {
        /// The job's index.
        job: usize,
        /// What went wrong, the last time.
        error: String,
    },
}
// ANCHOR_END: events

// ANCHOR: task5
/// A reader that reports how far it has got: after every read that returns
/// data, it calls `report` with `start` plus all the bytes read so far.
///
/// Wrap a response body in it, with `start` = the bytes already on disk,
/// and `report` sends an [`Event::Progress`].
pub struct ProgressReader<R, F> {
    inner: R,
    position: u64,
    report: F,
}

impl<R: Read, F: FnMut(u64)> ProgressReader<R, F> {
    /// Wraps `inner`; the first report will be `start` plus the first
    /// read's length.
    pub fn new(inner: R, start: u64, report: F) -> Self {
        Self {
            inner,
            position: start,
            report,
        }
    }
}

impl<R: Read, F: FnMut(u64)> Read for ProgressReader<R, F> {
    /// Reads from the inner reader. A read of `n > 0` bytes advances the
    /// position by `n` and reports the new position; a read of 0 bytes (the
    /// end) and an error report nothing.
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n > 0 {
            self.position += n as u64;
            (self.report)(self.position);
        }
        Ok(n)
    }
}
// ANCHOR_END: task5
