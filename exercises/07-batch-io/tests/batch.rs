//! Graded tests for lesson 07 (batch file processing).
//!
//! - `t1_` grades task 1: `process_file`, one file through read, transform
//!   and write.
//! - `t2_` grades task 2: `run_batch` with K workers and at most K files in
//!   flight, and `BatchConfig::validate`. The memory test in
//!   `tests/memory.rs` is graded under task 2 as well.
//! - `t3_` grades task 3: `check_name`, `run_guarded`, and a batch that
//!   reports each failure and finishes every other file.
//! - `t4_` grades task 4: `Reorder`, and results in input order.
//! - `t5_` grades task 5: `Progress::record`, and progress as files finish.
//!
//! No test measures time. Where a test makes one file wait for others, it
//! waits with a deadline, so a wrong implementation makes the test fail
//! instead of hang. Where a test holds some transforms at a gate to see what
//! the rest of the batch does meanwhile, it waits until every other thread of
//! the process is asleep (`common::settle`) before it looks: the batch has
//! then done all it could, whatever the scheduler chose.

mod common;

use std::cell::Cell;
use std::collections::HashMap;
use std::collections::HashSet;
use std::fs;
use std::os::unix::fs::{MetadataExt, symlink};
use std::panic;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, Once};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

use batch_io::{
    BatchConfig, BatchError, BatchSink, FileDone, FileError, FileResult, Progress, Reorder,
    TransformError, check_name, list_files, process_file, run_batch, run_guarded,
};

/// How long any test waits for another thread before it gives up.
const DEADLINE: Duration = Duration::from_secs(5);

// ---------------------------------------------------------------- helpers

/// A temporary directory with `in/` (created) and `out/` (not created).
struct Dirs {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    input: PathBuf,
    output: PathBuf,
}

fn dirs() -> Dirs {
    let tmp = tempfile::tempdir().expect("create a temporary directory");
    let root = tmp.path().to_path_buf();
    let input = root.join("in");
    fs::create_dir(&input).expect("create in/");
    Dirs {
        output: root.join("out"),
        input,
        root,
        _tmp: tmp,
    }
}

/// Writes `data` to `dir/rel`, creating parent directories.
fn put(dir: &Path, rel: &str, data: &[u8]) {
    let path = dir.join(rel);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).expect("create the parent directory");
    }
    fs::write(&path, data).expect("write a test file");
}

/// The name of the test's file number `i`: `f000.txt`, `f001.txt`, ...
fn name(i: usize) -> PathBuf {
    PathBuf::from(format!("f{i:03}.txt"))
}

/// The content of the test's file number `i`: a few lines, of varying length.
fn content(i: usize) -> Vec<u8> {
    format!("line of file {i}\n").repeat(i % 7 + 1).into_bytes()
}

/// Creates `n` files `f000.txt`... in `dir` and returns their names.
fn make_files(dir: &Path, n: usize) -> Vec<PathBuf> {
    (0..n)
        .map(|i| {
            let rel = name(i);
            fs::write(dir.join(&rel), content(i)).expect("write a test file");
            rel
        })
        .collect()
}

/// The transform most tests use: ASCII upper case.
fn upper(_: &Path, data: &[u8]) -> Result<Vec<u8>, TransformError> {
    Ok(data.to_ascii_uppercase())
}

thread_local! {
    /// Set while a transform panics on purpose, so that the panic hook does
    /// not print that panic as if it were the reason a test failed.
    static ON_PURPOSE: Cell<bool> = const { Cell::new(false) };
}

/// Runs `panicking`, a panic the test causes on purpose, and prints a note
/// instead of the usual panic message: the report of a failed test then
/// shows the assertion that failed, not this panic. Any other panic is
/// printed as usual.
fn deliberately<R>(panicking: impl FnOnce() -> R) -> R {
    static QUIET_HOOK: Once = Once::new();
    QUIET_HOOK.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if ON_PURPOSE.with(|flag| flag.replace(false)) {
                let payload = info.payload();
                let message = payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a payload that is no string".to_string());
                eprintln!(
                    "note: the test's transform panics here on purpose ({message}); \
                     run_guarded catches it with catch_unwind and returns FileError::Panicked"
                );
            } else {
                default(info);
            }
        }));
    });
    ON_PURPOSE.with(|flag| flag.set(true));
    let returned = panicking();
    ON_PURPOSE.with(|flag| flag.set(false));
    returned
}

/// Polls `condition` until it holds (true) or the deadline passes (false).
fn wait_until(condition: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + DEADLINE;
    while !condition() {
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(1));
    }
    true
}

/// Everything a [`Recorder`] saw, in the order it saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Event {
    Progress(Progress),
    Result(usize),
}

/// Counters that a sink and a transform share, so that a transform can
/// wait for what the sink has received.
#[derive(Default)]
struct Seen {
    results: AtomicUsize,
    files_done: AtomicUsize,
}

/// A sink that records every call.
#[derive(Default)]
struct Recorder {
    events: Vec<Event>,
    results: Vec<FileResult>,
    seen: Arc<Seen>,
    /// Whether the first progress event waits for the process to settle.
    settle_first: bool,
}

impl BatchSink for Recorder {
    fn result(&mut self, result: FileResult) {
        self.events.push(Event::Result(result.index));
        self.results.push(result);
        self.seen.results.fetch_add(1, Ordering::SeqCst);
    }

