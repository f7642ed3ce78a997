//! Graded tests for lesson 05, tasks 2 to 4: the durability rules.
//!
//! - `t2_` grades task 2: `DurableWriter::append` and `commit` (flush, then
//!   `sync_data`), checked by a test double that records every call.
//! - `t3_` grades task 3: `write_fully` and `read_fully` on writers and
//!   readers that take or give a few bytes at a time, return `Interrupted`,
//!   and then fail for real.
//! - `t4_` grades task 4: `replace_atomically_with`, failed on purpose at
//!   every one of its steps.

use std::collections::VecDeque;
use std::fs;
use std::io::{self, ErrorKind, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use file_io::{
    Durable, DurableWriter, FileIoError, Step, WriteReport, read_fully, replace_atomically,
    replace_atomically_with, write_fully,
};

// ------------------------------------------------------- task 2 double

/// One call the recording double received.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Call {
    /// `write` with this many bytes (all accepted).
    Write(usize),
    /// `flush`.
    Flush,
    /// `sync_data`, when the double had received this many bytes in all.
    Sync { bytes_so_far: usize },
}

/// A `Durable` writer that records the order of calls, keeps the bytes,
/// and can be told to fail.
#[derive(Clone, Default)]
struct Recorder {
    log: Arc<Mutex<Vec<Call>>>,
    bytes: Arc<Mutex<Vec<u8>>>,
    fail_writes: Arc<Mutex<bool>>,
    fail_syncs: Arc<Mutex<u32>>,
}

impl Recorder {
    fn calls(&self) -> Vec<Call> {
        self.log.lock().unwrap().clone()
    }

    fn received(&self) -> Vec<u8> {
        self.bytes.lock().unwrap().clone()
    }
}

impl Write for Recorder {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if *self.fail_writes.lock().unwrap() {
            return Err(io::Error::new(ErrorKind::StorageFull, "no space left"));
        }
        self.log.lock().unwrap().push(Call::Write(buf.len()));
        self.bytes.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.log.lock().unwrap().push(Call::Flush);
        Ok(())
    }
}

impl Durable for Recorder {
    fn sync_data(&mut self) -> io::Result<()> {
        let bytes_so_far = self.bytes.lock().unwrap().len();
        self.log.lock().unwrap().push(Call::Sync { bytes_so_far });
        let mut fail = self.fail_syncs.lock().unwrap();
        if *fail > 0 {
            *fail -= 1;
            return Err(io::Error::other("EIO: the disk lost the write"));
        }
        Ok(())
    }
}

// ---------------------------------------------------------------- task 2

#[test]
fn t2_append_only_buffers_and_commit_is_flush_then_sync() {
    let double = Recorder::default();
    let mut writer = DurableWriter::with_capacity(1024, double.clone());
    for record in [&b"first "[..], b"second ", b"third"] {
        writer.append(record).expect("append a small record");
    }
    assert_eq!(
        double.calls(),
        [],
        "append must only fill the buffer: small records reach the file on commit, in one write"
    );

    writer.commit().expect("commit");
    let calls = double.calls();
    assert_eq!(
        double.received(),
        b"first second third",
        "commit must hand every appended byte to the writer, in order"
    );
    let sync_at = calls
        .iter()
        .position(|c| matches!(c, Call::Sync { .. }))
        .unwrap_or_else(|| panic!("commit must call sync_data; the calls were {calls:?}"));
    let flush_at = calls
        .iter()
        .position(|c| *c == Call::Flush)
        .unwrap_or_else(|| panic!("commit must flush the buffer; the calls were {calls:?}"));
    assert!(
        flush_at < sync_at,
        "commit must flush *before* it syncs: sync_data only covers bytes the OS already has. \
         The calls were {calls:?}"
    );
    assert_eq!(
        calls[sync_at],
        Call::Sync { bytes_so_far: 18 },
        "when sync_data runs, all 18 appended bytes must already have been written"
    );
    assert_eq!(
        calls.len(),
        sync_at + 1,
        "sync_data must be the last call of a commit; the calls were {calls:?}"
    );
}

