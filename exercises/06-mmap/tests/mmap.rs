//! Graded tests for lesson 06 (memory-mapped files), tasks 1, 2 and 4.
//!
//! - `t1_` grades task 1: `MappedFile` (`open`, `as_bytes`, `read_at`,
//!   `record_at`). `t1_truncating_the_file_under_the_map_is_sigbus` runs
//!   this test binary again as a child process (the ignored test
//!   `t1_sigbus_child_reads_after_truncation`), which must die of SIGBUS.
//! - `t2_` grades task 2: `FixedRecords` (`open`, `len`, `get`).
//! - `t4_` grades task 4: `WritableRecords` (`create`, `open`, `capacity`,
//!   `get`, `put`, `flush_records`, `grow`).
//!
//! Task 3 is graded in `tests/sparse.rs`.

use std::env;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::os::unix::process::ExitStatusExt;
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use mmap_files::{
    FixedRecords, LEN_PREFIX, MappedFile, MmapError, Record, WritableRecords, encode_record,
};

// ---------------------------------------------------------------- task 1

/// The payloads of the record file most task 1 tests read.
fn sample_payloads() -> Vec<Vec<u8>> {
    vec![
        b"hello".to_vec(),
        Vec::new(),
        b"memory-mapped".to_vec(),
        (0..=255u8).collect(),
        vec![7; 5000],
        b"last".to_vec(),
    ]
}

/// Writes `payloads` as length-prefixed records to `path`; returns each
/// record's offset.
fn write_records(path: &Path, payloads: &[Vec<u8>]) -> Vec<u64> {
    let mut bytes = Vec::new();
    let mut offsets = Vec::new();
    for payload in payloads {
        offsets.push(bytes.len() as u64);
        encode_record(payload, &mut bytes).expect("small payloads encode");
    }
    fs::write(path, &bytes).expect("write the record file");
    offsets
}

#[test]
fn t1_record_at_returns_each_record_in_place() {
    let dir = tempdir();
    let path = dir.path().join("records.dat");
    let payloads = sample_payloads();
    let offsets = write_records(&path, &payloads);
    let file = MappedFile::open(&path).expect("open a file of records");
    let bytes = file.as_bytes();
    assert_eq!(
        bytes,
        fs::read(&path).expect("read the file").as_slice(),
        "as_bytes must be the whole file"
    );

    for (payload, &offset) in payloads.iter().zip(&offsets) {
        let record = file
            .record_at(offset)
            .unwrap_or_else(|e| panic!("record_at({offset}) failed: {e}"));
        assert_eq!(
            record.offset, offset,
            "Record::offset is where the record starts"
        );
        assert_eq!(
            record.payload,
            payload.as_slice(),
            "the record at offset {offset} holds the wrong payload"
        );
        let expected_ptr = bytes[offset as usize + LEN_PREFIX..].as_ptr();
        assert_eq!(
            record.payload.as_ptr(),
            expected_ptr,
            "the payload of the record at offset {offset} must be a slice of the map itself \
             (as_bytes()[offset + 4..]), not a copy"
        );
    }
}

#[test]
fn t1_records_iterates_the_whole_file() {
    let dir = tempdir();
    let path = dir.path().join("records.dat");
    let payloads = sample_payloads();
    let offsets = write_records(&path, &payloads);
    let file = MappedFile::open(&path).expect("open a file of records");
    let found: Vec<Record<'_>> = file
        .records()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("reading every record of an intact file failed: {e}"));
    let found_payloads: Vec<&[u8]> = found.iter().map(|r| r.payload).collect();
    let expected: Vec<&[u8]> = payloads.iter().map(Vec::as_slice).collect();
    assert_eq!(
        found_payloads, expected,
        "records() walks record_at from offset 0: each record starts where the previous one ends"
    );
    let found_offsets: Vec<u64> = found.iter().map(|r| r.offset).collect();
    assert_eq!(found_offsets, offsets, "the records' offsets");
}

