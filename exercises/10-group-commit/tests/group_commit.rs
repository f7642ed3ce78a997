//! Graded tests for lesson 10 (group commit).
//!
//! - `t1_` grades task 1: `FileSyncer` and the `SyncPerWrite` baseline.
//! - `t2_` grades task 2: `GroupCommit::new`, `write` and `pending`: the
//!   hand-off between writers and the committer, one sync per batch.
//! - `t3_` grades task 3: a failed write or sync reaches every writer of its
//!   batch and no writer of the next one.
//! - `t4_` grades task 4: bounded batches and the configuration check.
//! - `t5_` grades task 5: `shutdown`, `is_closed` and `Drop`.
//!
//! The loom models in `tests/loom.rs` grade tasks 1, 2, 3 and 5 in the loom
//! stage.
//!
//! No test measures time. The log writes into [`MemDisk`], an in-memory
//! "disk" that remembers what was written, what was durable at each sync,
//! and how many writes and syncs there were. To make batches deterministic,
//! a test can *hold* the first write or sync at a gate until it has lined up
//! the other writers behind it. Every wait has a deadline, so a lost wake-up
//! fails its test with a message instead of hanging it.

#![cfg(not(loom))]

use std::fs;
use std::io::{self, Write};
use std::ops::Deref;
use std::path::Path;
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use simfs::{Fs, FsFile, OpenOptions, RealFs};

use group_commit::{
    CommitError, Config, FileSyncer, GroupCommit, Lsn, SyncPerWrite, Syncer, decode_records,
};

/// How long any test waits for something before it gives up.
const DEADLINE: Duration = Duration::from_secs(5);

// ---------------------------------------------------------------- the fake disk

/// Which call a [`Plan`] talks about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Write,
    Sync,
}

/// How a [`MemDisk`] misbehaves.
#[derive(Debug, Clone, Default)]
struct Plan {
    /// Hold the first call of this kind at the gate until
    /// [`MemDisk::release`].
    hold_first: Option<Op>,
    /// The write call with this number (1-based) fails.
    fail_write: Option<usize>,
    /// The sync call with this number (1-based) fails.
    fail_sync: Option<usize>,
    /// Every sync sleeps this long first (a slow disk).
    sync_delay: Duration,
}

#[derive(Debug, Default)]
struct Disk {
    /// Every byte the sink accepted.
    written: Vec<u8>,
    /// `written` as of the last successful sync.
    durable: Vec<u8>,
    /// The byte count of each write call, failed ones included.
    write_sizes: Vec<usize>,
    sync_calls: usize,
    /// For each sync call: how many records were written since the previous
    /// sync call, that is, the size of the batch this sync is for.
    records_per_sync: Vec<usize>,
    records_at_last_sync: usize,
    /// A call is waiting at the gate.
    held: bool,
    released: bool,
    /// The held call gave up waiting for [`MemDisk::release`].
    gate_expired: bool,
    sink_dropped: bool,
}

/// An in-memory disk, shared by a [`MemSink`] (the log's `Write`) and a
/// [`MemSyncer`] (the log's `Syncer`), and inspected by the test.
#[derive(Debug, Default)]
struct MemDisk {
    disk: Mutex<Disk>,
    changed: Condvar,
    plan: Plan,
}

impl MemDisk {
    fn new(plan: Plan) -> (Arc<Self>, MemSink, MemSyncer) {
        let disk = Arc::new(Self {
            plan,
            ..Self::default()
        });
        let sink = MemSink(Arc::clone(&disk));
        let syncer = MemSyncer(Arc::clone(&disk));
        (disk, sink, syncer)
    }

