//! WAL append throughput without sync, as a ratio to a plain sequential
//! write of the same bytes through a `BufWriter`.
//!
//! ```sh
//! cargo bench -p wal-solution --bench append            # criterion, then the ratio
//! cargo bench -p wal-solution --bench append -- --test  # a quick smoke run
//! ```
//!
//! Both sides write the same records (header and payload) to a file in the
//! temporary directory, through a `BufWriter` with the default 8 KiB buffer,
//! and flush at the end; neither syncs. The WAL side also computes each
//! record's CRC and writes header and payload as two `write_all` calls; the
//! plain side writes bytes that were encoded beforehand, one record at a time.
//! After criterion's own report, the two are timed in alternation, round
//! after round, and the median of the rounds' ratios is printed (target: at
//! least 0.7).
//!
//! It also prices the file-system seam (`simfs`): the plain write, once
//! through a `BufWriter<File>` from `std::fs` and once through a
//! `BufWriter<Box<dyn FsFile>>` from `RealFs`, timed the same way. The WAL
//! itself only uses the seam, so this is the seam's cost on the same bytes
//! (target: at most 2%).

use std::fs::{self, OpenOptions};
use std::hint::black_box;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput};
use simfs::{Fs, RealFs};
use wal::{Wal, encode_into};

/// Payload sizes measured: small, typical and large log records.
const PAYLOAD_LENS: [usize; 3] = [64, 256, 4096];
/// Bytes written per measured run, whatever the record size.
const BYTES_PER_RUN: usize = 4 << 20;

/// The records of one run: their payloads, and the same records encoded.
struct Workload {
    payloads: Vec<Vec<u8>>,
    encoded: Vec<Vec<u8>>,
    bytes: u64,
}

impl Workload {
    fn new(payload_len: usize, total: usize) -> Self {
        let count = (total / (payload_len + wal::HEADER_LEN)).max(1);
        let payloads: Vec<Vec<u8>> = (0..count)
            .map(|i| (0..payload_len).map(|j| (i * 31 + j) as u8).collect())
            .collect();
        let encoded: Vec<Vec<u8>> = payloads
            .iter()
            .zip(1..)
            .map(|(p, lsn)| {
                let mut out = Vec::new();
                encode_into(lsn, p, &mut out).expect("payloads are small");
                out
            })
            .collect();
        let bytes = encoded.iter().map(|r| r.len() as u64).sum();
        Self {
            payloads,
            encoded,
            bytes,
        }
    }
}

/// Empties the file at `path`, creating it if needed.
fn empty_file(path: &Path) {
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .expect("create the benchmark file");
}

/// Appends every payload to a fresh log, then drops it (which flushes).
fn wal_run(path: &Path, work: &Workload) {
    empty_file(path);
    let mut wal = Wal::open(path).expect("open the log");
    for payload in &work.payloads {
        black_box(wal.append(payload).expect("append"));
    }
    drop(wal);
}

/// Writes the pre-encoded records to a fresh file through a BufWriter.
fn plain_run(path: &Path, work: &Workload) {
    empty_file(path);
    let file = OpenOptions::new()
        .append(true)
        .open(path)
        .expect("open the file");
    let mut out = BufWriter::new(file);
    for record in &work.encoded {
        out.write_all(record).expect("write");
    }
    out.flush().expect("flush");
}

/// The same as [`plain_run`], through the seam: `RealFs` and a boxed file.
fn seam_run(path: &Path, work: &Workload) {
    empty_file(path);
    let file = RealFs
        .open(path, simfs::OpenOptions::new().append(true))
        .expect("open the file");
    let mut out = BufWriter::new(file);
    for record in &work.encoded {
        out.write_all(record).expect("write");
    }
    out.flush().expect("flush");
}

fn criterion_benches(c: &mut Criterion, dir: &Path) {
    let wal_path = dir.join("wal.log");
    let plain_path = dir.join("plain.dat");
    let mut group = c.benchmark_group("append_no_sync");
    for len in PAYLOAD_LENS {
        let work = Workload::new(len, BYTES_PER_RUN);
        group.throughput(Throughput::Bytes(work.bytes));
        group.bench_with_input(BenchmarkId::new("wal", len), &work, |b, work| {
            b.iter_batched(
                || empty_file(&wal_path),
                |()| wal_run(&wal_path, work),
                BatchSize::PerIteration,
            );
        });
        group.bench_with_input(
            BenchmarkId::new("plain_bufwriter", len),
            &work,
            |b, work| {
                b.iter_batched(
                    || empty_file(&plain_path),
                    |()| plain_run(&plain_path, work),
                    BatchSize::PerIteration,
                );
            },
        );
        group.bench_with_input(BenchmarkId::new("plain_seam", len), &work, |b, work| {
            b.iter_batched(
                || empty_file(&plain_path),
                |()| seam_run(&plain_path, work),
                BatchSize::PerIteration,
            );
        });
    }
    group.finish();
}

