//! The store against itself (two write paths) and against fjall 3, a real
//! LSM engine in pure Rust, at 1, 2, 4 and 8 threads, following seed 003's
//! benchmark table.
//!
//! ```sh
//! cargo bench -p engine-solution --bench engines            # the full run
//! cargo bench -p engine-solution --bench engines -- --test  # a quick smoke run
//! ```
//!
//! Durability is matched row by row and printed with each table:
//! - "kernel" rows: every write reaches the kernel before it returns
//!   (survives a killed process, not a power cut): our `sync_writes: false`
//!   (one `write` per write or per group) against fjall's default
//!   (`PersistMode::Buffer` after every write).
//! - "fsync" rows: every write or batch is on disk before it returns: our
//!   `sync_writes: true` (`fdatasync`) against fjall with
//!   `PersistMode::SyncData` after every write or batch.
//!
//! Criterion first measures single-threaded `get` latency of the three
//! engines on the same preloaded data; then the table runs, and prints
//! each figure with its ratio to fjall, all measured in this run.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use criterion::Criterion;
use engine::{Batch, Config, Db, WritePath};
use fjall::{KeyspaceCreateOptions, PersistMode};

const VALUE_LEN: usize = 100;
const THREADS: [usize; 4] = [1, 2, 4, 8];

/// Sizes of one run.
#[derive(Clone, Copy)]
struct Sizes {
    preload: usize,
    puts: usize,
    gets: usize,
    mixed: usize,
    batches: usize,
    batch_len: usize,
    durable_puts: usize,
}

impl Sizes {
    fn new(quick: bool) -> Self {
        if quick {
            Sizes {
                preload: 2_000,
                puts: 2_000,
                gets: 2_000,
                mixed: 2_000,
                batches: 8,
                batch_len: 100,
                durable_puts: 16,
            }
        } else {
            Sizes {
                preload: 200_000,
                puts: 200_000,
                gets: 400_000,
                mixed: 200_000,
                batches: 400,
                batch_len: 100,
                durable_puts: 2_000,
            }
        }
    }
}

// ------------------------------------------------------------ engines

trait Engine: Send + Sync {
    fn put(&self, key: &[u8], value: &[u8]);
    fn get(&self, key: &[u8]) -> Option<Vec<u8>>;
    /// An atomic batch of puts.
    fn batch(&self, items: &[(Vec<u8>, Vec<u8>)]);
    /// Writes everything in memory out (for the preload).
    fn settle(&self);
}

struct Ours(Db);

impl Engine for Ours {
    fn put(&self, key: &[u8], value: &[u8]) {
        self.0.put(key, value).expect("put");
    }

    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.0.get(key).expect("get")
    }

    fn batch(&self, items: &[(Vec<u8>, Vec<u8>)]) {
        let mut batch = Batch::new();
        for (k, v) in items {
            batch.put(k, v);
        }
        self.0.write_batch(&batch).expect("write_batch");
    }

    fn settle(&self) {
        self.0.flush().expect("flush");
    }
}

struct Fjall {
    db: fjall::Database,
    keyspace: fjall::Keyspace,
    /// `PersistMode::SyncData` after every write, or only the default
    /// `PersistMode::Buffer` that fjall does by itself.
    sync: bool,
}

impl Engine for Fjall {
    fn put(&self, key: &[u8], value: &[u8]) {
        self.keyspace.insert(key, value).expect("insert");
        if self.sync {
            self.db.persist(PersistMode::SyncData).expect("persist");
        }
    }

    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.keyspace.get(key).expect("get").map(|v| v.to_vec())
    }

    fn batch(&self, items: &[(Vec<u8>, Vec<u8>)]) {
        let mut batch = self.db.batch();
        if self.sync {
            batch = batch.durability(Some(PersistMode::SyncData));
        }
        for (k, v) in items {
            batch.insert(&self.keyspace, k.as_slice(), v.as_slice());
        }
        batch.commit().expect("commit");
    }

    fn settle(&self) {
        self.db.persist(PersistMode::SyncData).expect("persist");
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Locked,
    SingleWriter,
    Fjall,
}

