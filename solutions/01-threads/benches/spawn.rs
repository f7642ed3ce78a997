//! What a thread costs: starting one per job against handing the job to a
//! thread that is already running.
//!
//! ```sh
//! cargo bench -p threads-solution --bench spawn            # criterion, then the ratios
//! cargo bench -p threads-solution --bench spawn -- --test  # a quick smoke run
//! ```
//!
//! Four ways to run a tiny job (a multiplication) on another thread and get
//! its result back:
//!
//! - `spawn_join`: `thread::spawn` a new thread per job and `join` it;
//! - `scope_join`: `thread::scope`, one scoped thread per job, joined at once;
//! - `handoff_one`: send the job over a channel to a thread that is already
//!   running, and wait for its answer before sending the next one;
//! - `handoff_stream`: the same running thread, but all the jobs are sent
//!   before the answers are collected, so it never sleeps between jobs.
//!
//! Then `concurrent_sum` from task 2, on 2 workers, against a plain
//! `iter().sum()` on the calling thread, for a small and a large input: the
//! point where starting threads pays for itself.
//!
//! After criterion's report, the variants are timed in alternation, round
//! after round, and the median of each round's ratio is printed. The machine
//! is shared, so the ratios mean more than the absolute times.

use std::hint::black_box;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput};

/// The job: small enough that only the cost of running it elsewhere counts.
fn job(x: u64) -> u64 {
    black_box(x).wrapping_mul(2_654_435_761)
}

fn spawn_join(jobs: u64) -> u64 {
    let mut acc = 0u64;
    for i in 0..jobs {
        let handle = thread::spawn(move || job(i));
        acc = acc.wrapping_add(handle.join().unwrap_or_default());
    }
    acc
}

fn scope_join(jobs: u64) -> u64 {
    let mut acc = 0u64;
    for i in 0..jobs {
        acc = acc.wrapping_add(thread::scope(|s| {
            s.spawn(|| job(i)).join().unwrap_or_default()
        }));
    }
    acc
}

