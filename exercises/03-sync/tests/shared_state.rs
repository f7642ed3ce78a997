//! Graded tests for lesson 03 (sharing state).
//!
//! - `t1_` grades task 1: `Counter`, a counter behind a `Mutex`.
//! - `t2_` grades task 2: `AtomicCounter` (and so does `tests/loom.rs`).
//! - `t3_` grades task 3: `SafeCache`, behind an `RwLock`.
//! - `t4_` grades task 4: `Memtable`, exactly one flush per crossing.
//! - `t5_` grades task 5: `LoggedStore` and `replay`, log order = memory order.
//! - `t6_` grades task 6: the quiz in `src/quiz.rs`.
//!
//! No test measures time. Where a test waits for other threads, it waits with
//! a deadline and then fails its assertion, so a wrong implementation makes a
//! test fail instead of hang. Sizes shrink under Miri, which is slow.

#![cfg(not(loom))]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier, Condvar, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use shared_state::quiz::{self, Answer};
use shared_state::{
    AtomicCounter, Counter, Flush, LogRecord, LoggedStore, Memtable, MemtableError, SafeCache,
    replay,
};

/// How long any test waits for other threads before it gives up.
const DEADLINE: Duration = Duration::from_secs(3);

/// Picks the normal size, or a small one under Miri.
const fn size(normal: usize, miri: usize) -> usize {
    if cfg!(miri) { miri } else { normal }
}

// ---------------------------------------------------------------- task 1

#[test]
fn t1_hundred_adders_and_fifty_subtractors_end_at_fifty_thousand() {
    // The Go exercise, with Miri-sized numbers when run under Miri.
    let adders = size(100, 6);
    let subtractors = size(50, 3);
    let ops = size(1_000, 20);

    let counter = Arc::new(Counter::new());
    let mut handles = Vec::new();
    for i in 0..adders + subtractors {
        let counter = Arc::clone(&counter);
        handles.push(thread::spawn(move || {
            for _ in 0..ops {
                if i < adders {
                    counter.increment();
                } else {
                    counter.decrement();
                }
            }
        }));
    }
    for handle in handles {
        handle.join().expect("a counter thread panicked");
    }

    let expected = ((adders - subtractors) * ops) as i64;
    assert_eq!(
        counter.value(),
        expected,
        "{adders} threads added {ops} each and {subtractors} threads subtracted {ops} each"
    );
}

#[test]
fn t1_add_returns_the_value_right_after_the_change() {
    let counter = Counter::new();
    assert_eq!(counter.value(), 0, "a new counter starts at zero");
    assert_eq!(counter.add(5), 5);
    assert_eq!(counter.add(-7), -2, "add takes negative deltas too");
    counter.increment();
    counter.increment();
    counter.decrement();
    assert_eq!(counter.value(), -1);
    assert_eq!(Counter::default().value(), 0);
}

#[test]
fn t1_every_add_sees_a_value_of_its_own() {
    let threads = 4;
    let per_thread = size(20_000, 25);
    let counter = Counter::new();
    let start = Barrier::new(threads);
    let mut seen: Vec<i64> = thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    start.wait();
                    (0..per_thread).map(|_| counter.add(1)).collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a counter thread panicked"))
            .collect()
    });
    seen.sort_unstable();
    let total = (threads * per_thread) as i64;
    let expected: Vec<i64> = (1..=total).collect();
    if seen != expected {
        let dup = seen.windows(2).find(|w| w[0] == w[1]).map(|w| w[0]);
        panic!(
            "{total} concurrent add(1) calls must return exactly 1..={total}, each once; \
             duplicate: {dup:?}. Update and read the value under one lock acquisition, \
             not two."
        );
    }
    assert_eq!(counter.value(), total);
}

// ---------------------------------------------------------------- task 2