#[test]
fn t2_every_commit_syncs_what_came_before_it() {
    let double = Recorder::default();
    let mut writer = DurableWriter::with_capacity(16, double.clone());
    // The second record is larger than the buffer, so it reaches the writer
    // before any commit: that is allowed, but only commit may sync.
    writer.append(b"tiny").expect("append");
    writer
        .append(b"a record larger than the sixteen-byte buffer")
        .expect("append");
    assert!(
        !double
            .calls()
            .iter()
            .any(|c| matches!(c, Call::Sync { .. })),
        "append must never sync; only commit does. The calls were {:?}",
        double.calls()
    );
    writer.commit().expect("first commit");
    writer.append(b"more").expect("append after a commit");
    writer.commit().expect("second commit");
    let syncs: Vec<Call> = double
        .calls()
        .into_iter()
        .filter(|c| matches!(c, Call::Sync { .. }))
        .collect();
    assert_eq!(
        syncs,
        [
            Call::Sync { bytes_so_far: 48 },
            Call::Sync { bytes_so_far: 52 }
        ],
        "each commit syncs once, after every byte appended before it has been written"
    );
}

#[test]
fn t2_a_failed_flush_does_not_sync() {
    let double = Recorder::default();
    let mut writer = DurableWriter::with_capacity(1024, double.clone());
    writer.append(b"doomed").expect("append only buffers");
    *double.fail_writes.lock().unwrap() = true;
    match writer.commit() {
        Err(FileIoError::Flush(source)) => assert_eq!(
            source.kind(),
            ErrorKind::StorageFull,
            "keep the writer's error inside FileIoError::Flush"
        ),
        other => {
            panic!("a failing write during commit must give FileIoError::Flush, got {other:?}")
        }
    }
    assert!(
        !double
            .calls()
            .iter()
            .any(|c| matches!(c, Call::Sync { .. })),
        "after a failed flush, commit must return the error without syncing: a sync would report \
         success for bytes that never reached the OS. The calls were {:?}",
        double.calls()
    );
}

#[test]
fn t2_a_failed_sync_poisons_the_writer() {
    let double = Recorder::default();
    *double.fail_syncs.lock().unwrap() = 1;
    let mut writer = DurableWriter::with_capacity(1024, double.clone());
    writer.append(b"maybe lost").expect("append");
    match writer.commit() {
        Err(FileIoError::Sync(source)) => assert!(
            source.to_string().contains("EIO"),
            "keep the sync's own error inside FileIoError::Sync, got `{source}`"
        ),
        other => panic!("a failing sync_data must give FileIoError::Sync, got {other:?}"),
    }
    let calls_after_failure = double.calls().len();
    // The double would succeed now, but the writer must not try again.
    assert!(
        matches!(writer.commit(), Err(FileIoError::Poisoned)),
        "after a failed sync, commit must refuse with FileIoError::Poisoned: a retried fsync can \
         report success although the kernel already dropped the data it failed to write"
    );
    assert!(
        matches!(writer.append(b"more"), Err(FileIoError::Poisoned)),
        "after a failed sync, append must refuse with FileIoError::Poisoned too"
    );
    assert_eq!(
        double.calls().len(),
        calls_after_failure,
        "a poisoned writer must not touch the underlying writer again"
    );
}

#[test]
fn t2_commit_on_a_real_file() {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let path = dir.path().join("data.log");
    let file = fs::File::create(&path).expect("create the file");
    let mut writer = DurableWriter::new(file);
    writer.append(b"committed\n").expect("append");
    assert_eq!(
        fs::read(&path).expect("read the file"),
        b"",
        "before commit, the record is still in the buffer"
    );
    writer.commit().expect("commit to a real file");
    assert_eq!(
        fs::read(&path).expect("read the file"),
        b"committed\n",
        "after commit, another handle must see the record"
    );
}

// ------------------------------------------------------- task 3 doubles

/// What a scripted writer or reader does on one call.
#[derive(Debug, Clone, Copy)]
enum Event {
    /// Accept (or give) at most this many bytes.
    Take(usize),
    /// Return `ErrorKind::Interrupted`.
    Interrupt,
    /// Return a real error of this kind.
    Fail(ErrorKind),
    /// Accept (or give) nothing: `Ok(0)`.
    Zero,
}

/// A writer that follows a script of events, then takes at most `k` bytes
/// per call forever.
struct ScriptedWriter {
    script: VecDeque<Event>,
    k: usize,
    data: Vec<u8>,
    calls: u64,
}

impl ScriptedWriter {
    fn new(k: usize, script: &[Event]) -> Self {
        Self {
            script: script.iter().copied().collect(),
            k,
            data: Vec::new(),
            calls: 0,
        }
    }
}

