//! Graded tests for lesson 01 (threads).
//!
//! - `t1_` grades task 1: `spawn_workers`.
//! - `t2_` grades task 2: `chunk_ranges`, `concurrent_sum_by`, `concurrent_sum`.
//! - `t3_` grades task 3: `run_isolated` and `WorkerPanic`.
//! - `t4_` grades task 4: `parallel_map_with_limit` and `parallel_map`.
//!
//! No test measures time. Where a test waits for other threads, it waits with
//! a deadline and then fails its assertion, so a wrong implementation makes a
//! test fail instead of hang.

use std::collections::HashSet;
use std::num::NonZeroUsize;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

use threads::{
    ThreadsError, WorkerPanic, chunk_ranges, concurrent_sum, concurrent_sum_by, parallel_map,
    parallel_map_with_limit, run_isolated, spawn_workers,
};

/// How long any test waits for other threads before it gives up.
const DEADLINE: Duration = Duration::from_secs(5);

/// How long a test gives a wrong implementation to show itself (a call
/// beyond the limit, a return before the workers finish). A right one
/// costs the test this much once.
const HOLD: Duration = Duration::from_millis(500);

// ---------------------------------------------------------------- task 1

#[test]
fn t1_results_are_in_spawn_order_even_when_workers_finish_in_reverse() {
    let count = 5;
    let line = FinishLine::new(count);
    let in_worker = Arc::clone(&line);
    let results = spawn_workers(count, move |i| {
        in_worker.finish_after_successor(i);
        i * 10
    })
    .expect("spawning 5 threads succeeds");

    assert_eq!(
        line.order(),
        vec![4, 3, 2, 1, 0],
        "setup check: worker i should finish only after worker i + 1; \
         if this fails, your workers did not all run at the same time"
    );
    assert_eq!(
        results,
        vec![0, 10, 20, 30, 40],
        "results must be in spawn order"
    );
}

#[test]
fn t1_workers_run_at_the_same_time() {
    let count = 4;
    let meeting = Rendezvous::new(count);
    let in_worker = Arc::clone(&meeting);
    let met = spawn_workers(count, move |_| in_worker.arrive_and_wait())
        .expect("spawning 4 threads succeeds");
    assert_eq!(
        met,
        vec![true; count],
        "every worker must see all {count} workers running at once \
         (do you join each thread right after spawning it?)"
    );
}

#[test]
fn t1_each_worker_runs_on_a_thread_named_worker_index() {
    let caller = thread::current().id();
    let seen = spawn_workers(3, |_| {
        let me = thread::current();
        (me.name().map(str::to_owned), me.id())
    })
    .expect("spawning 3 threads succeeds");

    let names: Vec<_> = seen.iter().map(|(name, _)| name.as_deref()).collect();
    assert_eq!(
        names,
        vec![Some("worker-0"), Some("worker-1"), Some("worker-2")],
        "worker i must run on a thread named worker-i, counting from 0 \
         (thread::Builder::new().name(...))"
    );
    let ids: HashSet<ThreadId> = seen.iter().map(|&(_, id)| id).collect();
    assert_eq!(ids.len(), 3, "each worker needs a thread of its own");
    assert!(
        !ids.contains(&caller),
        "no worker may run on the caller's thread"
    );
}

#[test]
fn t1_zero_workers_is_an_empty_result_not_an_error() {
    let results = spawn_workers(0, |i| i);
    assert!(
        matches!(results.as_deref(), Ok([])),
        "spawn_workers(0, ..) should be Ok(vec![]), got {results:?}"
    );
}

#[test]
fn t1_a_worker_panic_is_resumed_with_its_original_payload() {
    let outcome = panic::catch_unwind(|| {
        spawn_workers(4, |i| {
            if i == 2 {
                panic::panic_any(Boom(i));
            }
            i
        })
    });
    let payload = match outcome {
        Ok(results) => {
            panic!("a worker panicked, so spawn_workers must panic too; got {results:?}")
        }
        Err(payload) => payload,
    };
    assert_eq!(
        payload.downcast_ref::<Boom>(),
        Some(&Boom(2)),
        "resume the worker's own payload with std::panic::resume_unwind \
         instead of starting a new panic"
    );
}

