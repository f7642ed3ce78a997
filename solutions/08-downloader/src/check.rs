//! Task 9: a URL checker.

use std::thread;
use std::time::{Duration, Instant};

use ureq::Agent;

use crate::error::DownloadError;
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
    let started = Instant::now();
    let response = agent.get(url).call().map_err(classify)?;
    let latency = started.elapsed();
    match response.status().as_u16() {
        200 => Ok(latency),
        status => Err(DownloadError::Status { status }),
    }
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
    let agent = check_agent(options.timeout);
    let workers = options.concurrency.max(1).min(urls.len());
    let (job_tx, job_rx) = crossbeam_channel::unbounded::<(usize, &str)>();
    let (done_tx, done_rx) = crossbeam_channel::unbounded::<(usize, UrlCheck)>();
    for (index, url) in urls.iter().enumerate() {
        // The receiver is alive (we hold it), so this cannot fail.
        let _ = job_tx.send((index, url.as_str()));
    }
    drop(job_tx);
    thread::scope(|scope| {
        for _ in 0..workers {
            let (job_rx, done_tx, agent) = (job_rx.clone(), done_tx.clone(), &agent);
            scope.spawn(move || {
                for (index, url) in job_rx {
                    let outcome = check_one(agent, url);
                    let check = UrlCheck {
                        url: url.to_string(),
                        outcome,
                    };
                    if done_tx.send((index, check)).is_err() {
                        break;
                    }
                }
            });
        }
    });
    drop(done_tx);
    let mut done: Vec<(usize, UrlCheck)> = done_rx.into_iter().collect();
    done.sort_by_key(|(index, _)| *index);
    let checks: Vec<UrlCheck> = done.into_iter().map(|(_, check)| check).collect();

    let latencies: Vec<Duration> = checks
        .iter()
        .filter_map(|c| c.outcome.as_ref().ok().copied())
        .collect();
    let up = latencies.len();
    let average_latency = u32::try_from(up)
        .ok()
        .filter(|&n| n > 0)
        .map(|n| latencies.iter().sum::<Duration>() / n);
    CheckReport {
        down: checks.len() - up,
        up,
        checks,
        average_latency,
    }
}
// ANCHOR_END: task9
