//! Batch throughput over 10,000 page-cached files, as a ratio to a plain
//! `cat` of the same files.
//!
//! ```sh
//! cargo bench -p batch-io-solution --bench throughput            # the full run
//! cargo bench -p batch-io-solution --bench throughput -- --test  # a quick smoke run
//! ```
//!
//! The files (10,000 of 100 KiB, about 1 GB, in 100 directories) are
//! written to a temporary directory on the real disk, synced, and read once
//! so that every run finds them in the page cache. Throughput counts INPUT
//! bytes per second. Four ways of reading the same files are compared:
//!
//! - `cat`: `cat` over the file list, 1,000 names per process, stdout to
//!   `/dev/null`, one process after another;
//! - read-all: one thread in this process, `fs::read` of every file;
//! - batch, read-only: `run_batch` with a CRC-32 transform and no output;
//! - batch, with writes: `run_batch` with the CRC-32 transform, writing each
//!   file's 4-byte checksum to an output file of the same relative name.
//!
//! Criterion measures them first on 1,000 of the files. Then all four run
//! over all the files, round after round, in a rotating order; the
//! throughputs are medians, and each ratio to `cat` is the median of the
//! rounds' ratios. Last comes a sweep over K, the files in flight. Nothing
//! is fsynced, so no figure depends on the disk's sync latency, and every
//! writing run writes into a new directory (see `Corpus::fresh_output`).

use std::cell::Cell;
use std::fs;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use batch_io::{BatchConfig, FileResult, Progress, TransformError, run_batch};
use criterion::{BenchmarkId, Criterion, Throughput};

/// The files of the benchmark, and where they are.
struct Corpus {
    input: PathBuf,
    /// Each writing run gets a fresh directory under here: see `fresh_output`.
    outputs: PathBuf,
    runs: Cell<usize>,
    files: Vec<PathBuf>,
    bytes: u64,
}

impl Corpus {
    /// Writes `count` files of `size` bytes under `dir/in`, syncs them, and
    /// reads them once to be sure they are cached.
    fn create(dir: &Path, count: usize, size: usize) -> Self {
        let input = dir.join("in");
        // A cheap generator: the contents differ from file to file, so the
        // checksum has real work to do.
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut block = vec![0u8; size];
        let mut files = Vec::with_capacity(count);
        for i in 0..count {
            for chunk in block.chunks_mut(8) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let bytes = state.to_le_bytes();
                chunk.copy_from_slice(&bytes[..chunk.len()]);
            }
            let rel = PathBuf::from(format!("d{:02}/f{i:05}.bin", i % 100));
            let path = input.join(&rel);
            if i < 100 {
                fs::create_dir_all(path.parent().expect("has a parent")).expect("create a dir");
            }
            fs::write(&path, &block).expect("write an input file");
            files.push(rel);
        }
        // Write the dirty pages out now, so that writeback does not run
        // during the measurements.
        let _ = Command::new("sync").status();
        let corpus = Self {
            outputs: dir.join("out"),
            runs: Cell::new(0),
            input,
            files,
            bytes: (count * size) as u64,
        };
        read_all(&corpus.input, &corpus.files);
        corpus
    }
}

impl Corpus {
    /// A new, empty output directory for one writing run.
    ///
    /// Runs never delete earlier outputs: on this VM's ext4, which has no
    /// journal, the inode allocator skips inodes freed in the last minute
    /// (`recently_deleted` in fs/ext4/ialloc.c), and creating files right
    /// after deleting thousands became several times slower. That would
    /// measure the file system's cleanup, not the batch.
    fn fresh_output(&self) -> PathBuf {
        let run = self.runs.get();
        self.runs.set(run + 1);
        self.outputs.join(run.to_string())
    }
}

/// The transform: the CRC-32 of the input, as 4 bytes.
fn crc(_: &Path, data: &[u8]) -> Result<Vec<u8>, TransformError> {
    Ok(crc32fast::hash(data).to_le_bytes().to_vec())
}

/// `cat` over the files, 1,000 names per process, to /dev/null.
fn cat(input: &Path, files: &[PathBuf]) {
    for chunk in files.chunks(1000) {
        let status = Command::new("cat")
            .current_dir(input)
            .args(chunk)
            .stdout(Stdio::null())
            .status()
            .expect("run cat");
        assert!(status.success(), "cat failed: {status}");
    }
}

/// One thread, `fs::read` of every file.
fn read_all(input: &Path, files: &[PathBuf]) -> u64 {
    let mut total = 0;
    for rel in files {
        total += black_box(fs::read(input.join(rel)).expect("read an input file")).len() as u64;
    }
    total
}

/// The batch; `output` decides whether it writes.
fn batch(input: &Path, output: Option<&Path>, files: &[PathBuf], k: usize) -> Progress {
    let config = BatchConfig {
        input_dir: input.to_path_buf(),
        output_dir: output.map(Path::to_path_buf),
        max_in_flight: k,
    };
    let mut results: Vec<FileResult> = Vec::with_capacity(files.len());
    let totals = run_batch(&config, files, &crc, &mut results).expect("the batch runs");
    assert_eq!(totals.files_failed, 0, "no file may fail: {results:?}");
    totals
}

fn workers() -> usize {
    std::thread::available_parallelism().map_or(2, usize::from)
}

