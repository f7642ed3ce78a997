//! Copying a file with `std::io::copy` (the kernel's `copy_file_range`)
//! against a read/write loop through a user-space buffer.
//!
//! ```sh
//! cargo bench -p file-io-solution --bench zero_copy            # criterion, then the ratio
//! cargo bench -p file-io-solution --bench zero_copy -- --test  # a quick smoke run
//! ```
//!
//! Criterion first times both copies of a 32 MiB file. Then a 256 MiB file
//! (4 MiB under `--test`) is copied by both, in alternation, round after
//! round, twice: into a destination truncated each time (the lesson's
//! `copy_file_fast` and `copy_file_naive`), and into a destination
//! rewritten in place, where no blocks are freed or allocated and only the
//! copying is left. For each, the medians of wall time and of the copying
//! thread's CPU time are printed, with the `read` and `write` system calls
//! (from `/proc/thread-self/io`) and the ratios loop / `io::copy`. The CPU
//! ratio is the target: on a shared machine it moves far less than wall
//! time. The source stays in the page cache, so this measures copying, not
//! the disk.

use std::fs;
use std::hint::black_box;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput};
use file_io::{copy_file_fast, copy_file_naive, copy_naive};

/// The read/write loop's buffer: a common, reasonable choice.
const LOOP_BUFFER: usize = 64 * 1024;

/// Writes a file of `len` bytes of varied data, and reads it once so that
/// it is in the page cache.
fn make_source(path: &Path, len: usize) {
    let mut file = fs::File::create(path).expect("create the source");
    let chunk: Vec<u8> = (0..1 << 20)
        .map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let mut left = len;
    while left > 0 {
        let n = left.min(chunk.len());
        file.write_all(&chunk[..n]).expect("write the source");
        left -= n;
    }
    drop(file);
    black_box(fs::read(path).expect("read the source once").len());
}

/// This thread's (read, write) system call counts, if the kernel says.
fn syscalls() -> Option<(u64, u64)> {
    let text = fs::read_to_string("/proc/thread-self/io").ok()?;
    let field = |name: &str| -> Option<u64> {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse().ok())
    };
    Some((field("syscr:")?, field("syscw:")?))
}

fn criterion_benches(c: &mut Criterion, dir: &Path, len: usize) {
    let src = dir.join("criterion-src");
    let dst = dir.join("criterion-dst");
    make_source(&src, len);
    let mut group = c.benchmark_group("copy");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(len as u64));
    group.bench_function(BenchmarkId::new("io_copy", len), |b| {
        b.iter(|| copy_file_fast(&src, &dst).expect("copy_file_fast"));
    });
    group.bench_function(BenchmarkId::new("read_write_loop_64k", len), |b| {
        b.iter(|| copy_file_naive(&src, &dst, LOOP_BUFFER).expect("copy_file_naive"));
    });
    group.finish();
}

/// CPU time this thread has used so far, user and kernel together.
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime only writes the timespec we pass it.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// One timed run: wall time, this thread's CPU time, and its system calls.
#[derive(Clone, Copy)]
struct Run {
    wall: f64,
    cpu: f64,
    calls: Option<(u64, u64)>,
}

fn measure(f: impl FnOnce()) -> Run {
    let before = syscalls();
    let cpu = thread_cpu();
    let start = Instant::now();
    f();
    let wall = start.elapsed().as_secs_f64();
    let cpu = (thread_cpu() - cpu).as_secs_f64();
    let calls = syscalls().zip(before).map(|(a, b)| (a.0 - b.0, a.1 - b.1));
    Run { wall, cpu, calls }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Times `fast` and `slow` in alternation and prints medians and ratios.
fn compare(title: &str, len: usize, rounds: usize, fast: &mut dyn FnMut(), slow: &mut dyn FnMut()) {
    let (mut f_runs, mut s_runs) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        // Alternate which goes first, so neither always follows the other.
        if round % 2 == 0 {
            f_runs.push(measure(&mut *fast));
            s_runs.push(measure(&mut *slow));
        } else {
            s_runs.push(measure(&mut *slow));
            f_runs.push(measure(&mut *fast));
        }
    }
    let ratio = |pick: fn(&Run) -> f64| {
        median(
            f_runs
                .iter()
                .zip(&s_runs)
                .map(|(f, s)| pick(s) / pick(f))
                .collect(),
        )
    };
    let (wall_ratio, cpu_ratio) = (ratio(|r| r.wall), ratio(|r| r.cpu));
    println!();
    println!("{title}, {rounds} alternating rounds (medians):");
    for (name, runs) in [
        ("std::io::copy (copy_file_range)", &f_runs),
        ("read/write loop, 64 KiB buffer ", &s_runs),
    ] {
        let wall = median(runs.iter().map(|r| r.wall).collect());
        let cpu = median(runs.iter().map(|r| r.cpu).collect());
        println!(
            "  {name}: {:>7.1} ms wall ({:>5.2} GB/s), {:>7.1} ms CPU, system calls (read, write): {}",
            wall * 1e3,
            len as f64 / wall / 1e9,
            cpu * 1e3,
            fmt_calls(runs.last().and_then(|r| r.calls))
        );
    }
    println!(
        "  loop / io::copy: CPU time {cpu_ratio:.2}x, wall time {wall_ratio:.2}x \
         (target: CPU ratio > 1, the kernel copy saves work){}",
        if cpu_ratio > 1.0 {
            ""
        } else {
            "  TARGET MISSED"
        }
    );
}

/// Copies into a fresh (truncated) destination with the lesson's functions,
/// then into a destination rewritten in place.
fn ratio_report(dir: &Path, len: usize, rounds: usize) {
    use std::io::{Seek, SeekFrom};
    let src_path = dir.join("ratio-src");
    let dst_path = dir.join("ratio-dst");
    make_source(&src_path, len);
    let mib = len >> 20;
    compare(
        &format!("copy_file_fast vs copy_file_naive, {mib} MiB, destination truncated each time"),
        len,
        rounds,
        &mut || {
            copy_file_fast(&src_path, &dst_path).expect("copy_file_fast");
        },
        &mut || {
            copy_file_naive(&src_path, &dst_path, LOOP_BUFFER).expect("copy_file_naive");
        },
    );

    // In place: the destination already holds the data and stays cached,
    // so no blocks are freed or allocated; only the copying is left.
    let src = fs::File::open(&src_path).expect("open the source");
    let dst = fs::OpenOptions::new()
        .write(true)
        .open(&dst_path)
        .expect("open the destination");
    let rewind = || {
        (&src).seek(SeekFrom::Start(0)).expect("rewind");
        (&dst).seek(SeekFrom::Start(0)).expect("rewind");
    };
    compare(
        &format!("io::copy vs copy_naive, {mib} MiB, destination rewritten in place"),
        len,
        rounds,
        &mut || {
            rewind();
            std::io::copy(&mut &src, &mut &dst).expect("io::copy");
        },
        &mut || {
            rewind();
            copy_naive(&mut &src, &mut &dst, LOOP_BUFFER).expect("copy_naive");
        },
    );
}

fn fmt_calls(calls: Option<(u64, u64)>) -> String {
    calls.map_or("not available".to_owned(), |(r, w)| format!("{r}, {w}"))
}

fn main() {
    let smoke = std::env::args().any(|a| a == "--test");
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    criterion_benches(&mut c, dir.path(), if smoke { 1 << 20 } else { 32 << 20 });
    c.final_summary();
    let (len, rounds) = if smoke { (4 << 20, 3) } else { (256 << 20, 7) };
    ratio_report(dir.path(), len, rounds);
}
