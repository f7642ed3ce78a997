//! Graded tests for lesson 04 (worker pool).
//!
//! - `t1_` grades task 1: `BoundedQueue` and `Permit`.
//! - `t2_` grades task 2: `ThreadPool::new`, `submit`, `try_submit` and `JobHandle`.
//! - `t3_` grades task 3: a panicking job becomes `JobError::Panicked`, and its worker lives on.
//! - `t4_` grades task 4: dropping the pool runs every queued job and joins every worker.
//! - `t5_` grades task 5: `shutdown_timeout` and its `ShutdownReport`.
//! - `t6_` grades task 6: 1,000 jobs from several threads, each run exactly once.
//!
//! The loom models in `tests/loom.rs` grade tasks 1, 4, 5 and 6 in the loom stage.
//!
//! No test measures time. Whenever a test waits for the pool, it waits with a
//! deadline and then fails its assertion, so a pool that deadlocks fails the
//! test instead of hanging it.

#![cfg(not(loom))]

use std::collections::HashSet;
use std::num::NonZeroUsize;
use std::panic;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

use worker_pool::{
    BoundedQueue, Closed, JobError, JobHandle, JobId, PoolError, QueueFull, ShutdownReport,
    ThreadPool, TryReserveError,
};

/// How long a test waits for the code under test before it gives up.
const DEADLINE: Duration = Duration::from_secs(5);

/// How long a test waits to be reasonably sure that a call is blocked. A
/// correct pool never returns within this time, so it never fails because of
/// it; a pool that forgets to block almost always returns well inside it.
const SETTLE: Duration = Duration::from_millis(100);

/// The number of jobs in the throughput tests (task 6).
const JOBS: usize = if cfg!(miri) { 40 } else { 1_000 };

// ---------------------------------------------------------------- task 1

#[test]
fn t1_items_come_out_in_fifo_order() {
    bounded(|| {
        let queue = BoundedQueue::new(nz(4));
        assert_eq!(queue.capacity(), 4);
        assert!(queue.is_empty(), "a new queue is empty");
        for item in 1..=4 {
            queue.push(item).expect("the queue is open");
        }
        assert_eq!(queue.len(), 4);
        assert!(!queue.is_empty());
        assert!(!queue.is_closed(), "nobody closed the queue");
        let popped: Vec<i32> = (0..4).filter_map(|_| queue.pop()).collect();
        assert_eq!(
            popped,
            vec![1, 2, 3, 4],
            "items must leave in the order they came"
        );
        assert!(queue.is_empty());
    });
}

#[test]
fn t1_reserved_slots_count_against_the_capacity() {
    bounded(|| {
        let queue = BoundedQueue::new(nz(2));
        queue.push("a").expect("open");
        let permit = queue.try_reserve().expect("one slot is still free");
        assert_eq!(queue.len(), 1, "a reserved slot holds no item yet");
        assert_eq!(
            queue.try_reserve().err(),
            Some(TryReserveError::Full),
            "one item plus one permit fill a queue of capacity 2"
        );
        drop(permit);
        let permit = queue
            .try_reserve()
            .expect("dropping an unused permit must give its slot back");
        permit.push("b").expect("the queue is still open");
        assert_eq!(
            queue.len(),
            2,
            "Permit::push puts its item in the queue: expected a and b queued"
        );
        assert_eq!(
            queue.try_reserve().err(),
            Some(TryReserveError::Full),
            "two items fill a queue of capacity 2"
        );
        assert_eq!(queue.pop(), Some("a"), "items leave in FIFO order");
        assert_eq!(queue.pop(), Some("b"), "Permit::push queues its item");
        let permits: Vec<_> = (0..2).map_while(|_| queue.try_reserve().ok()).collect();
        assert_eq!(
            permits.len(),
            2,
            "the queue of capacity 2 is empty again, so both of its slots must be free: \
             expected 2 reservations to succeed, got {}. Permit::push turns the reserved slot \
             into the item, and pop frees it; no slot may stay reserved",
            permits.len()
        );
    });
}

#[test]
fn t1_push_blocks_while_full_until_a_pop_makes_room() {
    bounded(|| {
        let queue = Arc::new(BoundedQueue::new(nz(1)));
        queue.push(1).expect("open");
        let pusher = {
            let queue = Arc::clone(&queue);
            spawn_with_result(move || queue.push(2))
        };
        assert!(
            still_running(&pusher),
            "push returned although the queue was full; it must wait for room (backpressure)"
        );
        assert_eq!(queue.pop(), Some(1));
        let pushed = finish(
            pusher,
            "a push blocked on a full queue after a pop freed a slot",
        );
        assert!(pushed.is_ok(), "the queue is open: {pushed:?}");
        assert_eq!(queue.pop(), Some(2));
    });
}

#[test]
fn t1_dropping_an_unused_permit_wakes_a_blocked_push() {
    bounded(|| {
        let queue = Arc::new(BoundedQueue::new(nz(1)));
        let permit = queue.try_reserve().expect("the queue is empty");
        let pusher = {
            let queue = Arc::clone(&queue);
            spawn_with_result(move || queue.push("x"))
        };
        assert!(
            still_running(&pusher),
            "push returned although a permit held the only slot"
        );
        drop(permit);
        let pushed = finish(
            pusher,
            "a push blocked on a reserved slot after the permit was dropped",
        );
        assert!(pushed.is_ok());
        assert_eq!(queue.pop(), Some("x"));
    });
}

#[test]
fn t1_pop_blocks_until_an_item_arrives() {
    bounded(|| {
        let queue = Arc::new(BoundedQueue::new(nz(3)));
        let popper = {
            let queue = Arc::clone(&queue);
            spawn_with_result(move || queue.pop())
        };
        assert!(
            still_running(&popper),
            "pop returned from an empty, open queue; it must wait for an item"
        );
        queue.push(7).expect("open");
        assert_eq!(
            finish(popper, "a pop blocked on an empty queue after a push"),
            Some(7)
        );
    });
}

