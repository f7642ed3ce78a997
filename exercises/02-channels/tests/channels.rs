//! Graded tests for lesson 02 (channels).
//!
//! - `t1_` grades task 1: `offer_all`, `spawn_consumer` and `Consumer`.
//! - `t2_` grades task 2: `generate`, `square`, `sink` and `run_pipeline`.
//! - `t3_` grades task 3: `fan_out_fan_in`.
//! - `t4_` grades task 4: `select_with_timeout` and `merge_until_idle`.
//! - `t5_` grades task 5: `stop_pair`, `StopSource`, `StopToken`,
//!   `start_cancellable`, `Cancellable::join` and `collect_until_stopped`.
//!
//! No test measures time. Where a test waits for other threads, it waits with
//! a deadline and then fails its assertion, so a wrong implementation makes a
//! test fail instead of hang.

use std::collections::HashSet;
use std::panic;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use channels::{
    ChannelsError, Consumer, Either, FanConfig, MergeEnd, Offer, Partial, Refusal, Selected,
    StageCounts, StopSource, collect_until_stopped, fan_out_fan_in, generate, merge_until_idle,
    offer_all, run_pipeline, select_with_timeout, sink, spawn_consumer, square, start_cancellable,
    stop_pair,
};
use crossbeam_channel as cb;

/// How long any test waits for other threads before it gives up. Under Miri
/// the clock is virtual and runs fast, so it gets more room.
const DEADLINE: Duration = Duration::from_secs(if cfg!(miri) { 60 } else { 5 });

/// A timeout that a test expects to expire.
const SHORT: Duration = Duration::from_millis(20);

// ---------------------------------------------------------------- task 1

#[test]
fn t1_a_buffered_channel_accepts_exactly_its_capacity_without_a_receiver() {
    for capacity in 1..=4 {
        let (tx, rx) = sync_channel::<u32>(capacity);
        let offer = offer_all(&tx, 0..10);
        let capacity_u32 = u32::try_from(capacity).expect("small capacity");
        assert_eq!(
            offer,
            Offer {
                accepted: capacity,
                refused: Some(Refusal::Full),
                returned: (capacity_u32..10).collect(),
            },
            "sync_channel({capacity}) with nobody receiving takes {capacity} values; \
             the refused value and every later one must come back, in order"
        );
        let buffered: Vec<u32> = rx.try_iter().collect();
        assert_eq!(
            buffered,
            (0..capacity_u32).collect::<Vec<_>>(),
            "the channel should hold the first {capacity} values"
        );
    }
}

#[test]
fn t1_a_rendezvous_channel_accepts_nothing_without_a_waiting_receiver() {
    let (tx, _rx) = sync_channel::<String>(0);
    let words = ["hand", "off"].map(String::from);
    let offer = offer_all(&tx, words.clone());
    assert_eq!(
        offer,
        Offer {
            accepted: 0,
            refused: Some(Refusal::Full),
            returned: words.to_vec(),
        },
        "sync_channel(0) has no buffer: with no receiver blocked in recv, \
         try_send reports Full and hands the value back"
    );
}

#[test]
fn t1_offer_all_stops_at_a_closed_channel_and_gives_every_value_back() {
    let (tx, rx) = sync_channel::<String>(3);
    drop(rx);
    let words = ["a", "b", "c"].map(String::from);
    let offer = offer_all(&tx, words.clone());
    assert_eq!(
        offer,
        Offer {
            accepted: 0,
            refused: Some(Refusal::Disconnected),
            returned: words.to_vec(),
        },
        "with the receiver gone, even a channel with free space refuses: \
         report Disconnected, not Full"
    );
}

#[test]
fn t1_offer_all_takes_everything_that_fits() {
    let (tx, rx) = sync_channel::<u32>(5);
    let offer = offer_all(&tx, [7, 8, 9]);
    assert_eq!(
        offer,
        Offer {
            accepted: 3,
            refused: None,
            returned: vec![],
        },
        "three values fit in a buffer of five: nothing is refused"
    );
    assert_eq!(
        rx.try_iter().collect::<Vec<_>>(),
        vec![7, 8, 9],
        "the three accepted values must wait in the channel, in the order they were offered"
    );
    let nothing = offer_all(&tx, Vec::<u32>::new());
    assert_eq!(
        nothing,
        Offer {
            accepted: 0,
            refused: None,
            returned: vec![],
        },
        "offering no values must accept nothing and refuse nothing"
    );
}

#[test]
fn t1_a_rendezvous_hand_off_completes_only_when_the_consumer_takes_it() {
    let (consumer, gate) = gated_consumer(0);
    assert!(
        send_within(consumer.sender(), 10),
        "the consumer never took the first value: does its thread receive from the channel?"
    );
    assert_eq!(
        gate.entered.recv_timeout(DEADLINE),
        Ok(10),
        "consume(10) was never called"
    );

    // The consumer is busy inside consume(10), not waiting in recv.
    let offer = offer_all(consumer.sender(), [11, 12]);
    assert_eq!(
        offer,
        Offer {
            accepted: 0,
            refused: Some(Refusal::Full),
            returned: vec![11, 12],
        },
        "spawn_consumer(0, ..) must use a rendezvous channel, sync_channel(0): \
         while the consumer is busy, no value can be handed over"
    );

    gate.open.send(()).expect("the consumer is alive");
    assert!(
        send_within(consumer.sender(), 11),
        "once the consumer is back in recv, the hand-off must succeed"
    );
    assert_eq!(
        gate.entered.recv_timeout(DEADLINE),
        Ok(11),
        "consume(11) was never called: the value handed over must reach consume"
    );
    gate.open.send(()).expect("the consumer is alive");

    let consumed = within(
        "Consumer::finish",
        "drop the sender before you join the consumer",
        move || consumer.finish(),
    );
    assert_eq!(
        consumed.expect("the consumer did not panic"),
        2,
        "finish must return how many values were consumed: 10 and 11"
    );
}