#[test]
fn t1_read_at_borrows_from_the_map() {
    let dir = tempdir();
    let path = dir.path().join("bytes.dat");
    let content: Vec<u8> = (0..10_000u32).map(|i| (i * 7) as u8).collect();
    fs::write(&path, &content).expect("write the file");
    let file = MappedFile::open(&path).expect("open the file");
    assert_eq!(
        file.len(),
        content.len() as u64,
        "len() is the file's length"
    );
    let base = file.as_bytes().as_ptr();
    for (offset, len) in [
        (0u64, 1usize),
        (0, 10_000),
        (4095, 2),
        (9_999, 1),
        (123, 4567),
    ] {
        let slice = file
            .read_at(offset, len)
            .unwrap_or_else(|e| panic!("read_at({offset}, {len}) within the file failed: {e}"));
        assert_eq!(
            slice,
            &content[offset as usize..offset as usize + len],
            "read_at({offset}, {len}) returned the wrong bytes"
        );
        assert_eq!(
            slice.as_ptr(),
            base.wrapping_add(offset as usize),
            "read_at({offset}, {len}) must return a slice of the map (as_bytes()[offset..]), \
             not a copy: zero copies is the point of mapping"
        );
    }
    let empty = file
        .read_at(10_000, 0)
        .expect("zero bytes at the very end of the file are in bounds");
    assert!(empty.is_empty(), "read_at(len, 0) is an empty slice");
}

#[test]
fn t1_read_at_past_the_end_is_an_error_not_a_panic() {
    let dir = tempdir();
    let path = dir.path().join("bytes.dat");
    fs::write(&path, [1u8; 100]).expect("write the file");
    let file = MappedFile::open(&path).expect("open the file");
    let cases: [(u64, usize); 5] = [(100, 1), (99, 2), (0, 101), (u64::MAX, 1), (1, usize::MAX)];
    for (offset, len) in cases {
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| file.read_at(offset, len)))
            .unwrap_or_else(|payload| {
                panic!(
                    "read_at({offset}, {len}) on a 100-byte file panicked ({}): expected \
                     MmapError::OutOfBounds. Compute the end with checked_add and slice with \
                     get, so that no numbers can make it panic",
                    panic_text(payload.as_ref())
                )
            });
        match outcome {
            Err(MmapError::OutOfBounds {
                offset: o,
                len: l,
                file_len,
            }) => {
                assert_eq!(
                    (o, l, file_len),
                    (offset, len as u64, 100),
                    "OutOfBounds must report the offset and length asked for, and the file's length"
                );
            }
            other => panic!(
                "read_at({offset}, {len}) on a 100-byte file must be MmapError::OutOfBounds, got {other:?}; \
                 compute the end with checked_add so that huge values cannot overflow"
            ),
        }
    }
}

#[test]
fn t1_damaged_records_are_errors() {
    let dir = tempdir();
    let path = dir.path().join("records.dat");
    let mut bytes = Vec::new();
    encode_record(b"whole", &mut bytes).expect("encode");
    let second = bytes.len() as u64;
    // A record that announces 1000 bytes but has only 3.
    bytes.extend_from_slice(&1000u32.to_le_bytes());
    bytes.extend_from_slice(b"abc");
    fs::write(&path, &bytes).expect("write the file");
    let file = MappedFile::open(&path).expect("open the file");

    match file.record_at(second) {
        Err(MmapError::TruncatedRecord {
            offset,
            payload_len,
            file_len,
        }) => assert_eq!(
            (offset, payload_len, file_len),
            (second, 1000, bytes.len() as u64),
            "TruncatedRecord reports the record's offset, the length it announces, and the file's length"
        ),
        other => panic!(
            "a record whose length runs past the end of the file must be MmapError::TruncatedRecord, got {other:?}"
        ),
    }
    // Only two bytes left: not even a whole length prefix.
    let near_end = bytes.len() as u64 - 2;
    assert!(
        matches!(
            file.record_at(near_end),
            Err(MmapError::OutOfBounds { len: 4, .. })
        ),
        "a length prefix cut short (2 of its 4 bytes) is MmapError::OutOfBounds with len 4, got {:?}",
        file.record_at(near_end)
    );
    assert!(
        matches!(
            file.record_at(bytes.len() as u64),
            Err(MmapError::OutOfBounds { .. })
        ),
        "record_at(file length) must be MmapError::OutOfBounds"
    );

    let mut records = file.records();
    assert!(
        matches!(records.next(), Some(Ok(r)) if r.payload == b"whole"),
        "the first, intact record is read"
    );
    assert!(
        matches!(records.next(), Some(Err(MmapError::TruncatedRecord { .. }))),
        "then the damaged one is an error"
    );
    assert!(records.next().is_none(), "and after it the iterator ends");
}

