//! Helpers shared by the lesson's test files.

#![allow(dead_code)] // each test file uses a different part of this module

use std::collections::HashSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError, mpsc};
use std::thread::{self, ThreadId};
use std::time::Duration;

use downloader::{Config, RetryPolicy, part_path};
use simfs::{Fs, FsFile, OpenOptions, RealFs};

/// How long a test waits for a download that should be quick before it
/// fails (instead of hanging).
pub const DEADLINE: Duration = Duration::from_secs(20);

/// `len` bytes that differ from position to position (and from `seed` to
/// `seed`), so a byte in the wrong place is noticed.
pub fn content(len: usize, seed: u8) -> Vec<u8> {
    let mut x = 0x9E37_79B9_u32 ^ u32::from(seed).wrapping_mul(0x0100_0193);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect()
}

/// A config for tests: no retries, a 10 s timeout, resume on.
pub fn test_config() -> Config {
    Config {
        jobs: 4,
        retry: RetryPolicy::none(),
        timeout: Duration::from_secs(10),
        rate_limit: None,
        resume: true,
        progress: None,
        ..Config::default()
    }
}

/// A retry policy with `max_attempts` and short waits: `base_ms`, then
/// twice as long each time.
pub fn quick_retry(max_attempts: u32, base_ms: u64) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        base_delay: Duration::from_millis(base_ms),
        factor: 2.0,
        max_delay: Duration::from_secs(2),
    }
}

/// Runs `f` on a thread and returns its result, or fails the test if it has
/// not finished within `deadline`. A panic in `f` (such as `not yet
/// implemented`) fails the test with the same message.
pub fn within<T: Send + 'static>(
    deadline: Duration,
    what: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = mpsc::channel();
    let handle = thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(deadline) {
        Ok(value) => value,
        Err(mpsc::RecvTimeoutError::Disconnected) => match handle.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => unreachable!("the thread sends before it ends"),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => panic!(
            "{what} did not finish within {deadline:?}; it should have long before \
             (a deadlock, a missing timeout, or a wait that never ends?)"
        ),
    }
}

/// The file's contents, or a failure that says the file is missing.
pub fn read(path: &Path) -> Vec<u8> {
    fs::read(path).unwrap_or_else(|e| panic!("expected the file {} to exist: {e}", path.display()))
}

/// Asserts that `path` holds exactly `expected`, with a short message
/// instead of two huge byte dumps.
pub fn assert_content(path: &Path, expected: &[u8], why: &str) {
    let got = fs::read(path).unwrap_or_else(|e| {
        panic!(
            "{}: {why}\n  expected the file to hold {} bytes, but it cannot be read: {e}",
            path.display(),
            expected.len()
        )
    });
    if got == expected {
        return;
    }
    let first_diff = got.iter().zip(expected).position(|(a, b)| a != b);
    panic!(
        "{}: {why}\n  expected {} bytes, found {} bytes; first differing byte: {}",
        path.display(),
        expected.len(),
        got.len(),
        match first_diff {
            Some(i) => format!("at offset {i}"),
            None => "none (one is a prefix of the other)".to_string(),
        }
    );
}

/// Asserts that neither the destination nor its part file exists.
pub fn assert_no_download(dest: &Path, why: &str) {
    assert!(!dest.exists(), "{} must not exist: {why}", dest.display());
    let part = part_path(dest);
    assert!(!part.exists(), "{} must not exist: {why}", part.display());
}

/// The path of `name` in `dir`.
pub fn dest(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}

/// The real disk, through a seam that remembers which threads used it: a
/// test can count the threads that did the downloads.
#[derive(Debug, Default)]
pub struct ThreadWatchFs {
    threads: Mutex<HashSet<ThreadId>>,
}

impl ThreadWatchFs {
    fn saw(&self) {
        self.threads
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(thread::current().id());
    }

    /// How many different threads have used the file system.
    pub fn threads(&self) -> usize {
        self.threads
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

impl Fs for ThreadWatchFs {
    fn open(&self, path: &Path, options: &OpenOptions) -> io::Result<Box<dyn FsFile>> {
        self.saw();
        RealFs.open(path, options)
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        self.saw();
        RealFs.rename(from, to)
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        self.saw();
        RealFs.remove_file(path)
    }

    fn create_dir(&self, path: &Path) -> io::Result<()> {
        self.saw();
        RealFs.create_dir(path)
    }

    fn sync_dir(&self, path: &Path) -> io::Result<()> {
        self.saw();
        RealFs.sync_dir(path)
    }

    fn read_dir(&self, path: &Path) -> io::Result<Vec<String>> {
        self.saw();
        RealFs.read_dir(path)
    }

    fn exists(&self, path: &Path) -> io::Result<bool> {
        self.saw();
        RealFs.exists(path)
    }

    fn len(&self, path: &Path) -> io::Result<u64> {
        self.saw();
        RealFs.len(path)
    }
}

/// The SHA-256 of `data`, in lower-case hex (computed with `sha2` directly).
pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
