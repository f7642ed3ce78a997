//! The chapter's journey, reproducible: four group-commit designs under the
//! same closed-loop load (every writer commits, waits, commits again), with
//! a syncer that sleeps 1 ms, so that the ideal at N writers is N times
//! sync-per-write.
//!
//! - `naive`: leader/follower. The first writer to find no leader becomes
//!   one, syncs everything queued, and wakes *every* waiter with
//!   `notify_all`; the ones whose record was not in the batch go back to
//!   sleep.
//! - `unpark`: a dedicated committer that wakes exactly its batch's writers,
//!   one `unpark` each (the exercise's design).
//! - `pipelined`: like `unpark`, but a second thread does the waking, so the
//!   committer starts the next sync at once.
//! - `reference`: [`GroupCommit`]: one wake-up call per batch, and the next
//!   batch waits until the last one's writers are awake.
//!
//! It prints how long waking 64 and 128 parked threads takes on this
//! machine, then commits/s, records per sync, the ratio to sync-per-write,
//! and context switches per commit (from `/proc/self/task/*/status`).
//!
//! ```sh
//! cargo bench -p group-commit-solution --bench journey
//! cargo bench -p group-commit-solution --bench journey -- 128 unpark   # a subset
//! ```

use std::collections::VecDeque;
use std::fs;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::{self, JoinHandle, Thread};
use std::time::{Duration, Instant};

use group_commit::{Config, GroupCommit, SyncPerWrite};

const RUN: Duration = Duration::from_millis(1500);
const WARM_UP: Duration = Duration::from_millis(300);
const PAYLOAD: [u8; 100] = [0x5a; 100];

static SYNCS: AtomicU64 = AtomicU64::new(0);

