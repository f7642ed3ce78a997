//! Graded tests for lesson 05, tasks 5 and 6: files shared between threads
//! and processes.
//!
//! - `t5_` grades task 5: `Appender`, which many threads and processes use
//!   at once on one file opened with `O_APPEND`; no record may be torn or
//!   interleaved with another, and none may be lost.
//! - `t6_` grades task 6: `LockFile`, a single-process guard. A second
//!   holder, in this process or in another, must be refused with
//!   `FileIoError::Locked`; the lock is free again once the holder drops it
//!   or dies.
//!
//! The tests that need a second process run this test binary again, as a
//! child, to run one of the ignored `*_child_*` tests (an environment
//! variable tells the child what to do). Every wait has a deadline, so a
//! wrong implementation fails instead of hanging.

use std::collections::BTreeSet;
use std::env;
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

use file_io::{Appender, FileIoError, LockFile, decode_records};

/// How long a test waits for a child process to say or do something.
const DEADLINE: Duration = Duration::from_secs(20);

// ------------------------------------------------------- child processes

/// Kills the child when dropped, so no test leaves one behind.
struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts this test binary again to run the ignored test `test`, with the
/// environment `vars`. Its stdout is piped; its stdin stays open until the
/// guard is dropped.
fn spawn_child(test: &str, vars: &[(&str, String)]) -> ChildGuard {
    let mut command = Command::new(env::current_exe().expect("the test binary's path"));
    command
        .args([
            "--exact",
            test,
            "--ignored",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for (key, value) in vars {
        command.env(key, value);
    }
    ChildGuard(command.spawn().expect("start the child process"))
}

/// The child's stdout, line by line, read on a thread of its own.
fn lines_of(child: &mut ChildGuard) -> Receiver<String> {
    let stdout = child.0.stdout.take().expect("stdout is piped");
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Waits for a line from the child that contains `marker`, and returns what
/// follows the marker.
fn expect_line(lines: &Receiver<String>, marker: &str, what: &str) -> String {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            // libtest may print "test NAME ... " on the same line first.
            Ok(line) => {
                if let Some((_, rest)) = line.split_once(marker) {
                    return rest.trim().to_owned();
                }
            }
            Err(_) => panic!(
                "the child process never reported {what} (no line with {marker:?} within \
                 {DEADLINE:?}); its stderr is above"
            ),
        }
    }
}

/// Waits for the child to exit successfully.
fn wait_for_success(child: &mut ChildGuard, what: &str) {
    let deadline = Instant::now() + DEADLINE;
    loop {
        match child.0.try_wait().expect("poll the child") {
            Some(status) => {
                assert!(
                    status.success(),
                    "{what}: the child process failed ({status}); its stderr is above"
                );
                return;
            }
            None if Instant::now() < deadline => thread::sleep(Duration::from_millis(10)),
            None => panic!("{what}: the child process did not finish within {DEADLINE:?}"),
        }
    }
}

// ------------------------------------------------------- task 5 helpers

/// The payload of record `seq` of writer `writer`: a header that names both,
/// then a filler whose length and bytes depend on both, then a trailer that
/// repeats the header. A record torn or mixed with another fails `check`.
fn payload(writer: u32, seq: u32) -> Vec<u8> {
    let tag = format!("<w{writer:03} s{seq:05}>");
    let filler_len = ((writer as usize * 7919 + seq as usize * 104_729) % 4000) + 1;
    let fill = b'a' + ((writer + seq) % 26) as u8;
    let mut out = tag.clone().into_bytes();
    out.extend(std::iter::repeat_n(fill, filler_len));
    out.extend_from_slice(tag.as_bytes());
    out
}

/// Returns (writer, seq) if `record` is exactly the payload it claims to be.
fn check(record: &[u8]) -> Option<(u32, u32)> {
    let text = std::str::from_utf8(record.get(..13)?).ok()?;
    let writer = text.get(2..5)?.parse().ok()?;
    let seq = text.get(7..12)?.parse().ok()?;
    (payload(writer, seq) == record).then_some((writer, seq))
}

/// Reads the shared file and checks that it holds exactly every record of
/// `writers` writers with `per_writer` records each.
fn check_shared_file(path: &Path, writers: u32, per_writer: u32, context: &str) {
    let bytes = fs::read(path).expect("read the shared file");
    let records = decode_records(&bytes).unwrap_or_else(|e| {
        panic!(
            "{context}: the file does not split into whole records ({e}). Two writers' bytes \
             interleaved inside a record: each record (its length header *and* its payload) must \
             go out in ONE write_all of ONE buffer, on a file opened with append(true)"
        )
    });
    let mut seen = BTreeSet::new();
    for (i, record) in records.iter().enumerate() {
        let id = check(record).unwrap_or_else(|| {
            panic!(
                "{context}: record {i} of {} is damaged (its first bytes: {:?}); another writer's \
                 bytes landed inside it, or part of it was overwritten. Open with append(true), \
                 so every write lands at the current end of the file, and write each record \
                 whole, in one call",
                records.len(),
                String::from_utf8_lossy(&record[..record.len().min(20)])
            )
        });
        assert!(
            seen.insert(id),
            "{context}: record {id:?} appears twice; append each record once"
        );
    }
    let expected = writers as usize * per_writer as usize;
    assert_eq!(
        seen.len(),
        expected,
        "{context}: {expected} records were appended, but the file holds {} intact ones. Records \
         were overwritten: a handle without O_APPEND writes at its own offset, not at the end",
        seen.len()
    );
}

const CHILD_APPEND_TEST: &str = "t5_child_appends_records";
const APPEND_PATH_ENV: &str = "FILE_IO_APPEND_PATH";
const APPEND_WRITER_ENV: &str = "FILE_IO_APPEND_WRITER";
const PER_WRITER: u32 = 300;

// ---------------------------------------------------------------- task 5

#[test]
fn t5_threads_with_their_own_handles_never_tear_a_record() {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let path = dir.path().join("shared.log");
    let writers = 8;
    thread::scope(|s| {
        for writer in 0..writers {
            let path = &path;
            s.spawn(move || {
                // Each thread opens the file itself, as separate processes would.
                let appender = Appender::open(path).expect("open the shared file");
                for seq in 0..PER_WRITER {
                    appender
                        .append(&payload(writer, seq))
                        .expect("append a record");
                }
            });
        }
    });
    check_shared_file(&path, writers, PER_WRITER, "8 threads, 8 handles");
}

#[test]
fn t5_threads_sharing_one_handle_never_tear_a_record() {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let path = dir.path().join("shared.log");
    let appender = Appender::open(&path).expect("open the shared file");
    let writers = 6;
    thread::scope(|s| {
        for writer in 0..writers {
            let appender = &appender;
            s.spawn(move || {
                for seq in 0..PER_WRITER {
                    appender
                        .append(&payload(writer, seq))
                        .expect("append a record");
                }
            });
        }
    });
    check_shared_file(&path, writers, PER_WRITER, "6 threads, one shared Appender");
}

#[test]
fn t5_processes_and_threads_append_to_one_file() {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let path = dir.path().join("shared.log");
    let children = 3;
    let mut spawned: Vec<ChildGuard> = (0..children)
        .map(|writer| {
            spawn_child(
                CHILD_APPEND_TEST,
                &[
                    (APPEND_PATH_ENV, path.display().to_string()),
                    (APPEND_WRITER_ENV, writer.to_string()),
                ],
            )
        })
        .collect();
    // Two threads of this process append at the same time as the children.
    thread::scope(|s| {
        for writer in children..children + 2 {
            let path = &path;
            s.spawn(move || {
                let appender = Appender::open(path).expect("open the shared file");
                for seq in 0..PER_WRITER {
                    appender
                        .append(&payload(writer, seq))
                        .expect("append a record");
                }
            });
        }
    });
    for child in &mut spawned {
        wait_for_success(child, "a child appending records");
    }
    check_shared_file(&path, children + 2, PER_WRITER, "3 processes and 2 threads");
}

#[test]
fn t5_a_batch_lands_in_one_piece() {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let path = dir.path().join("shared.log");
    let writers = 4u32;
    let batches = 50u32;
    thread::scope(|s| {
        for writer in 0..writers {
            let path = &path;
            s.spawn(move || {
                let appender = Appender::open(path).expect("open the shared file");
                for batch in 0..batches {
                    let payloads: Vec<Vec<u8>> =
                        (0..3).map(|i| payload(writer, batch * 3 + i)).collect();
                    let refs: Vec<&[u8]> = payloads.iter().map(Vec::as_slice).collect();
                    appender.append_batch(&refs).expect("append a batch");
                }
            });
        }
    });
    check_shared_file(
        &path,
        writers,
        batches * 3,
        "4 threads appending batches of 3",
    );
    let bytes = fs::read(&path).expect("read the shared file");
    let ids: Vec<(u32, u32)> = decode_records(&bytes)
        .expect("whole records")
        .iter()
        .map(|r| check(r).expect("intact"))
        .collect();
    for (i, group) in ids.chunks(3).enumerate() {
        let (writer, first) = group[0];
        assert!(
            first % 3 == 0 && group == [(writer, first), (writer, first + 1), (writer, first + 2)],
            "records {}..{} should be one batch of 3 from one writer, in order, but are {group:?}; \
             append_batch must frame all its records into one buffer and write it with one \
             write_all",
            i * 3,
            i * 3 + 3
        );
    }
    let appender = Appender::open(&path).expect("reopen");
    appender
        .append_batch(&[])
        .expect("an empty batch is allowed and writes nothing");
    assert_eq!(
        fs::read(&path).expect("read").len(),
        bytes.len(),
        "an empty batch must not change the file"
    );
}

/// This thread's `write` system call count, if the kernel reports it
/// (`syscw` in `/proc/thread-self/io`).
fn write_syscalls() -> Option<u64> {
    let text = fs::read_to_string("/proc/thread-self/io").ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("syscw:"))
        .and_then(|v| v.trim().parse().ok())
}