#[test]
fn t1_a_busy_consumer_leaves_room_for_exactly_capacity_values() {
    let (consumer, gate) = gated_consumer(2);
    assert!(
        send_within(consumer.sender(), 10),
        "the consumer never took 10"
    );
    assert_eq!(
        gate.entered.recv_timeout(DEADLINE),
        Ok(10),
        "consume(10) was never called: the consumer must pass each value it receives to consume"
    );

    let offer = offer_all(consumer.sender(), [11, 12, 13, 14]);
    assert_eq!(
        offer,
        Offer {
            accepted: 2,
            refused: Some(Refusal::Full),
            returned: vec![13, 14],
        },
        "spawn_consumer(2, ..) must use sync_channel(2): two values wait in the \
         buffer while the consumer is busy, the third is refused"
    );

    for expected in [11, 12] {
        gate.open.send(()).expect("the consumer is alive");
        assert_eq!(
            gate.entered.recv_timeout(DEADLINE),
            Ok(expected),
            "values must reach consume in the order they were sent"
        );
    }
    gate.open.send(()).expect("the consumer is alive");
    let consumed = within(
        "Consumer::finish",
        "drop the sender before you join the consumer",
        move || consumer.finish(),
    );
    assert_eq!(
        consumed.expect("the consumer did not panic"),
        3,
        "finish must return how many values were consumed: 10, 11 and 12"
    );
}

#[test]
fn t1_finish_closes_the_channel_and_joins_the_consumer() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let consumer = spawn_consumer(1, move |value: u32| {
        let name = thread::current().name().map(str::to_owned);
        log.lock().unwrap().push((value, name));
    })
    .expect("spawning one thread succeeds");
    for value in 0..5 {
        assert!(
            send_within(consumer.sender(), value),
            "the consumer stopped taking values at {value}"
        );
    }
    let consumed = within(
        "Consumer::finish",
        "the consumer's loop ends only when every sender is gone: \
         drop the sender before you join",
        move || consumer.finish(),
    );
    assert_eq!(
        consumed.expect("the consumer did not panic"),
        5,
        "finish returns how many values were consumed"
    );
    let seen = seen.lock().unwrap().clone();
    let expected: Vec<_> = (0..5).map(|v| (v, Some("consumer".to_owned()))).collect();
    assert_eq!(
        seen, expected,
        "every value, in order, on a thread named `consumer`"
    );
}

#[test]
fn t1_finish_reports_a_panicking_consumer() {
    let consumer = spawn_consumer(4, |value: u32| {
        if value == 2 {
            panic!("the consumer chokes on {value}");
        }
    })
    .expect("spawning one thread succeeds");
    let offer = offer_all(consumer.sender(), [0, 1, 2]);
    assert_eq!(offer.accepted, 3, "a buffer of 4 takes 3 values");
    let outcome = within(
        "Consumer::finish",
        "drop the sender before you join the consumer",
        move || consumer.finish(),
    );
    assert!(
        matches!(outcome, Err(ChannelsError::Panicked { stage: "consumer" })),
        "a panicking consumer must become ChannelsError::Panicked {{ stage: \"consumer\" }}, \
         got {outcome:?}"
    );
}

// ---------------------------------------------------------------- task 2

#[test]
fn t2_squares_come_out_in_input_order() {
    let input: Vec<u32> = vec![9, 3, 7, 1, 0, 65_535, 4, 4, 2, 100_000];
    let expected: Vec<u64> = input.iter().map(|&n| u64::from(n) * u64::from(n)).collect();
    for buffer in [0, 1, 8] {
        let values = input.clone();
        let out = within(
            "run_pipeline",
            "every stage must drop its sender when its input ends",
            move || run_pipeline(values, buffer),
        );
        assert_eq!(
            out.expect("no stage panicked"),
            expected,
            "with buffer {buffer}: squares must keep the input order"
        );
    }
    let big = within("run_pipeline", "", || run_pipeline([u32::MAX], 0));
    assert_eq!(
        big.expect("no stage panicked"),
        vec![18_446_744_065_119_617_025],
        "square in u64: u32::MAX squared does not fit in a u32"
    );
}

#[test]
fn t2_every_stage_ends_once_its_input_is_closed() {
    let generator = generate(1..=5, 1).expect("spawning succeeds");
    let squarer = square(generator.output, 1).expect("spawning succeeds");
    let mut got = Vec::new();
    loop {
        match squarer.output.recv_timeout(DEADLINE) {
            Ok(value) => got.push(value),
            Err(RecvTimeoutError::Disconnected) => break,
            Err(RecvTimeoutError::Timeout) => panic!(
                "the square stage's output never closed after {got:?}: a sender is \
                 still alive; each stage must drop its sender when its input ends"
            ),
        }
    }
    assert_eq!(
        got,
        vec![1, 4, 9, 16, 25],
        "the square stage must deliver the squares of 1..=5, in order"
    );
    assert_eq!(
        join_within("square", squarer.handle),
        5,
        "the square stage delivered 5 values"
    );
    assert_eq!(
        join_within("generator", generator.handle),
        5,
        "the generator delivered 5 values"
    );
}