const KINDS: [Kind; 3] = [Kind::Locked, Kind::SingleWriter, Kind::Fjall];

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Locked => "Locked",
            Kind::SingleWriter => "SingleWriter",
            Kind::Fjall => "fjall 3",
        }
    }

    fn open(self, dir: &Path, sync: bool) -> Arc<dyn Engine> {
        match self {
            Kind::Locked | Kind::SingleWriter => {
                let config = Config {
                    write_path: if self == Kind::Locked {
                        WritePath::Locked
                    } else {
                        WritePath::SingleWriter
                    },
                    sync_writes: sync,
                    ..Config::default()
                };
                Arc::new(Ours(Db::open(dir, config).expect("open our store")))
            }
            Kind::Fjall => {
                let db = fjall::Database::builder(dir).open().expect("open fjall");
                let keyspace = db
                    .keyspace("bench", KeyspaceCreateOptions::default)
                    .expect("keyspace");
                Arc::new(Fjall { db, keyspace, sync })
            }
        }
    }
}

// ------------------------------------------------------------ workloads

fn key(prefix: u8, i: usize) -> Vec<u8> {
    format!("{}{i:015}", prefix as char).into_bytes()
}

fn value(i: usize) -> Vec<u8> {
    let mut v = vec![b'v'; VALUE_LEN];
    v[..8].copy_from_slice(&(i as u64).to_le_bytes());
    v
}

/// A small xorshift generator; the benchmark's choices need no quality.
struct Xs(u64);

impl Xs {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// What one measurement produced.
struct Run {
    ops_per_sec: f64,
    p99: Duration,
}

fn percentile(mut lat: Vec<Duration>, p: f64) -> Duration {
    if lat.is_empty() {
        return Duration::ZERO;
    }
    lat.sort_unstable();
    let i = ((lat.len() as f64 * p) as usize).min(lat.len() - 1);
    lat[i]
}

/// Runs `work(thread index, per-thread count)` on `threads` threads and
/// measures total throughput and the p99 of the per-op latencies returned.
fn parallel(
    threads: usize,
    total_ops: usize,
    work: impl Fn(usize, usize) -> Vec<Duration> + Sync,
) -> Run {
    let per = total_ops.div_ceil(threads);
    let start = Instant::now();
    let lat: Vec<Duration> = thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let work = &work;
                s.spawn(move || work(t, per))
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("bench thread"))
            .collect()
    });
    let elapsed = start.elapsed().as_secs_f64();
    Run {
        ops_per_sec: (per * threads) as f64 / elapsed,
        p99: percentile(lat, 0.99),
    }
}

fn put_parallel(engine: &dyn Engine, threads: usize, ops: usize, round: usize) -> Run {
    parallel(threads, ops, |t, n| {
        let mut lat = Vec::with_capacity(n);
        for i in 0..n {
            let k = key(b'p', (round * 16 + t) * 10_000_000 + i);
            let started = Instant::now();
            engine.put(&k, &value(i));
            lat.push(started.elapsed());
        }
        lat
    })
}

fn get_while_writing(engine: &dyn Engine, threads: usize, s: Sizes) -> Run {
    let stop = AtomicBool::new(false);
    thread::scope(|scope| {
        let writer = scope.spawn(|| {
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                engine.put(&key(b'w', i), &value(i));
                i += 1;
            }
        });
        let run = parallel(threads, s.gets, |t, n| {
            let mut rng = Xs(0x9E37_79B9 + t as u64);
            let mut lat = Vec::with_capacity(n);
            for _ in 0..n {
                let i = rng.below(s.preload);
                let started = Instant::now();
                let got = engine.get(&key(b'k', i));
                lat.push(started.elapsed());
                assert!(got.is_some(), "a preloaded key is missing");
            }
            lat
        });
        stop.store(true, Ordering::Relaxed);
        writer.join().expect("writer");
        run
    })
}

fn mixed(engine: &dyn Engine, threads: usize, s: Sizes) -> Run {
    parallel(threads, s.mixed, |t, n| {
        let mut rng = Xs(0x1234_5678 + t as u64);
        let mut lat = Vec::with_capacity(n);
        for j in 0..n {
            let i = rng.below(s.preload);
            let started = Instant::now();
            if rng.below(10) < 8 {
                engine.get(&key(b'k', i));
            } else {
                engine.put(&key(b'k', i), &value(j));
            }
            lat.push(started.elapsed());
        }
        lat
    })
}

