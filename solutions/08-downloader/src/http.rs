//! The HTTP client's configuration, and what its errors mean.

use std::io;
use std::time::Duration;

use ureq::Agent;

use crate::error::DownloadError;

// ANCHOR: agent
/// The HTTP client every download shares. (An `Agent` is a handle: cloning
/// it is cheap, and clones share one connection pool.)
///
/// - A status such as 404 or 500 is an answer, not an error: the caller
///   looks at it (`http_status_as_error(false)`).
/// - No proxy: ureq would otherwise take one from `HTTP_PROXY` and friends,
///   and the tests' requests to 127.0.0.1 must go to 127.0.0.1.
/// - Task 4: `timeout` limits connecting (`timeout_connect`) and each single
///   read from the connection (`timeout_per_read`): the response head and
///   every piece of the body. A download that keeps receiving never times
///   out, however long it takes; one that receives nothing for `timeout`
///   does.
pub fn agent(timeout: Duration) -> Agent {
    let config = Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .timeout_connect(Some(timeout))
        .timeout_per_read(Some(timeout))
        .build();
    config.into()
}
// ANCHOR_END: agent

// ANCHOR: task4
/// Sorts an error from `ureq` (from sending a request) into a
/// [`DownloadError`]:
///
/// - `ureq::Error::Timeout(_)` is [`DownloadError::Timeout`];
/// - `ureq::Error::Io(e)` is whatever [`classify_io`] makes of `e`;
/// - `StatusCode(s)` (which only appears if status codes are errors) is
///   [`DownloadError::Status`];
/// - a malformed request (`BadUri`, `Http`), a redirect problem
///   (`TooManyRedirects`, `RedirectFailed`) or a proxy setting
///   (`InvalidProxyUrl`) is [`DownloadError::Request`]: trying again cannot
///   help;
/// - anything else (`ConnectionFailed`, `HostNotFound`, `Protocol`, ...) is
///   [`DownloadError::Connection`], with the error's text.
pub fn classify(err: ureq::Error) -> DownloadError {
    match err {
        ureq::Error::Timeout(_) => DownloadError::Timeout,
        ureq::Error::Io(e) => classify_io(e),
        ureq::Error::StatusCode(status) => DownloadError::Status { status },
        e @ (ureq::Error::BadUri(_)
        | ureq::Error::Http(_)
        | ureq::Error::TooManyRedirects
        | ureq::Error::RedirectFailed
        | ureq::Error::InvalidProxyUrl) => DownloadError::Request(e.to_string()),
        e => DownloadError::Connection(e.to_string()),
    }
}

/// Sorts an I/O error from reading a response body into a
/// [`DownloadError`].
///
/// ureq's body reader reports its own errors (a timeout, say) as an
/// `io::Error` that wraps a `ureq::Error`: take it out with
/// `io::Error::downcast::<ureq::Error>()` and [`classify`] it. Otherwise,
/// the kinds `TimedOut` and `WouldBlock` (what a socket read timeout gives)
/// are [`DownloadError::Timeout`], and every other error is
/// [`DownloadError::Connection`] with the error's text.
pub fn classify_io(err: io::Error) -> DownloadError {
    match err.downcast::<ureq::Error>() {
        Ok(ureq_err) => classify(ureq_err),
        Err(err) => match err.kind() {
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => DownloadError::Timeout,
            _ => DownloadError::Connection(err.to_string()),
        },
    }
}
// ANCHOR_END: task4
