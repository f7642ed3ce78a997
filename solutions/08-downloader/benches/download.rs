//! How the downloader spends its time, against the fault server on
//! loopback.
//!
//! ```sh
//! cargo bench -p downloader-solution --bench download            # criterion, then the report
//! cargo bench -p downloader-solution --bench download -- --test  # a quick smoke run
//! ```
//!
//! After criterion's own measurement of one large download, the report
//! prints three figures, each a ratio measured within this run:
//!
//! 1. **Concurrency**: 16 small files from a server that waits 50 ms before
//!    each answer, with `jobs = 8` against `jobs = 1`. The ideal is 8x;
//!    target at least 6x.
//! 2. **Overhead**: one large file through `download_all` (copy loop,
//!    progress and throttle wrappers, `.part` file, fsync, rename) against
//!    the simplest download that saves it: a bare `ureq` GET copied into a
//!    file with `io::copy`. Target at least 0.8 when the files live in
//!    memory (`/dev/shm`); on disk, where the downloader's fsync costs real
//!    time, the fsync of a file of that size is printed beside it.
//! 3. **Rate limit**: four downloads under a shared limit; achieved
//!    throughput / limit. Target 0.90 to 1.05.

use std::hint::black_box;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, Throughput};
use downloader::{Config, Job, RetryPolicy, download_all, part_path};
use fault_server::{FaultServer, Route};

const MIB: usize = 1024 * 1024;

/// Deterministic, incompressible-looking bytes.
fn bytes(len: usize, seed: u32) -> Vec<u8> {
    let mut x = 0x2545_F491_u32 ^ seed;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect()
}

fn config(jobs: usize) -> Config {
    Config {
        jobs,
        retry: RetryPolicy::none(),
        timeout: Duration::from_secs(30),
        rate_limit: None,
        resume: false,
        progress: None,
        ..Config::default()
    }
}

/// Removes earlier results so every run downloads from scratch.
fn clean(jobs: &[Job]) {
    for job in jobs {
        let _ = std::fs::remove_file(&job.dest);
        let _ = std::fs::remove_file(part_path(&job.dest));
    }
}

/// Runs the jobs once and returns how long they took; panics on a failure.
fn run(jobs: &[Job], config: &Config) -> Duration {
    clean(jobs);
    let started = Instant::now();
    let results = download_all(jobs, config);
    let elapsed = started.elapsed();
    for result in results {
        result.expect("a benchmark download failed");
    }
    elapsed
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(|a, b| a.total_cmp(b));
    samples[samples.len() / 2]
}

/// A directory in memory if the machine has one, else the default temp dir.
fn memory_dir() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir()
        && let Ok(dir) = tempfile::tempdir_in(shm)
    {
        return dir;
    }
    tempfile::tempdir().expect("create a temporary directory")
}

fn criterion_bench(c: &mut Criterion, server: &FaultServer, dir: &Path, size: usize) {
    server.route("/crit.bin", Route::new(bytes(size, 1)));
    let jobs = [Job::new(server.url("/crit.bin"), dir.join("crit.bin"))];
    let config = config(1);
    let mut group = c.benchmark_group("download");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(size as u64));
    group.bench_function(format!("one_file_{}MiB", size / MIB), |b| {
        b.iter_batched(
            || clean(&jobs),
            |()| black_box(download_all(&jobs, &config)),
            BatchSize::PerIteration,
        );
    });
    group.finish();
}

/// Figure 1: jobs = 8 against jobs = 1 on slow (50 ms) answers.
fn concurrency(server: &FaultServer, dir: &Path, rounds: usize) {
    let jobs: Vec<Job> = (0..16)
        .map(|i| {
            let path = format!("/slow{i}");
            server.route(
                &path,
                Route::new(bytes(64 * 1024, i)).latency(Duration::from_millis(50)),
            );
            Job::new(server.url(&path), dir.join(format!("slow{i}")))
        })
        .collect();
    let (mut serial, mut parallel, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        let one = run(&jobs, &config(1)).as_secs_f64();
        let eight = run(&jobs, &config(8)).as_secs_f64();
        serial.push(one);
        parallel.push(eight);
        ratios.push(one / eight);
    }
    let ratio = median(ratios);
    println!(
        "concurrency: 16 files, 50 ms latency each: jobs=1 {:.0} ms, jobs=8 {:.0} ms, \
         speedup {ratio:.1}x (8 at a time: about 8x; target >= 6x){}",
        median(serial) * 1e3,
        median(parallel) * 1e3,
        if ratio >= 6.0 { "" } else { "  BELOW TARGET" }
    );
}