    fn progress(&mut self, progress: &Progress) {
        let first = !self.events.iter().any(|e| matches!(e, Event::Progress(_)));
        if self.settle_first && first {
            common::settle();
        }
        self.events.push(Event::Progress(*progress));
        self.seen
            .files_done
            .store(progress.files_done, Ordering::SeqCst);
    }
}

impl Recorder {
    fn progress_events(&self) -> Vec<Progress> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Progress(p) => Some(*p),
                Event::Result(_) => None,
            })
            .collect()
    }

    fn result_indexes(&self) -> Vec<usize> {
        self.results.iter().map(|r| r.index).collect()
    }
}

/// Runs a batch and returns its results, sorted by index (tasks 1 to 3 do
/// not depend on the order).
fn run_sorted<F>(config: &BatchConfig, files: &[PathBuf], transform: &F) -> Vec<FileResult>
where
    F: Fn(&Path, &[u8]) -> Result<Vec<u8>, TransformError> + Sync,
{
    let mut results: Vec<FileResult> = Vec::new();
    run_batch(config, files, transform, &mut results).expect("the batch itself should succeed");
    results.sort_by_key(|r| r.index);
    results
}

fn describe(outcome: &Result<FileDone, FileError>) -> String {
    match outcome {
        Ok(done) => format!("Ok({done:?})"),
        Err(e) => format!("Err({e})"),
    }
}

// ---------------------------------------------------------------- task 1

#[test]
fn t1_process_file_reads_transforms_and_writes_under_the_same_name() {
    let d = dirs();
    put(&d.input, "a.txt", b"hello, batch");
    let config = BatchConfig::new(&d.input, &d.output, 1);
    let done = process_file(&config, Path::new("a.txt"), &upper).expect("a.txt exists");
    assert_eq!(
        fs::read(d.output.join("a.txt")).ok().as_deref(),
        Some(&b"HELLO, BATCH"[..]),
        "out/a.txt must hold what the transform returned for in/a.txt"
    );
    assert_eq!(
        done,
        FileDone {
            bytes_read: 12,
            bytes_written: 12
        },
        "FileDone counts the input bytes read and the output bytes written"
    );
}

#[test]
fn t1_nested_names_get_their_output_directories() {
    let d = dirs();
    put(&d.input, "logs/2024/05/app.log", b"nested");
    let config = BatchConfig::new(&d.input, &d.output, 1);
    process_file(&config, Path::new("logs/2024/05/app.log"), &upper)
        .expect("the input exists and the output directory can be created");
    assert_eq!(
        fs::read(d.output.join("logs/2024/05/app.log"))
            .ok()
            .as_deref(),
        Some(&b"NESTED"[..]),
        "the output keeps the input's relative name; create its parent directories (fs::create_dir_all)"
    );
}

#[test]
fn t1_the_transform_gets_the_name_and_decides_the_output() {
    let d = dirs();
    put(&d.input, "sub/data.bin", &[7u8; 1000]);
    let seen = Mutex::new(Vec::new());
    let checksum = |rel: &Path, data: &[u8]| -> Result<Vec<u8>, TransformError> {
        seen.lock().expect("not poisoned").push(rel.to_path_buf());
        let sum: u64 = data.iter().map(|&b| u64::from(b)).sum();
        Ok(sum.to_le_bytes().to_vec())
    };
    let config = BatchConfig::new(&d.input, &d.output, 1);
    let done = process_file(&config, Path::new("sub/data.bin"), &checksum).expect("it exists");
    assert_eq!(
        *seen.lock().expect("not poisoned"),
        vec![PathBuf::from("sub/data.bin")],
        "the transform is called once, with the name relative to the input directory"
    );
    assert_eq!(
        fs::read(d.output.join("sub/data.bin")).ok(),
        Some(7000u64.to_le_bytes().to_vec()),
        "the output is exactly what the transform returned"
    );
    assert_eq!(
        done,
        FileDone {
            bytes_read: 1000,
            bytes_written: 8
        },
        "bytes_written counts the output, which need not be the size of the input"
    );
}

#[test]
fn t1_a_read_only_batch_transforms_and_writes_nothing() {
    let d = dirs();
    put(&d.input, "a.txt", b"abc");
    let calls = AtomicUsize::new(0);
    let count = |_: &Path, data: &[u8]| -> Result<Vec<u8>, TransformError> {
        calls.fetch_add(1, Ordering::SeqCst);
        Ok(data.to_vec())
    };
    let config = BatchConfig::read_only(&d.input, 1);
    let done = process_file(&config, Path::new("a.txt"), &count).expect("a.txt exists");
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "a read-only batch still runs the transform"
    );
    assert_eq!(
        done,
        FileDone {
            bytes_read: 3,
            bytes_written: 0
        },
        "a read-only batch reads but writes nothing"
    );
    assert_eq!(
        list_files(&d.root).expect("list the test directory"),
        vec![PathBuf::from("in/a.txt")],
        "a read-only batch must not create any file or directory"
    );
}

#[test]
fn t1_an_existing_output_is_replaced_entirely() {
    let d = dirs();
    put(&d.input, "a.txt", b"new");
    put(&d.output, "a.txt", b"an older and much longer output");
    let inode = |path: &Path| fs::metadata(path).expect("out/a.txt exists").ino();
    let old_inode = inode(&d.output.join("a.txt"));
    let config = BatchConfig::new(&d.input, &d.output, 1);
    process_file(&config, Path::new("a.txt"), &upper).expect("a.txt exists");
    assert_eq!(
        fs::read(d.output.join("a.txt")).ok().as_deref(),
        Some(&b"NEW"[..]),
        "an older output is replaced, not overwritten in part (use the given write_replacing)"
    );
    assert_ne!(
        inode(&d.output.join("a.txt")),
        old_inode,
        "out/a.txt is still the file it was (same inode): the new output was written into it \
         in place, so a crash or a full disk midway would leave a half-written output under \
         its name. Expected a new file renamed over it: write with the given write_replacing"
    );
}

