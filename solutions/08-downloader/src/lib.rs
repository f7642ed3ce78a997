//! Lesson 08: a concurrent HTTP downloader (reference solution).
//!
//! - Task 1, `client.rs`: one attempt at one download, [`Client::attempt`].
//! - Task 2, `retry.rs`: retries with exponential backoff.
//! - Task 3, `pool.rs`: many downloads, at most N at once.
//! - Task 4, `http.rs`: timeouts, and what ureq's errors mean.
//! - Task 5, `progress.rs`: progress events.
//! - Task 6, `limit.rs`: a total bandwidth limit.
//! - Task 7, `range.rs`: resuming with `Range`.
//! - Task 8, `verify.rs`: SHA-256 verification.
//! - Task 9, `check.rs`: a URL checker.

mod check;
mod client;
mod error;
mod http;
mod job;
mod limit;
mod pool;
mod progress;
mod range;
mod retry;
mod verify;

pub use check::{CheckOptions, CheckReport, UrlCheck, check_agent, check_one, check_urls};
pub use client::{CHUNK, Client};
pub use error::DownloadError;
pub use http::{agent, classify, classify_io};
pub use job::{Config, Downloaded, Job, part_path};
pub use limit::{Throttled, TokenBucket};
pub use pool::download_all;
pub use progress::{Event, ProgressReader};
pub use range::{ContentRange, parse_content_range};
pub use retry::{RetryPolicy, is_retryable};
pub use verify::{sha256_file, to_hex};
