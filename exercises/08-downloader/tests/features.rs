//! Graded tests for lesson 08 (a concurrent downloader), tasks 5 to 8.
//!
//! - `t5_` grades task 5: `ProgressReader` and the progress events.
//! - `t6_` grades task 6: `TokenBucket`, `Throttled` and the total
//!   bandwidth limit.
//! - `t7_` grades task 7: `parse_content_range` and resuming `.part` files.
//! - `t8_` grades task 8: `sha256_file` and checksum verification.
//!
//! The bandwidth tests check an upper bound on throughput (bytes / elapsed
//! time), which a slow machine can only make easier to meet; their sizes
//! are chosen so that a download without the limit would break it many
//! times over.

mod common;

use std::collections::HashMap;
use std::fs;
use std::io::{self, Read};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use common::{
    DEADLINE, assert_content, assert_no_download, content, dest, quick_retry, sha256_hex,
    test_config, within,
};
use downloader::{
    Client, Config, ContentRange, DownloadError, Event, Job, ProgressReader, Throttled,
    TokenBucket, download_all, parse_content_range, part_path, sha256_file,
};
use fault_server::{Fault, FaultServer, Route};
use simfs::RealFs;

fn server() -> FaultServer {
    FaultServer::start().expect("start the test server on 127.0.0.1")
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("create a temporary directory")
}

// ---------------------------------------------------------------- task 5

#[test]
fn t5_progress_reader_reports_running_totals() {
    let data = content(100, 1);
    let mut reports = Vec::new();
    let mut reader = ProgressReader::new(&data[..], 50, |at| reports.push(at));
    let mut buf = [0u8; 30];
    let mut got = Vec::new();
    loop {
        let n = reader.read(&mut buf).expect("reading a slice cannot fail");
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
    }
    assert_eq!(
        got, data,
        "ProgressReader must pass the data through unchanged"
    );
    assert_eq!(
        reports,
        [80, 110, 140, 150],
        "starting at 50 and reading 30 + 30 + 30 + 10 bytes, the reports are the running \
         positions; the final read of 0 bytes reports nothing"
    );

    struct Failing;
    impl Read for Failing {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Err(io::Error::other("boom"))
        }
    }
    let mut calls = 0;
    let mut failing = ProgressReader::new(Failing, 0, |_| calls += 1);
    assert!(
        failing.read(&mut buf).is_err(),
        "an error from the inner reader must be passed on"
    );
    assert_eq!(calls, 0, "a failed read reports nothing");
}

/// The events of each job, in the order they were sent.
fn events_by_job(rx: &mpsc::Receiver<Event>) -> HashMap<usize, Vec<Event>> {
    let mut by_job: HashMap<usize, Vec<Event>> = HashMap::new();
    for event in rx.try_iter() {
        let job = match &event {
            Event::Started { job, .. }
            | Event::Receiving { job, .. }
            | Event::Progress { job, .. }
            | Event::Retrying { job, .. }
            | Event::Finished { job, .. }
            | Event::Failed { job, .. } => *job,
        };
        by_job.entry(job).or_default().push(event);
    }
    by_job
}

/// The byte counts of the `Progress` events, in order.
fn progress_reports(events: &[Event]) -> Vec<u64> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Progress { bytes, .. } => Some(*bytes),
            _ => None,
        })
        .collect()
}