fn batched(engine: &dyn Engine, threads: usize, s: Sizes, round: usize) -> Run {
    let run = parallel(threads, s.batches, |t, n| {
        let mut lat = Vec::with_capacity(n);
        for b in 0..n {
            let items: Vec<(Vec<u8>, Vec<u8>)> = (0..s.batch_len)
                .map(|j| {
                    let i = ((round * 16 + t) * 100_000 + b) * 1_000 + j;
                    (key(b'b', i), value(i))
                })
                .collect();
            let started = Instant::now();
            engine.batch(&items);
            lat.push(started.elapsed());
        }
        lat
    });
    // Report keys per second.
    Run {
        ops_per_sec: run.ops_per_sec * s.batch_len as f64,
        p99: run.p99,
    }
}

/// The p50 of a 4 KiB append + `fdatasync` in `dir`, measured now.
fn fsync_p50(dir: &Path, rounds: usize) -> Duration {
    let path = dir.join("fsync-probe");
    let mut file: File = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .expect("probe file");
    let block = [0u8; 4096];
    let lat: Vec<Duration> = (0..rounds)
        .map(|_| {
            let started = Instant::now();
            file.write_all(&block).expect("write");
            file.sync_data().expect("fdatasync");
            started.elapsed()
        })
        .collect();
    percentile(lat, 0.5)
}

// ------------------------------------------------------------ reporting

fn fmt_rate(r: f64) -> String {
    if r >= 1e6 {
        format!("{:.2} M/s", r / 1e6)
    } else if r >= 1e3 {
        format!("{:.1} k/s", r / 1e3)
    } else {
        format!("{r:.0} /s")
    }
}

fn fmt_dur(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us >= 1000.0 {
        format!("{:.2} ms", us / 1000.0)
    } else {
        format!("{us:.1} µs")
    }
}

/// Prints one row: a figure per engine, and each of ours as a ratio to
/// fjall (above 1 is better for a rate, below 1 is better for a latency).
fn row(label: &str, figures: &[(Kind, Run)], latency: bool) {
    let fjall = figures
        .iter()
        .find(|(k, _)| *k == Kind::Fjall)
        .map(|(_, r)| r);
    let mut line = format!("{label:<12}");
    for (kind, run) in figures {
        let (shown, ratio) = if latency {
            (
                fmt_dur(run.p99),
                fjall.map(|f| run.p99.as_secs_f64() / f.p99.as_secs_f64().max(1e-12)),
            )
        } else {
            (
                fmt_rate(run.ops_per_sec),
                fjall.map(|f| run.ops_per_sec / f.ops_per_sec),
            )
        };
        match (kind, ratio) {
            (Kind::Fjall, _) | (_, None) => line += &format!(" | {shown:>11}"),
            (_, Some(x)) => line += &format!(" | {shown:>11} ({x:>5.2}x)"),
        }
    }
    println!("{line}");
}

fn header(title: &str, durability: &str, latency: bool) {
    let unit = if latency {
        "p99 latency (ratio to fjall: below 1 is better)"
    } else {
        "throughput (ratio to fjall: above 1 is better)"
    };
    println!("\n{title}  [{durability}; {unit}]");
    println!(
        "{:<12} | {:>20} | {:>20} | {:>11}",
        "threads", "Locked", "SingleWriter", "fjall 3"
    );
}

// ------------------------------------------------------------ criterion

fn bench_gets(c: &mut Criterion, root: &Path, s: Sizes) {
    let mut group = c.benchmark_group("get (preloaded, 1 thread)");
    for kind in KINDS {
        let dir = root.join(format!("criterion-{}", kind.name().replace(' ', "-")));
        let engine = kind.open(&dir, false);
        for i in 0..s.preload {
            engine.put(&key(b'k', i), &value(i));
        }
        engine.settle();
        let mut rng = Xs(42);
        group.bench_function(kind.name(), |b| {
            b.iter(|| engine.get(&key(b'k', rng.below(s.preload))))
        });
    }
    group.finish();
}

// ------------------------------------------------------------ main

