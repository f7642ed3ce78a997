//! Graded under task 2: a batch holds at most K files in memory.
//!
//! - `t2_` grades task 2 (see `tests/batch.rs` for the other tests).
//!
//! This test binary has its own global allocator, which counts the bytes of
//! every live allocation of 64 KiB or more: file contents, in this test.
//! That is why the test lives alone in its own file: any other test running
//! beside it would allocate too. The batch reads 24 files of 1 MiB with
//! `max_in_flight = 2`, and the test checks the most memory its large
//! buffers ever held at once.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use batch_io::{BatchConfig, FileResult, TransformError, run_batch};

/// Allocations at least this large are counted.
const LARGE: usize = 64 * 1024;
/// Bytes in live large allocations.
static LIVE: AtomicUsize = AtomicUsize::new(0);
/// The most `LIVE` has been since the last reset.
static PEAK: AtomicUsize = AtomicUsize::new(0);

/// The system allocator, plus the two counters above.
struct Counting;

fn grew(size: usize) {
    if size >= LARGE {
        let now = LIVE.fetch_add(size, Ordering::SeqCst) + size;
        PEAK.fetch_max(now, Ordering::SeqCst);
    }
}

fn shrank(size: usize) {
    if size >= LARGE {
        LIVE.fetch_sub(size, Ordering::SeqCst);
    }
}

// SAFETY: every method forwards to `System` with the caller's arguments,
// and only adds bookkeeping that never touches the memory itself.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged; the caller upholds alloc's contract.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            grew(layout.size());
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged; the caller upholds alloc's contract.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            grew(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        shrank(layout.size());
        // SAFETY: forwarded unchanged; the caller upholds dealloc's contract.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded unchanged; the caller upholds realloc's contract.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            shrank(layout.size());
            grew(new_size);
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const FILE_SIZE: usize = 1 << 20;
const FILES: usize = 24;
const K: usize = 2;

#[test]
fn t2_memory_stays_bounded_by_k_files() {
    let tmp = tempfile::tempdir().expect("create a temporary directory");
    let input = tmp.path().join("in");
    fs::create_dir(&input).expect("create in/");
    let files: Vec<PathBuf> = {
        let block = vec![b'x'; FILE_SIZE];
        (0..FILES)
            .map(|i| {
                let rel = PathBuf::from(format!("f{i:02}.bin"));
                fs::write(input.join(&rel), &block).expect("write a test file");
                rel
            })
            .collect()
    };
    let mut results: Vec<FileResult> = Vec::with_capacity(FILES);

    // The first transforms wait until K are inside and every other thread is
    // asleep: a batch that reads ahead of its workers has then read all it
    // can while they are held.
    let inside = AtomicUsize::new(0);
    let gate = common::Gate::default();
    let length = |_: &Path, data: &[u8]| -> Result<Vec<u8>, TransformError> {
        inside.fetch_add(1, Ordering::SeqCst);
        gate.wait(Duration::from_secs(5));
        Ok((data.len() as u64).to_le_bytes().to_vec())
    };
    let config = BatchConfig::new(&input, tmp.path().join("out"), K);

    let baseline = LIVE.load(Ordering::SeqCst);
    PEAK.store(baseline, Ordering::SeqCst);
    thread::scope(|s| {
        s.spawn(|| {
            let deadline = Instant::now() + Duration::from_secs(5);
            while inside.load(Ordering::SeqCst) < K && Instant::now() < deadline {
                thread::sleep(Duration::from_millis(1));
            }
            common::settle();
            gate.open();
        });
        run_batch(&config, &files, &length, &mut results).expect("the batch should succeed");
    });
    let peak = PEAK.load(Ordering::SeqCst).saturating_sub(baseline);

    assert_eq!(results.len(), FILES, "every file must have a result");
    assert!(
        results.iter().all(|r| r.outcome.is_ok()),
        "every file should succeed: {:?}",
        results.iter().find(|r| r.outcome.is_err())
    );
    let bound = 2 * K * FILE_SIZE;
    assert!(
        peak <= bound,
        "with max_in_flight = {K} and files of 1 MiB, the batch held {:.1} MiB of buffers at once \
         (allowed: {} MiB, two buffers per file in flight). A file's contents may exist only \
         inside the worker that processes it: no reader that runs ahead, and no channel or queue \
         of file contents.",
        peak as f64 / FILE_SIZE as f64,
        bound / FILE_SIZE
    );
}
