//! Power-loss tests for lesson 10, graded under tasks 1 and 2.
//!
//! The log writes to a file on [`SimFs`], a simulated disk that keeps what
//! was synced apart from what was only written, through the same
//! [`FileSyncer`] that syncs a real file. The power is cut after each
//! operation of a workload in turn; then every write that had returned
//! `Ok` must be on the crashed disk. A log that acknowledges a batch before
//! its sync has returned fails here, with the story of the cut.

#![cfg(not(loom))]

use std::path::Path;
use std::sync::Mutex;
use std::thread;

use group_commit::{
    CommitError, Config, FileSyncer, GroupCommit, Lsn, SyncPerWrite, decode_records,
};
use simfs::{CrashStory, Fs, OpenOptions, SimFs};

const DIR: &str = "/db";
const LOG: &str = "/db/wal.log";
const THREADS: usize = 4;
const WRITES: usize = 5;

// ---------------------------------------------------------------- task 1

#[test]
fn t1_power_loss_keeps_every_write_of_sync_per_write() {
    let workload = |fs: &SimFs, acks: &Mutex<Vec<(u64, u64)>>| -> Result<(), CommitError> {
        let (sink, syncer) = open_log(fs);
        let log = SyncPerWrite::new(sink, syncer);
        for i in 0..6 {
            let Lsn(lsn) = log.write(&payload(0, i))?;
            acks.lock().expect("acks").push((lsn, fs.op_count()));
        }
        Ok(())
    };
    check_every_cut("SyncPerWrite", |fs, acks| {
        let _ = workload(fs, acks);
    });
}

// ---------------------------------------------------------------- task 2

#[test]
fn t2_power_loss_keeps_every_acknowledged_write() {
    check_every_cut("GroupCommit", |fs, acks| {
        let (sink, syncer) = open_log(fs);
        let log = GroupCommit::new(sink, syncer, Config::default()).expect("start the log");
        thread::scope(|scope| {
            for writer in 0..THREADS {
                let log = &log;
                scope.spawn(move || {
                    for i in 0..WRITES {
                        match log.write(&payload(writer, i)) {
                            Ok(Lsn(lsn)) => acks.lock().expect("acks").push((lsn, fs.op_count())),
                            Err(_) => return,
                        }
                    }
                });
            }
        });
        log.shutdown();
    });
}

// ---------------------------------------------------------------- helpers

/// Runs `workload` once with the power on to count its operations, then once
/// for every cut after op 0, 1, 2, ..., and checks after each that every
/// acknowledged LSN is durable. The writers' order can differ between runs,
/// so a few cuts past the first run's count are tried too.
fn check_every_cut(what: &str, workload: impl Fn(&SimFs, &Mutex<Vec<(u64, u64)>>)) {
    let total = {
        let fs = fresh_disk();
        let acks = Mutex::new(Vec::new());
        workload(&fs, &acks);
        assert!(
            !acks.lock().expect("acks").is_empty(),
            "{what}: no write returned Ok on a disk that never fails"
        );
        fs.op_count()
    };
    for cut in 0..=total + 2 {
        let fs = fresh_disk();
        fs.cut_power_after(cut);
        let acks = Mutex::new(Vec::new());
        workload(&fs, &acks);
        let bytes = fs
            .crash()
            .read(Path::new(LOG))
            .expect("the log file exists");
        let durable = decode_records(&bytes).unwrap_or_else(|e| {
            panic!("{what}, power cut after op {cut}: the durable log is not whole records: {e}")
        });
        let durable: Vec<u64> = durable.iter().map(|(Lsn(lsn), _)| *lsn).collect();
        let acks = acks.into_inner().expect("acks");
        if let Some(&(lsn, acked_at)) = acks.iter().find(|(lsn, _)| !durable.contains(lsn)) {
            panic!(
                "{}({what}: write() returned Ok(Lsn({lsn})), but after the power cut the log holds LSNs {durable:?})",
                CrashStory::new(&fs)
                    .of(total)
                    .lost(format!("LSN {lsn}"), LOG, acked_at)
                    .render()
            );
        }
    }
}

/// A disk with the log's directory and an empty log file, both durable.
fn fresh_disk() -> SimFs {
    let fs = SimFs::with_dirs(&[DIR]).expect("a simulated disk");
    fs.put_durable(Path::new(LOG), b"")
        .expect("an empty log file");
    fs
}

/// The log file opened for appending, and a [`FileSyncer`] for it.
fn open_log(fs: &SimFs) -> (Box<dyn simfs::FsFile>, FileSyncer) {
    let sink = fs
        .open(Path::new(LOG), OpenOptions::new().append(true))
        .expect("open the log file");
    let syncer = FileSyncer::new(&*sink).expect("clone the file handle");
    (sink, syncer)
}

fn payload(writer: usize, i: usize) -> Vec<u8> {
    format!("writer {writer} record {i} {}", "x".repeat(50 * i)).into_bytes()
}
