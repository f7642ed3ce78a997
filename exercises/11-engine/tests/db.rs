//! Graded tests for lesson 11: the whole store, `Db`.
//!
//! - `t7_` grades task 7 (the manifest and the lock file): with them the
//!   store survives a restart, keeps a second process out, and refuses
//!   corrupt files. These tests use the `Locked` write path, which is given.
//! - `t8_` grades task 8 (the single writer): the same checks with
//!   `WritePath::SingleWriter`, and readers racing writers, flushes and
//!   compactions on both paths.
//!
//! The model tests run `ENGINE_PROPTEST_CASES` cases (default 64) of random
//! operations (put, delete, batch, update-if-exists, get, scan, flush,
//! compact, reopen) and compare the store with a `BTreeMap` after each one.
//! A failing case is shrunk, and proptest prints the smallest sequence of
//! operations that still fails.

#![cfg(not(loom))]

mod common;

use std::collections::BTreeMap;
use std::env;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use common::{memory_tempdir, small_config};
use engine::{Batch, Config, Db, DbError, MANIFEST_FILE, WritePath};
use proptest::prelude::*;

/// How long a test waits for a child process.
const DEADLINE: Duration = Duration::from_secs(20);

fn config(path: WritePath) -> Config {
    Config {
        write_path: path,
        ..small_config()
    }
}

fn open(dir: &Path, path: WritePath) -> Db {
    Db::open(dir, config(path))
        .unwrap_or_else(|e| panic!("Db::open({}) failed: {e}", dir.display()))
}