#[test]
fn t5_events_tell_the_story_of_each_download() {
    let server = server();
    let big = content(200_000, 2);
    let small = content(1_000, 3);
    // The big body comes in 16 KiB pieces with pauses, so it arrives in
    // many reads whatever the buffer size.
    server.route(
        "/big",
        Route::new(big.clone()).pace(Duration::from_millis(10)),
    );
    server.route("/small", Route::new(small.clone()));
    let dir = tempdir();
    let jobs = vec![
        Job::new(server.url("/big"), dest(&dir, "big")),
        Job::new(server.url("/missing"), dest(&dir, "missing")),
        Job::new(server.url("/small"), dest(&dir, "small")),
    ];
    let urls: Vec<String> = jobs.iter().map(|j| j.url.clone()).collect();
    let (tx, rx) = mpsc::channel();
    let config = Config {
        jobs: 2,
        progress: Some(tx),
        ..test_config()
    };

    let results = within(DEADLINE, "download_all", move || {
        download_all(&jobs, &config)
    });
    assert!(
        results[0].is_ok() && results[2].is_ok() && results[1].is_err(),
        "jobs 0 and 2 exist and job 1 is a 404: expected Ok, Err, Ok, got {results:?}"
    );

    let by_job = events_by_job(&rx);
    for (job, size) in [(0, big.len() as u64), (2, small.len() as u64)] {
        let events = by_job
            .get(&job)
            .unwrap_or_else(|| panic!("job {job} sent no events at all"));
        assert_eq!(
            events.first(),
            Some(&Event::Started {
                job,
                url: urls[job].clone()
            }),
            "job {job}'s first event must be Started with its URL; its events: {events:?}"
        );
        assert_eq!(
            events.last(),
            Some(&Event::Finished { job, bytes: size }),
            "job {job}'s last event must be Finished with the file's size"
        );
        assert_eq!(
            events
                .iter()
                .filter(|e| matches!(e, Event::Started { .. } | Event::Finished { .. }))
                .count(),
            2,
            "job {job}: exactly one Started and one Finished"
        );
        let receiving = events
            .iter()
            .position(|e| matches!(e, Event::Receiving { .. }))
            .unwrap_or_else(|| panic!("job {job} sent no Receiving event; its events: {events:?}"));
        assert_eq!(
            events[receiving],
            Event::Receiving {
                job,
                from: 0,
                total: Some(size)
            },
            "job {job}: Receiving says the file grows from 0 to its Content-Length"
        );
        let progress = progress_reports(events);
        let first_progress = events
            .iter()
            .position(|e| matches!(e, Event::Progress { .. }));
        assert!(
            first_progress.is_some_and(|p| p > receiving),
            "job {job}: Progress events come after Receiving; events: {events:?}"
        );
        assert!(
            progress.windows(2).all(|w| w[0] < w[1]),
            "job {job}: Progress reports a growing byte count: {progress:?}"
        );
        assert_eq!(
            progress.last(),
            Some(&size),
            "job {job}: the last Progress must be the whole file"
        );
        if job == 0 {
            assert!(
                progress.len() >= 4,
                "the 200 kB body arrives in at least 13 pieces, so there should be many \
                 Progress events (one per read), not {}",
                progress.len()
            );
        }
    }
    let failed = by_job
        .get(&1)
        .unwrap_or_else(|| panic!("job 1 (a 404) sent no events at all"));
    assert!(
        matches!(failed.first(), Some(Event::Started { job: 1, .. })),
        "job 1's first event must be Started; its events: {failed:?}"
    );
    match failed.last() {
        Some(Event::Failed { job: 1, error }) => assert!(
            error.contains("404"),
            "the Failed event carries the error's text, which mentions the status: {error:?}"
        ),
        other => panic!("job 1 got a 404: its last event must be Failed, got {other:?}"),
    }
    assert!(
        !failed
            .iter()
            .any(|e| matches!(e, Event::Progress { .. } | Event::Finished { .. })),
        "a 404 downloads nothing: no Progress, no Finished; events: {failed:?}"
    );
}