#[test]
fn t1_empty_file_maps_to_an_empty_slice() {
    let dir = tempdir();
    let path = dir.path().join("empty.dat");
    File::create(&path).expect("create an empty file");
    let file = MappedFile::open(&path).unwrap_or_else(|e| {
        panic!(
            "opening an empty file must work (mmap refuses a length of zero: do not map it), got {e}"
        )
    });
    assert!(file.is_empty(), "an empty file maps to an empty MappedFile");
    assert_eq!(file.as_bytes(), b"", "as_bytes of an empty file");
    assert!(
        file.read_at(0, 0).is_ok_and(<[u8]>::is_empty),
        "read_at(0, 0) on an empty file is an empty slice"
    );
    assert!(
        matches!(
            file.read_at(0, 1),
            Err(MmapError::OutOfBounds { file_len: 0, .. })
        ),
        "read_at(0, 1) on an empty file is MmapError::OutOfBounds"
    );
    assert_eq!(file.records().count(), 0, "an empty file holds no records");
}

#[test]
fn t1_a_missing_file_is_an_io_error() {
    let dir = tempdir();
    match MappedFile::open(dir.path().join("missing.dat")) {
        Err(MmapError::Io(e)) => assert_eq!(
            e.kind(),
            io::ErrorKind::NotFound,
            "the I/O error of opening a missing file"
        ),
        other => panic!("opening a missing file must be MmapError::Io(NotFound), got {other:?}"),
    }
}

/// The child's test, run by the SIGBUS test in a process of its own.
const SIGBUS_CHILD: &str = "t1_sigbus_child_reads_after_truncation";
/// Tells the child where to work (and that it is the child).
const SIGBUS_DIR_ENV: &str = "MMAP_SIGBUS_CHILD_DIR";
/// The child prints this if it survived its read.
const SURVIVED: &str = "mmap-child-survived";

#[test]
fn t1_truncating_the_file_under_the_map_is_sigbus() {
    let dir = tempdir();
    let mut child = Command::new(env::current_exe().expect("the test binary's path"))
        .args(["--exact", SIGBUS_CHILD, "--ignored", "--nocapture"])
        .args(["--test-threads", "1"])
        .env(SIGBUS_DIR_ENV, dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the child process");
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the child") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the child process did not finish within 20 s");
        }
        thread::sleep(Duration::from_millis(10));
    };
    let output = child
        .wait_with_output()
        .expect("collect the child's output");
    let stdout = String::from_utf8_lossy(&output.stdout);
    // The first lines say why the child ended; a backtrace may follow.
    let stderr: String = String::from_utf8_lossy(&output.stderr)
        .lines()
        .take(12)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        !stdout.contains(SURVIVED),
        "the child truncated the file to 0 bytes behind its MappedFile's back and then read \
         a byte through read_at, and survived. With a real map that read must die of SIGBUS: \
         the page it points at no longer exists. MappedFile::open must map the file \
         (memmap2::Mmap::map), not read it into memory."
    );
    assert_eq!(
        status.signal(),
        Some(libc::SIGBUS),
        "the child must die of SIGBUS (signal {}) when it reads through a map whose file was \
         truncated; it ended with {status}. Its stderr:\n{stderr}",
        libc::SIGBUS
    );
}

