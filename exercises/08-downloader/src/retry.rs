//! Task 2: retries with exponential backoff.

#[allow(unused_imports)] // you will need it
use std::thread;
use std::time::Duration;

use crate::client::Client;
use crate::error::DownloadError;
use crate::job::{Downloaded, Job};
#[allow(unused_imports)] // you will need it
use crate::progress::Event;

// ANCHOR: policy
/// When to try a failed download again, and how long to wait first.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (0 counts as 1).
    pub max_attempts: u32,
    /// The wait after the first failure.
    pub base_delay: Duration,
    /// Each further wait is this many times the one before (1.0 or more).
    pub factor: f64,
    /// No wait is longer than this.
    pub max_delay: Duration,
}

impl RetryPolicy {
    /// One attempt, no retries.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }
}

impl Default for RetryPolicy {
    /// Four attempts; waits of 250 ms, 500 ms, 1 s (at most 10 s).
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_millis(250),
            factor: 2.0,
            max_delay: Duration::from_secs(10),
        }
    }
}
// ANCHOR_END: policy

// ANCHOR: task2
impl RetryPolicy {
    /// How long to wait after the `failures`-th failed attempt:
    /// `base_delay * factor^(failures - 1)`, but at most `max_delay`; zero
    /// for `failures == 0`.
    ///
    /// Compute in `f64` seconds and compare with `max_delay` *before* you
    /// make a `Duration`: `Duration::mul_f64` and `from_secs_f64` panic on
    /// overflow, and `factor^1000` overflows anything.
    pub fn delay_after(&self, failures: u32) -> Duration {
        todo!(
            "task 2: base_delay * factor^(failures - 1), capped at max_delay, computed in f64 seconds"
        )
    }
}

/// Whether another attempt might succeed where this one failed: yes for a
/// 5xx status, a timeout, a connection failure and a truncated body (the
/// server or the network had a bad moment); no for everything else, above
/// all a 4xx status (the request itself is wrong: asking again gets the same
/// answer) and a checksum mismatch.
pub fn is_retryable(err: &DownloadError) -> bool {
    todo!(
        "task 2: match on the error: 5xx, Timeout, Connection and Truncated are worth another try"
    )
}

impl Client {
    /// Downloads `job`, trying again after a retryable failure, at most
    /// `self.retry.max_attempts` attempts in all, with
    /// [`RetryPolicy::delay_after`] between them. The result's `attempts`
    /// says how many it took. A failure that is not retryable, or the last
    /// attempt's failure, is returned as it is.
    ///
    /// Task 5: send [`Event::Started`] first, [`Event::Retrying`] before
    /// each wait, and [`Event::Finished`] or [`Event::Failed`] at the end.
    pub fn download(&self, job_id: usize, job: &Job) -> Result<Downloaded, DownloadError> {
        todo!(
            "task 2: loop over self.attempt; on a retryable error with attempts left, sleep delay_after(attempt)"
        )
    }
}
// ANCHOR_END: task2