#[test]
fn t5_retries_are_reported() {
    let server = server();
    server.route(
        "/flaky",
        Route::new(content(5_000, 4)).faults([Fault::Status(503)]),
    );
    let dir = tempdir();
    let job = Job::new(server.url("/flaky"), dest(&dir, "flaky"));
    let (tx, rx) = mpsc::channel();
    let config = Config {
        retry: quick_retry(3, 30),
        progress: Some(tx),
        ..test_config()
    };

    within(DEADLINE, "a download with a retry", move || {
        Client::new(&config).download(7, &job)
    })
    .expect("503 and then 200: the second attempt succeeds");

    let events = events_by_job(&rx).remove(&7).unwrap_or_default();
    let retrying: Vec<&Event> = events
        .iter()
        .filter(|e| matches!(e, Event::Retrying { .. }))
        .collect();
    match retrying.as_slice() {
        [
            Event::Retrying {
                job: 7,
                attempt: 1,
                delay,
                error,
            },
        ] => {
            assert_eq!(
                *delay,
                Duration::from_millis(30),
                "the wait after the first failure is base_delay"
            );
            assert!(
                error.contains("503"),
                "Retrying carries the error's text: {error:?}"
            );
        }
        other => panic!(
            "one failed attempt, then success: expected exactly one \
             Retrying {{ job: 7, attempt: 1, .. }}, got {other:?} (all events: {events:?})"
        ),
    }
    assert!(
        matches!(events.first(), Some(Event::Started { job: 7, .. }))
            && matches!(events.last(), Some(Event::Finished { job: 7, .. })),
        "the events start with Started and end with Finished: {events:?}"
    );
    let started = events
        .iter()
        .filter(|e| matches!(e, Event::Started { .. }))
        .count();
    assert_eq!(
        started, 1,
        "a job is Started once, however many attempts it takes (Receiving marks each \
         attempt's answer), but it sent {started} Started events: {events:?}"
    );
}

#[test]
fn t5_a_resumed_download_reports_the_whole_file() {
    let data = content(100_000, 20);
    let (_server, _dir, job, _) = resume_setup(true, &data[..40_000]);
    let (tx, rx) = mpsc::channel();
    let config = Config {
        progress: Some(tx),
        ..test_config()
    };

    let done = run(config, &job).expect("resuming a download");
    assert_eq!(done.resumed_from, 40_000, "Downloaded::resumed_from");

    let events = events_by_job(&rx).remove(&0).unwrap_or_default();
    let receiving: Vec<&Event> = events
        .iter()
        .filter(|e| matches!(e, Event::Receiving { .. }))
        .collect();
    assert_eq!(
        receiving,
        [&Event::Receiving {
            job: 0,
            from: 40_000,
            total: Some(100_000)
        }],
        "the .part file holds 40000 bytes and the server sends the other 60000: Receiving \
         says the file grows from 40000 to the whole file's 100000 bytes; all events: {events:?}"
    );
    let progress = progress_reports(&events);
    assert!(
        progress.first().is_some_and(|&first| first > 40_000),
        "Progress counts the file's length, the 40000 resumed bytes included, so the first \
         report is above 40000; the reports were {progress:?}"
    );
    assert_eq!(
        progress.last(),
        Some(&100_000),
        "the last Progress is the whole file; the reports were {progress:?}"
    );
}

#[test]
fn t5_a_download_does_not_fail_when_nobody_listens() {
    let server = server();
    let data = content(100_000, 5);
    server.route("/f", Route::new(data.clone()));
    let dir = tempdir();
    let job = Job::new(server.url("/f"), dest(&dir, "f"));
    let (tx, rx) = mpsc::channel();
    drop(rx);
    let config = Config {
        progress: Some(tx),
        ..test_config()
    };
    within(
        DEADLINE,
        "a download with a closed progress channel",
        move || Client::new(&config).download(0, &job),
    )
    .unwrap_or_else(|e| {
        panic!(
            "the progress receiver is gone; sending an event fails, but that must not fail \
             the download: got Err({e:?})"
        )
    });
    assert_content(&dest(&dir, "f"), &data, "the file is complete");
}

// ---------------------------------------------------------------- task 6