/// The child process of the SIGBUS test: maps a file, truncates it behind
/// the map's back, and reads. Run by itself it does nothing.
#[test]
#[ignore = "entry point of the SIGBUS test's child process"]
fn t1_sigbus_child_reads_after_truncation() {
    let Some(dir) = env::var_os(SIGBUS_DIR_ENV) else {
        eprintln!(
            "{SIGBUS_CHILD} only runs as the child of t1_truncating_the_file_under_the_map_is_sigbus"
        );
        return;
    };
    let path = Path::new(&dir).join("victim.dat");
    fs::write(&path, vec![9u8; 3 * 4096]).expect("child: write the file");
    let file = MappedFile::open(&path).expect("child: map the file");
    // Another handle, as another process would have: cut the file to nothing.
    OpenOptions::new()
        .write(true)
        .open(&path)
        .expect("child: open the file again")
        .set_len(0)
        .expect("child: truncate the file");
    // The map still believes the file is 12 KiB long, so this passes the
    // bounds check, and touches a page that no longer exists.
    let byte = file
        .read_at(2 * 4096 + 5, 1)
        .expect("child: in bounds of the map")[0];
    std::hint::black_box(byte);
    println!("{SURVIVED} (read {byte})");
}

// ---------------------------------------------------------------- task 2

/// The record with id `id` in the task 2 and 4 tests: its id, then bytes
/// that depend on it, so that any mix-up of ids shows.
fn record_for<const SIZE: usize>(id: u64) -> [u8; SIZE] {
    let mut rng = Rng(id ^ 0xDB);
    let mut record = [0u8; SIZE];
    for (i, byte) in record.iter_mut().enumerate() {
        *byte = if i < 8 {
            id.to_le_bytes()[i]
        } else {
            rng.next() as u8
        };
    }
    record
}

/// Writes records `0..count` of `SIZE` bytes to `path`.
fn write_fixed<const SIZE: usize>(path: &Path, count: u64) {
    let bytes: Vec<u8> = (0..count).flat_map(record_for::<SIZE>).collect();
    fs::write(path, bytes).expect("write the record file");
}

#[test]
fn t2_random_ids_return_their_records() {
    let dir = tempdir();
    let path = dir.path().join("fixed.dat");
    const COUNT: u64 = 5_000;
    write_fixed::<64>(&path, COUNT);
    let records = FixedRecords::<64>::open(&path).expect("open a file of 64-byte records");
    assert_eq!(records.len(), COUNT, "len() is the number of records");
    assert!(!records.is_empty(), "the file is not empty");
    let mut rng = Rng(64);
    for _ in 0..20_000 {
        let id = rng.next() % COUNT;
        let record = records
            .get(id)
            .unwrap_or_else(|e| panic!("get({id}) with {COUNT} records failed: {e}"));
        assert!(
            *record == record_for::<64>(id),
            "get({id}) returned the wrong bytes; record id lives at byte id * SIZE = {}",
            id * 64
        );
    }
    for id in [0, COUNT - 1] {
        assert!(
            *records.get(id).expect("the first and last ids exist") == record_for::<64>(id),
            "get({id}) returned the wrong bytes"
        );
    }
}

#[test]
fn t2_other_record_sizes() {
    let dir = tempdir();
    let path = dir.path().join("odd.dat");
    write_fixed::<100>(&path, 333);
    let records = FixedRecords::<100>::open(&path).expect("open a file of 100-byte records");
    assert_eq!(records.len(), 333, "333 records of 100 bytes");
    for id in [0, 1, 40, 41, 332] {
        assert!(
            *records.get(id).expect("the id exists") == record_for::<100>(id),
            "get({id}) with 100-byte records returned the wrong bytes (record size is not always a power of two)"
        );
    }
    let path = dir.path().join("bytes.dat");
    fs::write(&path, b"abc").expect("write the file");
    let bytes = FixedRecords::<1>::open(&path).expect("open a file of 1-byte records");
    assert_eq!(bytes.len(), 3, "three 1-byte records");
    assert_eq!(
        bytes.get(2).expect("record 2 exists"),
        b"c",
        "record 2 of \"abc\""
    );
}