#[test]
fn t2_add_returns_the_value_before_the_add() {
    let counter = AtomicCounter::new();
    assert_eq!(counter.get(), 0, "a new counter starts at zero");
    let before = "add and increment return the value *before* the change, like a ticket dispenser";
    assert_eq!(counter.add(5), 0, "add(5) on a new counter: {before}");
    assert_eq!(counter.add(-2), 5, "add(-2) at 5: {before}");
    assert_eq!(counter.increment(), 3, "increment() at 3: {before}");
    assert_eq!(counter.get(), 4, "0 + 5 - 2 + 1 must be 4");
}

#[test]
fn t2_hammered_from_several_threads_it_loses_no_update() {
    // Miri runs this test with many seeds (see course.toml), each one a
    // different thread schedule, so a few adds per thread are enough there.
    let threads = 4;
    let per_thread = size(200_000, 10);
    let counter = AtomicCounter::new();
    let start = Barrier::new(threads);
    let mut tickets: Vec<i64> = thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    start.wait();
                    (0..per_thread)
                        .map(|_| counter.increment())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a counter thread panicked"))
            .collect()
    });

    let total = (threads * per_thread) as i64;
    let value = counter.get();
    tickets.sort_unstable();
    tickets.dedup();
    let unique = tickets.len() as i64;
    assert!(
        value == total && unique == total,
        "lost updates: {threads} threads called increment() {per_thread} times each, \
         so the counter should be {total}, but it is {value}, and only {unique} of the \
         {total} returned tickets are distinct. A separate load and store lets two threads \
         read the same value; use one atomic read-modify-write."
    );
}

// ---------------------------------------------------------------- task 3

#[test]
fn t3_get_insert_and_len() {
    let cache = SafeCache::new();
    assert!(cache.is_empty());
    assert_eq!(cache.get("k"), None);
    assert_eq!(cache.insert("k", "v1"), None);
    assert_eq!(
        cache.insert("k", "v2"),
        Some("v1".to_owned()),
        "insert returns the old value"
    );
    assert_eq!(cache.get("k"), Some("v2".to_owned()));
    cache.insert_many(&[("a", "1"), ("b", "2")]);
    assert_eq!(cache.len(), 3);
    assert!(!cache.is_empty());
    assert_eq!(
        cache.get_many(&["b", "zz", "a"]),
        vec![Some("2".to_owned()), None, Some("1".to_owned())],
        "get_many answers in the order of the keys"
    );
    let keys = cache.with_read(|map| map.keys().cloned().collect::<BTreeSet<_>>());
    assert_eq!(keys, BTreeSet::from(["a".into(), "b".into(), "k".into()]));
    assert!(SafeCache::default().is_empty());
}