#[test]
fn t6_taking_more_than_the_bucket_holds_waits_for_the_drip() {
    // 100 000 tokens per second, at most 1 000 in the bucket (full at the
    // start).
    let bucket = TokenBucket::new(100_000, 1_000);
    let (fresh, after_idle) = within(DEADLINE, "TokenBucket::take", move || {
        let take_21000 = || {
            let started = Instant::now();
            bucket.take(1_000);
            bucket.take(20_000);
            started.elapsed()
        };
        bucket.take(0);
        let fresh = take_21000();
        // Idle for 0.3 s: 30 000 tokens' worth of drip, but the bucket is
        // full at 1 000.
        thread::sleep(Duration::from_millis(300));
        (fresh, take_21000())
    });
    // Each time, the first 1 000 are in the bucket and the other 20 000
    // take 0.2 s to drip in. Lower bounds only: a busy machine can only
    // take longer.
    assert!(
        fresh >= Duration::from_millis(180),
        "taking 21000 tokens from a bucket that holds 1000 and fills at 100000 per second \
         must take at least 0.2 s, but took {fresh:?}: sleep until the debt is paid"
    );
    assert!(
        after_idle >= Duration::from_millis(180),
        "after an idle spell the bucket holds at most its burst of 1000 tokens, so taking \
         21000 must still wait about 0.2 s for 20000 to drip in, but took {after_idle:?}: cap \
         the refill at the burst, or an idle download gets a free burst of any size"
    );
}

#[test]
fn t6_a_short_read_pays_only_for_the_bytes_it_returned() {
    let data = content(1_000, 7);
    let expected = data.clone();
    // The bucket holds 1 000 tokens and refills 1 000 per second; the buffer
    // is 1 MiB. Paying for the buffer would take some seventeen minutes.
    let got = within(
        Duration::from_secs(5),
        "reading 1000 bytes into a 1 MiB buffer through Throttled, with a bucket of 1000 \
         tokens (pay for the bytes a read returned, not for the buffer's size)",
        move || {
            let bucket = TokenBucket::new(1_000, 1_000);
            let mut reader = Throttled::new(&data[..], Some(&bucket));
            let mut buf = vec![0u8; 1 << 20];
            let n = reader.read(&mut buf).expect("reading a slice cannot fail");
            let end = reader
                .read(&mut buf[n..])
                .expect("reading a slice cannot fail");
            assert_eq!(end, 0, "the second read is the end of the data");
            buf.truncate(n);
            buf
        },
    );
    assert_eq!(
        got, expected,
        "Throttled must pass the data through unchanged"
    );
}

#[test]
fn t6_the_bucket_caps_the_total_rate_across_threads() {
    const RATE: u64 = 1_000_000;
    const PER_THREAD: usize = 250_000;
    let bucket = TokenBucket::new(RATE, 20_000);
    let (total, elapsed) = within(DEADLINE, "four threads taking tokens", move || {
        let started = Instant::now();
        let total: usize = thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| {
                    s.spawn(|| {
                        let mut taken = 0;
                        while taken < PER_THREAD {
                            let n = (PER_THREAD - taken).min(16_384);
                            bucket.take(n);
                            taken += n;
                        }
                        taken
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("a taking thread panicked"))
                .sum()
        });
        (total, started.elapsed())
    });
    let rate = total as f64 / elapsed.as_secs_f64();
    assert!(
        rate <= RATE as f64 * 1.1,
        "four threads took {total} tokens in {elapsed:?}: {rate:.0} per second, but the bucket \
         allows {RATE} per second (plus the 20000 it starts with). Tokens must drip in at the \
         rate, shared by all threads."
    );
}

#[test]
fn t6_a_throttled_reader_pays_for_what_it_reads() {
    let data = content(30_000, 6);
    let expected = data.clone();
    let (got, elapsed) = within(DEADLINE, "reading through Throttled", move || {
        let bucket = TokenBucket::new(100_000, 1_000);
        let mut reader = Throttled::new(&data[..], Some(&bucket));
        let mut got = Vec::new();
        let started = Instant::now();
        reader
            .read_to_end(&mut got)
            .expect("reading a slice cannot fail");
        (got, started.elapsed())
    });
    assert_eq!(
        got, expected,
        "Throttled must pass the data through unchanged"
    );
    assert!(
        elapsed >= Duration::from_millis(260),
        "30000 bytes through a bucket of 1000 tokens that fills at 100000 per second take at \
         least 0.29 s, but took {elapsed:?}: every byte read must be paid for"
    );

    let mut free = Throttled::new(&expected[..], None);
    let mut buf = [0u8; 4096];
    assert_eq!(
        free.read(&mut buf).expect("read"),
        4096,
        "without a bucket, reads pass straight through"
    );
}