fn criterion_benches(c: &mut Criterion, corpus: &Corpus, count: usize) {
    let files = &corpus.files[..count.min(corpus.files.len())];
    let bytes = corpus.bytes / corpus.files.len() as u64 * files.len() as u64;
    let k = workers();
    let mut group = c.benchmark_group(format!("{}_files", files.len()));
    group.throughput(Throughput::Bytes(bytes));
    group.sample_size(10);
    group.bench_function("cat", |b| b.iter(|| cat(&corpus.input, files)));
    group.bench_function("read_all_1_thread", |b| {
        b.iter(|| read_all(&corpus.input, files))
    });
    group.bench_with_input(BenchmarkId::new("batch_read_only", k), &k, |b, &k| {
        b.iter(|| batch(&corpus.input, None, files, k))
    });
    group.bench_with_input(BenchmarkId::new("batch_with_writes", k), &k, |b, &k| {
        b.iter_batched(
            || corpus.fresh_output(),
            |output| batch(&corpus.input, Some(&output), files, k),
            criterion::BatchSize::PerIteration,
        )
    });
    group.finish();
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn timed(run: impl FnOnce()) -> Duration {
    let start = Instant::now();
    run();
    start.elapsed()
}

/// The four ways, round after round over every file; prints the medians.
fn report(corpus: &Corpus, rounds: usize, smoke: bool) {
    let k = workers();
    let gb_s = |d: Duration| corpus.bytes as f64 / d.as_secs_f64() / 1e9;
    let names = ["cat", "read-all", "batch read-only", "batch with writes"];
    let mut speeds: [Vec<f64>; 4] = Default::default();
    let mut ratios: [Vec<f64>; 4] = Default::default();
    for round in 0..rounds {
        let mut times = [Duration::ZERO; 4];
        for step in 0..4 {
            // Rotate the order, so that no way always follows another.
            let way = (round + step) % 4;
            let output = corpus.fresh_output();
            times[way] = timed(|| match way {
                0 => cat(&corpus.input, &corpus.files),
                1 => {
                    black_box(read_all(&corpus.input, &corpus.files));
                }
                2 => {
                    black_box(batch(&corpus.input, None, &corpus.files, k));
                }
                _ => {
                    black_box(batch(&corpus.input, Some(&output), &corpus.files, k));
                }
            });
        }
        for way in 0..4 {
            speeds[way].push(gb_s(times[way]));
            ratios[way].push(times[0].as_secs_f64() / times[way].as_secs_f64());
        }
    }
    println!();
    println!(
        "{} files x {} KiB = {:.3} GB, page-cached, K = {k} (one per core), {rounds} rounds \
         (throughput: input bytes/s, median; ratio: median of each round's cat time / its time):",
        corpus.files.len(),
        corpus.bytes / corpus.files.len() as u64 / 1024,
        corpus.bytes as f64 / 1e9
    );
    for way in 0..4 {
        let speed = median(speeds[way].clone());
        let ratio = median(ratios[way].clone());
        if way < 2 {
            println!(
                "  {:<18} {speed:>5.2} GB/s, ratio to cat: {ratio:.2}",
                names[way]
            );
        } else {
            println!(
                "  {:<18} throughput: {speed:.2} GB/s (target >= 1 GB/s), ratio to cat: {ratio:.2}{}",
                names[way],
                if smoke {
                    "  (smoke run: files too small and too few for the target)"
                } else if speed >= 1.0 {
                    ""
                } else {
                    "  BELOW TARGET"
                }
            );
        }
    }
}

/// The batch at several K, to show where adding files in flight stops
/// helping on this machine.
fn sweep(corpus: &Corpus, rounds: usize) {
    let gb_s = |d: Duration| corpus.bytes as f64 / d.as_secs_f64() / 1e9;
    println!();
    println!("files in flight (K), median of {rounds} rounds, input GB/s:");
    println!("  {:>3}  {:>10}  {:>12}", "K", "read-only", "with writes");
    for k in [1, 2, 4, 8] {
        let (mut read_only, mut writing) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            read_only.push(gb_s(timed(|| {
                black_box(batch(&corpus.input, None, &corpus.files, k));
            })));
            let output = corpus.fresh_output();
            writing.push(gb_s(timed(|| {
                black_box(batch(&corpus.input, Some(&output), &corpus.files, k));
            })));
        }
        println!(
            "  {k:>3}  {:>10.2}  {:>12.2}",
            median(read_only),
            median(writing)
        );
    }
}

fn main() {
    let smoke = std::env::args().any(|a| a == "--test");
    let (count, size, rounds) = if smoke {
        (300, 16 * 1024, 1)
    } else {
        (10_000, 100 * 1024, 7)
    };
    // tempfile puts it under $TMPDIR or /tmp: the real disk, not /dev/shm.
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let setup = Instant::now();
    let corpus = Corpus::create(dir.path(), count, size);
    println!(
        "created, synced and cached {} files in {:.1?} under {}",
        count,
        setup.elapsed(),
        dir.path().display()
    );
    let mut c = Criterion::default().configure_from_args();
    criterion_benches(&mut c, &corpus, 1000);
    c.final_summary();
    report(&corpus, rounds, smoke);
    sweep(&corpus, if smoke { 1 } else { 3 });
    drop(corpus);
    // TempDir's Drop removes the directory; say so if it cannot.
    if let Err(e) = dir.close() {
        eprintln!("could not remove the benchmark's temporary directory: {e}");
    }
}
