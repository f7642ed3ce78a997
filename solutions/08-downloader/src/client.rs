//! Task 1: one attempt at one download. Tasks 5 to 8 add to it.

use std::io::{self, Read, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc::Sender;

use simfs::{Fs, FsFile, OpenOptions};
use ureq::Agent;

use crate::error::DownloadError;
use crate::http::{agent, classify, classify_io};
use crate::job::{Config, Downloaded, Job, part_path};
use crate::limit::{Throttled, TokenBucket};
use crate::progress::{Event, ProgressReader};
use crate::range::{ContentRange, parse_content_range};
use crate::retry::RetryPolicy;
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
        let part = part_path(&job.dest);
        let fs = &*self.fs;
        let mut have = if self.resume {
            existing_len(fs, &part)?
        } else {
            0
        };
        loop {
            let mut request = self.agent.get(&job.url);
            if have > 0 {
                request = request.header("Range", format!("bytes={have}-"));
            }
            let mut response = request.call().map_err(classify)?;
            let status = response.status().as_u16();
            let content_range = response
                .headers()
                .get("content-range")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let from = match status {
                200 => 0,
                206 if have > 0 => match content_range.as_deref().and_then(parse_content_range) {
                    Some(ContentRange::Bytes { first, .. }) if first == have => have,
                    _ => {
                        return Err(DownloadError::BadRange {
                            requested: have,
                            content_range,
                        });
                    }
                },
                416 if have > 0 => match content_range.as_deref().and_then(parse_content_range) {
                    Some(ContentRange::Unsatisfied { total }) if total == have => {
                        self.emit(Event::Receiving {
                            job: job_id,
                            from: have,
                            total: Some(have),
                        });
                        return self.finish(job, &part, have, have);
                    }
                    _ => {
                        fs.remove_file(&part).map_err(DownloadError::file(&part))?;
                        have = 0;
                        continue;
                    }
                },
                status => return Err(DownloadError::Status { status }),
            };
            let body_len = response.body().content_length();
            self.emit(Event::Receiving {
                job: job_id,
                from,
                total: body_len.map(|len| from + len),
            });
            let options = if from == 0 {
                *OpenOptions::new().write(true).create(true).truncate(true)
            } else {
                *OpenOptions::new().append(true)
            };
            let mut file = fs
                .open(&part, &options)
                .map_err(DownloadError::file(&part))?;

            let body = Throttled::new(response.body_mut().as_reader(), self.limiter.as_ref());
            let mut body = ProgressReader::new(body, from, |bytes| {
                self.emit(Event::Progress { job: job_id, bytes });
            });
            let received = copy_body(&mut body, &mut file, &part, body_len)?;
            file.sync_all().map_err(DownloadError::file(&part))?;
            drop(file);
            return self.finish(job, &part, from, from + received);
        }
    }
    // ANCHOR_END: task1

    /// Verifies the complete part file (task 8), moves it to its
    /// destination, and makes the move durable.
    fn finish(
        &self,
        job: &Job,
        part: &Path,
        from: u64,
        bytes: u64,
    ) -> Result<Downloaded, DownloadError> {
        if let Some(expected) = &job.sha256 {
            let actual = sha256_file(&*self.fs, part).map_err(DownloadError::file(part))?;
            if !actual.eq_ignore_ascii_case(expected.trim()) {
                self.fs
                    .remove_file(part)
                    .map_err(DownloadError::file(part))?;
                return Err(DownloadError::Checksum {
                    expected: expected.trim().to_ascii_lowercase(),
                    actual,
                });
            }
        }
        self.fs
            .rename(part, &job.dest)
            .map_err(DownloadError::file(&job.dest))?;
        sync_parent(&*self.fs, &job.dest)?;
        Ok(Downloaded {
            path: job.dest.clone(),
            bytes,
            resumed_from: from,
            attempts: 1,
        })
    }
}

/// Copies `body` into `file` and returns how many bytes it copied; a body
/// shorter than `expected` is [`DownloadError::Truncated`].
fn copy_body(
    body: &mut impl Read,
    file: &mut Box<dyn FsFile>,
    part: &Path,
    expected: Option<u64>,
) -> Result<u64, DownloadError> {
    let mut buf = vec![0; CHUNK];
    let mut received = 0u64;
    loop {
        let n = match body.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                return Err(DownloadError::Truncated {
                    expected: expected.unwrap_or(received),
                    received,
                });
            }
            Err(e) => return Err(classify_io(e)),
        };
        file.write_all(&buf[..n])
            .map_err(DownloadError::file(part))?;
        received += n as u64;
    }
    match expected {
        Some(expected) if received < expected => {
            Err(DownloadError::Truncated { expected, received })
        }
        _ => Ok(received),
    }
}

/// The length of the file at `path`, or 0 if there is none.
fn existing_len(fs: &dyn Fs, path: &Path) -> Result<u64, DownloadError> {
    match fs.len(path) {
        Ok(len) => Ok(len),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(0),
        Err(e) => Err(DownloadError::file(path)(e)),
    }
}

/// Syncs the directory that holds `path`, so that a rename into it is
/// durable.
fn sync_parent(fs: &dyn Fs, path: &Path) -> Result<(), DownloadError> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    fs.sync_dir(dir).map_err(DownloadError::file(dir))
}