    fn lock(&self) -> MutexGuard<'_, Disk> {
        self.disk.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Blocks the calling (committer) thread at the gate until the test
    /// calls [`release`](Self::release), or until the deadline.
    fn hold(&self) {
        let deadline = Instant::now() + DEADLINE;
        let mut disk = self.lock();
        disk.held = true;
        self.changed.notify_all();
        while !disk.released {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                disk.gate_expired = true;
                break;
            };
            disk = self
                .changed
                .wait_timeout(disk, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        disk.held = false;
    }

    /// Waits until a call is held at the gate.
    fn wait_until_held(&self, what: &str) {
        let deadline = Instant::now() + DEADLINE;
        let mut disk = self.lock();
        while !disk.held {
            let left = deadline
                .checked_duration_since(Instant::now())
                .unwrap_or_else(|| panic!("{what} was never called"));
            disk = self
                .changed
                .wait_timeout(disk, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Opens the gate. Fails the test if the held call has already given
    /// up waiting: the test could not line up its writers in time.
    fn release(&self) {
        let expired = {
            let mut disk = self.lock();
            disk.released = true;
            disk.gate_expired
        };
        self.changed.notify_all();
        assert!(
            !expired,
            "the write or sync held at the gate waited {DEADLINE:?} for the other writers to \
             queue up behind it, and they could not: does the committer keep the state lock \
             while it writes or syncs? Writers that arrive during a sync must be able to queue \
             (and pending() to answer) meanwhile"
        );
    }

    fn written_records(&self) -> Vec<(Lsn, Vec<u8>)> {
        decode_records(&self.lock().written).expect("the sink holds whole records")
    }

    fn durable_records(&self) -> Vec<(Lsn, Vec<u8>)> {
        decode_records(&self.lock().durable).expect("the sink holds whole records")
    }

    fn sync_calls(&self) -> usize {
        self.lock().sync_calls
    }

    fn write_calls(&self) -> usize {
        self.lock().write_sizes.len()
    }

    fn records_per_sync(&self) -> Vec<usize> {
        self.lock().records_per_sync.clone()
    }
}

/// The log's view of a [`MemDisk`]: where batches are written.
#[derive(Debug)]
struct MemSink(Arc<MemDisk>);

impl Write for MemSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let call = {
            let mut disk = self.0.lock();
            disk.write_sizes.push(buf.len());
            disk.write_sizes.len()
        };
        if call == 1 && self.0.plan.hold_first == Some(Op::Write) {
            self.0.hold();
        }
        if self.0.plan.fail_write == Some(call) {
            return Err(io::Error::other(format!("injected write failure #{call}")));
        }
        self.0.lock().written.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for MemSink {
    fn drop(&mut self) {
        self.0.lock().sink_dropped = true;
    }
}

/// The log's [`Syncer`] for a [`MemDisk`]: copies `written` to `durable`.
#[derive(Debug)]
struct MemSyncer(Arc<MemDisk>);

impl Syncer for MemSyncer {
    fn sync(&mut self) -> io::Result<()> {
        let call = {
            let mut disk = self.0.lock();
            disk.sync_calls += 1;
            let records = decode_records(&disk.written)
                .expect("the sink holds whole records")
                .len();
            let batch = records - disk.records_at_last_sync;
            disk.records_per_sync.push(batch);
            disk.records_at_last_sync = records;
            disk.sync_calls
        };
        if call == 1 && self.0.plan.hold_first == Some(Op::Sync) {
            self.0.hold();
        }
        if !self.0.plan.sync_delay.is_zero() {
            thread::sleep(self.0.plan.sync_delay);
        }
        if self.0.plan.fail_sync == Some(call) {
            return Err(io::Error::other(format!("injected sync failure #{call}")));
        }
        let mut disk = self.0.lock();
        disk.durable = disk.written.clone();
        Ok(())
    }
}

// ---------------------------------------------------------------- helpers

fn payload(writer: usize, i: usize) -> Vec<u8> {
    format!("writer {writer} record {i}").into_bytes()
}

/// The tests' handle on a group-commit log: an `Arc<GroupCommit>` that is
/// dropped on a thread of its own. Dropping a log shuts it down; this way a
/// shutdown that never returns cannot hang a test that is not about
/// shutdown (task 5's tests check that on purpose, with deadlines).
struct Log(Option<Arc<GroupCommit>>);

impl Deref for Log {
    type Target = Arc<GroupCommit>;

    fn deref(&self) -> &Arc<GroupCommit> {
        self.0.as_ref().expect("the log is there until drop")
    }
}

impl Drop for Log {
    fn drop(&mut self) {
        if let Some(log) = self.0.take() {
            thread::spawn(move || drop(log));
        }
    }
}

/// Runs `f` on a thread of its own and returns its result, or fails the
/// test if it has not returned by the deadline.
fn within_deadline<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(DEADLINE) {
        Ok(value) => value,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!(
            "{what} did not return within {DEADLINE:?}: a lost wake-up, or a thread \
             waiting for something that never happens?"
        ),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("{what} panicked"),
    }
}

/// `log.write(payload)`, with a deadline.
fn write_now(log: &Arc<GroupCommit>, payload: &[u8]) -> Result<Lsn, CommitError> {
    let (log, payload) = (Arc::clone(log), payload.to_vec());
    within_deadline("write()", move || log.write(&payload))
}

/// `log.write(payload)` on a [`SyncPerWrite`], with a deadline.
fn per_write_now(log: &Arc<SyncPerWrite>, payload: &[u8]) -> Result<Lsn, CommitError> {
    let (log, payload) = (Arc::clone(log), payload.to_vec());
    within_deadline("write()", move || log.write(&payload))
}

/// `log.shutdown()`, with a deadline.
fn shutdown_now(log: &Arc<GroupCommit>) {
    let log = Arc::clone(log);
    within_deadline("shutdown()", move || log.shutdown());
}

/// Starts `threads` writer threads; writer `t` calls `op` with
/// `payload(t, 0)`, `payload(t, 1)`, … `writes` times. `op` writes the
/// record (and may check something right away) and returns its LSN or what
/// went wrong. Returns every acknowledged `(lsn, payload)`, and fails the
/// test on the first error, or if a writer is still inside `op` at the
/// deadline.
fn concurrent_writes<F>(threads: usize, writes: usize, op: F) -> Vec<(Lsn, Vec<u8>)>
where
    F: Fn(&[u8]) -> Result<Lsn, String> + Send + Sync + 'static,
{
    let op = Arc::new(op);
    let (tx, rx) = mpsc::channel();
    for t in 0..threads {
        let (op, tx) = (Arc::clone(&op), tx.clone());
        thread::spawn(move || {
            for i in 0..writes {
                let p = payload(t, i);
                let result = op(&p);
                let failed = result.is_err();
                if tx.send((t, result, p)).is_err() || failed {
                    return;
                }
            }
        });
    }
    drop(tx);
    let deadline = Instant::now() + DEADLINE;
    let mut acked = Vec::with_capacity(threads * writes);
    while acked.len() < threads * writes {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok((_, Ok(lsn), p)) => acked.push((lsn, p)),
            Ok((t, Err(e), _)) => panic!("writer {t}: {e}"),
            Err(mpsc::RecvTimeoutError::Timeout) => panic!(
                "after {DEADLINE:?}, only {} of {} writes had returned: a writer is stuck \
                 in write() (a lost wake-up?)",
                acked.len(),
                threads * writes
            ),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                panic!("a writer thread panicked inside write()")
            }
        }
    }
    acked
}

/// Starts a thread that writes `payload` once and reports the result.
fn spawn_write(log: &Arc<GroupCommit>, payload: Vec<u8>) -> Receiver<Result<Lsn, CommitError>> {
    let (tx, rx) = mpsc::channel();
    let log = Arc::clone(log);
    thread::spawn(move || {
        let _ = tx.send(log.write(&payload));
    });
    rx
}

/// Waits for the result of a [`spawn_write`].
fn result_of(rx: &Receiver<Result<Lsn, CommitError>>, who: &str) -> Result<Lsn, CommitError> {
    match rx.recv_timeout(DEADLINE) {
        Ok(result) => result,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!(
            "{who} never returned from write(): its batch was never committed, \
             or it was never woken up (a lost wake-up?)"
        ),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            panic!("{who}'s thread panicked inside write()")
        }
    }
}

