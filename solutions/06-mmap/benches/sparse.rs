//! A sparse file larger than 10 GiB, mapped, with a few pages touched: how
//! much of it becomes resident, and what creating and touching cost.
//!
//! ```sh
//! cargo bench -p mmap-files-solution --bench sparse            # criterion, then the RSS report
//! cargo bench -p mmap-files-solution --bench sparse -- --test  # a quick smoke run
//! ```
//!
//! Criterion times creating and mapping a 16 GiB sparse file (and 16 MiB,
//! to show that the cost does not depend on the size). Then the report
//! maps a 16 GiB sparse file, writes one byte into each of 64 pages spread
//! over it, timing each first touch (a page fault), and prints the
//! resident memory of the mapping (`/proc/self/smaps`) and of the process
//! (`VmRSS` and `RssFile` from `/proc/self/status`) before and after, and
//! the mapping's growth as a fraction of the file's size (target: < 1%).
//!
//! `SparseMap` advises the kernel that its accesses are random
//! (`MADV_RANDOM`). For comparison, the report then maps a second sparse
//! file of the same size without that advice and touches the same pages:
//! RSS grows just the same, but each page fault now reads ahead around the
//! touched page (up to the device's `read_ahead_kb`), which costs time and
//! fills the page cache. The page-cache pages of each file are counted with
//! `mincore(2)`.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion};
use memmap2::MmapMut;
use mmap_files::{SparseMap, create_sparse, page_size, process_rss};

const BIG: u64 = 16 << 30;
const TOUCHED_PAGES: u64 = 64;

fn criterion_benches(c: &mut Criterion, dir: &Path) {
    let mut group = c.benchmark_group("sparse_create_and_map");
    for (label, size) in [("16MiB", 16u64 << 20), ("16GiB", BIG)] {
        group.bench_function(BenchmarkId::from_parameter(label), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for i in 0..iters {
                    let path = dir.join(format!("create-{label}-{i}.dat"));
                    let start = Instant::now();
                    let map = SparseMap::create(&path, size).expect("create and map");
                    total += start.elapsed();
                    drop(map);
                    fs::remove_file(&path).expect("remove the file");
                }
                total
            });
        });
    }
    group.finish();
}

/// How many bytes of the map at `ptr` (`len` bytes) are in the page cache.
fn page_cache_bytes(ptr: *const u8, len: usize) -> u64 {
    let page = page_size();
    let mut resident = vec![0u8; len.div_ceil(page)];
    // SAFETY: `ptr .. ptr + len` is one live mapping that starts on a page
    // boundary, and `resident` has one byte per page of it.
    let rc = unsafe { libc::mincore(ptr as *mut libc::c_void, len, resident.as_mut_ptr()) };
    assert_eq!(rc, 0, "mincore: {}", std::io::Error::last_os_error());
    resident.iter().filter(|&&b| b & 1 == 1).count() as u64 * page as u64
}

/// The pages the report touches: spread evenly, the first and last included.
fn spread(pages: u64) -> impl Iterator<Item = u64> {
    (0..TOUCHED_PAGES).map(move |i| i * (pages - 1) / (TOUCHED_PAGES - 1))
}

/// Maps a new sparse file without any advice and times the first touch of
/// the same pages; returns the p50 fault time and the page-cache bytes.
fn without_advice(path: &Path) -> (Duration, u64) {
    let file = create_sparse(path, BIG).expect("create the second sparse file");
    // SAFETY: the file is new and private to this benchmark.
    let mut map = unsafe { MmapMut::map_mut(&file).expect("map the second file") };
    let page = page_size() as u64;
    let mut faults = Vec::new();
    for p in spread(BIG / page) {
        let start = Instant::now();
        map[(p * page) as usize] = 1;
        faults.push(start.elapsed());
    }
    faults.sort_unstable();
    let cached = page_cache_bytes(map.as_ptr(), map.len());
    (faults[faults.len() / 2], cached)
}

