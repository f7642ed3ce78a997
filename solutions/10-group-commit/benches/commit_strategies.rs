//! Durable commits per second at 1, 8, 64 and 128 writers, for three ways
//! of making a log durable:
//!
//! - `per-write`: every write syncs under one lock ([`SyncPerWrite`]);
//! - `periodic`: writes return at once and a background thread syncs every
//!   10 ms. It is **not durable at acknowledgement**: a crash loses up to
//!   10 ms of acknowledged writes. It is here as the upper bound that group
//!   commit tries to approach *without* giving up durability;
//! - `group`: [`GroupCommit`].
//!
//! Everything runs twice: once on a real file with `fdatasync`
//! ([`FileSyncer`]), and once with an injected syncer that sleeps for 1 ms
//! (the seed's method: stable, and the ideal group-commit speed-up at N
//! writers is N). At the end it prints every throughput, the ratio
//! group / per-write, and the sync latency measured in this run.
//!
//! ```sh
//! cargo bench -p group-commit-solution --bench commit_strategies
//! cargo bench -p group-commit-solution --bench commit_strategies -- 'sleep-1ms/group'
//! ```

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};
use group_commit::{Config, FileSyncer, GroupCommit, SyncPerWrite, Syncer};
use simfs::{Fs, OpenOptions, RealFs};

const WRITERS: [usize; 4] = [1, 8, 64, 128];
const PAYLOAD: [u8; 100] = [0x5a; 100];
/// The periodic strategy's sync interval.
const PERIODIC_INTERVAL: Duration = Duration::from_millis(10);

// ---------------------------------------------------------------- syncers

/// Which syncer a run uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Disk {
    /// `File::sync_data` on a file in a temporary directory.
    Fsync,
    /// A syncer that sleeps for 1 ms.
    Sleep1ms,
}

impl Disk {
    fn name(self) -> &'static str {
        match self {
            Disk::Fsync => "fsync",
            Disk::Sleep1ms => "sleep-1ms",
        }
    }
}

/// Latencies of every sync call of one run, shared with the syncers.
#[derive(Default, Clone)]
struct Latencies(Arc<Mutex<Vec<Duration>>>);

impl Latencies {
    fn record(&self, d: Duration) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(d);
    }

    fn percentiles(&self) -> Option<(Duration, Duration, usize)> {
        let mut all = self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if all.is_empty() {
            return None;
        }
        all.sort_unstable();
        let at = |q: f64| all[((all.len() - 1) as f64 * q) as usize];
        Some((at(0.5), at(0.99), all.len()))
    }
}

/// Wraps a syncer and records how long each call takes.
struct Timed {
    inner: Box<dyn Syncer>,
    latencies: Latencies,
}

impl Syncer for Timed {
    fn sync(&mut self) -> io::Result<()> {
        let start = Instant::now();
        let result = self.inner.sync();
        self.latencies.record(start.elapsed());
        result
    }
}

/// A syncer that takes 1 ms and touches no disk.
fn sleep_1ms() -> io::Result<()> {
    thread::sleep(Duration::from_millis(1));
    Ok(())
}

/// A sink and a syncer for `disk`; the file (if any) lives in `dir`.
fn open(
    disk: Disk,
    dir: &Path,
    latencies: &Latencies,
) -> io::Result<(Box<dyn Write + Send>, Timed)> {
    let (sink, syncer): (Box<dyn Write + Send>, Box<dyn Syncer>) = match disk {
        Disk::Fsync => {
            let file = RealFs.open(
                &dir.join("bench.wal"),
                OpenOptions::new().write(true).create(true).truncate(true),
            )?;
            let syncer = FileSyncer::new(&*file)?;
            (Box::new(file), Box::new(syncer))
        }
        Disk::Sleep1ms => (Box::new(io::sink()), Box::new(sleep_1ms)),
    };
    let timed = Timed {
        inner: syncer,
        latencies: latencies.clone(),
    };
    Ok((sink, timed))
}

// ---------------------------------------------------------------- strategies

/// A log the writers can commit to.
trait Log: Send + Sync {
    fn commit(&self, payload: &[u8]);
}

impl Log for SyncPerWrite {
    fn commit(&self, payload: &[u8]) {
        self.write(payload).expect("the disk works");
    }
}