#[test]
fn t5_each_record_is_one_write_system_call() {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let path = dir.path().join("shared.log");
    let appender = Appender::open(&path).expect("open the shared file");
    let before = write_syscalls();
    for seq in 0..100 {
        appender.append(&payload(0, seq)).expect("append a record");
    }
    let payloads: Vec<Vec<u8>> = (100..110).map(|seq| payload(0, seq)).collect();
    let refs: Vec<&[u8]> = payloads.iter().map(Vec::as_slice).collect();
    appender.append_batch(&refs).expect("append a batch");
    let after = write_syscalls();
    check_shared_file(&path, 1, 110, "one thread");
    match (before, after) {
        (Some(before), Some(after)) => assert_eq!(
            after - before,
            101,
            "100 appends and one batch must take exactly 101 write(2) calls: O_APPEND makes each \
             single write land whole at the end of the file, but nothing keeps two writes \
             together. Put the length header and the payload in one buffer and write_all it once"
        ),
        _ => eprintln!("note: /proc/thread-self/io is missing, so write calls cannot be counted"),
    }
}

#[test]
fn t5_a_missing_directory_is_an_open_error() {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let path = dir.path().join("missing").join("shared.log");
    match Appender::open(&path) {
        Err(FileIoError::Open { path: p, .. }) => assert_eq!(p, path, "name the file"),
        other => panic!("opening in a missing directory must be FileIoError::Open, got {other:?}"),
    }
}