/// A thread that runs every job it receives and sends the result back.
struct Runner {
    jobs: Option<mpsc::Sender<u64>>,
    results: mpsc::Receiver<u64>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Runner {
    fn start() -> Self {
        let (jobs_tx, jobs_rx) = mpsc::channel::<u64>();
        let (results_tx, results_rx) = mpsc::channel();
        let thread = thread::spawn(move || {
            for x in jobs_rx {
                if results_tx.send(job(x)).is_err() {
                    break;
                }
            }
        });
        Self {
            jobs: Some(jobs_tx),
            results: results_rx,
            thread: Some(thread),
        }
    }

    fn send(&self, x: u64) {
        if let Some(jobs) = &self.jobs {
            jobs.send(x).expect("the runner thread is alive");
        }
    }

    fn recv(&self) -> u64 {
        self.results.recv().expect("the runner thread is alive")
    }

    /// One job at a time: both threads sleep and wake once per job.
    fn one_by_one(&self, jobs: u64) -> u64 {
        let mut acc = 0u64;
        for i in 0..jobs {
            self.send(i);
            acc = acc.wrapping_add(self.recv());
        }
        acc
    }

    /// Every job queued first: the runner takes one after the other.
    fn streamed(&self, jobs: u64) -> u64 {
        for i in 0..jobs {
            self.send(i);
        }
        (0..jobs).fold(0u64, |acc, _| acc.wrapping_add(self.recv()))
    }
}

impl Drop for Runner {
    fn drop(&mut self) {
        self.jobs = None; // closes the channel: the runner's loop ends
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn criterion_benches(c: &mut Criterion, runner: &Runner, jobs: u64, big: usize) {
    let mut group = c.benchmark_group("run_a_tiny_job_elsewhere");
    group.throughput(Throughput::Elements(jobs));
    group.bench_function("spawn_join", |b| b.iter(|| spawn_join(jobs)));
    group.bench_function("scope_join", |b| b.iter(|| scope_join(jobs)));
    group.bench_function("handoff_one", |b| b.iter(|| runner.one_by_one(jobs)));
    group.bench_function("handoff_stream", |b| b.iter(|| runner.streamed(jobs)));
    group.finish();

    let mut group = c.benchmark_group("concurrent_sum");
    for len in [1_000usize, big] {
        let numbers: Vec<u64> = (1..=len as u64).collect();
        group.throughput(Throughput::Elements(len as u64));
        group.bench_with_input(BenchmarkId::new("iter_sum", len), &numbers, |b, n| {
            b.iter(|| black_box(n).iter().sum::<u64>())
        });
        group.bench_with_input(BenchmarkId::new("two_workers", len), &numbers, |b, n| {
            b.iter(|| threads::concurrent_sum(black_box(n), 2).expect("two workers"))
        });
    }
    group.finish();
}

fn time(run: impl FnOnce()) -> Duration {
    let start = Instant::now();
    run();
    start.elapsed()
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// Runs every variant once per round, in a rotating order, and returns each
/// variant's per-round times.
fn alternate(rounds: usize, variants: &[&dyn Fn()]) -> Vec<Vec<Duration>> {
    let mut times = vec![Vec::with_capacity(rounds); variants.len()];
    for round in 0..rounds {
        for k in 0..variants.len() {
            let v = (round + k) % variants.len();
            times[v].push(time(variants[v]));
        }
    }
    times
}

fn per_round_ratio(num: &[Duration], den: &[Duration]) -> f64 {
    median(
        num.iter()
            .zip(den)
            .map(|(n, d)| n.as_secs_f64() / d.as_secs_f64())
            .collect(),
    )
}

fn ratio_report(runner: &Runner, jobs: u64, rounds: usize, big: usize) {
    println!();
    println!(
        "Running {jobs} tiny jobs on another thread, median of {rounds} rounds \
         (time per job; ratio = median of each round's ratio):"
    );
    let times = alternate(
        rounds,
        &[
            &|| {
                black_box(spawn_join(jobs));
            },
            &|| {
                black_box(scope_join(jobs));
            },
            &|| {
                black_box(runner.one_by_one(jobs));
            },
            &|| {
                black_box(runner.streamed(jobs));
            },
        ],
    );
    let per_job =
        |t: &[Duration]| median(t.iter().map(|d| d.as_secs_f64()).collect()) / jobs as f64 * 1e6;
    let names = [
        "thread::spawn + join",
        "thread::scope + join",
        "hand-off, one at a time",
        "hand-off, streamed",
    ];
    for (name, t) in names.iter().zip(&times) {
        println!(
            "  {name:<26} {:>8.2} us per job   spawn+join takes {:>6.1}x as long",
            per_job(t),
            per_round_ratio(&times[0], t)
        );
    }

    println!();
    println!("concurrent_sum on 2 workers vs iter().sum() on one thread, {rounds} rounds:");
    for len in [1_000usize, big] {
        let numbers: Vec<u64> = (1..=len as u64).collect();
        let times = alternate(
            rounds,
            &[
                &|| {
                    black_box(black_box(&numbers).iter().sum::<u64>());
                },
                &|| {
                    black_box(threads::concurrent_sum(black_box(&numbers), 2).ok());
                },
            ],
        );
        let speedup = per_round_ratio(&times[0], &times[1]);
        if speedup < 1.0 {
            println!(
                "  {len:>10} numbers: 2 workers take {:.0}x as long as one thread \
                 (the threads cost more than the work)",
                1.0 / speedup
            );
        } else {
            println!("  {len:>10} numbers: 2 workers are {speedup:.2}x the speed of one thread");
        }
    }
    println!("  (no target: this benchmark shows where threads start to pay off)");
}

fn main() {
    let smoke = std::env::args().any(|a| a == "--test");
    let (jobs, rounds, big) = if smoke {
        (20, 3, 100_000)
    } else {
        (2_000, 21, 10_000_000)
    };
    let runner = Runner::start();
    let mut c = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    criterion_benches(&mut c, &runner, jobs, big);
    c.final_summary();
    ratio_report(&runner, jobs, rounds, big);
}