fn b(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

fn pairs(items: &[(&str, &str)]) -> Vec<(Vec<u8>, Vec<u8>)> {
    items.iter().map(|(k, v)| (b(k), b(v))).collect()
}

// ------------------------------------------------------------ every operation

fn every_operation(path: WritePath) {
    let dir = memory_tempdir();
    let db = open(dir.path(), path);
    db.put(b"apple", b"red").expect("put");
    db.put(b"banana", b"yellow").expect("put");
    db.put(b"cherry", b"dark").expect("put");
    assert_eq!(
        db.get(b"apple").expect("get"),
        Some(b("red")),
        "get after put"
    );
    assert_eq!(db.get(b"durian").expect("get"), None, "a key never written");
    db.delete(b"banana").expect("delete");
    assert_eq!(db.get(b"banana").expect("get"), None, "get after delete");
    assert!(
        db.update_if_exists(b"apple", b"green").expect("update"),
        "update_if_exists on an existing key returns true"
    );
    assert!(
        !db.update_if_exists(b"banana", b"brown").expect("update"),
        "update_if_exists on a deleted key returns false and writes nothing"
    );
    assert_eq!(
        db.get(b"banana").expect("get"),
        None,
        "a failed update_if_exists on the deleted banana must write nothing: get must still give None"
    );
    let mut batch = Batch::new();
    batch
        .put("date", "brown")
        .put("elder", "black")
        .delete("cherry");
    db.write_batch(&batch).expect("write_batch");
    db.flush().expect("flush");
    assert_eq!(
        db.stats().expect("stats").frozen_memtables,
        0,
        "after flush() returns, every frozen memtable is in an SSTable"
    );
    assert!(
        db.stats().expect("stats").tables >= 1,
        "flush() wrote an SSTable"
    );
    db.put(b"fig", b"purple").expect("put");
    db.delete(b"date").expect("delete");
    let want = pairs(&[("apple", "green"), ("elder", "black"), ("fig", "purple")]);
    assert_eq!(
        db.scan(..).expect("scan"),
        want,
        "scan(..) after the writes"
    );
    assert_eq!(
        db.scan(b("b")..b("f")).expect("scan"),
        pairs(&[("elder", "black")]),
        "scan(b..f)"
    );
    db.compact().expect("compact");
    let stats = db.stats().expect("stats");
    assert_eq!(stats.tables, 1, "compact() merges every SSTable into one");
    assert_eq!(
        stats.table_entries, 3,
        "and drops the tombstones and shadowed values: 3 live keys are left"
    );
    assert_eq!(
        db.scan(..).expect("scan"),
        want,
        "compaction changes no read"
    );
    db.close().expect("close");

    let db = open(dir.path(), path);
    assert_eq!(
        db.scan(..).expect("scan"),
        want,
        "after close and reopen, the store holds what it held"
    );
    db.put(b"grape", b"green").expect("put");
    drop(db); // dropping closes too
    let db = open(dir.path(), path);
    assert_eq!(
        db.get(b"grape").expect("get"),
        Some(b("green")),
        "a write before a drop survives the reopen"
    );
    db.close().expect("close");
}

#[test]
fn t7_every_operation_works_and_survives_a_reopen() {
    every_operation(WritePath::Locked);
}

#[test]
fn t8_every_operation_works_with_the_single_writer() {
    every_operation(WritePath::SingleWriter);
}

// ------------------------------------------------------------ the lock

/// The child's test, run by the lock test in a process of its own.
const LOCK_CHILD: &str = "t7_lock_child_holds_the_store_open";
const LOCK_DIR_ENV: &str = "ENGINE_LOCK_CHILD_DIR";

#[test]
fn t7_a_second_process_gets_a_locked_error() {
    let dir = memory_tempdir();
    let mut child = ChildGuard(
        Command::new(env::current_exe().expect("the test binary's path"))
            .args([
                "--exact",
                LOCK_CHILD,
                "--ignored",
                "--nocapture",
                "--test-threads",
                "1",
            ])
            .env(LOCK_DIR_ENV, dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the child process"),
    );
    let lines = read_lines(&mut child.0);
    loop {
        match lines.recv_timeout(DEADLINE) {
            Ok(line) if line.contains("store-open") => break,
            Ok(_) => continue,
            Err(_) => panic!("the child process never opened the store"),
        }
    }
    match Db::open(dir.path(), Config::default()) {
        Err(DbError::Locked { dir: locked }) => assert_eq!(
            locked,
            dir.path(),
            "DbError::Locked must name the store's directory"
        ),
        Ok(_) => panic!(
            "a second process opened a store that another process has open: two writers on one \
             directory corrupt it; Db::open must fail with DbError::Locked"
        ),
        Err(other) => panic!("expected DbError::Locked, got `{other}`"),
    }
    child.kill();
    let db = Db::open(dir.path(), Config::default())
        .expect("the lock dies with the process that held it: opening must work now");
    assert_eq!(
        db.get(b"child").expect("get"),
        Some(b("was here")),
        "the child's acknowledged write is there"
    );
    assert!(
        matches!(
            Db::open(dir.path(), Config::default()),
            Err(DbError::Locked { .. })
        ),
        "a second Db on the same directory in the same process is refused too"
    );
    db.close().expect("close");
}

/// The child process of the lock test: opens the store, writes, says so,
/// and waits to be killed.
#[test]
#[ignore = "entry point of the lock test's child process"]
fn t7_lock_child_holds_the_store_open() {
    let Some(dir) = env::var_os(LOCK_DIR_ENV) else {
        eprintln!("{LOCK_CHILD} only runs as the child of t7_a_second_process_gets_a_locked_error");
        return;
    };
    let config = Config {
        sync_writes: true,
        ..Config::default()
    };
    let db = Db::open(PathBuf::from(dir), config).expect("child: open");
    db.put(b"child", b"was here").expect("child: put");
    println!("store-open");
    thread::sleep(Duration::from_secs(60));
    drop(db);
}

// ------------------------------------------------------------ corruption

fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| {
            let e = e.expect("entry");
            (
                e.file_name().to_string_lossy().into_owned(),
                fs::read(e.path()).expect("read"),
            )
        })
        .collect()
}