#[test]
fn t6_the_total_bandwidth_is_capped() {
    const CAP: u64 = 2 * 1024 * 1024; // bytes per second
    const FILE: usize = 512 * 1024;
    let server = server();
    let dir = tempdir();
    let bodies: Vec<Vec<u8>> = (0..4).map(|i| content(FILE, 10 + i)).collect();
    let jobs: Vec<Job> = bodies
        .iter()
        .enumerate()
        .map(|(i, body)| {
            server.route(&format!("/b{i}"), Route::new(body.clone()));
            Job::new(server.url(&format!("/b{i}")), dest(&dir, &format!("b{i}")))
        })
        .collect();
    let config = Config {
        jobs: 4,
        rate_limit: Some(CAP),
        ..test_config()
    };

    let started = Instant::now();
    let results = within(DEADLINE, "four rate-limited downloads", move || {
        download_all(&jobs, &config)
    });
    let elapsed = started.elapsed();

    for (i, result) in results.iter().enumerate() {
        let done = result
            .as_ref()
            .unwrap_or_else(|e| panic!("download {i} failed: {e:?}"));
        assert_content(
            &done.path,
            &bodies[i],
            "a throttled download is still complete",
        );
    }
    let total = (4 * FILE) as f64;
    let rate = total / elapsed.as_secs_f64();
    // Over loopback, these 2 MiB take milliseconds without a limit.
    assert!(
        rate <= CAP as f64 * 1.15,
        "four downloads of 512 KiB under a total limit of 2 MiB/s took {elapsed:?}, which is \
         {:.2} MiB/s: the limit must cover all downloads together (one bucket, shared)",
        rate / 1024.0 / 1024.0
    );
}

// ---------------------------------------------------------------- task 7

#[test]
fn t7_parses_content_range() {
    let cases = [
        (
            "bytes 100-199/1000",
            Some(ContentRange::Bytes {
                first: 100,
                last: 199,
                total: Some(1000),
            }),
        ),
        (
            "bytes 0-0/*",
            Some(ContentRange::Bytes {
                first: 0,
                last: 0,
                total: None,
            }),
        ),
        (
            " bytes 5-9/10 ",
            Some(ContentRange::Bytes {
                first: 5,
                last: 9,
                total: Some(10),
            }),
        ),
        (
            "bytes */1000",
            Some(ContentRange::Unsatisfied { total: 1000 }),
        ),
        ("bytes 10-5/100", None),
        ("bytes 0-100/100", None),
        ("bytes 1-2", None),
        ("items 0-1/2", None),
        ("bytes x-1/2", None),
        ("bytes */*", None),
        ("", None),
    ];
    for (value, expected) in cases {
        assert_eq!(
            parse_content_range(value),
            expected,
            "parse_content_range({value:?})"
        );
    }
}

/// A server with one 100 000-byte file at `/file`, and a destination whose
/// `.part` file holds `part`.
fn resume_setup(ranges: bool, part: &[u8]) -> (FaultServer, tempfile::TempDir, Job, Vec<u8>) {
    let server = server();
    let data = content(100_000, 20);
    server.route("/file", Route::new(data.clone()).ranges(ranges));
    let dir = tempdir();
    let job = Job::new(server.url("/file"), dest(&dir, "file"));
    fs::write(part_path(&job.dest), part).expect("write the .part file");
    (server, dir, job, data)
}