#[test]
fn t1_each_stage_reports_its_own_error_with_the_name() {
    let d = dirs();
    put(&d.input, "refuse.txt", b"x");
    put(&d.input, "blocked/a.txt", b"x");
    // A file where the output's directory should go: creating it must fail.
    put(&d.output, "blocked", b"I am a file, not a directory");
    let config = BatchConfig::new(&d.input, &d.output, 1);
    let refuse = |rel: &Path, data: &[u8]| -> Result<Vec<u8>, TransformError> {
        if rel == Path::new("refuse.txt") {
            Err("this transform refuses refuse.txt".into())
        } else {
            Ok(data.to_vec())
        }
    };

    match process_file(&config, Path::new("missing.txt"), &refuse) {
        Err(FileError::Read { path, source }) => {
            assert_eq!(path, Path::new("missing.txt"), "name the file as given");
            assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
        }
        other => panic!("a missing input must be FileError::Read, got {other:?}"),
    }
    match process_file(&config, Path::new("refuse.txt"), &refuse) {
        Err(FileError::Transform { path, source }) => {
            assert_eq!(path, Path::new("refuse.txt"), "name the file as given");
            assert!(
                source.to_string().contains("refuses"),
                "keep the transform's own error as the source"
            );
        }
        other => panic!("a transform's Err must be FileError::Transform, got {other:?}"),
    }
    assert!(
        !d.output.join("refuse.txt").exists(),
        "when the transform fails, nothing may be written"
    );
    match process_file(&config, Path::new("blocked/a.txt"), &refuse) {
        Err(FileError::Write { path, output, .. }) => {
            assert_eq!(path, Path::new("blocked/a.txt"), "name the file as given");
            assert_eq!(
                output,
                d.output.join("blocked/a.txt"),
                "a write error says where the output was to go"
            );
        }
        other => panic!(
            "an output whose directory cannot be created must be FileError::Write, got {other:?}"
        ),
    }
}

// ---------------------------------------------------------------- task 2

#[test]
fn t2_every_file_is_processed_exactly_once() {
    let d = dirs();
    let files = make_files(&d.input, 200);
    let calls: Mutex<HashMap<PathBuf, usize>> = Mutex::new(HashMap::new());
    let counting = |rel: &Path, data: &[u8]| -> Result<Vec<u8>, TransformError> {
        *calls
            .lock()
            .expect("not poisoned")
            .entry(rel.to_path_buf())
            .or_default() += 1;
        upper(rel, data)
    };
    let config = BatchConfig::new(&d.input, &d.output, 4);
    let results = run_sorted(&config, &files, &counting);

    let calls = calls.into_inner().expect("not poisoned");
    for rel in &files {
        assert_eq!(
            calls.get(rel).copied().unwrap_or(0),
            1,
            "{} must be transformed exactly once",
            rel.display()
        );
    }
    assert_eq!(
        results.iter().map(|r| r.index).collect::<Vec<_>>(),
        (0..200).collect::<Vec<_>>(),
        "every file must have exactly one result, with its index in the input list"
    );
    for (i, result) in results.iter().enumerate() {
        assert_eq!(
            result.path, files[i],
            "result {i} must carry its file's name"
        );
        assert!(
            result.outcome.is_ok(),
            "{} should succeed, got {}",
            files[i].display(),
            describe(&result.outcome)
        );
        assert_eq!(
            fs::read(d.output.join(&files[i])).ok(),
            Some(content(i).to_ascii_uppercase()),
            "out/{} must hold the transformed input",
            files[i].display()
        );
    }
}

/// What [`most_at_once`] saw.
struct InFlight {
    /// The most transforms that were ever inside at once.
    most: usize,
    /// How many threads ran a transform.
    threads: usize,
    /// How many of those threads had no name.
    unnamed: usize,
}

/// Runs a batch of `n` files with `max_in_flight = k`, holding the first
/// transforms at a gate until `k` are inside and the rest of the process
/// has settled, and says what ran the transforms.
fn most_at_once(k: usize, n: usize) -> InFlight {
    let d = dirs();
    let files = make_files(&d.input, n);
    let inside = AtomicUsize::new(0);
    let most = AtomicUsize::new(0);
    let gate = common::Gate::default();
    let threads: Mutex<HashSet<ThreadId>> = Mutex::new(HashSet::new());
    let unnamed: Mutex<HashSet<ThreadId>> = Mutex::new(HashSet::new());
    let gated = |rel: &Path, data: &[u8]| -> Result<Vec<u8>, TransformError> {
        let me = thread::current();
        threads.lock().expect("not poisoned").insert(me.id());
        if me.name().is_none() {
            unnamed.lock().expect("not poisoned").insert(me.id());
        }
        let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
        most.fetch_max(now, Ordering::SeqCst);
        gate.wait(DEADLINE);
        inside.fetch_sub(1, Ordering::SeqCst);
        upper(rel, data)
    };
    let config = BatchConfig::new(&d.input, &d.output, k);
    thread::scope(|s| {
        s.spawn(|| {
            wait_until(|| inside.load(Ordering::SeqCst) >= k);
            // Whatever else the batch would start while k files are held,
            // it has started once every other thread is asleep.
            common::settle();
            gate.open();
        });
        let results = run_sorted(&config, &files, &gated);
        assert_eq!(results.len(), n, "every file must have a result");
    });
    InFlight {
        most: most.load(Ordering::SeqCst),
        threads: threads.into_inner().expect("not poisoned").len(),
        unnamed: unnamed.into_inner().expect("not poisoned").len(),
    }
}