#[test]
fn t7_corrupt_files_are_refused_and_nothing_is_changed() {
    let dir = memory_tempdir();
    let db = open(dir.path(), WritePath::Locked);
    for i in 0..50 {
        db.put(format!("key{i:03}").as_bytes(), b"some value")
            .expect("put");
    }
    db.close().expect("close");

    // A damaged manifest: the store must not open, and must touch nothing.
    let manifest = dir.path().join(MANIFEST_FILE);
    let good = fs::read(&manifest).expect("read MANIFEST");
    let mut bad = good.clone();
    let at = bad.len() / 2;
    bad[at] ^= 0x04;
    fs::write(&manifest, &bad).expect("write");
    let before = snapshot(dir.path());
    match Db::open(dir.path(), config(WritePath::Locked)) {
        Err(DbError::Corrupt(_)) => {}
        Ok(_) => panic!("a damaged MANIFEST must not open"),
        Err(other) => panic!("a damaged MANIFEST must be DbError::Corrupt, got `{other}`"),
    }
    assert_eq!(
        snapshot(dir.path()),
        before,
        "a failed open must leave every file as it was: a human may still repair it"
    );
    fs::write(&manifest, &good).expect("restore");

    // A damaged data block: the store opens, but reading the block fails.
    let table = fs::read_dir(dir.path())
        .expect("read_dir")
        .map(|e| e.expect("entry").path())
        .find(|p| p.extension().is_some_and(|e| e == "sst"))
        .expect("close() wrote an SSTable");
    let good_table = fs::read(&table).expect("read");
    let mut bad_table = good_table.clone();
    bad_table[10] ^= 0x01;
    fs::write(&table, &bad_table).expect("write");
    let db = open(dir.path(), WritePath::Locked);
    assert!(
        matches!(db.get(b"key000"), Err(DbError::Corrupt(_))),
        "a key in a damaged block must be DbError::Corrupt, never a wrong value"
    );
    assert!(
        matches!(db.scan(..), Err(DbError::Corrupt(_))),
        "a scan over a damaged block must be DbError::Corrupt"
    );
    drop(db);
    fs::write(&table, &good_table).expect("restore");
    let db = open(dir.path(), WritePath::Locked);
    assert_eq!(
        db.scan(..).expect("scan").len(),
        50,
        "restored, all 50 keys read back"
    );
    db.close().expect("close");
}

#[test]
fn t7_background_compaction_keeps_the_table_count_down() {
    let dir = memory_tempdir();
    let db = open(dir.path(), WritePath::Locked);
    for round in 0..30u32 {
        for i in 0..40u32 {
            db.put(format!("key{i:03}").as_bytes(), &round.to_be_bytes())
                .expect("put");
        }
        db.flush().expect("flush");
    }
    let stats = db.stats().expect("stats");
    assert!(
        stats.compactions > 0,
        "30 flushes with compaction_trigger = 3 must have started background compactions"
    );
    assert!(
        stats.tables <= 8,
        "background compaction must keep the number of tables down; {} tables after 30 flushes",
        stats.tables
    );
    for i in 0..40u32 {
        assert_eq!(
            db.get(format!("key{i:03}").as_bytes()).expect("get"),
            Some(29u32.to_be_bytes().to_vec()),
            "every key holds its last value after the compactions"
        );
    }
    db.close().expect("close");
    let files = fs::read_dir(dir.path()).expect("read_dir").count();
    assert!(
        files <= 12,
        "compacted tables' files and flushed WALs must be deleted; {files} files are left"
    );
}

// ------------------------------------------------------------ the model

/// One step of the model test. Keys and values are short strings so that a
/// shrunk failing case reads well.
#[derive(Debug, Clone)]
enum DbOp {
    Put(String, String),
    Delete(String),
    Batch(Vec<(String, Option<String>)>),
    UpdateIfExists(String, String),
    Get(String),
    Scan(String, String),
    Flush,
    Compact,
    Reopen,
}

fn key_s() -> impl Strategy<Value = String> {
    (0u8..16).prop_map(|k| format!("k{k:02}"))
}

fn value_s() -> impl Strategy<Value = String> {
    (0u16..1000, 0usize..60).prop_map(|(v, pad)| format!("v{v}{}", "-".repeat(pad)))
}

fn db_op() -> impl Strategy<Value = DbOp> {
    prop_oneof![
        8 => (key_s(), value_s()).prop_map(|(k, v)| DbOp::Put(k, v)),
        3 => key_s().prop_map(DbOp::Delete),
        2 => proptest::collection::vec((key_s(), proptest::option::of(value_s())), 1..5)
            .prop_map(DbOp::Batch),
        2 => (key_s(), value_s()).prop_map(|(k, v)| DbOp::UpdateIfExists(k, v)),
        3 => key_s().prop_map(DbOp::Get),
        2 => (key_s(), key_s()).prop_map(|(a, b)| DbOp::Scan(a, b)),
        1 => Just(DbOp::Flush),
        1 => Just(DbOp::Compact),
        1 => Just(DbOp::Reopen),
    ]
}

