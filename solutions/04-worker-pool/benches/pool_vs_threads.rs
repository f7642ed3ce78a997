//! The lesson's worker pool against a thread per job, for many tiny jobs.
//!
//! ```sh
//! cargo bench -p worker-pool-solution --bench pool_vs_threads            # criterion, then the ratios
//! cargo bench -p worker-pool-solution --bench pool_vs_threads -- --test  # a quick smoke run
//! ```
//!
//! Each run executes 10,000 tiny jobs (a multiplication) and collects every
//! result:
//!
//! - `thread_per_job`: `thread::spawn` for each job, then `join` every handle
//!   (Go's `go f()` per job, with OS threads);
//! - `pool_2x1024`: [`ThreadPool`] with 2 workers (one per core of the
//!   course's machine) and a queue of 1,024;
//! - `pool_2x16`, `pool_4x1024`, `pool_4x16`: a queue of only 16, so that
//!   `submit` blocks again and again, and twice as many workers as cores;
//!   4 workers and a queue of 16 is the configuration of the lesson's load
//!   test.
//!
//! A pool run includes starting and dropping the pool. After criterion's
//! report, the variants are timed in alternation, round after round, and the
//! median of each round's ratio is printed. The machine is shared, so the
//! ratios mean more than the absolute times.

use std::hint::black_box;
use std::thread;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use worker_pool::ThreadPool;

/// The job: small enough that only the cost of running it elsewhere counts.
fn job(x: u64) -> u64 {
    black_box(x).wrapping_mul(2_654_435_761)
}

#[derive(Clone, Copy)]
enum Variant {
    ThreadPerJob,
    Pool { workers: usize, capacity: usize },
}

impl Variant {
    const ALL: [Variant; 5] = [
        Variant::ThreadPerJob,
        Variant::Pool {
            workers: 2,
            capacity: 1024,
        },
        Variant::Pool {
            workers: 2,
            capacity: 16,
        },
        Variant::Pool {
            workers: 4,
            capacity: 1024,
        },
        Variant::Pool {
            workers: 4,
            capacity: 16,
        },
    ];

    fn id(self) -> String {
        match self {
            Variant::ThreadPerJob => "thread_per_job".to_owned(),
            Variant::Pool { workers, capacity } => format!("pool_{workers}x{capacity}"),
        }
    }

    fn name(self) -> String {
        match self {
            Variant::ThreadPerJob => "a thread per job".to_owned(),
            Variant::Pool { workers, capacity } => {
                format!("pool: {workers} workers, queue of {capacity}")
            }
        }
    }

    /// Runs `jobs` jobs and returns the sum of their results.
    fn run(self, jobs: u64) -> u64 {
        match self {
            Variant::ThreadPerJob => {
                let handles: Vec<_> = (0..jobs).map(|i| thread::spawn(move || job(i))).collect();
                handles.into_iter().fold(0u64, |acc, h| {
                    acc.wrapping_add(h.join().expect("the job does not panic"))
                })
            }
            Variant::Pool { workers, capacity } => {
                let pool = ThreadPool::new(workers, capacity).expect("start the pool");
                let handles: Vec<_> = (0..jobs).map(|i| pool.submit(move || job(i))).collect();
                let sum = handles.into_iter().fold(0u64, |acc, h| {
                    acc.wrapping_add(h.join().expect("the job does not panic"))
                });
                drop(pool);
                sum
            }
        }
    }
}

fn criterion_benches(c: &mut Criterion, jobs: u64) {
    let mut group = c.benchmark_group("tiny_jobs");
    group.throughput(Throughput::Elements(jobs));
    for variant in Variant::ALL {
        group.bench_function(variant.id(), |b| b.iter(|| variant.run(jobs)));
    }
    group.finish();
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn ratio_report(jobs: u64, rounds: usize) {
    let variants = Variant::ALL;
    let mut times = vec![Vec::with_capacity(rounds); variants.len()];
    for round in 0..rounds {
        for k in 0..variants.len() {
            let v = (round + k) % variants.len();
            let start = Instant::now();
            black_box(variants[v].run(jobs));
            times[v].push(start.elapsed().as_secs_f64());
        }
    }
    println!();
    println!(
        "{jobs} tiny jobs, {rounds} rounds (time per job: median; speed-up: median of each \
         round's ratio to a thread per job):"
    );
    for (variant, t) in variants.iter().zip(&times) {
        let speedup = median(times[0].iter().zip(t).map(|(base, t)| base / t).collect());
        println!(
            "  {:<32} {:>7.2} us per job   {speedup:>6.1}x the speed of a thread per job",
            variant.name(),
            median(t.clone()) / jobs as f64 * 1e6,
        );
    }
    println!("  (no target: the pool pays for its threads once, not once per job)");
}

fn main() {
    let smoke = std::env::args().any(|a| a == "--test");
    let (jobs, rounds) = if smoke { (200, 3) } else { (10_000, 15) };
    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    criterion_benches(&mut c, jobs);
    c.final_summary();
    ratio_report(jobs, rounds);
}
