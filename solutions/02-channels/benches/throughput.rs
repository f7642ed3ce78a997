//! Channel throughput: one producer thread sends numbers, the calling thread
//! receives and adds them up.
//!
//! ```sh
//! cargo bench -p channels-solution --bench throughput            # criterion, then the ratios
//! cargo bench -p channels-solution --bench throughput -- --test  # a quick smoke run
//! ```
//!
//! The channels compared:
//!
//! - `std::sync::mpsc::channel()` (unbounded) and `sync_channel(1024)`;
//! - `crossbeam_channel::bounded(0)` (a rendezvous, like Go's `make(chan T)`),
//!   `bounded(1024)` and `unbounded()`;
//! - `crossbeam_channel::bounded(16)` carrying `Vec<u64>` batches of 64, so
//!   that one send moves 64 numbers.
//!
//! Every figure is per number moved. After criterion's report, the variants
//! are timed in alternation, round after round, and each one's speed is
//! printed as the median of its per-round ratios to `std::sync::mpsc::channel`.
//! The machine is shared, so the ratios mean more than the absolute times.

use std::hint::black_box;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};

/// Numbers per batch in the batched variant.
const BATCH: usize = 64;

/// One channel set-up, run with `count` numbers.
#[derive(Clone, Copy)]
enum Variant {
    StdUnbounded,
    StdSync1024,
    CrossbeamRendezvous,
    CrossbeamBounded1024,
    CrossbeamUnbounded,
    CrossbeamBatches,
}

impl Variant {
    const ALL: [Variant; 6] = [
        Variant::StdUnbounded,
        Variant::StdSync1024,
        Variant::CrossbeamRendezvous,
        Variant::CrossbeamBounded1024,
        Variant::CrossbeamUnbounded,
        Variant::CrossbeamBatches,
    ];

    fn name(self) -> &'static str {
        match self {
            Variant::StdUnbounded => "std mpsc::channel()",
            Variant::StdSync1024 => "std sync_channel(1024)",
            Variant::CrossbeamRendezvous => "crossbeam bounded(0)",
            Variant::CrossbeamBounded1024 => "crossbeam bounded(1024)",
            Variant::CrossbeamUnbounded => "crossbeam unbounded()",
            Variant::CrossbeamBatches => "crossbeam bounded(16), Vec of 64",
        }
    }

    /// The criterion id.
    fn id(self) -> &'static str {
        match self {
            Variant::StdUnbounded => "std_channel",
            Variant::StdSync1024 => "std_sync_channel_1024",
            Variant::CrossbeamRendezvous => "crossbeam_bounded_0",
            Variant::CrossbeamBounded1024 => "crossbeam_bounded_1024",
            Variant::CrossbeamUnbounded => "crossbeam_unbounded",
            Variant::CrossbeamBatches => "crossbeam_batches_of_64",
        }
    }

    /// A rendezvous needs both threads to meet for every number: it gets
    /// fewer numbers, so that a run takes about as long as the others.
    fn count(self, numbers: u64) -> u64 {
        match self {
            Variant::CrossbeamRendezvous => (numbers / 20).max(1),
            _ => numbers,
        }
    }

    /// Moves `count` numbers from a producer thread to this one.
    fn run(self, count: u64) -> u64 {
        match self {
            Variant::StdUnbounded => {
                let (tx, rx) = mpsc::channel();
                std_run(count, move |x| tx.send(x).is_ok(), rx)
            }
            Variant::StdSync1024 => {
                let (tx, rx) = mpsc::sync_channel(1024);
                std_run(count, move |x| tx.send(x).is_ok(), rx)
            }
            Variant::CrossbeamRendezvous => crossbeam_run(count, crossbeam_channel::bounded(0)),
            Variant::CrossbeamBounded1024 => crossbeam_run(count, crossbeam_channel::bounded(1024)),
            Variant::CrossbeamUnbounded => crossbeam_run(count, crossbeam_channel::unbounded()),
            Variant::CrossbeamBatches => batched_run(count),
        }
    }
}

fn std_run(count: u64, send: impl FnMut(u64) -> bool + Send, rx: mpsc::Receiver<u64>) -> u64 {
    thread::scope(|s| {
        let mut send = send;
        s.spawn(move || {
            for x in 0..count {
                if !send(x) {
                    break;
                }
            }
        });
        rx.iter().fold(0u64, u64::wrapping_add)
    })
}

fn crossbeam_run(
    count: u64,
    (tx, rx): (
        crossbeam_channel::Sender<u64>,
        crossbeam_channel::Receiver<u64>,
    ),
) -> u64 {
    thread::scope(|s| {
        s.spawn(move || {
            for x in 0..count {
                if tx.send(x).is_err() {
                    break;
                }
            }
        });
        rx.iter().fold(0u64, u64::wrapping_add)
    })
}

fn batched_run(count: u64) -> u64 {
    let (tx, rx) = crossbeam_channel::bounded::<Vec<u64>>(16);
    thread::scope(|s| {
        s.spawn(move || {
            let mut batch = Vec::with_capacity(BATCH);
            for x in 0..count {
                batch.push(x);
                if batch.len() == BATCH {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                    if tx.send(full).is_err() {
                        return;
                    }
                }
            }
            if !batch.is_empty() {
                let _ = tx.send(batch);
            }
        });
        rx.iter().fold(0u64, |acc, batch| {
            batch.iter().fold(acc, |acc, &x| acc.wrapping_add(x))
        })
    })
}

fn criterion_benches(c: &mut Criterion, numbers: u64) {
    let mut group = c.benchmark_group("channel_throughput");
    for variant in Variant::ALL {
        let count = variant.count(numbers);
        group.throughput(Throughput::Elements(count));
        group.bench_function(variant.id(), |b| b.iter(|| variant.run(black_box(count))));
    }
    group.finish();
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn ratio_report(numbers: u64, rounds: usize) {
    let variants = Variant::ALL;
    // Seconds per number moved, per variant, per round.
    let mut per_number = vec![Vec::with_capacity(rounds); variants.len()];
    for round in 0..rounds {
        for k in 0..variants.len() {
            let v = (round + k) % variants.len();
            let count = variants[v].count(numbers);
            let start = Instant::now();
            black_box(variants[v].run(count));
            per_number[v].push(start.elapsed().as_secs_f64() / count as f64);
        }
    }
    println!();
    println!(
        "One producer, one consumer, {numbers} numbers per run ({} through the rendezvous), \
         {rounds} rounds (time: median; speed: median of each round's ratio):",
        Variant::CrossbeamRendezvous.count(numbers)
    );
    let baseline = &per_number[0];
    for (variant, times) in variants.iter().zip(&per_number) {
        let speed = median(baseline.iter().zip(times).map(|(b, t)| b / t).collect());
        let ns = median(times.clone()) * 1e9;
        println!(
            "  {:<34} {ns:>9.1} ns per number   {speed:>7.3}x the speed of std mpsc::channel()",
            variant.name()
        );
    }
    println!("  (no target: compare the channels, and batching against single sends)");
}

fn main() {
    let smoke = std::env::args().any(|a| a == "--test");
    let (numbers, rounds) = if smoke { (10_000, 3) } else { (1_000_000, 15) };
    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    criterion_benches(&mut c, numbers);
    c.final_summary();
    ratio_report(numbers, rounds);
}