/// The read-ahead setting of the block device that holds `dir`, if any.
fn read_ahead_kb(dir: &Path) -> Option<String> {
    let dev = fs::metadata(dir).ok()?.dev();
    let (major, minor) = (libc::major(dev), libc::minor(dev));
    let base = format!("/sys/dev/block/{major}:{minor}");
    // A partition keeps its queue settings in its parent device.
    [
        format!("{base}/queue/read_ahead_kb"),
        format!("{base}/../queue/read_ahead_kb"),
    ]
    .iter()
    .find_map(|p| fs::read_to_string(p).ok())
    .map(|kb| format!("{} KiB", kb.trim()))
}

fn kib(bytes: u64) -> String {
    format!("{} KiB", bytes / 1024)
}

fn signed_kib(after: u64, before: u64) -> String {
    format!("{:+} KiB", (after as i64 - before as i64) / 1024)
}

fn report(dir: &Path) {
    let page = page_size() as u64;
    let path = dir.join("huge.dat");
    let process_before = process_rss().expect("read /proc/self/status");
    let mut map = SparseMap::create(&path, BIG).expect("create and map the sparse file");
    let mapping_before = map.resident_bytes().expect("read /proc/self/smaps");

    let pages = map.page_count();
    let mut faults = Vec::new();
    for p in spread(pages) {
        let start = Instant::now();
        map.touch_page(p).expect("touch a page");
        faults.push(start.elapsed());
    }
    faults.sort_unstable();
    let mapping_after = map.resident_bytes().expect("read /proc/self/smaps");
    let process_after = process_rss().expect("read /proc/self/status");
    let cached = page_cache_bytes(map.as_ptr(), BIG as usize);
    map.flush().expect("flush the touched pages");
    let on_disk = fs::metadata(&path).expect("metadata").blocks() * 512;

    let delta = mapping_after - mapping_before;
    let fraction = delta as f64 / BIG as f64;
    println!();
    println!(
        "sparse file of {} GiB ({pages} pages of {page} B), mapped, {TOUCHED_PAGES} pages touched (one byte written in each):",
        BIG >> 30
    );
    println!(
        "  mapping Rss (/proc/self/smaps): {} before, {} after: RSS delta {}",
        kib(mapping_before),
        kib(mapping_after),
        kib(delta)
    );
    println!(
        "  process VmRSS delta: {}; RssFile delta: {}",
        signed_kib(process_after.vm_rss, process_before.vm_rss),
        match (process_after.rss_file, process_before.rss_file) {
            (Some(after), Some(before)) => signed_kib(after, before),
            _ => "not reported by this kernel".to_string(),
        }
    );
    println!(
        "  RSS delta / file size: {:.5}% (target < 1%; {:.0}x below it){}",
        fraction * 100.0,
        0.01 / fraction,
        if fraction < 0.01 {
            ""
        } else {
            "  TARGET MISSED"
        }
    );
    println!(
        "  allocated on disk after flush: {} of {} GiB",
        kib(on_disk),
        BIG >> 30
    );
    println!(
        "  first touch of a page (a page fault), MADV_RANDOM: p50 {:.1} µs, max {:.1} µs; page cache used: {}",
        faults[faults.len() / 2].as_secs_f64() * 1e6,
        faults[faults.len() - 1].as_secs_f64() * 1e6,
        kib(cached)
    );
    drop(map);
    fs::remove_file(&path).expect("remove the sparse file");

    let plain = dir.join("no-advice.dat");
    let (p50, plain_cached) = without_advice(&plain);
    let read_ahead = read_ahead_kb(dir).unwrap_or_else(|| "unknown".to_string());
    println!(
        "  the same without MADV_RANDOM: p50 {:.1} µs ({:.0}x slower); page cache used: {} \
         ({:.0}x more; read_ahead_kb of the disk: {read_ahead})",
        p50.as_secs_f64() * 1e6,
        p50.as_secs_f64() / faults[faults.len() / 2].as_secs_f64(),
        kib(plain_cached),
        plain_cached as f64 / cached.max(1) as f64
    );
    fs::remove_file(&plain).expect("remove the second sparse file");
}

fn main() {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let mut c = Criterion::default().configure_from_args();
    criterion_benches(&mut c, dir.path());
    c.final_summary();
    report(dir.path());
}