/// Polls `condition` until it holds, or fails with `what` at the deadline.
fn wait_for(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + DEADLINE;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        thread::sleep(Duration::from_millis(1));
    }
}

/// Creates `path` on the real disk, through the same seam as the tests that
/// cut the power (`tests/power_loss.rs`).
fn create_on_disk(path: &Path) -> Box<dyn FsFile> {
    RealFs
        .open(
            path,
            OpenOptions::new().write(true).create(true).truncate(true),
        )
        .expect("create the log file")
}

/// Starts a group-commit log on a fresh [`MemDisk`].
fn mem_log(plan: Plan, config: Config) -> (Arc<MemDisk>, Log) {
    let (disk, sink, syncer) = MemDisk::new(plan);
    let log = GroupCommit::new(sink, syncer, config).expect("a valid config starts the log");
    (disk, Log(Some(Arc::new(log))))
}

/// Writes `payloads` concurrently, one thread each, while the first call
/// of the kind `hold` is held: the first writer goes alone into batch 1,
/// which is stuck at the gate, and all the others queue up behind it. Then
/// the gate opens. Returns the results in the order of `payloads`.
fn first_alone_then_the_rest(
    disk: &MemDisk,
    log: &Arc<GroupCommit>,
    hold: Op,
    payloads: Vec<Vec<u8>>,
) -> Vec<Result<Lsn, CommitError>> {
    let what = match hold {
        Op::Write => "the sink's write",
        Op::Sync => "the syncer",
    };
    let mut payloads = payloads.into_iter();
    let first = spawn_write(log, payloads.next().expect("at least one payload"));
    disk.wait_until_held(what);
    let rest: Vec<_> = payloads.map(|p| spawn_write(log, p)).collect();
    let everyone = rest.len() + 1;
    wait_for(
        &format!(
            "pending() is {everyone}: every writer queued behind the held {what} \
             (writers must be able to queue while the committer writes or syncs)"
        ),
        || log.pending() == everyone,
    );
    disk.release();
    let mut results = vec![result_of(&first, "the first writer")];
    for (i, rx) in rest.iter().enumerate() {
        results.push(result_of(rx, &format!("writer {}", i + 1)));
    }
    results
}

/// Checks that the records in `records` have the LSNs 1, 2, 3, … in file
/// order, and that every acknowledged `(lsn, payload)` is among them.
fn assert_file_order(records: &[(Lsn, Vec<u8>)], acked: &[(Lsn, Vec<u8>)]) {
    let lsns: Vec<u64> = records.iter().map(|(lsn, _)| lsn.0).collect();
    let expected: Vec<u64> = (1..=records.len() as u64).collect();
    assert!(
        lsns == expected,
        "the file must hold LSN 1, 2, 3, … in this order, with no gap or repeat; \
         it holds {lsns:?}"
    );
    for (lsn, payload) in acked {
        let index = usize::try_from(lsn.0 - 1).expect("small LSN");
        assert_eq!(
            records.get(index).map(|(_, p)| p),
            Some(payload),
            "write() returned {lsn} for {:?}, but the record with that LSN in the file \
             holds something else",
            String::from_utf8_lossy(payload)
        );
    }
}