/// Times `run` once.
fn time(run: impl Fn()) -> Duration {
    let start = Instant::now();
    run();
    start.elapsed()
}

fn median<T: PartialOrd + Copy>(mut samples: Vec<T>) -> T {
    samples.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
    samples[samples.len() / 2]
}

/// Times `a` and `b` in alternation, `rounds` times, and returns their
/// median times and the median of each round's `b / a` time ratio.
fn alternate(rounds: usize, a: impl Fn(), b: impl Fn()) -> (Duration, Duration, f64) {
    let (mut a_times, mut b_times) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        // Alternate which side goes first, so neither always follows the other.
        if round % 2 == 0 {
            a_times.push(time(&a));
            b_times.push(time(&b));
        } else {
            b_times.push(time(&b));
            a_times.push(time(&a));
        }
    }
    // Each round's two runs are neighbours in time, so their ratio is
    // little disturbed by whatever else the machine is doing.
    let ratios: Vec<f64> = a_times
        .iter()
        .zip(&b_times)
        .map(|(a, b)| b.as_secs_f64() / a.as_secs_f64())
        .collect();
    (median(a_times), median(b_times), median(ratios))
}

/// Times the seam against `std::fs` on the same writes and prints its cost.
fn seam_report(dir: &Path, rounds: usize) {
    let path = dir.join("seam.dat");
    println!();
    println!(
        "The seam's cost: the same pre-encoded records through BufWriter<Box<dyn FsFile>> \
         (RealFs) vs BufWriter<File> (std::fs), {rounds} rounds:"
    );
    for len in PAYLOAD_LENS {
        let work = Workload::new(len, BYTES_PER_RUN);
        let (seam, plain, ratio) = alternate(
            rounds,
            || seam_run(&path, &work),
            || plain_run(&path, &work),
        );
        let mb_s = |d: Duration| work.bytes as f64 / d.as_secs_f64() / 1e6;
        let cost = (1.0 - ratio) * 100.0;
        println!(
            "  payload {len:>5} B: seam {:>6.0} MB/s, std::fs {:>6.0} MB/s, seam costs {cost:+.1}% (target <= 2%){}",
            mb_s(seam),
            mb_s(plain),
            if cost <= 2.0 { "" } else { "  ABOVE TARGET" }
        );
    }
}

/// Times the two sides in alternation and prints their throughputs and ratio.
fn ratio_report(dir: &Path, rounds: usize) {
    // One file for both sides, so neither gets a warmer or a colder file.
    let path = dir.join("ratio.dat");
    println!();
    println!(
        "WAL append without sync vs plain BufWriter of the same bytes, {rounds} rounds \
         (throughput: medians; ratio: median of each round's plain time / WAL time):"
    );
    for len in PAYLOAD_LENS {
        let work = Workload::new(len, BYTES_PER_RUN);
        let (wal, plain, ratio) =
            alternate(rounds, || wal_run(&path, &work), || plain_run(&path, &work));
        let mb_s = |d: Duration| work.bytes as f64 / d.as_secs_f64() / 1e6;
        println!(
            "  payload {len:>5} B: wal {:>6.0} MB/s, plain {:>6.0} MB/s, ratio {ratio:.2} (target >= 0.70){}",
            mb_s(wal),
            mb_s(plain),
            if ratio >= 0.7 { "" } else { "  BELOW TARGET" }
        );
    }
}

fn main() {
    let smoke = std::env::args().any(|a| a == "--test");
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let mut c = Criterion::default().configure_from_args();
    criterion_benches(&mut c, dir.path());
    c.final_summary();
    ratio_report(dir.path(), if smoke { 3 } else { 41 });
    seam_report(dir.path(), if smoke { 3 } else { 101 });
    let _ = fs::remove_dir_all(PathBuf::from(dir.path()));
}