impl Write for ScriptedWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.calls += 1;
        assert!(
            self.calls < 100_000,
            "write was called 100000 times; is the loop stuck retrying?"
        );
        match self.script.pop_front().unwrap_or(Event::Take(self.k)) {
            Event::Take(n) => {
                let n = n.min(buf.len());
                self.data.extend_from_slice(&buf[..n]);
                Ok(n)
            }
            Event::Interrupt => Err(io::Error::new(ErrorKind::Interrupted, "EINTR")),
            Event::Fail(kind) => Err(io::Error::new(kind, "the real error")),
            Event::Zero => Ok(0),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A reader over `data` that follows a script of events, then gives at
/// most `k` bytes per call.
struct ScriptedReader<'a> {
    data: &'a [u8],
    script: VecDeque<Event>,
    k: usize,
    calls: u64,
}

impl<'a> ScriptedReader<'a> {
    fn new(data: &'a [u8], k: usize, script: &[Event]) -> Self {
        Self {
            data,
            script: script.iter().copied().collect(),
            k,
            calls: 0,
        }
    }
}

impl Read for ScriptedReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.calls += 1;
        assert!(
            self.calls < 100_000,
            "read was called 100000 times; is the loop stuck?"
        );
        match self.script.pop_front().unwrap_or(Event::Take(self.k)) {
            Event::Take(n) => {
                let n = n.min(buf.len()).min(self.data.len());
                buf[..n].copy_from_slice(&self.data[..n]);
                self.data = &self.data[n..];
                Ok(n)
            }
            Event::Interrupt => Err(io::Error::new(ErrorKind::Interrupted, "EINTR")),
            Event::Fail(kind) => Err(io::Error::new(kind, "the real error")),
            Event::Zero => Ok(0),
        }
    }
}

fn sample(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + 3) as u8).collect()
}

// ---------------------------------------------------------------- task 3

#[test]
fn t3_a_writer_that_takes_k_bytes_per_call_gets_everything() {
    let data = sample(1000);
    for k in [1, 3, 64, 999, 1000, 5000] {
        let mut writer = ScriptedWriter::new(k, &[]);
        let report = write_fully(&mut writer, &data)
            .unwrap_or_else(|e| panic!("write_fully to a writer taking {k} bytes per call: {e}"));
        assert!(
            writer.data == data,
            "a writer that takes at most {k} bytes per call must still receive all 1000 bytes, \
             in order: call write again with the rest after each short write"
        );
        assert_eq!(
            report,
            WriteReport {
                calls: 1000_u64.div_ceil(k as u64),
                interrupted: 0
            },
            "with {k} bytes per call, 1000 bytes take ceil(1000 / {k}) write calls"
        );
    }
}

#[test]
fn t3_interrupted_is_retried_and_counted() {
    use Event::*;
    let data = sample(100);
    let script = [
        Interrupt,
        Take(10),
        Interrupt,
        Interrupt,
        Take(30),
        Interrupt,
    ];
    let mut writer = ScriptedWriter::new(25, &script);
    let report = write_fully(&mut writer, &data).unwrap_or_else(|e| {
        panic!(
            "write_fully gave up with `{e}`; ErrorKind::Interrupted means a signal arrived before \
             anything was written: retry the same call"
        )
    });
    assert!(writer.data == data, "every byte must arrive, in order");
    assert_eq!(
        report,
        WriteReport {
            calls: 5,
            interrupted: 4
        },
        "the script accepts 10, then 30, then 25, 25 and 10 bytes (5 calls that wrote something), \
         with 4 Interrupted calls in between: count both"
    );
}

#[test]
fn t3_a_real_error_after_interrupts_is_surfaced_with_the_progress_made() {
    use Event::*;
    let data = sample(100);
    let script = [
        Take(40),
        Interrupt,
        Take(2),
        Interrupt,
        Fail(ErrorKind::StorageFull),
    ];
    let mut writer = ScriptedWriter::new(25, &script);
    match write_fully(&mut writer, &data) {
        Err(FileIoError::Write { written, source }) => {
            assert_eq!(
                written, 42,
                "FileIoError::Write must say how many bytes were accepted before the error"
            );
            assert_eq!(
                source.kind(),
                ErrorKind::StorageFull,
                "surface the real error, not Interrupted and not a new one"
            );
        }
        other => panic!(
            "Interrupted is retried, but any other error must end write_fully with \
             FileIoError::Write; got {other:?}"
        ),
    }
    assert_eq!(
        writer.calls, 5,
        "write_fully must stop at the first real error: no more write calls after it"
    );
}