#[test]
fn t1_close_wakes_every_blocked_pop() {
    bounded(|| {
        let queue = Arc::new(BoundedQueue::<u8>::new(nz(2)));
        let poppers: Vec<_> = (0..3)
            .map(|_| {
                let queue = Arc::clone(&queue);
                spawn_with_result(move || queue.pop())
            })
            .collect();
        // Let the poppers fall asleep, so that close has sleepers to wake.
        thread::sleep(SETTLE);
        queue.close();
        assert!(queue.is_closed());
        for popper in poppers {
            assert_eq!(
                finish(
                    popper,
                    "a pop blocked on an empty queue after close (does close wake *every* waiter?)"
                ),
                None,
                "pop on a closed, empty queue returns None"
            );
        }
    });
}

#[test]
fn t1_after_close_pop_drains_what_is_left_then_returns_none() {
    bounded(|| {
        let queue = BoundedQueue::new(nz(4));
        for item in ["a", "b", "c"] {
            queue.push(item).expect("open");
        }
        queue.close();
        queue.close(); // closing twice is harmless
        let drained: Vec<_> = (0..5).map(|_| queue.pop()).collect();
        assert_eq!(
            drained,
            vec![Some("a"), Some("b"), Some("c"), None, None],
            "close must not throw queued items away, and pop returns None once they are gone"
        );
    });
}

#[test]
fn t1_a_closed_queue_rejects_new_items_and_hands_them_back() {
    bounded(|| {
        let queue = Arc::new(BoundedQueue::new(nz(1)));
        queue.push(String::from("first")).expect("open");
        let blocked: Vec<_> = ["waiting", "also waiting"]
            .into_iter()
            .map(|item| {
                let queue = Arc::clone(&queue);
                spawn_with_result(move || queue.push(String::from(item)))
            })
            .collect();
        assert!(
            blocked.iter().all(still_running),
            "the queue is full, so push must wait"
        );
        queue.close();
        for (item, pusher) in ["waiting", "also waiting"].into_iter().zip(blocked) {
            let rejected = finish(
                pusher,
                "a push blocked on a full queue after close (does close wake every waiter?)",
            );
            assert_eq!(
                rejected,
                Err(Closed(String::from(item))),
                "close must wake every blocked push, which then fails and returns its item"
            );
        }
        assert_eq!(
            queue.push(String::from("late")),
            Err(Closed(String::from("late"))),
            "a push into a closed queue fails at once and hands its item back"
        );
        assert_eq!(
            queue.try_reserve().err(),
            Some(TryReserveError::Closed),
            "try_reserve on a closed (and full) queue: Closed says more than Full, so \
             check closed first"
        );
        assert_eq!(
            queue.pop().as_deref(),
            Some("first"),
            "a closed queue still hands out the item queued before close"
        );
        assert_eq!(queue.pop(), None, "a closed, drained queue pops None");
    });
}

#[test]
fn t1_take_all_empties_the_queue_and_wakes_blocked_pushes() {
    bounded(|| {
        let queue = Arc::new(BoundedQueue::new(nz(2)));
        queue.push(1).expect("open");
        queue.push(2).expect("open");
        let pushers: Vec<_> = [3, 4]
            .into_iter()
            .map(|item| {
                let queue = Arc::clone(&queue);
                spawn_with_result(move || queue.push(item))
            })
            .collect();
        assert!(
            pushers.iter().all(still_running),
            "the queue is full, so push must wait"
        );
        assert_eq!(
            queue.take_all(),
            vec![1, 2],
            "take_all returns the items oldest first"
        );
        for pusher in pushers {
            assert!(
                finish(
                    pusher,
                    "one of two pushes blocked on a full queue after take_all freed both slots \
                     (does take_all wake every waiting push?)"
                )
                .is_ok(),
                "the queue is still open"
            );
        }
        queue.close();
        let mut rest = queue.take_all();
        rest.sort_unstable();
        assert_eq!(
            rest,
            vec![3, 4],
            "take_all works on a closed queue too, and returns both pushed items"
        );
        assert_eq!(queue.pop(), None);
    });
}

#[test]
fn t1_many_producers_and_consumers_lose_and_duplicate_nothing() {
    bounded(|| {
        let per_producer = if cfg!(miri) { 10 } else { 500 };
        let queue = Arc::new(BoundedQueue::new(nz(3)));
        let outcome = within("3 producers and 3 consumers sharing a queue", move || {
            thread::scope(|s| {
                let consumers: Vec<_> = (0..3)
                    .map(|_| {
                        s.spawn(|| {
                            let mut got = Vec::new();
                            while let Some(item) = queue.pop() {
                                got.push(item);
                            }
                            got
                        })
                    })
                    .collect();
                let producers: Vec<_> = (0..3)
                    .map(|p| {
                        let queue = &queue;
                        s.spawn(move || {
                            for i in 0..per_producer {
                                queue.push(p * per_producer + i).expect("open");
                            }
                        })
                    })
                    .collect();
                for producer in producers {
                    producer.join().expect("producer panicked");
                }
                queue.close();
                let mut all: Vec<usize> = consumers
                    .into_iter()
                    .flat_map(|c| c.join().expect("consumer panicked"))
                    .collect();
                all.sort_unstable();
                all
            })
        });
        assert_eq!(
            outcome,
            (0..3 * per_producer).collect::<Vec<_>>(),
            "every pushed item must be popped exactly once"
        );
    });
}

// ---------------------------------------------------------------- task 2

#[test]
fn t2_new_rejects_zero_workers_and_zero_capacity() {
    bounded(|| {
        assert!(
            matches!(ThreadPool::new(0, 4), Err(PoolError::NoWorkers)),
            "a pool with no workers would never run a job"
        );
        assert!(
            matches!(ThreadPool::new(2, 0), Err(PoolError::ZeroCapacity)),
            "a queue with no room would block every submit forever"
        );
        assert!(
            matches!(ThreadPool::new(0, 0), Err(PoolError::NoWorkers)),
            "ThreadPool::new(0, 0) must be Err(NoWorkers): check the workers first"
        );
    });
}

