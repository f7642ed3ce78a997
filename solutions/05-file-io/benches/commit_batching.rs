//! A sync per record against one commit per batch, with the fsync latency
//! measured in the same run.
//!
//! ```sh
//! cargo bench -p file-io-solution --bench commit_batching            # criterion, then the report
//! cargo bench -p file-io-solution --bench commit_batching -- --test  # a quick smoke run
//! ```
//!
//! `DurableWriter<File>` appends 128-byte records to a file in the
//! temporary directory and commits (flush + `fdatasync`) after every
//! record, every 10 records, or every 100. The report prints the records
//! per second of each, and the latency of a single commit (p50 and p99),
//! which is the disk's `fdatasync` latency plus one small `write`. Batching
//! divides the number of syncs by the batch size, so on a disk where the
//! sync dominates, throughput grows almost in proportion.

use std::fs::File;
use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput};
use file_io::DurableWriter;

/// Bytes per record.
const RECORD: [u8; 128] = [b'c'; 128];

fn writer(path: &Path) -> DurableWriter<File> {
    DurableWriter::new(File::create(path).expect("create the log"))
}

/// Appends `records` records, committing after every `batch` of them, and
/// returns the time each commit took.
fn run(path: &Path, records: usize, batch: usize) -> (Duration, Vec<Duration>) {
    let mut w = writer(path);
    let mut commits = Vec::new();
    let start = Instant::now();
    for i in 1..=records {
        w.append(&RECORD).expect("append");
        if i % batch == 0 || i == records {
            let t = Instant::now();
            w.commit().expect("commit");
            commits.push(t.elapsed());
        }
    }
    (start.elapsed(), commits)
}

fn criterion_benches(c: &mut Criterion, dir: &Path) {
    let path = dir.join("criterion.log");
    let mut group = c.benchmark_group("commit");
    group.sample_size(10);
    for batch in [1usize, 100] {
        group.throughput(Throughput::Elements(batch as u64));
        group.bench_with_input(
            BenchmarkId::new("records_per_commit", batch),
            &batch,
            |b, &n| {
                let mut w = writer(&path);
                b.iter(|| {
                    for _ in 0..n {
                        w.append(&RECORD).expect("append");
                    }
                    w.commit().expect("commit");
                });
            },
        );
    }
    group.finish();
}

fn percentile(mut v: Vec<Duration>, p: f64) -> Duration {
    v.sort();
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn report(dir: &Path, records: usize) {
    let path = dir.join("report.log");
    println!();
    println!(
        "{records} records of {} bytes, DurableWriter<File> in {}:",
        RECORD.len(),
        dir.display()
    );
    let mut per_record_rate = 0.0;
    let mut latencies = Vec::new();
    for batch in [1usize, 10, 100] {
        let (took, commits) = run(&path, records, batch);
        let rate = records as f64 / took.as_secs_f64();
        if batch == 1 {
            per_record_rate = rate;
            latencies = commits.clone();
        }
        println!(
            "  commit every {batch:>3} records: {:>4} syncs, {:>9.0} records/s, {:>6.1}x the sync-per-record rate",
            commits.len(),
            rate,
            rate / per_record_rate
        );
    }
    println!(
        "  commit latency (flush + fdatasync) measured in this run: p50 {:.2} ms, p99 {:.2} ms",
        percentile(latencies.clone(), 0.5).as_secs_f64() * 1e3,
        percentile(latencies, 0.99).as_secs_f64() * 1e3
    );
}

fn main() {
    let smoke = std::env::args().any(|a| a == "--test");
    // The system's temporary directory, on the real disk: /dev/shm would
    // make every sync free.
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    criterion_benches(&mut c, dir.path());
    c.final_summary();
    report(dir.path(), if smoke { 20 } else { 1000 });
}