#[test]
fn t1_when_several_workers_panic_the_lowest_index_is_resumed() {
    // Worker 3 panics first in time; worker 1 panics only after that.
    let three_panicked = Arc::new(AtomicBool::new(false));
    let outcome = panic::catch_unwind(|| {
        spawn_workers(5, move |i| {
            match i {
                1 => {
                    wait_until(|| three_panicked.load(Ordering::SeqCst));
                    panic::panic_any(Boom(1));
                }
                3 => {
                    three_panicked.store(true, Ordering::SeqCst);
                    panic::panic_any(Boom(3));
                }
                _ => {}
            }
            i
        })
    });
    let payload = match outcome {
        Ok(results) => panic!("workers 1 and 3 panicked, yet spawn_workers returned {results:?}"),
        Err(payload) => payload,
    };
    let resumed = payload.downcast_ref::<Boom>();
    assert_eq!(
        resumed,
        Some(&Boom(1)),
        "workers 1 and 3 panicked (3 first in time): expected worker 1's panic, the \
         first in spawn order, got {resumed:?}; keep the first payload you meet while \
         joining, don't overwrite it with later ones"
    );
}

#[test]
fn t1_a_worker_panic_is_resumed_only_after_every_worker_has_finished() {
    let panicked = Arc::new(AtomicBool::new(false));
    let release = Arc::new(AtomicBool::new(false));
    let finished = Arc::new(AtomicUsize::new(0));

    let caller = {
        let (panicked, release, finished) = (
            Arc::clone(&panicked),
            Arc::clone(&release),
            Arc::clone(&finished),
        );
        thread::spawn(move || {
            panic::catch_unwind(AssertUnwindSafe(|| {
                spawn_workers(3, move |i| {
                    if i == 0 {
                        panicked.store(true, Ordering::SeqCst);
                        panic!("worker 0 failed");
                    }
                    // Workers 1 and 2 stay busy until the test lets them go.
                    wait_until(|| release.load(Ordering::SeqCst));
                    finished.fetch_add(1, Ordering::SeqCst);
                    i
                })
            }))
            .is_err()
        })
    };

    assert!(
        wait_until(|| panicked.load(Ordering::SeqCst) || caller.is_finished()),
        "worker 0 never ran"
    );
    assert!(
        panicked.load(Ordering::SeqCst),
        "spawn_workers returned without running worker 0"
    );
    // Give a wrong implementation, which returns as soon as it joins the
    // panicking worker, ample time to do so. A right one cannot return here.
    let returned_early = wait_for(HOLD, || caller.is_finished());
    release.store(true, Ordering::SeqCst);
    let caller_panicked = caller.join().expect("catch_unwind caught the panic");

    assert!(
        !returned_early,
        "spawn_workers returned while workers 1 and 2 were still running; \
         join every worker before resuming the panic"
    );
    assert!(
        caller_panicked,
        "the panic of worker 0 must reach the caller"
    );
    assert_eq!(
        finished.load(Ordering::SeqCst),
        2,
        "workers 1 and 2 must both run to the end before the panic is resumed"
    );
}

// ---------------------------------------------------------------- task 2

