//! Loom models for lesson 04 (worker pool), run by the loom stage:
//!
//! ```sh
//! cargo run -p checker -- verify 04-worker-pool --stage loom
//! ```
//!
//! - `t1_loom_` grades task 1: the queue's wake-ups on the push, pop, close
//!   and take-all paths, and that a woken push checks again for room.
//! - `t4_loom_` grades task 4: drop wakes every worker, runs every job, and
//!   joins. These models also check the hand-off of task 2 (submit, a worker
//!   runs the job, the handle receives the result), but a model can only end
//!   once every thread has ended, so none of them passes before `Drop` works.
//! - `t5_loom_` grades task 5 where loom can: loom does not model time (its
//!   `wait_timeout` never times out), so only `shutdown_timeout(Duration::MAX)`,
//!   which has no deadline, is modelled.
//! - `t6_loom_` grades task 6: submitters racing each other, for job ids and
//!   for the last free slot of the queue.
//!
//! loom runs each closure once for every interleaving of its threads that
//! matters, so a wake-up that is lost in one interleaving out of thousands
//! still fails (loom reports a deadlock). Each model has at most 3 threads.
//!
//! A loom model ends only when all its threads have, and it checks that no
//! message is left in a channel: so every model joins every handle.

#![cfg(loom)]

use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::{Arc, Condvar, Mutex};
use loom::thread;
use std::num::NonZeroUsize;
use std::time::Duration;

use worker_pool::{BoundedQueue, Closed, ThreadPool};

fn nz(n: usize) -> NonZeroUsize {
    NonZeroUsize::new(n).expect("positive")
}

/// One thread per item, each pushing its item into `queue`.
fn spawn_pushers<const N: usize>(
    queue: &Arc<BoundedQueue<i32>>,
    items: [i32; N],
) -> Vec<thread::JoinHandle<bool>> {
    items
        .into_iter()
        .map(|item| {
            let queue = Arc::clone(queue);
            thread::spawn(move || queue.push(item).is_ok())
        })
        .collect()
}

/// Joins the pushers; each push must have succeeded.
fn join_pushers(pushers: Vec<thread::JoinHandle<bool>>) {
    for pusher in pushers {
        assert!(
            pusher.join().expect("pusher panicked"),
            "a push into an open queue failed"
        );
    }
}

#[test]
fn t1_loom_a_push_blocked_on_a_full_queue_is_woken_by_pop() {
    loom::model(|| {
        let queue = Arc::new(BoundedQueue::new(nz(1)));
        let consumer = {
            let queue = Arc::clone(&queue);
            thread::spawn(move || [queue.pop(), queue.pop()])
        };
        queue.push(1).expect("open");
        // With capacity 1, this push may have to wait for the consumer.
        queue.push(2).expect("open");
        assert_eq!(
            consumer.join().expect("consumer panicked"),
            [Some(1), Some(2)],
            "the consumer's two pops on an open queue must return both items in order. A pop \
             that returns None before the queue closes woke up and did not look again for an \
             item (wait in a while loop, not under an if)"
        );
    });
}

#[test]
fn t1_loom_close_wakes_every_waiting_pop() {
    loom::model(|| {
        let queue = Arc::new(BoundedQueue::new(nz(1)));
        let consumers: Vec<_> = (0..2)
            .map(|_| {
                let queue = Arc::clone(&queue);
                thread::spawn(move || {
                    let mut got = 0;
                    while queue.pop().is_some() {
                        got += 1;
                    }
                    got
                })
            })
            .collect();
        queue.push(7).expect("open");
        queue.close();
        let total: usize = consumers
            .into_iter()
            .map(|c| c.join().expect("consumer panicked"))
            .sum();
        assert_eq!(total, 1, "the one item must be popped exactly once");
    });
}

#[test]
fn t1_loom_dropping_an_unused_permit_wakes_a_blocked_push() {
    loom::model(|| {
        let queue = Arc::new(BoundedQueue::new(nz(1)));
        let permit = queue.try_reserve().expect("the queue is empty");
        let pusher = {
            let queue = Arc::clone(&queue);
            // The permit holds the only slot, so this push has to wait for it.
            thread::spawn(move || queue.push(1).is_ok())
        };
        drop(permit);
        assert_eq!(queue.pop(), Some(1));
        assert!(pusher.join().expect("pusher panicked"), "the queue is open");
    });
}

#[test]
fn t1_loom_a_woken_push_checks_again_for_room() {
    loom::model(|| {
        let queue = Arc::new(BoundedQueue::new(nz(1)));
        queue.push(0).expect("open");
        let pushers = spawn_pushers(&queue, [1, 2]);
        let mut popped = Vec::new();
        for _ in 0..3 {
            popped.push(queue.pop().expect("the queue is open"));
            let len = queue.len();
            assert!(
                len <= 1,
                "a queue of capacity 1 held {len} items: expected at most 1. A push woken \
                 from its wait must check again that there is room (a while loop, not an if): \
                 another push may have taken the slot first"
            );
        }
        join_pushers(pushers);
        popped.sort_unstable();
        assert_eq!(
            popped,
            [0, 1, 2],
            "every pushed item comes out exactly once"
        );
    });
}

#[test]
fn t1_loom_close_wakes_a_blocked_push() {
    loom::model(|| {
        let queue = Arc::new(BoundedQueue::new(nz(1)));
        queue.push(0).expect("open");
        let pusher = {
            let queue = Arc::clone(&queue);
            // The queue is full, so this push waits until close wakes it.
            thread::spawn(move || queue.push(1).map_err(|Closed(item)| item))
        };
        queue.close();
        assert_eq!(
            pusher.join().expect("pusher panicked"),
            Err(1),
            "a push waiting for room must wake up when the queue closes and fail with \
             Closed(item)"
        );
        assert_eq!(queue.take_all(), [0], "close keeps the queued item");
    });
}