#[test]
fn t2_each_handle_returns_its_own_jobs_value() {
    bounded(|| {
        let pool = detached_pool(3, 32);
        let handles: Vec<JobHandle<String>> = (0..20u64)
            .map(|i| pool.submit(move || format!("{i} squared is {}", i * i)))
            .collect();
        for (i, handle) in (0u64..).zip(handles) {
            assert_eq!(
                join_within(handle),
                Ok(format!("{i} squared is {}", i * i)),
                "job {i} got another job's result"
            );
        }
        let unit: JobHandle<()> = pool.submit(|| ());
        assert_eq!(join_within(unit), Ok(()));
    });
}

#[test]
fn t2_job_ids_count_up_from_zero_in_submission_order() {
    bounded(|| {
        let pool = detached_pool(2, 8);
        let first = pool.submit(|| 1);
        let second = pool
            .try_submit(|| 2)
            .expect("the queue has room for a second job");
        let third = pool.submit(|| 3);
        let ids: Vec<JobId> = vec![first.id(), second.id(), third.id()];
        assert_eq!(
            ids.iter().map(|id| id.get()).collect::<Vec<_>>(),
            vec![0, 1, 2],
            "the n-th job submitted (by submit or try_submit) gets id n"
        );
        assert_eq!(ids[2].to_string(), "job #2");
        for handle in [first, second, third] {
            assert!(join_within(handle).is_ok());
        }
    });
}

#[test]
fn t2_jobs_run_at_once_on_the_named_worker_threads() {
    bounded(|| {
        let workers = 3;
        let pool = detached_pool(workers, workers);
        let meeting = Rendezvous::new(workers);
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                let meeting = Arc::clone(&meeting);
                pool.submit(move || {
                    let met = meeting.arrive_and_wait();
                    let me = thread::current();
                    (met, me.name().map(str::to_owned), me.id())
                })
            })
            .collect();
        let outcomes: Vec<_> = handles
            .into_iter()
            .map(|h| join_within(h).expect("no job panics"))
            .collect();

        assert!(
            outcomes.iter().all(|(met, _, _)| *met),
            "{workers} jobs never ran at the same time on a pool of {workers} workers"
        );
        let names: HashSet<Option<String>> = outcomes.iter().map(|(_, n, _)| n.clone()).collect();
        let expected: HashSet<Option<String>> = (0..workers)
            .map(|i| Some(format!("pool-worker-{i}")))
            .collect();
        assert_eq!(
            names, expected,
            "workers are named pool-worker-0, pool-worker-1, ..."
        );
        let ids: HashSet<ThreadId> = outcomes.iter().map(|&(_, _, id)| id).collect();
        assert!(
            !ids.contains(&thread::current().id()),
            "jobs must run on the workers, never on the caller's thread"
        );
    });
}

#[test]
fn t2_never_more_threads_than_workers() {
    bounded(|| {
        let pool = detached_pool(2, 32);
        let gauge = Arc::new(InFlight::default());
        let handles: Vec<_> = (0..30)
            .map(|_| {
                let gauge = Arc::clone(&gauge);
                pool.submit(move || {
                    let _call = gauge.enter();
                    // Linger, so that extra threads would overlap.
                    thread::sleep(Duration::from_millis(1));
                    thread::current().id()
                })
            })
            .collect();
        let ids: HashSet<ThreadId> = handles
            .into_iter()
            .map(|h| join_within(h).expect("no job panics"))
            .collect();
        assert!(
            ids.len() <= 2,
            "30 jobs ran on {} threads; a pool of 2 workers must reuse its 2 threads",
            ids.len()
        );
        assert!(
            gauge.max() <= 2,
            "{} jobs ran at once on 2 workers",
            gauge.max()
        );
    });
}

#[test]
fn t2_try_submit_hands_the_job_back_when_the_queue_is_full() {
    bounded(|| {
        let pool = detached_pool(1, 2);
        let gate = Gate::new();
        let (started, wait_for_start) = mpsc::channel();
        let running = pool.submit(blocker(&gate, &started, 1));
        expect_started(&wait_for_start, 1);
        // The worker is busy, so these two fill the queue.
        let queued = [pool.submit(|| 2), pool.submit(|| 3)];

        let QueueFull(job) = match pool.try_submit(|| 40 + 2) {
            Ok(handle) => panic!(
                "try_submit accepted {} although the queue (capacity 2) was full",
                handle.id()
            ),
            Err(full) => full,
        };
        assert_eq!(
            job(),
            42,
            "QueueFull must carry the very job that was rejected"
        );

        gate.open();
        assert_eq!(join_within(running), Ok(1));
        let [second, third] = queued;
        assert_eq!(join_within(second), Ok(2));
        assert_eq!(join_within(third), Ok(3));
        let accepted = pool
            .try_submit(|| 4)
            .expect("the queue is empty again, so try_submit must accept");
        assert_eq!(join_within(accepted), Ok(4));
    });
}

#[test]
fn t2_a_dropped_handle_does_not_cost_a_worker() {
    bounded(|| {
        let pool = detached_pool(1, 4);
        let gate = Gate::new();
        let (started, wait_for_start) = mpsc::channel();
        let running = pool.submit(blocker(&gate, &started, 1));
        expect_started(&wait_for_start, 1);
        // The only worker is busy, so this job is still queued when its handle goes.
        drop(pool.submit(|| 2));
        let after = pool.submit(|| 3);
        gate.open();
        assert_eq!(join_within(running), Ok(1));
        assert_eq!(
            join_within(after),
            Ok(3),
            "the job after one whose handle was dropped must still run. Dropping a JobHandle \
             closes its channel, so the job's send fails: ignore that error, do not unwrap it \
             (a panic outside catch_unwind ends the worker)"
        );
    });
}