#[test]
fn t2_ids_past_the_end_are_an_error() {
    let dir = tempdir();
    let path = dir.path().join("fixed.dat");
    write_fixed::<64>(&path, 10);
    let records = FixedRecords::<64>::open(&path).expect("open the file");
    for id in [10, 11, 1 << 40, u64::MAX / 64 + 1, u64::MAX] {
        let outcome =
            panic::catch_unwind(AssertUnwindSafe(|| records.get(id))).unwrap_or_else(|payload| {
                panic!(
                    "get({id}) with 10 records panicked ({}): expected \
                     MmapError::NoSuchRecord. id * SIZE overflows for huge ids: convert the id \
                     with usize::try_from and look it up with get",
                    panic_text(payload.as_ref())
                )
            });
        match outcome {
            Err(MmapError::NoSuchRecord { id: i, count }) => assert_eq!(
                (i, count),
                (id, 10),
                "NoSuchRecord reports the id asked for and the number of records"
            ),
            other => panic!(
                "get({id}) with 10 records must be MmapError::NoSuchRecord, got {other:?}; \
                 beware of overflow in id * SIZE"
            ),
        }
    }
}

#[test]
fn t2_a_file_that_is_not_whole_records_is_refused() {
    let dir = tempdir();
    let path = dir.path().join("partial.dat");
    fs::write(&path, vec![0u8; 64 * 3 + 5]).expect("write the file");
    match FixedRecords::<64>::open(&path) {
        Err(MmapError::PartialRecord {
            file_len,
            record_size,
        }) => assert_eq!(
            (file_len, record_size),
            (64 * 3 + 5, 64),
            "PartialRecord reports the file's length and the record size"
        ),
        other => panic!(
            "a 197-byte file is not a whole number of 64-byte records: expected \
             MmapError::PartialRecord, got {other:?}"
        ),
    }
    let empty = dir.path().join("empty.dat");
    File::create(&empty).expect("create an empty file");
    let records = FixedRecords::<64>::open(&empty).expect("an empty file holds zero records");
    assert!(records.is_empty(), "an empty file holds no records");
    assert!(
        matches!(
            records.get(0),
            Err(MmapError::NoSuchRecord { id: 0, count: 0 })
        ),
        "get(0) on an empty file is NoSuchRecord"
    );
}

// ---------------------------------------------------------------- task 4

#[test]
fn t4_writes_through_the_map_reach_the_file() {
    let dir = tempdir();
    let path = dir.path().join("store.dat");
    const N: u64 = 100;
    let mut store = WritableRecords::<32>::create(&path, N).expect("create a store of 100 records");
    assert_eq!(store.capacity(), N, "capacity() after create");
    assert_eq!(
        fs::metadata(&path).expect("the file exists").len(),
        N * 32,
        "create sets the file's length to capacity * SIZE"
    );
    assert!(
        *store.get(7).expect("record 7 exists") == [0; 32],
        "a new store's records are all zero"
    );
    for id in 0..N {
        store
            .put(id, &record_for::<32>(id))
            .expect("put within capacity");
    }
    assert!(
        *store.get(42).expect("record 42 exists") == record_for::<32>(42),
        "get returns what put wrote"
    );

    // The map shares the kernel's page cache with read(2): a plain read
    // sees the write at once, before any flush.
    let plain = File::open(&path).expect("open the file for reading");
    let mut seen = [0u8; 32];
    plain
        .read_exact_at(&mut seen, 42 * 32)
        .expect("read record 42");
    assert!(
        seen == record_for::<32>(42),
        "a plain read of record 42 does not see the record just put; the map must be shared \
         with the file (MmapMut::map_mut), not a private copy (map_copy)"
    );

    store.flush_records(40, 5).expect("flush records 40..45");
    store.flush_records(0, N).expect("flush every record");
    store
        .flush_records(N - 1, 1)
        .expect("flush the last record");
    store
        .flush_records(N, 0)
        .expect("an empty range is nothing to flush");
    drop(store);

    let expected: Vec<u8> = (0..N).flat_map(record_for::<32>).collect();
    assert!(
        fs::read(&path).expect("read the file back") == expected,
        "after flush and drop, the file must hold every record that was put"
    );

    let store = WritableRecords::<32>::open(&path).expect("open the store again");
    assert_eq!(store.capacity(), N, "capacity() after open");
    assert!(
        *store.get(N - 1).expect("the last record exists") == record_for::<32>(N - 1),
        "open maps the records that are in the file"
    );
}

