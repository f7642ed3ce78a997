//! Graded tests for lesson 08 (a concurrent downloader), tasks 1 to 4.
//!
//! - `t1_` grades task 1: one attempt at one download, `Client::attempt`.
//! - `t2_` grades task 2: `RetryPolicy::delay_after`, `is_retryable` and
//!   `Client::download`.
//! - `t3_` grades task 3: `download_all`, at most N at once.
//! - `t4_` grades task 4: the timeouts, and `classify`/`classify_io`.
//!
//! Every test runs against its own `FaultServer` on 127.0.0.1 (an
//! ephemeral port), never the network. Timing checks are only ever lower
//! bounds on gaps the downloader must wait; a test that could hang on a
//! wrong implementation runs it with a deadline and fails instead.

mod common;

use std::fs;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{
    DEADLINE, ThreadWatchFs, assert_content, assert_no_download, content, dest, quick_retry,
    test_config, within,
};
use downloader::{
    Client, Config, DownloadError, Job, RetryPolicy, download_all, is_retryable, part_path,
};
use fault_server::{ClosedPort, Fault, FaultServer, Route};

fn server() -> FaultServer {
    FaultServer::start().expect("start the test server on 127.0.0.1")
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("create a temporary directory")
}

// ---------------------------------------------------------------- task 1

#[test]
fn t1_downloads_a_file_byte_for_byte() {
    let server = server();
    let data = content(300_000, 1);
    server.route("/file.bin", Route::new(data.clone()));
    let dir = tempdir();
    let job = Job::new(server.url("/file.bin"), dest(&dir, "file.bin"));

    let done = Client::new(&test_config())
        .attempt(0, &job)
        .expect("a 200 OK with the whole body is a successful download");

    assert_content(
        &job.dest,
        &data,
        "the downloaded file must be the body, byte for byte",
    );
    assert_eq!(
        done.bytes,
        data.len() as u64,
        "Downloaded::bytes is the file's size"
    );
    assert_eq!(done.path, job.dest, "Downloaded::path is the job's dest");
    assert_eq!(done.resumed_from, 0, "nothing was resumed");
    assert!(
        !part_path(&job.dest).exists(),
        "the .part file must be renamed to the destination once the body is complete"
    );
    assert_eq!(
        server.requests_to("/file.bin").len(),
        1,
        "one attempt sends one request"
    );
}

#[test]
fn t1_a_status_other_than_200_is_an_error_and_writes_nothing() {
    let server = server();
    server.route(
        "/flaky",
        Route::new(content(1000, 2)).faults([Fault::Status(500)]),
    );
    let dir = tempdir();
    let client = Client::new(&test_config());

    let missing = Job::new(server.url("/missing"), dest(&dir, "missing"));
    match client.attempt(0, &missing) {
        Err(DownloadError::Status { status: 404 }) => {}
        other => panic!(
            "a 404 answer must be Err(DownloadError::Status {{ status: 404 }}), got {other:?}"
        ),
    }
    assert_no_download(
        &missing.dest,
        "an error status means there is no file to save",
    );

    let flaky = Job::new(server.url("/flaky"), dest(&dir, "flaky"));
    match client.attempt(1, &flaky) {
        Err(DownloadError::Status { status: 500 }) => {}
        other => panic!(
            "a 500 answer must be Err(DownloadError::Status {{ status: 500 }}), got {other:?} \
             (attempt makes one attempt: retrying is task 2's job, in Client::download)"
        ),
    }
    assert_no_download(
        &flaky.dest,
        "an error status means there is no file to save",
    );
    assert_eq!(
        server.requests_to("/flaky").len(),
        1,
        "attempt must send exactly one request"
    );
}

#[test]
fn t1_a_truncated_body_is_an_error_not_a_short_file() {
    let server = server();
    let data = content(50_000, 3);
    server.route(
        "/cut",
        Route::new(data.clone()).faults([Fault::Truncate(20_000)]),
    );
    let dir = tempdir();
    let job = Job::new(server.url("/cut"), dest(&dir, "cut.bin"));

    match Client::new(&test_config()).attempt(0, &job) {
        Err(DownloadError::Truncated {
            expected: 50_000,
            received: 20_000,
        }) => {}
        other => panic!(
            "the server promised 50000 bytes (Content-Length) and closed the connection after \
             20000: expected Err(Truncated {{ expected: 50000, received: 20000 }}), got {other:?}"
        ),
    }
    assert!(
        !job.dest.exists(),
        "a truncated download must never appear under the destination name"
    );
}