#[test]
fn t2_at_most_k_files_are_transformed_at_once_and_k_are() {
    let InFlight {
        most,
        threads,
        unnamed,
    } = most_at_once(3, 30);
    assert!(
        most <= 3,
        "with max_in_flight = 3, {most} transforms ran at once: start min(K, files) workers, \
         not one more, and not a thread per file"
    );
    assert!(
        threads <= 3,
        "with max_in_flight = 3, the transform ran on {threads} different threads: start \
         min(K, files) workers once, and let each take file after file, not a thread per file"
    );
    assert_eq!(
        unnamed, 0,
        "{unnamed} of the {threads} threads that ran the transform had no name: start each \
         worker with thread::Builder::new().name(..).spawn_scoped(..), so that a panic message \
         or a debugger says which worker it was"
    );
    assert_eq!(
        most, 3,
        "with max_in_flight = 3 and 30 files, 3 transforms should run at once, but at most \
         {most} did: are all K workers taking files?"
    );
}

#[test]
fn t2_k_of_one_finishes_each_file_before_it_reads_the_next() {
    let d = dirs();
    let files = make_files(&d.input, 8);
    let inside = AtomicUsize::new(0);
    let most = AtomicUsize::new(0);
    let started = AtomicUsize::new(0);
    let lagging = Mutex::new(Vec::new());
    let serial = |rel: &Path, data: &[u8]| -> Result<Vec<u8>, TransformError> {
        let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
        most.fetch_max(now, Ordering::SeqCst);
        let before = started.fetch_add(1, Ordering::SeqCst);
        // With one file in flight, every file started before this one has
        // been written completely by now.
        let written = fs::read_dir(&d.output).map(|dir| dir.count()).unwrap_or(0);
        if written < before {
            lagging.lock().expect("not poisoned").push(format!(
                "{} started with {written} of {before} earlier outputs written",
                rel.display()
            ));
        }
        inside.fetch_sub(1, Ordering::SeqCst);
        upper(rel, data)
    };
    let config = BatchConfig::new(&d.input, &d.output, 1);
    let results = run_sorted(&config, &files, &serial);
    assert_eq!(results.len(), 8, "every file must have a result");
    assert_eq!(
        most.load(Ordering::SeqCst),
        1,
        "with max_in_flight = 1, two transforms ran at once"
    );
    let lagging = lagging.into_inner().expect("not poisoned");
    assert!(
        lagging.is_empty(),
        "with max_in_flight = 1, a file is in flight until its output is written, so the next \
         file may not start before that: {lagging:?}"
    );
}

#[test]
fn t2_more_workers_than_files_and_an_empty_list_are_fine() {
    let d = dirs();
    let files = make_files(&d.input, 3);
    let config = BatchConfig::new(&d.input, &d.output, 16);
    let results = run_sorted(&config, &files, &upper);
    assert_eq!(
        results.iter().filter(|r| r.outcome.is_ok()).count(),
        3,
        "3 files with max_in_flight = 16: all 3 succeed"
    );
    let results = run_sorted(&config, &[], &upper);
    assert!(results.is_empty(), "no files, no results");
}

#[test]
fn t2_zero_in_flight_is_refused_before_anything_runs() {
    let d = dirs();
    let files = make_files(&d.input, 3);
    let calls = AtomicUsize::new(0);
    let count = |rel: &Path, data: &[u8]| -> Result<Vec<u8>, TransformError> {
        calls.fetch_add(1, Ordering::SeqCst);
        upper(rel, data)
    };
    let config = BatchConfig::new(&d.input, &d.output, 0);
    let mut results: Vec<FileResult> = Vec::new();
    let outcome = run_batch(&config, &files, &count, &mut results);
    assert!(
        matches!(outcome, Err(BatchError::ZeroInFlight)),
        "max_in_flight = 0 must be BatchError::ZeroInFlight, got {outcome:?}"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 0, "nothing may run");
    assert!(!d.output.exists(), "nothing may be written");
}

#[test]
fn t2_a_batch_with_more_outcomes_than_the_channel_holds_returns() {
    let d = dirs();
    let files = make_files(&d.input, 64);
    let config = BatchConfig::new(&d.input, &d.output, 2);
    // The batch runs on a thread of its own, so that a batch that never
    // returns fails this test after the deadline instead of hanging it.
    let (done_tx, done_rx) = mpsc::channel();
    thread::spawn(move || {
        let mut results: Vec<FileResult> = Vec::new();
        let outcome = run_batch(&config, &files, &upper, &mut results);
        let _ = done_tx.send((outcome.map(|_| ()), results.len()));
    });
    match done_rx.recv_timeout(DEADLINE) {
        Ok((Ok(()), 64)) => {}
        Ok((outcome, results)) => panic!(
            "a batch of 64 readable files: expected Ok and 64 results, got {outcome:?} and \
             {results} results"
        ),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            panic!("run_batch panicked on a batch of 64 readable files (its message is above)")
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!(
            "a batch of 64 files with max_in_flight = 2 did not return within {DEADLINE:?}. The \
             calling thread must receive the outcomes before it joins the workers (a worker \
             whose send finds the channel full waits for a receiver), and drop its own sender \
             once every worker has a clone (the receiving loop ends only when every sender is \
             gone)"
        ),
    }
}