#[test]
fn t4_grow_keeps_old_records_and_adds_zeroed_ones() {
    let dir = tempdir();
    let path = dir.path().join("store.dat");
    const N: u64 = 300;
    let mut store = WritableRecords::<64>::create(&path, N).expect("create the store");
    for id in 0..N {
        store
            .put(id, &record_for::<64>(id))
            .expect("put within capacity");
    }
    store.grow(2 * N).expect("grow to twice the capacity");
    assert_eq!(store.capacity(), 2 * N, "capacity() after grow");
    assert_eq!(
        fs::metadata(&path).expect("the file exists").len(),
        2 * N * 64,
        "grow sets the file's length to the new capacity * SIZE"
    );
    for id in [0, 1, N / 2, N - 1] {
        assert!(
            *store.get(id).expect("old ids still exist") == record_for::<64>(id),
            "record {id}, written before grow, must be unchanged after it"
        );
    }
    assert!(
        *store.get(N).expect("new ids exist after grow") == [0; 64],
        "records added by grow are zero"
    );
    for id in N..2 * N {
        store
            .put(id, &record_for::<64>(id))
            .unwrap_or_else(|e| panic!("put({id}) after growing to {} failed: {e}", 2 * N));
    }
    store.flush_records(N, N).expect("flush the new records");
    store
        .grow(2 * N)
        .expect("growing to the same capacity does nothing");
    drop(store);

    let expected: Vec<u8> = (0..2 * N).flat_map(record_for::<64>).collect();
    assert!(
        fs::read(&path).expect("read the file back") == expected,
        "after grow, put and flush, the file must hold all {} records",
        2 * N
    );
    let store = WritableRecords::<64>::open(&path).expect("open the grown store");
    assert_eq!(
        store.capacity(),
        2 * N,
        "the grown store's capacity after open"
    );
}

#[test]
fn t4_shrinking_is_refused_and_changes_nothing() {
    let dir = tempdir();
    let path = dir.path().join("store.dat");
    let mut store = WritableRecords::<16>::create(&path, 10).expect("create the store");
    store.put(9, &[9; 16]).expect("put the last record");
    match store.grow(5) {
        Err(MmapError::Shrink {
            capacity,
            requested,
        }) => assert_eq!(
            (capacity, requested),
            (10, 5),
            "Shrink reports the current and the requested capacity"
        ),
        other => panic!(
            "grow(5) on a store of 10 records must be MmapError::Shrink: cutting a file under a \
             live map makes its tail SIGBUS; got {other:?}"
        ),
    }
    assert_eq!(
        store.capacity(),
        10,
        "a refused shrink leaves the capacity alone"
    );
    assert_eq!(
        fs::metadata(&path).expect("the file exists").len(),
        160,
        "a refused shrink leaves the file's length alone"
    );
    assert_eq!(
        store.get(9).expect("record 9 still exists"),
        &[9; 16],
        "a refused shrink leaves the records alone"
    );
}

