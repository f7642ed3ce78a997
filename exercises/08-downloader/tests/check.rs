//! Graded tests for lesson 08 (a concurrent downloader), task 9.
//!
//! - `t9_` grades task 9: the URL checker, `check_one` and `check_urls`.
//!
//! As everywhere in this lesson, the URLs point at a `FaultServer` on
//! 127.0.0.1; latencies are checked only from below.

mod common;

use std::time::{Duration, Instant};

use common::{DEADLINE, content, within};
use downloader::{CheckOptions, DownloadError, check_urls};
use fault_server::{ClosedPort, Fault, FaultServer, Route};

fn server() -> FaultServer {
    FaultServer::start().expect("start the test server on 127.0.0.1")
}

#[test]
fn t9_reports_up_and_down_in_input_order() {
    let server = server();
    // The earlier URLs answer later, so the checks finish in another order
    // than the URLs'.
    for (path, wait) in [("/a", 600), ("/b", 300), ("/c", 0)] {
        server.route(
            path,
            Route::new(content(10_000, 1)).latency(Duration::from_millis(wait)),
        );
    }
    server.route(
        "/broken",
        Route::new(content(10, 2)).faults([Fault::Status(500); 3]),
    );
    let closed = ClosedPort::new().expect("reserve a closed port");
    let urls = vec![
        server.url("/a"),
        server.url("/missing"),
        server.url("/b"),
        server.url("/broken"),
        closed.url("/nothing"),
        server.url("/c"),
    ];
    let list = urls.clone();
    let report = within(DEADLINE, "check_urls", move || {
        check_urls(&list, &CheckOptions::default())
    });

    assert_eq!(report.checks.len(), 6, "one check per URL");
    let order: Vec<&str> = report.checks.iter().map(|c| c.url.as_str()).collect();
    assert_eq!(
        order, urls,
        "the checks must be in the order of the URLs, not in the order they finished"
    );
    for i in [0, 2, 5] {
        assert!(
            report.checks[i].is_up(),
            "{} answers 200 OK, so it is up: {:?}",
            urls[i],
            report.checks[i].outcome
        );
    }
    assert!(
        matches!(
            report.checks[1].outcome,
            Err(DownloadError::Status { status: 404 })
        ),
        "a 404 is down, with Err(Status {{ status: 404 }}): {:?}",
        report.checks[1].outcome
    );
    assert!(
        matches!(
            report.checks[3].outcome,
            Err(DownloadError::Status { status: 500 })
        ),
        "a 500 is down, with Err(Status {{ status: 500 }}): {:?}",
        report.checks[3].outcome
    );
    assert!(
        matches!(report.checks[4].outcome, Err(DownloadError::Connection(_))),
        "a refused connection is down, with Err(Connection(..)): {:?}",
        report.checks[4].outcome
    );
    assert_eq!((report.up, report.down), (3, 3), "3 up and 3 down");
    assert_eq!(
        server.requests_to("/broken").len(),
        1,
        "a checker checks once: no retries"
    );
}

#[test]
fn t9_at_most_ten_checks_run_at_once() {
    let server = server();
    let urls: Vec<String> = (0..25)
        .map(|i| {
            let path = format!("/u{i}");
            server.route(
                &path,
                Route::new(content(100, i)).latency(Duration::from_millis(300)),
            );
            server.url(&path)
        })
        .collect();

    let report = within(DEADLINE, "check_urls", move || {
        check_urls(&urls, &CheckOptions::default())
    });

    assert_eq!(report.up, 25, "every URL is up");
    let max = server.max_in_flight();
    assert!(
        max <= 10,
        "the server saw {max} checks in flight at once: at most 10 may run at once"
    );
    assert_eq!(
        max, 10,
        "25 slow URLs and a limit of 10: ten checks should run at once, but the server never \
         saw more than {max}"
    );
    assert_eq!(
        CheckOptions::default(),
        CheckOptions {
            concurrency: 10,
            timeout: Duration::from_secs(5)
        },
        "the defaults are 10 at once and 5 s each"
    );
}