#[test]
fn t2_an_output_directory_that_is_the_input_directory_is_refused() {
    let d = dirs();
    let files = make_files(&d.input, 3);
    symlink(&d.input, d.root.join("alias")).expect("create a symbolic link to in/");
    // The same directory, spelled differently.
    for output in [
        d.input.join("."),
        d.input.join("..").join("in"),
        d.root.join("alias"),
    ] {
        let config = BatchConfig::new(&d.input, &output, 2);
        let mut results: Vec<FileResult> = Vec::new();
        let outcome = run_batch(&config, &files, &upper, &mut results);
        assert!(
            matches!(outcome, Err(BatchError::OutputIsInput { .. })),
            "the output directory {} is the input directory {}: expected \
             BatchError::OutputIsInput, got {outcome:?}. Writing there would replace every \
             input; compare fs::canonicalize of both directories, not the paths as written",
            output.display(),
            d.input.display()
        );
    }
    for (i, rel) in files.iter().enumerate() {
        assert_eq!(
            fs::read(d.input.join(rel)).ok(),
            Some(content(i)),
            "the inputs must be untouched"
        );
    }
}

// ---------------------------------------------------------------- task 3

#[test]
fn t3_check_name_accepts_plain_relative_names_only() {
    // `a/./b` is `a/b` to Path::components, and `..` inside a file name is
    // no component of its own.
    for good in ["a.txt", "logs/2024/a.log", "x", "a/./b", "v1..2.txt"] {
        let outcome = check_name(Path::new(good));
        assert!(
            outcome.is_ok(),
            "{good:?} is a plain relative name (every component is Component::Normal): \
             expected Ok, got {outcome:?}. Check the components, not the text"
        );
    }
    for bad in ["", "/etc/passwd", "../x", "a/../../x", "a/..", "./a"] {
        match check_name(Path::new(bad)) {
            Err(FileError::BadName { path }) => {
                assert_eq!(path, Path::new(bad), "BadName carries the name as given");
            }
            other => panic!(
                "{bad:?} must be refused with FileError::BadName (only Component::Normal \
                 components are allowed), got {other:?}"
            ),
        }
    }
}

#[test]
fn t3_run_guarded_turns_a_panic_into_that_files_error() {
    let d = dirs();
    put(&d.input, "a.txt", &[b'x'; 42]);
    let config = BatchConfig::new(&d.input, &d.output, 1);
    // A format string whose arguments are all literals is folded into one
    // &'static str by the compiler; only an argument known at run time (here
    // the file's length) makes the payload a String.
    /// What the panic is, the message expected, and the panic itself.
    type Case = (&'static str, &'static str, fn(&[u8]));
    let cases: [Case; 4] = [
        ("a string literal", "static message", |_| {
            panic!("static message")
        }),
        (
            "a format string with literal arguments (a &'static str payload)",
            "formatted 42",
            |_| panic!("formatted {}", 42),
        ),
        (
            "a message formatted at run time (a String payload)",
            "the file holds 42 bytes",
            |data| panic!("the file holds {} bytes", data.len()),
        ),
        ("a u32 payload", "<non-string panic payload>", |_| {
            std::panic::panic_any(42_u32)
        }),
    ];
    for (what, expected, panicking) in cases {
        let transform = |_: &Path, data: &[u8]| -> Result<Vec<u8>, TransformError> {
            deliberately(|| panicking(data));
            Ok(Vec::new())
        };
        match run_guarded(&config, Path::new("a.txt"), &transform) {
            Err(FileError::Panicked { path, message }) => {
                assert_eq!(path, Path::new("a.txt"), "name the file as given");
                assert_eq!(
                    message, expected,
                    "the transform panicked with {what}: expected the message {expected:?}, got \
                     {message:?}. panic_message downcasts the payload itself (payload.as_ref(), \
                     not the Box) to &'static str, then to String, and only then gives up"
                );
            }
            other => panic!(
                "a transform that panicked with {what} must be FileError::Panicked, got {other:?}"
            ),
        }
    }
}

#[test]
fn t3_run_guarded_refuses_bad_names_without_touching_anything() {
    let d = dirs();
    // in/../victim.txt and out/../victim.txt are both this file.
    put(&d.root, "victim.txt", b"keep me");
    let absolute = d.root.join("victim.txt");
    let calls = AtomicUsize::new(0);
    let count = |rel: &Path, data: &[u8]| -> Result<Vec<u8>, TransformError> {
        calls.fetch_add(1, Ordering::SeqCst);
        upper(rel, data)
    };
    let config = BatchConfig::new(&d.input, &d.output, 1);
    for bad in [Path::new("../victim.txt"), absolute.as_path()] {
        let outcome = run_guarded(&config, bad, &count);
        assert!(
            matches!(&outcome, Err(FileError::BadName { path }) if path == bad),
            "{} must be refused with FileError::BadName: check the name before anything else, \
             got {outcome:?}",
            bad.display()
        );
    }
    assert_eq!(
        calls.load(Ordering::SeqCst),
        0,
        "a refused name must not be read or transformed"
    );
    assert_eq!(
        fs::read(&absolute).ok().as_deref(),
        Some(&b"keep me"[..]),
        "a file outside the output directory must never be written"
    );
}