/// A child process of `t5_processes_and_threads_append_to_one_file`.
#[test]
#[ignore = "entry point of a child process of the t5 tests"]
fn t5_child_appends_records() {
    let (Some(path), Some(writer)) = (
        env::var_os(APPEND_PATH_ENV),
        env::var(APPEND_WRITER_ENV).ok(),
    ) else {
        eprintln!("{CHILD_APPEND_TEST} only runs as a child of the t5 tests");
        return;
    };
    let writer: u32 = writer.parse().expect("a writer number");
    let appender = Appender::open(PathBuf::from(path)).expect("child: open the shared file");
    for seq in 0..PER_WRITER {
        appender
            .append(&payload(writer, seq))
            .expect("child: append a record");
    }
}

// ------------------------------------------------------- task 6 helpers

const CHILD_LOCK_TEST: &str = "t6_child_takes_the_lock";
const LOCK_PATH_ENV: &str = "FILE_IO_LOCK_PATH";
/// `try`: try once and report; `hold`: take it, report, and hold it until
/// stdin closes or the process is killed.
const LOCK_MODE_ENV: &str = "FILE_IO_LOCK_MODE";
const REPORT: &str = "lock-report: ";

/// Starts a child that tries to take the lock at `path`, and returns its
/// report: `acquired`, or `locked <holder pid or ?> <message>`.
fn child_tries_lock(path: &Path) -> String {
    let mut child = spawn_child(
        CHILD_LOCK_TEST,
        &[
            (LOCK_PATH_ENV, path.display().to_string()),
            (LOCK_MODE_ENV, "try".to_owned()),
        ],
    );
    let lines = lines_of(&mut child);
    let report = expect_line(&lines, REPORT, "whether it got the lock");
    wait_for_success(&mut child, "a child trying the lock");
    report
}

// ---------------------------------------------------------------- task 6