fn io_message(error: &CommitError) -> String {
    std::error::Error::source(error).map_or_else(String::new, ToString::to_string)
}

// ---------------------------------------------------------------- task 1

#[test]
fn t1_each_write_is_synced_before_it_returns() {
    let (disk, sink, syncer) = MemDisk::new(Plan::default());
    let log = Arc::new(SyncPerWrite::new(sink, syncer));
    for i in 1..=5u64 {
        let lsn = per_write_now(&log, format!("record {i}").as_bytes());
        assert!(
            matches!(lsn, Ok(Lsn(n)) if n == i),
            "write number {i} should return Ok(Lsn({i})), got {lsn:?}"
        );
        assert_eq!(
            disk.sync_calls(),
            usize::try_from(i).expect("small"),
            "SyncPerWrite syncs once per write"
        );
        let durable = disk.durable_records();
        assert_eq!(
            durable.last(),
            Some(&(Lsn(i), format!("record {i}").into_bytes())),
            "when write() returns, its record must be durable (written, then synced)"
        );
    }
    assert_eq!(
        disk.durable_records().len(),
        5,
        "five writes, five durable records"
    );
}

#[test]
fn t1_lsn_order_is_file_order_under_concurrency() {
    const THREADS: usize = 4;
    const WRITES: usize = 25;
    let (disk, sink, syncer) = MemDisk::new(Plan::default());
    let log = Arc::new(SyncPerWrite::new(sink, syncer));
    let acked = {
        let log = Arc::clone(&log);
        concurrent_writes(THREADS, WRITES, move |p| {
            log.write(p).map_err(|e| format!("write() failed: {e}"))
        })
    };
    assert_eq!(disk.sync_calls(), THREADS * WRITES, "one sync per write");
    let records = disk.durable_records();
    assert_eq!(
        records.len(),
        THREADS * WRITES,
        "every write returned Ok, so every record is durable"
    );
    assert_file_order(&records, &acked);
}

#[test]
fn t1_a_failed_sync_is_reported_and_the_next_write_succeeds() {
    let (_disk, sink, syncer) = MemDisk::new(Plan {
        fail_sync: Some(2),
        ..Plan::default()
    });
    let log = Arc::new(SyncPerWrite::new(sink, syncer));
    let first = per_write_now(&log, b"a");
    assert!(
        matches!(first, Ok(Lsn(1))),
        "the first sync works: expected Ok(Lsn(1)), got {first:?}"
    );
    let second = per_write_now(&log, b"b");
    match &second {
        Err(e @ CommitError::Sync(_)) => assert!(
            io_message(e).contains("injected sync failure #2"),
            "CommitError::Sync should carry the syncer's io::Error as its source, got {e:?}"
        ),
        other => panic!(
            "the second sync fails, so the second write must be Err(Sync(..)), got {other:?}"
        ),
    }
    let third = per_write_now(&log, b"c");
    assert!(
        matches!(third, Ok(Lsn(3))),
        "a failed write still uses up its LSN, and the log keeps working: expected Ok(Lsn(3)), got {third:?}"
    );
}

#[test]
fn t1_a_failed_write_is_reported_and_not_synced() {
    let (disk, sink, syncer) = MemDisk::new(Plan {
        fail_write: Some(1),
        ..Plan::default()
    });
    let log = Arc::new(SyncPerWrite::new(sink, syncer));
    let first = per_write_now(&log, b"a");
    match &first {
        Err(e @ CommitError::Write(_)) => assert!(
            io_message(e).contains("injected write failure #1"),
            "CommitError::Write should carry the sink's io::Error as its source, got {e:?}"
        ),
        other => panic!("the sink fails, so write() must be Err(Write(..)), got {other:?}"),
    }
    assert_eq!(
        disk.sync_calls(),
        0,
        "do not sync after a failed write: there is nothing to make durable"
    );
    let second = per_write_now(&log, b"b");
    assert!(
        matches!(second, Ok(Lsn(2))),
        "the failed write used up LSN 1 and the log keeps working: expected Ok(Lsn(2)), got {second:?}"
    );
}

#[test]
fn t1_file_syncer_syncs_a_real_file() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("wal.log");
    let file = create_on_disk(&path);
    let syncer = FileSyncer::new(&*file).expect("clone the file handle");
    let log = Arc::new(SyncPerWrite::new(file, syncer));
    for i in 1..=3u64 {
        let lsn = per_write_now(&log, format!("r{i}").as_bytes());
        assert!(
            matches!(lsn, Ok(Lsn(n)) if n == i),
            "write number {i} on a real file: expected Ok(Lsn({i})), got {lsn:?}"
        );
    }
    let bytes = fs::read(&path).expect("read the log file");
    let records = decode_records(&bytes).expect("whole records");
    assert_eq!(
        records,
        vec![
            (Lsn(1), b"r1".to_vec()),
            (Lsn(2), b"r2".to_vec()),
            (Lsn(3), b"r3".to_vec()),
        ],
        "the real file holds the three records, in LSN order"
    );
}