#[test]
fn t3_a_writer_that_accepts_nothing_is_an_error_not_a_hang() {
    let data = sample(50);
    let mut writer = ScriptedWriter::new(10, &[Event::Take(20), Event::Zero]);
    match write_fully(&mut writer, &data) {
        Err(FileIoError::WriteZero { written }) => assert_eq!(
            written, 20,
            "WriteZero must say how many bytes were accepted before the writer stopped"
        ),
        other => panic!(
            "Ok(0) from write means the writer can take no more; retrying would loop forever. \
             Expected FileIoError::WriteZero, got {other:?}"
        ),
    }
}

#[test]
fn t3_read_fully_collects_short_reads_and_stops_at_the_end() {
    use Event::*;
    let data = sample(300);
    let script = [Take(1), Interrupt, Take(7), Interrupt, Interrupt, Take(100)];
    let mut reader = ScriptedReader::new(&data, 13, &script);
    let mut buf = vec![0; 256];
    let n = read_fully(&mut reader, &mut buf).unwrap_or_else(|e| {
        panic!("read_fully failed with `{e}`; short reads and Interrupted are not errors")
    });
    assert_eq!(
        n, 256,
        "a short read is not the end of the data: keep reading until the buffer is full"
    );
    assert!(buf == data[..256], "the bytes must arrive in order");

    let mut rest = vec![0; 100];
    let n = read_fully(&mut reader, &mut rest).expect("read the rest");
    assert_eq!(
        n, 44,
        "only Ok(0) means end of data: read_fully must return the 44 bytes that were left"
    );
    assert!(rest[..44] == data[256..], "the last 44 bytes, in order");
}

#[test]
fn t3_read_fully_surfaces_a_real_error_with_the_progress_made() {
    use Event::*;
    let data = sample(100);
    let script = [
        Take(30),
        Interrupt,
        Take(5),
        Fail(ErrorKind::ConnectionReset),
    ];
    let mut reader = ScriptedReader::new(&data, 10, &script);
    let mut buf = vec![0; 100];
    match read_fully(&mut reader, &mut buf) {
        Err(FileIoError::Read { read, source }) => {
            assert_eq!(
                read, 35,
                "FileIoError::Read must say how many bytes arrived first"
            );
            assert_eq!(
                source.kind(),
                ErrorKind::ConnectionReset,
                "keep the real error"
            );
        }
        other => panic!("a real read error must give FileIoError::Read, got {other:?}"),
    }
}

// ------------------------------------------------------- task 4 helpers