impl Log for GroupCommit {
    fn commit(&self, payload: &[u8]) {
        self.write(payload).expect("the disk works");
    }
}

/// Writes return as soon as the bytes are in the page cache; a background
/// thread syncs every [`PERIODIC_INTERVAL`]. NOT durable at ack.
struct Periodic {
    sink: Mutex<(Box<dyn Write + Send>, u64, Vec<u8>)>,
    stop: Arc<AtomicBool>,
    syncer: Option<JoinHandle<()>>,
}

impl Periodic {
    fn new(sink: Box<dyn Write + Send>, mut syncer: impl Syncer) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let syncer = thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                thread::sleep(PERIODIC_INTERVAL);
                syncer.sync().expect("the disk works");
            }
        });
        Self {
            sink: Mutex::new((sink, 0, Vec::new())),
            stop,
            syncer: Some(syncer),
        }
    }
}

impl Log for Periodic {
    fn commit(&self, payload: &[u8]) {
        let mut guard = self.sink.lock().unwrap_or_else(PoisonError::into_inner);
        let (sink, lsn, buf) = &mut *guard;
        *lsn += 1;
        buf.clear();
        group_commit::encode_record(buf, group_commit::Lsn(*lsn), payload);
        sink.write_all(buf).expect("the disk works");
    }
}

impl Drop for Periodic {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.syncer.take() {
            let _ = h.join();
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Strategy {
    PerWrite,
    Periodic,
    Group,
}

impl Strategy {
    fn name(self) -> &'static str {
        match self {
            Strategy::PerWrite => "per-write",
            Strategy::Periodic => "periodic",
            Strategy::Group => "group",
        }
    }

    fn build(self, disk: Disk, dir: &Path, latencies: &Latencies) -> io::Result<Arc<dyn Log>> {
        let (sink, syncer) = open(disk, dir, latencies)?;
        Ok(match self {
            Strategy::PerWrite => Arc::new(SyncPerWrite::new(sink, syncer)),
            Strategy::Periodic => Arc::new(Periodic::new(sink, syncer)),
            Strategy::Group => Arc::new(
                GroupCommit::new(sink, syncer, Config::default()).map_err(io::Error::other)?,
            ),
        })
    }
}

// ---------------------------------------------------------------- writers

/// `n` writer threads that commit on command and report when done, so
/// that criterion's samples do not pay for spawning threads.
struct Writers {
    orders: Vec<Sender<u64>>,
    done: Receiver<()>,
    threads: Vec<JoinHandle<()>>,
}

impl Writers {
    fn start(n: usize, log: &Arc<dyn Log>) -> Self {
        let (done_tx, done) = mpsc::channel();
        let mut orders = Vec::new();
        let mut threads = Vec::new();
        for _ in 0..n {
            let (tx, rx) = mpsc::channel::<u64>();
            let log = Arc::clone(log);
            let done_tx = done_tx.clone();
            threads.push(thread::spawn(move || {
                for count in rx {
                    for _ in 0..count {
                        log.commit(&PAYLOAD);
                    }
                    if done_tx.send(()).is_err() {
                        return;
                    }
                }
            }));
            orders.push(tx);
        }
        Self {
            orders,
            done,
            threads,
        }
    }

    /// Every writer commits `each` times; returns the wall time.
    fn run(&self, each: u64) -> Duration {
        let start = Instant::now();
        for tx in &self.orders {
            tx.send(each).expect("writer alive");
        }
        for _ in &self.orders {
            self.done.recv().expect("writer alive");
        }
        start.elapsed()
    }

