//! Crash and corruption tests for lesson 09, graded under task 3 (`t3_chaos_`).
//!
//! - `t3_chaos_truncate_at_every_byte_offset`: a log cut short anywhere.
//! - `t3_chaos_flip_every_bit`: a log with any single bit flipped.
//! - `t3_chaos_sigkill_keeps_every_acknowledged_record`: a child process (this
//!   test binary, re-executed to run `t3_chaos_child_appends_until_killed`)
//!   appends and syncs, prints every LSN whose sync returned, and is killed
//!   with SIGKILL at random moments, round after round.
//!
//! After each, recovery must return exactly a prefix of what was written,
//! keep every acknowledged (synced) record, report damage in the middle as
//! an error instead of skipping it, and let appending continue.
//!
//! Sizes come from environment variables, with defaults meant for CI:
//! - `WAL_CHAOS_RECORDS` (default 6): records in the small log that the
//!   truncation and bit-flip tests damage;
//! - `WAL_CHAOS_ROUNDS` (default 20): how many children the SIGKILL test
//!   starts and kills;
//! - `WAL_CHAOS_SEED`: the seed of the SIGKILL test's random choices; the
//!   test prints the seed it used, so a failing run can be repeated.

use std::env;
use std::fs::{self, File};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;
use std::time::{Duration, SystemTime};

mod common;

use common::{env_number, records};
use wal::{LogScan, Record, Wal, WalError, encode_into, read_log, recover};

/// The child's test, run by the SIGKILL test in a process of its own.
const CHILD_TEST: &str = "t3_chaos_child_appends_until_killed";
/// Tells the child where its log lives (and that it is the child).
const CHILD_DIR_ENV: &str = "WAL_CHAOS_CHILD_DIR";
/// Seeds the child's own random choices.
const CHILD_SEED_ENV: &str = "WAL_CHAOS_CHILD_SEED";
/// The child prints this before every acknowledged LSN.
const ACK: &str = "wal-ack ";
/// The child stops appending after this many batches (the parent kills it
/// after at most 10 acknowledgements), so a slow parent does not let the log
/// grow without bound. Then it waits to be killed.
const CHILD_MAX_BATCHES: usize = 60;
/// How long a child that has stopped appending waits to be killed.
const CHILD_IDLE: Duration = Duration::from_secs(30);
/// The SIGKILL test starts a fresh log after this many rounds.
const ROUNDS_PER_LOG: u64 = 20;
/// How long the parent waits for the child to acknowledge something.
const ACK_DEADLINE: Duration = Duration::from_secs(10);

// ------------------------------------------------------- truncation

#[test]
fn t3_chaos_truncate_at_every_byte_offset() {
    let payloads = small_log_payloads();
    let (full, ends) = encode_log(&payloads);
    let dir = memory_tempdir();
    let path = dir.path().join("wal.log");

    for cut in 0..=full.len() {
        fs::write(&path, &full[..cut]).expect("write the cut log");
        let whole = ends.iter().filter(|&&end| end <= cut).count();
        let valid = if whole == 0 { 0 } else { ends[whole - 1] };
        let context = format!("the log of {} bytes cut after byte {cut}", full.len());

        let found = recover(&path).unwrap_or_else(|e| {
            panic!("{context}: recovery failed with `{e}`; a crash can only shorten a log, so this is a torn tail")
        });
        assert_eq!(
            found.records,
            records(&payloads[..whole]),
            "{context}: recovery must return exactly the {whole} records that were written whole"
        );
        assert_eq!(
            found.valid_len, valid as u64,
            "{context}: valid_len must end after the last whole record, at byte {valid}"
        );
        assert_eq!(
            found.torn_at,
            (cut != valid).then_some(valid as u64),
            "{context}: torn_at is where the partial record starts, or None if there is none"
        );
        assert_eq!(
            fs::metadata(&path).expect("the log exists").len(),
            valid as u64,
            "{context}: recover must cut the torn tail off the file"
        );
        append_after_recovery(&path, &records(&payloads[..whole]), &context);
    }
}

// ------------------------------------------------------- bit flips