#[test]
fn t4_ids_and_ranges_past_the_end_are_errors() {
    let dir = tempdir();
    let path = dir.path().join("store.dat");
    let mut store = WritableRecords::<8>::create(&path, 4).expect("create the store");
    assert!(
        matches!(
            store.put(4, &[1; 8]),
            Err(MmapError::NoSuchRecord { id: 4, count: 4 })
        ),
        "put(4) on a store of 4 records must be NoSuchRecord {{ id: 4, count: 4 }}"
    );
    assert!(
        matches!(
            store.put(u64::MAX, &[1; 8]),
            Err(MmapError::NoSuchRecord { .. })
        ),
        "put(u64::MAX) must be NoSuchRecord, not an overflow"
    );
    assert!(
        matches!(
            store.get(4),
            Err(MmapError::NoSuchRecord { id: 4, count: 4 })
        ),
        "get(4) on a store of 4 records must be NoSuchRecord"
    );
    for (first, count) in [(3, 2), (4, 1), (0, 5), (1, u64::MAX)] {
        let outcome = store.flush_records(first, count);
        assert!(
            matches!(outcome, Err(MmapError::NoSuchRecord { id: 4, count: 4 })),
            "flush_records({first}, {count}) on a store of 4 records: expected NoSuchRecord \
             {{ id: 4, count: 4 }} (record 4 is the first one of the range that does not exist, \
             first.max(capacity)), got {outcome:?}"
        );
    }
    assert_eq!(
        fs::read(&path).expect("read the file"),
        vec![0; 32],
        "refused puts write nothing"
    );
}

#[test]
fn t4_create_and_open_refuse_bad_files_and_lose_nothing() {
    let dir = tempdir();
    let existing = dir.path().join("existing.dat");
    fs::write(&existing, b"precious").expect("write a file");
    match WritableRecords::<8>::create(&existing, 4) {
        Err(MmapError::Io(e)) => assert_eq!(
            e.kind(),
            io::ErrorKind::AlreadyExists,
            "create on an existing file"
        ),
        other => panic!(
            "create must not overwrite an existing file (OpenOptions::create_new): expected \
             MmapError::Io(AlreadyExists), got {other:?}"
        ),
    }
    assert_eq!(
        fs::read(&existing).expect("read the file"),
        b"precious",
        "a refused create leaves the existing file untouched"
    );
    assert!(
        matches!(
            WritableRecords::<8>::create(dir.path().join("zero.dat"), 0),
            Err(MmapError::Empty)
        ),
        "create with capacity 0 must be MmapError::Empty: there is nothing to map"
    );

    let partial = dir.path().join("partial.dat");
    fs::write(&partial, [1u8; 20]).expect("write a file");
    assert!(
        matches!(
            WritableRecords::<8>::open(&partial),
            Err(MmapError::PartialRecord {
                file_len: 20,
                record_size: 8
            })
        ),
        "open of a 20-byte file as 8-byte records must be PartialRecord"
    );
    assert_eq!(
        fs::read(&partial).expect("read the file"),
        [1u8; 20],
        "a refused open leaves the file untouched"
    );
    let empty = dir.path().join("empty.dat");
    File::create(&empty).expect("create an empty file");
    assert!(
        matches!(WritableRecords::<8>::open(&empty), Err(MmapError::Empty)),
        "open of an empty file must be MmapError::Empty"
    );
    assert!(
        matches!(
            WritableRecords::<8>::open(dir.path().join("missing.dat")),
            Err(MmapError::Io(e)) if e.kind() == io::ErrorKind::NotFound
        ),
        "open of a missing file must be MmapError::Io(NotFound), not create it"
    );
}

// ---------------------------------------------------------------- helpers

/// The message of a caught panic, for a failure report.
fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_string())
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("create a temporary directory")
}

/// SplitMix64: a small, seedable generator.
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