// ---------------------------------------------------------------- task 2

#[test]
fn t2_a_single_write_is_durable_when_it_returns() {
    let (disk, log) = mem_log(Plan::default(), Config::default());
    assert_eq!(log.pending(), 0, "a new log has no pending writers");
    let lsn = write_now(&log, b"hello");
    assert!(matches!(lsn, Ok(Lsn(1))), "the first LSN is 1, got {lsn:?}");
    assert_eq!(
        disk.durable_records(),
        vec![(Lsn(1), b"hello".to_vec())],
        "write() may return only after the syncer has made its record durable"
    );
    assert_eq!(disk.sync_calls(), 1, "one write, one sync");
    assert_eq!(log.pending(), 0, "a released writer is no longer pending");
    let lsn = write_now(&log, b"again");
    assert!(
        matches!(lsn, Ok(Lsn(2))),
        "the second LSN is 2, got {lsn:?}"
    );
}

#[test]
fn t2_writers_that_arrive_during_a_sync_share_the_next_one() {
    const WRITERS: usize = 8;
    let (disk, log) = mem_log(
        Plan {
            hold_first: Some(Op::Sync),
            ..Plan::default()
        },
        Config::default(),
    );
    let payloads: Vec<_> = (0..WRITERS).map(|w| payload(w, 0)).collect();
    let results = first_alone_then_the_rest(&disk, &log, Op::Sync, payloads.clone());
    for (i, r) in results.iter().enumerate() {
        assert!(r.is_ok(), "writer {i} should succeed, got {r:?}");
    }
    let syncs = disk.sync_calls();
    assert!(
        syncs == 2,
        "{WRITERS} writes: the first one's sync was held while the other {} queued up, \
         so one more sync must cover all of them (2 syncs in all), but there were {syncs}. \
         Take every queued record into the next batch, not one at a time.",
        WRITERS - 1
    );
    assert_eq!(
        disk.write_calls(),
        2,
        "each batch should reach the sink in a single write: encode the whole \
         batch into one buffer and write it once"
    );
    assert_eq!(
        disk.records_per_sync(),
        vec![1, WRITERS - 1],
        "records per sync: the first writer alone, then everyone who queued during its sync"
    );
    let acked: Vec<_> = results
        .into_iter()
        .zip(payloads)
        .map(|(r, p)| (r.expect("checked above"), p))
        .collect();
    assert_file_order(&disk.durable_records(), &acked);
    assert_eq!(
        log.pending(),
        0,
        "every writer has been released, so none is pending"
    );
}

#[test]
fn t2_pending_counts_writers_until_they_are_released() {
    let (disk, log) = mem_log(
        Plan {
            hold_first: Some(Op::Sync),
            ..Plan::default()
        },
        Config::default(),
    );
    let first = spawn_write(&log, b"held".to_vec());
    disk.wait_until_held("the syncer");
    assert_eq!(
        log.pending(),
        1,
        "a writer whose batch is being synced is still pending"
    );
    disk.release();
    let result = result_of(&first, "the writer");
    assert!(
        matches!(result, Ok(Lsn(1))),
        "the only writer gets Ok(Lsn(1)) once its sync returns, got {result:?}"
    );
    wait_for("pending() is back to 0", || log.pending() == 0);
}

#[test]
fn t2_lsn_order_is_file_order_under_concurrency() {
    const THREADS: usize = 8;
    const WRITES: usize = 50;
    let (disk, log) = mem_log(Plan::default(), Config::default());
    let writer = Arc::clone(&log);
    let acked = concurrent_writes(THREADS, WRITES, move |p| {
        writer.write(p).map_err(|e| format!("write() failed: {e}"))
    });
    let records = disk.durable_records();
    assert_eq!(
        records.len(),
        THREADS * WRITES,
        "every write is in the file once"
    );
    assert_file_order(&records, &acked);
    assert_eq!(
        disk.records_per_sync().iter().sum::<usize>(),
        THREADS * WRITES,
        "every record is covered by exactly one sync"
    );
}

#[test]
fn t2_every_acknowledged_write_is_already_durable() {
    const THREADS: usize = 6;
    const WRITES: usize = 15;
    let (disk, log) = mem_log(
        Plan {
            sync_delay: Duration::from_millis(1),
            ..Plan::default()
        },
        Config::default(),
    );
    let (writer, probe) = (Arc::clone(&log), Arc::clone(&disk));
    concurrent_writes(THREADS, WRITES, move |p| {
        let lsn = writer
            .write(p)
            .map_err(|e| format!("write() failed: {e}"))?;
        if probe.durable_records().contains(&(lsn, p.to_vec())) {
            Ok(lsn)
        } else {
            Err(format!(
                "write() returned {lsn}, but the record was not durable yet: release a \
                 writer only after the sync of its batch returned"
            ))
        }
    });
}