#[test]
fn t6_a_second_handle_in_the_same_process_is_refused() {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let path = dir.path().join("db.lock");
    let guard = LockFile::acquire(&path).expect("the first acquire gets the lock");
    assert_eq!(guard.path(), path, "LockFile::path is the lock file's path");
    match LockFile::acquire(&path) {
        Err(e @ FileIoError::Locked { .. }) => {
            let FileIoError::Locked { path: p, holder } = &e else {
                unreachable!()
            };
            assert_eq!(p, &path, "FileIoError::Locked must name the lock file");
            assert_eq!(
                *holder,
                Some(std::process::id()),
                "the holder wrote its pid into the lock file; the refused caller reads it back"
            );
            assert!(
                e.to_string().contains("db.lock"),
                "the message must name the lock file, so an operator knows what is locked: {e}"
            );
        }
        Err(other) => panic!("a held lock must give FileIoError::Locked, got `{other}`"),
        Ok(_) => panic!(
            "a second LockFile::acquire succeeded while the first guard was alive; use \
             File::try_lock, and keep the locked File inside the guard"
        ),
    }
    assert_eq!(
        fs::read_to_string(&path)
            .expect("read the lock file")
            .trim(),
        std::process::id().to_string(),
        "the refused attempt must not erase the holder's pid: open the lock file without \
         truncate(true), and only write to it once you hold the lock"
    );
    drop(guard);
    assert!(
        path.exists(),
        "dropping the guard must release the lock but keep the lock file: deleting it lets a \
         waiter that opened the old file and a newcomer that creates a new one both hold the lock"
    );
    let again = LockFile::acquire(&path);
    assert!(
        again.is_ok(),
        "after the guard is dropped the lock must be free again, got {again:?}"
    );
}

#[test]
fn t6_a_second_process_is_refused_while_the_lock_is_held() {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let path = dir.path().join("db.lock");
    let guard = LockFile::acquire(&path).expect("take the lock");

    let report = child_tries_lock(&path);
    let me = std::process::id().to_string();
    assert!(
        report.starts_with(&format!("locked {me} ")),
        "while this process (pid {me}) holds the lock, another process must be refused with \
         FileIoError::Locked naming this pid as the holder; the child reported `{report}`"
    );
    assert!(
        report.contains("db.lock"),
        "the child's error message must name the lock file: `{report}`"
    );

    drop(guard);
    let report = child_tries_lock(&path);
    assert_eq!(
        report, "acquired",
        "once the holder drops its guard, another process must get the lock"
    );
}

#[test]
fn t6_a_lock_dies_with_its_process() {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let path = dir.path().join("db.lock");
    let mut holder = spawn_child(
        CHILD_LOCK_TEST,
        &[
            (LOCK_PATH_ENV, path.display().to_string()),
            (LOCK_MODE_ENV, "hold".to_owned()),
        ],
    );
    let lines = lines_of(&mut holder);
    let report = expect_line(&lines, REPORT, "that it holds the lock");
    assert_eq!(report, "acquired", "the child must get a free lock");

    let child_pid = holder.0.id();
    match LockFile::acquire(&path) {
        Err(FileIoError::Locked { holder: who, .. }) => assert_eq!(
            who,
            Some(child_pid),
            "the lock file must name the child (pid {child_pid}) as the holder"
        ),
        other => panic!(
            "while a child process holds the lock, this process must be refused with \
             FileIoError::Locked; got {other:?}"
        ),
    }

    // SIGKILL: no destructor runs, yet the kernel releases the lock.
    drop(holder);
    let guard = LockFile::acquire(&path).unwrap_or_else(|e| {
        panic!(
            "the holder was killed, so the kernel released its lock, yet acquire failed: {e}. A \
             lock that only a destructor or a pid check releases is stale after a crash"
        )
    });
    drop(guard);
}

#[test]
fn t6_a_missing_directory_is_an_open_error() {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let path = dir.path().join("missing").join("db.lock");
    match LockFile::acquire(&path) {
        Err(FileIoError::Open { path: p, .. }) => assert_eq!(p, path, "name the lock file"),
        other => {
            panic!("a lock file in a missing directory must be FileIoError::Open, got {other:?}")
        }
    }
}

/// A child process of the t6 tests: takes the lock at `FILE_IO_LOCK_PATH`
/// and prints what happened.
#[test]
#[ignore = "entry point of a child process of the t6 tests"]
fn t6_child_takes_the_lock() {
    let (Some(path), Ok(mode)) = (env::var_os(LOCK_PATH_ENV), env::var(LOCK_MODE_ENV)) else {
        eprintln!("{CHILD_LOCK_TEST} only runs as a child of the t6 tests");
        return;
    };
    let mut out = std::io::stdout().lock();
    match LockFile::acquire(PathBuf::from(path)) {
        Ok(guard) => {
            writeln!(out, "{REPORT}acquired").expect("child: report");
            out.flush().expect("child: flush");
            if mode == "hold" {
                // Hold the lock until the parent closes stdin or kills us.
                let _ = std::io::stdin().read_line(&mut String::new());
            }
            drop(guard);
        }
        Err(e @ FileIoError::Locked { holder, .. }) => {
            let holder = holder.map_or("?".to_owned(), |pid| pid.to_string());
            writeln!(out, "{REPORT}locked {holder} {e}").expect("child: report");
        }
        Err(other) => writeln!(out, "{REPORT}error {other}").expect("child: report"),
    }
}