#[test]
fn t2_submit_blocks_while_the_queue_is_full() {
    bounded(|| {
        let pool = Arc::new(detached_pool(1, 2));
        let gate = Gate::new();
        let (started, wait_for_start) = mpsc::channel();
        let running = pool.submit(blocker(&gate, &started, 1));
        expect_started(&wait_for_start, 1);
        let queued = [pool.submit(|| 2), pool.submit(|| 3)];

        let submitter = {
            let pool = Arc::clone(&pool);
            spawn_with_result(move || pool.submit(|| 4))
        };
        assert!(
            still_running(&submitter),
            "submit returned although the queue was full; it must block until a worker takes a job"
        );
        gate.open();
        let fourth = finish(
            submitter,
            "a submit blocked on a full queue after a worker freed a slot",
        );
        let [second, third] = queued;
        let results: Vec<_> = [running, second, third, fourth]
            .into_iter()
            .map(join_within)
            .collect();
        assert_eq!(results, vec![Ok(1), Ok(2), Ok(3), Ok(4)]);
    });
}

// ---------------------------------------------------------------- task 3

#[test]
fn t3_a_panicking_job_reports_its_message() {
    bounded(|| {
        let pool = detached_pool(1, 4);
        let literal: JobHandle<u8> = pool.submit(|| panic!("disk on fire"));
        // A value known only at run time: `panic!("bad block {}", 7)` may be
        // folded into a &'static str, and then no String payload is tested.
        let block = std::hint::black_box(7);
        let formatted: JobHandle<u8> = pool.submit(move || panic!("bad block {block}"));
        let odd: JobHandle<u8> = pool.submit(|| panic::panic_any(42_i32));

        let literal = join_within(literal);
        assert_eq!(
            literal,
            Err(JobError::Panicked("disk on fire".to_owned())),
            "a panic must come back as JobError::Panicked with its message \
             (Abandoned here means the panic killed the worker: catch it)"
        );
        assert_eq!(
            literal.expect_err("it panicked").to_string(),
            "the job panicked: disk on fire",
            "JobError::Panicked displays its message"
        );
        assert_eq!(
            join_within(formatted),
            Err(JobError::Panicked("bad block 7".to_owned())),
            "a panic with a formatted message carries a String payload: downcast to String too"
        );
        assert_eq!(
            join_within(odd),
            Err(JobError::Panicked("<non-string panic payload>".to_owned())),
            "panic_any(42_i32) carries neither a &str nor a String"
        );
    });
}

#[test]
fn t3_the_worker_survives_a_panic_and_runs_the_next_job() {
    bounded(|| {
        let pool = detached_pool(1, 4);
        let before = pool.submit(|| thread::current().id());
        let boom: JobHandle<ThreadId> = pool.submit(|| panic!("boom"));
        let after = pool.submit(|| thread::current().id());

        let before = join_within(before).expect("the first job does not panic");
        assert!(matches!(join_within(boom), Err(JobError::Panicked(_))));
        let after = join_within(after)
            .expect("the job after a panic must still run; did the panic kill the only worker?");
        assert_eq!(
            before, after,
            "the job after the panic ran on a new thread: the panic must not end its worker"
        );
    });
}

#[test]
fn t3_the_pool_keeps_all_its_workers_after_many_panics() {
    bounded(|| {
        let workers = 3;
        let pool = detached_pool(workers, 16);
        let panics: Vec<JobHandle<()>> = (0..12)
            .map(|i| pool.submit(move || panic!("job {i} fails")))
            .collect();
        for (i, handle) in panics.into_iter().enumerate() {
            assert_eq!(
                join_within(handle),
                Err(JobError::Panicked(format!("job {i} fails")))
            );
        }
        let meeting = Rendezvous::new(workers);
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                let meeting = Arc::clone(&meeting);
                pool.submit(move || meeting.arrive_and_wait())
            })
            .collect();
        let met: Vec<bool> = handles
            .into_iter()
            .map(|h| join_within(h).expect("no panic"))
            .collect();
        assert_eq!(
            met,
            vec![true; workers],
            "after 12 panics the pool must still have {workers} workers running jobs at once"
        );
    });
}

// ---------------------------------------------------------------- task 4

#[test]
fn t4_drop_runs_every_queued_job_before_it_returns() {
    bounded(|| {
        let pool = ThreadPool::new(1, 8).expect("1 worker");
        let gate = Gate::new();
        let (started, wait_for_start) = mpsc::channel();
        let ran = Arc::new(Mutex::new(Vec::new()));
        let first = {
            let ran = Arc::clone(&ran);
            let job = blocker(&gate, &started, 0);
            pool.submit(move || {
                let value = job();
                ran.lock().unwrap().push(value);
            })
        };
        expect_started(&wait_for_start, 0);
        let mut handles = vec![first];
        for i in 1..=7 {
            let ran = Arc::clone(&ran);
            handles.push(pool.submit(move || ran.lock().unwrap().push(i)));
        }

        let dropper = spawn_with_result(move || drop(pool));
        assert!(
            still_running(&dropper),
            "drop returned while a job was running and 7 were queued; \
             it must let the workers finish the queue and join them"
        );
        gate.open();
        finish(dropper, "drop of a pool whose queued jobs can all finish");
        assert_eq!(
            *ran.lock().unwrap(),
            (0..=7).collect::<Vec<_>>(),
            "drop must run every queued job, in order, before it returns"
        );
        for handle in handles {
            assert_eq!(join_within(handle), Ok(()));
        }
    });
}