#[test]
fn t2_chunk_ranges_are_contiguous_balanced_and_cover_everything() {
    assert_eq!(
        chunk_ranges(10, 4).expect("4 workers"),
        vec![0..3, 3..6, 6..8, 8..10],
        "the first len % n chunks get the extra item"
    );
    assert_eq!(
        chunk_ranges(3, 8).expect("8 workers"),
        vec![0..1, 1..2, 2..3],
        "3 items for 8 workers: min(8, 3) = 3 chunks of one item, no empty ones"
    );
    assert_eq!(
        chunk_ranges(0, 3).expect("3 workers"),
        vec![],
        "no items: no chunks"
    );

    let mut cases: Vec<(usize, usize)> = (0..=40)
        .flat_map(|len| (1..=12).map(move |workers| (len, workers)))
        .collect();
    cases.extend([(1_000_000, 4), (1_000_003, 7), (5, 1_000), (999, 1)]);

    for (len, workers) in cases {
        let ranges = chunk_ranges(len, workers)
            .unwrap_or_else(|e| panic!("chunk_ranges({len}, {workers}) failed: {e}"));
        let ctx = format!("chunk_ranges({len}, {workers}) = {ranges:?}");
        assert_eq!(
            ranges.len(),
            workers.min(len),
            "wrong number of chunks: {ctx}"
        );
        let mut next = 0;
        for r in &ranges {
            assert_eq!(
                r.start, next,
                "chunks must be contiguous and in order: {ctx}"
            );
            assert!(r.end > r.start, "no chunk may be empty: {ctx}");
            next = r.end;
        }
        assert_eq!(next, len, "chunks must cover 0..{len}: {ctx}");
        let sizes: Vec<usize> = ranges.iter().map(|r| r.len()).collect();
        if let (Some(min), Some(max)) = (sizes.iter().min(), sizes.iter().max()) {
            assert!(max - min <= 1, "sizes differ by more than one: {ctx}");
        }
        assert!(
            sizes.windows(2).all(|w| w[0] >= w[1]),
            "the larger chunks come first: {ctx}"
        );
    }
}

#[test]
fn t2_zero_workers_is_a_typed_error() {
    assert!(matches!(chunk_ranges(5, 0), Err(ThreadsError::NoWorkers)));
    assert!(matches!(chunk_ranges(0, 0), Err(ThreadsError::NoWorkers)));
    assert!(matches!(
        concurrent_sum(&[1, 2, 3], 0),
        Err(ThreadsError::NoWorkers)
    ));
    assert!(
        matches!(concurrent_sum(&[], 0), Err(ThreadsError::NoWorkers)),
        "zero workers is an error even when there is nothing to sum"
    );
    assert!(matches!(
        concurrent_sum_by(&["a"], 0, |s| s.len() as u64),
        Err(ThreadsError::NoWorkers)
    ));
}

#[test]
fn t2_sums_one_to_a_million_with_any_worker_count() {
    let numbers: Vec<u64> = (1..=1_000_000).collect();
    for workers in [1, 2, 3, 4, 7, 16] {
        assert_eq!(
            concurrent_sum(&numbers, workers).expect("workers > 0"),
            500_000_500_000,
            "with {workers} workers"
        );
    }
    assert_eq!(
        concurrent_sum(&[1, 2, 3], 8).expect("workers > len is fine"),
        6
    );
    assert_eq!(concurrent_sum(&[], 4).expect("empty input is fine"), 0);
}

#[test]
fn t2_concurrent_sum_by_applies_f_to_every_item_once() {
    let words = ["a", "bb", "ccc", "dddd", "eeeee", "ffffff", "g"];
    for workers in 1..=9 {
        assert_eq!(
            concurrent_sum_by(&words, workers, |w| w.len() as u64).expect("workers > 0"),
            22,
            "with {workers} workers"
        );
    }
    let squares = concurrent_sum_by(&[1u64, 2, 3, 4, 5], 2, |&n| n * n).expect("2 workers");
    assert_eq!(squares, 55, "the sum of f(item) = n * n over 1..=5 is 55");
}

#[test]
fn t2_one_thread_per_chunk_and_never_the_callers_thread() {
    let caller = thread::current().id();
    for (len, workers) in [(100, 5), (3, 8), (7, 1)] {
        let items: Vec<u64> = (0..len).collect();
        let ids = Mutex::new(HashSet::new());
        let sum = concurrent_sum_by(&items, workers, |&n| {
            ids.lock().unwrap().insert(thread::current().id());
            n
        })
        .expect("workers > 0");
        let ids = ids.into_inner().unwrap();

        assert_eq!(
            sum,
            len * (len - 1) / 2,
            "{len} items, {workers} workers: every item summed exactly once"
        );
        assert_eq!(
            ids.len(),
            workers.min(len as usize),
            "{len} items, {workers} workers: expected one thread per chunk"
        );
        assert!(
            !ids.contains(&caller),
            "the caller's thread must not sum a chunk itself"
        );
    }
}