fn sync_1ms() -> io::Result<()> {
    thread::sleep(Duration::from_millis(1));
    SYNCS.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

trait Log: Send + Sync {
    fn commit(&self);
}

impl Log for SyncPerWrite {
    fn commit(&self) {
        self.write(&PAYLOAD).expect("no failures here");
    }
}

impl Log for GroupCommit {
    fn commit(&self) {
        self.write(&PAYLOAD).expect("no failures here");
    }
}

// ---------------------------------------------------------------- naive

/// Leader/follower with one mutex, one condvar and `notify_all`.
#[derive(Default)]
struct Naive {
    state: Mutex<NaiveState>,
    changed: Condvar,
}

#[derive(Default)]
struct NaiveState {
    queue: Vec<u8>,
    last_lsn: u64,
    queued_upto: u64,
    durable_upto: u64,
    leader: bool,
}

impl Log for Naive {
    fn commit(&self) {
        let mut state = lock(&self.state);
        state.last_lsn += 1;
        let lsn = state.last_lsn;
        let last = state.last_lsn;
        group_commit::encode_record(&mut state.queue, group_commit::Lsn(last), &PAYLOAD);
        state.queued_upto = lsn;
        loop {
            if state.durable_upto >= lsn {
                return;
            }
            if state.leader {
                state = self
                    .changed
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            state.leader = true;
            let batch = std::mem::take(&mut state.queue);
            let upto = state.queued_upto;
            drop(state);
            std::hint::black_box(&batch);
            sync_1ms().expect("no failures here");
            state = lock(&self.state);
            state.durable_upto = upto;
            state.leader = false;
            self.changed.notify_all();
        }
    }
}

// ---------------------------------------------------------------- unpark / pipelined

struct Waiter {
    thread: Thread,
    done: AtomicBool,
}

#[derive(Default)]
struct CommitterState {
    queue: VecDeque<Arc<Waiter>>,
    bytes: Vec<u8>,
    last_lsn: u64,
    committer_waiting: bool,
    stop: bool,
}

/// A dedicated committer that unparks each writer of its batch, itself
/// (`pipelined == false`) or through a notifier thread.
struct Unpark {
    shared: Arc<(Mutex<CommitterState>, Condvar)>,
    threads: Vec<JoinHandle<()>>,
}

impl Unpark {
    fn new(pipelined: bool) -> Self {
        let shared: Arc<(Mutex<CommitterState>, Condvar)> = Arc::default();
        let (to_notifier, batches) = mpsc::channel::<Vec<Arc<Waiter>>>();
        let mut threads = Vec::new();
        if pipelined {
            threads.push(spawn("notifier", move || {
                for batch in batches {
                    release(batch);
                }
            }));
        }
        let s = Arc::clone(&shared);
        threads.push(spawn("committer", move || {
            let (state, work) = &*s;
            let mut bytes = Vec::new();
            loop {
                let batch: Vec<Arc<Waiter>> = {
                    let mut st = lock(state);
                    while st.queue.is_empty() && !st.stop {
                        st.committer_waiting = true;
                        st = work.wait(st).unwrap_or_else(PoisonError::into_inner);
                    }
                    if st.queue.is_empty() {
                        return;
                    }
                    std::mem::swap(&mut bytes, &mut st.bytes);
                    st.queue.drain(..).collect()
                };
                std::hint::black_box(&bytes);
                sync_1ms().expect("no failures here");
                bytes.clear();
                if pipelined {
                    if to_notifier.send(batch).is_err() {
                        return;
                    }
                } else {
                    release(batch);
                }
            }
        }));
        Self { shared, threads }
    }
}

/// A named thread, so that `perf report --sort comm` tells them apart.
fn spawn(name: &str, f: impl FnOnce() + Send + 'static) -> JoinHandle<()> {
    thread::Builder::new()
        .name(name.to_owned())
        .spawn(f)
        .expect("spawn a thread")
}

fn release(batch: Vec<Arc<Waiter>>) {
    for w in batch {
        w.done.store(true, Ordering::Release);
        w.thread.unpark();
    }
}

impl Log for Unpark {
    fn commit(&self) {
        let (state, work) = &*self.shared;
        let waiter = Arc::new(Waiter {
            thread: thread::current(),
            done: AtomicBool::new(false),
        });
        {
            let mut st = lock(state);
            st.last_lsn += 1;
            let lsn = group_commit::Lsn(st.last_lsn);
            group_commit::encode_record(&mut st.bytes, lsn, &PAYLOAD);
            st.queue.push_back(Arc::clone(&waiter));
            if std::mem::take(&mut st.committer_waiting) {
                work.notify_one();
            }
        }
        while !waiter.done.load(Ordering::Acquire) {
            thread::park();
        }
    }
}

impl Drop for Unpark {
    fn drop(&mut self) {
        lock(&self.shared.0).stop = true;
        self.shared.1.notify_all();
        for t in self.threads.drain(..).rev() {
            let _ = t.join();
        }
    }
}

// ---------------------------------------------------------------- harness

/// Voluntary and involuntary context switches of every thread of this
/// process so far (threads that have exited are not counted).
fn context_switches() -> u64 {
    let Ok(tasks) = fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .flatten()
        .filter_map(|t| fs::read_to_string(t.path().join("status")).ok())
        .flat_map(|status| {
            status
                .lines()
                .filter(|l| l.contains("ctxt_switches"))
                .filter_map(|l| l.split_whitespace().last()?.parse::<u64>().ok())
                .collect::<Vec<_>>()
        })
        .sum()
}

struct Result {
    rate: f64,
    per_sync: f64,
    switches_per_commit: f64,
}

fn run(log: Arc<dyn Log>, writers: usize) -> Result {
    let stop = Arc::new(AtomicBool::new(false));
    let commits = Arc::new(AtomicU64::new(0));
    let handles: Vec<_> = (0..writers)
        .map(|_| {
            let (log, stop, commits) = (Arc::clone(&log), Arc::clone(&stop), Arc::clone(&commits));
            spawn("writer", move || {
                while !stop.load(Ordering::Relaxed) {
                    log.commit();
                    commits.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    thread::sleep(WARM_UP);
    let (c0, s0, x0, t0) = (
        commits.load(Ordering::Relaxed),
        SYNCS.load(Ordering::Relaxed),
        context_switches(),
        Instant::now(),
    );
    thread::sleep(RUN);
    let (c1, s1, x1, elapsed) = (
        commits.load(Ordering::Relaxed),
        SYNCS.load(Ordering::Relaxed),
        context_switches(),
        t0.elapsed(),
    );
    stop.store(true, Ordering::Relaxed);
    for h in handles {
        let _ = h.join();
    }
    let n = (c1 - c0).max(1) as f64;
    Result {
        rate: n / elapsed.as_secs_f64(),
        per_sync: n / (s1 - s0).max(1) as f64,
        switches_per_commit: x1.saturating_sub(x0) as f64 / n,
    }
}

/// How long it takes until all of `n` parked threads have woken up, when one
/// thread wakes them with one `unpark` each, or all at once by setting a
/// `OnceLock` they wait on (a single futex wake-all). The median of 50
/// rounds. This is the floor under the gap between two syncs.
fn wake_cost(n: usize, wake_all_at_once: bool) -> Duration {
    const ROUNDS: usize = 50;
    struct Round {
        latch: std::sync::OnceLock<()>,
        flag: AtomicBool,
        asleep: AtomicU64,
        awake: AtomicU64,
        last: Mutex<Option<Instant>>,
    }
    let rounds: Arc<Vec<Round>> = Arc::new(
        (0..ROUNDS)
            .map(|_| Round {
                latch: std::sync::OnceLock::new(),
                flag: AtomicBool::new(false),
                asleep: AtomicU64::new(0),
                awake: AtomicU64::new(0),
                last: Mutex::new(None),
            })
            .collect(),
    );
    let n64 = n as u64;
    let sleepers: Vec<_> = (0..n)
        .map(|_| {
            let rounds = Arc::clone(&rounds);
            spawn("sleeper", move || {
                for r in rounds.iter() {
                    r.asleep.fetch_add(1, Ordering::SeqCst);
                    if wake_all_at_once {
                        r.latch.wait();
                    } else {
                        while !r.flag.load(Ordering::Acquire) {
                            thread::park();
                        }
                    }
                    if r.awake.fetch_add(1, Ordering::AcqRel) + 1 == n64 {
                        *lock(&r.last) = Some(Instant::now());
                    }
                }
            })
        })
        .collect();
    let threads: Vec<Thread> = sleepers.iter().map(|h| h.thread().clone()).collect();
    let mut times = Vec::with_capacity(ROUNDS);
    for r in rounds.iter() {
        while r.asleep.load(Ordering::SeqCst) < n64 {
            thread::sleep(Duration::from_micros(200));
        }
        thread::sleep(Duration::from_millis(2)); // let the last ones go to sleep
        let start = Instant::now();
        if wake_all_at_once {
            let _ = r.latch.set(());
        } else {
            r.flag.store(true, Ordering::Release);
            for t in &threads {
                t.unpark();
            }
        }
        let last = loop {
            if let Some(t) = *lock(&r.last) {
                break t;
            }
            thread::sleep(Duration::from_micros(50));
        };
        times.push(last - start);
    }
    for s in sleepers {
        let _ = s.join();
    }
    times.sort_unstable();
    times[ROUNDS / 2]
}

/// Builds a fresh log of one design.
type MakeLog = fn() -> Arc<dyn Log>;

fn reference() -> Arc<dyn Log> {
    Arc::new(GroupCommit::new(io::sink(), sync_1ms, Config::default()).expect("start the log"))
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let smoke = std::env::args().any(|a| a == "--test");
    // Arguments pick writer counts (8, 64, 128) and designs; none means all.
    let numbers: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
    let design_names: Vec<&str> = args
        .iter()
        .filter(|a| a.parse::<usize>().is_err())
        .map(String::as_str)
        .collect();
    let writer_counts: Vec<usize> = [8, 64, 128]
        .into_iter()
        .filter(|n| numbers.is_empty() || numbers.contains(n))
        .collect();
    if smoke {
        println!("journey: skipped under --test (it runs for about 20 s)");
        return;
    }
    for n in writer_counts.iter().copied().filter(|&n| n > 8) {
        println!(
            "waking {n} parked threads: one unpark each {:.0} us, one wake-all {:.0} us",
            wake_cost(n, false).as_secs_f64() * 1e6,
            wake_cost(n, true).as_secs_f64() * 1e6
        );
    }
    let base = run(Arc::new(SyncPerWrite::new(io::sink(), sync_1ms)), 8).rate;
    println!("sync-per-write (8 writers): {base:.0} commits/s, syncer = sleep(1 ms)");
    println!(
        "{:<10} {:>7} {:>12} {:>10} {:>8} {:>10}",
        "design", "writers", "commits/s", "per sync", "ratio", "ctx-sw/c"
    );
    for &writers in &writer_counts {
        let designs: [(&str, MakeLog); 4] = [
            ("naive", || Arc::new(Naive::default())),
            ("unpark", || Arc::new(Unpark::new(false))),
            ("pipelined", || Arc::new(Unpark::new(true))),
            ("reference", reference),
        ];
        for (name, make) in designs {
            if !design_names.is_empty() && !design_names.contains(&name) {
                continue;
            }
            let r = run(make(), writers);
            println!(
                "{name:<10} {writers:>7} {:>12.0} {:>10.1} {:>7.1}x {:>10.1}",
                r.rate,
                r.per_sync,
                r.rate / base,
                r.switches_per_commit
            );
        }
    }
}