#[test]
fn t4_drop_joins_every_worker_thread() {
    bounded(|| {
        let workers = 3;
        let pool = ThreadPool::new(workers, workers).expect("3 workers");
        let meeting = Rendezvous::new(workers);
        let exits = ExitProbes::new();
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                let (meeting, exits) = (Arc::clone(&meeting), Arc::clone(&exits));
                pool.submit(move || {
                    // Meeting first puts exactly one probe on each worker thread.
                    let met = meeting.arrive_and_wait();
                    exits.install_on_this_thread();
                    met
                })
            })
            .collect();
        for handle in handles {
            assert_eq!(
                join_within(handle),
                Ok(true),
                "setup: all 3 workers run a job"
            );
        }

        let dropper = spawn_with_result(move || drop(pool));
        assert!(
            still_running(&dropper),
            "drop returned before its worker threads had ended; it must join every worker"
        );
        exits.release();
        finish(dropper, "drop of an idle pool");
        assert_eq!(
            exits.exited(),
            workers,
            "when drop returns, every worker thread must have ended (join them all)"
        );
    });
}

#[test]
fn t4_drop_wakes_idle_workers() {
    bounded(|| {
        let pool = ThreadPool::new(4, 2).expect("4 workers");
        // Give the workers time to block on the empty queue.
        thread::sleep(SETTLE);
        finish(
            spawn_with_result(move || drop(pool)),
            "drop of a pool whose 4 workers wait on an empty queue (does close wake them all?)",
        );

        let pool = ThreadPool::new(2, 2).expect("2 workers");
        let handles = [
            pool.submit(|| -> u8 { panic!("one bad job") }),
            pool.submit(|| 7),
        ];
        for handle in handles {
            let _ = join_within(handle);
        }
        finish(
            spawn_with_result(move || drop(pool)),
            "drop of a pool after one of its jobs panicked",
        );
    });
}

#[test]
fn t4_drop_runs_a_full_queue_on_every_worker() {
    bounded(|| {
        let queued = if cfg!(miri) { 20 } else { 200 };
        let pool = ThreadPool::new(2, queued).expect("2 workers");
        let gate = Gate::new();
        let (started, wait_for_start) = mpsc::channel();
        // Both workers wait at the gate, so every later job is still queued
        // when drop begins.
        let mut handles = vec![
            pool.submit(blocker(&gate, &started, 0)),
            pool.submit(blocker(&gate, &started, 0)),
        ];
        for _ in 0..2 {
            expect_started(&wait_for_start, 0);
        }
        let counter = Arc::new(AtomicUsize::new(0));
        handles.extend((0..queued).map(|_| {
            let counter = Arc::clone(&counter);
            pool.submit(move || counter.fetch_add(1, Ordering::SeqCst) as u64)
        }));

        let dropper = spawn_with_result(move || drop(pool));
        assert!(
            still_running(&dropper),
            "drop returned while both workers were busy and {queued} jobs were queued"
        );
        gate.open();
        finish(dropper, "drop of a pool with a full queue");
        assert_eq!(
            counter.load(Ordering::SeqCst),
            queued,
            "when drop returns, every queued job must have run; a stop flag that \
             workers check before the queue is empty throws jobs away"
        );
        for handle in handles {
            assert!(join_within(handle).is_ok());
        }
    });
}

// ---------------------------------------------------------------- task 5

#[test]
fn t5_a_busy_worker_is_detached_and_the_queued_jobs_are_abandoned() {
    bounded(|| {
        let pool = ThreadPool::new(1, 4).expect("1 worker");
        let gate = Gate::new();
        let (started, wait_for_start) = mpsc::channel();
        let running = pool.submit(blocker(&gate, &started, 1));
        expect_started(&wait_for_start, 1);
        let queued: Vec<JobHandle<u64>> = (2..=4).map(|i| pool.submit(move || i)).collect();
        let queued_ids: Vec<JobId> = queued.iter().map(JobHandle::id).collect();

        let report = within(
            "shutdown_timeout(100 ms) while its only worker is stuck in a job",
            move || pool.shutdown_timeout(Duration::from_millis(100)),
        );
        assert_eq!(
            report,
            ShutdownReport {
                abandoned: queued_ids,
                joined_workers: 0,
                detached_workers: 1,
            },
            "the 3 queued jobs never started, and the worker was still busy at the deadline"
        );
        for handle in queued {
            assert_eq!(
                join_within(handle),
                Err(JobError::Abandoned),
                "an abandoned job must resolve its handle (drop the job, and with it its sender)"
            );
        }
        gate.open();
        assert_eq!(
            join_within(running),
            Ok(1),
            "the detached worker still finishes the job it was running"
        );
    });
}

#[test]
fn t5_every_worker_busy_and_one_job_queued() {
    bounded(|| {
        let pool = ThreadPool::new(2, 2).expect("2 workers");
        let gate = Gate::new();
        let (started, wait_for_start) = mpsc::channel();
        let running = [
            pool.submit(blocker(&gate, &started, 1)),
            pool.submit(blocker(&gate, &started, 2)),
        ];
        let mut seen = [
            wait_for_start.recv_timeout(DEADLINE),
            wait_for_start.recv_timeout(DEADLINE),
        ]
        .map(|got| got.expect("both blocking jobs start, one on each worker"));
        seen.sort_unstable();
        assert_eq!(seen, [1, 2]);
        let queued = pool.submit(|| 3);
        let queued_id = queued.id();

        let report = within(
            "shutdown_timeout(50 ms) with both workers stuck",
            move || pool.shutdown_timeout(Duration::from_millis(50)),
        );
        assert_eq!(
            report.abandoned,
            vec![queued_id],
            "the one queued job never started, so it is abandoned"
        );
        assert_eq!(
            (report.joined_workers, report.detached_workers),
            (0, 2),
            "(joined, detached): both workers were still busy at the deadline"
        );
        assert_eq!(join_within(queued), Err(JobError::Abandoned));
        gate.open();
        for (value, handle) in [1, 2].into_iter().zip(running) {
            assert_eq!(join_within(handle), Ok(value));
        }
    });
}

