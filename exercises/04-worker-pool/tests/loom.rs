//! Loom models for lesson 04 (worker pool), run by the loom stage:
//!
//! ```sh
//! cargo run -p checker -- verify 04-worker-pool --stage loom
//! ```
//!
//! - `t1_loom_` grades task 1: the queue's wake-ups.
//! - `t4_loom_` grades task 4: drop wakes every worker, runs every job, and
//!   joins. These models also check the hand-off of task 2 (submit, a worker
//!   runs the job, the handle receives the result), but a model can only end
//!   once every thread has ended, so none of them passes before `Drop` works.
//!
//! loom runs each closure once for every interleaving of its threads that
//! matters, so a wake-up that is lost in one interleaving out of thousands
//! still fails (loom reports a deadlock). Each model has at most 3 threads.
//! loom does not model time, so `shutdown_timeout` (task 5) is not here.
//!
//! A loom model ends only when all its threads have, and it checks that no
//! message is left in a channel: so every model joins every handle.

#![cfg(loom)]

use loom::sync::Arc;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;
use std::num::NonZeroUsize;

use worker_pool::{BoundedQueue, ThreadPool};

fn nz(n: usize) -> NonZeroUsize {
    NonZeroUsize::new(n).expect("positive")
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
            [Some(1), Some(2)]
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