#[test]
fn t1_an_existing_file_is_replaced_only_by_a_complete_download() {
    let server = server();
    let data = content(40_000, 4);
    server.route(
        "/doc",
        Route::new(data.clone()).faults([Fault::Truncate(1000)]),
    );
    let dir = tempdir();
    let job = Job::new(server.url("/doc"), dest(&dir, "doc.txt"));
    fs::write(&job.dest, b"the previous version").expect("write the old file");
    let client = Client::new(&Config {
        resume: false,
        ..test_config()
    });

    let first = client.attempt(0, &job);
    assert!(
        matches!(first, Err(DownloadError::Truncated { .. })),
        "the first answer is cut short: expected Err(Truncated), got {first:?}"
    );
    assert_content(
        &job.dest,
        b"the previous version",
        "a failed download must leave the old file untouched (write to the .part file, rename at the end)",
    );

    client
        .attempt(0, &job)
        .expect("the second answer is complete");
    assert_content(
        &job.dest,
        &data,
        "a complete download replaces the old file",
    );
}

// ---------------------------------------------------------------- task 2

#[test]
fn t2_delays_grow_exponentially_up_to_the_cap() {
    let policy = RetryPolicy {
        max_attempts: 10,
        base_delay: Duration::from_millis(100),
        factor: 2.0,
        max_delay: Duration::from_secs(1),
    };
    let ms = |n| policy.delay_after(n).as_millis();
    assert_eq!(ms(0), 0, "no failure yet, no wait");
    assert_eq!(ms(1), 100, "after the first failure: base_delay");
    assert_eq!(ms(2), 200, "after the second: base_delay * factor");
    assert_eq!(ms(3), 400, "after the third: base_delay * factor^2");
    assert_eq!(ms(4), 800, "after the fourth: base_delay * factor^3");
    assert_eq!(ms(5), 1000, "1600 ms is over max_delay, so 1000 ms");
    assert_eq!(ms(60), 1000, "still capped");
    assert_eq!(
        ms(u32::MAX),
        1000,
        "a huge failure count must give max_delay, not a panic or an overflow"
    );

    let gentle = RetryPolicy {
        factor: 1.5,
        ..policy
    };
    assert_eq!(
        gentle.delay_after(3).as_millis(),
        225,
        "the factor need not be an integer: 100 ms * 1.5^2"
    );
}

#[test]
fn t2_only_transient_failures_are_retried() {
    let retry = [
        DownloadError::Status { status: 500 },
        DownloadError::Status { status: 502 },
        DownloadError::Status { status: 503 },
        DownloadError::Timeout,
        DownloadError::Connection("reset".into()),
        DownloadError::Truncated {
            expected: 10,
            received: 5,
        },
    ];
    for err in &retry {
        assert!(
            is_retryable(err),
            "{err:?} is transient (the server or the network had a bad moment): retry it"
        );
    }
    let give_up = [
        DownloadError::Status { status: 400 },
        DownloadError::Status { status: 403 },
        DownloadError::Status { status: 404 },
        DownloadError::Status { status: 301 },
        DownloadError::Checksum {
            expected: "aa".into(),
            actual: "bb".into(),
        },
        DownloadError::Request("bad url".into()),
        DownloadError::File {
            path: "x".into(),
            source: std::io::Error::other("disk full"),
        },
    ];
    for err in &give_up {
        assert!(
            !is_retryable(err),
            "{err:?} will not go away by asking again: do not retry it"
        );
    }
}

// ANCHOR: backoff_test
#[test]
fn t2_retries_5xx_with_exponential_backoff() {
    let server = server();
    let data = content(10_000, 5);
    server.route(
        "/busy",
        Route::new(data.clone()).faults([Fault::Status(500), Fault::Status(503)]),
    );
    let dir = tempdir();
    let job = Job::new(server.url("/busy"), dest(&dir, "busy.bin"));
    let client = Client::new(&Config {
        retry: quick_retry(5, 50),
        ..test_config()
    });

    let done = client
        .download(0, &job)
        .expect("two 5xx answers and then a 200: the third attempt succeeds");
    assert_eq!(
        done.attempts, 3,
        "Downloaded::attempts counts every attempt"
    );
    assert_content(&job.dest, &data, "the retried download is complete");

    let requests = server.requests_to("/busy");
    assert_eq!(requests.len(), 3, "500, 503, then 200: three requests");
    let gaps: Vec<Duration> = requests.windows(2).map(|w| w[1].at - w[0].at).collect();
    for (i, (gap, wait)) in gaps.iter().zip([50u64, 100]).enumerate() {
        // A lower bound only: a slow machine waits longer, never shorter.
        assert!(
            *gap >= Duration::from_millis(wait * 9 / 10),
            "after failure {} the downloader must wait delay_after({}) = {wait} ms before \
             trying again, but the server saw the next request after only {gap:?}",
            i + 1,
            i + 1
        );
    }
}
// ANCHOR_END: backoff_test