#[test]
fn t5_returns_as_soon_as_the_workers_are_done() {
    bounded(|| {
        let pool = ThreadPool::new(2, 8).expect("2 workers");
        let handles: Vec<_> = (0..8).map(|i| pool.submit(move || i * 3)).collect();
        let report = within(
            "shutdown_timeout(1 hour) on a pool with 8 quick jobs \
             (wait for the workers, not for the timeout)",
            move || pool.shutdown_timeout(Duration::from_secs(3600)),
        );
        assert_eq!(
            report,
            ShutdownReport {
                abandoned: vec![],
                joined_workers: 2,
                detached_workers: 0,
            },
            "8 quick jobs finish long before the deadline: none is abandoned, and both \
             workers exit and are joined"
        );
        for (i, handle) in (0..).zip(handles) {
            assert_eq!(join_within(handle), Ok(i * 3));
        }
    });
}

#[test]
fn t5_queued_jobs_still_run_while_the_deadline_is_ahead() {
    bounded(|| {
        let pool = ThreadPool::new(1, 4).expect("1 worker");
        let gate = Gate::new();
        let (started, wait_for_start) = mpsc::channel();
        let running = pool.submit(blocker(&gate, &started, 1));
        expect_started(&wait_for_start, 1);
        let queued = [pool.submit(|| 2), pool.submit(|| 3)];

        let shutdown = spawn_with_result(move || pool.shutdown_timeout(Duration::from_secs(3600)));
        assert!(
            still_running(&shutdown),
            "shutdown_timeout(1 hour) returned while a job was still running"
        );
        gate.open();
        let report = finish(
            shutdown,
            "shutdown_timeout(1 hour) after the blocking job ended",
        );
        assert_eq!(
            report.abandoned,
            vec![],
            "the queued jobs could run before the deadline, so none is abandoned"
        );
        assert_eq!((report.joined_workers, report.detached_workers), (1, 0));
        let [second, third] = queued;
        let results: Vec<_> = [running, second, third]
            .into_iter()
            .map(join_within)
            .collect();
        assert_eq!(results, vec![Ok(1), Ok(2), Ok(3)]);
    });
}

#[test]
fn t5_waits_for_the_last_worker_not_the_first() {
    bounded(|| {
        let pool = ThreadPool::new(2, 2).expect("2 workers");
        let exits = ExitProbes::new();
        exits.release();
        let (started, wait_for_start) = mpsc::channel();
        let gates = [Gate::new(), Gate::new()];
        let running: Vec<_> = gates
            .iter()
            .zip(1..)
            .map(|(gate, value)| {
                let job = blocker(gate, &started, value);
                let exits = Arc::clone(&exits);
                pool.submit(move || {
                    exits.install_on_this_thread();
                    job()
                })
            })
            .collect();
        for _ in 0..2 {
            wait_for_start
                .recv_timeout(DEADLINE)
                .expect("setup: both blocking jobs start, one on each worker");
        }

        let shutdown = spawn_with_result(move || pool.shutdown_timeout(Duration::from_secs(3600)));
        gates[0].open();
        let deadline = Instant::now() + DEADLINE;
        while exits.exited() < 1 && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(
            exits.exited(),
            1,
            "setup: the first worker ends after its job"
        );
        assert!(
            still_running(&shutdown),
            "shutdown_timeout(1 hour) returned when 1 of its 2 workers had exited: expected \
             it to wait for both. A wake-up on worker_exited says that some worker exited; \
             check exited again in a loop"
        );
        gates[1].open();
        let report = finish(shutdown, "shutdown_timeout(1 hour) after both jobs ended");
        assert_eq!(
            (report.joined_workers, report.detached_workers),
            (2, 0),
            "both workers exited before the deadline, so both are joined: {report:?}"
        );
        for (value, handle) in (1..).zip(running) {
            assert_eq!(join_within(handle), Ok(value));
        }
    });
}

#[test]
fn t5_an_enormous_timeout_means_no_deadline() {
    bounded(|| {
        let pool = ThreadPool::new(3, 2).expect("3 workers");
        let handle = pool.submit(|| "done");
        let report = within("shutdown_timeout(Duration::MAX)", move || {
            pool.shutdown_timeout(Duration::MAX)
        });
        assert_eq!(
            report,
            ShutdownReport {
                abandoned: vec![],
                joined_workers: 3,
                detached_workers: 0,
            },
            "Instant::now() + Duration::MAX overflows; use checked_add"
        );
        assert_eq!(join_within(handle), Ok("done"));
    });
}

// ---------------------------------------------------------------- task 6

#[test]
fn t6_a_thousand_jobs_each_run_exactly_once() {
    bounded(|| {
        let runs = Arc::new(Counters::new(JOBS));
        let results = {
            let runs = Arc::clone(&runs);
            within(
                &format!("{JOBS} jobs on 4 workers with a queue of 16"),
                move || {
                    let pool = ThreadPool::new(4, 16).expect("4 workers");
                    let handles: Vec<_> = (0..JOBS)
                        .map(|i| {
                            let runs = Arc::clone(&runs);
                            pool.submit(move || {
                                runs.hit(i);
                                i * 2
                            })
                        })
                        .collect();
                    handles.into_iter().map(JobHandle::join).collect::<Vec<_>>()
                },
            )
        };
        assert_eq!(
            results,
            (0..JOBS).map(|i| Ok(i * 2)).collect::<Vec<_>>(),
            "every handle must return its own job's value"
        );
        runs.assert_each_exactly_once();
    });
}