#[test]
fn t3_a_mixed_batch_reports_each_failure_and_finishes_the_rest() {
    let d = dirs();
    put(&d.root, "victim.txt", b"keep me");
    put(&d.input, "good1.txt", b"one");
    put(&d.input, "refuse.txt", b"no");
    put(&d.input, "boom.txt", b"bang");
    fs::create_dir(d.input.join("a-directory")).expect("create a directory");
    put(&d.input, "blocked/x.txt", b"x");
    put(&d.input, "good2/nested.txt", b"two");
    put(&d.output, "blocked", b"a file where a directory should be");
    put(&d.output, "refuse.txt", b"an older output");
    let files: Vec<PathBuf> = [
        "good1.txt",
        "missing.txt",
        "refuse.txt",
        "boom.txt",
        "a-directory",
        "blocked/x.txt",
        "../victim.txt",
        "good2/nested.txt",
    ]
    .iter()
    .map(PathBuf::from)
    .collect();
    let picky = |rel: &Path, data: &[u8]| -> Result<Vec<u8>, TransformError> {
        match rel.to_str() {
            Some("refuse.txt") => Err("refused on purpose".into()),
            Some("boom.txt") => deliberately(|| panic!("boom on purpose")),
            _ => upper(rel, data),
        }
    };
    let config = BatchConfig::new(&d.input, &d.output, 3);
    let results = run_sorted(&config, &files, &picky);
    assert_eq!(
        results.len(),
        files.len(),
        "every file, failed or not, must have exactly one result"
    );

    let expect = |i: usize, ok: bool, check: &dyn Fn(&FileError) -> bool, what: &str| {
        let result = &results[i];
        assert_eq!(
            result.path, files[i],
            "result {i} must carry its file's name"
        );
        match &result.outcome {
            Ok(_) if ok => {}
            Err(e) if !ok && check(e) => assert_eq!(
                e.path(),
                files[i],
                "the error must name {} as given",
                files[i].display()
            ),
            other => panic!(
                "{} should be {what}, got {}",
                files[i].display(),
                describe(other)
            ),
        }
    };
    let never = |_: &FileError| false;
    expect(0, true, &never, "Ok");
    expect(
        1,
        false,
        &|e| matches!(e, FileError::Read { .. }),
        "FileError::Read",
    );
    expect(
        2,
        false,
        &|e| matches!(e, FileError::Transform { .. }),
        "FileError::Transform",
    );
    expect(
        3,
        false,
        &|e| matches!(e, FileError::Panicked { message, .. } if message.contains("boom")),
        "FileError::Panicked with the panic's message (use run_guarded in the workers)",
    );
    expect(
        4,
        false,
        &|e| matches!(e, FileError::Read { .. }),
        "FileError::Read (a directory cannot be read as a file)",
    );
    expect(
        5,
        false,
        &|e| matches!(e, FileError::Write { .. }),
        "FileError::Write",
    );
    expect(
        6,
        false,
        &|e| matches!(e, FileError::BadName { .. }),
        "FileError::BadName",
    );
    expect(7, true, &never, "Ok");

    assert_eq!(
        fs::read(d.output.join("good1.txt")).ok().as_deref(),
        Some(&b"ONE"[..]),
        "the good files must be processed despite the failures"
    );
    assert_eq!(
        fs::read(d.output.join("good2/nested.txt")).ok().as_deref(),
        Some(&b"TWO"[..]),
        "the good files must be processed despite the failures"
    );
    assert_eq!(
        fs::read(d.output.join("refuse.txt")).ok().as_deref(),
        Some(&b"an older output"[..]),
        "a file that fails must not touch an older output of the same name"
    );
    assert_eq!(
        fs::read(d.root.join("victim.txt")).ok().as_deref(),
        Some(&b"keep me"[..]),
        "../victim.txt must not be read or written"
    );
    assert_eq!(
        list_files(&d.output).expect("list out/"),
        ["blocked", "good1.txt", "good2/nested.txt", "refuse.txt"]
            .iter()
            .map(PathBuf::from)
            .collect::<Vec<_>>(),
        "out/ must hold the good outputs and what was there before, and nothing else: no \
         output and no temporary file for a failed file"
    );
}

#[test]
fn t3_failures_do_not_stop_a_lone_worker() {
    let d = dirs();
    let mut files = Vec::new();
    for i in 0..10 {
        if i % 2 == 0 {
            put(&d.input, &format!("good{i}.txt"), b"ok");
            files.push(PathBuf::from(format!("good{i}.txt")));
        } else {
            files.push(PathBuf::from(format!("missing{i}.txt")));
        }
    }
    let config = BatchConfig::new(&d.input, &d.output, 1);
    let results = run_sorted(&config, &files, &upper);
    assert_eq!(
        results.len(),
        10,
        "with one worker, every file after a failure must still be processed and reported"
    );
    for (i, result) in results.iter().enumerate() {
        assert_eq!(
            result.outcome.is_ok(),
            i % 2 == 0,
            "{}: {}",
            files[i].display(),
            describe(&result.outcome)
        );
    }
}

#[test]
fn t3_a_batch_where_every_file_fails_still_succeeds() {
    let d = dirs();
    let files: Vec<PathBuf> = (0..5).map(|i| PathBuf::from(format!("nope{i}"))).collect();
    let config = BatchConfig::new(&d.input, &d.output, 2);
    let mut results: Vec<FileResult> = Vec::new();
    let outcome = run_batch(&config, &files, &upper, &mut results);
    assert!(
        outcome.is_ok(),
        "failed files are reported per file; the batch itself succeeds, got {outcome:?}"
    );
    assert_eq!(
        results.len(),
        5,
        "a batch of 5 missing files: expected 5 results, one per file, got {}. A failed file \
         is a result like any other, and nothing in the worker loop may stop on it",
        results.len()
    );
    assert!(
        results
            .iter()
            .all(|r| matches!(r.outcome, Err(FileError::Read { .. }))),
        "every missing file is a FileError::Read"
    );
}

