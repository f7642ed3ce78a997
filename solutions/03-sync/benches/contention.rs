//! The contention lesson: one shared counter, incremented by 1, 2 and 4
//! threads at once.
//!
//! ```sh
//! cargo bench -p shared-state-solution --bench contention            # criterion, then the ratios
//! cargo bench -p shared-state-solution --bench contention -- --test  # a quick smoke run
//! ```
//!
//! The counters compared (every thread does the same number of increments,
//! and the total is checked at the end):
//!
//! - `mutex`: the lesson's [`Counter`], an `i64` behind a `Mutex`;
//! - `atomic`: the lesson's [`AtomicCounter`], one `fetch_add` per increment;
//! - `shards_padded`: one atomic per thread, each on a cache line of its own,
//!   summed at the end;
//! - `shards_packed`: one atomic per thread, but side by side in one array,
//!   so they share a cache line (false sharing).
//!
//! Every figure is the time per increment, over all threads. After
//! criterion's report, the variants are timed in alternation, round after
//! round, and each one's speed is printed as the median of its per-round
//! ratios to the mutex at one thread. The machine is shared (2 cores), so
//! the ratios mean more than the absolute times.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput};
use shared_state::{AtomicCounter, Counter};

const THREADS: [usize; 3] = [1, 2, 4];

/// An atomic alone on its cache line. 128 bytes, because x86 CPUs fetch
/// cache lines in pairs.
#[repr(align(128))]
#[derive(Default)]
struct Padded(AtomicU64);

#[derive(Clone, Copy)]
enum Variant {
    Mutex,
    Atomic,
    ShardsPadded,
    ShardsPacked,
}

impl Variant {
    const ALL: [Variant; 4] = [
        Variant::Mutex,
        Variant::Atomic,
        Variant::ShardsPadded,
        Variant::ShardsPacked,
    ];

    fn id(self) -> &'static str {
        match self {
            Variant::Mutex => "mutex",
            Variant::Atomic => "atomic",
            Variant::ShardsPadded => "shards_padded",
            Variant::ShardsPacked => "shards_packed",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Variant::Mutex => "Mutex<i64> (Counter)",
            Variant::Atomic => "AtomicI64::fetch_add (AtomicCounter)",
            Variant::ShardsPadded => "a shard per thread, padded",
            Variant::ShardsPacked => "a shard per thread, packed",
        }
    }

    /// `threads` threads each add 1 `per_thread` times; returns the total.
    fn run(self, threads: usize, per_thread: u64) -> u64 {
        match self {
            Variant::Mutex => {
                let counter = Counter::new();
                thread::scope(|s| {
                    for _ in 0..threads {
                        s.spawn(|| {
                            for _ in 0..per_thread {
                                black_box(&counter).increment();
                            }
                        });
                    }
                });
                counter.value() as u64
            }
            Variant::Atomic => {
                let counter = AtomicCounter::new();
                thread::scope(|s| {
                    for _ in 0..threads {
                        s.spawn(|| {
                            for _ in 0..per_thread {
                                black_box(&counter).increment();
                            }
                        });
                    }
                });
                counter.get() as u64
            }
            Variant::ShardsPadded => {
                let shards: Vec<Padded> = (0..threads).map(|_| Padded::default()).collect();
                let shards = &shards;
                thread::scope(|s| {
                    for shard in shards {
                        s.spawn(move || {
                            for _ in 0..per_thread {
                                black_box(&shard.0).fetch_add(1, Ordering::Relaxed);
                            }
                        });
                    }
                });
                shards.iter().map(|s| s.0.load(Ordering::Relaxed)).sum()
            }
            Variant::ShardsPacked => {
                let shards: Vec<AtomicU64> = (0..threads).map(|_| AtomicU64::new(0)).collect();
                let shards = &shards;
                thread::scope(|s| {
                    for shard in shards {
                        s.spawn(move || {
                            for _ in 0..per_thread {
                                black_box(shard).fetch_add(1, Ordering::Relaxed);
                            }
                        });
                    }
                });
                shards.iter().map(|s| s.load(Ordering::Relaxed)).sum()
            }
        }
    }

    /// Runs and checks the total: a counter that loses increments is no
    /// counter, however fast.
    fn checked_run(self, threads: usize, per_thread: u64) {
        let total = self.run(threads, per_thread);
        assert_eq!(
            total,
            threads as u64 * per_thread,
            "{} lost increments",
            self.name()
        );
    }
}

fn criterion_benches(c: &mut Criterion, per_thread: u64) {
    let mut group = c.benchmark_group("shared_counter");
    for threads in THREADS {
        group.throughput(Throughput::Elements(threads as u64 * per_thread));
        for variant in Variant::ALL {
            group.bench_with_input(
                BenchmarkId::new(variant.id(), threads),
                &threads,
                |b, &threads| b.iter(|| variant.checked_run(threads, per_thread)),
            );
        }
    }
    group.finish();
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn ratio_report(per_thread: u64, rounds: usize) {
    // Every (variant, threads) pair, timed in rotation within each round.
    let cases: Vec<(Variant, usize)> = THREADS
        .iter()
        .flat_map(|&t| Variant::ALL.map(|v| (v, t)))
        .collect();
    let mut per_increment = vec![Vec::with_capacity(rounds); cases.len()];
    for round in 0..rounds {
        for k in 0..cases.len() {
            let i = (round + k) % cases.len();
            let (variant, threads) = cases[i];
            let start = Instant::now();
            variant.checked_run(threads, per_thread);
            per_increment[i]
                .push(start.elapsed().as_secs_f64() / (threads as u64 * per_thread) as f64);
        }
    }
    // The baseline: the mutex at one thread, in the same round.
    let baseline = per_increment[0].clone();
    println!();
    println!(
        "A shared counter, {per_thread} increments per thread, {rounds} rounds \
         (time per increment over all threads: median; speed: median of each round's ratio \
         to the mutex at 1 thread):"
    );
    for ((variant, threads), times) in cases.iter().zip(&per_increment) {
        let speed = median(baseline.iter().zip(times).map(|(b, t)| b / t).collect());
        println!(
            "  {threads} thread{} {:<38} {:>7.2} ns per increment   {speed:>6.2}x",
            if *threads == 1 { " " } else { "s" },
            variant.name(),
            median(times.clone()) * 1e9,
        );
    }
    println!("  (no target: more threads on one contended counter make each increment slower)");
}

fn main() {
    let smoke = std::env::args().any(|a| a == "--test");
    let (per_thread, rounds) = if smoke { (10_000, 3) } else { (500_000, 11) };
    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    criterion_benches(&mut c, per_thread);
    c.final_summary();
    ratio_report(per_thread, rounds);
}
