//! Loom models for lesson 10 (group commit), run by the loom stage:
//!
//! ```sh
//! cargo run -p checker -- verify 10-group-commit --stage loom
//! ```
//!
//! - `t1_loom_` grades task 1: two writers of `SyncPerWrite` put their
//!   records in the file in LSN order.
//! - `t2_loom_` grades task 2: the hand-off from two writers to the committer
//!   and back. Both are released, each exactly once, with its own LSN, and
//!   only after its record is durable.
//! - `t3_loom_` grades task 3: a failed sync reaches exactly the writers whose
//!   records it covered.
//! - `t5_loom_` grades task 5: shutdown racing a write never strands the
//!   writer, never loses a record it acknowledged, and returns only once the
//!   committer has exited.
//!
//! loom runs each closure once for every interleaving of its threads that
//! matters, so a wake-up that is lost in one interleaving out of thousands
//! still fails (loom reports a deadlock). Each model has at most 3 threads:
//! the main one, the committer your `GroupCommit::new` starts, and one more.
//!
//! A loom model ends only when all its threads have, so every model calls
//! `shutdown()` at the end: these models pass once task 5 works too.
//!
//! The "disk" here is in memory and uses loom's `Mutex` (a `std` lock
//! inside a loom model can hang it). loom models no I/O and no time.

#![cfg(loom)]

use std::io::{self, Write};

use loom::sync::{Arc, Mutex};
use loom::thread;

use group_commit::{CommitError, Config, GroupCommit, Lsn, SyncPerWrite, Syncer, decode_records};

#[derive(Default)]
struct Disk {
    written: Vec<u8>,
    durable: Vec<u8>,
    /// The LSNs each sync call covered, and whether it succeeded.
    syncs: Vec<(Vec<Lsn>, bool)>,
    /// How many records the syncs so far have covered.
    covered: usize,
    /// How many of the sink and syncer handed to a log have been dropped.
    log_handles_dropped: usize,
}

/// An in-memory disk; the first sync fails if `fail_first_sync`.
#[derive(Clone)]
struct LoomDisk {
    disk: Arc<Mutex<Disk>>,
    fail_first_sync: bool,
    /// This handle is a log's sink or syncer: its drop is counted.
    owned_by_log: bool,
}

impl LoomDisk {
    fn new(fail_first_sync: bool) -> Self {
        Self {
            disk: Arc::new(Mutex::new(Disk::default())),
            fail_first_sync,
            owned_by_log: false,
        }
    }

    /// A handle to give a log, as its sink or its syncer.
    fn for_log(&self) -> Self {
        let mut handle = self.clone();
        handle.owned_by_log = true;
        handle
    }

    fn start(&self) -> Arc<GroupCommit> {
        let log = GroupCommit::new(self.for_log(), self.for_log(), Config::default())
            .expect("the log starts");
        Arc::new(log)
    }

    fn log_handles_dropped(&self) -> usize {
        self.disk.lock().expect("disk lock").log_handles_dropped
    }

    fn durable(&self) -> Vec<(Lsn, Vec<u8>)> {
        let disk = self.disk.lock().expect("disk lock");
        decode_records(&disk.durable).expect("whole records")
    }

    fn written(&self) -> Vec<(Lsn, Vec<u8>)> {
        let disk = self.disk.lock().expect("disk lock");
        decode_records(&disk.written).expect("whole records")
    }

    fn syncs(&self) -> Vec<(Vec<Lsn>, bool)> {
        self.disk.lock().expect("disk lock").syncs.clone()
    }
}

impl Drop for LoomDisk {
    fn drop(&mut self) {
        if self.owned_by_log {
            if let Ok(mut disk) = self.disk.lock() {
                disk.log_handles_dropped += 1;
            }
        }
    }
}