fn run(config: Config, job: &Job) -> Result<downloader::Downloaded, DownloadError> {
    let job = job.clone();
    within(DEADLINE, "a download", move || {
        Client::new(&config).download(0, &job)
    })
}

#[test]
fn t7_resumes_a_part_file_with_a_range_request() {
    let data = content(100_000, 20);
    let (server, _dir, job, _) = resume_setup(true, &data[..40_000]);

    let done = run(test_config(), &job).expect("resuming a download");

    let requests = server.requests_to("/file");
    assert_eq!(requests.len(), 1, "one request");
    assert_eq!(
        requests[0].header("range"),
        Some("bytes=40000-"),
        "the .part file holds 40000 bytes, so the request must ask for the rest with \
         `Range: bytes=40000-`"
    );
    assert_eq!(done.resumed_from, 40_000, "Downloaded::resumed_from");
    assert_eq!(
        done.bytes, 100_000,
        "Downloaded::bytes is the whole file's size"
    );
    assert_content(
        &job.dest,
        &data,
        "the resumed file = the kept 40000 bytes + the rest",
    );
    assert!(!part_path(&job.dest).exists(), "the .part file is renamed");
}

#[test]
fn t7_starts_over_when_the_server_ignores_the_range() {
    let data = content(100_000, 20);
    let (server, _dir, job, _) = resume_setup(false, &data[..40_000]);

    let done = run(test_config(), &job).expect("a download from a server without ranges");

    let requests = server.requests_to("/file");
    assert_eq!(
        requests[0].header("range"),
        Some("bytes=40000-"),
        "the downloader asks for the rest (it cannot know the server ignores ranges)"
    );
    assert_eq!(
        requests[0].status,
        Some(200),
        "the server answered 200, whole body"
    );
    assert_content(
        &job.dest,
        &data,
        "a 200 answer holds the whole file: start the .part file over instead of appending",
    );
    assert_eq!(done.resumed_from, 0, "nothing was kept from the .part file");
}

#[test]
fn t7_a_cut_download_continues_where_it_stopped() {
    let server = server();
    let data = content(100_000, 21);
    server.route(
        "/file",
        Route::new(data.clone())
            .ranges(true)
            .faults([Fault::Truncate(30_000)]),
    );
    let dir = tempdir();
    let job = Job::new(server.url("/file"), dest(&dir, "file"));
    let config = Config {
        retry: quick_retry(3, 10),
        ..test_config()
    };

    let done = run(config, &job).expect("the second attempt finishes the download");

    let requests = server.requests_to("/file");
    assert_eq!(requests.len(), 2, "a cut answer, then one more request");
    assert_eq!(
        requests[1].header("range"),
        Some("bytes=30000-"),
        "the first answer was cut after 30000 bytes, kept in the .part file; the retry must \
         ask for the rest"
    );
    assert_eq!(done.resumed_from, 30_000, "Downloaded::resumed_from");
    assert_eq!(done.attempts, 2, "Downloaded::attempts");
    assert_content(&job.dest, &data, "the two pieces make the whole file");
}

#[test]
fn t7_a_complete_part_file_needs_no_body() {
    let data = content(100_000, 20);
    let (server, _dir, job, _) = resume_setup(true, &data);

    let done = run(test_config(), &job).expect(
        "the .part file is complete: the server answers 416 with `Content-Range: bytes */100000`",
    );

    let requests = server.requests_to("/file");
    assert_eq!(
        requests[0].status,
        Some(416),
        "asking for bytes from 100000 on of a 100000-byte file gets 416"
    );
    assert_eq!(
        requests.len(),
        1,
        "the 416 says the file has 100000 bytes, which the .part file already holds: rename \
         it, without downloading the file again; but {} requests were sent",
        requests.len()
    );
    assert_eq!(done.bytes, 100_000, "Downloaded::bytes");
    assert_content(&job.dest, &data, "the complete .part file becomes the file");
}