// ---------------------------------------------------------------- task 4

#[test]
fn t4_reorder_releases_items_in_index_order() {
    let mut order = Reorder::new();
    order.insert(2, 'c');
    assert_eq!(
        order.next_ready(),
        None,
        "nothing can go before index 0 arrives"
    );
    order.insert(0, 'a');
    assert_eq!(order.next_ready(), Some('a'), "index 0 is ready");
    assert_eq!(order.next_ready(), None, "index 1 has not arrived");
    order.insert(1, 'b');
    assert_eq!(order.next_ready(), Some('b'));
    assert_eq!(order.next_ready(), Some('c'), "2 was waiting for 1");
    assert_eq!(order.next_ready(), None);
    assert_eq!(order.released(), 3, "three items released");
    assert_eq!(order.waiting(), 0, "nothing held back");
}

#[test]
fn t4_reorder_holds_everything_until_the_first_arrives() {
    let mut order = Reorder::new();
    for i in (1..100).rev() {
        order.insert(i, i * 10);
        assert_eq!(order.next_ready(), None, "index 0 has not arrived yet");
    }
    assert_eq!(order.waiting(), 99, "all 99 items are held back");
    order.insert(0, 0);
    let released: Vec<usize> = std::iter::from_fn(|| order.next_ready()).collect();
    assert_eq!(
        released,
        (0..100).map(|i| i * 10).collect::<Vec<_>>(),
        "one insert can release many items, in index order"
    );
    assert_eq!((order.released(), order.waiting()), (100, 0));
}

#[test]
fn t4_results_come_in_input_order_when_the_first_file_finishes_last() {
    let d = dirs();
    let n = 12;
    let files = make_files(&d.input, n);
    let others_done = AtomicUsize::new(0);
    let waited = AtomicBool::new(false);
    let first_last = |rel: &Path, data: &[u8]| -> Result<Vec<u8>, TransformError> {
        if rel == name(0) {
            waited.store(
                wait_until(|| others_done.load(Ordering::SeqCst) == n - 1),
                Ordering::SeqCst,
            );
        } else {
            others_done.fetch_add(1, Ordering::SeqCst);
        }
        upper(rel, data)
    };
    let config = BatchConfig::new(&d.input, &d.output, 4);
    let mut sink = Recorder::default();
    run_batch(&config, &files, &first_last, &mut sink).expect("the batch should succeed");
    assert!(
        waited.load(Ordering::SeqCst),
        "file 0 waited for the 11 others, but they did not all get transformed: are the other \
         workers taking files while one is busy?"
    );
    assert_eq!(
        sink.result_indexes(),
        (0..n).collect::<Vec<_>>(),
        "results must reach the sink in input order, although file 0 finished last: put them \
         through a Reorder"
    );
    for (i, result) in sink.results.iter().enumerate() {
        assert_eq!(
            result.path, files[i],
            "result {i} must carry its file's name"
        );
    }
}

#[test]
fn t4_each_result_is_released_as_soon_as_it_can_be() {
    let d = dirs();
    let files = make_files(&d.input, 6);
    let mut sink = Recorder::default();
    let seen = Arc::clone(&sink.seen);
    let waits_for_result_0 = |rel: &Path, data: &[u8]| -> Result<Vec<u8>, TransformError> {
        if rel == name(1) && !wait_until(|| seen.results.load(Ordering::SeqCst) >= 1) {
            return Err("the sink never received file 0's result while file 1 was running".into());
        }
        upper(rel, data)
    };
    let config = BatchConfig::new(&d.input, &d.output, 3);
    run_batch(&config, &files, &waits_for_result_0, &mut sink).expect("the batch should succeed");
    assert_eq!(
        sink.result_indexes(),
        (0..6).collect::<Vec<_>>(),
        "the sink received the results of files {:?}; expected each of the 6 files once, in \
         input order. One arrival can release several results: call next_ready in a loop \
         until it returns None, and let it move on to the next index each time",
        sink.result_indexes()
    );
    assert!(
        sink.results[1].outcome.is_ok(),
        "file 1 waited for the sink to receive file 0's result, in vain: release each result as \
         soon as it and all before it are done, not at the end of the batch ({})",
        describe(&sink.results[1].outcome)
    );
}

#[test]
fn t4_failed_files_keep_their_place_in_the_order() {
    let d = dirs();
    let mut files = make_files(&d.input, 8);
    files[2] = PathBuf::from("missing-a.txt");
    files[5] = PathBuf::from("../bad-name.txt");
    let config = BatchConfig::new(&d.input, &d.output, 3);
    let mut sink = Recorder::default();
    run_batch(&config, &files, &upper, &mut sink).expect("the batch should succeed");
    assert_eq!(
        sink.result_indexes(),
        (0..8).collect::<Vec<_>>(),
        "failed files get their result in their place, like any other"
    );
    let failed: Vec<usize> = sink
        .results
        .iter()
        .filter(|r| r.outcome.is_err())
        .map(|r| r.index)
        .collect();
    assert_eq!(failed, vec![2, 5], "files 2 and 5 fail, the others succeed");
}

// ---------------------------------------------------------------- task 5

