//! Graded tests for lesson 06, task 3 (`t3_`): a sparse file larger than
//! 10 GiB, mapped, with a few pages touched, of which only those pages are
//! resident.
//!
//! Resident memory is measured per mapping, from `/proc/self/smaps`, so the
//! other tests that run in this process at the same time cannot disturb the
//! figure.
//!
//! The sparse file is 12 GiB unless this process may not create a file that
//! large or map that much (`RLIMIT_FSIZE`, `RLIMIT_AS`, as a grading sandbox
//! may set): then the test uses the largest size that fits, and says so.

use std::fs::{self, File};
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::Path;

use mmap_files::{MmapError, SparseMap, TOUCHED, create_sparse, mapping_rss, page_size};

/// The size the sparse file has when the limits allow it.
const WANTED_SIZE: u64 = 12 << 30;

// ---------------------------------------------------------------- parsing

/// Three mappings in the format of `/proc/self/smaps`, abridged.
const SMAPS: &str = "\
5581c9a00000-5581c9a21000 r--p 00000000 fd:01 1311                       /usr/bin/demo
Size:                132 kB
KernelPageSize:        4 kB
Rss:                 132 kB
Pss:                 132 kB
VmFlags: rd mr mw me sd
7f3a00000000-7f3d00000000 rw-s 00000000 fd:01 2048                       /tmp/a file with spaces.dat
Size:           12582912 kB
KernelPageSize:        4 kB
MMUPageSize:           4 kB
Pss:                  28 kB
Pss_Dirty:            28 kB
Rss:                  64 kB
Shared_Clean:          0 kB
Swap:                  0 kB
SwapPss:               0 kB
VmFlags: rd wr sh mr mw me ms sd
7f3d00000000-7f3d00021000 rw-p 00000000 00:00 0 
Size:                132 kB
Rss:                   8 kB
VmFlags: rd wr mr mw me ac sd
ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]
Size:                  4 kB
Rss:                   0 kB
";

#[test]
fn t3_mapping_rss_reads_the_rss_line_of_the_right_mapping() {
    assert_eq!(
        mapping_rss(SMAPS, 0x7f3a_0000_0000),
        Some(64 * 1024),
        "the mapping at 0x7f3a00000000 has `Rss: 64 kB`, which is 65536 bytes; read the Rss: \
         line (not Pss:, not SwapPss:) of the entry whose header starts with that address"
    );
    assert_eq!(
        mapping_rss(SMAPS, 0x5581_c9a0_0000),
        Some(132 * 1024),
        "the first mapping's Rss"
    );
    assert_eq!(
        mapping_rss(SMAPS, 0x7f3d_0000_0000),
        Some(8 * 1024),
        "0x7f3d00000000 is where the second mapping ends and the third starts: the third's Rss"
    );
    assert_eq!(
        mapping_rss(SMAPS, 0xffff_ffff_ff60_0000),
        Some(0),
        "the last mapping's Rss is 0"
    );
    assert_eq!(
        mapping_rss(SMAPS, 0x7f3b_0000_0000),
        None,
        "no mapping starts at 0x7f3b00000000 (one contains it, but does not start there)"
    );
    assert_eq!(
        mapping_rss("", 0x1000),
        None,
        "an empty smaps has no mappings"
    );
}

// ---------------------------------------------------------------- sparse files

#[test]
fn t3_create_sparse_sets_the_length_without_writing() {
    let dir = tempdir();
    let path = dir.path().join("sparse.dat");
    let len = 256 << 20;
    let file = create_sparse(&path, len).expect("create a 256 MiB sparse file");
    let meta = file.metadata().expect("metadata of the sparse file");
    assert_eq!(meta.len(), len, "create_sparse sets the file's length");
    assert!(
        allocated(&path) < len / 100,
        "a new sparse file of {len} bytes has {} bytes allocated on disk; it must have almost \
         none: set the length with File::set_len, never write the zeros",
        allocated(&path)
    );
    let mut buf = [1u8; 16];
    file.read_exact_at(&mut buf, len / 2)
        .expect("read in the middle of the hole");
    assert_eq!(buf, [0; 16], "a hole reads as zeros");

    let existing = dir.path().join("existing.dat");
    fs::write(&existing, b"precious").expect("write a file");
    match create_sparse(&existing, len) {
        Err(MmapError::Io(e)) => assert_eq!(
            e.kind(),
            io::ErrorKind::AlreadyExists,
            "create_sparse on an existing file"
        ),
        other => panic!(
            "create_sparse must not touch an existing file (OpenOptions::create_new): expected \
             MmapError::Io(AlreadyExists), got {other:?}"
        ),
    }
    assert_eq!(
        fs::read(&existing).expect("read the file"),
        b"precious",
        "a refused create_sparse leaves the existing file as it was"
    );
}

