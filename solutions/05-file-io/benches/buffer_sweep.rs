//! How the `BufWriter` capacity sets the number of `write` system calls, and
//! what that costs: a sweep from 64 B to 1 MiB.
//!
//! ```sh
//! cargo bench -p file-io-solution --bench buffer_sweep            # criterion, then the sweep
//! cargo bench -p file-io-solution --bench buffer_sweep -- --test  # a quick smoke run
//! ```
//!
//! Every run writes the same 16 MiB (1 MiB under `--test`) as 16-byte
//! records with `write_through_buffer` into a file in the temporary
//! directory; only the buffer's capacity changes. The file is rewritten in
//! place, so its pages stay in the page cache and the runs measure system
//! calls and copying, not the disk. The sweep prints, per capacity, the
//! write calls (counted by `CountingWriter`), the median throughput, and
//! the knee: the smallest capacity within 10% of the best throughput.

use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom};
use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput};
use file_io::{WriteCounts, write_through_buffer};

/// The size of every record.
const RECORD: usize = 16;

/// Capacities swept: powers of two from 64 B to 1 MiB.
fn capacities() -> impl Iterator<Item = usize> {
    (6..=20).map(|shift| 1usize << shift)
}

fn open_target(path: &Path) -> File {
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .expect("open the target file")
}

/// Writes `total` bytes of records through a buffer of `capacity` bytes,
/// from the start of `file`.
fn run(file: &File, capacity: usize, total: usize) -> WriteCounts {
    let mut f = file;
    f.seek(SeekFrom::Start(0)).expect("rewind");
    let record = [b'r'; RECORD];
    let (_, counts) = write_through_buffer(f, capacity, (0..total / RECORD).map(|_| &record[..]))
        .expect("write_through_buffer");
    counts
}

fn criterion_benches(c: &mut Criterion, file: &File, total: usize) {
    let mut group = c.benchmark_group("bufwriter_capacity");
    group.throughput(Throughput::Bytes(total as u64));
    group.sample_size(10);
    for capacity in [64, 4096, 64 * 1024, 1 << 20] {
        group.bench_with_input(
            BenchmarkId::from_parameter(capacity),
            &capacity,
            |b, &cap| b.iter(|| run(file, cap, total)),
        );
    }
    group.finish();
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn human(bytes: usize) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 => format!("{} KiB", b >> 10),
        b => format!("{b} B"),
    }
}

fn sweep(file: &File, total: usize, rounds: usize) {
    // Warm the file's pages once.
    run(file, 1 << 20, total);
    let mut rows = Vec::new();
    for capacity in capacities() {
        let mut times = Vec::new();
        let mut counts = WriteCounts::default();
        for _ in 0..rounds {
            let start = Instant::now();
            counts = run(file, capacity, total);
            times.push(start.elapsed());
        }
        let t = median(times);
        rows.push((
            capacity,
            counts.writes,
            total as f64 / t.as_secs_f64() / 1e6,
            t,
        ));
    }
    let best = rows.iter().map(|r| r.2).fold(0.0, f64::max);
    let knee = rows
        .iter()
        .find(|r| r.2 >= 0.9 * best)
        .map(|r| r.0)
        .expect("at least one row");
    println!();
    println!(
        "{} written as {RECORD}-byte records through BufWriter::with_capacity(c), median of {rounds} runs:",
        human(total)
    );
    println!(
        "  {:>9}  {:>9}  {:>9}  {:>12}",
        "capacity", "writes", "MB/s", "ns per write"
    );
    for (capacity, writes, mb_s, t) in &rows {
        println!(
            "  {:>9}  {:>9}  {:>9.0}  {:>12.0}{}",
            human(*capacity),
            writes,
            mb_s,
            t.as_nanos() as f64 / *writes as f64,
            if *capacity == knee { "  <- knee" } else { "" }
        );
    }
    let at_64 = rows[0].2;
    println!(
        "  knee: {} (the smallest capacity within 10% of the best, {best:.0} MB/s); \
         64 B reaches {:.0}% of the best",
        human(knee),
        100.0 * at_64 / best
    );
}

fn main() {
    let smoke = std::env::args().any(|a| a == "--test");
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let file = open_target(&dir.path().join("sweep.dat"));
    let total = if smoke { 1 << 20 } else { 16 << 20 };
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    criterion_benches(&mut c, &file, total);
    c.final_summary();
    sweep(&file, total, if smoke { 1 } else { 7 });
}