#[test]
fn t2_an_empty_input_closes_every_channel() {
    let out = within(
        "run_pipeline with no input",
        "an empty input must still close every channel",
        || run_pipeline(Vec::new(), 0),
    );
    assert_eq!(
        out.expect("no stage panicked"),
        Vec::<u64>::new(),
        "run_pipeline over an empty input must return no squares"
    );

    let (tx, rx) = sync_channel::<u32>(0);
    drop(tx);
    let squarer = square(rx, 0).expect("spawning succeeds");
    assert_eq!(
        squarer.output.recv_timeout(DEADLINE),
        Err(RecvTimeoutError::Disconnected),
        "a square stage over a closed, empty input must close its output"
    );
    assert_eq!(
        join_within("square", squarer.handle),
        0,
        "a square stage over an empty input delivered nothing, so its handle must return 0"
    );

    let (tx, rx) = sync_channel::<u64>(0);
    drop(tx);
    let collected = join_within("sink", sink(rx).expect("spawning succeeds"));
    assert_eq!(
        collected,
        Vec::<u64>::new(),
        "a sink over a closed, empty channel must collect nothing"
    );
}

#[test]
fn t2_sink_collects_everything_in_order() {
    let (tx, rx) = sync_channel::<u64>(2);
    let handle = sink(rx).expect("spawning succeeds");
    for value in [5, 3, 8, 1] {
        tx.send(value).expect("the sink is receiving");
    }
    drop(tx);
    assert_eq!(
        join_within("sink", handle),
        vec![5, 3, 8, 1],
        "the sink must collect every value sent, in the order sent"
    );
}

#[test]
fn t2_a_large_input_flows_through_small_buffers() {
    let n: u32 = if cfg!(miri) { 60 } else { 10_000 };
    for buffer in [0, 1] {
        let out = within(
            "run_pipeline",
            "every stage must keep going until its input closes",
            move || run_pipeline(0..n, buffer),
        )
        .expect("no stage panicked");
        assert_eq!(
            out.len(),
            n as usize,
            "buffer {buffer}: values were lost or invented"
        );
        let in_order = out
            .iter()
            .enumerate()
            .all(|(i, &sq)| sq == (i as u64) * (i as u64));
        assert!(in_order, "buffer {buffer}: the squares are out of order");
    }
}

#[test]
fn t2_stages_stop_when_downstream_hangs_up() {
    // An endless input: only a hang-up can stop this pipeline.
    let generator = generate(0..=u32::MAX, 0).expect("spawning succeeds");
    let squarer = square(generator.output, 0).expect("spawning succeeds");
    let first: Vec<u64> = (0..3)
        .map(|_| {
            squarer
                .output
                .recv_timeout(DEADLINE)
                .expect("the square stage produced a value")
        })
        .collect();
    assert_eq!(
        first,
        vec![0, 1, 4],
        "the square stage must deliver the squares of 0, 1, 2 first"
    );
    drop(squarer.output);

    assert_eq!(
        join_within("square", squarer.handle),
        3,
        "after the hang-up the square stage must stop: a failed send means \
         nobody is listening any more"
    );
    assert_eq!(
        join_within("generator", generator.handle),
        4,
        "the generator must stop once the square stage is gone; with rendezvous \
         channels it delivered exactly one value more than the square stage did"
    );
}

#[test]
fn t2_a_panicking_stage_is_reported_by_name() {
    // The input fails half-way: the generator's thread panics, its sender is
    // dropped, and the later stages end as if the input had simply run out.
    let values = (0..10u32).inspect(|&n| assert!(n != 5, "the input is corrupt at {n}"));
    let outcome = within(
        "run_pipeline with a failing input",
        "a stage that panics drops its sender, so the others still end",
        move || run_pipeline(values, 1),
    );
    assert!(
        matches!(outcome, Err(ChannelsError::Panicked { stage: "generator" })),
        "the generator's thread panicked, so run_pipeline must return \
         ChannelsError::Panicked {{ stage: \"generator\" }}; got {outcome:?}. A stage \
         that is never joined is never reported: join all three"
    );
}

// ---------------------------------------------------------------- task 3

#[test]
fn t3_every_job_yields_exactly_one_result_tagged_with_its_id() {
    let jobs: u64 = if cfg!(miri) { 16 } else { 500 };
    let config = FanConfig {
        workers: 4,
        jobs_buffer: 2,
        results_buffer: 2,
    };
    let inputs: Vec<u64> = (0..jobs).map(|j| j * 7 + 1).collect();
    let results = within(
        "fan_out_fan_in",
        "close the jobs channel after the last job and drop the collector's \
         results sender",
        move || fan_out_fan_in(inputs, config, |x| x * 3),
    )
    .expect("no worker panicked");

    assert_eq!(
        results.len(),
        jobs as usize,
        "one result per job, no more, no fewer"
    );
    let mut by_job: Vec<_> = results.iter().map(|r| (r.job, r.value)).collect();
    by_job.sort_unstable();
    let expected: Vec<(usize, u64)> = (0..jobs).map(|j| (j as usize, (j * 7 + 1) * 3)).collect();
    assert_eq!(
        by_job, expected,
        "each result must carry its job's index and work(input)"
    );
    assert!(
        results.iter().all(|r| r.worker < 4),
        "worker indices must be in 0..workers"
    );
}

