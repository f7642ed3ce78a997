//! Graded tests for lesson 11 (a thread-safe LSM store): the parts, one by
//! one. The whole store is tested in `tests/db.rs`, crashes in
//! `tests/crash.rs`, and the flush trigger under loom in `tests/loom.rs`.
//!
//! - `t1_` grades task 1: the memtable.
//! - `t2_` grades task 2: the WAL (`Wal`, `read_wal`, `replay_wals`).
//! - `t3_` grades task 3: `MemTables::apply`/`freeze`/`remove_frozen`, and
//!   the `Flusher`.
//! - `t4_` grades task 4: the SSTable (`write_table`, `Table`).
//! - `t5_` grades task 5: the read path (`lookup`, `MergeIter`, `scan`).
//! - `t6_` grades task 6: compaction (`plan`, `compact`).
//! - `t7_` grades task 7: the manifest and the lock file.
//! - `t8_` grades task 8: the single writer (`SingleWriter`), with a fake
//!   store.
//!
//! The proptest model tests run `ENGINE_PROPTEST_CASES` cases (default 64).
//! A failing case is shrunk, and proptest prints the smallest sequence of
//! operations that still fails.
//!
//! No test measures time. Where a test waits for another thread, it waits
//! with a deadline and then fails, so a wrong implementation fails instead
//! of hanging.

#![cfg(not(loom))]

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::ops::Bound;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Barrier, Condvar, Mutex};
use std::thread;
use std::time::Duration;

use common::{key, memory_tempdir, table_from, value};
use engine::{
    Batch, DbError, DirLock, ENTRY_OVERHEAD, Entry, FOOTER_LEN, Flusher, Frozen, KeyRange,
    MANIFEST_FILE, MANIFEST_TMP, Manifest, MemTables, Memtable, MergeIter, Op, Request,
    SingleWriter, Source, TABLE_MAGIC, TOMBSTONE_LEN, Table, TableMeta, TableRecord, Wal,
    WalContents, WriteTarget, compact, encode_batch, encode_frame, entry_size, lookup, plan,
    read_wal, replay_wals, scan, wal_path, write_table,
};
use proptest::prelude::*;
use simfs::RealFs;

/// How long a test waits for another thread before it gives up.
const DEADLINE: Duration = Duration::from_secs(10);