fn main() {
    let quick = std::env::args().any(|a| a == "--test");
    let s = Sizes::new(quick);
    let root = tempfile::tempdir().expect("a temporary directory on disk");

    let mut criterion = Criterion::default().configure_from_args();
    bench_gets(&mut criterion, root.path(), s);
    criterion.final_summary();

    let fsync = fsync_p50(root.path(), if quick { 10 } else { 200 });
    println!(
        "\nEngines: our store with the Locked and the SingleWriter write path, and fjall 3 (default \
         options), each in a fresh directory under {}.",
        root.path().display()
    );
    println!(
        "Keys 16 B, values {VALUE_LEN} B. fsync (4 KiB append + fdatasync) p50 in this run: {}.",
        fmt_dur(fsync)
    );

    // Non-durable rows share one store per engine: preloaded keys for the
    // reads, fresh keys for the puts.
    let kernel = "every write reaches the kernel before it returns, no fsync";
    let engines: Vec<(Kind, Arc<dyn Engine>)> = KINDS
        .iter()
        .map(|&kind| {
            let dir = root
                .path()
                .join(format!("kernel-{}", kind.name().replace(' ', "-")));
            let engine = kind.open(&dir, false);
            for i in 0..s.preload {
                engine.put(&key(b'k', i), &value(i));
            }
            engine.settle();
            (kind, engine)
        })
        .collect();

    let mut put_runs: Vec<(usize, Vec<(Kind, Run)>)> = Vec::new();
    for (round, &t) in THREADS.iter().enumerate() {
        let runs = engines
            .iter()
            .map(|(kind, e)| (*kind, put_parallel(e.as_ref(), t, s.puts, round)))
            .collect();
        put_runs.push((t, runs));
    }
    header(
        "put (1 thread = single-thread put; more = parallel put)",
        kernel,
        false,
    );
    for (t, runs) in &put_runs {
        row(&t.to_string(), runs, false);
    }
    header("put latency under parallel put load", kernel, true);
    for (t, runs) in &put_runs {
        row(&t.to_string(), runs, true);
    }

    header(
        &format!(
            "get while writing ({} preloaded keys, 1 extra writer thread)",
            s.preload
        ),
        kernel,
        false,
    );
    for &t in &THREADS {
        let runs: Vec<(Kind, Run)> = engines
            .iter()
            .map(|(kind, e)| (*kind, get_while_writing(e.as_ref(), t, s)))
            .collect();
        row(&t.to_string(), &runs, false);
    }

    let mut mixed_runs = Vec::new();
    for &t in &THREADS {
        let runs: Vec<(Kind, Run)> = engines
            .iter()
            .map(|(kind, e)| (*kind, mixed(e.as_ref(), t, s)))
            .collect();
        mixed_runs.push((t, runs));
    }
    header("mixed 80% get / 20% put", kernel, false);
    for (t, runs) in &mixed_runs {
        row(&t.to_string(), runs, false);
    }
    header("mixed 80/20, latency of one operation", kernel, true);
    for (t, runs) in &mixed_runs {
        row(&t.to_string(), runs, true);
    }
    drop(engines);

    // Durable rows: a fresh store per engine, fsync per write or batch.
    let durable = "fdatasync before every write or batch returns";
    let engines: Vec<(Kind, Arc<dyn Engine>)> = KINDS
        .iter()
        .map(|&kind| {
            let dir = root
                .path()
                .join(format!("durable-{}", kind.name().replace(' ', "-")));
            (kind, kind.open(&dir, true))
        })
        .collect();
    header(
        &format!("batched put ({} puts per batch; keys/s)", s.batch_len),
        durable,
        false,
    );
    for (round, &t) in THREADS.iter().enumerate() {
        let runs: Vec<(Kind, Run)> = engines
            .iter()
            .map(|(kind, e)| (*kind, batched(e.as_ref(), t, s, round)))
            .collect();
        row(&t.to_string(), &runs, false);
    }
    let mut durable_runs = Vec::new();
    for (round, &t) in THREADS.iter().enumerate() {
        let runs: Vec<(Kind, Run)> = engines
            .iter()
            .map(|(kind, e)| {
                (
                    *kind,
                    put_parallel(e.as_ref(), t, s.durable_puts, 8 + round),
                )
            })
            .collect();
        durable_runs.push((t, runs));
    }
    header("durable put (one put per commit)", durable, false);
    for (t, runs) in &durable_runs {
        row(&t.to_string(), runs, false);
    }
    header("durable put latency", durable, true);
    for (t, runs) in &durable_runs {
        row(&t.to_string(), runs, true);
    }
    println!(
        "\nfsync p50 measured in this run: {} (the durable rows are bounded by it).",
        fmt_dur(fsync)
    );
}
