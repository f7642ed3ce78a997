//! Task 9: a URL checker.

#[allow(unused_imports)] // you will need it
use std::thread;
#[allow(unused_imports)] // you will need it
use std::time::{Duration, Instant};

use ureq::Agent;

use crate::error::DownloadError;
#[allow(unused_imports)] // you will need it
use crate::http::classify;

// ANCHOR: check_types
/// How to check URLs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckOptions {
    /// At most this many checks run at once (0 counts as 1).
    pub concurrency: usize,
    /// The most one check may take, from connecting to the response head.
    pub timeout: Duration,
}

impl Default for CheckOptions {
    /// Ten at once, five seconds each.
    fn default() -> Self {
        Self {
            concurrency: 10,
            timeout: Duration::from_secs(5),
        }
    }
}

/// The result of checking one URL.
#[derive(Debug)]
pub struct UrlCheck {
    /// The URL.
    pub url: String,
    /// Up: `Ok` with the time from sending the request to receiving the
    /// response head. Down: why (a non-200 status is
    /// [`DownloadError::Status`]).
    pub outcome: Result<Duration, DownloadError>,
}

impl UrlCheck {
    /// Whether the URL answered 200 OK in time.
    pub fn is_up(&self) -> bool {
        self.outcome.is_ok()
    }
}

/// The checker's report.
#[derive(Debug)]
pub struct CheckReport {
    /// One check per URL, in the order of the URLs.
    pub checks: Vec<UrlCheck>,
    /// How many are up.
    pub up: usize,
    /// How many are down.
    pub down: usize,
    /// The mean latency of the URLs that are up; `None` if none is.
    pub average_latency: Option<Duration>,
}

/// The checker's HTTP client: status codes are answers, there is no proxy,
/// and `timeout` bounds each whole request (`timeout_global`), however the
/// time is spent.
pub fn check_agent(timeout: Duration) -> Agent {
    Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .timeout_global(Some(timeout))
        .build()
        .into()
}
// ANCHOR_END: check_types

// ANCHOR: task9
/// Checks one URL with a GET: `Ok(latency)` if it answers 200 (the body is
/// not read), [`DownloadError::Status`] for any other status, and the
/// [`classify`]d error if the request fails.
pub fn check_one(agent: &Agent, url: &str) -> Result<Duration, DownloadError> {
    todo!("task 9: time agent.get(url).call(); 200 is up, any other status is down")
}

/// Checks every URL, at most `options.concurrency` at once, each with
/// `options.timeout`, and reports.
///
/// A worker pool that talks over channels: send every `(index, url)` into a
/// job channel and drop its sender; start `min(concurrency, urls.len())`
/// workers in a `thread::scope` that receive jobs until the channel is
/// empty and send `(index, UrlCheck)` into a result channel; collect the
/// results and put them back in input order. Then count and average.
pub fn check_urls(urls: &[String], options: &CheckOptions) -> CheckReport {
    todo!(
        "task 9: a job channel, N scoped workers running check_one, a result channel, then count and average"
    )
}
// ANCHOR_END: task9
