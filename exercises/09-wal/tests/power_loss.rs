//! Power-loss tests for lesson 09, graded under tasks 2, 3 and 5.
//!
//! A `kill -9` cannot show a missing sync: the page cache outlives the
//! process, so a log that never syncs survives it. These tests run the log on
//! [`SimFs`], a simulated disk that keeps what was synced apart from what was
//! only written, and cut the power after every single operation of a
//! workload in turn. After each cut, what the disk still holds is checked
//! against what the log had acknowledged:
//!
//! - `t2_power_loss_`: every record acknowledged by `sync` (or by `open`,
//!   which syncs what it finds) is on the disk, intact, after any cut;
//! - `t3_power_loss_`: recovery on the crashed disk keeps every acknowledged
//!   record and nothing else, gives the same answer twice, makes its cut
//!   durable, and appending afterwards works; also with torn writes;
//! - `t5_`: the background syncer makes the shared log durable, and waits
//!   for a log that another thread holds instead of skipping the sync.
//!
//! When a check fails, the panic message tells the story of the power cut:
//! the operations around it, what was durable, what was lost, and the call
//! that is probably missing.
//!
//! `WAL_POWER_SEEDS` (default 4) sets how many torn variants of each cut the
//! recovery test tries.

use std::io::ErrorKind;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use simfs::{CrashStory, Fs, SimFs};
mod common;

use common::{env_number, records};
use wal::{BackgroundSyncer, Decoded, Wal, WalError, decode, encoded_len, read_log_on, recover_on};

const DIR: &str = "/db";
const LOG: &str = "/db/wal.log";
/// How long a test waits for the syncer thread before it gives up.
const DEADLINE: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------- task 2

#[test]
fn t2_power_loss_keeps_every_synced_record() {
    let payloads = payloads();
    let total = uncut_ops(&payloads);
    for cut in 0..=total {
        let (fs, acks) = run_until_cut(&payloads, cut);
        let crashed = fs.crash();
        let bytes = match crashed.read(Path::new(LOG)) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == ErrorKind::NotFound => Vec::new(),
            Err(e) => panic!("reading the crashed disk failed: {e}"),
        };
        let intact = intact_prefix(&bytes, &payloads).unwrap_or_else(|why| {
            panic!("power cut after op {cut} of {total}: the durable log {why}")
        });
        if let Some((lsn, acked_at)) = first_lost(&acks, intact) {
            panic!(
                "{}(the durable log holds {intact} intact records)",
                CrashStory::new(&fs)
                    .of(total)
                    .lost(format!("LSN {lsn}"), LOG, acked_at)
                    .render()
            );
        }
    }
}

// ---------------------------------------------------------------- task 3

#[test]
fn t3_power_loss_recovery_keeps_every_acknowledged_record() {
    let payloads = payloads();
    let total = uncut_ops(&payloads);
    let seeds = env_number("WAL_POWER_SEEDS", 4);
    for cut in 0..=total {
        let (fs, acks) = run_until_cut(&payloads, cut);
        let variants = std::iter::once(("only what was synced".to_owned(), fs.crash())).chain(
            (0..seeds).map(|seed| (format!("torn writes, seed {seed}"), fs.crash_torn(seed))),
        );
        for (variant, crashed) in variants {
            let context = format!("power cut after op {cut} of {total} ({variant})");
            check_recovery(&fs, &crashed, &payloads, &acks, total, &context);
        }
    }
}

