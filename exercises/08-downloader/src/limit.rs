//! Task 6: a total bandwidth limit, shared by every download.

use std::io::{self, Read};
#[allow(unused_imports)] // you will need it
use std::sync::{Mutex, PoisonError};
#[allow(unused_imports)] // you will need it
use std::thread;
#[allow(unused_imports)] // you will need it
use std::time::{Duration, Instant};

// ANCHOR: task6
/// A token bucket: tokens (bytes) drip in at `rate` per second, up to
/// `burst` of them. A reader pays one token per byte it has read. Shared by
/// all download threads (`&TokenBucket` is all they need), it caps their
/// total throughput at `rate`, give or take one burst.
///
/// The bucket may go into debt: [`take`](Self::take) always takes what it
/// is asked for, and if that leaves the bucket below zero, the caller sleeps
/// until the drip has paid the debt back. Whoever comes next finds the debt
/// deeper and sleeps longer, so the callers queue up in the order they came.
#[derive(Debug)]
pub struct TokenBucket {
    /// Bytes per second (at least 1).
    rate: f64,
    /// The most tokens the bucket holds (at least 1).
    burst: f64,
    state: Mutex<BucketState>,
}

#[derive(Debug)]
struct BucketState {
    /// Tokens in the bucket now; fractions of a token count, and a negative
    /// number is a debt.
    tokens: f64,
    /// When `tokens` was last brought up to date.
    updated: Instant,
}

impl TokenBucket {
    /// A full bucket: `burst` tokens at once, then `rate` tokens per
    /// second. A rate or burst of 0 counts as 1.
    pub fn new(rate: u64, burst: u64) -> Self {
        let burst = burst.max(1) as f64;
        Self {
            rate: rate.max(1) as f64,
            burst,
            state: Mutex::new(BucketState {
                tokens: burst,
                updated: Instant::now(),
            }),
        }
    }

    /// Takes `n` tokens, and returns once they are paid for.
    ///
    /// Under the lock: add the tokens that dripped in since `updated`
    /// (`elapsed seconds * rate`, but never above the burst), set `updated`
    /// to now, and subtract `n`. If that leaves a debt (below zero), the
    /// caller must wait `debt / rate` seconds: release the lock *first*, then
    /// sleep. `take(0)` returns at once.
    pub fn take(&self, n: usize) {
        todo!(
            "task 6: refill and subtract under the lock; if in debt, sleep debt / rate after releasing it"
        )
    }
}

/// A reader that pays the bucket for every byte it has read, before it
/// hands the bytes on.
#[derive(Debug)]
pub struct Throttled<'a, R> {
    inner: R,
    bucket: Option<&'a TokenBucket>,
}

impl<'a, R: Read> Throttled<'a, R> {
    /// Wraps `inner`; with no bucket, reads pass straight through.
    pub fn new(inner: R, bucket: Option<&'a TokenBucket>) -> Self {
        Self { inner, bucket }
    }
}

impl<R: Read> Read for Throttled<'_, R> {
    /// Reads from the inner reader, then, with a bucket, takes one token per
    /// byte read before returning. (Paying *after* the read charges exactly
    /// the bytes that arrived; paying for `buf.len()` before it would charge
    /// for bytes that a short read never delivers.)
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        todo!("task 6: read from the inner reader, then take one token per byte read")
    }
}
// ANCHOR_END: task6