#[test]
fn t2_a_real_file_gets_every_record_in_lsn_order() {
    const THREADS: usize = 4;
    const WRITES: usize = 10;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("wal.log");
    let file = create_on_disk(&path);
    let syncer = FileSyncer::new(&*file).expect("clone the file handle");
    let log = GroupCommit::new(file, syncer, Config::default()).expect("start the log");
    let log = Log(Some(Arc::new(log)));
    let writer = Arc::clone(&log);
    let acked = concurrent_writes(THREADS, WRITES, move |p| {
        writer.write(p).map_err(|e| format!("write() failed: {e}"))
    });
    let bytes = fs::read(&path).expect("read the log file");
    let records = decode_records(&bytes).expect("whole records");
    assert_eq!(
        records.len(),
        THREADS * WRITES,
        "every write returned Ok, so the file holds every record"
    );
    assert_file_order(&records, &acked);
}

// ---------------------------------------------------------------- task 3

#[test]
fn t3_a_failed_sync_fails_exactly_its_batch() {
    const WRITERS: usize = 5;
    let (disk, log) = mem_log(
        Plan {
            hold_first: Some(Op::Sync),
            fail_sync: Some(1),
            ..Plan::default()
        },
        Config::default(),
    );
    let payloads: Vec<_> = (0..WRITERS).map(|w| payload(w, 0)).collect();
    let results = first_alone_then_the_rest(&disk, &log, Op::Sync, payloads);
    match &results[0] {
        Err(e @ CommitError::Sync(_)) => assert!(
            io_message(e).contains("injected sync failure #1"),
            "the writer should get the syncer's own io::Error as the source, got {e:?}"
        ),
        other => panic!(
            "the first writer's batch failed to sync, so it must get Err(Sync(..)), got {other:?}"
        ),
    }
    for (i, r) in results.iter().enumerate().skip(1) {
        assert!(
            r.is_ok(),
            "writer {i} was in the next batch, whose sync succeeded, so it must get Ok; \
             got {r:?}. Did the failure leak into the next batch?"
        );
    }
    assert_eq!(disk.sync_calls(), 2, "two batches, two syncs");
    let more = write_now(&log, b"after");
    assert!(
        more.is_ok(),
        "the log keeps working after a failed sync, got {more:?}"
    );
}

#[test]
fn t3_a_failed_sync_reaches_every_writer_of_the_batch() {
    const WRITERS: usize = 5;
    // The first sync is held, then fails; the second sync fails too. So the
    // first writer's batch fails, and so does the batch of everyone else.
    let (disk, log) = mem_log(
        Plan {
            hold_first: Some(Op::Sync),
            fail_sync: Some(2),
            ..Plan::default()
        },
        Config::default(),
    );
    let payloads: Vec<_> = (0..WRITERS).map(|w| payload(w, 0)).collect();
    let results = first_alone_then_the_rest(&disk, &log, Op::Sync, payloads);
    assert!(
        results[0].is_ok(),
        "the first batch synced fine, got {:?}",
        results[0]
    );
    for (i, r) in results.iter().enumerate().skip(1) {
        match r {
            Err(e @ CommitError::Sync(_)) => assert!(
                io_message(e).contains("injected sync failure #2"),
                "writer {i} should get the io::Error of its own batch's sync, got {e:?}"
            ),
            other => panic!(
                "writer {i}'s batch failed to sync, so every writer in it must get \
                 Err(Sync(..)), got {other:?}"
            ),
        }
    }
    assert_eq!(
        disk.records_per_sync(),
        vec![1, WRITERS - 1],
        "records per sync: the first writer alone, then everyone who queued during its sync"
    );
}

#[test]
fn t3_a_failed_write_fails_exactly_its_batch() {
    const WRITERS: usize = 4;
    let (disk, log) = mem_log(
        Plan {
            hold_first: Some(Op::Write),
            fail_write: Some(1),
            ..Plan::default()
        },
        Config::default(),
    );
    let payloads: Vec<_> = (0..WRITERS).map(|w| payload(w, 0)).collect();
    let results = first_alone_then_the_rest(&disk, &log, Op::Write, payloads);
    match &results[0] {
        Err(e @ CommitError::Write(_)) => assert!(
            io_message(e).contains("injected write failure #1"),
            "the writer should get the sink's own io::Error as the source, got {e:?}"
        ),
        other => panic!(
            "the first batch could not be written, so its writer must get Err(Write(..)), \
             got {other:?}"
        ),
    }
    for (i, r) in results.iter().enumerate().skip(1) {
        assert!(
            r.is_ok(),
            "writer {i} was in the next batch, which was written and synced, so it must get \
             Ok; got {r:?}"
        );
    }
    assert_eq!(
        disk.sync_calls(),
        1,
        "a batch whose write failed must not be synced (and acknowledged)"
    );
    let lsns: Vec<Lsn> = disk.written_records().into_iter().map(|(l, _)| l).collect();
    let expected: Vec<Lsn> = (2..=WRITERS as u64).map(Lsn).collect();
    assert_eq!(
        lsns, expected,
        "the failed batch (LSN 1) never reached the file; the next batch did, in LSN order"
    );
}