#[test]
fn t9_a_concurrency_of_zero_counts_as_one() {
    let server = server();
    let urls: Vec<String> = (0..3)
        .map(|i| {
            let path = format!("/z{i}");
            server.route(
                &path,
                Route::new(content(100, i)).latency(Duration::from_millis(50)),
            );
            server.url(&path)
        })
        .collect();
    let options = CheckOptions {
        concurrency: 0,
        timeout: Duration::from_secs(5),
    };

    let report = within(DEADLINE, "check_urls", move || check_urls(&urls, &options));

    assert_eq!(
        (report.checks.len(), report.up),
        (3, 3),
        "concurrency = 0 counts as 1: all three URLs are checked, one at a time, and are up; \
         got {} checks, {} up",
        report.checks.len(),
        report.up
    );
    assert_eq!(
        server.max_in_flight(),
        1,
        "concurrency = 0 counts as 1: one check at a time"
    );
}

#[test]
fn t9_a_slow_url_is_down_after_the_timeout() {
    let server = server();
    server.route(
        "/slow",
        Route::new(content(100, 3)).latency(Duration::from_secs(15)),
    );
    server.route("/fast", Route::new(content(100, 4)));
    let urls = vec![server.url("/slow"), server.url("/fast")];
    let options = CheckOptions {
        concurrency: 10,
        timeout: Duration::from_millis(300),
    };

    let started = Instant::now();
    let report = within(DEADLINE, "check_urls", move || check_urls(&urls, &options));

    assert!(
        matches!(report.checks[0].outcome, Err(DownloadError::Timeout)),
        "the slow URL answers after 15 s and the timeout is 300 ms: it is down with \
         Err(Timeout), got {:?}",
        report.checks[0].outcome
    );
    assert!(report.checks[1].is_up(), "the fast URL is up");
    assert_eq!((report.up, report.down), (1, 1), "one up, one down");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "with a 300 ms timeout the check must not wait for the slow server, yet it took {:?}",
        started.elapsed()
    );
}

#[test]
fn t9_average_latency_is_over_the_urls_that_are_up() {
    let server = server();
    server.route(
        "/a",
        Route::new(content(100, 5)).latency(Duration::from_millis(200)),
    );
    server.route(
        "/b",
        Route::new(content(100, 6)).latency(Duration::from_millis(400)),
    );
    let urls = vec![server.url("/a"), server.url("/b"), server.url("/missing")];

    let report = within(DEADLINE, "check_urls", move || {
        check_urls(&urls, &CheckOptions::default())
    });

    for (i, wait) in [(0, 200), (1, 400)] {
        let latency = report.checks[i]
            .outcome
            .as_ref()
            .unwrap_or_else(|e| panic!("URL {i} is up, got Err({e:?})"));
        assert!(
            *latency >= Duration::from_millis(wait * 9 / 10),
            "the server waits {wait} ms before answering, so the latency is at least that, \
             not {latency:?}: time from sending the request to the response"
        );
    }
    let average = report
        .average_latency
        .expect("two URLs are up, so there is an average latency");
    assert!(
        average >= Duration::from_millis(270),
        "the average of about 200 ms and 400 ms is about 300 ms, not {average:?}: average \
         over the URLs that are up only (the 404 answered at once)"
    );

    let none_up = within(DEADLINE, "check_urls", {
        let url = server.url("/missing");
        move || check_urls(&[url], &CheckOptions::default())
    });
    assert_eq!(
        none_up.average_latency, None,
        "no URL is up, so there is no average latency"
    );
    let empty = within(DEADLINE, "check_urls", || {
        check_urls(&[], &CheckOptions::default())
    });
    assert_eq!(
        (
            empty.checks.len(),
            empty.up,
            empty.down,
            empty.average_latency
        ),
        (0, 0, 0, None),
        "no URLs, an empty report"
    );
}