#[test]
fn t3_results_outnumbering_the_results_buffer_do_not_deadlock() {
    // Far more than the buffers and workers can hold, yet few enough that the
    // rendezvous runs finish well inside the deadline on a loaded machine.
    let jobs: u32 = if cfg!(miri) { 24 } else { 1_000 };
    for (workers, jobs_buffer, results_buffer) in [(2, 1, 1), (3, 0, 0), (1, 1, 1)] {
        let config = FanConfig {
            workers,
            jobs_buffer,
            results_buffer,
        };
        let results = within(
            "fan_out_fan_in",
            "if one thread sends every job before it drains any result, the full \
             results channel blocks the workers and the workers block the sender: \
             feed the jobs from a thread of their own",
            move || fan_out_fan_in((0..jobs).collect(), config, u64::from),
        )
        .expect("no worker panicked");
        let mut ids: Vec<usize> = results.iter().map(|r| r.job).collect();
        ids.sort_unstable();
        assert!(
            ids.iter().copied().eq(0..jobs as usize),
            "{config:?}: every job must yield exactly one result"
        );
        assert!(
            results.iter().all(|r| r.value == r.job as u64),
            "{config:?}: a result carries the wrong job index"
        );
    }
}

#[test]
fn t3_the_workers_take_jobs_at_the_same_time() {
    let workers = 3;
    let meeting = Meeting::new(workers);
    let config = FanConfig {
        workers,
        jobs_buffer: 0,
        results_buffer: 0,
    };
    let results = within("fan_out_fan_in", "", move || {
        fan_out_fan_in((0..12).collect(), config, move |x: u32| {
            (x * 2, meeting.arrive_and_wait())
        })
    })
    .expect("no worker panicked");
    assert!(
        results.iter().all(|r| r.value.1),
        "the {workers} workers never ran jobs at the same time: start every worker \
         before you collect results, and let them all receive from one jobs channel"
    );
    let used: HashSet<usize> = results.iter().map(|r| r.worker).collect();
    assert_eq!(
        used,
        (0..workers).collect(),
        "every worker index 0..{workers} must appear"
    );
}

#[test]
fn t3_zero_workers_is_a_typed_error_and_zero_jobs_is_empty() {
    let config = FanConfig {
        workers: 0,
        jobs_buffer: 1,
        results_buffer: 1,
    };
    let outcome = within("fan_out_fan_in", "", move || {
        fan_out_fan_in(vec![1u32, 2], config, |x| x)
    });
    assert!(
        matches!(outcome, Err(ChannelsError::NoWorkers)),
        "zero workers must be ChannelsError::NoWorkers, got {outcome:?}"
    );

    let config = FanConfig {
        workers: 3,
        jobs_buffer: 0,
        results_buffer: 0,
    };
    let results = within(
        "fan_out_fan_in with no jobs",
        "with no jobs, the jobs channel must still close",
        move || fan_out_fan_in(Vec::<u32>::new(), config, |x| x),
    );
    assert_eq!(
        results.expect("no worker panicked"),
        vec![],
        "fan_out_fan_in with no jobs must return no results"
    );
}

#[test]
fn t3_a_panicking_worker_is_reported_and_nothing_hangs() {
    for workers in [1, 3] {
        let config = FanConfig {
            workers,
            jobs_buffer: 1,
            results_buffer: 1,
        };
        let outcome = within(
            "fan_out_fan_in with a panicking worker",
            "a panicking worker drops its channel ends; the others (or the \
             closed channels) must let everything else finish",
            move || {
                fan_out_fan_in((0..20u32).collect(), config, |x| {
                    if x == 7 {
                        panic!("job {x} is poisoned");
                    }
                    x
                })
            },
        );
        assert!(
            matches!(outcome, Err(ChannelsError::Panicked { stage: "worker" })),
            "{workers} workers: a panicking worker must become \
             ChannelsError::Panicked {{ stage: \"worker\" }}, got {outcome:?}"
        );
    }
}

// ---------------------------------------------------------------- task 4

#[test]
fn t4_the_channel_with_a_value_wins() {
    let (left_tx, left) = cb::unbounded::<u32>();
    let (right_tx, right) = cb::unbounded::<&str>();
    left_tx.send(1).expect("open");
    assert_eq!(
        select_with_timeout(&left, &right, DEADLINE),
        Selected::Left(1),
        "only the left channel holds a value (1): select_with_timeout must return Left(1)"
    );
    right_tx.send("r").expect("open");
    assert_eq!(
        select_with_timeout(&left, &right, DEADLINE),
        Selected::Right("r"),
        "only the right channel holds a value (\"r\"): select_with_timeout must return Right(\"r\")"
    );
}