#[test]
fn t5_record_counts_files_failures_and_bytes() {
    let mut progress = Progress::new(3);
    progress.record(&Ok(FileDone {
        bytes_read: 100,
        bytes_written: 40,
    }));
    progress.record(&Err(FileError::BadName {
        path: PathBuf::from("/x"),
    }));
    progress.record(&Ok(FileDone {
        bytes_read: 5,
        bytes_written: 0,
    }));
    assert_eq!(
        progress,
        Progress {
            files_total: 3,
            files_done: 3,
            files_failed: 1,
            bytes_read: 105,
            bytes_written: 40,
        },
        "record counts every file as done, failures as failed, and the bytes of successes"
    );
    assert!(progress.is_complete());
    assert_eq!(progress.files_ok(), 2);
}

/// A batch of 40 files, 3 of them missing, with the totals it must report.
///
/// With `settle_first`, the sink's first progress event waits until the rest
/// of the process has settled: every worker has then finished what it could
/// before the calling thread receives the next outcome.
fn progress_batch(settle_first: bool) -> (Recorder, Progress, Progress) {
    let d = dirs();
    let mut files = make_files(&d.input, 40);
    for i in [7, 19, 33] {
        files[i] = PathBuf::from(format!("missing{i}.txt"));
    }
    let doubled =
        |_: &Path, data: &[u8]| -> Result<Vec<u8>, TransformError> { Ok([data, data].concat()) };
    let config = BatchConfig::new(&d.input, &d.output, 3);
    let mut sink = Recorder {
        settle_first,
        ..Recorder::default()
    };
    let returned = run_batch(&config, &files, &doubled, &mut sink).expect("the batch succeeds");
    let read: u64 = (0..40)
        .filter(|i| ![7, 19, 33].contains(i))
        .map(|i| content(i).len() as u64)
        .sum();
    let expected = Progress {
        files_total: 40,
        files_done: 40,
        files_failed: 3,
        bytes_read: read,
        bytes_written: 2 * read,
    };
    (sink, returned, expected)
}

#[test]
fn t5_one_progress_event_per_file_and_the_counts_only_grow() {
    let (sink, _, expected) = progress_batch(false);
    check_progress_events(&sink.progress_events(), &expected);
}

#[test]
fn t5_each_event_counts_one_file_while_the_workers_run_ahead() {
    let (sink, _, expected) = progress_batch(true);
    check_progress_events(&sink.progress_events(), &expected);
}

/// One event per file of the 40, each with one more file done, counts that
/// never go down, and the batch's totals in the last one.
fn check_progress_events(events: &[Progress], expected: &Progress) {
    assert_eq!(
        events.len(),
        40,
        "call sink.progress once per finished file (40 files)"
    );
    let mut previous = Progress::new(40);
    for (i, event) in events.iter().enumerate() {
        assert_eq!(event.files_total, 40, "files_total never changes");
        let why = if event.files_done <= previous.files_done {
            "every finished file counts as done, a failed one too"
        } else {
            "each event counts the one file whose outcome the calling thread has just received. \
             Count on the calling thread (Progress::record as each outcome arrives), not in the \
             workers, which run ahead of what has been received"
        };
        assert_eq!(
            event.files_done,
            i + 1,
            "progress event {i} says {} files done, expected {}: {why}",
            event.files_done,
            i + 1
        );
        assert!(
            event.files_failed >= previous.files_failed
                && event.bytes_read >= previous.bytes_read
                && event.bytes_written >= previous.bytes_written,
            "progress counts only grow: {previous:?} was followed by {event:?}"
        );
        previous = *event;
    }
    assert_eq!(
        events.last(),
        Some(expected),
        "the last event holds the batch's totals"
    );
}

#[test]
fn t5_the_returned_totals_match_the_files() {
    let (_, returned, expected) = progress_batch(false);
    assert_eq!(
        returned, expected,
        "run_batch returns the final Progress: 40 files, 3 failed, and the bytes read and \
         written by the 37 that succeeded"
    );
}

#[test]
fn t5_progress_is_reported_as_files_finish_not_in_input_order() {
    let d = dirs();
    let n = 10;
    let files = make_files(&d.input, n);
    let mut sink = Recorder::default();
    let seen = Arc::clone(&sink.seen);
    let first_waits = |rel: &Path, data: &[u8]| -> Result<Vec<u8>, TransformError> {
        if rel == name(0) && !wait_until(|| seen.files_done.load(Ordering::SeqCst) >= n - 1) {
            return Err("progress never showed the other 9 files done while file 0 ran".into());
        }
        upper(rel, data)
    };
    let config = BatchConfig::new(&d.input, &d.output, 3);
    run_batch(&config, &files, &first_waits, &mut sink).expect("the batch should succeed");
    assert!(
        sink.results.first().is_some_and(|r| r.outcome.is_ok()),
        "file 0 waited for progress to count the 9 other files, in vain: report progress when a \
         file finishes, even while its result is held back for the order"
    );
    let first_result = sink
        .events
        .iter()
        .position(|e| matches!(e, Event::Result(_)));
    let done_before = sink.events[..first_result.unwrap_or(0)]
        .iter()
        .filter(|e| matches!(e, Event::Progress(_)))
        .count();
    assert_eq!(
        done_before, n,
        "file 0 finished last, so all {n} progress events come before the first result"
    );
}

#[test]
fn t5_an_empty_batch_reports_zero_totals_and_no_events() {
    let d = dirs();
    let config = BatchConfig::new(&d.input, &d.output, 2);
    let mut sink = Recorder::default();
    let totals = run_batch(&config, &[], &upper, &mut sink).expect("an empty batch succeeds");
    assert_eq!(totals, Progress::new(0), "no files: all totals are 0");
    assert!(sink.events.is_empty(), "no files: no events");
}