#[test]
fn t6_concurrent_submitters_mixing_try_submit_and_submit() {
    bounded(|| {
        let submitters = 4;
        let runs = Arc::new(Counters::new(JOBS));
        let rejected = Arc::new(AtomicUsize::new(0));
        let results = {
            let (runs, rejected) = (Arc::clone(&runs), Arc::clone(&rejected));
            within(
                &format!("{submitters} threads submitting {JOBS} jobs to 3 workers"),
                move || {
                    let pool = ThreadPool::new(3, 4).expect("3 workers");
                    let per_thread = JOBS / submitters;
                    let handles: Vec<Vec<JobHandle<usize>>> = thread::scope(|s| {
                        let submitting: Vec<_> = (0..submitters)
                            .map(|t| {
                                let (pool, runs, rejected) = (&pool, &runs, &rejected);
                                s.spawn(move || {
                                    (t * per_thread..(t + 1) * per_thread)
                                        .map(|i| {
                                            let runs = Arc::clone(runs);
                                            let job = move || {
                                                runs.hit(i);
                                                i + 1
                                            };
                                            // On a full queue, take the job back and wait for room.
                                            pool.try_submit(job).unwrap_or_else(|QueueFull(job)| {
                                                rejected.fetch_add(1, Ordering::Relaxed);
                                                pool.submit(job)
                                            })
                                        })
                                        .collect()
                                })
                            })
                            .collect();
                        submitting
                            .into_iter()
                            .map(|t| t.join().expect("a submitter panicked"))
                            .collect()
                    });
                    handles
                        .into_iter()
                        .flatten()
                        .map(|h| (h.id(), h.join()))
                        .collect::<Vec<_>>()
                },
            )
        };
        let ids: HashSet<JobId> = results.iter().map(|(id, _)| *id).collect();
        assert_eq!(ids.len(), JOBS, "every job needs an id of its own");
        let mut values: Vec<usize> = results
            .into_iter()
            .map(|(_, r)| r.expect("no job panics"))
            .collect();
        values.sort_unstable();
        assert_eq!(values, (1..=JOBS).collect::<Vec<_>>());
        runs.assert_each_exactly_once();
    });
}

#[test]
fn t6_dropped_handles_and_panics_do_not_stop_a_burst() {
    bounded(|| {
        let runs = Arc::new(Counters::new(JOBS));
        let panicked = {
            let runs = Arc::clone(&runs);
            within(
                &format!("{JOBS} jobs, every 10th panicking, handles dropped, then drop the pool"),
                move || {
                    let pool = ThreadPool::new(3, 8).expect("3 workers");
                    let mut kept = Vec::new();
                    for i in 0..JOBS {
                        let runs = Arc::clone(&runs);
                        let handle = pool.submit(move || {
                            runs.hit(i);
                            assert!(i % 10 != 9, "job {i} fails on purpose");
                            i
                        });
                        // Keep a few handles; drop the rest at once, before their jobs run.
                        if i % 10 == 9 {
                            kept.push(handle);
                        }
                    }
                    drop(pool);
                    kept.into_iter()
                        .map(|h| match h.join() {
                            Err(JobError::Panicked(message)) => message,
                            other => panic!("expected a panic message, got {other:?}"),
                        })
                        .collect::<Vec<_>>()
                },
            )
        };
        assert_eq!(panicked.len(), JOBS / 10);
        assert!(
            panicked[0].starts_with("job 9 fails on purpose"),
            "got {:?}",
            panicked[0]
        );
        runs.assert_each_exactly_once();
    });
}

// ---------------------------------------------------------------- helpers

/// How long a whole test may take before it fails as stuck.
const TEST_DEADLINE: Duration = Duration::from_secs(20);

/// Runs a test body on a helper thread. If the body blocks forever, the test
/// fails after [`TEST_DEADLINE`] with a message instead of hanging.
fn bounded(body: impl FnOnce() + Send + 'static) {
    finish_by(
        spawn_with_result(body),
        TEST_DEADLINE,
        "the test as a whole (some push, pop, submit, join or drop blocked forever)",
    );
}

/// A pool for the tests of tasks 2 and 3, which do not grade `Drop`: it is
/// dropped on a thread of its own that nobody waits for, so these tests pass
/// or fail on their own task, whatever state your `Drop` is in.
fn detached_pool(workers: usize, queue_capacity: usize) -> Detached {
    let pool = ThreadPool::new(workers, queue_capacity)
        .unwrap_or_else(|e| panic!("ThreadPool::new({workers}, {queue_capacity}) failed: {e}"));
    Detached(Some(pool))
}

struct Detached(Option<ThreadPool>);

impl std::ops::Deref for Detached {
    type Target = ThreadPool;

    fn deref(&self) -> &ThreadPool {
        self.0.as_ref().expect("the pool is only taken out in drop")
    }
}

impl Drop for Detached {
    fn drop(&mut self) {
        if let Some(pool) = self.0.take() {
            thread::spawn(move || drop(pool));
        }
    }
}

fn nz(n: usize) -> NonZeroUsize {
    NonZeroUsize::new(n).expect("test capacities are positive")
}

/// A thread whose result arrives on a channel, so that waiting for it can
/// have a deadline.
struct Running<R> {
    result: mpsc::Receiver<R>,
    thread: thread::JoinHandle<()>,
}

fn spawn_with_result<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> Running<R> {
    let (tx, result) = mpsc::channel();
    let thread = thread::spawn(move || {
        let _ = tx.send(f());
    });
    Running { result, thread }
}

/// True if the thread is still running after [`SETTLE`].
fn still_running<R>(running: &Running<R>) -> bool {
    match running.result.recv_timeout(SETTLE) {
        Err(RecvTimeoutError::Timeout) => true,
        Ok(_) | Err(RecvTimeoutError::Disconnected) => false,
    }
}

/// Waits up to [`DEADLINE`] for the thread's result; a panic in the thread is
/// resumed here, and a thread that is still running fails the test.
fn finish<R>(running: Running<R>, what: &str) -> R {
    finish_by(running, DEADLINE, what)
}

