//! Random lookups of 64-byte records by id in a page-cached file: through
//! the map (`FixedRecords::get`) and, for comparison, with one `pread` per
//! lookup (`FileExt::read_exact_at`).
//!
//! ```sh
//! cargo bench -p mmap-files-solution --bench lookup            # criterion, then percentiles
//! cargo bench -p mmap-files-solution --bench lookup -- --test  # a quick smoke run
//! ```
//!
//! The file holds 4 Mi records (256 MiB; 16 Ki records under `--test`). It
//! is written, read once (so every page is in the page cache) and every page
//! of the map is touched once (so the measured lookups take no page faults).
//! A lookup reads the whole record: it sums its eight `u64` words.
//!
//! After criterion's report, every lookup of a long random sequence is timed
//! on its own with `Instant`, the two methods alternating in blocks, and the
//! p50 and p99 of each are printed with the target (p50 < 1 µs for mmap)
//! and the ratio pread p50 / mmap p50. The cost of reading the clock twice
//! is measured too and printed beside them; it is included in every figure,
//! so the figures are upper bounds.

use std::fs::{self, File};
use std::hint::black_box;
use std::io::{BufWriter, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::time::{Duration, Instant};

use criterion::Criterion;
use mmap_files::FixedRecords;

const SIZE: usize = 64;

/// Record `id`: its id in the first word, then words derived from it.
fn record_for(id: u64) -> [u8; SIZE] {
    let mut record = [0u8; SIZE];
    for (i, word) in record.chunks_exact_mut(8).enumerate() {
        word.copy_from_slice(&(id.wrapping_mul(0x9E37_79B9) ^ i as u64).to_le_bytes());
    }
    record[..8].copy_from_slice(&id.to_le_bytes());
    record
}

/// What a lookup computes from a record: the sum of its eight words.
fn digest(record: &[u8; SIZE]) -> u64 {
    record.as_chunks::<8>().0.iter().fold(0u64, |sum, word| {
        sum.wrapping_add(u64::from_le_bytes(*word))
    })
}

fn write_file(path: &Path, count: u64) {
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path).expect("create the file"));
    for id in 0..count {
        out.write_all(&record_for(id)).expect("write a record");
    }
    out.flush().expect("flush the file");
}

/// Reads the whole file once, so that every page is in the page cache.
fn warm_page_cache(path: &Path) {
    let mut file = File::open(path).expect("open the file");
    let mut buf = vec![0u8; 1 << 20];
    while file.read(&mut buf).expect("read the file") > 0 {}
}

/// SplitMix64: the random ids.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

fn mmap_lookup(records: &FixedRecords<SIZE>, id: u64) -> u64 {
    digest(records.get(id).expect("the id exists"))
}

fn pread_lookup(file: &File, id: u64) -> u64 {
    let mut record = [0u8; SIZE];
    file.read_exact_at(&mut record, id * SIZE as u64)
        .expect("pread a record");
    digest(&record)
}

fn criterion_benches(c: &mut Criterion, records: &FixedRecords<SIZE>, file: &File, count: u64) {
    let mut group = c.benchmark_group("random_lookup_64B");
    let mut rng = Rng(1);
    group.bench_function("mmap", |b| {
        b.iter(|| mmap_lookup(records, black_box(rng.next() % count)))
    });
    let mut rng = Rng(2);
    group.bench_function("pread", |b| {
        b.iter(|| pread_lookup(file, black_box(rng.next() % count)))
    });
    group.finish();
}

/// The `p`-th percentile of sorted samples.
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() - 1) as f64 * p / 100.0).round() as usize;
    sorted[index]
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// Times `lookups` lookups of each method one by one and prints percentiles.
fn percentile_report(records: &FixedRecords<SIZE>, file: &File, count: u64, lookups: usize) {
    const BLOCK: usize = 1000;
    let mut rng = Rng(3);
    let (mut mmap, mut pread, mut clock) = (Vec::new(), Vec::new(), Vec::new());
    let mut check = 0u64;
    while mmap.len() < lookups {
        for _ in 0..BLOCK {
            let id = rng.next() % count;
            let start = Instant::now();
            check = check.wrapping_add(black_box(mmap_lookup(records, black_box(id))));
            mmap.push(start.elapsed());
        }
        for _ in 0..BLOCK {
            let id = rng.next() % count;
            let start = Instant::now();
            check = check.wrapping_add(black_box(pread_lookup(file, black_box(id))));
            pread.push(start.elapsed());
        }
        for _ in 0..BLOCK / 10 {
            let start = Instant::now();
            clock.push(black_box(start).elapsed());
        }
    }
    black_box(check);
    for samples in [&mut mmap, &mut pread, &mut clock] {
        samples.sort_unstable();
    }
    let (m50, m99) = (percentile(&mmap, 50.0), percentile(&mmap, 99.0));
    let (p50, p99) = (percentile(&pread, 50.0), percentile(&pread, 99.0));
    let c50 = percentile(&clock, 50.0);
    println!();
    println!(
        "random 64-byte lookups in a page-cached file of {count} records ({} MiB), {} timed one by one per method:",
        (count * SIZE as u64) >> 20,
        mmap.len()
    );
    println!(
        "  mmap  (FixedRecords::get): p50 lookup: {:.3} µs, p99 {:.3} µs (target p50 < 1 µs){}",
        micros(m50),
        micros(m99),
        if m50 < Duration::from_micros(1) {
            ""
        } else {
            "  TARGET MISSED"
        }
    );
    println!(
        "  pread (read_exact_at):     p50 lookup: {:.3} µs, p99 {:.3} µs",
        micros(p50),
        micros(p99)
    );
    println!(
        "  ratio pread / mmap at p50: {:.1}x; at p99: {:.1}x",
        p50.as_secs_f64() / m50.as_secs_f64(),
        p99.as_secs_f64() / m99.as_secs_f64()
    );
    println!(
        "  (each figure includes reading the clock twice: p50 {:.3} µs)",
        micros(c50)
    );
}

fn main() {
    let smoke = std::env::args().any(|a| a == "--test");
    let count: u64 = if smoke { 16 << 10 } else { 4 << 20 };
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let path = dir.path().join("records.dat");
    write_file(&path, count);
    warm_page_cache(&path);
    let records = FixedRecords::<SIZE>::open(&path).expect("map the file");
    // Touch every page of the map once, so no measured lookup faults.
    let per_page = (mmap_files::page_size() / SIZE) as u64;
    let warm: u64 = (0..count)
        .step_by(per_page as usize)
        .map(|id| mmap_lookup(&records, id))
        .fold(0, u64::wrapping_add);
    black_box(warm);
    let file = File::open(&path).expect("open the file for pread");
    assert_eq!(
        mmap_lookup(&records, count - 1),
        pread_lookup(&file, count - 1),
        "both methods read the same record"
    );

    let mut c = Criterion::default().configure_from_args();
    criterion_benches(&mut c, &records, &file, count);
    c.final_summary();
    percentile_report(&records, &file, count, if smoke { 2_000 } else { 500_000 });
    drop(records);
    let _ = fs::remove_file(&path);
}
