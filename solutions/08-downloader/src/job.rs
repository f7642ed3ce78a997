//! What to download, what came of it, and how. These types are complete.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::Sender;
use std::time::Duration;

use simfs::{Fs, RealFs};

use crate::progress::Event;
use crate::retry::RetryPolicy;

// ANCHOR: job
/// One file to download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// An `http://` URL.
    pub url: String,
    /// Where the file goes. Its directory must exist. While the download
    /// runs, the data goes to [`part_path`]`(dest)` instead.
    pub dest: PathBuf,
    /// The SHA-256 the file must have, in hex (either case), if known.
    pub sha256: Option<String>,
}

impl Job {
    /// A job without a checksum.
    pub fn new(url: impl Into<String>, dest: impl Into<PathBuf>) -> Self {
        Self {
            url: url.into(),
            dest: dest.into(),
            sha256: None,
        }
    }

    /// The same job, with the SHA-256 the file must have.
    pub fn with_sha256(mut self, hex: impl Into<String>) -> Self {
        self.sha256 = Some(hex.into());
        self
    }
}

/// A finished download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Downloaded {
    /// Where the file is now (the job's `dest`).
    pub path: PathBuf,
    /// The file's size in bytes.
    pub bytes: u64,
    /// How many bytes of it were already on disk, in a `.part` file, when
    /// the successful attempt started; 0 if it started from scratch.
    pub resumed_from: u64,
    /// How many attempts it took, the successful one included.
    pub attempts: u32,
}

/// Where a download keeps its data until it is complete: `dest` with
/// `.part` appended (`file.iso` → `file.iso.part`).
pub fn part_path(dest: &Path) -> PathBuf {
    let mut name = dest.as_os_str().to_owned();
    name.push(OsString::from(".part"));
    PathBuf::from(name)
}

/// How to download.
#[derive(Debug, Clone)]
pub struct Config {
    /// At most this many downloads run at once (0 counts as 1).
    pub jobs: usize,
    /// When and how often to try again.
    pub retry: RetryPolicy,
    /// The longest the client waits for the server: to connect, and for
    /// each read of the response (head or body). A slow but steady download
    /// never times out; a silent server does.
    pub timeout: Duration,
    /// The total bandwidth of all downloads together, in bytes per second;
    /// `None` for no limit.
    pub rate_limit: Option<u64>,
    /// Continue a `.part` file left by an earlier attempt with a `Range`
    /// request, instead of starting over.
    pub resume: bool,
    /// Where progress events go, if anywhere.
    pub progress: Option<Sender<Event>>,
    /// The file system the downloads are written to: the real disk, or a
    /// simulated one in the power-loss tests.
    pub fs: Arc<dyn Fs>,
}

impl Default for Config {
    /// Four at once, [`RetryPolicy::default`], a 30 s timeout, no rate
    /// limit, resume on, no progress events, the real disk.
    fn default() -> Self {
        Self {
            jobs: 4,
            retry: RetryPolicy::default(),
            timeout: Duration::from_secs(30),
            rate_limit: None,
            resume: true,
            progress: None,
            fs: Arc::new(RealFs),
        }
    }
}
// ANCHOR_END: job