#[test]
fn t2_does_not_retry_4xx() {
    let server = server();
    server.route(
        "/forbidden",
        Route::new(content(100, 6)).faults([Fault::Status(403)]),
    );
    let dir = tempdir();
    let client = Client::new(&Config {
        retry: quick_retry(5, 10),
        ..test_config()
    });

    let job = Job::new(server.url("/forbidden"), dest(&dir, "f"));
    match client.download(0, &job) {
        Err(DownloadError::Status { status: 403 }) => {}
        other => panic!("expected Err(Status {{ status: 403 }}), got {other:?}"),
    }
    let missing = Job::new(server.url("/missing"), dest(&dir, "m"));
    match client.download(1, &missing) {
        Err(DownloadError::Status { status: 404 }) => {}
        other => panic!("expected Err(Status {{ status: 404 }}), got {other:?}"),
    }
    assert_eq!(
        server.requests_to("/forbidden").len(),
        1,
        "a 4xx is the client's fault: asking again gets the same answer, so send one request only"
    );
    assert_eq!(
        server.requests_to("/missing").len(),
        1,
        "a 404 must not be retried"
    );
}

#[test]
fn t2_gives_up_after_max_attempts() {
    let server = server();
    server.route(
        "/down",
        Route::new(content(100, 7)).faults([Fault::Status(503); 10]),
    );
    let dir = tempdir();
    let job = Job::new(server.url("/down"), dest(&dir, "down"));
    let client = Client::new(&Config {
        retry: quick_retry(3, 10),
        ..test_config()
    });

    match client.download(0, &job) {
        Err(DownloadError::Status { status: 503 }) => {}
        other => panic!(
            "after the last attempt, its error is returned: expected Err(Status {{ status: 503 }}), got {other:?}"
        ),
    }
    assert_eq!(
        server.requests_to("/down").len(),
        3,
        "max_attempts = 3 means three requests in all, the first included"
    );
    assert_no_download(&job.dest, "every attempt failed");
}

#[test]
fn t2_retries_a_truncated_body() {
    let server = server();
    let data = content(30_000, 8);
    server.route(
        "/cut",
        Route::new(data.clone()).faults([Fault::Truncate(5000)]),
    );
    let dir = tempdir();
    let job = Job::new(server.url("/cut"), dest(&dir, "cut"));
    let client = Client::new(&Config {
        retry: quick_retry(3, 10),
        ..test_config()
    });

    let done = client
        .download(0, &job)
        .expect("a connection that closed too early is worth a second try");
    assert_eq!(done.attempts, 2, "the second attempt succeeds");
    assert_content(&job.dest, &data, "the file is complete after the retry");
}

// ---------------------------------------------------------------- task 3

#[test]
fn t3_results_come_back_in_input_order_with_per_job_errors() {
    let server = server();
    let dir = tempdir();
    let bodies: Vec<Vec<u8>> = (0..5)
        .map(|i| content(5_000 + i * 3_000, i as u8))
        .collect();
    for (i, body) in bodies.iter().enumerate() {
        // Later files answer sooner, so they finish first.
        server.route(
            &format!("/f{i}"),
            Route::new(body.clone()).latency(Duration::from_millis(200 - 40 * i as u64)),
        );
    }
    let mut jobs: Vec<Job> = (0..5)
        .map(|i| Job::new(server.url(&format!("/f{i}")), dest(&dir, &format!("f{i}"))))
        .collect();
    jobs.insert(2, Job::new(server.url("/missing"), dest(&dir, "missing")));
    jobs.push(Job::new(
        server.url("/f0"),
        dir.path().join("no-such-dir").join("f0"),
    ));
    let config = Config {
        jobs: 3,
        ..test_config()
    };

    let results = within(DEADLINE, "download_all", move || {
        download_all(&jobs, &config)
    });

    assert_eq!(results.len(), 7, "one result per job");
    for (slot, file) in [(0, 0), (1, 1), (3, 2), (4, 3), (5, 4)] {
        let done = results[slot].as_ref().unwrap_or_else(|e| {
            panic!("result {slot} (file f{file}) should be Ok, got Err({e:?}); results must be in the order of the jobs")
        });
        assert_eq!(
            done.path,
            dir.path().join(format!("f{file}")),
            "result {slot} belongs to job {slot}: results must be in the order of the jobs, not the order they finished"
        );
        assert_content(&done.path, &bodies[file], "each job gets its own body");
    }
    assert!(
        matches!(results[2], Err(DownloadError::Status { status: 404 })),
        "job 2 asks for a path the server does not have: expected Err(Status {{ status: 404 }}), got {:?}",
        results[2]
    );
    assert!(
        matches!(results[6], Err(DownloadError::File { .. })),
        "job 6 saves into a directory that does not exist: expected Err(DownloadError::File {{ .. }}), got {:?}",
        results[6]
    );
}