#[test]
fn t3_chaos_flip_every_bit() {
    let payloads = small_log_payloads();
    let (full, ends) = encode_log(&payloads);
    let last = payloads.len() - 1;
    let last_start = if last == 0 { 0 } else { ends[last - 1] };
    let dir = memory_tempdir();
    let path = dir.path().join("wal.log");

    for bit in 0..full.len() * 8 {
        let byte = bit / 8;
        let mut damaged = full.clone();
        damaged[byte] ^= 1 << (bit % 8);
        fs::write(&path, &damaged).expect("write the damaged log");
        let hit = ends.iter().filter(|&&end| end <= byte).count();
        let hit_start = if hit == 0 { 0 } else { ends[hit - 1] };
        let context = format!(
            "bit {} of byte {byte} flipped, in record {} of {}",
            bit % 8,
            hit + 1,
            payloads.len()
        );

        match recover(&path) {
            Ok(found) => {
                assert_eq!(
                    hit,
                    last,
                    "{context}: valid records follow the damaged one, yet recovery succeeded with \
                     {} records; damage in the middle must be reported as WalError::Corrupt, never \
                     skipped or cut off",
                    found.records.len()
                );
                assert_eq!(
                    found.records,
                    records(&payloads[..last]),
                    "{context}: recovery must return the records before the damage"
                );
                assert_eq!(
                    found.torn_at,
                    Some(last_start as u64),
                    "{context}: torn_at must point at the damaged last record, at byte {last_start}"
                );
                assert_eq!(
                    fs::metadata(&path).expect("the log exists").len(),
                    last_start as u64,
                    "{context}: recover must cut the damaged last record off"
                );
                append_after_recovery(&path, &records(&payloads[..last]), &context);
            }
            Err(WalError::Corrupt { offset, .. }) => {
                assert!(
                    hit < last,
                    "{context}: nothing valid follows the last record, so its damage looks exactly \
                     like a torn tail; recovery must cut it off, not report corruption"
                );
                assert_eq!(
                    offset, hit_start as u64,
                    "{context}: the error must point at the damaged record"
                );
                assert_eq!(
                    fs::read(&path).expect("read the log"),
                    damaged,
                    "{context}: recover must leave a corrupt log exactly as it found it"
                );
                assert!(
                    Wal::open(&path).is_err(),
                    "{context}: a corrupt log must not open for appending"
                );
            }
            Err(other) => panic!("{context}: expected Ok or WalError::Corrupt, got `{other}`"),
        }
    }
}

// ------------------------------------------------------- SIGKILL