#[test]
fn t4_a_ready_value_beats_even_a_zero_timeout() {
    let rounds = if cfg!(miri) { 20 } else { 64 };
    let (left_tx, left) = cb::unbounded::<u32>();
    let (_right_tx, right) = cb::unbounded::<&str>();
    for round in 0..rounds {
        left_tx.send(round).expect("open");
        assert_eq!(
            select_with_timeout(&left, &right, Duration::ZERO),
            Selected::Left(round),
            "a value was already waiting, yet the timeout won: an arm on \
             `after(timeout)` is just one more ready arm and select! picks among \
             ready arms at random; use `default(timeout)`, which fires only when \
             nothing else is ready"
        );
    }
}

#[test]
fn t4_neither_channel_sends_so_the_timeout_fires() {
    let (left_tx, left) = cb::bounded::<u32>(1);
    let (right_tx, right) = cb::bounded::<&str>(1);
    assert_eq!(
        select_with_timeout(&left, &right, SHORT),
        Selected::TimedOut,
        "both senders are alive and silent: only the timeout can fire"
    );
    // Timing out must not consume or close anything.
    right_tx.send("after").expect("still open");
    assert_eq!(
        select_with_timeout(&left, &right, DEADLINE),
        Selected::Right("after"),
        "the earlier timeout must not consume or close anything: the value sent afterwards must arrive as Right(\"after\")"
    );
    drop(left_tx);
}

#[test]
fn t4_a_value_sent_later_by_another_thread_wins_over_a_long_timeout() {
    let (left_tx, left) = cb::bounded::<u32>(0);
    let (right_tx, right) = cb::bounded::<&str>(0);
    let sender = thread::spawn(move || {
        thread::sleep(Duration::from_millis(10));
        let sent = right_tx.send_timeout("late", DEADLINE);
        drop(left_tx); // only now, after the selection has taken the value
        sent.is_ok()
    });
    // The timeout is far longer than the test's deadline: only a selection
    // that waits on both channels at once returns in time.
    let seen = within(
        "select_with_timeout",
        "a value arrived on the right channel while you were still waiting on \
         the left one: wait on both at once with select!",
        move || select_with_timeout(&left, &right, DEADLINE * 10),
    );
    assert!(
        sender.join().expect("the sender thread does not panic"),
        "the sender's value `late` was never taken within the deadline: select_with_timeout must receive it"
    );
    assert_eq!(
        seen,
        Selected::Right("late"),
        "a value sent later on the right channel must win over the long timeout: expected Right(\"late\")"
    );
}

#[test]
fn t4_a_disconnected_channel_is_reported_as_closed() {
    let (left_tx, left) = cb::unbounded::<u32>();
    let (right_tx, right) = cb::unbounded::<&str>();
    drop(left_tx);
    let seen = within("select_with_timeout", "", move || {
        select_with_timeout(&left, &right, DEADLINE)
    });
    assert_eq!(
        seen,
        Selected::LeftClosed,
        "a recv arm on a disconnected channel fires at once with Err(RecvError): \
         report it as LeftClosed"
    );
    drop(right_tx);

    // A closed channel still yields its buffered values first.
    let (left_tx, left) = cb::unbounded::<u32>();
    let (right_tx, right) = cb::unbounded::<&str>();
    right_tx.send("last words").expect("open");
    drop(right_tx);
    assert_eq!(
        select_with_timeout(&left, &right, DEADLINE),
        Selected::Right("last words"),
        "a closed channel still yields its buffered values first: expected Right(\"last words\")"
    );
    assert_eq!(
        select_with_timeout(&left, &right, DEADLINE),
        Selected::RightClosed,
        "once its buffer is empty, the closed right channel must be reported as RightClosed"
    );
    drop(left_tx);
}

#[test]
fn t4_merge_collects_both_sides_until_both_close() {
    let (left_tx, left) = cb::unbounded::<u32>();
    let (right_tx, right) = cb::unbounded::<&str>();
    for n in [1, 2, 3] {
        left_tx.send(n).expect("open");
    }
    for s in ["a", "b"] {
        right_tx.send(s).expect("open");
    }
    drop((left_tx, right_tx));
    let merged = within(
        "merge_until_idle",
        "stop once both channels are closed",
        move || merge_until_idle(left, right, DEADLINE),
    );
    let (lefts, rights) = split(&merged.values);
    assert_eq!(lefts, vec![1, 2, 3], "every left value, in order");
    assert_eq!(rights, vec!["a", "b"], "every right value, in order");
    assert_eq!(
        merged.end,
        MergeEnd::BothClosed,
        "both channels were closed and drained, so the merge must end with BothClosed"
    );
}

#[test]
fn t4_merge_keeps_receiving_after_one_side_closes() {
    let (left_tx, left) = cb::unbounded::<u32>();
    let (right_tx, right) = cb::bounded::<&str>(0);
    drop(left_tx);
    let sender = thread::spawn(move || {
        for word in ["one", "two", "three", "four", "five"] {
            thread::sleep(Duration::from_millis(1));
            if right_tx.send_timeout(word, DEADLINE).is_err() {
                return false;
            }
        }
        true
    });
    let merged = within(
        "merge_until_idle",
        "a closed channel drops out, the other one is still received from",
        move || merge_until_idle(left, right, DEADLINE),
    );
    assert!(
        sender.join().expect("the sender thread does not panic"),
        "the merge stopped receiving from the right channel while it was still open"
    );
    let (lefts, rights) = split(&merged.values);
    assert!(
        lefts.is_empty(),
        "the left channel was closed before anything was sent, yet the merge got left values {lefts:?}"
    );
    assert_eq!(
        rights,
        vec!["one", "two", "three", "four", "five"],
        "the left channel closing must not end the merge"
    );
    assert_eq!(
        merged.end,
        MergeEnd::BothClosed,
        "both channels were closed in the end, so the merge must end with BothClosed"
    );
}

