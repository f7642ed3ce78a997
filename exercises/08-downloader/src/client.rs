//! Task 1: one attempt at one download. Tasks 5 to 8 add to it.

#[allow(unused_imports)] // you will need it
use std::io::{self, Read, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc::Sender;

#[allow(unused_imports)] // you will need it
use simfs::{Fs, FsFile, OpenOptions};
use ureq::Agent;

use crate::error::DownloadError;
#[allow(unused_imports)] // you will need it
use crate::http::{agent, classify, classify_io};
#[allow(unused_imports)] // you will need it
use crate::job::{Config, Downloaded, Job, part_path};
#[allow(unused_imports)] // you will need it
use crate::limit::{Throttled, TokenBucket};
#[allow(unused_imports)] // you will need it
use crate::progress::{Event, ProgressReader};
#[allow(unused_imports)] // you will need it
use crate::range::{ContentRange, parse_content_range};
use crate::retry::RetryPolicy;
#[allow(unused_imports)] // you will need it
use crate::verify::sha256_file;

/// How many bytes the copy loop reads at a time.
pub const CHUNK: usize = 64 * 1024;

// ANCHOR: client
/// Everything the download threads share: the HTTP agent, the settings,
/// the bandwidth limiter and the progress channel. It is `Sync`, so worker
/// threads can share one `&Client`.
#[derive(Debug)]
pub struct Client {
    pub(crate) agent: Agent,
    pub(crate) retry: RetryPolicy,
    pub(crate) resume: bool,
    pub(crate) limiter: Option<TokenBucket>,
    pub(crate) progress: Option<Sender<Event>>,
    /// Where every file operation goes (`self.fs.open`, `rename`, ...).
    pub(crate) fs: Arc<dyn Fs>,
}

impl Client {
    /// A client for `config`. With a rate limit, the bucket holds 1/20 s of
    /// tokens: enough for smooth reads, too little to matter to the total.
    pub fn new(config: &Config) -> Self {
        Self {
            agent: agent(config.timeout),
            retry: config.retry,
            resume: config.resume,
            limiter: config
                .rate_limit
                .map(|rate| TokenBucket::new(rate, (rate / 20).max(1))),
            progress: config.progress.clone(),
            fs: Arc::clone(&config.fs),
        }
    }

    /// Sends a progress event, if anyone listens. A receiver that has gone
    /// away is not an error: progress is for watching, and a download must
    /// not fail because nobody watches it any more.
    pub(crate) fn emit(&self, event: Event) {
        if let Some(progress) = &self.progress {
            let _ = progress.send(event);
        }
    }
}
// ANCHOR_END: client

impl Client {
    // ANCHOR: task1
    /// One attempt at `job` (no retries): GET the URL, stream the body into
    /// [`part_path`]`(&job.dest)`, and when all of it has arrived, move the
    /// part file to `job.dest`. `job_id` is the job's index, for events.
    ///
    /// Task 1:
    /// - Send the request with `self.agent.get(&job.url).call()`; an error
    ///   goes through [`classify`] (task 4 writes it).
    /// - Any status but 200 is [`DownloadError::Status`], before any file is
    ///   created.
    /// - Create the part file and copy the body into it, [`CHUNK`] bytes at
    ///   a time, from `response.body_mut().as_reader()`, counting the bytes.
    ///   `read` returning `Ok(0)` is the end.
    /// - If fewer bytes arrived than the `Content-Length`
    ///   (`response.body().content_length()`), or a read failed with
    ///   `io::ErrorKind::UnexpectedEof` (the connection closed early), that
    ///   is [`DownloadError::Truncated`]. Any other read error goes through
    ///   [`classify_io`]. File errors are [`DownloadError::File`].
    /// - Every file operation goes through `self.fs` (`self.fs.open`,
    ///   `rename`, `remove_file`), so the power-loss test can run it on a
    ///   simulated disk.
    /// - When the body is complete: `sync_all` the part file, rename it to
    ///   `job.dest`, and sync the directory (`sync_parent`, below). The
    ///   destination only ever holds a whole file, also after a power cut.
    /// - Return `Downloaded { path: job.dest, bytes: the file's size,
    ///   resumed_from: 0, attempts: 1 }` ([`Client::download`] counts the
    ///   real attempts; task 7 fills in `resumed_from`).
    ///
    /// Task 5: send [`Event::Receiving`] once the status is good, and wrap
    /// the body reader in a [`ProgressReader`] that sends [`Event::Progress`].
    ///
    /// Task 6: wrap the body reader in a [`Throttled`] with `self.limiter`.
    ///
    /// Task 7: if `self.resume` and the part file has `n > 0` bytes
    /// (`existing_len`, below), ask for
    /// the rest with `Range: bytes=n-`, and then:
    /// - `206` whose `Content-Range` starts at `n`: append to the part file;
    ///   any other `206` is [`DownloadError::BadRange`];
    /// - `200`: the server ignored the range; start the part file over;
    /// - `416` with `Content-Range: bytes */n`: the part file is already
    ///   complete; any other `416`: remove the part file and ask again,
    ///   without a range.
    ///
    /// Task 8: before the rename, if `job.sha256` is set, compare it (in
    /// any case) with [`sha256_file`] of the part file; on a mismatch,
    /// remove the part file and return [`DownloadError::Checksum`].
    pub fn attempt(&self, job_id: usize, job: &Job) -> Result<Downloaded, DownloadError> {
        todo!("task 1: GET, check the status, copy the body into the .part file, sync, rename")
    }
    // ANCHOR_END: task1
}

// ANCHOR: helpers
/// The length of the file at `path`, or 0 if there is none (task 7).
pub(crate) fn existing_len(fs: &dyn Fs, path: &Path) -> Result<u64, DownloadError> {
    match fs.len(path) {
        Ok(len) => Ok(len),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(0),
        Err(e) => Err(DownloadError::file(path)(e)),
    }
}

/// Syncs the directory that holds `path`, so that a rename into it is
/// durable (task 1).
pub(crate) fn sync_parent(fs: &dyn Fs, path: &Path) -> Result<(), DownloadError> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    fs.sync_dir(dir).map_err(DownloadError::file(dir))
}
// ANCHOR_END: helpers