/// Recovers `crashed`, checks it against what was acknowledged, then checks
/// that recovery is repeatable and durable and that appending works.
fn check_recovery(
    fs: &SimFs,
    crashed: &SimFs,
    payloads: &[Vec<u8>],
    acks: &[(u64, u64)],
    total: u64,
    context: &str,
) {
    let path = Path::new(LOG);
    let found = recover_on(crashed, path).unwrap_or_else(|e| {
        panic!("{context}: recovery failed with `{e}`; a power cut leaves at most a torn tail, which recovery must cut off")
    });
    let expected = records(&payloads[..found.records.len().min(payloads.len())]);
    assert_eq!(
        found.records, expected,
        "{context}: recovery must return records exactly as they were appended"
    );
    if let Some((lsn, acked_at)) = first_lost(acks, found.records.len() as u64) {
        panic!(
            "{}({context}: recovery returned {} records)",
            CrashStory::new(fs)
                .of(total)
                .lost(format!("LSN {lsn}"), LOG, acked_at)
                .render(),
            found.records.len()
        );
    }
    let again = recover_on(crashed, path)
        .unwrap_or_else(|e| panic!("{context}: a second recovery failed with `{e}`"));
    assert_eq!(
        (&again.records, again.torn_at),
        (&found.records, None),
        "{context}: recovering twice must give the same records, with no torn tail left the second time"
    );
    let after_second_cut = crashed.crash();
    let durable = read_log_on(&after_second_cut, path)
        .unwrap_or_else(|e| panic!("{context}, then recovery and another power cut: {e}"));
    assert_eq!(
        (durable.records.len(), durable.torn_at),
        (found.records.len(), None),
        "{context}: recovery cut the torn tail off, but after another power cut it was back: the cut must be synced before recover returns"
    );
    let mut wal = Wal::open_on(&after_second_cut, path)
        .unwrap_or_else(|e| panic!("{context}: opening the recovered log failed: {e}"));
    let lsn = wal
        .append(b"after recovery")
        .and_then(|lsn| wal.sync().map(|()| lsn))
        .unwrap_or_else(|e| panic!("{context}: appending after recovery failed: {e}"));
    assert_eq!(
        lsn,
        found.records.len() as u64 + 1,
        "{context}: the first append after recovery continues the LSNs"
    );
    let last = read_log_on(&after_second_cut.crash(), path)
        .unwrap_or_else(|e| panic!("{context}: reading the log after appending: {e}"));
    assert_eq!(
        last.records
            .last()
            .map(|r| (r.lsn, String::from_utf8_lossy(&r.payload).into_owned())),
        Some((lsn, "after recovery".to_owned())),
        "{context}: a record appended and synced after recovery must survive the next power cut"
    );
}

// ---------------------------------------------------------------- task 5

#[test]
fn t5_power_loss_after_shutdown_loses_nothing() {
    let fs = SimFs::with_dirs(&[DIR]).expect("a simulated disk");
    let wal = Arc::new(Mutex::new(Wal::open_on(&fs, LOG).expect("open the log")));
    let (ticks_tx, ticks) = crossbeam_channel::bounded(0);
    let syncer = BackgroundSyncer::spawn(wal.clone(), ticks).expect("start the syncer");
    for (i, payload) in payloads().iter().enumerate() {
        wal.lock()
            .expect("lock the log")
            .append(payload)
            .expect("append");
        if i % 3 == 2 {
            ticks_tx
                .send(Instant::now())
                .expect("the syncer takes a tick");
        }
    }
    drop(ticks_tx);
    syncer.shutdown().expect("shutdown reports no error");
    let acked_at = fs.op_count();
    let durable = read_log_on(&fs.crash(), Path::new(LOG)).expect("read the crashed log");
    let appended = payloads().len() as u64;
    if (durable.records.len() as u64) < appended {
        panic!(
            "{}(shutdown returned Ok, so every record appended before it must be durable)",
            CrashStory::new(&fs)
                .lost(format!("LSN {}", durable.records.len() + 1), LOG, acked_at)
                .render()
        );
    }
}