#[test]
fn t4_merge_stops_when_the_open_side_goes_quiet() {
    let (left_tx, left) = cb::unbounded::<u32>();
    let (right_tx, right) = cb::unbounded::<&str>();
    left_tx.send(10).expect("open");
    left_tx.send(20).expect("open");
    drop(right_tx); // closed at once; the left sender stays alive and silent
    let merged = within(
        "merge_until_idle",
        "a closed channel is always ready, so selecting on it again and again \
         never lets the timeout fire: replace it with crossbeam_channel::never()",
        move || merge_until_idle(left, right, SHORT),
    );
    assert_eq!(
        merged.values,
        vec![Either::Left(10), Either::Left(20)],
        "both buffered values arrive before the merge goes idle"
    );
    assert_eq!(
        merged.end,
        MergeEnd::Idle,
        "the left channel is still open, so the merge ends by going idle"
    );
    drop(left_tx);

    let (_left_tx, left) = cb::unbounded::<u32>();
    let (_right_tx, right) = cb::unbounded::<&str>();
    let quiet = within("merge_until_idle", "", move || {
        merge_until_idle(left, right, SHORT)
    });
    assert_eq!(
        quiet.values,
        vec![],
        "both channels stayed silent, so the merge must collect nothing"
    );
    assert_eq!(
        quiet.end,
        MergeEnd::Idle,
        "both senders are alive and silent: the merge must end by going idle"
    );
}

#[test]
fn t4_the_idle_timer_restarts_after_every_value() {
    // Six values, each well within `idle` of the one before, together longer
    // than `idle`: only a timer that restarts after every value gets them all.
    let idle = DEADLINE / 5;
    let gap = idle / 4;
    let (left_tx, left) = cb::bounded::<u32>(0);
    let (right_tx, right) = cb::bounded::<&str>(0);
    let sender = thread::spawn(move || {
        for n in 0..6 {
            if n > 0 {
                thread::sleep(gap);
            }
            // A rendezvous: the send returns once the merge has the value.
            if left_tx.send_timeout(n, DEADLINE).is_err() {
                return n;
            }
        }
        6
    });
    let merged = within(
        "merge_until_idle",
        "the idle timeout must fire when nothing arrives",
        move || merge_until_idle(left, right, idle),
    );
    let sent = sender.join().expect("the sender thread does not panic");
    drop(right_tx);
    assert_eq!(
        merged.values,
        (0..6).map(Either::Left).collect::<Vec<_>>(),
        "values came {gap:?} apart with an idle timeout of {idle:?}, yet the merge \
         took only {} of them ({sent} were handed over): the idle clock must restart \
         after every value, not run from the start of the merge",
        merged.values.len()
    );
    assert_eq!(
        merged.end,
        MergeEnd::Idle,
        "the sender stayed alive after its last value, so the merge must end by going idle"
    );
}

// ---------------------------------------------------------------- task 5

#[test]
fn t5_a_stop_token_sees_the_stop_and_so_do_its_clones() {
    let (source, token) = stop_pair();
    let clone = token.clone();
    assert!(
        !token.is_stopped() && !clone.is_stopped(),
        "a fresh pair is not stopped"
    );
    assert_eq!(
        token.done().try_recv(),
        Err(cb::TryRecvError::Empty),
        "done() stays empty and open until the stop"
    );
    source.stop();
    assert!(token.is_stopped(), "the token must see the stop");
    assert!(clone.is_stopped(), "every clone must see the stop");
    assert_eq!(
        clone.done().recv_timeout(DEADLINE),
        Err(cb::RecvTimeoutError::Disconnected),
        "after the stop, done() is disconnected, so a recv arm on it fires"
    );
}

#[test]
fn t5_dropping_the_stop_source_also_stops() {
    let (source, token) = stop_pair();
    drop(source);
    assert!(
        token.is_stopped(),
        "dropping the StopSource must stop, like Go's `defer cancel()`"
    );
}

#[test]
fn t5_stopping_inside_the_source_ends_generation_right_there() {
    for buffer in [0, 2] {
        for stop_at in [1, 3, if cfg!(miri) { 8 } else { 25 }] {
            let (stop, token) = stop_pair();
            let (source, calls) = counting_source(Some((stop_at, stop)));
            let partial = within(
                "collect_until_stopped",
                "every stage must also wait on the stop",
                move || collect_until_stopped(source, buffer, token),
            )
            .expect("no stage panicked");
            let calls = calls.load(Ordering::SeqCst);
            assert_eq!(
                calls, stop_at,
                "buffer {buffer}: the stop fired during call {stop_at} of the \
                 source, but the source was called {calls} times: check the stop \
                 before every call"
            );
            check_partial(&partial, stop_at);
        }
    }
}

