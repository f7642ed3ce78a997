//! Graded under task 4: `flush_records` writes back exactly its range.
//!
//! A write through a shared map dirties pages of the page cache; `msync`
//! writes them back to the file and marks them clean. Nothing a test reads
//! back from the file can tell whether that happened (the page cache
//! answers every read, and it outlives the process), but the kernel counts
//! a mapping's dirty pages in `/proc/self/smaps`. So this test puts one
//! record per page, calls `flush_records`, and then asks which pages are
//! still dirty: it `msync`s each page of the mapping itself, one at a time,
//! and sees whether the dirty count drops. The pages of the flushed range
//! must be clean, and every other page must still be dirty.
//!
//! Linux only (`/proc/self/smaps`), and the file must live on a file system
//! that writes pages back (not tmpfs): the test uses cargo's
//! `CARGO_TARGET_TMPDIR`, on the disk, and falls back to the system's temp
//! directory.

#![cfg(target_os = "linux")]

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::path::{Path, PathBuf};

use mmap_files::WritableRecords;

const PAGE: usize = 4096;
const PAGES: u64 = 32;

#[test]
#[cfg_attr(miri, ignore)] // Miri cannot map files or read /proc.
fn t4_flush_records_writes_back_exactly_its_range() {
    let dir = disk_backed_dir();
    for (first, count) in [(5u64, 1u64), (8, 12), (0, PAGES), (PAGES - 1, 1)] {
        let path = dir.path().join(format!("store-{first}-{count}.dat"));
        let mut store = WritableRecords::<PAGE>::create(&path, PAGES).expect("create the store");
        for id in 0..PAGES {
            store.put(id, &[id as u8 + 1; PAGE]).expect("put a record");
        }
        let mapping = Mapping::find(&path).expect("the store's mapping is in /proc/self/smaps");
        assert_eq!(
            mapping.dirty_kib(),
            PAGES * 4,
            "after putting {PAGES} page-sized records, all {PAGES} pages of the map are dirty"
        );
        store.flush_records(first, count).expect("flush_records");
        let dirty = mapping.dirty_pages();
        let expected: BTreeSet<u64> = (0..PAGES)
            .filter(|p| !(first..first + count).contains(p))
            .collect();
        let still_dirty_in_range: Vec<u64> = (first..first + count)
            .filter(|p| dirty.contains(p))
            .collect();
        assert!(
            still_dirty_in_range.is_empty(),
            "after flush_records({first}, {count}), records {still_dirty_in_range:?} were still \
             dirty: they were never written back to the file (msync), so a power cut could lose \
             them. Flush the byte range of exactly these records"
        );
        let cleaned_outside: Vec<u64> = expected.difference(&dirty).copied().collect();
        assert!(
            cleaned_outside.is_empty(),
            "after flush_records({first}, {count}), records {cleaned_outside:?} outside the range \
             were written back too: the range was wrong (is it in bytes, record size times the \
             id?), or the whole map was flushed, which costs a write of every dirty page"
        );
        drop(store);
        fs::remove_file(&path).expect("remove the store");
    }
}

/// One mapping of a file, as `/proc/self/smaps` lists it.
struct Mapping {
    start: usize,
    len: usize,
    path: PathBuf,
}

impl Mapping {
    /// The mapping of `path` in this process.
    fn find(path: &Path) -> Option<Mapping> {
        let path = fs::canonicalize(path).ok()?;
        let smaps = fs::read_to_string("/proc/self/smaps").ok()?;
        smaps.lines().find_map(|line| {
            let (range, rest) = line.split_once(' ')?;
            let (start, end) = range.split_once('-')?;
            let start = usize::from_str_radix(start, 16).ok()?;
            let end = usize::from_str_radix(end, 16).ok()?;
            (rest.trim_end().ends_with(path.to_str()?)).then(|| Mapping {
                start,
                len: end - start,
                path: path.clone(),
            })
        })
    }

    /// Its dirty memory in KiB: `Private_Dirty` plus `Shared_Dirty`.
    fn dirty_kib(&self) -> u64 {
        let smaps = fs::read_to_string("/proc/self/smaps").expect("read /proc/self/smaps");
        let mut inside = false;
        let mut kib = 0;
        for line in smaps.lines() {
            if let Some((range, _)) = line.split_once(' ')
                && let Some((start, _)) = range.split_once('-')
                && let Ok(start) = usize::from_str_radix(start, 16)
            {
                inside = start == self.start;
                continue;
            }
            if inside
                && let Some(value) = line
                    .strip_prefix("Private_Dirty:")
                    .or_else(|| line.strip_prefix("Shared_Dirty:"))
            {
                kib += value
                    .trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .expect("a size in kB");
            }
        }
        kib
    }

    /// Which pages are dirty. It finds out by writing each page back
    /// itself, so afterwards every page is clean.
    fn dirty_pages(&self) -> BTreeSet<u64> {
        let mut dirty = BTreeSet::new();
        for page in 0..(self.len / PAGE) as u64 {
            let before = self.dirty_kib();
            let addr = self.start + page as usize * PAGE;
            // SAFETY: the range is one page of a live mapping of this
            // process (the store is still alive), and msync only writes it
            // back; it does not change the memory.
            let done = unsafe { libc::msync(addr as *mut libc::c_void, PAGE, libc::MS_SYNC) };
            assert_eq!(done, 0, "msync of page {page} of {}", self.path.display());
            if self.dirty_kib() < before {
                dirty.insert(page);
            }
        }
        dirty
    }
}

/// A directory on a file system whose `msync` cleans pages (not tmpfs):
/// cargo's target temp directory, or the system's temp directory.
fn disk_backed_dir() -> tempfile::TempDir {
    let candidates = [
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")),
        std::env::temp_dir(),
    ];
    for base in &candidates {
        let Ok(dir) = tempfile::tempdir_in(base) else {
            continue;
        };
        if writes_back(dir.path()) {
            return dir;
        }
    }
    panic!(
        "no directory here writes mapped pages back on msync (tried {candidates:?}; tmpfs does \
         not): this test cannot grade flush_records on this machine. Point TMPDIR at a disk."
    );
}

/// Whether `msync` on a file in `dir` makes its dirty pages clean.
fn writes_back(dir: &Path) -> bool {
    let path = dir.join("probe.dat");
    let Ok(file) = File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)
    else {
        return false;
    };
    if file.set_len(PAGE as u64).is_err() {
        return false;
    }
    // SAFETY: the file was just created in a private temporary directory.
    let Ok(mut map) = (unsafe { memmap2::MmapMut::map_mut(&file) }) else {
        return false;
    };
    map[0] = 1;
    let Some(mapping) = Mapping::find(&path) else {
        return false;
    };
    let dirty = mapping.dirty_kib();
    let cleaned = map.flush().is_ok() && mapping.dirty_kib() < dirty;
    drop(map);
    let _ = fs::remove_file(&path);
    cleaned
}