#[test]
fn t3_many_readers_hold_the_lock_at_the_same_time() {
    let readers = 4;
    let cache = SafeCache::new();
    cache.insert("answer", "42");
    let meeting = Rendezvous::new(readers);
    let seen: Vec<Option<String>> = thread::scope(|s| {
        let handles: Vec<_> = (0..readers)
            .map(|_| {
                s.spawn(|| {
                    cache.with_read(|map| {
                        // Every reader waits here, inside the read lock, for the others.
                        meeting.arrive_and_wait();
                        map.get("answer").cloned()
                    })
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a reader panicked"))
            .collect()
    });
    let most = meeting.most();
    assert!(
        most == readers,
        "at most {most} of {readers} readers were inside with_read at once (each waited \
         {DEADLINE:?} for the others): expected all {readers} to hold the lock together. \
         with_read must take a shared read lock (RwLock::read), not an exclusive one"
    );
    assert!(
        seen.iter().all(|v| v.as_deref() == Some("42")),
        "with_read must hand f the cache's map, in which answer = 42; f saw {seen:?}"
    );
}

#[test]
fn t3_short_reads_do_not_wait_for_a_reader() {
    let cache = SafeCache::new();
    cache.insert("answer", "42");
    type Read = fn(&SafeCache) -> String;
    let reads: [(&str, Read); 4] = [
        ("get", |c| format!("{:?}", c.get("answer"))),
        ("get_many", |c| format!("{:?}", c.get_many(&["answer"]))),
        ("len", |c| c.len().to_string()),
        ("is_empty", |c| c.is_empty().to_string()),
    ];
    let mut waited = Vec::new();
    for (name, read) in reads {
        let (entered_tx, entered) = mpsc::channel();
        let (release, release_rx) = mpsc::channel::<()>();
        let released_in_time = thread::scope(|s| {
            // This reader holds the read lock until the read below is done.
            let cache = &cache;
            let holder = s.spawn(move || {
                cache.with_read(|_| {
                    let _ = entered_tx.send(());
                    release_rx.recv_timeout(DEADLINE).is_ok()
                })
            });
            entered
                .recv_timeout(DEADLINE)
                .expect("setup: with_read never called f");
            std::hint::black_box(read(cache));
            let _ = release.send(());
            holder.join().expect("the holding reader panicked")
        });
        if !released_in_time {
            waited.push(name);
        }
    }
    assert!(
        waited.is_empty(),
        "{waited:?} waited until another thread left with_read ({DEADLINE:?}): expected every \
         read to run while other readers hold the lock. Readers take the shared read lock \
         (RwLock::read); only insert and insert_many need the write lock"
    );
}

#[test]
fn t3_readers_never_see_half_of_an_insert_many() {
    let rounds = size(3_000, 15);
    let cache = SafeCache::new();
    let done = AtomicBool::new(false);
    let keys = ["a", "b", "c", "d"];
    let torn: Vec<Vec<Option<String>>> = thread::scope(|s| {
        let readers: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    let mut torn = Vec::new();
                    loop {
                        // Read once more after the writer is done.
                        let finished = done.load(Ordering::SeqCst);
                        let values = cache.get_many(&keys);
                        if values.iter().any(|v| v != &values[0]) && torn.len() < 3 {
                            torn.push(values);
                        }
                        if finished {
                            return torn;
                        }
                        thread::yield_now();
                    }
                })
            })
            .collect();
        // Stop the readers even if insert_many panics.
        let _stop_readers = SetOnDrop(&done);
        for round in 0..rounds {
            let value = round.to_string();
            let batch: Vec<(&str, &str)> = keys.iter().map(|&k| (k, value.as_str())).collect();
            cache.insert_many(&batch);
        }
        done.store(true, Ordering::SeqCst);
        readers
            .into_iter()
            .flat_map(|h| h.join().expect("a reader panicked"))
            .collect()
    });
    assert!(
        torn.is_empty(),
        "a reader saw a half-applied insert_many (keys a, b, c, d are always written \
         together with one value): {torn:?}. Take the write lock once for the whole batch, \
         and the read lock once for the whole get_many."
    );
    let last = (rounds - 1).to_string();
    assert_eq!(cache.get_many(&keys), vec![Some(last); keys.len()]);
}

// ---------------------------------------------------------------- task 4

#[test]
fn t4_a_zero_threshold_is_an_error() {
    assert!(
        matches!(Memtable::new(0), Err(MemtableError::ZeroThreshold)),
        "Memtable::new(0) must be Err(MemtableError::ZeroThreshold)"
    );
    let table = Memtable::new(5).expect("a threshold of 5 is fine");
    assert_eq!(table.threshold(), 5);
    assert!(table.is_empty());
}

#[test]
fn t4_every_threshold_keys_make_one_flush() {
    let table = Memtable::new(3).expect("a threshold of 3 is fine");
    let flushes: Vec<Option<Flush>> = (1..=7)
        .map(|i| table.put(&format!("k{i}"), &format!("v{i}")))
        .collect();
    let flushed_at: Vec<usize> = flushes
        .iter()
        .enumerate()
        .filter(|(_, f)| f.is_some())
        .map(|(i, _)| i + 1)
        .collect();
    assert_eq!(
        flushed_at,
        vec![3, 6],
        "with threshold 3, the 3rd and 6th puts flush"
    );
    assert_eq!(
        flushes[2],
        Some(flush(1, &[("k1", "v1"), ("k2", "v2"), ("k3", "v3")]))
    );
    assert_eq!(
        flushes[5],
        Some(flush(2, &[("k4", "v4"), ("k5", "v5"), ("k6", "v6")])),
        "flushes are numbered 1, 2, ... and a flush empties the table"
    );
    assert_eq!(table.len(), 1);
    assert_eq!(table.get("k7"), Some("v7".to_owned()));
    assert_eq!(table.get("k1"), None, "flushed keys leave the memtable");

    let every_put = Memtable::new(1).expect("a threshold of 1 is fine");
    assert_eq!(every_put.put("x", "1"), Some(flush(1, &[("x", "1")])));
    assert_eq!(every_put.put("x", "2"), Some(flush(2, &[("x", "2")])));
}