#[test]
fn t1_loom_take_all_wakes_every_blocked_push() {
    loom::model(|| {
        let queue = Arc::new(BoundedQueue::new(nz(2)));
        queue.push(0).expect("open");
        queue.push(0).expect("open");
        // The queue is full, so both pushes may have to wait for take_all.
        let pushers = spawn_pushers(&queue, [1, 2]);
        assert_eq!(
            queue.take_all(),
            [0, 0],
            "take_all returns the queued items"
        );
        join_pushers(pushers);
        let mut rest = queue.take_all();
        rest.sort_unstable();
        assert_eq!(
            rest,
            [1, 2],
            "take_all freed both slots, so both waiting pushes get in"
        );
    });
}

#[test]
fn t4_loom_join_then_drop_hands_the_result_over() {
    loom::model(|| {
        let pool = ThreadPool::new(1, 1).expect("1 worker");
        let handle = pool.submit(|| 7);
        assert_eq!(handle.join(), Ok(7));
        drop(pool);
    });
}

#[test]
fn t4_loom_drop_runs_every_queued_job_once_and_joins_the_worker() {
    loom::model(|| {
        let runs = Arc::new(AtomicUsize::new(0));
        let pool = ThreadPool::new(1, 2).expect("1 worker");
        let handles: Vec<_> = (0..2)
            .map(|i| {
                let runs = Arc::clone(&runs);
                pool.submit(move || {
                    runs.fetch_add(1, Ordering::SeqCst);
                    i
                })
            })
            .collect();
        drop(pool);
        assert_eq!(
            runs.load(Ordering::SeqCst),
            2,
            "when drop returns, every submitted job has run exactly once"
        );
        let results: Vec<_> = handles.into_iter().map(|h| h.join()).collect();
        assert_eq!(results, vec![Ok(0), Ok(1)]);
    });
}

#[test]
fn t4_loom_drop_wakes_every_idle_worker() {
    loom::model(|| {
        let runs = Arc::new(AtomicUsize::new(0));
        let pool = ThreadPool::new(2, 1).expect("2 workers");
        let handle = {
            let runs = Arc::clone(&runs);
            pool.submit(move || runs.fetch_add(1, Ordering::SeqCst))
        };
        drop(pool);
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert_eq!(handle.join(), Ok(0));
    });
}

#[test]
fn t5_loom_without_a_deadline_shutdown_waits_for_every_worker() {
    loom::model(|| {
        let pool = ThreadPool::new(2, 1).expect("2 workers");
        let report = pool.shutdown_timeout(Duration::MAX);
        assert_eq!(
            (report.joined_workers, report.detached_workers),
            (2, 0),
            "shutdown_timeout(Duration::MAX) has no deadline, so it waits until both idle \
             workers have exited and joins them; it reported {report:?}. One wake-up on \
             worker_exited may come from the first worker to exit: wait in a loop until every \
             entry of exited is true"
        );
        assert!(report.abandoned.is_empty(), "no job was submitted");
    });
}

#[test]
fn t6_loom_two_threads_submitting_at_once_get_distinct_ids() {
    loom::model(|| {
        let pool = Arc::new(ThreadPool::new(1, 2).expect("1 worker"));
        let other = {
            let pool = Arc::clone(&pool);
            thread::spawn(move || pool.submit(|| 1))
        };
        let mine = pool.submit(|| 2);
        let theirs = other.join().expect("the submitting thread panicked");
        let mut ids = [mine.id().get(), theirs.id().get()];
        ids.sort_unstable();
        assert_eq!(
            ids,
            [0, 1],
            "two jobs submitted at once got the ids {ids:?}: expected 0 and 1. Taking an id \
             must be one atomic read-modify-write (fetch_add), not a load and a store"
        );
        drop(pool);
        assert_eq!((mine.join(), theirs.join()), (Ok(2), Ok(1)));
    });
}

#[test]
fn t6_loom_try_submit_never_waits_even_when_two_race_for_the_last_slot() {
    loom::model(|| {
        let pool = Arc::new(ThreadPool::new(1, 1).expect("1 worker"));
        let gate = Arc::new((Mutex::new(false), Condvar::new()));
        // Holds the only worker until both try_submits have returned.
        let blocker = {
            let gate = Arc::clone(&gate);
            pool.submit(move || {
                let (open, opened) = &*gate;
                let mut open = open.lock().expect("the gate's lock");
                while !*open {
                    open = opened.wait(open).expect("the gate's lock");
                }
            })
        };
        let other = {
            let pool = Arc::clone(&pool);
            thread::spawn(move || pool.try_submit(|| 1).ok())
        };
        // A deadlock reported here means a try_submit blocked: it found room,
        // and the other took that room before it could push.
        let mine = pool.try_submit(|| 2).ok();
        let theirs = other.join().expect("the submitting thread panicked");
        *gate.0.lock().expect("the gate's lock") = true;
        gate.1.notify_all();
        drop(pool);
        assert_eq!(blocker.join(), Ok(()));
        let accepted: Vec<_> = [mine, theirs].into_iter().flatten().collect();
        assert!(
            accepted.len() <= 1,
            "a queue of capacity 1 accepted {} jobs from try_submit while its only worker \
             was busy: expected at most 1",
            accepted.len()
        );
        for handle in accepted {
            assert!(
                handle.join().is_ok(),
                "an accepted job runs before drop returns"
            );
        }
    });
}