impl Write for LoomDisk {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.disk
            .lock()
            .expect("disk lock")
            .written
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Syncer for LoomDisk {
    fn sync(&mut self) -> io::Result<()> {
        let mut disk = self.disk.lock().expect("disk lock");
        let records = decode_records(&disk.written).expect("whole records");
        let lsns: Vec<Lsn> = records[disk.covered..].iter().map(|(l, _)| *l).collect();
        disk.covered = records.len();
        let fail = self.fail_first_sync && disk.syncs.is_empty();
        disk.syncs.push((lsns, !fail));
        if fail {
            return Err(io::Error::other("injected sync failure"));
        }
        disk.durable = disk.written.clone();
        Ok(())
    }
}

#[test]
fn t1_loom_sync_per_write_writes_in_lsn_order() {
    loom::model(|| {
        let disk = LoomDisk::new(false);
        let log = Arc::new(SyncPerWrite::new(disk.for_log(), disk.for_log()));
        let other = {
            let log = Arc::clone(&log);
            thread::spawn(move || log.write(b"b").expect("the disk works"))
        };
        let a = log.write(b"a").expect("the disk works");
        let b = other.join().expect("the other writer panicked");
        let mut lsns = [a, b];
        lsns.sort();
        assert_eq!(lsns, [Lsn(1), Lsn(2)], "two writes get LSN 1 and LSN 2");
        let written: Vec<Lsn> = disk.written().into_iter().map(|(l, _)| l).collect();
        assert_eq!(
            written,
            [Lsn(1), Lsn(2)],
            "two writers: the file must hold LSN 1 and then LSN 2, but it holds {written:?}. \
             Take the LSN and write the record under the same lock, or another writer can \
             write its later LSN in between"
        );
    });
}

#[test]
fn t2_loom_two_writers_are_released_with_durable_records() {
    loom::model(|| {
        let disk = LoomDisk::new(false);
        let log = disk.start();
        let other = {
            let log = Arc::clone(&log);
            let disk = disk.clone();
            thread::spawn(move || {
                let lsn = log.write(b"b").expect("the disk works");
                assert!(
                    disk.durable().contains(&(lsn, b"b".to_vec())),
                    "write() returned before its record was durable"
                );
                lsn
            })
        };
        let a = log.write(b"a").expect("the disk works");
        assert!(
            disk.durable().contains(&(a, b"a".to_vec())),
            "write() returned before its record was durable"
        );
        let b = other.join().expect("the other writer panicked");
        let mut lsns = [a, b];
        lsns.sort();
        assert_eq!(lsns, [Lsn(1), Lsn(2)], "two writes get LSN 1 and LSN 2");
        log.shutdown();
        let written: Vec<Lsn> = disk.written().into_iter().map(|(l, _)| l).collect();
        assert_eq!(
            written,
            [Lsn(1), Lsn(2)],
            "each record is written once, in LSN order"
        );
    });
}

#[test]
fn t3_loom_a_failed_sync_reaches_exactly_its_batch() {
    loom::model(|| {
        let disk = LoomDisk::new(true);
        let log = disk.start();
        let other = {
            let log = Arc::clone(&log);
            thread::spawn(move || (b"b".to_vec(), log.write(b"b")))
        };
        let a = (b"a".to_vec(), log.write(b"a"));
        let b = other.join().expect("the other writer panicked");
        log.shutdown();

        let syncs = disk.syncs();
        let failed: &[Lsn] = syncs.first().map_or(&[], |(lsns, _)| lsns.as_slice());
        let written = disk.written();
        for (payload, result) in [a, b] {
            let lsn = written
                .iter()
                .find(|(_, p)| *p == payload)
                .map(|(l, _)| *l)
                .expect("every accepted record is written");
            match result {
                Err(CommitError::Sync(_)) => assert!(
                    failed.contains(&lsn),
                    "{lsn} got the sync error, but it was not in the batch whose sync failed \
                     (that batch held {failed:?})"
                ),
                Ok(got) => {
                    assert_eq!(
                        got, lsn,
                        "write() returned {got}, but its record went into the file as {lsn}"
                    );
                    assert!(
                        !failed.contains(&lsn),
                        "{lsn} was in the batch whose sync failed, but write() returned Ok"
                    );
                }
                Err(other) => panic!("unexpected error for {lsn}: {other:?}"),
            }
        }
    });
}

#[test]
fn t5_loom_shutdown_racing_a_write_strands_no_one() {
    loom::model(|| {
        let disk = LoomDisk::new(false);
        let log = disk.start();
        let writer = {
            let log = Arc::clone(&log);
            thread::spawn(move || log.write(b"w"))
        };
        log.shutdown();
        assert_eq!(
            disk.log_handles_dropped(),
            2,
            "shutdown() returned while the committer thread still held the sink and the \
             syncer: it must join the committer, so that nothing runs after it returns"
        );
        let result = writer.join().expect("the writer panicked");
        let durable = disk.durable();
        match result {
            Ok(lsn) => assert_eq!(
                durable,
                vec![(lsn, b"w".to_vec())],
                "an acknowledged write must be durable after shutdown"
            ),
            Err(CommitError::Closed) => assert!(
                disk.written().is_empty(),
                "a write rejected with Closed must not reach the file"
            ),
            Err(other) => panic!("unexpected error: {other:?}"),
        }
    });
}