#[test]
fn t7_a_part_file_longer_than_the_file_starts_over() {
    let data = content(100_000, 20);
    let (server, _dir, job, _) = resume_setup(true, &content(150_000, 99));

    let done = run(test_config(), &job).expect("a stale .part file is replaced");

    let requests = server.requests_to("/file");
    assert_eq!(
        requests.len(),
        2,
        "416 for the range, then a request without one: {requests:?}"
    );
    assert_eq!(
        requests[0].status,
        Some(416),
        "the range starts past the end"
    );
    assert_eq!(
        requests[1].header("range"),
        None,
        "after a 416 that does not match the .part file, remove it and ask for the whole file"
    );
    assert_eq!(done.resumed_from, 0, "nothing was kept");
    assert_content(&job.dest, &data, "the file is downloaded from the start");
}

#[test]
fn t7_a_206_for_another_range_is_bad_range() {
    let data = content(100_000, 20);
    let (server, _dir, job, _) = resume_setup(true, &data[..40_000]);
    // A broken server answers the resume with 206 and the file from byte 0.
    server.route(
        "/file",
        Route::new(data.clone())
            .ranges(true)
            .faults([Fault::WrongRange(0)]),
    );

    let result = run(test_config(), &job);

    match &result {
        Err(DownloadError::BadRange {
            requested: 40_000,
            content_range: Some(range),
        }) if range == "bytes 0-99999/100000" => {}
        other => panic!(
            "the request asked for bytes=40000- and the 206 answer says `Content-Range: bytes \
             0-99999/100000`: appending it would put byte 0 after byte 39999, so expected \
             Err(BadRange {{ requested: 40000, content_range: Some(\"bytes 0-99999/100000\") }}), \
             got {other:?}"
        ),
    }
    assert!(
        !job.dest.exists(),
        "a download with a wrong range must not appear under the destination name"
    );
    assert_content(
        &part_path(&job.dest),
        &data[..40_000],
        "the .part file must keep its 40000 good bytes: nothing of a 206 for the wrong range \
         may be appended",
    );
}

#[test]
fn t7_resume_off_ignores_the_part_file() {
    let (server, _dir, job, data) = resume_setup(true, &content(40_000, 98));
    let config = Config {
        resume: false,
        ..test_config()
    };

    let done = run(config, &job).expect("a download that does not resume");

    assert_eq!(
        server.requests_to("/file")[0].header("range"),
        None,
        "with resume off, no Range header is sent"
    );
    assert_eq!(done.resumed_from, 0, "nothing was kept");
    assert_content(
        &job.dest,
        &data,
        "the old .part file is overwritten, not continued",
    );
}

// ---------------------------------------------------------------- task 8

#[test]
fn t8_sha256_of_a_file() {
    let dir = tempdir();
    let cases: [(&str, &[u8], &str); 2] = [
        (
            "abc",
            b"abc",
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        ),
        (
            "empty",
            b"",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        ),
    ];
    for (name, data, digest) in cases {
        let path = dir.path().join(name);
        fs::write(&path, data).expect("write the file");
        assert_eq!(
            sha256_file(&RealFs, &path).expect("hash the file"),
            digest,
            "SHA-256 of {data:?}, as 64 lower-case hex digits"
        );
    }
    let big = content(1_000_003, 30);
    let path = dir.path().join("big");
    fs::write(&path, &big).expect("write the file");
    assert_eq!(
        sha256_file(&RealFs, &path).expect("hash the file"),
        sha256_hex(&big),
        "SHA-256 of a 1 MB file (read it in pieces: every piece goes into the hash)"
    );
    let missing = sha256_file(&RealFs, &dir.path().join("missing"));
    assert!(
        matches!(&missing, Err(e) if e.kind() == io::ErrorKind::NotFound),
        "a missing file is an io::Error of kind NotFound, got {missing:?}"
    );
}