fn finish_by<R>(running: Running<R>, deadline: Duration, what: &str) -> R {
    match running.result.recv_timeout(deadline) {
        Ok(value) => value,
        Err(RecvTimeoutError::Disconnected) => match running.thread.join() {
            Err(payload) => panic::resume_unwind(payload),
            Ok(()) => unreachable!("the thread sends its result before it ends"),
        },
        Err(RecvTimeoutError::Timeout) => panic!(
            "{what}: still not done after {deadline:?}; something waits forever \
             (a lost wake-up, a missing notify, or a lock held too long?)"
        ),
    }
}

/// Runs `f` on a helper thread and waits for it up to [`DEADLINE`].
fn within<R: Send + 'static>(what: &str, f: impl FnOnce() -> R + Send + 'static) -> R {
    finish(spawn_with_result(f), what)
}

/// Joins a job handle, failing the test if it does not resolve in time.
fn join_within<T: Send + 'static>(handle: JobHandle<T>) -> Result<T, JobError> {
    let id = handle.id();
    within(&format!("joining the handle of {id}"), move || {
        handle.join()
    })
}

/// A job that announces `value` on `started`, waits for `gate`, and returns `value`.
fn blocker(
    gate: &Arc<Gate>,
    started: &mpsc::Sender<u64>,
    value: u64,
) -> impl FnOnce() -> u64 + Send + 'static {
    let (gate, started) = (Arc::clone(gate), started.clone());
    move || {
        let _ = started.send(value);
        gate.wait();
        value
    }
}

fn expect_started(started: &mpsc::Receiver<u64>, value: u64) {
    assert_eq!(
        started.recv_timeout(DEADLINE).ok(),
        Some(value),
        "setup: the blocking job {value} never started on a worker"
    );
}

/// A door that jobs wait at until the test opens it. Waiting gives up after
/// twice [`DEADLINE`], so a forgotten gate cannot hang a test, and a call that
/// waits for a gated job (when it should not) fails its own [`DEADLINE`] first.
struct Gate {
    open: Mutex<bool>,
    opened: Condvar,
}

impl Gate {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            open: Mutex::new(false),
            opened: Condvar::new(),
        })
    }

    fn open(&self) {
        *self.open.lock().unwrap() = true;
        self.opened.notify_all();
    }

    fn wait(&self) {
        let deadline = Instant::now() + 2 * DEADLINE;
        let mut open = self.open.lock().unwrap();
        while !*open {
            let now = Instant::now();
            if now >= deadline {
                return;
            }
            open = self.opened.wait_timeout(open, deadline - now).unwrap().0;
        }
    }
}

/// A meeting point for `expected` threads. Later arrivals pass straight through.
struct Rendezvous {
    expected: usize,
    arrived: Mutex<usize>,
    changed: Condvar,
}

impl Rendezvous {
    fn new(expected: usize) -> Arc<Self> {
        Arc::new(Self {
            expected,
            arrived: Mutex::new(0),
            changed: Condvar::new(),
        })
    }

    /// Counts this arrival and waits until `expected` threads have arrived.
    /// Returns false if that took longer than [`DEADLINE`].
    fn arrive_and_wait(&self) -> bool {
        let deadline = Instant::now() + DEADLINE;
        let mut arrived = self.arrived.lock().unwrap();
        *arrived += 1;
        self.changed.notify_all();
        while *arrived < self.expected {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            arrived = self
                .changed
                .wait_timeout(arrived, deadline - now)
                .unwrap()
                .0;
        }
        true
    }
}

/// Tracks how many calls are running now and the most that ever ran at once.
#[derive(Default)]
struct InFlight {
    now: AtomicUsize,
    max: AtomicUsize,
}

impl InFlight {
    fn enter(&self) -> InFlightCall<'_> {
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.max.fetch_max(now, Ordering::SeqCst);
        InFlightCall(self)
    }

    fn max(&self) -> usize {
        self.max.load(Ordering::SeqCst)
    }
}

struct InFlightCall<'a>(&'a InFlight);

impl Drop for InFlightCall<'_> {
    fn drop(&mut self) {
        self.0.now.fetch_sub(1, Ordering::SeqCst);
    }
}

/// One run counter per job.
struct Counters(Vec<AtomicUsize>);

impl Counters {
    fn new(jobs: usize) -> Self {
        Self((0..jobs).map(|_| AtomicUsize::new(0)).collect())
    }

    fn hit(&self, job: usize) {
        self.0[job].fetch_add(1, Ordering::SeqCst);
    }

    fn assert_each_exactly_once(&self) {
        let wrong: Vec<(usize, usize)> = self
            .0
            .iter()
            .map(|c| c.load(Ordering::SeqCst))
            .enumerate()
            .filter(|&(_, runs)| runs != 1)
            .take(10)
            .collect();
        assert!(
            wrong.is_empty(),
            "every job must run exactly once; (job, runs) for the first offenders: {wrong:?}"
        );
    }
}

/// Counts worker threads that have ended. A probe installed in a thread's
/// thread-local storage is dropped when that thread ends; it first waits
/// until [`ExitProbes::release`], so a pool that returns from drop without
/// joining its workers is caught returning early.
struct ExitProbes {
    gate: Arc<Gate>,
    exited: AtomicUsize,
}

struct Probe(Arc<ExitProbes>);

impl Drop for Probe {
    fn drop(&mut self) {
        self.0.gate.wait();
        self.0.exited.fetch_add(1, Ordering::SeqCst);
    }
}

thread_local! {
    static PROBE: std::cell::RefCell<Option<Probe>> = const { std::cell::RefCell::new(None) };
}

impl ExitProbes {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            gate: Gate::new(),
            exited: AtomicUsize::new(0),
        })
    }

    fn install_on_this_thread(self: &Arc<Self>) {
        PROBE.with(|probe| *probe.borrow_mut() = Some(Probe(Arc::clone(self))));
    }

    fn release(&self) {
        self.gate.open();
    }

    fn exited(&self) -> usize {
        self.exited.load(Ordering::SeqCst)
    }
}