#[test]
fn t4_overwriting_a_key_does_not_count_twice() {
    let table = Memtable::new(2).expect("a threshold of 2 is fine");
    assert_eq!(table.put("a", "1"), None);
    assert_eq!(
        table.put("a", "2"),
        None,
        "threshold 2, then put a twice: a is one distinct key, so no flush yet (the \
         threshold counts distinct keys, not puts)"
    );
    assert_eq!(table.len(), 1, "overwriting a leaves one key in the table");
    assert_eq!(
        table.put("b", "3"),
        Some(flush(1, &[("a", "2"), ("b", "3")]))
    );
    assert!(table.is_empty());
}

#[test]
fn t4_concurrent_puts_flush_exactly_once_per_crossing() {
    let threads = 4;
    let per_thread = size(5_000, 12);
    let threshold = 2;
    let table = Memtable::new(threshold).expect("a threshold of 2 is fine");
    let start = Barrier::new(threads);
    let flushes: Vec<Flush> = thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (table, start) = (&table, &start);
                s.spawn(move || {
                    start.wait();
                    (0..per_thread)
                        .filter_map(|i| table.put(&format!("t{t}-{i}"), "v"))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a put thread panicked"))
            .collect()
    });

    let puts = threads * per_thread;
    if let Some(bad) = flushes.iter().find(|f| f.entries.len() != threshold) {
        panic!(
            "flush #{} holds {} entries: expected exactly threshold = {threshold}. Either the \
             table flushes at the wrong size, or two puts both saw a full table and both \
             flushed (one of them an emptied or overfull table): the insert, the size check \
             and the swap must happen under one lock acquisition",
            bad.number,
            bad.entries.len()
        );
    }
    assert_eq!(
        flushes.len(),
        puts / threshold,
        "{puts} puts of distinct keys with threshold {threshold} must flush exactly {} times",
        puts / threshold
    );
    let mut numbers: Vec<u64> = flushes.iter().map(|f| f.number).collect();
    numbers.sort_unstable();
    assert_eq!(
        numbers,
        (1..=flushes.len() as u64).collect::<Vec<_>>(),
        "flush numbers must be 1, 2, 3, ... with no gaps and no repeats"
    );
    let mut keys = BTreeSet::new();
    for f in &flushes {
        for key in f.entries.keys() {
            assert!(keys.insert(key.clone()), "key {key} was flushed twice");
        }
    }
    assert_eq!(table.len(), puts % threshold, "the rest waits in the table");
    assert_eq!(
        keys.len() + table.len(),
        puts,
        "every put lands in exactly one flush or stays in the table"
    );
}

// ---------------------------------------------------------------- task 5

#[test]
fn t5_replay_applies_the_records_in_order() {
    assert_eq!(replay(&[]), BTreeMap::new());
    let log = [record("a", "1"), record("b", "2"), record("a", "3")];
    assert_eq!(
        replay(&log),
        BTreeMap::from([("a".into(), "3".into()), ("b".into(), "2".into())]),
        "the last record for a key wins"
    );
}

#[test]
fn t5_put_logs_then_applies() {
    let store = LoggedStore::new();
    assert_eq!(store.get("a"), None);
    store.put("a", "1");
    store.put("b", "2");
    store.put("a", "3");
    assert_eq!(store.get("a"), Some("3".to_owned()));
    let snap = store.snapshot();
    assert_eq!(
        snap.log,
        vec![record("a", "1"), record("b", "2"), record("a", "3")],
        "the log keeps every put, oldest first"
    );
    assert_eq!(snap.table, replay(&snap.log));
    assert!(LoggedStore::default().snapshot().log.is_empty());
}

