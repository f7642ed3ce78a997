//! Crash tests for lesson 11: a child process (this test binary, run again
//! with `--exact CHILD --ignored`) writes, prints every write that returned
//! (was acknowledged), and is killed with SIGKILL at a random moment.
//!
//! - `t2_crash_`: the child appends batches to a `Wal` and syncs after each.
//!   After the kill, `read_wal` must return every acknowledged batch, whole,
//!   in order, and nothing but whole batches.
//! - `t7_crash_` (the `Locked` path) and `t8_crash_` (the single writer): two
//!   threads in the child put, delete and write batches through a `Db` with
//!   a small memtable, so flushes and compactions run while it is killed.
//!   The next child first checks what survived, then goes on writing on the
//!   same directory, so recovery itself is also interrupted now and then.
//!   The rules: every acknowledged write is there (with its exact value), an
//!   acknowledged delete stays deleted, and a batch is there whole or not at
//!   all, acknowledged or not.
//!
//! Sizes come from environment variables, with defaults meant for CI:
//! - `ENGINE_CRASH_ROUNDS` (default 20): children started and killed per test;
//! - `ENGINE_CRASH_SEED`: the random choices; each test prints the seed it
//!   used, so a failing run can be repeated.

#![cfg(not(loom))]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::env;
use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use common::{Rng, clock_seed, env_number, memory_tempdir};
use engine::{Batch, Config, Db, Wal, WritePath, read_wal, wal_path};
use simfs::RealFs;

/// How long the parent waits for the child's next line.
const LINE_DEADLINE: Duration = Duration::from_secs(20);
/// How long a child that has done its writes waits to be killed.
const CHILD_IDLE: Duration = Duration::from_secs(60);
const DIR_ENV: &str = "ENGINE_CRASH_CHILD_DIR";
const SEED_ENV: &str = "ENGINE_CRASH_CHILD_SEED";
const ROUND_ENV: &str = "ENGINE_CRASH_CHILD_ROUND";
const PATH_ENV: &str = "ENGINE_CRASH_CHILD_PATH";
/// The store crash tests start a fresh store after this many rounds.
const ROUNDS_PER_STORE: u64 = 20;