// ---------------------------------------------------------------- task 4

#[test]
fn t4_batches_never_exceed_max_batch_records() {
    const WRITERS: usize = 11;
    let (disk, log) = mem_log(
        Plan {
            hold_first: Some(Op::Sync),
            ..Plan::default()
        },
        Config {
            max_batch_records: 4,
            ..Config::default()
        },
    );
    let payloads: Vec<_> = (0..WRITERS).map(|w| payload(w, 0)).collect();
    let results = first_alone_then_the_rest(&disk, &log, Op::Sync, payloads.clone());
    let acked: Vec<_> = results
        .into_iter()
        .zip(payloads)
        .map(|(r, p)| (r.expect("nothing fails here"), p))
        .collect();
    assert_eq!(
        disk.records_per_sync(),
        vec![1, 4, 4, 2],
        "with max_batch_records = 4, the 10 queued writers need batches of 4, 4 and 2"
    );
    assert_file_order(&disk.durable_records(), &acked);
}

#[test]
fn t4_batches_never_exceed_max_batch_bytes() {
    const WRITERS: usize = 7;
    const PAYLOAD: usize = 100;
    // Each record takes HEADER_LEN + 100 = 112 bytes: two fit in 250, three do not.
    let (disk, log) = mem_log(
        Plan {
            hold_first: Some(Op::Sync),
            ..Plan::default()
        },
        Config {
            max_batch_bytes: 250,
            ..Config::default()
        },
    );
    let payloads: Vec<_> = (0..WRITERS)
        .map(|w| vec![u8::try_from(w).expect("small"); PAYLOAD])
        .collect();
    let results = first_alone_then_the_rest(&disk, &log, Op::Sync, payloads);
    assert!(results.iter().all(Result::is_ok), "got {results:?}");
    let sizes = disk.lock().write_sizes.clone();
    assert!(
        sizes.iter().all(|&s| s <= 250),
        "no batch may be larger than max_batch_bytes = 250 bytes; the writes were {sizes:?} bytes"
    );
    assert_eq!(
        disk.records_per_sync(),
        vec![1, 2, 2, 2],
        "the 6 queued records of 112 bytes each fit two to a batch"
    );
}

#[test]
fn t4_a_record_larger_than_max_batch_bytes_is_committed_alone() {
    let (disk, log) = mem_log(
        Plan {
            hold_first: Some(Op::Sync),
            ..Plan::default()
        },
        Config {
            max_batch_bytes: 64,
            ..Config::default()
        },
    );
    let payloads = vec![b"first".to_vec(), vec![b'x'; 100], b"small".to_vec()];
    let results = first_alone_then_the_rest(&disk, &log, Op::Sync, payloads);
    assert!(
        results.iter().all(Result::is_ok),
        "a record larger than max_batch_bytes still has to be committed (alone); got {results:?}"
    );
    let per_sync = disk.records_per_sync();
    assert_eq!(
        per_sync.iter().sum::<usize>(),
        3,
        "three records, each synced once; records per sync: {per_sync:?}"
    );
    assert!(
        per_sync.iter().all(|&n| n >= 1),
        "no sync without a record, got {per_sync:?}"
    );
    let big = disk
        .lock()
        .write_sizes
        .iter()
        .position(|&s| s >= 100)
        .expect("the big record was written");
    assert_eq!(
        per_sync[big], 1,
        "the oversized record must go in a batch of its own, got batches {per_sync:?}"
    );
}

#[test]
fn t4_zero_limits_are_rejected() {
    for (config, what) in [
        (
            Config {
                max_batch_records: 0,
                ..Config::default()
            },
            "max_batch_records = 0",
        ),
        (
            Config {
                max_batch_bytes: 0,
                ..Config::default()
            },
            "max_batch_bytes = 0",
        ),
    ] {
        let (_disk, sink, syncer) = MemDisk::new(Plan::default());
        match GroupCommit::new(sink, syncer, config) {
            Err(CommitError::InvalidConfig(_)) => {}
            Err(other) => panic!("{what}: expected CommitError::InvalidConfig, got {other:?}"),
            Ok(log) => {
                // Dropping it would shut it down: not this test's business.
                std::mem::forget(log);
                panic!(
                    "{what} can never commit anything: GroupCommit::new must return \
                     Err(CommitError::InvalidConfig(..)), not a running log"
                );
            }
        }
    }
}

// ---------------------------------------------------------------- task 5