#[test]
fn t5_many_writers_to_one_key_then_replay_equals_memory() {
    // Many short rounds: each one ends with several puts racing for the key,
    // while a reader keeps the table busy.
    let rounds = size(150, 3);
    let writers = 3;
    let per_writer = size(40, 5);
    for round in 0..rounds {
        let store = LoggedStore::new();
        let start = Barrier::new(writers + 1);
        let done = AtomicBool::new(false);
        thread::scope(|s| {
            s.spawn(|| {
                start.wait();
                while !done.load(Ordering::SeqCst) {
                    std::hint::black_box(store.get("key"));
                }
            });
            let handles: Vec<_> = (0..writers)
                .map(|t| {
                    let (store, start) = (&store, &start);
                    s.spawn(move || {
                        start.wait();
                        for i in 0..per_writer {
                            store.put("key", &format!("t{t}-{i}"));
                        }
                    })
                })
                .collect();
            // Stop the reader even if a writer panicked.
            let _stop_reader = SetOnDrop(&done);
            for handle in handles {
                handle.join().expect("a writer panicked");
            }
        });

        let snap = store.snapshot();
        assert_eq!(
            snap.log.len(),
            writers * per_writer,
            "every put is logged exactly once"
        );
        for t in 0..writers {
            let prefix = format!("t{t}-");
            let own: Vec<&str> = snap
                .log
                .iter()
                .map(|r| r.value.as_str())
                .filter(|v| v.starts_with(&prefix))
                .collect();
            let expected: Vec<String> = (0..per_writer).map(|i| format!("t{t}-{i}")).collect();
            assert!(
                own.iter().eq(expected.iter()),
                "thread {t}'s puts are missing from the log or out of its program order"
            );
        }
        let last = snap.log.last().map(|r| r.value.clone());
        assert_eq!(
            replay(&snap.log),
            snap.table,
            "round {round}: the log ends with {last:?}, but memory kept another value, so \
             replaying the log after a crash would bring back a value memory never ended \
             with: two puts reached the log in one order and the table in the other"
        );
        assert_eq!(store.get("key"), last, "get reads the table");
    }
}

#[test]
fn t5_snapshots_taken_during_writes_always_agree() {
    // Short rounds keep the log small, so the auditor can snapshot often.
    let rounds = size(60, 2);
    let writers = 3;
    let per_writer = size(150, 8);
    for _ in 0..rounds {
        let store = LoggedStore::new();
        let start = Barrier::new(writers + 1);
        let done = AtomicBool::new(false);
        let mismatch = thread::scope(|s| {
            let auditor = s.spawn(|| {
                start.wait();
                loop {
                    let finished = done.load(Ordering::SeqCst);
                    let snap = store.snapshot();
                    let rebuilt = replay(&snap.log);
                    if rebuilt != snap.table {
                        return Some((snap.log.len(), rebuilt, snap.table));
                    }
                    if finished {
                        return None;
                    }
                }
            });
            let handles: Vec<_> = (0..writers)
                .map(|t| {
                    let (store, start) = (&store, &start);
                    s.spawn(move || {
                        start.wait();
                        for i in 0..per_writer {
                            store.put(&format!("k{}", i % 2), &format!("t{t}-{i}"));
                        }
                    })
                })
                .collect();
            {
                // Stop the auditor even if a writer panicked.
                let _stop_auditor = SetOnDrop(&done);
                for handle in handles {
                    handle.join().expect("a writer panicked");
                }
            }
            auditor.join().expect("the auditor panicked")
        });
        if let Some((len, rebuilt, table)) = mismatch {
            panic!(
                "a snapshot caught the log and the table disagreeing: replaying its {len} \
                 log records gives {rebuilt:?}, but the table held {table:?}. Apply each put \
                 to the table before any other put can reach the log (hold the log lock \
                 until the table is updated), and take snapshots under the same lock."
            );
        }
    }
}

// ---------------------------------------------------------------- task 6