fn seed() -> u64 {
    env::var("ENGINE_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(clock_seed)
}

// ================================================================ the WAL

const WAL_CHILD: &str = "t2_crash_child_appends_until_killed";

/// The batch with number `n` of round `round`: 1 to 4 puts, sometimes a
/// large value, so that a frame can straddle the write buffer.
fn wal_batch(round: u64, n: u64) -> Batch {
    let mut rng = Rng(round * 1_000_003 + n);
    let mut batch = Batch::new();
    for j in 0..1 + rng.below(4) {
        let len = if rng.below(8) == 0 {
            20_000 + rng.below(60_000)
        } else {
            rng.below(100)
        };
        let value: Vec<u8> = (0..len).map(|i| (i as u8).wrapping_add(n as u8)).collect();
        batch.put(format!("r{round}-b{n}-{j}"), value);
    }
    batch
}

#[test]
fn t2_crash_sigkill_keeps_every_acknowledged_batch() {
    let rounds = env_number("ENGINE_CRASH_ROUNDS", 20).max(1);
    let seed = seed();
    eprintln!("WAL crash test: {rounds} rounds, ENGINE_CRASH_SEED={seed}");
    let mut rng = Rng(seed);
    let dir = memory_tempdir();
    for round in 1..=rounds {
        let context = format!("round {round} of {rounds} (ENGINE_CRASH_SEED={seed})");
        let stderr_path = dir.path().join(format!("child-{round}.stderr"));
        let mut child = spawn_child(WAL_CHILD, dir.path(), round, rng.next(), None, &stderr_path);
        let lines = read_lines(&mut child.0);
        let wanted = rng.below(12);
        let mut acked = None;
        for _ in 0..wanted {
            let line = next_line(&lines, &context, &stderr_path);
            acked = line
                .strip_prefix("ack ")
                .and_then(|n| n.parse::<u64>().ok())
                .or(acked);
        }
        thread::sleep(Duration::from_micros(rng.below(3_000)));
        child.kill();
        for line in lines.iter() {
            acked = line
                .strip_prefix("ack ")
                .and_then(|n| n.parse::<u64>().ok())
                .or(acked);
        }
        let contents = read_wal(&RealFs, &wal_path(dir.path(), round)).unwrap_or_else(|e| {
            panic!("{context}: read_wal after a SIGKILL failed with `{e}`; a kill can only tear the tail")
        });
        for (n, batch) in contents.batches.iter().enumerate() {
            assert!(
                *batch == wal_batch(round, n as u64),
                "{context}: batch {n} read back is not the batch appended as number {n}"
            );
        }
        if let Some(acked) = acked {
            assert!(
                contents.batches.len() as u64 > acked,
                "{context}: batch {acked} was acknowledged (its sync had returned), but the log \
                 holds only {} batches",
                contents.batches.len()
            );
        }
    }
}

/// The WAL crash test's child: appends batches to the log of its round,
/// syncs after each, and prints its number once the sync has returned.
#[test]
#[ignore = "entry point of a crash test's child process"]
fn t2_crash_child_appends_until_killed() {
    let Some((dir, round, _)) = child_env() else {
        return;
    };
    let mut wal = Wal::create(&RealFs, &dir, round).expect("child: create the WAL");
    let mut out = std::io::stdout().lock();
    for n in 0..200 {
        wal.append(&wal_batch(round, n)).expect("child: append");
        wal.sync().expect("child: sync");
        writeln!(out, "ack {n}").expect("child: print");
        out.flush().expect("child: flush stdout");
    }
    thread::sleep(CHILD_IDLE);
}

// ================================================================ the store

const DB_CHILD: &str = "t7_crash_child_writes_until_killed";

/// What the parent knows must hold in the store.
#[derive(Debug, Default)]
struct Expect {
    /// Acknowledged puts, not deleted since: exactly this value.
    present: BTreeMap<String, String>,
    /// Acknowledged deletes: absent.
    absent: BTreeSet<String>,
    /// Unacknowledged puts and deletes: absent, or exactly this value.
    maybe: BTreeMap<String, String>,
    /// Batches: all of their keys present, or (if unacknowledged) none.
    batches: Vec<(bool, Vec<String>)>,
}

fn value_of(key: &str) -> String {
    format!("value-of-{key}")
}

impl Expect {
    /// Applies one line printed by a child.
    fn apply(&mut self, line: &str) {
        let mut words = line.split_whitespace();
        match (words.next(), words.next()) {
            (Some("begin-put"), Some(k)) => {
                self.maybe.insert(k.into(), value_of(k));
            }
            (Some("ack-put"), Some(k)) => {
                self.maybe.remove(k);
                self.present.insert(k.into(), value_of(k));
            }
            (Some("begin-del"), Some(k)) if self.present.remove(k).is_some() => {
                self.maybe.insert(k.into(), value_of(k));
            }
            (Some("ack-del"), Some(k)) => {
                self.maybe.remove(k);
                self.present.remove(k);
                self.absent.insert(k.into());
            }
            (Some("begin-batch"), Some(first)) => {
                let mut keys = vec![first.to_string()];
                keys.extend(words.map(String::from));
                self.batches.push((false, keys));
            }
            (Some("ack-batch"), Some(first)) => {
                if let Some(b) = self.batches.iter_mut().find(|(_, keys)| keys[0] == first) {
                    b.0 = true;
                }
            }
            _ => {}
        }
    }

    /// Checks `db`; the first broken rule, explained.
    fn check(&self, db: &Db) -> Result<(), String> {
        let get = |k: &str| -> Result<Option<String>, String> {
            db.get(k.as_bytes())
                .map(|v| v.map(|v| String::from_utf8_lossy(&v).into_owned()))
                .map_err(|e| format!("get({k}) failed: {e}"))
        };
        for (k, v) in &self.present {
            if get(k)?.as_ref() != Some(v) {
                return Err(format!(
                    "{k} was put and the put was acknowledged, but after the crash get({k}) is \
                     {:?}",
                    get(k)?
                ));
            }
        }
        for k in &self.absent {
            if let Some(v) = get(k)? {
                return Err(format!(
                    "{k} was deleted and the delete was acknowledged, but after the crash it is \
                     back with {v:?}"
                ));
            }
        }
        for (k, v) in &self.maybe {
            if let Some(got) = get(k)?
                && &got != v
            {
                return Err(format!("{k} holds {got:?}, a value nobody wrote"));
            }
        }
        for (acked, keys) in &self.batches {
            let mut present = 0;
            for k in keys {
                match get(k)? {
                    Some(v) if v == value_of(k) => present += 1,
                    Some(v) => return Err(format!("{k} holds {v:?}, a value nobody wrote")),
                    None => {}
                }
            }
            if *acked && present != keys.len() {
                return Err(format!(
                    "the batch {keys:?} was acknowledged, but only {present} of its keys are there"
                ));
            }
            if present != 0 && present != keys.len() {
                return Err(format!(
                    "the batch {keys:?} is there in part ({present} of {} keys): a batch must be \
                     all or nothing",
                    keys.len()
                ));
            }
        }
        Ok(())
    }

    fn save(&self, path: &Path) {
        let mut text = String::new();
        for k in self.present.keys() {
            let _ = writeln!(text, "ack-put {k}");
        }
        for k in &self.absent {
            let _ = writeln!(text, "ack-del {k}");
        }
        for k in self.maybe.keys() {
            let _ = writeln!(text, "begin-put {k}");
        }
        for (acked, keys) in &self.batches {
            let _ = writeln!(text, "begin-batch {}", keys.join(" "));
            if *acked {
                let _ = writeln!(text, "ack-batch {}", keys[0]);
            }
        }
        fs::write(path, text).expect("write the expectations");
    }

    fn load(path: &Path) -> Expect {
        let mut expect = Expect::default();
        for line in fs::read_to_string(path).unwrap_or_default().lines() {
            expect.apply(line);
        }
        expect
    }
}

fn crash_config(path: WritePath) -> Config {
    Config {
        write_path: path,
        memtable_bytes: 3_000,
        sync_writes: true,
        block_bytes: 512,
        compaction_trigger: 3,
        ..Config::default()
    }
}

fn store_crash_test(path: WritePath) {
    let rounds = env_number("ENGINE_CRASH_ROUNDS", 20).max(1);
    let seed = seed();
    eprintln!("store crash test ({path:?}): {rounds} rounds, ENGINE_CRASH_SEED={seed}");
    let mut rng = Rng(seed);
    let tmp = memory_tempdir();
    let mut store = PathBuf::new();
    let mut expect = Expect::default();
    for round in 1..=rounds {
        if (round - 1) % ROUNDS_PER_STORE == 0 {
            // A fresh store now and then keeps a long soak linear in time.
            let _ = fs::remove_dir_all(&store);
            store = tmp
                .path()
                .join(format!("store-{}", (round - 1) / ROUNDS_PER_STORE));
            expect = Expect::default();
        }
        let context =
            format!("{path:?} path, round {round} of {rounds} (ENGINE_CRASH_SEED={seed})");
        expect.save(&tmp.path().join("expect.txt"));
        let stderr_path = tmp.path().join(format!("child-{round}.stderr"));
        let mut child = spawn_child(
            DB_CHILD,
            &store,
            round,
            rng.next(),
            Some(path),
            &stderr_path,
        );
        let lines = read_lines(&mut child.0);
        if rng.below(5) == 0 {
            // Now and then, kill the child while it is still recovering.
            thread::sleep(Duration::from_micros(rng.below(20_000)));
            child.kill();
            for line in lines.iter() {
                expect.apply(&line);
            }
            continue;
        }
        loop {
            let line = next_line(&lines, &context, &stderr_path);
            if line.contains("verified") {
                break;
            }
        }
        let wanted = rng.below(40);
        let mut acks = 0;
        while acks < wanted {
            let line = next_line(&lines, &context, &stderr_path);
            if line.starts_with("ack") {
                acks += 1;
            }
            expect.apply(&line);
        }
        thread::sleep(Duration::from_micros(rng.below(4_000)));
        child.kill();
        for line in lines.iter() {
            expect.apply(&line);
        }
    }
    let db = Db::open(&store, crash_config(path))
        .unwrap_or_else(|e| panic!("opening the store after the last crash failed: {e}"));
    if let Err(broken) = expect.check(&db) {
        panic!("after the last crash (ENGINE_CRASH_SEED={seed}): {broken}");
    }
    db.close().expect("close");
}

#[test]
fn t7_crash_sigkill_locked_store_keeps_every_acknowledged_write() {
    store_crash_test(WritePath::Locked);
}

#[test]
fn t8_crash_sigkill_single_writer_store_keeps_every_acknowledged_write() {
    store_crash_test(WritePath::SingleWriter);
}

/// The store crash tests' child: checks what the last crash left (against
/// `expect.txt`), then writes from two threads, printing `begin-...` before
/// and `ack-...` after each write, until it is killed.
#[test]
#[ignore = "entry point of a crash test's child process"]
fn t7_crash_child_writes_until_killed() {
    let Some((dir, round, seed)) = child_env() else {
        return;
    };
    let path = match env::var(PATH_ENV).as_deref() {
        Ok("SingleWriter") => WritePath::SingleWriter,
        _ => WritePath::Locked,
    };
    let expect = Expect::load(&dir.with_file_name("expect.txt"));
    let db = Db::open(&dir, crash_config(path)).expect("child: open the store after a crash");
    if let Err(broken) = expect.check(&db) {
        panic!("child of round {round}: after the previous crash, {broken}");
    }
    let out = Arc::new(Mutex::new(std::io::stdout()));
    let say = |out: &Mutex<std::io::Stdout>, line: String| {
        let mut out = out.lock().expect("stdout");
        writeln!(out, "{line}").expect("child: print");
        out.flush().expect("child: flush stdout");
    };
    say(&out, "verified".into());
    thread::scope(|s| {
        for t in 0..2u64 {
            let (db, out) = (&db, &out);
            s.spawn(move || {
                let mut rng = Rng(seed + t);
                let mut mine: Vec<String> = Vec::new();
                for n in 0..2_000 {
                    let key = format!("r{round}-t{t}-{n}");
                    match rng.below(10) {
                        0..=5 => {
                            say(out, format!("begin-put {key}"));
                            db.put(key.as_bytes(), value_of(&key).as_bytes())
                                .expect("child: put");
                            say(out, format!("ack-put {key}"));
                            mine.push(key);
                        }
                        6..=7 => {
                            let keys: Vec<String> = (0..1 + rng.below(4))
                                .map(|j| format!("{key}-{j}"))
                                .collect();
                            let mut batch = Batch::new();
                            for k in &keys {
                                batch.put(k, value_of(k));
                            }
                            say(out, format!("begin-batch {}", keys.join(" ")));
                            db.write_batch(&batch).expect("child: write_batch");
                            say(out, format!("ack-batch {}", keys[0]));
                        }
                        _ => {
                            if mine.is_empty() {
                                continue;
                            }
                            let victim = mine.swap_remove(rng.below(mine.len() as u64) as usize);
                            say(out, format!("begin-del {victim}"));
                            db.delete(victim.as_bytes()).expect("child: delete");
                            say(out, format!("ack-del {victim}"));
                        }
                    }
                }
            });
        }
    });
    thread::sleep(CHILD_IDLE);
}

// ================================================================ helpers

/// The child's directory, round and seed, or `None` (with a note) when the
/// child test is run by itself.
fn child_env() -> Option<(PathBuf, u64, u64)> {
    let Some(dir) = env::var_os(DIR_ENV) else {
        eprintln!("this test only runs as the child of a crash test");
        return None;
    };
    Some((
        PathBuf::from(dir),
        env_number(ROUND_ENV, 1),
        env_number(SEED_ENV, 1),
    ))
}

fn spawn_child(
    test: &str,
    dir: &Path,
    round: u64,
    seed: u64,
    path: Option<WritePath>,
    stderr_path: &Path,
) -> ChildGuard {
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
        .env(DIR_ENV, dir)
        .env(ROUND_ENV, round.to_string())
        .env(SEED_ENV, seed.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(File::create(stderr_path).expect("create the child's stderr file"));
    if let Some(path) = path {
        command.env(PATH_ENV, format!("{path:?}"));
    }
    ChildGuard(command.spawn().expect("start the child process"))
}

fn next_line(lines: &mpsc::Receiver<String>, context: &str, stderr_path: &Path) -> String {
    match lines.recv_timeout(LINE_DEADLINE) {
        Ok(line) => line,
        Err(RecvTimeoutError::Timeout) => {
            panic!("{context}: the child printed nothing for {LINE_DEADLINE:?}")
        }
        Err(RecvTimeoutError::Disconnected) => panic!(
            "{context}: the child stopped before it was killed; its stderr:\n{}",
            fs::read_to_string(stderr_path).unwrap_or_default()
        ),
    }
}

/// Reads a child's stdout lines on a thread of their own; the channel
/// disconnects when the child's stdout closes.
fn read_lines(child: &mut Child) -> mpsc::Receiver<String> {
    let stdout = child.stdout.take().expect("stdout is piped");
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            // libtest may print "test NAME ... " on the same line first.
            let line = match line.find("test ").zip(line.find(" ... ")) {
                Some((0, end)) => line[end + 5..].to_string(),
                _ => line,
            };
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
