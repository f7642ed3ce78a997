//! Task 3: many downloads, at most N at once.

#[allow(unused_imports)] // you will need it
use std::sync::atomic::{AtomicUsize, Ordering};
#[allow(unused_imports)] // you will need it
use std::thread;

#[allow(unused_imports)] // you will need it
use crate::client::Client;
use crate::error::DownloadError;
use crate::job::{Config, Downloaded, Job};

// ANCHOR: task3
/// Downloads every job, at most `config.jobs` at once (0 counts as 1), and
/// returns one result per job, in the order of `jobs`. One job's failure
/// does not stop the others.
///
/// Make one [`Client`] for all of them. Start `min(config.jobs, jobs.len())`
/// worker threads in a `std::thread::scope`; each takes the next job index
/// from a shared counter (an `AtomicUsize` and `fetch_add`) until none is
/// left, runs [`Client::download`] on it, and keeps `(index, result)`.
/// When the scope ends, put every result in its job's place.
pub fn download_all(jobs: &[Job], config: &Config) -> Vec<Result<Downloaded, DownloadError>> {
    todo!(
        "task 3: one Client, N scoped worker threads taking indices from an AtomicUsize, results back in order"
    )
}
// ANCHOR_END: task3