#[test]
fn t5_a_source_that_runs_dry_finishes_without_a_stop() {
    let (_stop, token) = stop_pair(); // held, never fired
    let mut next = 0u32;
    let source = move || {
        next += 1;
        (next <= 20).then_some(next - 1)
    };
    let partial = within(
        "collect_until_stopped",
        "when the source returns None the generator must close its channel, \
         and the square stage must then close the output",
        move || collect_until_stopped(source, 1, token),
    )
    .expect("no stage panicked");
    assert_eq!(
        partial,
        Partial {
            output: (0..20u64).map(|n| n * n).collect(),
            counts: StageCounts {
                generated: 20,
                squared: 20
            },
        },
        "a source that runs dry after 20 values, with no stop, must give all 20 squares and count 20 generated and 20 squared"
    );
}

#[test]
fn t5_stop_wakes_stages_blocked_on_a_full_output() {
    let (stop, token) = stop_pair();
    let (source, calls) = counting_source(None);
    let pipeline = start_cancellable(source, 1, token).expect("spawning succeeds");
    // A second receiver keeps the output open: only the stop can end the stages.
    let output = pipeline.output.clone();
    let first: Vec<u64> = (0..3)
        .map(|_| {
            output
                .recv_timeout(DEADLINE)
                .expect("the pipeline produced a value")
        })
        .collect();
    assert_eq!(
        first,
        vec![0, 1, 4],
        "the pipeline must deliver the squares of 0, 1, 2 first"
    );
    assert!(
        wait_until(|| output.is_full()),
        "the output channel never filled up"
    );
    // Nobody reads any more: the square stage is (or soon will be) blocked
    // sending into the full output.
    stop.stop();
    let counts = within(
        "Cancellable::join after the stop",
        "a stage blocked in send never sees the stop: select! over the send and \
         stop.done()",
        move || pipeline.join(),
    )
    .expect("no stage panicked");

    let leftover: Vec<u64> = output.try_iter().collect();
    let all: Vec<u64> = first.iter().chain(&leftover).copied().collect();
    assert_eq!(
        all,
        (0..all.len() as u64).map(|n| n * n).collect::<Vec<_>>(),
        "the output must be the squares in order"
    );
    assert_eq!(
        counts.squared,
        all.len(),
        "squared counts the values the square stage delivered"
    );
    assert!(
        counts.generated >= counts.squared && counts.generated <= counts.squared + 2,
        "generated {} but squared {}: the generator can be at most one buffered \
         value and one value in hand ahead",
        counts.generated,
        counts.squared
    );
    let calls = calls.load(Ordering::SeqCst);
    assert!(
        calls <= counts.generated + 1,
        "the source was called {calls} times for {} delivered values",
        counts.generated
    );
}

#[test]
fn t5_stopping_from_another_thread_ends_the_run() {
    let (stop, token) = stop_pair();
    let (source, calls) = counting_source(None);
    let watcher = Arc::clone(&calls);
    let stopper = thread::spawn(move || {
        let reached = wait_until(|| watcher.load(Ordering::SeqCst) >= 10);
        stop.stop();
        reached
    });
    let partial = within(
        "collect_until_stopped",
        "the collecting loop must select over the output and stop.done()",
        move || collect_until_stopped(source, 0, token),
    )
    .expect("no stage panicked");
    assert!(
        stopper.join().expect("the stopper does not panic"),
        "the source was never called 10 times"
    );
    let calls = calls.load(Ordering::SeqCst);
    check_partial(&partial, calls);
}

#[test]
fn t5_a_pipeline_stopped_before_it_starts_never_calls_the_source() {
    let (stop, token) = stop_pair();
    stop.stop();
    let (source, calls) = counting_source(None);
    let partial = within(
        "collect_until_stopped",
        "check the stop before anything else",
        move || collect_until_stopped(source, 1, token),
    )
    .expect("no stage panicked");
    assert_eq!(
        calls.load(Ordering::SeqCst),
        0,
        "the stop had already fired, so the generator must not call the source"
    );
    assert_eq!(
        partial,
        Partial {
            output: vec![],
            counts: StageCounts::default()
        },
        "a pipeline stopped before it starts must output nothing and count nothing"
    );

    let (stop, token) = stop_pair();
    stop.stop();
    let (source, _calls) = counting_source(None);
    let pipeline = start_cancellable(source, 0, token).expect("spawning succeeds");
    let output = pipeline.output.clone();
    let counts = within("Cancellable::join", "", move || pipeline.join());
    assert_eq!(
        counts.expect("no stage panicked"),
        StageCounts::default(),
        "a pipeline stopped before it starts must count nothing generated and nothing squared"
    );
    assert_eq!(
        output.recv_timeout(DEADLINE),
        Err(cb::RecvTimeoutError::Disconnected),
        "once both stages have ended, the output is closed"
    );
}

#[test]
fn t5_a_panicking_source_is_reported_by_join() {
    let (_stop, token) = stop_pair(); // held, never fired
    let mut calls = 0u32;
    let source = move || {
        calls += 1;
        assert!(calls < 4, "the source fails on call {calls}");
        Some(calls)
    };
    let outcome = within(
        "collect_until_stopped with a failing source",
        "the generator's panic drops its sender, so the square stage and the \
         output close",
        move || collect_until_stopped(source, 1, token),
    );
    assert!(
        matches!(outcome, Err(ChannelsError::Panicked { stage: "generator" })),
        "the source panicked inside the generator, so the run must end in \
         ChannelsError::Panicked {{ stage: \"generator\" }}; got {outcome:?}"
    );
}

// ---------------------------------------------------------------- helpers