#[test]
fn t3_a_huge_sparse_map_keeps_only_touched_pages_resident() {
    let size = sparse_size();
    let one_percent = size / 100;
    let page = page_size() as u64;
    check_small_file_first();

    let dir = tempdir();
    let path = dir.path().join("huge.dat");
    let mut map = SparseMap::create(&path, size)
        .unwrap_or_else(|e| panic!("create and map a sparse file of {size} bytes: {e}"));
    assert_eq!(map.len(), size, "the map spans the whole file");
    assert_eq!(
        fs::metadata(&path).expect("the file exists").len(),
        size,
        "the file is {size} bytes long"
    );
    let before = map.resident_bytes().expect("resident bytes of the new map");
    assert!(
        before < one_percent,
        "a new map of {size} bytes has {before} bytes resident before any page was touched; \
         mapping must not read (or write) the file"
    );

    // Pages spread over the whole file, the first and the last included.
    let pages = map.page_count();
    let touched: Vec<u64> = (0..16).map(|i| i * (pages - 1) / 15).collect();
    for &p in &touched {
        map.touch_page(p)
            .unwrap_or_else(|e| panic!("touch page {p} of {pages}: {e}"));
    }
    let after = map.resident_bytes().expect("resident bytes after touching");
    let min = touched.len() as u64 * page;
    assert!(
        after >= min,
        "after touching {} pages, only {after} bytes of the map are resident; each touched \
         page must be (at least {min} bytes). Is resident_bytes looking at this map's entry \
         in /proc/self/smaps (the one that starts at its address)?",
        touched.len()
    );
    assert!(
        after < one_percent,
        "after touching {} pages of a {size}-byte map, {after} bytes are resident: that is \
         more than 1% ({one_percent} bytes). Only touched pages may become resident",
        touched.len()
    );
    eprintln!(
        "sparse map of {size} bytes, {} pages touched: {after} bytes resident ({:.5}% of the size)",
        touched.len(),
        after as f64 * 100.0 / size as f64
    );

    map.flush().expect("flush the touched pages");
    assert!(
        allocated(&path) < one_percent,
        "after touching {} pages the file has {} bytes allocated on disk; it must stay sparse",
        touched.len(),
        allocated(&path)
    );
    drop(map);
    let file = File::open(&path).expect("open the file");
    for &p in &touched {
        let mut byte = [0u8; 1];
        file.read_exact_at(&mut byte, p * page)
            .expect("read a touched page");
        assert_eq!(
            byte[0],
            TOUCHED,
            "touch_page({p}) must write TOUCHED ({TOUCHED:#x}) into the first byte of page {p} \
             (offset {}), through a map that is shared with the file",
            p * page
        );
    }
    let mut byte = [1u8; 1];
    file.read_exact_at(&mut byte, page + 1)
        .expect("read an untouched byte");
    assert_eq!(byte[0], 0, "bytes that were not touched stay zero");
}

#[test]
fn t3_resident_bytes_measures_one_mapping_not_the_process() {
    let dir = tempdir();
    let page = page_size() as u64;
    let size = 64 << 20;
    let mut few = SparseMap::create(dir.path().join("few.dat"), size).expect("map the first file");
    let mut many =
        SparseMap::create(dir.path().join("many.dat"), size).expect("map the second file");
    for p in 0..2 {
        few.touch_page(p * 1000).expect("touch a page");
    }
    for p in 0..40 {
        many.touch_page(p * 300).expect("touch a page");
    }
    let (few_rss, many_rss) = (
        few.resident_bytes()
            .expect("resident bytes of the first map"),
        many.resident_bytes()
            .expect("resident bytes of the second map"),
    );
    assert!(
        few_rss >= 2 * page && many_rss >= 40 * page,
        "2 and 40 pages were touched, but {few_rss} and {many_rss} bytes are resident"
    );
    assert!(
        few_rss < 40 * page,
        "the map with 2 touched pages has {few_rss} bytes resident, more than the {} bytes of \
         the 40 pages touched in the other map: resident_bytes must measure its own mapping \
         (its entry in /proc/self/smaps), not a total of the whole process",
        40 * page
    );
    assert!(
        few_rss < many_rss,
        "the map with 2 touched pages has {few_rss} bytes resident, the one with 40 has \
         {many_rss}: resident_bytes must measure its own mapping (its entry in \
         /proc/self/smaps), not the whole process"
    );
}