// The tests compare a fingerprint of each answer, so that reading this file
// does not give the answers away.

#[test]
fn t6_q1_the_literal_port() {
    check_answer(1, quiz::q1(), 0x71ee_6fdd_a9c9_c49d);
}

#[test]
fn t6_q2_adding_move() {
    check_answer(2, quiz::q2(), 0x79a9_80dd_ade6_c260);
}

#[test]
fn t6_q3_why_rc_is_not_send() {
    check_answer(3, quiz::q3(), 0x82ab_dbdd_b31a_b381);
}

#[test]
fn t6_q4_arc_of_refcell() {
    check_answer(4, quiz::q4(), 0x8b40_f3dd_b7f1_60e9);
}

#[test]
fn t6_q5_what_arc_mutex_provides() {
    check_answer(5, quiz::q5(), 0x94af_0add_bd7f_fd5e);
}

#[test]
fn t6_q6_load_then_store_on_an_atomic() {
    check_answer(6, quiz::q6(), 0x9d44_1ddd_c256_a247);
}

#[test]
fn t6_q7_what_safe_rust_still_allows() {
    check_answer(7, quiz::q7(), 0xa500_34dd_c675_5d3c);
}

// ---------------------------------------------------------------- helpers

fn flush(number: u64, entries: &[(&str, &str)]) -> Flush {
    Flush {
        number,
        entries: entries
            .iter()
            .map(|&(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
    }
}

fn record(key: &str, value: &str) -> LogRecord {
    LogRecord {
        key: key.to_owned(),
        value: value.to_owned(),
    }
}

/// Sets its flag when dropped, so that helper threads that poll the flag
/// stop even when the code under test panics.
struct SetOnDrop<'a>(&'a AtomicBool);

impl Drop for SetOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// FNV-1a over `03-sync/q{question}/{answer:?}`.
fn fingerprint(question: u8, answer: Answer) -> u64 {
    format!("03-sync/q{question}/{answer:?}")
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        })
}

fn check_answer(question: u8, answer: Answer, expected: u64) {
    assert!(
        fingerprint(question, answer) == expected,
        "question {question}: {answer:?} is not the right choice. Reread the question in \
         src/quiz.rs and the chapter's section on Send and Sync; better still, compile \
         the snippet and read what rustc says."
    );
}

/// A meeting point for `expected` threads that also measures how many of
/// them were there at once.
struct Rendezvous {
    expected: usize,
    state: Mutex<Meeting>,
    changed: Condvar,
}

#[derive(Default)]
struct Meeting {
    /// Threads inside `arrive_and_wait` now.
    inside: usize,
    /// The most threads that were ever inside at once.
    most: usize,
    /// `expected` threads were inside at once.
    met: bool,
    /// Somebody waited [`DEADLINE`] in vain.
    gave_up: bool,
}

impl Rendezvous {
    fn new(expected: usize) -> Self {
        Self {
            expected,
            state: Mutex::new(Meeting::default()),
            changed: Condvar::new(),
        }
    }

    /// Waits until `expected` threads are inside at once, or for at most
    /// [`DEADLINE`]. After one timeout every later caller returns at once, so
    /// a wrong implementation fails after one deadline instead of one per
    /// thread.
    fn arrive_and_wait(&self) {
        let deadline = Instant::now() + DEADLINE;
        let mut meeting = self.state.lock().unwrap();
        meeting.inside += 1;
        meeting.most = meeting.most.max(meeting.inside);
        if meeting.inside >= self.expected {
            meeting.met = true;
            self.changed.notify_all();
        }
        while !meeting.met && !meeting.gave_up {
            let now = Instant::now();
            if now >= deadline {
                meeting.gave_up = true;
                self.changed.notify_all();
                break;
            }
            meeting = self
                .changed
                .wait_timeout(meeting, deadline - now)
                .unwrap()
                .0;
        }
        meeting.inside -= 1;
    }

    /// The most threads that were inside [`arrive_and_wait`](Self::arrive_and_wait) at once.
    fn most(&self) -> usize {
        self.state.lock().unwrap().most
    }
}