#[test]
fn t3_chaos_sigkill_keeps_every_acknowledged_record() {
    let rounds = env_number("WAL_CHAOS_ROUNDS", 20).max(1);
    let seed = env::var("WAL_CHAOS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(clock_seed);
    eprintln!("SIGKILL test: {rounds} rounds, WAL_CHAOS_SEED={seed}");
    let mut rng = Rng(seed);
    let dir = memory_tempdir();
    let mut log_dir = PathBuf::new();
    let mut path = PathBuf::new();
    let mut acked_max = 0u64;
    let mut torn_rounds = 0;
    let mut expected = Payloads::default();

    for round in 1..=rounds {
        if (round - 1) % ROUNDS_PER_LOG == 0 {
            // A fresh log now and then keeps a long soak linear in time.
            let _ = fs::remove_dir_all(&log_dir);
            log_dir = dir
                .path()
                .join(format!("log-{}", (round - 1) / ROUNDS_PER_LOG));
            fs::create_dir(&log_dir).expect("create the log's directory");
            path = log_dir.join("wal.log");
            acked_max = 0;
        }
        let context = format!("round {round} of {rounds} (WAL_CHAOS_SEED={seed})");
        let stderr_path = dir.path().join(format!("child-{round}.stderr"));
        let mut child = ChildGuard(
            Command::new(env::current_exe().expect("the test binary's path"))
                .args(["--exact", CHILD_TEST, "--ignored", "--nocapture"])
                .args(["--test-threads", "1"])
                .env(CHILD_DIR_ENV, &log_dir)
                .env(CHILD_SEED_ENV, rng.next().to_string())
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(File::create(&stderr_path).expect("create the child's stderr file"))
                .spawn()
                .expect("start the child process"),
        );
        let acks = read_acks(&mut child.0);

        // Kill after a random number of acknowledgements (sometimes none),
        // then up to a few milliseconds more.
        let wanted = rng.below(10);
        let mut seen = Vec::new();
        while (seen.len() as u64) < wanted {
            match acks.recv_timeout(ACK_DEADLINE) {
                Ok(lsn) => seen.push(lsn),
                Err(RecvTimeoutError::Timeout) => {
                    panic!("{context}: the child acknowledged nothing for {ACK_DEADLINE:?}")
                }
                Err(RecvTimeoutError::Disconnected) => panic!(
                    "{context}: the child stopped before it was killed; its stderr:\n{}",
                    fs::read_to_string(&stderr_path).unwrap_or_default()
                ),
            }
        }
        let pause_us = rng.below(if wanted == 0 { 5_000 } else { 3_000 });
        thread::sleep(Duration::from_micros(pause_us));
        child.kill();
        // The child is dead: every acknowledgement it printed is in the pipe.
        seen.extend(acks.iter());

        let found: LogScan = read_log(&path).unwrap_or_else(|e| {
            panic!(
                "{context}: reading the log after a SIGKILL failed with `{e}`; a killed process \
                 can only leave a torn tail, never damage in the middle"
            )
        });
        if found.torn_at.is_some() {
            torn_rounds += 1;
        }
        for (i, record) in found.records.iter().enumerate() {
            assert_eq!(
                record.lsn,
                i as u64 + 1,
                "{context}: LSNs must be 1, 2, 3, ..."
            );
            assert!(
                record.payload == expected.get(record.lsn),
                "{context}: record {} does not hold the payload that was appended with that LSN",
                record.lsn
            );
        }
        acked_max = seen.iter().copied().fold(acked_max, u64::max);
        assert!(
            found.last_lsn() >= acked_max,
            "{context}: LSN {acked_max} was acknowledged (its sync had returned) before the kill, \
             but the log holds only up to LSN {}",
            found.last_lsn()
        );
    }

    let found = recover(&path).expect("recover after the last round");
    eprintln!(
        "SIGKILL test: {torn_rounds} of {rounds} kills left a torn tail; the last log holds {} records",
        found.records.len()
    );
    append_after_recovery(&path, &found.records, "after the last SIGKILL");
}

/// The child process of the SIGKILL test: recovers the log, then appends
/// batches of records, syncs after each batch, and prints the batch's last
/// LSN once the sync has returned. Run by itself it does nothing.
#[test]
#[ignore = "entry point of the crash test's child process"]
fn t3_chaos_child_appends_until_killed() {
    let Some(dir) = env::var_os(CHILD_DIR_ENV) else {
        eprintln!(
            "{CHILD_TEST} only runs as the child of t3_chaos_sigkill_keeps_every_acknowledged_record"
        );
        return;
    };
    let path = PathBuf::from(dir).join("wal.log");
    let mut rng = Rng(env_number(CHILD_SEED_ENV, 1));
    recover(&path).expect("child: recover the log");
    let mut wal = Wal::open(&path).expect("child: open the recovered log");
    let mut out = std::io::stdout().lock();
    for _ in 0..CHILD_MAX_BATCHES {
        // Mostly a few records per sync; sometimes a long burst, which
        // overflows the write buffer and leaves half-written records in the
        // file until the sync.
        let batch = if rng.below(4) == 0 {
            20 + rng.below(60)
        } else {
            1 + rng.below(6)
        };
        for _ in 0..batch {
            let lsn = wal.last_lsn() + 1;
            let appended = wal.append(&payload_for(lsn)).expect("child: append");
            assert_eq!(appended, lsn, "child: append returned the wrong LSN");
        }
        wal.sync().expect("child: sync");
        // Acknowledge only now that the sync has returned.
        writeln!(out, "{ACK}{}", wal.last_lsn()).expect("child: print the ack");
        out.flush().expect("child: flush the ack");
    }
    thread::sleep(CHILD_IDLE);
}

// ------------------------------------------------------- helpers

/// Opens the recovered log at `path`, which must hold exactly `before`,
/// appends one record, closes, and checks that the log reads back clean.
fn append_after_recovery(path: &Path, before: &[Record], context: &str) {
    let mut wal = Wal::open(path)
        .unwrap_or_else(|e| panic!("{context}: opening the recovered log failed: {e}"));
    let next = before.len() as u64 + 1;
    assert_eq!(
        wal.last_lsn(),
        next - 1,
        "{context}: the recovered log holds {} whole records, so it must reopen with last_lsn {}",
        before.len(),
        next - 1
    );
    let payload = payload_for(next);
    assert_eq!(
        wal.append(&payload).expect("append after recovery"),
        next,
        "{context}: the first append after recovery must continue at LSN {next}"
    );
    wal.close().expect("close after recovery");
    let found = read_log(path).unwrap_or_else(|e| {
        panic!("{context}: the log is unreadable after appending to the recovered log: {e}")
    });
    let mut expected = before.to_vec();
    expected.push(Record { lsn: next, payload });
    assert!(
        found.records == expected && found.torn_at.is_none(),
        "{context}: after recovery and one more append, the log must hold the {} recovered \
         records plus the new one, and end cleanly; it holds {} records, torn_at {:?}",
        before.len(),
        found.records.len(),
        found.torn_at
    );
}

/// Reads the child's acknowledged LSNs on a thread of its own. The channel
/// disconnects when the child's stdout closes, that is, when it exits.
fn read_acks(child: &mut Child) -> mpsc::Receiver<u64> {
    let stdout = child.stdout.take().expect("stdout is piped");
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            // libtest may print "test NAME ... " on the same line first.
            if let Some(lsn) = line.split(ACK).nth(1).and_then(|n| n.trim().parse().ok())
                && tx.send(lsn).is_err()
            {
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
        // `Child::kill` sends SIGKILL on Unix. The child may have exited on its own.
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The payload of the record with LSN `lsn` in the chaos tests: mostly small,
/// sometimes several kilobytes (larger than a typical write buffer), and
/// never the same twice.
fn payload_for(lsn: u64) -> Vec<u8> {
    let mut rng = Rng(lsn);
    let len = match rng.below(20) {
        0 | 1 => 0,
        2..=14 => rng.below(200),
        15..=18 => 200 + rng.below(2_000),
        _ => 4_000 + rng.below(8_000),
    };
    let mut payload: Vec<u8> = (0..len.div_ceil(8))
        .flat_map(|_| rng.next().to_le_bytes())
        .collect();
    payload.truncate(len as usize);
    payload
}

/// [`payload_for`], each computed once.
#[derive(Default)]
struct Payloads(Vec<Vec<u8>>);

impl Payloads {
    fn get(&mut self, lsn: u64) -> &[u8] {
        let index = lsn as usize - 1;
        while self.0.len() <= index {
            self.0.push(payload_for(self.0.len() as u64 + 1));
        }
        &self.0[index]
    }
}

/// The payloads of the small log the truncation and bit-flip tests damage.
fn small_log_payloads() -> Vec<Vec<u8>> {
    let count = env_number("WAL_CHAOS_RECORDS", 6).max(1);
    let lens = [0usize, 1, 5, 17, 40, 3, 9, 64];
    (0..count)
        .map(|i| {
            let mut rng = Rng(1_000 + i);
            (0..lens[i as usize % lens.len()])
                .map(|_| rng.next() as u8)
                .collect()
        })
        .collect()
}

/// The log holding `payloads` with LSNs 1, 2, ..., and where each record ends.
fn encode_log(payloads: &[Vec<u8>]) -> (Vec<u8>, Vec<usize>) {
    let mut bytes = Vec::new();
    let mut ends = Vec::new();
    for (payload, lsn) in payloads.iter().zip(1..) {
        encode_into(lsn, payload, &mut bytes).expect("small payloads");
        ends.push(bytes.len());
    }
    (bytes, ends)
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("create a temporary directory")
}

/// A temporary directory in memory (`/dev/shm`) where there is one.
///
/// The truncation and bit-flip tests check recovery's logic, not the disk,
/// and they sync hundreds of times: in memory that costs nothing, on a busy
/// disk it can take seconds. A SIGKILL does not touch the kernel's page
/// cache, so what survives it is the same on any file system.
fn memory_tempdir() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir()
        && let Ok(dir) = tempfile::tempdir_in(shm)
    {
        return dir;
    }
    tempdir()
}

fn clock_seed() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// SplitMix64: a small, seedable generator, so a failing run can be repeated.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}