fn run_model(path: WritePath, ops: &[DbOp]) -> Result<(), TestCaseError> {
    let dir = memory_tempdir();
    let mut db = Some(open(dir.path(), path));
    let mut model: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
    for (step, op) in ops.iter().enumerate() {
        let d = db.as_ref().expect("open");
        let at = format!("step {step} ({op:?})");
        match op {
            DbOp::Put(k, v) => {
                d.put(k.as_bytes(), v.as_bytes()).expect("put");
                model.insert(b(k), b(v));
            }
            DbOp::Delete(k) => {
                d.delete(k.as_bytes()).expect("delete");
                model.remove(&b(k));
            }
            DbOp::Batch(items) => {
                let mut batch = Batch::new();
                for (k, v) in items {
                    match v {
                        Some(v) => {
                            batch.put(k, v);
                            model.insert(b(k), b(v));
                        }
                        None => {
                            batch.delete(k);
                            model.remove(&b(k));
                        }
                    }
                }
                d.write_batch(&batch).expect("write_batch");
            }
            DbOp::UpdateIfExists(k, v) => {
                let exists = model.contains_key(&b(k));
                let got = d
                    .update_if_exists(k.as_bytes(), v.as_bytes())
                    .expect("update");
                prop_assert_eq!(
                    got,
                    exists,
                    "{}: update_if_exists must return whether {} had a value",
                    at,
                    k
                );
                if exists {
                    model.insert(b(k), b(v));
                }
            }
            DbOp::Get(k) => {
                let got = d.get(k.as_bytes()).expect("get");
                prop_assert_eq!(got, model.get(&b(k)).cloned(), "{}", at);
            }
            DbOp::Scan(a, z) => {
                let got = d.scan(b(a)..=b(z)).expect("scan");
                let want: Vec<(Vec<u8>, Vec<u8>)> = if a <= z {
                    model
                        .range(b(a)..=b(z))
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect()
                } else {
                    Vec::new()
                };
                prop_assert_eq!(got, want, "{}", at);
            }
            DbOp::Flush => d.flush().expect("flush"),
            DbOp::Compact => {
                d.compact().expect("compact");
                let stats = d.stats().expect("stats");
                prop_assert!(
                    stats.tables <= 1,
                    "{}: compact() leaves at most one table",
                    at
                );
            }
            DbOp::Reopen => {
                db.take().expect("open").close().expect("close");
                db = Some(open(dir.path(), path));
            }
        }
    }
    let d = db.take().expect("open");
    let want: Vec<(Vec<u8>, Vec<u8>)> = model.into_iter().collect();
    prop_assert_eq!(
        d.scan(..).expect("scan"),
        want.clone(),
        "scan(..) after every step"
    );
    d.close().expect("close");
    let d = open(dir.path(), path);
    prop_assert_eq!(
        d.scan(..).expect("scan"),
        want,
        "scan(..) after a final reopen"
    );
    d.close().expect("close");
    Ok(())
}

fn model_config() -> ProptestConfig {
    ProptestConfig {
        cases: common::env_number("ENGINE_PROPTEST_CASES", 64) as u32,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(model_config())]

    #[test]
    fn t7_model_locked_store_matches_a_btreemap(ops in proptest::collection::vec(db_op(), 1..80)) {
        run_model(WritePath::Locked, &ops)?;
    }

    #[test]
    fn t8_model_single_writer_store_matches_a_btreemap(ops in proptest::collection::vec(db_op(), 1..80)) {
        run_model(WritePath::SingleWriter, &ops)?;
    }
}

// ------------------------------------------------------------ concurrency