#[test]
fn t3_at_most_n_downloads_run_at_once() {
    let server = server();
    let dir = tempdir();
    let jobs: Vec<Job> = (0..9)
        .map(|i| {
            server.route(
                &format!("/slow{i}"),
                Route::new(content(2_000, i)).latency(Duration::from_millis(300)),
            );
            Job::new(
                server.url(&format!("/slow{i}")),
                dest(&dir, &format!("s{i}")),
            )
        })
        .collect();
    let watch = Arc::new(ThreadWatchFs::default());
    let config = Config {
        jobs: 3,
        fs: watch.clone(),
        ..test_config()
    };

    let results = within(DEADLINE, "download_all", move || {
        download_all(&jobs, &config)
    });

    assert!(
        results.iter().all(Result::is_ok),
        "every download should succeed: {results:?}"
    );
    let max = server.max_in_flight();
    assert!(
        max <= 3,
        "with jobs = 3, the server saw {max} requests in flight at once: the limit was not kept"
    );
    assert_eq!(
        max, 3,
        "with jobs = 3 and nine slow (300 ms) downloads, three should run at once, but the \
         server never saw more than {max}: the downloads are not running concurrently"
    );
    let threads = watch.threads();
    assert!(
        threads <= 3,
        "the nine downloads ran on {threads} different threads, but with jobs = 3 \
         download_all may start only 3 worker threads, each taking the next job until none is \
         left: a thread per job that waits for its turn starts a thousand threads for a \
         thousand URLs"
    );
}

#[test]
fn t3_one_at_a_time_when_jobs_is_one_or_zero() {
    for jobs_setting in [1, 0] {
        let server = server();
        let dir = tempdir();
        let jobs: Vec<Job> = (0..4)
            .map(|i| {
                server.route(
                    &format!("/x{i}"),
                    Route::new(content(1_000, i)).latency(Duration::from_millis(50)),
                );
                Job::new(server.url(&format!("/x{i}")), dest(&dir, &format!("x{i}")))
            })
            .collect();
        let watch = Arc::new(ThreadWatchFs::default());
        let config = Config {
            jobs: jobs_setting,
            fs: watch.clone(),
            ..test_config()
        };
        let results = within(DEADLINE, "download_all", move || {
            download_all(&jobs, &config)
        });
        assert!(
            results.iter().all(Result::is_ok),
            "jobs = {jobs_setting}: every download should succeed: {results:?}"
        );
        assert_eq!(
            server.max_in_flight(),
            1,
            "jobs = {jobs_setting} means one download at a time (0 counts as 1)"
        );
        let threads = watch.threads();
        assert_eq!(
            threads, 1,
            "jobs = {jobs_setting}: the four downloads should all run on one worker thread, \
             but ran on {threads}"
        );
    }
    let empty = within(DEADLINE, "download_all", || {
        download_all(&[], &test_config())
    });
    assert!(empty.is_empty(), "no jobs, no results");
}

// ---------------------------------------------------------------- task 4

#[test]
fn t4_a_silent_server_times_out_quickly() {
    let server = server();
    server.route(
        "/asleep",
        Route::new(content(100, 9)).latency(Duration::from_secs(15)),
    );
    let dir = tempdir();
    let job = Job::new(server.url("/asleep"), dest(&dir, "asleep"));
    let config = Config {
        timeout: Duration::from_millis(300),
        ..test_config()
    };

    let started = Instant::now();
    let result = within(DEADLINE, "a download with a 300 ms timeout", move || {
        Client::new(&config).download(0, &job)
    });
    match result {
        Err(DownloadError::Timeout) => {}
        other => panic!(
            "the server waits 15 s before it answers and the timeout is 300 ms: expected \
             Err(DownloadError::Timeout), got {other:?} (set the agent's timeouts in http.rs, \
             and map ureq::Error::Timeout in classify)"
        ),
    }
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the timeout is 300 ms, yet the download took {:?} to give up",
        started.elapsed()
    );
}