    fn stop(self) {
        drop(self.orders);
        for t in self.threads {
            let _ = t.join();
        }
    }
}

// ---------------------------------------------------------------- the benchmark

/// Commits and wall time per (disk, strategy, writers), over every
/// measurement criterion made (warm-up included).
type Tally = BTreeMap<(Disk, usize, Strategy), (u64, Duration)>;

fn bench_disk(
    c: &mut Criterion,
    disk: Disk,
    tally: &mut Tally,
    latencies: &mut Vec<(Disk, Strategy, Latencies)>,
) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut group = c.benchmark_group(disk.name());
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    for strategy in [Strategy::PerWrite, Strategy::Periodic, Strategy::Group] {
        let lat = Latencies::default();
        for &n in &WRITERS {
            let log = strategy
                .build(disk, dir.path(), &lat)
                .expect("open the log");
            let writers = Writers::start(n, &log);
            // One iteration: every writer commits once.
            group.throughput(Throughput::Elements(n as u64));
            group.bench_function(BenchmarkId::new(strategy.name(), n), |b| {
                b.iter_custom(|iters| {
                    let elapsed = writers.run(iters);
                    let entry = tally.entry((disk, n, strategy)).or_default();
                    entry.0 += iters * n as u64;
                    entry.1 += elapsed;
                    elapsed
                });
            });
            writers.stop();
            drop(log);
        }
        latencies.push((disk, strategy, lat));
    }
    group.finish();
}

/// The p50 and p99 of a 4 KiB append plus `sync_data`, on an otherwise idle
/// log file.
fn fsync_probe(rounds: usize) -> io::Result<(Duration, Duration)> {
    let dir = tempfile::tempdir()?;
    let mut file = File::create(dir.path().join("probe"))?;
    let block = [0u8; 4096];
    let mut all = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let start = Instant::now();
        file.write_all(&block)?;
        file.sync_data()?;
        all.push(start.elapsed());
    }
    all.sort_unstable();
    Ok((all[rounds / 2], all[rounds * 99 / 100]))
}

fn rate(entry: Option<&(u64, Duration)>) -> Option<f64> {
    entry.map(|&(n, d)| n as f64 / d.as_secs_f64())
}

fn report(
    tally: &Tally,
    latencies: &[(Disk, Strategy, Latencies)],
    probe: Option<(Duration, Duration)>,
) {
    println!();
    println!("durable commits/s (mean over every sample of this run, warm-up included)");
    println!("periodic = write returns before any sync: NOT durable at ack, an upper bound");
    for disk in [Disk::Fsync, Disk::Sleep1ms] {
        println!();
        println!(
            "{:<10} {:>8} {:>14} {:>14} {:>14} {:>12}",
            disk.name(),
            "writers",
            "per-write",
            "periodic*",
            "group",
            "group/per-write"
        );
        for &n in &WRITERS {
            let get = |s| rate(tally.get(&(disk, n, s)));
            let (pw, pe, gr) = (
                get(Strategy::PerWrite),
                get(Strategy::Periodic),
                get(Strategy::Group),
            );
            let fmt = |r: Option<f64>| r.map_or_else(|| "-".to_owned(), |r| format!("{r:.0}"));
            let ratio = match (gr, pw) {
                (Some(g), Some(p)) if p > 0.0 => format!("{:.1}x", g / p),
                _ => "-".to_owned(),
            };
            println!(
                "{:<10} {:>8} {:>14} {:>14} {:>14} {:>12}",
                "",
                n,
                fmt(pw),
                fmt(pe),
                fmt(gr),
                ratio
            );
        }
    }
    println!();
    println!("sync latency measured during this run (every call of the injected syncer):");
    for (disk, strategy, lat) in latencies {
        if let Some((p50, p99, n)) = lat.percentiles() {
            println!(
                "  {:<10} {:<10} p50 {:>8.3} ms  p99 {:>8.3} ms  ({n} syncs)",
                disk.name(),
                strategy.name(),
                p50.as_secs_f64() * 1e3,
                p99.as_secs_f64() * 1e3
            );
        }
    }
    if let Some((p50, p99)) = probe {
        println!(
            "  idle probe: 4 KiB append + sync_data p50 {:.3} ms, p99 {:.3} ms \
             (this disk: about 0.2 ms idle, up to 4 ms under load)",
            p50.as_secs_f64() * 1e3,
            p99.as_secs_f64() * 1e3
        );
    }
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    let smoke = std::env::args().any(|a| a == "--test");
    let probe = if smoke { None } else { fsync_probe(200).ok() };
    let mut tally = Tally::new();
    let mut latencies = Vec::new();
    for disk in [Disk::Fsync, Disk::Sleep1ms] {
        bench_disk(&mut criterion, disk, &mut tally, &mut latencies);
    }
    if smoke {
        println!("\n(--test: every benchmark ran once; the numbers below mean nothing)");
    }
    report(&tally, &latencies, probe);
    criterion.final_summary();
}