#[test]
fn t2_a_panic_in_f_reaches_the_caller_with_its_payload() {
    let items: Vec<u64> = (0..100).collect();
    for workers in [1, 4] {
        let outcome = panic::catch_unwind(|| {
            concurrent_sum_by(&items, workers, |&n| {
                if n == 42 {
                    panic::panic_any(Boom(42));
                }
                n
            })
        });
        let payload = match outcome {
            Ok(sum) => panic!(
                "{workers} workers: f panicked on item 42, yet concurrent_sum_by returned \
                 {sum:?}; a chunk's panic must reach the caller"
            ),
            Err(payload) => payload,
        };
        assert_eq!(
            payload.downcast_ref::<Boom>(),
            Some(&Boom(42)),
            "{workers} workers: resume the chunk's own panic with \
             std::panic::resume_unwind instead of starting a new one"
        );
    }
}

#[test]
fn t2_chunks_are_summed_at_the_same_time() {
    let workers = 4;
    let items: Vec<u64> = (1..=40).collect();
    let meeting = Rendezvous::new(workers);
    let all_met = AtomicBool::new(true);
    let sum = concurrent_sum_by(&items, workers, |&n| {
        if !meeting.arrive_and_wait() {
            all_met.store(false, Ordering::SeqCst);
        }
        n
    })
    .expect("4 workers");
    assert_eq!(sum, 820, "the sum of 1..=40 is 820");
    assert!(
        all_met.load(Ordering::SeqCst),
        "the {workers} chunk threads never ran at the same time \
         (do you join each scoped thread right after spawning it?)"
    );
}

// ---------------------------------------------------------------- task 3

#[test]
fn t3_panics_are_reported_by_index_and_the_other_results_are_kept() {
    let outcomes = run_isolated(7, |i| match i {
        2 => panic!("bad input {i}"),
        5 => panic!("static boom"),
        _ => i * i,
    })
    .expect("spawning 7 threads succeeds");

    let failure = |index: usize, message: &str| {
        Err(WorkerPanic {
            index,
            message: message.to_owned(),
        })
    };
    assert_eq!(
        outcomes,
        vec![
            Ok(0),
            Ok(1),
            failure(2, "bad input 2"), // a formatted panic: String payload
            Ok(9),
            Ok(16),
            failure(5, "static boom"), // a literal panic: &'static str payload
            Ok(36),
        ],
        "workers 2 and 5 panicked: each must be Err(WorkerPanic) at its own index with \
         the panic's text, whether the payload is a String (2) or a &'static str (5); \
         every other worker keeps its value"
    );
    let shown = outcomes[5]
        .as_ref()
        .expect_err("worker 5 panicked")
        .to_string();
    assert_eq!(shown, "worker 5 panicked: static boom");
}

#[test]
fn t3_a_non_string_payload_gets_a_placeholder_message() {
    let outcomes = run_isolated(3, |i| {
        if i == 1 {
            panic::panic_any(42_i32);
        }
        i
    })
    .expect("spawning 3 threads succeeds");
    assert_eq!(
        outcomes,
        vec![
            Ok(0),
            Err(WorkerPanic {
                index: 1,
                message: "<non-string panic payload>".to_owned()
            }),
            Ok(2),
        ],
        "a payload that is neither &str nor String gets the placeholder message"
    );
}