/// The simplest download that saves the body: a bare ureq GET of `url`,
/// copied into a plain file at `path` (no `.part` file, no wrappers, no
/// fsync, no rename).
fn bare_download(agent: &ureq::Agent, url: &str, path: &Path) -> Duration {
    let started = Instant::now();
    let mut response = agent.get(url).call().expect("bare GET");
    let mut file = std::fs::File::create(path).expect("create the bare file");
    io::copy(&mut response.body_mut().as_reader(), &mut file).expect("bare copy");
    drop(file);
    let elapsed = started.elapsed();
    let _ = std::fs::remove_file(path);
    elapsed
}

/// How long an fsync of a freshly written file of `size` bytes takes in `dir`.
fn fsync_time(dir: &Path, size: usize) -> Duration {
    let path = dir.join("fsync-probe");
    std::fs::write(&path, bytes(size, 9)).expect("write the probe");
    let file = std::fs::File::open(&path).expect("open the probe");
    let started = Instant::now();
    file.sync_all().expect("fsync the probe");
    let elapsed = started.elapsed();
    let _ = std::fs::remove_file(&path);
    elapsed
}

/// Figure 2: the downloader against a bare download of the same body.
fn overhead(server: &FaultServer, dirs: &[(&str, PathBuf)], size: usize, rounds: usize) {
    server.route("/large.bin", Route::new(bytes(size, 2)));
    let url = server.url("/large.bin");
    let agent = downloader::agent(Duration::from_secs(30));
    let mb_s = |secs: f64| size as f64 / secs / 1e6;
    for (label, dir) in dirs {
        let jobs = [Job::new(url.clone(), dir.join("large.bin"))];
        let (mut ours, mut bare, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..rounds {
            let d = run(&jobs, &config(1)).as_secs_f64();
            let b = bare_download(&agent, &url, &dir.join("bare.bin")).as_secs_f64();
            ours.push(d);
            bare.push(b);
            ratios.push(b / d);
        }
        let ratio = median(ratios);
        let fsync = fsync_time(dir, size);
        let target = if *label == "memory" {
            if ratio >= 0.8 {
                " (target >= 0.8)"
            } else {
                " (target >= 0.8)  BELOW TARGET"
            }
        } else {
            ""
        };
        println!(
            "overhead ({label}, {}): {} MiB file: download_all {:.0} MB/s, bare GET into a file {:.0} MB/s, \
             ratio {ratio:.2}{target}; an fsync of a {} MiB file there takes {:.1} ms",
            dir.display(),
            size / MIB,
            mb_s(median(ours)),
            mb_s(median(bare)),
            size / MIB,
            fsync.as_secs_f64() * 1e3
        );
    }
}

/// Figure 3: achieved throughput under a shared limit.
fn rate_limit(server: &FaultServer, dir: &Path, per_file: usize, cap: u64) {
    let jobs: Vec<Job> = (0..4)
        .map(|i| {
            let path = format!("/limited{i}");
            server.route(&path, Route::new(bytes(per_file, 10 + i)));
            Job::new(server.url(&path), dir.join(format!("limited{i}")))
        })
        .collect();
    let unlimited = run(&jobs, &config(4));
    let limited = run(
        &jobs,
        &Config {
            rate_limit: Some(cap),
            ..config(4)
        },
    );
    let total = (4 * per_file) as f64;
    let achieved = total / limited.as_secs_f64();
    let ratio = achieved / cap as f64;
    println!(
        "rate limit: 4 x {} KiB under {:.1} MiB/s: achieved {:.2} MiB/s = {ratio:.3} of the \
         cap (target 0.90 to 1.05){}; the same downloads without a limit: {:.0} MiB/s",
        per_file / 1024,
        cap as f64 / MIB as f64,
        achieved / MIB as f64,
        if (0.90..=1.05).contains(&ratio) {
            ""
        } else {
            "  OFF TARGET"
        },
        total / unlimited.as_secs_f64() / MIB as f64
    );
}

fn main() {
    let smoke = std::env::args().any(|a| a == "--test");
    let server = FaultServer::start().expect("start the fault server");
    let memory = memory_dir();
    let disk = tempfile::tempdir().expect("create a temporary directory");

    let mut c = Criterion::default().configure_from_args();
    criterion_bench(
        &mut c,
        &server,
        memory.path(),
        if smoke { MIB } else { 32 * MIB },
    );
    c.final_summary();

    println!();
    if smoke {
        concurrency(&server, memory.path(), 1);
        overhead(&server, &[("memory", memory.path().to_path_buf())], MIB, 1);
        rate_limit(&server, memory.path(), 256 * 1024, MIB as u64);
    } else {
        concurrency(&server, memory.path(), 7);
        overhead(
            &server,
            &[
                ("memory", memory.path().to_path_buf()),
                ("disk", disk.path().to_path_buf()),
            ],
            64 * MIB,
            7,
        );
        rate_limit(&server, memory.path(), 2 * MIB, 4 * MIB as u64);
    }
}