#[test]
fn t8_a_matching_checksum_keeps_the_file() {
    let server = server();
    let data = content(70_000, 31);
    server.route("/f", Route::new(data.clone()));
    let dir = tempdir();
    let job = Job::new(server.url("/f"), dest(&dir, "f"))
        .with_sha256(sha256_hex(&data).to_ascii_uppercase());

    run(test_config(), &job).unwrap_or_else(|e| {
        panic!("the checksum matches (hex digits may be upper case): expected Ok, got Err({e:?})")
    });
    assert_content(&job.dest, &data, "the verified file is kept");
}

#[test]
fn t8_a_mismatch_is_an_error_and_removes_the_download() {
    let server = server();
    let data = content(70_000, 32);
    server.route("/f", Route::new(data.clone()).flip_byte(1234));
    let dir = tempdir();
    let job = Job::new(server.url("/f"), dest(&dir, "f")).with_sha256(sha256_hex(&data));
    let mut sent = data.clone();
    sent[1234] ^= 0xFF;
    let config = Config {
        retry: quick_retry(3, 10),
        ..test_config()
    };

    match run(config, &job) {
        Err(DownloadError::Checksum { expected, actual }) => {
            assert_eq!(
                expected,
                sha256_hex(&data),
                "Checksum::expected is the job's digest"
            );
            assert_eq!(
                actual,
                sha256_hex(&sent),
                "Checksum::actual is the digest of what arrived"
            );
        }
        other => {
            panic!("one byte of the body is wrong: expected Err(Checksum {{ .. }}), got {other:?}")
        }
    }
    assert_no_download(
        &job.dest,
        "a file that fails its checksum is removed, .part file included",
    );
    assert_eq!(
        server.requests_to("/f").len(),
        1,
        "a checksum mismatch is not retried: the server sends the same wrong bytes again"
    );
}

#[test]
fn t8_a_mismatch_leaves_the_old_file_in_place() {
    let server = server();
    let data = content(70_000, 33);
    server.route("/f", Route::new(data.clone()).flip_byte(99));
    let dir = tempdir();
    let job = Job::new(server.url("/f"), dest(&dir, "f")).with_sha256(sha256_hex(&data));
    fs::write(&job.dest, b"the previous, verified version").expect("write the old file");

    let result = run(test_config(), &job);

    assert!(
        matches!(result, Err(DownloadError::Checksum { .. })),
        "one byte of the body is wrong: expected Err(Checksum {{ .. }}), got {result:?}"
    );
    assert_content(
        &job.dest,
        b"the previous, verified version",
        "a download that fails its checksum must never replace the file already there: \
         verify the .part file before the rename",
    );
    assert!(
        !part_path(&job.dest).exists(),
        "the .part file that failed its checksum is removed"
    );
}

#[test]
fn t8_a_resumed_download_is_verified_as_a_whole() {
    let data = content(100_000, 20);
    // A good .part file: the kept bytes count in the digest.
    let (_server, _dir, job, _) = resume_setup(true, &data[..40_000]);
    let job = job.with_sha256(sha256_hex(&data));
    run(test_config(), &job).unwrap_or_else(|e| {
        panic!("the kept 40000 bytes plus the rest match the digest: expected Ok, got Err({e:?})")
    });
    assert_content(&job.dest, &data, "the verified file is kept");

    // A damaged .part file: only the whole-file digest can tell.
    let (_server, _dir, job, _) = resume_setup(true, &content(40_000, 77));
    let job = job.with_sha256(sha256_hex(&data));
    let result = run(test_config(), &job);
    assert!(
        matches!(result, Err(DownloadError::Checksum { .. })),
        "the .part file held wrong bytes, so the resumed file is wrong: expected \
         Err(Checksum {{ .. }}), got {result:?}"
    );
    assert_no_download(
        &job.dest,
        "the bad download is removed, .part file included",
    );
    let done = run(test_config(), &job).expect("with the bad .part file gone, a fresh try works");
    assert_eq!(done.resumed_from, 0, "nothing left to resume");
    assert_content(&job.dest, &data, "the fresh download is right");
}