#[test]
fn t3_run_isolated_itself_never_panics() {
    let outcome =
        panic::catch_unwind(|| run_isolated(4, |i| -> usize { panic!("worker {i} always fails") }));
    let outcomes = outcome
        .expect("run_isolated must not panic when its workers do")
        .expect("spawning 4 threads succeeds");
    let indices: Vec<_> = outcomes
        .iter()
        .map(|o| o.as_ref().map_err(|p| p.index))
        .collect();
    assert_eq!(indices, vec![Err(0), Err(1), Err(2), Err(3)]);
}

#[test]
fn t3_outcomes_are_in_spawn_order_and_on_named_threads() {
    let count = 4;
    let line = FinishLine::new(count);
    let in_worker = Arc::clone(&line);
    let outcomes = run_isolated(count, move |i| {
        in_worker.finish_after_successor(i);
        if i == 1 {
            panic!("worker one gives up");
        }
        thread::current().name().map(str::to_owned)
    })
    .expect("spawning 4 threads succeeds");

    assert_eq!(
        line.order(),
        vec![3, 2, 1, 0],
        "setup check: workers must run at once"
    );
    assert_eq!(
        outcomes,
        vec![
            Ok(Some("worker-0".to_owned())),
            Err(WorkerPanic {
                index: 1,
                message: "worker one gives up".to_owned()
            }),
            Ok(Some("worker-2".to_owned())),
            Ok(Some("worker-3".to_owned())),
        ],
        "outcomes in spawn order, whatever order the workers finished in, each on \
         its thread worker-i, and worker 1's panic with its message"
    );
    assert!(matches!(run_isolated(0, |i| i).as_deref(), Ok([])));
}

// ---------------------------------------------------------------- task 4

#[test]
fn t4_output_keeps_the_input_order() {
    // Three items finish in reverse order: a map that collects results as
    // they arrive gets this wrong.
    let line = FinishLine::new(3);
    let prefix = String::from("item-");
    let items = vec![String::from("a"), String::from("b"), String::from("c")];
    let out = parallel_map_with_limit(items, nz(3), |s| {
        let index = usize::from(s.as_bytes()[0] - b'a');
        line.finish_after_successor(index);
        format!("{prefix}{s}")
    });
    assert_eq!(
        line.order(),
        vec![2, 1, 0],
        "setup check: 3 calls must run at once"
    );
    assert_eq!(
        out,
        vec!["item-a", "item-b", "item-c"],
        "the calls finished c, b, a, but the output must keep the input order"
    );

    let numbers: Vec<u64> = (0..1_000).collect();
    let doubled = parallel_map_with_limit(numbers, nz(4), |n| n * 2);
    assert_eq!(
        doubled,
        (0..1_000).map(|n| n * 2).collect::<Vec<u64>>(),
        "1000 items on 4 threads: every output at its input's index"
    );
}

#[test]
fn t4_at_most_limit_calls_in_flight_and_the_limit_is_reached() {
    let limit = 3;
    let meeting = Rendezvous::new(limit);
    let gauge = InFlight::default();
    let out = parallel_map_with_limit((0..30).collect::<Vec<u32>>(), nz(limit), |n| {
        let _call = gauge.enter();
        let met = meeting.arrive_and_wait();
        // Stay in flight until one call too many joins, or the hold ends.
        gauge.hold_while_at_most(limit);
        (n + 1, met)
    });

    assert!(
        gauge.max() <= limit,
        "{} calls were in flight at once; the limit is {limit}",
        gauge.max()
    );
    assert!(
        out.iter().all(|&(_, met)| met),
        "{limit} calls never ran at the same time; the map must use the limit"
    );
    let values: Vec<u32> = out.iter().map(|&(v, _)| v).collect();
    assert_eq!(
        values,
        (1..=30).collect::<Vec<u32>>(),
        "every item mapped once, in input order"
    );
}