/// Writers count up, each on its own pair of keys, always writing both keys
/// of the pair in one batch. Readers must never see a count go down (a
/// value going backwards), and a scan of a pair must always show both keys
/// with the same count (a batch is atomic). Flushes and compactions run all
/// the while, so the values move from the memtable to frozen memtables to
/// SSTables and into compacted ones under the readers' feet.
fn readers_never_go_backwards(path: WritePath) {
    const WRITERS: usize = 3;
    const READERS: usize = 2;
    let rounds = common::env_number("ENGINE_CONCURRENCY_ROUNDS", 1000);
    let dir = memory_tempdir();
    let config = Config {
        write_path: path,
        memtable_bytes: 1_500,
        sync_writes: false,
        block_bytes: 256,
        compaction_trigger: 3,
        ..Config::default()
    };
    let db = Db::open(dir.path(), config).expect("open");
    let done = AtomicBool::new(false);
    let pair = |w: usize| {
        (
            format!("w{w}-a").into_bytes(),
            format!("w{w}-b").into_bytes(),
        )
    };
    let count = |v: Option<Vec<u8>>| -> u64 {
        v.map_or(0, |v| {
            u64::from_be_bytes(v.try_into().expect("an 8-byte count"))
        })
    };
    thread::scope(|s| {
        let mut writers = Vec::new();
        for w in 0..WRITERS {
            let db = &db;
            writers.push(s.spawn(move || {
                let (a, b) = pair(w);
                for n in 1..=rounds {
                    let mut batch = Batch::new();
                    batch.put(&a, n.to_be_bytes()).put(&b, n.to_be_bytes());
                    // Padding, so that memtables fill up and flush often.
                    batch.put(format!("pad{w}-{}", n % 50), [0u8; 40]);
                    db.write_batch(&batch).expect("write_batch");
                }
            }));
        }
        let maintenance = {
            let (db, done) = (&db, &done);
            s.spawn(move || {
                let mut i = 0u64;
                while !done.load(Ordering::Acquire) {
                    db.flush().expect("flush");
                    if i % 4 == 3 {
                        db.compact().expect("compact");
                    }
                    i += 1;
                }
            })
        };
        let mut readers = Vec::new();
        for _ in 0..READERS {
            let (db, done) = (&db, &done);
            readers.push(s.spawn(move || {
                let mut last = [0u64; WRITERS];
                let mut reads = 0u64;
                while !done.load(Ordering::Acquire) || reads < 100 {
                    for (w, last) in last.iter_mut().enumerate() {
                        let (a, b) = pair(w);
                        let now = count(db.get(&a).expect("get"));
                        assert!(
                            now >= *last,
                            "get({}) went backwards from {} to {now}: a reader must never see an \
                             older value after a newer one, also while memtables are flushed and \
                             tables compacted",
                            String::from_utf8_lossy(&a),
                            *last
                        );
                        *last = now;
                        let both = db.scan(a.clone()..=b.clone()).expect("scan");
                        if !both.is_empty() {
                            assert_eq!(
                                both.len(),
                                2,
                                "scan of a pair written in one batch shows one key without the \
                                 other: {both:?}"
                            );
                            assert_eq!(
                                both[0].1, both[1].1,
                                "scan shows the two keys of one batch with different counts: a \
                                 batch must be applied atomically"
                            );
                            let n = count(Some(both[0].1.clone()));
                            assert!(
                                n >= *last,
                                "scan of the pair of writer {w} went backwards from {} to {n}: a \
                                 reader must never see an older value after a newer one",
                                *last
                            );
                            *last = n;
                        }
                        reads += 1;
                    }
                }
            }));
        }
        for w in writers {
            w.join().expect("a writer panicked");
        }
        done.store(true, Ordering::Release);
        maintenance
            .join()
            .expect("the flush/compact thread panicked");
        for r in readers {
            r.join().expect("a reader panicked (see its message above)");
        }
    });
    for w in 0..WRITERS {
        let (a, b) = pair(w);
        assert_eq!(
            count(db.get(&a).expect("get")),
            rounds,
            "after every writer finished, both keys of writer {w} must hold its final count {rounds}"
        );
        assert_eq!(
            count(db.get(&b).expect("get")),
            rounds,
            "after every writer finished, both keys of writer {w} must hold its final count {rounds}"
        );
    }
    let stats = db.stats().expect("stats");
    assert!(
        stats.flushes > 0 && stats.compactions > 0,
        "the run must have flushed and compacted at least once while readers read, or it \
         tested nothing; stats: {stats:?}"
    );
    db.close().expect("close");
}

#[test]
fn t8_concurrent_readers_never_go_backwards_locked() {
    readers_never_go_backwards(WritePath::Locked);
}

#[test]
fn t8_concurrent_readers_never_go_backwards_single_writer() {
    readers_never_go_backwards(WritePath::SingleWriter);
}

// ------------------------------------------------------------ helpers

/// Reads a child's stdout lines on a thread of their own.
fn read_lines(child: &mut Child) -> mpsc::Receiver<String> {
    let stdout = child.stdout.take().expect("stdout is piped");
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

/// Kills the child with SIGKILL when dropped, so no test leaves one behind.
struct ChildGuard(Child);

impl ChildGuard {
    fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        self.kill();
    }
}