#[test]
fn t5_shutdown_commits_every_accepted_write() {
    const WRITERS: usize = 6;
    let (disk, log) = mem_log(
        Plan {
            hold_first: Some(Op::Sync),
            ..Plan::default()
        },
        Config::default(),
    );
    // Line up the writers behind a held sync, as in task 2, but do not
    // release the gate yet.
    let first = spawn_write(&log, payload(0, 0));
    disk.wait_until_held("the syncer");
    let rest: Vec<_> = (1..WRITERS)
        .map(|w| spawn_write(&log, payload(w, 0)))
        .collect();
    wait_for(&format!("pending() is {WRITERS}"), || {
        log.pending() == WRITERS
    });

    // Shut down while they all wait.
    let (done_tx, done_rx) = mpsc::channel();
    {
        let log = Arc::clone(&log);
        thread::spawn(move || {
            log.shutdown();
            let _ = done_tx.send(());
        });
    }
    wait_for("is_closed() is true after shutdown() was called", || {
        log.is_closed()
    });
    let late = write_now(&log, b"too late");
    assert!(
        matches!(late, Err(CommitError::Closed)),
        "a write after shutdown() began must fail with Closed at once, got {late:?}"
    );
    disk.release();

    let result = result_of(&first, "the first writer");
    assert!(
        matches!(result, Ok(Lsn(1))),
        "the first writer was accepted before shutdown: expected Ok(Lsn(1)), got {result:?}"
    );
    for (i, rx) in rest.iter().enumerate() {
        let r = result_of(rx, &format!("writer {}", i + 1));
        assert!(
            r.is_ok(),
            "writer {} was accepted before shutdown, so shutdown must commit it, got {r:?}",
            i + 1
        );
    }
    assert!(
        done_rx.recv_timeout(DEADLINE).is_ok(),
        "shutdown() never returned"
    );
    let durable = disk.durable_records();
    assert_eq!(
        durable.len(),
        WRITERS,
        "every accepted record is durable after shutdown, and the rejected one is not there"
    );
    assert_eq!(
        log.pending(),
        0,
        "after shutdown every accepted writer has been released"
    );
}

#[test]
fn t5_writes_after_shutdown_fail_and_shutdown_is_idempotent() {
    let (disk, log) = mem_log(Plan::default(), Config::default());
    assert!(!log.is_closed(), "a new log is open");
    let before = write_now(&log, b"before");
    assert!(
        matches!(before, Ok(Lsn(1))),
        "a write before shutdown: expected Ok(Lsn(1)), got {before:?}"
    );
    shutdown_now(&log);
    assert!(
        log.is_closed(),
        "is_closed() is true once shutdown() has returned"
    );
    let after = write_now(&log, b"after");
    assert!(
        matches!(after, Err(CommitError::Closed)),
        "write() after shutdown() must be Err(Closed), got {after:?}"
    );
    shutdown_now(&log);
    assert_eq!(
        disk.written_records(),
        vec![(Lsn(1), b"before".to_vec())],
        "a rejected write must not reach the file"
    );
}

#[test]
fn t5_shutdown_stops_the_committer() {
    let (disk, log) = mem_log(Plan::default(), Config::default());
    let one = write_now(&log, b"one");
    assert!(
        one.is_ok(),
        "a write to a working log succeeds, got {one:?}"
    );
    let (done_tx, done_rx) = mpsc::channel();
    {
        let log = Arc::clone(&log);
        thread::spawn(move || {
            log.shutdown();
            let _ = done_tx.send(());
        });
    }
    assert!(
        done_rx.recv_timeout(DEADLINE).is_ok(),
        "shutdown() of an idle log never returned: does the committer wake up and exit?"
    );
    assert!(
        disk.lock().sink_dropped,
        "after shutdown() returns, the committer thread must have exited (and dropped \
         the sink): join it"
    );
}

#[test]
fn t5_dropping_the_log_shuts_it_down() {
    let (disk, sink, syncer) = MemDisk::new(Plan::default());
    let log = Arc::new(GroupCommit::new(sink, syncer, Config::default()).expect("start the log"));
    let one = write_now(&log, b"one");
    assert!(
        one.is_ok(),
        "a write to a working log succeeds, got {one:?}"
    );
    // write_now's clone may still be on its way out; wait for it.
    wait_for("write_now has dropped its clone of the log", || {
        Arc::strong_count(&log) == 1
    });
    let log = Arc::into_inner(log).expect("the only reference");
    within_deadline("dropping the log", move || drop(log));
    assert!(
        disk.lock().sink_dropped,
        "dropping the log must shut it down: when drop returns, the committer thread \
         has exited (and dropped the sink)"
    );
}

#[test]
fn t5_the_last_clone_to_go_shuts_the_log_down() {
    let (disk, log) = mem_log(
        Plan {
            sync_delay: Duration::from_millis(1),
            ..Plan::default()
        },
        Config::default(),
    );
    let writers: Vec<_> = (0..4).map(|w| spawn_write(&log, payload(w, 0))).collect();
    // The writer threads still hold clones of the Arc: the log lives on
    // until the last of them is dropped.
    drop(log);
    for (i, rx) in writers.iter().enumerate() {
        assert!(
            result_of(rx, &format!("writer {i}")).is_ok(),
            "writer {i} holds a clone of the log, so its write must succeed"
        );
    }
    wait_for(
        "the last Arc<GroupCommit> is dropped and the committer has exited",
        || disk.lock().sink_dropped,
    );
    assert_eq!(
        disk.durable_records().len(),
        4,
        "four acknowledged writes, four durable records"
    );
}
