//! What the server serves at one path, and how it misbehaves.

use std::sync::Arc;
use std::time::Duration;

// ANCHOR: fault
/// One failed reply. A route's faults are used up one per request, in
/// order; once they are all used, the route answers normally.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this status code and a short text body instead of the
    /// content.
    Status(u16),
    /// Read the request, then close the connection without any reply.
    Hangup,
    /// Send the headers, with a `Content-Length` of the whole body (or the
    /// whole requested range), then only this many bytes of it, then close
    /// the connection.
    Truncate(usize),
    /// Send the headers and this many bytes of the body, then keep the
    /// connection open without sending anything more (for a minute, or
    /// until the server stops).
    Stall(usize),
    /// Answer a request that carries a `Range` header with `206 Partial
    /// Content` and the body from this offset on (with a `Content-Range`
    /// that says so), whatever range it asked for: a broken server or cache.
    /// A request without a `Range` header gets the usual answer.
    WrongRange(usize),
}
// ANCHOR_END: fault

/// The content of one path and its faults. Build it with [`Route::new`] and
/// the methods that follow it, then install it with
/// [`FaultServer::route`](crate::FaultServer::route).
#[derive(Debug, Clone)]
pub struct Route {
    pub(crate) body: Arc<[u8]>,
    pub(crate) latency: Duration,
    pub(crate) faults: Vec<Fault>,
    pub(crate) ranges: bool,
    pub(crate) flip_byte: Option<usize>,
    pub(crate) pace: Option<Duration>,
}

impl Route {
    /// A route that answers `200 OK` with `body`, at once, without `Range`
    /// support.
    pub fn new(body: impl Into<Vec<u8>>) -> Self {
        Self {
            body: body.into().into(),
            latency: Duration::ZERO,
            faults: Vec::new(),
            ranges: false,
            flip_byte: None,
            pace: None,
        }
    }

    /// Waits this long after reading each request before answering it
    /// (whatever the answer is).
    pub fn latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// The first requests get these faults, one each, in order.
    pub fn faults(mut self, faults: impl IntoIterator<Item = Fault>) -> Self {
        self.faults = faults.into_iter().collect();
        self
    }

    /// Honours `Range: bytes=N-` (and `bytes=N-M`) with `206 Partial
    /// Content`, and answers `416` to a range that starts at or past the
    /// end. Without it (the default), a request with a `Range` header gets
    /// `200 OK` and the whole body, as from a server that does not support
    /// ranges.
    pub fn ranges(mut self, on: bool) -> Self {
        self.ranges = on;
        self
    }

    /// Sends wrong content: the byte at `index` of the body is inverted in
    /// every reply that includes it.
    pub fn flip_byte(mut self, index: usize) -> Self {
        self.flip_byte = Some(index);
        self
    }

    /// Sends the body in 16 KiB pieces with this pause after each, so a
    /// download takes a while (for watching progress bars).
    pub fn pace(mut self, pause: Duration) -> Self {
        self.pace = Some(pause);
        self
    }

    /// The body this route serves (before any [`flip_byte`](Self::flip_byte)).
    pub fn body(&self) -> &[u8] {
        &self.body
    }
}