#[test]
fn t5_a_tick_waits_for_a_log_another_thread_holds() {
    let fs = SimFs::with_dirs(&[DIR]).expect("a simulated disk");
    let wal = Arc::new(Mutex::new(Wal::open_on(&fs, LOG).expect("open the log")));
    // A rendezvous channel: a send returns only once the syncer has taken
    // the tick.
    let (ticks_tx, ticks) = crossbeam_channel::bounded(0);
    let syncer = BackgroundSyncer::spawn(wal.clone(), ticks).expect("start the syncer");
    let mut held = wal.lock().expect("lock the log");
    held.append(b"appended while the log is held")
        .expect("append");
    ticks_tx
        .send(Instant::now())
        .expect("the syncer takes the first tick");
    // While this thread holds the log, a syncer that waits for it is stuck in
    // the first sync and cannot take a second tick.
    let second = ticks_tx.send_timeout(Instant::now(), Duration::from_secs(1));
    assert!(
        second.is_err(),
        "the syncer took a second tick while another thread held the log: it skipped the first \
         sync instead of waiting for the lock (a try_lock that gives up returns Ok without syncing)"
    );
    drop(held);
    let start = Instant::now();
    while fs
        .durable_contents(Path::new(LOG))
        .is_none_or(|b| b.is_empty())
    {
        assert!(
            start.elapsed() < DEADLINE,
            "the log was released {DEADLINE:?} ago and the tick's sync has still not made the record durable"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    drop(ticks_tx);
    syncer.shutdown().expect("shutdown reports no error");
}

// ---------------------------------------------------------------- helpers

/// The workload's payloads. Most are small and wait in the write buffer
/// until a sync; one is larger than the buffer, so its bytes reach the file
/// while it is appended.
fn payloads() -> Vec<Vec<u8>> {
    [10usize, 700, 3, 9000, 40, 1500, 0, 64, 300, 5]
        .iter()
        .enumerate()
        .map(|(i, &len)| (0..len).map(|j| (i * 31 + j * 7) as u8).collect())
        .collect()
}

/// The workload. It appends and syncs, closes the log, reopens it, appends
/// more, then drops it without closing (a process that died, with records
/// written but not synced), reopens it again and appends more. It records
/// `(lsn, op)` each time the log promised that every record up to `lsn` is
/// durable: when `sync` or `close` returned, and when `open` returned.
fn workload(fs: &SimFs, payloads: &[Vec<u8>], acks: &mut Vec<(u64, u64)>) -> Result<(), WalError> {
    let path = Path::new(LOG);
    let mut ack = |lsn: u64| acks.push((lsn, fs.op_count()));
    let mut wal = Wal::open_on(fs, path)?;
    for (i, payload) in payloads[..4].iter().enumerate() {
        wal.append(payload)?;
        if i % 2 == 1 {
            wal.sync()?;
            ack(wal.synced_lsn());
        }
    }
    wal.append(&payloads[4])?;
    let last = wal.last_lsn();
    wal.close()?;
    ack(last);

    let mut wal = Wal::open_on(fs, path)?;
    ack(wal.synced_lsn());
    wal.append(&payloads[5])?;
    wal.append(&payloads[6])?;
    wal.sync()?;
    ack(wal.synced_lsn());
    wal.append(&payloads[7])?;
    // Dropped without close: the buffer reaches the file, unsynced.
    drop(wal);

    let mut wal = Wal::open_on(fs, path)?;
    ack(wal.synced_lsn());
    wal.append(&payloads[8])?;
    wal.append(&payloads[9])?;
    wal.sync()?;
    ack(wal.synced_lsn());
    Ok(())
}

/// Runs the workload on a fresh disk whose power is cut after op `cut`, and
/// returns the disk and what was acknowledged before the cut.
fn run_until_cut(payloads: &[Vec<u8>], cut: u64) -> (SimFs, Vec<(u64, u64)>) {
    let fs = SimFs::with_dirs(&[DIR]).expect("a simulated disk");
    fs.cut_power_after(cut);
    let mut acks = Vec::new();
    // Once the power is cut every call fails; code that panics on an I/O
    // error stops the workload just the same.
    let _ = catch_unwind(AssertUnwindSafe(|| workload(&fs, payloads, &mut acks)));
    (fs, acks)
}

/// How many operations the workload makes when the power stays on. It must
/// finish without an error.
fn uncut_ops(payloads: &[Vec<u8>]) -> u64 {
    let fs = SimFs::with_dirs(&[DIR]).expect("a simulated disk");
    let mut acks = Vec::new();
    workload(&fs, payloads, &mut acks).expect("the workload runs on a disk that never fails");
    assert_eq!(
        acks.last().map(|a| a.0),
        Some(payloads.len() as u64),
        "the workload's last sync covers all {} records",
        payloads.len()
    );
    fs.op_count()
}

/// The first LSN that was acknowledged but is not among the first `kept`
/// records, with the op at which it was acknowledged.
fn first_lost(acks: &[(u64, u64)], kept: u64) -> Option<(u64, u64)> {
    acks.iter()
        .find(|(lsn, _)| *lsn > kept)
        .map(|(_, op)| (kept + 1, *op))
}

/// How many records at the start of `bytes` are intact and are the workload's
/// records in order; what follows them may be a torn tail. An intact record
/// with other contents is an error.
fn intact_prefix(bytes: &[u8], payloads: &[Vec<u8>]) -> Result<u64, String> {
    let mut offset = 0;
    let mut count = 0u64;
    while let Decoded::Record { lsn, payload } = decode(&bytes[offset..]) {
        let expected = payloads.get(count as usize);
        if lsn != count + 1 || expected.map(Vec::as_slice) != Some(payload) {
            return Err(format!(
                "holds a record with LSN {lsn} at byte {offset} that is not record {} as appended",
                count + 1
            ));
        }
        offset += encoded_len(payload.len());
        count += 1;
    }
    Ok(count)
}