fn proptest_config() -> ProptestConfig {
    ProptestConfig {
        cases: common::env_number("ENGINE_PROPTEST_CASES", 64) as u32,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn batch_of(ops: &[(&str, Option<&str>)]) -> Batch {
    let mut batch = Batch::new();
    for (k, v) in ops {
        match v {
            Some(v) => batch.put(k, v),
            None => batch.delete(k),
        };
    }
    batch
}

fn val(v: &str) -> Entry {
    Entry::Value(v.as_bytes().to_vec())
}

fn full() -> KeyRange {
    (Bound::Unbounded, Bound::Unbounded)
}

// ================================================================ task 1

#[test]
fn t1_put_get_overwrite_and_delete_leaves_a_tombstone() {
    let mut m = Memtable::new();
    assert!(m.is_empty(), "a new memtable is empty");
    m.put(b"b", b"1");
    m.put(b"a", b"2");
    assert_eq!(m.get(b"a"), Some(&val("2")), "get returns what put stored");
    assert_eq!(m.get(b"c"), None, "a key never written is unknown: None");
    m.put(b"a", b"3");
    assert_eq!(
        m.get(b"a"),
        Some(&val("3")),
        "a second put replaces the value"
    );
    m.delete(b"b");
    assert_eq!(
        m.get(b"b"),
        Some(&Entry::Tombstone),
        "delete must store a tombstone, not remove the key: an older SSTable may still hold \
         the key, and only the tombstone hides it"
    );
    m.delete(b"never-written");
    assert_eq!(
        m.get(b"never-written"),
        Some(&Entry::Tombstone),
        "deleting an unknown key stores a tombstone too: the memtable cannot know what the \
         SSTables hold"
    );
    assert_eq!(m.len(), 3, "a, b and never-written, tombstones included");
    assert!(
        !m.is_empty(),
        "a memtable holding 3 entries (tombstones included) is not empty"
    );
}

#[test]
fn t1_approx_bytes_counts_keys_values_and_overhead() {
    let mut m = Memtable::new();
    assert_eq!(
        m.approx_bytes(),
        0,
        "a new memtable holds no bytes: approx_bytes must be 0"
    );
    m.put(b"key", b"value");
    assert_eq!(
        m.approx_bytes(),
        3 + 5 + ENTRY_OVERHEAD,
        "one entry counts key length + value length + ENTRY_OVERHEAD"
    );
    m.put(b"key", b"v");
    assert_eq!(
        m.approx_bytes(),
        3 + 1 + ENTRY_OVERHEAD,
        "replacing a value must subtract the old entry's size"
    );
    m.delete(b"key");
    assert_eq!(
        m.approx_bytes(),
        3 + ENTRY_OVERHEAD,
        "a tombstone counts its key and the overhead, no value"
    );
    m.put(b"other", b"");
    assert_eq!(
        m.approx_bytes(),
        3 + ENTRY_OVERHEAD + 5 + ENTRY_OVERHEAD,
        "after the tombstone for `key` and a put of `other` with an empty value, approx_bytes must count both entries"
    );
    assert_eq!(
        entry_size(b"abc", &val("xy")),
        3 + 2 + ENTRY_OVERHEAD,
        "entry_size is the given formula"
    );
}

#[test]
fn t1_apply_runs_a_batch_in_order() {
    let mut m = Memtable::new();
    m.apply(&batch_of(&[
        ("x", Some("1")),
        ("y", Some("2")),
        ("x", None),
        ("y", Some("3")),
    ]));
    assert_eq!(
        m.get(b"x"),
        Some(&Entry::Tombstone),
        "later operations in a batch win: x was put, then deleted"
    );
    assert_eq!(
        m.get(b"y"),
        Some(&val("3")),
        "later operations in a batch win: y = 3"
    );
}

#[test]
fn t1_range_and_iter_are_sorted_and_keep_tombstones() {
    let mut m = Memtable::new();
    for k in ["d", "a", "c", "b", "e"] {
        m.put(k.as_bytes(), k.as_bytes());
    }
    m.delete(b"c");
    let all: Vec<(Vec<u8>, Entry)> = m.iter().map(|(k, e)| (k.to_vec(), e.clone())).collect();
    let keys: Vec<&[u8]> = all.iter().map(|(k, _)| k.as_slice()).collect();
    assert_eq!(
        keys,
        [b"a", b"b", b"c", b"d", b"e"],
        "iter yields keys in order"
    );
    assert_eq!(
        all[2].1,
        Entry::Tombstone,
        "iter must yield tombstones too: the flush writes them to the SSTable"
    );
    let range: KeyRange = (
        Bound::Included(b"b".to_vec()),
        Bound::Excluded(b"e".to_vec()),
    );
    let got: Vec<Vec<u8>> = m.range(&range).map(|(k, _)| k.to_vec()).collect();
    assert_eq!(
        got,
        [b"b".to_vec(), b"c".to_vec(), b"d".to_vec()],
        "range b..e yields b, c (its tombstone) and d"
    );
    let range: KeyRange = (
        Bound::Excluded(b"b".to_vec()),
        Bound::Included(b"d".to_vec()),
    );
    let got: Vec<Vec<u8>> = m.range(&range).map(|(k, _)| k.to_vec()).collect();
    assert_eq!(
        got,
        [b"c".to_vec(), b"d".to_vec()],
        "range (b, d] yields c and d"
    );
}

#[derive(Debug, Clone)]
enum MemOp {
    Put(u8, Vec<u8>),
    Delete(u8),
}

fn mem_op() -> impl Strategy<Value = MemOp> {
    prop_oneof![
        3 => (0u8..16, proptest::collection::vec(any::<u8>(), 0..8)).prop_map(|(k, v)| MemOp::Put(k, v)),
        1 => (0u8..16).prop_map(MemOp::Delete),
    ]
}

proptest! {
    #![proptest_config(proptest_config())]

    /// Random puts and deletes, checked against a BTreeMap of entries.
    #[test]
    fn t1_model_matches_a_btreemap(ops in proptest::collection::vec(mem_op(), 0..60)) {
        let mut m = Memtable::new();
        let mut model: BTreeMap<Vec<u8>, Entry> = BTreeMap::new();
        for op in &ops {
            match op {
                MemOp::Put(k, v) => {
                    m.put(&[*k], v);
                    model.insert(vec![*k], Entry::Value(v.clone()));
                }
                MemOp::Delete(k) => {
                    m.delete(&[*k]);
                    model.insert(vec![*k], Entry::Tombstone);
                }
            }
        }
        for k in 0u8..16 {
            prop_assert_eq!(m.get(&[k]), model.get(&vec![k]), "get({}) after {:?}", k, ops);
        }
        let got: Vec<(Vec<u8>, Entry)> = m.iter().map(|(k, e)| (k.to_vec(), e.clone())).collect();
        let want: Vec<(Vec<u8>, Entry)> = model.clone().into_iter().collect();
        prop_assert_eq!(got, want, "iter() must list every entry in key order");
        let bytes: usize = model.iter().map(|(k, e)| entry_size(k, e)).sum();
        prop_assert_eq!(m.approx_bytes(), bytes, "approx_bytes must be the sum of entry_size");
        prop_assert_eq!(m.len(), model.len());
    }
}

// ================================================================ task 2

fn sample_batches() -> Vec<Batch> {
    vec![
        batch_of(&[("a", Some("1"))]),
        batch_of(&[("b", Some("22")), ("c", None), ("d", Some(""))]),
        batch_of(&[("a", None)]),
        batch_of(&[("e", Some("a somewhat longer value, to vary the sizes"))]),
    ]
}

fn write_log(dir: &Path, id: u64, batches: &[Batch]) {
    let mut wal = Wal::create(&RealFs, dir, id).expect("create the WAL");
    for b in batches {
        wal.append(b).expect("append");
    }
    wal.sync().expect("sync");
}

/// The log bytes of `batches`, and where each frame ends.
fn log_bytes(batches: &[Batch]) -> (Vec<u8>, Vec<usize>) {
    let mut bytes = Vec::new();
    let mut ends = Vec::new();
    for b in batches {
        let mut payload = Vec::new();
        encode_batch(b, &mut payload);
        encode_frame(&payload, &mut bytes);
        ends.push(bytes.len());
    }
    (bytes, ends)
}

#[test]
fn t2_wal_round_trips_batches() {
    let dir = memory_tempdir();
    let batches = sample_batches();
    write_log(dir.path(), 7, &batches);
    let path = wal_path(dir.path(), 7);
    assert!(
        path.exists(),
        "Wal::create(&RealFs, dir, 7) must create {path:?}"
    );
    let (expected, _) = log_bytes(&batches);
    assert_eq!(
        fs::read(&path).expect("read the log"),
        expected,
        "the file must hold one frame per batch: encode_batch inside encode_frame, nothing else"
    );
    let contents = read_wal(&RealFs, &path).expect("read_wal");
    assert_eq!(
        contents,
        WalContents {
            batches,
            torn_at: None
        },
        "read_wal must return every batch, in order, and no torn tail"
    );
}

#[test]
fn t2_create_refuses_an_existing_log_and_append_is_buffered() {
    let dir = memory_tempdir();
    fs::write(wal_path(dir.path(), 3), b"precious").expect("write a file");
    assert!(
        Wal::create(&RealFs, dir.path(), 3).is_err(),
        "Wal::create must refuse a log that exists (create_new): overwriting it would lose data"
    );
    assert_eq!(
        fs::read(wal_path(dir.path(), 3)).expect("read"),
        b"precious",
        "a refused Wal::create must leave the existing log's bytes untouched"
    );

    let mut wal = Wal::create(&RealFs, dir.path(), 4).expect("create");
    assert_eq!(
        wal.id(),
        4,
        "Wal::id must return the id the log was created with (4)"
    );
    wal.append(&batch_of(&[("k", Some("v"))])).expect("append");
    let path = wal_path(dir.path(), 4);
    assert_eq!(
        fs::metadata(&path).expect("metadata").len(),
        0,
        "append must only buffer (BufWriter): one write system call per record is what group \
         commit saves"
    );
    wal.flush().expect("flush");
    assert!(
        fs::metadata(&path).expect("metadata").len() > 0,
        "flush must hand the buffered frame to the kernel"
    );
    wal.append(&batch_of(&[("k2", Some("v2"))]))
        .expect("append");
    wal.sync().expect("sync");
    assert_eq!(
        read_wal(&RealFs, &path).expect("read").batches.len(),
        2,
        "sync must flush the buffer before sync_data"
    );
}

#[test]
fn t2_missing_log_is_empty() {
    let dir = memory_tempdir();
    assert_eq!(
        read_wal(&RealFs, &dir.path().join("nope.wal")).expect("a missing log is not an error"),
        WalContents::default(),
        "read_wal on a missing log must return empty WalContents (no batches, no torn tail)"
    );
}

#[test]
fn t2_torn_tail_at_every_byte_keeps_exactly_the_whole_batches() {
    let dir = memory_tempdir();
    let batches = sample_batches();
    let (bytes, ends) = log_bytes(&batches);
    let path = dir.path().join("cut.wal");
    for cut in 0..=bytes.len() {
        fs::write(&path, &bytes[..cut]).expect("write the cut log");
        let whole = ends.iter().filter(|&&end| end <= cut).count();
        let valid = if whole == 0 { 0 } else { ends[whole - 1] };
        let contents = read_wal(&RealFs, &path).unwrap_or_else(|e| {
            panic!("log cut after byte {cut}: read_wal failed with `{e}`; a crash only shortens a log, so this is a torn tail")
        });
        assert_eq!(
            contents.batches,
            batches[..whole],
            "log cut after byte {cut}: exactly the {whole} batches written whole must come back, \
             each with all of its operations"
        );
        assert_eq!(
            contents.torn_at,
            (cut != valid).then_some(valid as u64),
            "log cut after byte {cut}: torn_at is where the partial frame starts"
        );
    }
}

#[test]
fn t2_damage_in_the_middle_is_corrupt_and_at_the_end_is_torn() {
    let dir = memory_tempdir();
    let batches = sample_batches();
    let (bytes, ends) = log_bytes(&batches);
    let last_start = ends[ends.len() - 2];
    let path = dir.path().join("flip.wal");
    for at in 0..bytes.len() {
        let mut damaged = bytes.clone();
        damaged[at] ^= 0x5a;
        fs::write(&path, &damaged).expect("write the damaged log");
        let hit = ends.iter().filter(|&&end| end <= at).count();
        match read_wal(&RealFs, &path) {
            Ok(contents) => {
                assert_eq!(
                    hit,
                    batches.len() - 1,
                    "byte {at} (in frame {hit}) damaged: intact frames follow it, so it is \
                     corruption in the middle of the log, and read_wal must fail with \
                     DbError::Corrupt, not return {} batches",
                    contents.batches.len()
                );
                assert_eq!(
                    contents.batches,
                    batches[..hit],
                    "damage in the last frame looks like a torn tail: the frames before it"
                );
                assert_eq!(
                    contents.torn_at,
                    Some(last_start as u64),
                    "torn_at must point where the damaged last frame starts (byte {last_start})"
                );
            }
            Err(DbError::Corrupt(_)) => assert!(
                hit < batches.len() - 1,
                "byte {at} of the last frame damaged: nothing follows it, so it looks exactly \
                 like a torn tail and must be treated as one"
            ),
            Err(other) => {
                panic!("byte {at} damaged: expected Ok or DbError::Corrupt, got `{other}`")
            }
        }
    }
}

#[test]
fn t2_replay_skips_obsolete_logs_and_applies_the_rest_in_order() {
    let dir = memory_tempdir();
    write_log(
        dir.path(),
        3,
        &[batch_of(&[("a", Some("old")), ("z", Some("3"))])],
    );
    write_log(
        dir.path(),
        4,
        &[batch_of(&[("a", Some("four")), ("b", Some("4"))])],
    );
    write_log(dir.path(), 5, &[batch_of(&[("b", None), ("c", Some("5"))])]);
    let recovered = replay_wals(&RealFs, dir.path(), 4).expect("replay");
    assert_eq!(
        recovered.obsolete,
        [3],
        "logs below log_number are obsolete"
    );
    assert_eq!(
        recovered.replayed,
        [4, 5],
        "the others are replayed, in id order"
    );
    assert_eq!(recovered.next_id, 6, "next_id is one past the last log");
    let m = &recovered.memtable;
    assert_eq!(m.get(b"a"), Some(&val("four")), "log 4 sets a = four");
    assert_eq!(
        m.get(b"z"),
        None,
        "log 3 is obsolete: its batches are already in SSTables and must not be replayed"
    );
    assert_eq!(
        m.get(b"b"),
        Some(&Entry::Tombstone),
        "log 5 deletes b after log 4 set it: the logs must be applied in id order"
    );
    assert_eq!(
        m.get(b"c"),
        Some(&val("5")),
        "log 5 sets c = 5, and replay must apply it"
    );

    let empty = memory_tempdir();
    let recovered = replay_wals(&RealFs, empty.path(), 9).expect("replay an empty directory");
    assert!(
        recovered.memtable.is_empty() && recovered.replayed.is_empty(),
        "with no logs at all, replay must return an empty memtable and replay no log; got {} entries and replayed {:?}",
        recovered.memtable.len(),
        recovered.replayed
    );
    assert_eq!(
        recovered.next_id, 9,
        "with no logs at all, the next log is log_number itself"
    );
}

// ================================================================ task 3

/// A batch of one put whose entry is exactly `ENTRY_OVERHEAD + 4` bytes.
fn small_put(i: usize) -> Batch {
    let mut batch = Batch::new();
    batch.put(format!("{:02}", i % 100), format!("{:02}", i / 100));
    batch
}

const SMALL: usize = ENTRY_OVERHEAD + 4;

fn active_entries(mem: &MemTables) -> usize {
    mem.range_snapshot(&full()).expect("snapshot")[0].len()
}

#[test]
fn t3_apply_freezes_exactly_when_the_threshold_is_reached() {
    let mem = MemTables::new(1, 5 * SMALL);
    for i in 0..4 {
        assert!(
            mem.apply(&[small_put(i)]).expect("apply").is_none(),
            "{} bytes is below the threshold of {}: no freeze yet",
            (i + 1) * SMALL,
            5 * SMALL
        );
    }
    let frozen = mem
        .apply(&[small_put(4)])
        .expect("apply")
        .expect("the fifth put reaches the threshold (>=): apply must freeze and return it");
    assert_eq!(frozen.id, 1, "the frozen memtable keeps the active id");
    assert_eq!(frozen.memtable.len(), 5, "it holds all five puts");
    assert_eq!(
        mem.active_id().expect("active_id"),
        2,
        "the new active memtable gets the next id"
    );
    assert_eq!(active_entries(&mem), 0, "the new active memtable is empty");
    assert_eq!(
        mem.sizes().expect("sizes"),
        (0, 1),
        "the frozen memtable waits in the frozen list until remove_frozen"
    );
    let snapshot = mem.range_snapshot(&full()).expect("snapshot");
    assert_eq!(
        snapshot.len(),
        2,
        "readers still see the frozen memtable (active first, then frozen)"
    );
    mem.remove_frozen(1).expect("remove_frozen");
    assert_eq!(
        mem.sizes().expect("sizes"),
        (0, 0),
        "remove_frozen(1) must drop the frozen memtable: sizes() (active bytes, frozen count) must be (0, 0)"
    );
    mem.remove_frozen(99)
        .expect("an unknown id is not an error");
}

#[test]
fn t3_apply_takes_several_batches_and_checks_once() {
    let mem = MemTables::new(10, 3 * SMALL);
    let frozen = mem
        .apply(&[small_put(0), small_put(1), small_put(2), small_put(3)])
        .expect("apply")
        .expect("four puts reach the threshold of three");
    assert_eq!(
        frozen.memtable.len(),
        4,
        "all batches of one apply call go into the same memtable, then the threshold is \
         checked once (the single writer relies on this: one group, one WAL)"
    );
    assert_eq!(
        frozen.id, 10,
        "the frozen memtable keeps the active id it had (10)"
    );
    assert_eq!(
        mem.active_id().expect("active_id"),
        11,
        "the new active memtable gets the next id (11)"
    );
}

#[test]
fn t3_freeze_forces_a_freeze_but_not_of_an_empty_memtable() {
    let mem = MemTables::new(1, 1 << 20);
    assert!(
        mem.freeze().expect("freeze").is_none(),
        "an empty active memtable is not frozen: it would make an empty SSTable"
    );
    mem.apply(&[small_put(0)]).expect("apply");
    let frozen = mem
        .freeze()
        .expect("freeze")
        .expect("a non-empty memtable freezes");
    assert_eq!(
        (frozen.id, frozen.memtable.len()),
        (1, 1),
        "freeze must return the active memtable (id 1) with its one entry: expected (id, entries) = (1, 1)"
    );
    assert_eq!(
        mem.active_id().expect("active_id"),
        2,
        "after freezing id 1 the new active memtable gets id 2"
    );
    mem.apply(&[small_put(1)]).expect("apply");
    let second = mem.freeze().expect("freeze").expect("freezes");
    assert_eq!(
        second.id, 2,
        "the second freeze returns the memtable with id 2"
    );
    let snapshot = mem.range_snapshot(&full()).expect("snapshot");
    assert_eq!(
        snapshot.iter().map(Vec::len).collect::<Vec<_>>(),
        [0, 1, 1],
        "the frozen list is newest first: active, frozen 2, frozen 1"
    );
    assert_eq!(snapshot[1][0].0, b"01", "frozen 2 is the newer one");
}

#[test]
fn t3_concurrent_writers_freeze_exactly_once_per_crossing() {
    const WRITERS: usize = 8;
    const PUTS: usize = 400;
    const PER_MEMTABLE: usize = 10;
    let mem = MemTables::new(1, PER_MEMTABLE * SMALL);
    let frozen: Mutex<Vec<Frozen>> = Mutex::new(Vec::new());
    let start = Barrier::new(WRITERS);
    thread::scope(|s| {
        for w in 0..WRITERS {
            let (mem, frozen, start) = (&mem, &frozen, &start);
            s.spawn(move || {
                start.wait();
                for i in 0..PUTS {
                    let mut batch = Batch::new();
                    batch.put(format!("w{w}-{i:04}"), "xy");
                    if let Some(f) = mem.apply(&[batch]).expect("apply") {
                        frozen.lock().expect("lock").push(f);
                    }
                }
            });
        }
    });
    let mut frozen = frozen.into_inner().expect("lock");
    frozen.sort_by_key(|f| f.id);
    // Every key is 7 or 8 bytes, so count entries instead of bytes.
    let total = WRITERS * PUTS;
    let in_frozen: usize = frozen.iter().map(|f| f.memtable.len()).sum();
    let in_active = active_entries(&mem);
    assert_eq!(
        in_frozen + in_active,
        total,
        "every put must be in exactly one memtable: {in_frozen} in frozen ones, {in_active} in \
         the active one, {total} written"
    );
    for f in &frozen {
        let bytes = f.memtable.approx_bytes();
        assert!(
            (PER_MEMTABLE * SMALL..PER_MEMTABLE * SMALL + SMALL + 8).contains(&bytes),
            "frozen memtable {} holds {} bytes; a memtable must be frozen by the write that \
             crossed the threshold, once: two writers that both saw it over the threshold \
             freeze twice (the second one almost empty)",
            f.id,
            bytes
        );
    }
    let ids: Vec<u64> = frozen.iter().map(|f| f.id).collect();
    let expected: Vec<u64> = (1..=frozen.len() as u64).collect();
    assert_eq!(
        ids, expected,
        "frozen ids are 1, 2, 3, ... with no gap and no repeat"
    );
    assert_eq!(
        mem.sizes().expect("sizes").1,
        frozen.len(),
        "every memtable that froze must wait in the frozen list: {} frozen were returned",
        frozen.len()
    );
}

fn frozen_of(id: u64, keys: &[&str]) -> Frozen {
    let mut m = Memtable::new();
    for k in keys {
        m.put(k.as_bytes(), b"v");
    }
    Frozen {
        id,
        memtable: Arc::new(m),
    }
}

#[test]
fn t3_flusher_flushes_each_memtable_once_in_order() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink_seen = Arc::clone(&seen);
    let mut flusher = Flusher::spawn(move |f: &Frozen| {
        assert_eq!(
            thread::current().name(),
            Some("flusher"),
            "the sink runs on the flusher thread, named `flusher`"
        );
        sink_seen.lock().expect("lock").push(f.id);
        Ok(())
    })
    .expect("spawn");
    for id in 1..=20 {
        flusher.submit(frozen_of(id, &["a"])).expect("submit");
    }
    flusher.wait().expect("wait");
    assert_eq!(
        *seen.lock().expect("lock"),
        (1..=20).collect::<Vec<u64>>(),
        "when wait() returns, every memtable submitted before it has been flushed, once, in \
         submission order"
    );
    flusher.submit(frozen_of(21, &["b"])).expect("submit");
    flusher.shutdown().expect("shutdown");
    assert_eq!(
        seen.lock().expect("lock").len(),
        21,
        "shutdown flushes what was submitted before it"
    );
    assert!(
        matches!(flusher.submit(frozen_of(22, &["c"])), Err(DbError::Closed)),
        "submit after shutdown must be DbError::Closed"
    );
    assert!(
        matches!(flusher.wait(), Err(DbError::Closed)),
        "wait after shutdown must be DbError::Closed"
    );
    flusher.shutdown().expect("a second shutdown is Ok");
}

#[test]
fn t3_a_failed_flush_is_reported_and_nothing_more_is_flushed() {
    let calls = Arc::new(AtomicUsize::new(0));
    let sink_calls = Arc::clone(&calls);
    let mut flusher = Flusher::spawn(move |f: &Frozen| {
        sink_calls.fetch_add(1, Ordering::SeqCst);
        if f.id == 2 {
            Err(DbError::Io(std::io::Error::other("disk full")))
        } else {
            Ok(())
        }
    })
    .expect("spawn");
    flusher.submit(frozen_of(1, &["a"])).expect("submit");
    flusher.wait().expect("the first flush works");
    flusher.submit(frozen_of(2, &["b"])).expect("submit");
    flusher.submit(frozen_of(3, &["c"])).expect("submit");
    match flusher.wait() {
        Err(DbError::Failed(message)) => assert!(
            message.contains("disk full"),
            "DbError::Failed must carry the sink's message, got {message:?}"
        ),
        other => panic!("after a failed flush, wait() must be DbError::Failed, got {other:?}"),
    }
    assert_eq!(
        calls.load(Ordering::SeqCst),
        2,
        "after a failed flush the flusher must flush nothing more: the memtables stay in \
         memory and in their WALs, and flushing a newer one would let the manifest skip the \
         failed one's log"
    );
    assert!(
        matches!(flusher.shutdown(), Err(DbError::Failed(_))),
        "shutdown reports the failure too"
    );
}

#[test]
fn t3_writers_and_the_flusher_together_flush_every_crossing_once() {
    let mem = Arc::new(MemTables::new(1, 4 * SMALL));
    let flushed = Arc::new(Mutex::new(Vec::new()));
    let sink_mem = Arc::clone(&mem);
    let sink_flushed = Arc::clone(&flushed);
    let mut flusher = Flusher::spawn(move |f: &Frozen| {
        sink_flushed
            .lock()
            .expect("lock")
            .push((f.id, f.memtable.len()));
        sink_mem.remove_frozen(f.id)
    })
    .expect("spawn");
    thread::scope(|s| {
        for w in 0..4 {
            let (mem, flusher) = (&mem, &flusher);
            s.spawn(move || {
                for i in 0..100 {
                    // Distinct keys ("000" to "399"), each entry SMALL bytes.
                    let mut batch = Batch::new();
                    batch.put(format!("{:03}", w * 100 + i), "v");
                    if let Some(f) = mem.apply(&[batch]).expect("apply") {
                        flusher.submit(f).expect("submit");
                    }
                }
            });
        }
    });
    flusher.shutdown().expect("shutdown");
    let flushed = flushed.lock().expect("lock");
    assert_eq!(
        flushed.len(),
        100,
        "400 puts with 4 per memtable cross the threshold 100 times: 100 flushes, no more, no \
         fewer"
    );
    assert!(
        flushed.iter().all(|&(_, n)| n == 4),
        "every flushed memtable holds exactly 4 puts: {flushed:?}"
    );
    assert_eq!(
        mem.sizes().expect("sizes"),
        (0, 0),
        "after every flush, nothing is left frozen or active"
    );
}

// ================================================================ task 4

/// 300 sorted entries, every fifth a tombstone, with varied value sizes.
fn sample_entries(n: usize) -> Vec<(Vec<u8>, Entry)> {
    (0..n)
        .map(|i| {
            let k = key(i * 2);
            if i % 5 == 3 {
                (k, Entry::Tombstone)
            } else {
                (k, Entry::Value(value(i)))
            }
        })
        .collect()
}

#[test]
fn t4_table_round_trips_entries_and_tombstones() {
    let dir = memory_tempdir();
    let entries = sample_entries(300);
    let path = dir.path().join("t.sst");
    let meta = write_table(&RealFs, &path, entries.iter().cloned().map(Ok), 256)
        .expect("write_table")
        .expect("entries were given: a table must be written");
    assert_eq!(
        meta,
        TableMeta {
            size: fs::metadata(&path).expect("metadata").len(),
            entries: 300,
            smallest: key(0),
            largest: key(598),
        },
        "TableMeta: the file's size, the entry count, the first and the last key"
    );
    let table = Table::open(&RealFs, &path).expect("open");
    assert_eq!(
        table.entries(),
        300,
        "Table::entries after open must be the 300 entries written"
    );
    assert!(
        table.blocks().len() > 10,
        "with block_bytes = 256, 300 entries need many blocks, got {}",
        table.blocks().len()
    );
    for (k, e) in &entries {
        assert_eq!(
            table.get(k).expect("get"),
            Some(e.clone()),
            "get({:?})",
            String::from_utf8_lossy(k)
        );
    }
    for missing in [b"a".to_vec(), key(1), key(301), key(599), b"z".to_vec()] {
        assert_eq!(
            table.get(&missing).expect("get"),
            None,
            "get({:?}): a key the table does not hold is None",
            String::from_utf8_lossy(&missing)
        );
    }
    let all: Vec<(Vec<u8>, Entry)> = table.iter().map(|r| r.expect("iter")).collect();
    assert_eq!(
        all, entries,
        "iter() yields every entry in order, tombstones included"
    );
}

#[test]
fn t4_the_file_follows_the_layout() {
    let dir = memory_tempdir();
    let entries = [
        (b"apple".to_vec(), Entry::Value(b"red".to_vec())),
        (b"banana".to_vec(), Entry::Tombstone),
        (b"cherry".to_vec(), Entry::Value(b"dark red".to_vec())),
    ];
    let path = dir.path().join("t.sst");
    // A block closes once it holds at least 10 bytes: after each entry here.
    write_table(&RealFs, &path, entries.iter().cloned().map(Ok), 10)
        .expect("write")
        .expect("a table");
    let bytes = fs::read(&path).expect("read");
    let n = bytes.len();
    let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
    let u64_at = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
    assert_eq!(u64_at(n - 8), TABLE_MAGIC, "the file ends with TABLE_MAGIC");
    let footer = &bytes[n - FOOTER_LEN..];
    assert_eq!(
        u32_at(n - 12),
        crc32fast::hash(&footer[..20]),
        "footer bytes 20..24 are the CRC of footer bytes 0..20"
    );
    let index_offset = u64_at(n - FOOTER_LEN) as usize;
    let index_len = u32_at(n - FOOTER_LEN + 8) as usize;
    assert_eq!(
        u64_at(n - FOOTER_LEN + 12),
        3,
        "the footer counts 3 entries"
    );
    assert_eq!(
        index_offset + index_len + 4 + FOOTER_LEN,
        n,
        "index, its CRC and the footer end the file"
    );
    assert_eq!(
        u32_at(index_offset + index_len),
        crc32fast::hash(&bytes[index_offset..index_offset + index_len]),
        "the index is followed by its CRC"
    );
    // Block 0: apple -> red, then its CRC.
    assert_eq!(u32_at(0), 5, "block 0 starts with the key length");
    assert_eq!(u32_at(4), 3, "then the value length");
    assert_eq!(&bytes[8..16], b"applered", "then the key and the value");
    assert_eq!(
        u32_at(16),
        crc32fast::hash(&bytes[..16]),
        "a block closes once it holds at least block_bytes (here after each entry), and is \
         followed by the CRC of its bytes"
    );
    // Block 1: the tombstone.
    assert_eq!(
        u32_at(20),
        6,
        "block 1 holds the tombstone for banana: its key length is 6"
    );
    assert_eq!(
        u32_at(24),
        TOMBSTONE_LEN,
        "a tombstone's value length is TOMBSTONE_LEN"
    );
    assert_eq!(&bytes[28..34], b"banana", "and it has no value bytes");
    // The index: three handles.
    let mut at = index_offset;
    let mut expected_offset = 0u64;
    for last in [&b"apple"[..], b"banana", b"cherry"] {
        assert_eq!(u64_at(at), expected_offset, "block handle offset");
        let len = u32_at(at + 8);
        let key_len = u32_at(at + 12) as usize;
        assert_eq!(
            &bytes[at + 16..at + 16 + key_len],
            last,
            "block handle last key"
        );
        expected_offset += u64::from(len) + 4;
        at += 16 + key_len;
    }
    assert_eq!(
        at,
        index_offset + index_len,
        "the index holds exactly one handle per block"
    );
}

#[test]
fn t4_no_entries_means_no_file_and_existing_files_are_refused() {
    let dir = memory_tempdir();
    let path = dir.path().join("empty.sst");
    let meta = write_table(&RealFs, &path, std::iter::empty(), 256).expect("write_table");
    assert_eq!(meta, None, "no entries: Ok(None)");
    assert!(!path.exists(), "no entries: no file either");
    let path = dir.path().join("taken.sst");
    fs::write(&path, b"precious").expect("write");
    assert!(
        write_table(&RealFs, &path, sample_entries(3).into_iter().map(Ok), 256).is_err(),
        "write_table must refuse an existing file (create_new)"
    );
    assert_eq!(
        fs::read(&path).expect("read"),
        b"precious",
        "a refused write_table must leave the existing file's bytes untouched"
    );
}

#[test]
fn t4_range_yields_exactly_the_range() {
    let dir = memory_tempdir();
    let entries = sample_entries(200);
    let table = table_from(dir.path(), "t.sst", &entries, 128);
    let bounds = |b: u8, i: usize| -> Bound<Vec<u8>> {
        match b {
            0 => Bound::Included(key(i)),
            1 => Bound::Excluded(key(i)),
            _ => Bound::Unbounded,
        }
    };
    for (s, e) in [
        (0, 37),
        (10, 11),
        (41, 41),
        (150, 399),
        (0, 0),
        (397, 500),
        (5, 3),
    ] {
        for sb in 0..3u8 {
            for eb in 0..3u8 {
                let range: KeyRange = (bounds(sb, s), bounds(eb, e));
                let want: Vec<(Vec<u8>, Entry)> = entries
                    .iter()
                    .filter(|(k, _)| engine::in_range(&range, k))
                    .cloned()
                    .collect();
                let got: Vec<(Vec<u8>, Entry)> = table
                    .range(range.clone())
                    .map(|r| r.expect("range"))
                    .collect();
                assert_eq!(
                    got, want,
                    "Table::range({range:?}) must yield exactly the table's entries in that range, in key order"
                );
            }
        }
    }
}

#[test]
fn t4_every_damaged_byte_is_detected() {
    let dir = memory_tempdir();
    let entries = sample_entries(12);
    let path = dir.path().join("good.sst");
    write_table(&RealFs, &path, entries.iter().cloned().map(Ok), 64)
        .expect("write")
        .expect("a table");
    let good = fs::read(&path).expect("read");
    let bad = dir.path().join("bad.sst");
    let read_all = |path: &Path| -> Result<Vec<(Vec<u8>, Entry)>, DbError> {
        let table = Table::open(&RealFs, path)?;
        let all = table.iter().collect::<Result<Vec<_>, _>>()?;
        for (k, _) in &entries {
            table.get(k)?;
        }
        Ok(all)
    };
    for at in 0..good.len() {
        for flip in [0x01u8, 0x80] {
            let mut damaged = good.clone();
            damaged[at] ^= flip;
            fs::write(&bad, &damaged).expect("write");
            match read_all(&bad) {
                Err(DbError::Corrupt(_)) => {}
                Err(other) => panic!(
                    "byte {at} of {} flipped: expected DbError::Corrupt, got `{other}`",
                    good.len()
                ),
                Ok(all) => panic!(
                    "byte {at} of {} flipped (xor {flip:#04x}), yet the table opened and read \
                     back {} entries without an error; every byte must be covered by a CRC or \
                     the magic number (block CRCs, index CRC, footer CRC), and every CRC checked \
                     before its bytes are used",
                    good.len(),
                    all.len()
                ),
            }
        }
    }
    for len in [
        0,
        1,
        FOOTER_LEN - 1,
        FOOTER_LEN,
        good.len() / 2,
        good.len() - 1,
    ] {
        fs::write(&bad, &good[..len]).expect("write");
        assert!(
            matches!(Table::open(&RealFs, &bad), Err(DbError::Corrupt(_))),
            "a table cut to {len} bytes must not open: DbError::Corrupt"
        );
    }
}

// ================================================================ task 5

fn mem_of(ops: &[(&str, Option<&str>)]) -> Memtable {
    let mut m = Memtable::new();
    m.apply(&batch_of(ops));
    m
}

fn entries_of(m: &Memtable) -> Vec<(Vec<u8>, Entry)> {
    common::memtable_entries(m)
}

fn sources_of<'a>(mems: &'a [Memtable], tables: &'a [Arc<Table>]) -> Vec<Source<'a>> {
    let mut sources: Vec<Source<'a>> = mems
        .iter()
        .map(|m| Box::new(m.iter().map(|(k, e)| Ok((k.to_vec(), e.clone())))) as Source<'a>)
        .collect();
    for t in tables {
        sources.push(Box::new(t.iter()));
    }
    sources
}

#[test]
fn t5_lookup_asks_newest_first_and_tombstones_hide() {
    let dir = memory_tempdir();
    let old = table_from(
        dir.path(),
        "1.sst",
        &entries_of(&mem_of(&[
            ("a", Some("t1")),
            ("b", Some("t1")),
            ("c", Some("t1")),
        ])),
        64,
    );
    let newer = table_from(
        dir.path(),
        "2.sst",
        &entries_of(&mem_of(&[("a", Some("t2")), ("b", None)])),
        64,
    );
    let frozen = mem_of(&[("c", Some("frozen")), ("d", Some("frozen"))]);
    let active = mem_of(&[("d", None), ("e", Some("active"))]);
    let memtables = [&active, &frozen];
    let tables = [newer, old];
    let get = |k: &str| lookup(k.as_bytes(), &memtables, &tables).expect("lookup");
    assert_eq!(
        get("a"),
        Some(val("t2")),
        "a: the newer table wins over the older one"
    );
    assert_eq!(
        get("b"),
        Some(Entry::Tombstone),
        "b: the newer table's tombstone decides; the older table's value must not show through"
    );
    assert_eq!(
        get("c"),
        Some(val("frozen")),
        "c: a frozen memtable is newer than every table"
    );
    assert_eq!(
        get("d"),
        Some(Entry::Tombstone),
        "d: the active memtable's tombstone is newest"
    );
    assert_eq!(
        get("e"),
        Some(val("active")),
        "e: only the active memtable holds it, with the value `active`"
    );
    assert_eq!(get("f"), None, "f: nobody knows it");
}

#[test]
fn t5_merge_yields_each_key_once_with_the_newest_entry() {
    let dir = memory_tempdir();
    let table = table_from(
        dir.path(),
        "1.sst",
        &entries_of(&mem_of(&[
            ("a", Some("old")),
            ("c", Some("old")),
            ("e", Some("old")),
        ])),
        64,
    );
    let mems = [
        mem_of(&[("c", None), ("d", Some("new"))]),
        mem_of(&[("a", Some("mid")), ("d", Some("mid")), ("f", Some("mid"))]),
    ];
    let tables = [table];
    let merged: Vec<(Vec<u8>, Entry)> = MergeIter::new(sources_of(&mems, &tables))
        .map(|r| r.expect("merge"))
        .collect();
    let want = vec![
        (b"a".to_vec(), val("mid")),
        (b"c".to_vec(), Entry::Tombstone),
        (b"d".to_vec(), val("new")),
        (b"e".to_vec(), val("old")),
        (b"f".to_vec(), val("mid")),
    ];
    assert_eq!(
        merged, want,
        "every key once, in order, with the entry of the newest source (sources[0]) that has \
         it; tombstones are merged like values"
    );
    assert_eq!(
        scan(sources_of(&mems, &tables)).expect("scan"),
        vec![
            (b"a".to_vec(), b"mid".to_vec()),
            (b"d".to_vec(), b"new".to_vec()),
            (b"e".to_vec(), b"old".to_vec()),
            (b"f".to_vec(), b"mid".to_vec()),
        ],
        "scan hides tombstones: c was deleted"
    );
    assert_eq!(
        MergeIter::new(Vec::new()).count(),
        0,
        "merging no sources yields nothing"
    );
}

#[test]
fn t5_merge_reports_an_error_once_and_stops() {
    let failing: Source<'static> = Box::new(
        vec![
            Ok((b"a".to_vec(), val("1"))),
            Err(DbError::Corrupt("block 1 checksum mismatch".into())),
            Ok((b"z".to_vec(), val("1"))),
        ]
        .into_iter(),
    );
    let other: Source<'static> =
        Box::new(vec![Ok((b"b".to_vec(), val("2"))), Ok((b"c".to_vec(), val("2")))].into_iter());
    let items: Vec<Result<(Vec<u8>, Entry), DbError>> =
        MergeIter::new(vec![failing, other]).collect();
    assert!(
        matches!(items.first(), Some(Ok((k, _))) if k == b"a"),
        "a comes first"
    );
    assert!(
        items.iter().any(|r| matches!(r, Err(DbError::Corrupt(_)))),
        "the source's error must come out of the merge, not be skipped: {items:?}"
    );
    let errors = items.iter().filter(|r| r.is_err()).count();
    assert_eq!(errors, 1, "the error comes out once");
    assert!(
        items.last().is_some_and(Result::is_err),
        "after the error the merge ends: data after a corrupt block cannot be trusted to be \
         the newest version; got {items:?}"
    );
    let failing: Source<'static> = Box::new(vec![Err(DbError::Corrupt("bad".into()))].into_iter());
    assert!(
        matches!(scan(vec![failing]), Err(DbError::Corrupt(_))),
        "scan returns the first error"
    );
}

#[derive(Debug, Clone)]
enum LayerOp {
    Put(u8, u8),
    Delete(u8),
    /// Freeze the current memtable and write it to a new, newest table.
    Flush,
    /// Freeze the current memtable, but keep it in memory.
    Freeze,
}

fn layer_op() -> impl Strategy<Value = LayerOp> {
    prop_oneof![
        6 => (0u8..12, any::<u8>()).prop_map(|(k, v)| LayerOp::Put(k, v)),
        2 => (0u8..12).prop_map(LayerOp::Delete),
        1 => Just(LayerOp::Flush),
        1 => Just(LayerOp::Freeze),
    ]
}

/// Memtables (newest first), tables (newest first) and the model.
type Layers = (Vec<Memtable>, Vec<Arc<Table>>, BTreeMap<Vec<u8>, Vec<u8>>);

/// Builds a stack of tables and memtables from `ops`, and the model.
fn build_layers(dir: &Path, ops: &[LayerOp]) -> Layers {
    let mut model = BTreeMap::new();
    let mut active = Memtable::new();
    let mut frozen: Vec<Memtable> = Vec::new(); // newest first
    let mut tables: Vec<Arc<Table>> = Vec::new(); // newest first
    for (i, op) in ops.iter().enumerate() {
        match op {
            LayerOp::Put(k, v) => {
                active.put(&[b'k', *k], &[*v]);
                model.insert(vec![b'k', *k], vec![*v]);
            }
            LayerOp::Delete(k) => {
                active.delete(&[b'k', *k]);
                model.remove(&vec![b'k', *k]);
            }
            LayerOp::Freeze => {
                if !active.is_empty() {
                    frozen.insert(0, std::mem::take(&mut active));
                }
            }
            LayerOp::Flush => {
                // As in the store: freeze, then flush the oldest frozen
                // memtable, so every table is older than every memtable.
                if !active.is_empty() {
                    frozen.insert(0, std::mem::take(&mut active));
                }
                if let Some(m) = frozen.pop() {
                    let t = table_from(dir, &format!("{i}.sst"), &entries_of(&m), 32);
                    tables.insert(0, t);
                }
            }
        }
    }
    let mut mems = vec![active];
    mems.extend(frozen);
    (mems, tables, model)
}

proptest! {
    #![proptest_config(proptest_config())]

    /// A random stack of memtables and tables, read through `lookup` and
    /// `scan`, checked against a BTreeMap that saw the same operations.
    #[test]
    fn t5_model_layers_read_like_a_btreemap(
        ops in proptest::collection::vec(layer_op(), 0..80),
        from in 0u8..13,
        len in 0u8..13,
    ) {
        let dir = memory_tempdir();
        let (mems, tables, model) = build_layers(dir.path(), &ops);
        let refs: Vec<&Memtable> = mems.iter().collect();
        for k in 0u8..12 {
            let key = [b'k', k];
            let got = lookup(&key, &refs, &tables).expect("lookup").and_then(Entry::into_value);
            prop_assert_eq!(got, model.get(key.as_slice()).cloned(), "get(k{}) after {:?}", k, ops);
        }
        let range: KeyRange = (
            Bound::Included(vec![b'k', from]),
            Bound::Excluded(vec![b'k', from.saturating_add(len)]),
        );
        let sources: Vec<Source<'_>> = mems
            .iter()
            .map(|m| Box::new(m.range(&range).map(|(k, e)| Ok((k.to_vec(), e.clone())))) as Source<'_>)
            .chain(tables.iter().map(|t| Box::new(t.range(range.clone())) as Source<'_>))
            .collect();
        let want: Vec<(Vec<u8>, Vec<u8>)> = model
            .range::<Vec<u8>, _>((range.0.as_ref(), range.1.as_ref()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        prop_assert_eq!(scan(sources).expect("scan"), want, "scan {:?} after {:?}", range, ops);
    }
}

// ================================================================ task 6

#[test]
fn t6_plan_picks_the_newest_tables_and_grows_while_the_next_is_small() {
    let cases: [(&[u64], usize, Option<usize>, &str); 8] = [
        (&[], 4, None, "no tables"),
        (&[10, 10, 10], 4, None, "fewer tables than the trigger"),
        (&[10, 10, 10, 10], 4, Some(4), "exactly the trigger"),
        (
            &[10, 10, 10, 10, 1000],
            4,
            Some(4),
            "1000 > 40: the big old table is left alone",
        ),
        (
            &[10, 10, 10, 10, 40],
            4,
            Some(5),
            "40 <= 10+10+10+10: take it too",
        ),
        (
            &[10, 10, 10, 10, 40, 80, 161],
            4,
            Some(6),
            "grow while next <= total: 40, 80, not 161",
        ),
        (&[5, 5], 1, Some(2), "a trigger below 2 counts as 2"),
        (
            &[1, 100, 1, 1],
            2,
            Some(4),
            "the two newest (total 101), then 1 and 1",
        ),
    ];
    for (sizes, trigger, want, why) in cases {
        assert_eq!(
            plan(sizes, trigger),
            want,
            "plan({sizes:?}, {trigger}): {why}"
        );
    }
}

fn table_entries(t: &Table) -> Vec<(Vec<u8>, Entry)> {
    t.iter().map(|r| r.expect("iter")).collect()
}

#[test]
fn t6_compact_keeps_the_newest_entry_of_each_key() {
    let dir = memory_tempdir();
    let old = table_from(
        dir.path(),
        "1.sst",
        &entries_of(&mem_of(&[
            ("a", Some("1")),
            ("b", Some("1")),
            ("c", Some("1")),
        ])),
        64,
    );
    let newer = table_from(
        dir.path(),
        "2.sst",
        &entries_of(&mem_of(&[("a", Some("2")), ("b", None), ("d", Some("2"))])),
        64,
    );
    let out = dir.path().join("3.sst");
    let meta = compact(&RealFs, &[newer, old], false, &out, 64)
        .expect("compact")
        .expect("there is something to write");
    let merged = Table::open(&RealFs, &out).expect("open the output");
    assert_eq!(
        table_entries(&merged),
        vec![
            (b"a".to_vec(), val("2")),
            (b"b".to_vec(), Entry::Tombstone),
            (b"c".to_vec(), val("1")),
            (b"d".to_vec(), val("2")),
        ],
        "each key once, with the newest entry; older values are shadowed and dropped; with \
         drop_tombstones = false the tombstone stays"
    );
    assert_eq!(
        meta.entries, 4,
        "TableMeta::entries must count the 4 distinct keys written, not every input entry"
    );
    assert_eq!(
        (meta.smallest.as_slice(), meta.largest.as_slice()),
        (&b"a"[..], &b"d"[..]),
        "TableMeta's smallest and largest keys must be the first and last keys written: a and d"
    );
}

#[test]
fn t6_tombstones_are_dropped_only_when_that_is_safe() {
    let dir = memory_tempdir();
    let oldest = table_from(
        dir.path(),
        "1.sst",
        &entries_of(&mem_of(&[("gone", Some("zombie")), ("kept", Some("1"))])),
        64,
    );
    let middle = table_from(
        dir.path(),
        "2.sst",
        &entries_of(&mem_of(&[("gone", None), ("x", Some("2"))])),
        64,
    );
    let newest = table_from(
        dir.path(),
        "3.sst",
        &entries_of(&mem_of(&[("y", Some("3"))])),
        64,
    );

    // Compacting the two newest tables: the oldest one still holds "gone".
    let out = dir.path().join("4.sst");
    compact(
        &RealFs,
        &[Arc::clone(&newest), Arc::clone(&middle)],
        false,
        &out,
        64,
    )
    .expect("compact")
    .expect("output");
    let merged = Arc::new(Table::open(&RealFs, &out).expect("open"));
    assert_eq!(
        merged.get(b"gone").expect("get"),
        Some(Entry::Tombstone),
        "compacting without the oldest table must keep the tombstone"
    );
    assert_eq!(
        lookup(b"gone", &[], &[Arc::clone(&merged), Arc::clone(&oldest)])
            .expect("lookup")
            .and_then(Entry::into_value),
        None,
        "so that the oldest table's value stays hidden: a dropped tombstone would bring the \
         deleted value back to life"
    );

    // Compacting everything: nothing older can hold "gone".
    let out = dir.path().join("5.sst");
    compact(&RealFs, &[merged, oldest], true, &out, 64)
        .expect("compact")
        .expect("output");
    let all = Table::open(&RealFs, &out).expect("open");
    assert_eq!(
        table_entries(&all),
        vec![
            (b"kept".to_vec(), val("1")),
            (b"x".to_vec(), val("2")),
            (b"y".to_vec(), val("3")),
        ],
        "with drop_tombstones, a tombstone and every value it shadows are gone"
    );

    let lonely = table_from(
        dir.path(),
        "6.sst",
        &entries_of(&mem_of(&[("t", None)])),
        64,
    );
    let out = dir.path().join("7.sst");
    assert_eq!(
        compact(&RealFs, &[lonely], true, &out, 64).expect("compact"),
        None,
        "when only tombstones were left and they are dropped, nothing is written: None"
    );
    assert!(!out.exists(), "and no file is created");
}

proptest! {
    #![proptest_config(proptest_config())]

    /// A random stack of tables; compacting the prefix that `plan` picks
    /// (dropping tombstones only when it reaches the oldest table) changes
    /// no read.
    #[test]
    fn t6_model_compaction_changes_no_read(
        ops in proptest::collection::vec(layer_op(), 0..100),
        trigger in 2usize..5,
    ) {
        let dir = memory_tempdir();
        let mut ops = ops;
        ops.push(LayerOp::Flush);
        let ops: Vec<LayerOp> = ops.into_iter().map(|op| match op {
            LayerOp::Freeze => LayerOp::Flush,
            other => other,
        }).collect();
        let (_, tables, model) = build_layers(dir.path(), &ops);
        let sizes: Vec<u64> = tables.iter().map(|t| t.size()).collect();
        let Some(count) = plan(&sizes, trigger) else { return Ok(()) };
        prop_assert!(count >= trigger.max(2) && count <= tables.len());
        let out = dir.path().join("out.sst");
        let drop = count == tables.len();
        let meta = compact(&RealFs, &tables[..count], drop, &out, 32).expect("compact");
        let mut after: Vec<Arc<Table>> = Vec::new();
        if meta.is_some() {
            after.push(Arc::new(Table::open(&RealFs, &out).expect("open")));
        }
        after.extend(tables[count..].iter().cloned());
        for k in 0u8..12 {
            let key = [b'k', k];
            let got = lookup(&key, &[], &after).expect("lookup").and_then(Entry::into_value);
            prop_assert_eq!(got, model.get(key.as_slice()).cloned(), "get(k{}) after compacting {} of {} tables", k, count, tables.len());
        }
        let sources: Vec<Source<'_>> = after.iter().map(|t| Box::new(t.iter()) as Source<'_>).collect();
        let want: Vec<(Vec<u8>, Vec<u8>)> = model.into_iter().collect();
        prop_assert_eq!(scan(sources).expect("scan"), want);
        if drop && let Some(meta) = meta {
            let output = Table::open(&RealFs, &out).expect("open");
            prop_assert!(
                output.iter().all(|r| !r.expect("iter").1.is_tombstone()),
                "a compaction of every table must drop its tombstones"
            );
            prop_assert_eq!(meta.entries, output.entries());
        }
    }
}

// ================================================================ task 7

fn sample_manifest() -> Manifest {
    Manifest {
        next_table_id: 9,
        log_number: 12,
        tables: vec![
            TableRecord {
                id: 8,
                meta: TableMeta {
                    size: 4096,
                    entries: 17,
                    smallest: b"apple".to_vec(),
                    largest: b"pear".to_vec(),
                },
            },
            TableRecord {
                id: 3,
                meta: TableMeta {
                    size: 100,
                    entries: 1,
                    smallest: b"x".to_vec(),
                    largest: b"x".to_vec(),
                },
            },
        ],
    }
}

#[test]
fn t7_manifest_store_and_load_round_trip() {
    let dir = memory_tempdir();
    assert_eq!(
        Manifest::load(&RealFs, dir.path()).expect("load"),
        None,
        "no MANIFEST yet: Ok(None), a new store"
    );
    let manifest = sample_manifest();
    manifest.store(&RealFs, dir.path()).expect("store");
    assert_eq!(
        fs::read(dir.path().join(MANIFEST_FILE)).expect("read MANIFEST"),
        manifest.encode(),
        "MANIFEST holds exactly manifest.encode()"
    );
    assert_eq!(
        Manifest::load(&RealFs, dir.path()).expect("load"),
        Some(manifest.clone()),
        "load after store must give back the stored manifest"
    );
    let mut newer = manifest;
    newer.tables.remove(1);
    newer.log_number = 13;
    newer.store(&RealFs, dir.path()).expect("store again");
    assert_eq!(
        Manifest::load(&RealFs, dir.path()).expect("load"),
        Some(newer),
        "a second store replaces the first"
    );
}

#[test]
fn t7_store_replaces_by_rename_and_ignores_a_stale_temp_file() {
    use std::os::unix::fs::MetadataExt;
    let dir = memory_tempdir();
    let manifest = sample_manifest();
    manifest.store(&RealFs, dir.path()).expect("store");
    let first_inode = fs::metadata(dir.path().join(MANIFEST_FILE))
        .expect("metadata")
        .ino();
    assert!(
        !dir.path().join(MANIFEST_TMP).exists(),
        "after store, no MANIFEST.tmp is left: it was renamed over MANIFEST"
    );
    // A crash between writing the temp file and the rename leaves this:
    fs::write(dir.path().join(MANIFEST_TMP), b"half a manifest").expect("write");
    assert_eq!(
        Manifest::load(&RealFs, dir.path()).expect("a stale MANIFEST.tmp must not matter"),
        Some(manifest.clone()),
        "load reads MANIFEST only"
    );
    let mut next = manifest;
    next.next_table_id = 10;
    next.store(&RealFs, dir.path())
        .expect("store over a stale temp file");
    let second_inode = fs::metadata(dir.path().join(MANIFEST_FILE))
        .expect("metadata")
        .ino();
    assert_ne!(
        first_inode, second_inode,
        "store must write a new file and rename it over MANIFEST, not rewrite MANIFEST in \
         place: a crash in the middle of an in-place write leaves half a manifest and no way \
         back"
    );
    assert_eq!(
        Manifest::load(&RealFs, dir.path()).expect("load"),
        Some(next),
        "load after the second store must give back the new manifest, not the first one or the stale temp file"
    );
    assert!(
        !dir.path().join(MANIFEST_TMP).exists(),
        "after a store over a stale MANIFEST.tmp, no MANIFEST.tmp is left: it was renamed over MANIFEST"
    );
}

#[test]
fn t7_every_damaged_manifest_byte_is_detected() {
    let dir = memory_tempdir();
    let good = sample_manifest().encode();
    let path = dir.path().join(MANIFEST_FILE);
    for at in 0..good.len() {
        let mut damaged = good.clone();
        damaged[at] ^= 0x10;
        fs::write(&path, &damaged).expect("write");
        match Manifest::load(&RealFs, dir.path()) {
            Err(DbError::Corrupt(_)) => {}
            other => panic!(
                "MANIFEST byte {at} of {} flipped: load must fail with DbError::Corrupt, got \
                 {other:?}",
                good.len()
            ),
        }
    }
    for len in [0, 3, 15, good.len() - 1] {
        fs::write(&path, &good[..len]).expect("write");
        assert!(
            matches!(
                Manifest::load(&RealFs, dir.path()),
                Err(DbError::Corrupt(_))
            ),
            "a MANIFEST cut to {len} bytes must be DbError::Corrupt"
        );
    }
}

#[test]
fn t7_the_lock_is_exclusive_and_released_on_drop() {
    let dir = memory_tempdir();
    let lock = DirLock::acquire(&RealFs, dir.path()).expect("the first lock");
    assert_eq!(
        lock.dir(),
        dir.path(),
        "DirLock::dir must return the directory it locks"
    );
    assert!(
        dir.path().join(engine::LOCK_FILE).exists(),
        "the lock file is dir/LOCK"
    );
    match DirLock::acquire(&RealFs, dir.path()) {
        Err(DbError::Locked { dir: locked }) => assert_eq!(
            locked,
            dir.path(),
            "DbError::Locked must name the locked directory"
        ),
        other => {
            panic!("a second DirLock on a locked directory must be DbError::Locked, got {other:?}")
        }
    }
    drop(lock);
    let again = DirLock::acquire(&RealFs, dir.path())
        .expect("dropping the lock releases it: acquiring again must work");
    drop(again);
    assert!(
        dir.path().join(engine::LOCK_FILE).exists(),
        "the lock file stays (deleting it would race with another process opening it)"
    );
}

// ================================================================ task 8

/// What the fake store saw, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Event {
    Log(Vec<u8>),
    Sync,
    Apply(Vec<Vec<u8>>),
    Exists(Vec<u8>),
    Rotate,
}

#[derive(Default)]
struct FakeState {
    events: Vec<Event>,
    /// Keys that have a value.
    keys: Vec<Vec<u8>>,
    /// Every key's value after the applies so far (`None`: deleted).
    values: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    /// While true, `sync` blocks.
    hold_sync: bool,
    /// True while a sync is blocked.
    sync_waiting: bool,
    /// Fail the n-th sync (1-based).
    fail_sync: Option<usize>,
    syncs: usize,
}

#[derive(Clone, Default)]
struct Fake(Arc<(Mutex<FakeState>, Condvar)>);

impl Fake {
    fn events(&self) -> Vec<Event> {
        self.0.0.lock().expect("fake").events.clone()
    }

    fn with<R>(&self, f: impl FnOnce(&mut FakeState) -> R) -> R {
        let r = f(&mut self.0.0.lock().expect("fake"));
        self.0.1.notify_all();
        r
    }

    /// Waits (with a deadline) until a sync is blocked.
    fn wait_for_blocked_sync(&self) {
        let (lock, cv) = &*self.0;
        let guard = lock.lock().expect("fake");
        let (guard, timeout) = cv
            .wait_timeout_while(guard, DEADLINE, |s| !s.sync_waiting)
            .expect("fake");
        assert!(
            !timeout.timed_out(),
            "the writer thread never called sync for the first request"
        );
        drop(guard);
    }
}

fn first_key(batch: &Batch) -> Vec<u8> {
    batch
        .ops()
        .first()
        .map(|op| op.key().to_vec())
        .unwrap_or_default()
}

impl WriteTarget for Fake {
    fn log(&mut self, batch: &Batch) -> Result<(), DbError> {
        self.with(|s| s.events.push(Event::Log(first_key(batch))));
        Ok(())
    }

    fn sync(&mut self) -> Result<(), DbError> {
        let (lock, cv) = &*self.0;
        let mut s = lock.lock().expect("fake");
        s.syncs += 1;
        s.events.push(Event::Sync);
        s.sync_waiting = true;
        cv.notify_all();
        let (mut s, timeout) = cv
            .wait_timeout_while(s, DEADLINE, |s| s.hold_sync)
            .expect("fake");
        assert!(!timeout.timed_out(), "the test never released the sync");
        s.sync_waiting = false;
        if s.fail_sync == Some(s.syncs) {
            return Err(DbError::Io(std::io::Error::other("injected sync failure")));
        }
        Ok(())
    }

    fn apply(&mut self, batches: &[Batch]) -> Result<(), DbError> {
        self.with(|s| {
            for b in batches {
                for op in b.ops() {
                    s.keys.push(op.key().to_vec());
                    let value = match op {
                        Op::Put { value, .. } => Some(value.clone()),
                        Op::Delete { .. } => None,
                    };
                    s.values.insert(op.key().to_vec(), value);
                }
            }
            s.events
                .push(Event::Apply(batches.iter().map(first_key).collect()));
        });
        Ok(())
    }

    fn exists(&mut self, key: &[u8]) -> Result<bool, DbError> {
        Ok(self.with(|s| {
            s.events.push(Event::Exists(key.to_vec()));
            s.keys.iter().any(|k| k == key)
        }))
    }

    fn rotate(&mut self) -> Result<(), DbError> {
        self.with(|s| s.events.push(Event::Rotate));
        Ok(())
    }
}

fn write(k: &str) -> Request {
    let mut batch = Batch::new();
    batch.put(k, "v");
    Request::Write(batch)
}

fn k(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

/// Waits for a ticket on another thread, with a deadline.
fn wait_ticket(ticket: engine::Ticket) -> Result<bool, DbError> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(ticket.wait());
    });
    rx.recv_timeout(DEADLINE)
        .expect("the writer thread never answered the request")
}

#[test]
fn t8_a_write_is_answered_after_log_sync_and_apply() {
    let fake = Fake::default();
    let mut writer = SingleWriter::spawn(fake.clone(), 16).expect("spawn");
    let ticket = writer.submit(write("a")).expect("submit");
    assert!(
        wait_ticket(ticket).expect("write"),
        "a write is answered Ok(true)"
    );
    assert_eq!(
        fake.events(),
        [Event::Log(k("a")), Event::Sync, Event::Apply(vec![k("a")])],
        "a write is logged, synced, then applied, and only then answered"
    );
    writer.shutdown().expect("shutdown");
}

#[test]
fn t8_queued_writes_share_one_sync() {
    let fake = Fake::default();
    fake.with(|s| s.hold_sync = true);
    let mut writer = SingleWriter::spawn(fake.clone(), 16).expect("spawn");
    let first = writer.submit(write("w0")).expect("submit");
    fake.wait_for_blocked_sync();
    // While the first write's sync is in progress, four more queue up.
    let queued: Vec<engine::Ticket> = (1..=4)
        .map(|i| writer.submit(write(&format!("w{i}"))).expect("submit"))
        .collect();
    fake.with(|s| s.hold_sync = false);
    assert!(
        wait_ticket(first).expect("write"),
        "the first write, whose sync was held, must be answered Ok(true) once the sync returns"
    );
    for t in queued {
        assert!(
            wait_ticket(t).expect("write"),
            "every write queued behind the held sync must be answered Ok(true)"
        );
    }
    let events = fake.events();
    assert_eq!(
        events,
        [
            Event::Log(k("w0")),
            Event::Sync,
            Event::Apply(vec![k("w0")]),
            Event::Log(k("w1")),
            Event::Log(k("w2")),
            Event::Log(k("w3")),
            Event::Log(k("w4")),
            Event::Sync,
            Event::Apply(vec![k("w1"), k("w2"), k("w3"), k("w4")]),
        ],
        "the four writes that queued during the first sync must form one group: logged one \
         after the other, ONE sync, ONE apply of all four. That is group commit."
    );
    writer.shutdown().expect("shutdown");
}

#[test]
fn t8_a_group_applies_its_batches_in_the_order_they_were_sent() {
    let fake = Fake::default();
    fake.with(|s| s.hold_sync = true);
    let mut writer = SingleWriter::spawn(fake.clone(), 16).expect("spawn");
    let first = writer.submit(write("other")).expect("submit");
    fake.wait_for_blocked_sync();
    // While the first sync is held, three writes to one key queue up and
    // form the next group; the last one sent must win.
    let queued: Vec<engine::Ticket> = ["1", "2", "3"]
        .iter()
        .map(|v| {
            let mut batch = Batch::new();
            batch.put("same", *v);
            writer.submit(Request::Write(batch)).expect("submit")
        })
        .collect();
    fake.with(|s| s.hold_sync = false);
    assert!(
        wait_ticket(first).expect("write"),
        "the first write, whose sync was held, must be answered Ok(true) once the sync returns"
    );
    for t in queued {
        assert!(
            wait_ticket(t).expect("write"),
            "every write to `same` queued behind the held sync must be answered Ok(true)"
        );
    }
    let value = fake.with(|s| s.values.get(&k("same")).cloned());
    assert_eq!(
        value,
        Some(Some(k("3"))),
        "three batches of one group set the key `same` to 1, 2 and 3, in that order; after the \
         group is applied it must read 3. Apply the group's batches in the order they were sent, \
         each whole: a later write to a key replaces an earlier one"
    );
    writer.shutdown().expect("shutdown");
}

#[test]
fn t8_update_if_exists_and_rotate_run_on_their_own() {
    let fake = Fake::default();
    fake.with(|s| s.hold_sync = true);
    let mut writer = SingleWriter::spawn(fake.clone(), 16).expect("spawn");
    let first = writer.submit(write("a")).expect("submit");
    fake.wait_for_blocked_sync();
    let tickets = vec![
        writer.submit(write("b")).expect("submit"),
        writer
            .submit(Request::UpdateIfExists {
                key: k("b"),
                value: k("new"),
            })
            .expect("submit"),
        writer
            .submit(Request::UpdateIfExists {
                key: k("zz"),
                value: k("new"),
            })
            .expect("submit"),
        writer.submit(write("c")).expect("submit"),
        writer.submit(Request::Rotate).expect("submit"),
        writer.submit(write("d")).expect("submit"),
    ];
    fake.with(|s| s.hold_sync = false);
    wait_ticket(first).expect("write");
    let answers: Vec<bool> = tickets
        .into_iter()
        .map(|t| wait_ticket(t).expect("answer"))
        .collect();
    assert_eq!(
        answers,
        [true, true, false, true, true, true],
        "b is written; b exists, so the update happens (true); zz does not (false)"
    );
    assert_eq!(
        fake.events()[3..],
        [
            Event::Log(k("b")),
            Event::Sync,
            Event::Apply(vec![k("b")]),
            Event::Exists(k("b")),
            Event::Log(k("b")),
            Event::Sync,
            Event::Apply(vec![k("b")]),
            Event::Exists(k("zz")),
            Event::Log(k("c")),
            Event::Sync,
            Event::Apply(vec![k("c")]),
            Event::Rotate,
            Event::Log(k("d")),
            Event::Sync,
            Event::Apply(vec![k("d")]),
        ],
        "an UpdateIfExists or a Rotate first commits the run of writes before it (so `exists` \
         sees them), then runs on its own; a failed condition writes nothing"
    );
    writer.shutdown().expect("shutdown");
}

#[test]
fn t8_a_failed_sync_fails_its_group_and_everything_after() {
    let fake = Fake::default();
    fake.with(|s| {
        s.hold_sync = true;
        s.fail_sync = Some(2);
    });
    let mut writer = SingleWriter::spawn(fake.clone(), 16).expect("spawn");
    let first = writer.submit(write("a")).expect("submit");
    fake.wait_for_blocked_sync();
    let group: Vec<engine::Ticket> = ["b", "c"]
        .iter()
        .map(|k| writer.submit(write(k)).expect("submit"))
        .collect();
    fake.with(|s| s.hold_sync = false);
    assert!(
        wait_ticket(first).expect("the first sync works"),
        "the first write's sync works, so it must be answered Ok(true)"
    );
    for t in group {
        assert!(
            matches!(wait_ticket(t), Err(DbError::Failed(m)) if m.contains("injected sync failure")),
            "every write of the group whose sync failed gets DbError::Failed with the sync's \
             message"
        );
    }
    let events_after_failure = fake.events().len();
    let later = writer.submit(write("d")).expect("submit");
    assert!(
        matches!(wait_ticket(later), Err(DbError::Failed(_))),
        "after a failed sync the writer refuses every write: the log's state is unknown"
    );
    assert_eq!(
        fake.events().len(),
        events_after_failure,
        "a failed writer must not touch the store again"
    );
    assert!(
        !fake.events().contains(&Event::Apply(vec![k("b"), k("c")])),
        "a group whose sync failed must not be applied: readers would see writes that may be lost"
    );
    writer.shutdown().expect("shutdown");
}

#[test]
fn t8_shutdown_answers_every_queued_request_then_closes() {
    let fake = Fake::default();
    fake.with(|s| s.hold_sync = true);
    let mut writer = SingleWriter::spawn(fake.clone(), 4).expect("spawn");
    let first = writer.submit(write("a")).expect("submit");
    fake.wait_for_blocked_sync();
    let queued: Vec<engine::Ticket> = (0..10)
        .map(|i| writer.submit(write(&format!("q{i}"))).expect("submit"))
        .collect();
    let releaser = {
        let fake = fake.clone();
        thread::spawn(move || {
            thread::sleep(Duration::from_millis(20));
            fake.with(|s| s.hold_sync = false);
        })
    };
    writer.shutdown().expect("shutdown");
    releaser.join().expect("releaser");
    assert!(
        wait_ticket(first).expect("answered"),
        "shutdown must let the thread answer the write whose sync was held: Ok(true)"
    );
    for t in queued {
        assert!(
            wait_ticket(t).expect("answered"),
            "shutdown must let the thread answer every request queued before it"
        );
    }
    let syncs = fake.with(|s| s.syncs);
    assert!(
        syncs <= 1 + 3,
        "max_group = 4: the 10 queued writes need at most 3 groups, so at most 4 syncs, got {syncs}"
    );
    assert!(
        matches!(writer.submit(write("late")), Err(DbError::Closed)),
        "submit after shutdown is DbError::Closed"
    );
    writer.shutdown().expect("a second shutdown is Ok");
}