#[test]
fn t4_a_stalled_body_times_out() {
    let server = server();
    server.route(
        "/stall",
        Route::new(content(200_000, 10)).faults([Fault::Stall(50_000)]),
    );
    let dir = tempdir();
    let job = Job::new(server.url("/stall"), dest(&dir, "stall"));
    let config = Config {
        timeout: Duration::from_millis(300),
        ..test_config()
    };

    let result = within(DEADLINE, "a download whose body stalls", move || {
        Client::new(&config).download(0, &job)
    });
    match result {
        Err(DownloadError::Timeout) => {}
        other => panic!(
            "the body stops after 50000 bytes and nothing more comes: expected \
             Err(DownloadError::Timeout), got {other:?} (the timeout must cover each read of \
             the body too, and classify_io must recognise ureq's timeout inside an io::Error)"
        ),
    }
}

#[test]
fn t4_a_slow_but_steady_download_does_not_time_out() {
    let server = server();
    // 16 pieces of 16 KiB with 100 ms between them: about 1.5 s in all,
    // longer than the timeout, but never silent for long.
    let data = content(16 * 16 * 1024, 11);
    server.route(
        "/steady",
        Route::new(data.clone()).pace(Duration::from_millis(100)),
    );
    let dir = tempdir();
    let job = Job::new(server.url("/steady"), dest(&dir, "steady"));
    let path = job.dest.clone();
    let config = Config {
        timeout: Duration::from_secs(1),
        ..test_config()
    };

    let result = within(DEADLINE, "a slow download", move || {
        Client::new(&config).download(0, &job)
    });
    result.unwrap_or_else(|e| {
        panic!(
            "the body keeps arriving (every 100 ms) although the whole takes longer than the \
             1 s timeout: the timeout is for a silent server, not a total limit; got Err({e:?})"
        )
    });
    assert_content(&path, &data, "the slow download is complete");
}

#[test]
fn t4_hangups_are_retried_connection_errors() {
    let server = server();
    let data = content(8_000, 12);
    server.route(
        "/hangup",
        Route::new(data.clone()).faults([Fault::Hangup, Fault::Hangup]),
    );
    server.route(
        "/always",
        Route::new(data.clone()).faults([Fault::Hangup; 5]),
    );
    let dir = tempdir();
    let job = Job::new(server.url("/hangup"), dest(&dir, "h"));
    let config = Config {
        retry: quick_retry(3, 20),
        ..test_config()
    };

    let done = within(DEADLINE, "a download with hang-ups", move || {
        Client::new(&config).download(0, &job)
    })
    .unwrap_or_else(|e| {
        panic!("two hang-ups and then an answer: the third attempt should succeed, got Err({e:?})")
    });
    assert_eq!(done.attempts, 3, "two connection errors, then success");
    assert_content(&dest(&dir, "h"), &data, "the file is complete");

    let job = Job::new(server.url("/always"), dest(&dir, "a"));
    let result = within(DEADLINE, "a download with one attempt", move || {
        Client::new(&test_config()).download(0, &job)
    });
    assert!(
        matches!(result, Err(DownloadError::Connection(_))),
        "a server that closes the connection without answering is \
         Err(DownloadError::Connection(..)), got {result:?}"
    );
}

#[test]
fn t4_a_refused_connection_is_a_connection_error() {
    let closed = ClosedPort::new().expect("reserve a closed port");
    let dir = tempdir();
    let job = Job::new(closed.url("/x"), dest(&dir, "x"));
    let config = Config {
        retry: quick_retry(2, 10),
        ..test_config()
    };
    let result = within(DEADLINE, "a download from a closed port", move || {
        Client::new(&config).download(0, &job)
    });
    assert!(
        matches!(result, Err(DownloadError::Connection(_))),
        "nothing listens on {}: expected Err(DownloadError::Connection(..)), got {result:?}",
        closed.url("/x")
    );
    assert_no_download(&dest(&dir, "x"), "nothing was downloaded");
}

#[test]
fn t4_a_malformed_url_is_a_request_error_and_not_retried() {
    let dir = tempdir();
    let job = Job::new("http://[not-a-host/file", dest(&dir, "x"));
    // If this were retried, the waits alone would take 20 s.
    let config = Config {
        retry: RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_secs(10),
            factor: 1.0,
            max_delay: Duration::from_secs(10),
        },
        ..test_config()
    };
    let result = within(
        Duration::from_secs(8),
        "a download of a malformed URL",
        move || Client::new(&config).download(0, &job),
    );
    assert!(
        matches!(result, Err(DownloadError::Request(_))),
        "a URL that cannot be parsed is Err(DownloadError::Request(..)), and asking again \
         cannot help; got {result:?}"
    );
}