#[test]
fn t4_never_more_threads_than_min_of_limit_and_len() {
    for (len, limit) in [(3, 8), (50, 2), (10, 1)] {
        let ids = Mutex::new(HashSet::new());
        let gauge = InFlight::default();
        let out = parallel_map_with_limit((0..len).collect::<Vec<usize>>(), nz(limit), |n| {
            ids.lock().unwrap().insert(thread::current().id());
            // Linger until a thread too many has taken an item, or the hold ends.
            let _call = gauge.enter();
            gauge.hold_while_at_most(limit.min(len));
            n
        });
        assert_eq!(
            out,
            (0..len).collect::<Vec<usize>>(),
            "{len} items with limit {limit}: every item mapped once, in input order"
        );
        let threads = ids.into_inner().unwrap().len();
        assert!(
            threads <= limit.min(len),
            "{len} items with limit {limit} ran on {threads} threads"
        );
    }
}

#[test]
fn t4_a_panic_in_f_reaches_the_caller_with_its_payload() {
    let outcome = panic::catch_unwind(|| {
        parallel_map_with_limit((0..40).collect::<Vec<usize>>(), nz(3), |n| {
            if n == 17 {
                panic::panic_any(Boom(17));
            }
            n
        })
    });
    let payload = match outcome {
        Ok(out) => panic!(
            "f panicked on item 17, yet parallel_map_with_limit returned {} values",
            out.len()
        ),
        Err(payload) => payload,
    };
    assert_eq!(
        payload.downcast_ref::<Boom>(),
        Some(&Boom(17)),
        "resume the call's own panic with std::panic::resume_unwind; a panic of \
         your own (an expect on a missing result, say) hides what went wrong"
    );
}

#[test]
fn t4_empty_input_gives_empty_output() {
    let out: Vec<u8> = parallel_map_with_limit(Vec::<u8>::new(), nz(4), |b| b + 1);
    assert!(out.is_empty());
    let out: Vec<String> = parallel_map(Vec::<u8>::new(), |b| b.to_string());
    assert!(out.is_empty());
}

#[test]
fn t4_parallel_map_is_bounded_by_available_parallelism() {
    let cores = thread::available_parallelism().map_or(1, NonZeroUsize::get);
    let len = cores * 4 + 3;
    let meeting = Rendezvous::new(cores);
    let gauge = InFlight::default();
    let out = parallel_map((0..len).collect::<Vec<usize>>(), |n| {
        let _call = gauge.enter();
        let met = meeting.arrive_and_wait();
        gauge.hold_while_at_most(cores);
        (n.to_string(), met)
    });

    assert!(
        gauge.max() <= cores,
        "{} calls in flight on a machine with available_parallelism {cores}",
        gauge.max()
    );
    assert!(
        out.iter().all(|(_, met)| *met),
        "parallel_map should run {cores} calls at once"
    );
    let strings: Vec<String> = out.into_iter().map(|(s, _)| s).collect();
    assert_eq!(strings, (0..len).map(|n| n.to_string()).collect::<Vec<_>>());
}

// ---------------------------------------------------------------- helpers

/// A panic payload that is neither `&str` nor `String`.
#[derive(Debug, PartialEq)]
struct Boom(usize);

fn nz(n: usize) -> NonZeroUsize {
    NonZeroUsize::new(n).expect("test limits are positive")
}

/// Polls `done` until it is true or [`DEADLINE`] passes; returns the last answer.
fn wait_until(done: impl Fn() -> bool) -> bool {
    wait_for(DEADLINE, done)
}

/// Polls `done` until it is true or `limit` passes; returns the last answer.
fn wait_for(limit: Duration, done: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while !done() {
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(1));
    }
    true
}

/// Makes `count` concurrent workers finish in reverse index order and records
/// the order they actually finished in.
struct FinishLine {
    count: usize,
    finished: Mutex<Vec<usize>>,
    changed: Condvar,
    gave_up: AtomicBool,
}

impl FinishLine {
    fn new(count: usize) -> Arc<Self> {
        Arc::new(Self {
            count,
            finished: Mutex::new(Vec::new()),
            changed: Condvar::new(),
            gave_up: AtomicBool::new(false),
        })
    }

