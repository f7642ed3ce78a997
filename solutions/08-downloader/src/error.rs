//! The lesson's error type. It is complete: you do not need to edit this
//! file.

use std::io;
use std::path::PathBuf;

// ANCHOR: errors
/// Why one download (or one URL check) failed.
#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    /// The server answered with a status other than the one we needed
    /// (200, or 206 to a `Range` request).
    #[error("the server answered {status}, not 200 OK")]
    Status {
        /// The HTTP status code.
        status: u16,
    },
    /// The server took longer than the timeout: to accept the connection,
    /// to answer, or to send the next piece of a body that stalled.
    #[error("timed out waiting for the server")]
    Timeout,
    /// The connection failed: refused, reset, or closed before a response.
    #[error("connection failed: {0}")]
    Connection(String),
    /// The body ended before the `Content-Length` the server announced.
    #[error("the body ended after {received} of {expected} bytes")]
    Truncated {
        /// The body length the server announced.
        expected: u64,
        /// The bytes that arrived before the connection closed.
        received: u64,
    },
    /// A `206 Partial Content` answer that does not continue the partial
    /// file where it ends.
    #[error("asked for bytes from {requested} on, but the server sent {content_range:?}")]
    BadRange {
        /// The first byte we asked for (the partial file's length).
        requested: u64,
        /// The server's `Content-Range` header, if it sent one.
        content_range: Option<String>,
    },
    /// The downloaded file's SHA-256 is not the expected one. The file has
    /// been removed.
    #[error("SHA-256 mismatch: expected {expected}, the download has {actual}")]
    Checksum {
        /// The digest the job asked for, in lower-case hex.
        expected: String,
        /// The digest of what arrived, in lower-case hex.
        actual: String,
    },
    /// Reading or writing a local file failed.
    #[error("{}: {source}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: io::Error,
    },
    /// The request itself is wrong (a malformed URL, say); sending it again
    /// cannot help.
    #[error("bad request: {0}")]
    Request(String),
}

impl DownloadError {
    /// A [`DownloadError::File`] for `path`: use it as
    /// `.map_err(DownloadError::file(&path))`.
    pub fn file(path: &std::path::Path) -> impl FnOnce(io::Error) -> Self + '_ {
        move |source| Self::File {
            path: path.to_path_buf(),
            source,
        }
    }
}
// ANCHOR_END: errors