/// The names in `dir`, sorted.
fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("list the directory")
        .map(|e| {
            e.expect("a directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

/// What the test saw at one step of a replace.
#[derive(Debug)]
struct Seen {
    step: Step,
    /// The target's contents (None: it does not exist).
    target: Option<Vec<u8>>,
    /// Every other file in the directory, with its contents.
    others: Vec<(String, Vec<u8>)>,
}

fn look(dir: &Path, target: &Path, step: Step) -> Seen {
    let others = names_in(dir)
        .into_iter()
        .filter(|n| n.as_str() != "config.json")
        .map(|n| {
            let bytes = fs::read(dir.join(&n)).expect("read a file in the directory");
            (n, bytes)
        })
        .collect();
    Seen {
        step,
        target: fs::read(target).ok(),
        others,
    }
}

const OLD: &[u8] = b"{\"version\": 1, \"old\": true}";

fn new_contents() -> Vec<u8> {
    // Larger than one page, so a half-written file would show.
    let mut data = b"{\"version\": 2, \"padding\": \"".to_vec();
    data.extend(std::iter::repeat_n(b'x', 10_000));
    data.extend_from_slice(b"\"}");
    data
}

const STEPS: [Step; 5] = [
    Step::CreateTemp,
    Step::WriteTemp,
    Step::SyncTemp,
    Step::Rename,
    Step::SyncDir,
];

// ---------------------------------------------------------------- task 4

#[test]
fn t4_replace_takes_its_steps_in_order_through_a_temp_file_beside_the_target() {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let target = dir.path().join("config.json");
    fs::write(&target, OLD).expect("write the old contents");
    let new = new_contents();
    let mut seen = Vec::new();
    replace_atomically_with(&target, &new, |step| {
        seen.push(look(dir.path(), &target, step));
        Ok(())
    })
    .expect("replace without faults");

    let steps: Vec<Step> = seen.iter().map(|s| s.step).collect();
    assert_eq!(
        steps, STEPS,
        "call `before` once before each step, in this order: create the temp file, write it, \
         sync it, rename it over the target, sync the directory"
    );
    for s in &seen[..4] {
        assert_eq!(
            s.target.as_deref(),
            Some(OLD),
            "before the rename ({:?}), the target must still hold its old contents",
            s.step
        );
    }
    assert!(
        seen[0].others.is_empty(),
        "nothing but the target exists before the temp file is created: {:?}",
        seen[0].others
    );
    for s in &seen[1..4] {
        assert_eq!(
            s.others.len(),
            1,
            "at {:?} the temp file must exist in the target's own directory (rename only works \
             within one file system); found {:?}",
            s.step,
            s.others.iter().map(|o| &o.0).collect::<Vec<_>>()
        );
    }
    for s in &seen[2..4] {
        assert!(
            s.others[0].1 == new,
            "at {:?} the temp file must hold all of the new contents: write everything before \
             you sync, and sync before you rename",
            s.step
        );
    }
    assert!(
        seen[4].target.as_deref() == Some(&new[..]) && seen[4].others.is_empty(),
        "by the time the directory is synced, the rename has happened: the target holds the new \
         contents and the temp file's name is gone"
    );
    assert!(
        fs::read(&target).expect("read the target") == new,
        "after replace_atomically_with returns Ok, the target holds the new contents"
    );
    assert_eq!(
        names_in(dir.path()),
        ["config.json"],
        "no temp file is left behind"
    );
}

#[test]
fn t4_a_failure_at_any_step_leaves_the_old_file_or_the_new_one_and_no_temp() {
    let new = new_contents();
    for fail_at in STEPS {
        let dir = tempfile::tempdir().expect("create a temporary directory");
        let target = dir.path().join("config.json");
        fs::write(&target, OLD).expect("write the old contents");
        let result = replace_atomically_with(&target, &new, |step| {
            if step == fail_at {
                Err(io::Error::other(format!("injected failure at {step:?}")))
            } else {
                Ok(())
            }
        });
        match result {
            Err(FileIoError::Replace { path, step, source }) => {
                assert_eq!(path, target, "FileIoError::Replace must name the target");
                assert_eq!(
                    step, fail_at,
                    "FileIoError::Replace must name the failed step"
                );
                assert!(
                    source.to_string().contains("injected"),
                    "keep the step's own error as the source, got `{source}`"
                );
            }
            other => panic!(
                "a failure injected at {fail_at:?} must give FileIoError::Replace, got {other:?}"
            ),
        }
        let now = fs::read(&target).expect("the target must still exist");
        if fail_at == Step::SyncDir {
            assert!(
                now == new,
                "a failure at SyncDir comes after the rename: the target already holds the new \
                 contents (and the caller is told that they may not be durable yet)"
            );
        } else {
            assert_eq!(
                now, OLD,
                "a failure at {fail_at:?} comes before the rename: the target must keep its old \
                 contents, untouched"
            );
        }
        assert_eq!(
            names_in(dir.path()),
            ["config.json"],
            "after a failure at {fail_at:?}, the temp file must be removed: every failed replace \
             would otherwise leave one more file behind"
        );
    }
}

#[test]
fn t4_replacing_a_file_that_does_not_exist_yet_creates_it() {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let target = dir.path().join("config.json");
    for fail_at in &STEPS[..4] {
        let result = replace_atomically_with(&target, b"fresh", |step| {
            if step == *fail_at {
                Err(io::Error::other("injected"))
            } else {
                Ok(())
            }
        });
        assert!(
            result.is_err(),
            "the failure at {fail_at:?} must be reported"
        );
        assert!(
            !target.exists(),
            "a replace that failed at {fail_at:?} (before the rename) must not create the target"
        );
        assert_eq!(
            names_in(dir.path()),
            Vec::<String>::new(),
            "and must leave no temp file"
        );
    }
    replace_atomically(&target, b"fresh").expect("replace a missing file");
    assert_eq!(
        fs::read(&target).expect("read the target"),
        b"fresh",
        "replace_atomically on a path with no file yet must create it holding exactly the new bytes"
    );
}

#[test]
fn t4_a_missing_directory_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let target: PathBuf = dir.path().join("no-such-dir").join("config.json");
    match replace_atomically(&target, b"data") {
        Err(e @ FileIoError::Replace { .. }) => {
            let FileIoError::Replace { step, source, .. } = &e else {
                unreachable!()
            };
            assert_eq!(
                *step,
                Step::CreateTemp,
                "creating the temp file is what fails"
            );
            assert_eq!(
                source.kind(),
                ErrorKind::NotFound,
                "FileIoError::Replace must carry the OS error of the failed step (a missing directory is NotFound), not a made-up one"
            );
            assert!(
                e.to_string().contains("config.json"),
                "the message must name the file: {e}"
            );
        }
        other => panic!("replacing into a missing directory must fail, got {other:?}"),
    }
}