    /// Waits until worker `index + 1` has finished (the last worker does not
    /// wait), then records `index` as finished. If that takes longer than
    /// [`DEADLINE`], nobody waits any more and the recorded order is wrong.
    fn finish_after_successor(&self, index: usize) {
        let deadline = Instant::now() + DEADLINE;
        let mut finished = self.finished.lock().unwrap();
        while index + 1 < self.count
            && !finished.contains(&(index + 1))
            && !self.gave_up.load(Ordering::SeqCst)
        {
            let now = Instant::now();
            if now >= deadline {
                self.gave_up.store(true, Ordering::SeqCst);
                break;
            }
            finished = self
                .changed
                .wait_timeout(finished, deadline - now)
                .unwrap()
                .0;
        }
        finished.push(index);
        self.changed.notify_all();
    }

    fn order(&self) -> Vec<usize> {
        self.finished.lock().unwrap().clone()
    }
}

/// A meeting point for `expected` threads. Later arrivals pass straight through.
struct Rendezvous {
    expected: usize,
    arrived: Mutex<usize>,
    changed: Condvar,
    gave_up: AtomicBool,
}

impl Rendezvous {
    fn new(expected: usize) -> Arc<Self> {
        Arc::new(Self {
            expected,
            arrived: Mutex::new(0),
            changed: Condvar::new(),
            gave_up: AtomicBool::new(false),
        })
    }

    /// Counts this arrival and waits until `expected` arrivals have happened.
    /// Returns false if that took longer than [`DEADLINE`]; after one such
    /// timeout every caller returns false at once, so a sequential
    /// implementation fails after one deadline instead of one per call.
    fn arrive_and_wait(&self) -> bool {
        let deadline = Instant::now() + DEADLINE;
        let mut arrived = self.arrived.lock().unwrap();
        *arrived += 1;
        self.changed.notify_all();
        while *arrived < self.expected {
            let now = Instant::now();
            if self.gave_up.load(Ordering::SeqCst) || now >= deadline {
                self.gave_up.store(true, Ordering::SeqCst);
                self.changed.notify_all();
                return false;
            }
            arrived = self
                .changed
                .wait_timeout(arrived, deadline - now)
                .unwrap()
                .0;
        }
        !self.gave_up.load(Ordering::SeqCst)
    }
}

/// Tracks how many calls are running now and the most that ever ran at once.
#[derive(Default)]
struct InFlight {
    /// (running now, most at once)
    counts: Mutex<(usize, usize)>,
    changed: Condvar,
    /// Set once a hold has expired: later holds pass straight through.
    released: AtomicBool,
}

impl InFlight {
    fn enter(&self) -> InFlightCall<'_> {
        let mut counts = self.counts.lock().unwrap();
        counts.0 += 1;
        counts.1 = counts.1.max(counts.0);
        self.changed.notify_all();
        InFlightCall(self)
    }

    /// Stays in flight while at most `limit` calls are, for up to [`HOLD`]:
    /// an implementation that lets one call too many start shows it here,
    /// whatever the scheduler does. After the first expiry nobody waits.
    fn hold_while_at_most(&self, limit: usize) {
        let deadline = Instant::now() + HOLD;
        let mut counts = self.counts.lock().unwrap();
        while counts.0 <= limit && !self.released.load(Ordering::SeqCst) {
            let now = Instant::now();
            if now >= deadline {
                self.released.store(true, Ordering::SeqCst);
                self.changed.notify_all();
                break;
            }
            counts = self.changed.wait_timeout(counts, deadline - now).unwrap().0;
        }
    }

    fn max(&self) -> usize {
        self.counts.lock().unwrap().1
    }
}

/// Leaves the gauge when dropped, even if the call panics.
struct InFlightCall<'a>(&'a InFlight);

impl Drop for InFlightCall<'_> {
    fn drop(&mut self) {
        let mut counts = self.0.counts.lock().unwrap_or_else(|p| p.into_inner());
        counts.0 -= 1;
        self.0.changed.notify_all();
    }
}