/// Runs `f` on a helper thread and returns its result, or fails the test if
/// it takes longer than [`DEADLINE`]. A panic in `f` is passed on.
fn within<T, F>(what: &str, hint: &str, f: F) -> T
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let (tx, rx) = mpsc::channel();
    let helper = thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(DEADLINE) {
        Ok(value) => {
            let _ = helper.join();
            value
        }
        Err(RecvTimeoutError::Disconnected) => match helper.join() {
            Err(payload) => panic::resume_unwind(payload),
            Ok(()) => unreachable!("the helper sends before it returns"),
        },
        Err(RecvTimeoutError::Timeout) => {
            panic!("{what} did not return within {DEADLINE:?} (deadlock?). {hint}")
        }
    }
}

/// Joins `handle`, failing the test if the thread is still running after
/// [`DEADLINE`] or if it panicked.
fn join_within<T>(what: &str, handle: JoinHandle<T>) -> T {
    assert!(
        wait_until(|| handle.is_finished()),
        "the {what} thread was still running after {DEADLINE:?}: a stage must end \
         when its input closes or when its receiver hangs up"
    );
    match handle.join() {
        Ok(value) => value,
        Err(_) => panic!(
            "the {what} thread panicked (see above); a failed send means the \
             receiver is gone: stop, don't unwrap"
        ),
    }
}

/// Polls `done` until it is true or [`DEADLINE`] passes; returns the last answer.
fn wait_until(done: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + DEADLINE;
    while !done() {
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(1));
    }
    true
}

/// Hands `value` to `tx` with `try_send`, retrying until a receiver takes it
/// or [`DEADLINE`] passes. Returns whether it was taken.
fn send_within<T>(tx: &SyncSender<T>, value: T) -> bool {
    let deadline = Instant::now() + DEADLINE;
    let mut value = value;
    loop {
        match tx.try_send(value) {
            Ok(()) => return true,
            Err(TrySendError::Disconnected(_)) => return false,
            Err(TrySendError::Full(back)) => value = back,
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(1));
    }
}

/// The test's side of a consumer that stays busy with each value until told.
struct Gate {
    /// Receives each value as the consumer starts on it.
    entered: mpsc::Receiver<u32>,
    /// One message lets the consumer finish one value.
    open: mpsc::Sender<()>,
}

fn gated_consumer(capacity: usize) -> (Consumer<u32>, Gate) {
    let (entered_tx, entered) = mpsc::channel();
    let (open, open_rx) = mpsc::channel::<()>();
    let consumer = spawn_consumer(capacity, move |value: u32| {
        let _ = entered_tx.send(value);
        // Busy with `value` until the test opens the gate (or gives up).
        let _ = open_rx.recv_timeout(DEADLINE);
    })
    .expect("spawning one thread succeeds");
    (consumer, Gate { entered, open })
}

/// An endless source 0, 1, 2, … that counts its calls. With
/// `Some((n, stop))`, it fires `stop` during call `n`, before returning.
fn counting_source(
    stop_at: Option<(usize, StopSource)>,
) -> (
    impl FnMut() -> Option<u32> + Send + 'static,
    Arc<AtomicUsize>,
) {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    let mut stop_at = stop_at;
    let source = move || {
        let call = counter.fetch_add(1, Ordering::SeqCst) + 1;
        if stop_at.as_ref().is_some_and(|(n, _)| *n == call)
            && let Some((_, stop)) = stop_at.take()
        {
            stop.stop();
        }
        Some(u32::try_from(call - 1).expect("the tests make few calls"))
    };
    (source, calls)
}

/// Checks what a stopped run may have produced from `calls` source values.
fn check_partial(partial: &Partial, calls: usize) {
    let Partial { output, counts } = partial;
    assert!(
        counts.generated <= calls,
        "generated {} values from {calls} source calls",
        counts.generated
    );
    assert!(
        counts.squared <= counts.generated,
        "squared {} of {} generated values",
        counts.squared,
        counts.generated
    );
    assert!(
        output.len() <= counts.squared,
        "collected {} values but only {} were squared",
        output.len(),
        counts.squared
    );
    let expected: Vec<u64> = (0..output.len() as u64).map(|n| n * n).collect();
    assert_eq!(
        *output, expected,
        "the partial output must be the first squares, in order"
    );
}

/// Splits merged values into the left ones and the right ones.
fn split<'a>(values: &[Either<u32, &'a str>]) -> (Vec<u32>, Vec<&'a str>) {
    let mut lefts = Vec::new();
    let mut rights = Vec::new();
    for value in values {
        match value {
            Either::Left(n) => lefts.push(*n),
            Either::Right(s) => rights.push(*s),
        }
    }
    (lefts, rights)
}

/// A meeting point for `expected` threads; later arrivals pass straight
/// through. `arrive_and_wait` returns false if the meeting did not happen
/// within [`DEADLINE`]; after one such timeout every caller returns false at
/// once, so a sequential implementation fails after one deadline, not many.
struct Meeting {
    expected: usize,
    arrived: Mutex<usize>,
    changed: Condvar,
    gave_up: AtomicBool,
}

impl Meeting {
    fn new(expected: usize) -> Arc<Self> {
        Arc::new(Self {
            expected,
            arrived: Mutex::new(0),
            changed: Condvar::new(),
            gave_up: AtomicBool::new(false),
        })
    }

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