#[test]
fn t3_the_map_is_advised_for_random_access() {
    let dir = tempdir();
    let map = SparseMap::create(dir.path().join("random.dat"), 64 << 20).expect("map");
    let start = map.as_ptr() as usize;
    let flags = vm_flags(start).unwrap_or_else(|| {
        panic!("/proc/self/smaps has no VmFlags line for the mapping at {start:#x}")
    });
    assert!(
        flags.split_whitespace().any(|flag| flag == "rr"),
        "the new map's VmFlags in /proc/self/smaps are `{flags}`, without `rr`: the kernel was \
         not told that the map is read at random. Call map.advise(Advice::Random) \
         (madvise(MADV_RANDOM)) in SparseMap::create, or every first touch of a page reads \
         ahead around it and fills the page cache with zeros"
    );
}

#[test]
fn t3_bad_sizes_and_pages_are_errors() {
    let dir = tempdir();
    let empty = dir.path().join("empty.dat");
    let outcome = SparseMap::create(&empty, 0);
    assert!(
        matches!(outcome, Err(MmapError::Empty)),
        "a sparse map of 0 bytes: expected MmapError::Empty, got {outcome:?}"
    );
    assert!(
        !empty.exists(),
        "SparseMap::create(_, 0) was refused, but it left the file empty.dat behind: check the \
         length before creating the file"
    );
    let existing = dir.path().join("existing.dat");
    fs::write(&existing, b"precious").expect("write a file");
    assert!(
        matches!(
            SparseMap::create(&existing, 1 << 20),
            Err(MmapError::Io(ref e)) if e.kind() == io::ErrorKind::AlreadyExists
        ),
        "SparseMap::create over an existing file must fail with AlreadyExists"
    );
    assert_eq!(
        fs::read(&existing).expect("read the file"),
        b"precious",
        "and leave the file as it was"
    );
    let mut map =
        SparseMap::create(dir.path().join("small.dat"), 10 * page_size() as u64).expect("map");
    assert_eq!(map.page_count(), 10, "10 pages");
    map.touch_page(9).expect("touch the last page");
    for p in [10, u64::MAX] {
        assert!(
            matches!(map.touch_page(p), Err(MmapError::OutOfBounds { .. })),
            "touch_page({p}) on a map of 10 pages must be MmapError::OutOfBounds, not a panic"
        );
    }
}

// ---------------------------------------------------------------- helpers

/// Before the huge file: a small one must come out sparse, so that a
/// create_sparse that writes its zeros fails here and does not fill the disk.
fn check_small_file_first() {
    let dir = tempdir();
    let path = dir.path().join("probe.dat");
    let len = 64 << 20;
    drop(SparseMap::create(&path, len).expect("create a 64 MiB sparse map"));
    assert!(
        allocated(&path) < len / 100,
        "a 64 MiB sparse map has {} bytes allocated on disk, so create_sparse writes data; \
         the 12 GiB test is not run. Set the length with File::set_len and write nothing",
        allocated(&path)
    );
}

/// The `VmFlags:` of the mapping that starts at `start`, read from
/// `/proc/self/smaps` (`rr` is the flag that `MADV_RANDOM` sets).
fn vm_flags(start: usize) -> Option<String> {
    let smaps = fs::read_to_string("/proc/self/smaps").expect("read /proc/self/smaps");
    let header = format!("{start:x}-");
    // VmFlags is the last field of every entry: the first one after the
    // header is this mapping's.
    smaps
        .lines()
        .skip_while(|line| !line.starts_with(&header))
        .find_map(|line| line.strip_prefix("VmFlags:"))
        .map(|flags| flags.trim().to_string())
}

/// Bytes the file at `path` occupies on disk.
fn allocated(path: &Path) -> u64 {
    fs::metadata(path).expect("metadata").blocks() * 512
}

/// [`WANTED_SIZE`], or less when this process's resource limits forbid it.
fn sparse_size() -> u64 {
    let fsize = soft_limit("Max file size");
    let address_space = soft_limit("Max address space");
    // Leave room for the rest of the process under RLIMIT_AS.
    let fits = fsize.min(address_space / 2);
    if fits >= WANTED_SIZE {
        return WANTED_SIZE;
    }
    let page = page_size() as u64;
    let size = (fits / 2 / page * page).max(64 << 20);
    eprintln!(
        "the limits are {fsize} bytes per file and {address_space} bytes of address space: \
         the sparse test uses {size} bytes instead of {WANTED_SIZE}"
    );
    size
}

/// The soft limit called `name` in `/proc/self/limits`, or `u64::MAX` when
/// it is unlimited (or cannot be read).
fn soft_limit(name: &str) -> u64 {
    let limits = fs::read_to_string("/proc/self/limits").unwrap_or_default();
    limits
        .lines()
        .find_map(|line| line.strip_prefix(name))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|soft| soft.parse().ok())
        .unwrap_or(u64::MAX)
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("create a temporary directory")
}
