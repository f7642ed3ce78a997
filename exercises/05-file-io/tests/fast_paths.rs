//! Graded tests for lesson 05, tasks 7 to 9: the fast paths, and what they
//! cost in system calls.
//!
//! - `t7_` grades task 7: `open_file` and `BlockFile` (direct I/O with
//!   aligned blocks, and the buffered fallback where `O_DIRECT` is refused).
//! - `t8_` grades task 8: `copy_naive`, `copy_file_naive` and
//!   `copy_file_fast`.
//! - `t9_` grades task 9: `CountingWriter`, `write_through_buffer` and
//!   `predicted_writes`.
//!
//! Some tests ask the kernel how many `read` and `write` system calls the
//! current thread made (`/proc/thread-self/io`, fields `syscr` and
//! `syscw`). Where that file does not exist, they say so and check the rest.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Cursor, ErrorKind, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use file_io::{
    BLOCK_SIZE, Block, BlockFile, CopyReport, CountingWriter, FileIoError, IoPath, WriteCounts,
    copy_file_fast, copy_file_naive, copy_naive, open_file, predicted_writes, write_through_buffer,
};

// ------------------------------------------------------- helpers

/// This thread's `read` and `write` system call counts, if the kernel
/// reports them.
fn syscalls() -> Option<(u64, u64)> {
    let text = fs::read_to_string("/proc/thread-self/io").ok()?;
    let field = |name: &str| -> Option<u64> {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse().ok())
    };
    Some((field("syscr:")?, field("syscw:")?))
}

/// Whether the file descriptor behind `file` has `O_DIRECT` set.
fn has_o_direct(file: &File) -> bool {
    // SAFETY: F_GETFL on a descriptor we own reads its flags; nothing else.
    let flags = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_GETFL) };
    assert!(flags >= 0, "fcntl(F_GETFL) failed on an open file");
    flags & libc::O_DIRECT != 0
}

/// Whether the file system under `dir` accepts `O_DIRECT`, asked directly.
fn accepts_o_direct(dir: &Path) -> bool {
    let probe = dir.join(".o_direct_probe");
    let ok = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .custom_flags(libc::O_DIRECT)
        .open(&probe)
        .is_ok();
    let _ = fs::remove_file(&probe);
    ok
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ (i >> 9) as u8)
        .collect()
}

fn block_with(seed: u8) -> Box<Block> {
    let mut block = Block::zeroed();
    block.0.copy_from_slice(&pattern(BLOCK_SIZE, seed));
    block
}

/// Writes, syncs, and reads back blocks through `file`.
fn round_trip(file: &BlockFile, context: &str) {
    for (index, seed) in [(0, 1u8), (3, 2), (1, 3)] {
        file.write_block(index, &block_with(seed))
            .unwrap_or_else(|e| panic!("{context}: write block {index}: {e}"));
    }
    file.sync_data()
        .unwrap_or_else(|e| panic!("{context}: sync_data: {e}"));
    let len = file.file().metadata().expect("metadata").len();
    assert_eq!(
        len,
        4 * BLOCK_SIZE as u64,
        "{context}: blocks 0, 1 and 3 were written, so the file is 4 blocks long; block i \
         lives at byte offset i * BLOCK_SIZE"
    );
    let mut block = Block::zeroed();
    for (index, seed) in [(3, 2u8), (0, 1), (1, 3)] {
        file.read_block(index, &mut block)
            .unwrap_or_else(|e| panic!("{context}: read block {index}: {e}"));
        assert!(
            *block == *block_with(seed),
            "{context}: block {index} must read back exactly as it was written"
        );
    }
    file.read_block(2, &mut block)
        .unwrap_or_else(|e| panic!("{context}: read block 2: {e}"));
    assert!(
        block.0.iter().all(|&b| b == 0),
        "{context}: block 2 was never written: it is a hole and reads as zeros"
    );
    match file.read_block(4, &mut block) {
        Err(FileIoError::Block { index: 4, source }) => assert_eq!(
            source.kind(),
            ErrorKind::UnexpectedEof,
            "{context}: reading past the end is UnexpectedEof (read_exact_at)"
        ),
        other => panic!(
            "{context}: reading block 4 of a 4-block file must be FileIoError::Block {{ index: 4, \
             .. }}, got {other:?}"
        ),
    }
}

// ---------------------------------------------------------------- task 7

#[test]
fn t7_open_file_sets_o_direct_only_when_asked() {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let path = dir.path().join("plain.dat");
    let file = open_file(&path, false).expect("open without O_DIRECT");
    assert!(
        !has_o_direct(&file),
        "open_file(path, false) must not set O_DIRECT"
    );
    assert!(path.exists(), "open_file must create a missing file");
    if accepts_o_direct(dir.path()) {
        let file = open_file(&path, true).expect("open with O_DIRECT");
        assert!(
            has_o_direct(&file),
            "open_file(path, true) must set O_DIRECT: OpenOptionsExt::custom_flags(libc::O_DIRECT)"
        );
    } else {
        eprintln!(
            "note: {} refuses O_DIRECT, so only the buffered open was checked",
            dir.path().display()
        );
    }
}

#[test]
fn t7_direct_io_is_used_where_the_file_system_allows_it() {
    let mut dirs = vec![std::env::temp_dir()];
    let shm = PathBuf::from("/dev/shm");
    if shm.is_dir() {
        dirs.push(shm);
    } else {
        eprintln!("note: /dev/shm does not exist here; checking the temp dir only");
    }
    for base in dirs {
        let Ok(dir) = tempfile::tempdir_in(&base) else {
            eprintln!("note: cannot create a directory in {}", base.display());
            continue;
        };
        let path = dir.path().join("blocks.dat");
        let accepts = accepts_o_direct(dir.path());
        let file = BlockFile::open(&path)
            .unwrap_or_else(|e| panic!("BlockFile::open in {}: {e}", base.display()));
        let context = format!("in {}", base.display());
        match file.io_path() {
            IoPath::Direct => {
                assert!(
                    accepts,
                    "{context}: the file system refuses O_DIRECT, yet io_path() says Direct"
                );
                assert!(
                    has_o_direct(file.file()),
                    "{context}: io_path() says Direct, but the descriptor has no O_DIRECT flag"
                );
            }
            IoPath::Buffered { reason } => {
                assert!(
                    !accepts,
                    "{context}: the file system accepts O_DIRECT, so BlockFile::open must use it \
                     (it fell back to buffered I/O because: {reason})"
                );
                assert!(
                    !has_o_direct(file.file()),
                    "{context}: io_path() says Buffered, but the descriptor has O_DIRECT"
                );
            }
        }
        eprintln!(
            "{context}: the file system {} O_DIRECT; BlockFile chose {:?}",
            if accepts { "accepts" } else { "refuses" },
            file.io_path()
        );
        round_trip(&file, &context);
    }
}

#[test]
fn t7_a_refused_o_direct_falls_back_with_a_reason() {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let path = dir.path().join("blocks.dat");
    let mut asked = Vec::new();
    // Pretend to be a file system that refuses O_DIRECT, as tmpfs did
    // before Linux 6.6: open(2) fails with EINVAL.
    let file = BlockFile::open_with(&path, |p, direct| {
        asked.push((p.to_path_buf(), direct));
        if direct {
            Err(io::Error::from_raw_os_error(libc::EINVAL))
        } else {
            open_file(p, false)
        }
    })
    .unwrap_or_else(|e| {
        panic!(
            "open_with failed with `{e}`; EINVAL from an O_DIRECT open means the file system \
             refuses direct I/O: open again without it"
        )
    });
    assert_eq!(
        asked,
        [(path.clone(), true), (path.clone(), false)],
        "BlockFile::open_with must try O_DIRECT first, then, refused, the same path without it"
    );
    match file.io_path() {
        IoPath::Buffered { reason } => {
            assert!(
                reason.contains("O_DIRECT"),
                "the reason must say that O_DIRECT was refused, for whoever reads the log: \
                 `{reason}`"
            );
            assert!(
                reason.contains("blocks.dat"),
                "the reason must name the file: `{reason}`"
            );
        }
        IoPath::Direct => panic!("after a refused O_DIRECT open, io_path() must be Buffered"),
    }
    round_trip(&file, "after the fallback");
}

#[test]
fn t7_other_open_errors_are_reported_not_hidden_by_the_fallback() {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let path = dir.path().join("blocks.dat");
    let mut calls = 0;
    let result = BlockFile::open_with(&path, |_, _| {
        calls += 1;
        Err(io::Error::from(ErrorKind::PermissionDenied))
    });
    match result {
        Err(FileIoError::Open { path: p, source }) => {
            assert_eq!(p, path, "FileIoError::Open must name the file");
            assert_eq!(
                source.kind(),
                ErrorKind::PermissionDenied,
                "keep the real error"
            );
        }
        other => panic!(
            "a permission error is not a refusal of O_DIRECT: it must be FileIoError::Open, not a \
             fallback; got {other:?}"
        ),
    }
    assert_eq!(
        calls, 1,
        "only a refusal of O_DIRECT (EINVAL) deserves a second, buffered attempt"
    );
    let missing = dir.path().join("missing").join("blocks.dat");
    assert!(
        matches!(BlockFile::open(&missing), Err(FileIoError::Open { .. })),
        "a missing directory is FileIoError::Open"
    );
}

// ---------------------------------------------------------------- task 8

/// A reader that records the size of every buffer it is asked to fill,
/// gives at most what is asked, and returns `Interrupted` once.
struct RecordingReader {
    inner: Cursor<Vec<u8>>,
    requests: Vec<usize>,
    interrupt_at: usize,
}

impl Read for RecordingReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.requests.push(buf.len());
        if self.requests.len() == self.interrupt_at {
            return Err(io::Error::new(ErrorKind::Interrupted, "EINTR"));
        }
        self.inner.read(buf)
    }
}

/// A writer that takes at most 1000 bytes per call.
struct Slow(Vec<u8>);

impl Write for Slow {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = buf.len().min(1000);
        self.0.extend_from_slice(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn t8_the_naive_loop_uses_exactly_the_buffer_it_is_given() {
    let data = pattern(100_003, 7);
    for buf_size in [1000, 4096, 65_536] {
        let mut reader = RecordingReader {
            inner: Cursor::new(data.clone()),
            requests: Vec::new(),
            interrupt_at: 3,
        };
        let mut out = Slow(Vec::new());
        let report = copy_naive(&mut reader, &mut out, buf_size)
            .unwrap_or_else(|e| panic!("copy_naive with a {buf_size}-byte buffer: {e}"));
        assert!(
            out.0 == data,
            "copy_naive must copy every byte, in order, even to a writer that takes 1000 bytes \
             per call (use your write_fully from task 3)"
        );
        assert!(
            reader.requests.iter().all(|&n| n == buf_size),
            "every read must ask for the whole {buf_size}-byte buffer; the reader was asked for \
             {:?}",
            &reader.requests[..reader.requests.len().min(8)]
        );
        let chunks = 100_003_u64.div_ceil(buf_size as u64);
        assert_eq!(
            report,
            CopyReport {
                bytes: 100_003,
                chunks
            },
            "100003 bytes in {buf_size}-byte reads: {chunks} chunks (an Interrupted read is \
             retried, and the final Ok(0) is not a chunk)"
        );
    }
    let mut empty = Cursor::new(Vec::new());
    assert!(
        matches!(
            copy_naive(&mut empty, &mut Vec::new(), 0),
            Err(FileIoError::ZeroCapacity)
        ),
        "a 0-byte buffer must be FileIoError::ZeroCapacity: every read would return 0, which \
         looks like the end of the input"
    );
}

#[test]
fn t8_both_copies_are_byte_identical() {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    for len in [0, 1, 4095, 4096, 3 * 1024 * 1024 + 17] {
        let src = dir.path().join(format!("src-{len}"));
        let data = pattern(len, len as u8);
        fs::write(&src, &data).expect("write the source");
        let naive = dir.path().join(format!("naive-{len}"));
        let fast = dir.path().join(format!("fast-{len}"));
        // A destination that already holds more data must be truncated.
        fs::write(&fast, vec![b'!'; len + 100]).expect("write an old destination");

        let report = copy_file_naive(&src, &naive, 8192)
            .unwrap_or_else(|e| panic!("copy_file_naive of {len} bytes: {e}"));
        assert_eq!(
            report.bytes, len as u64,
            "copy_file_naive reports the bytes copied"
        );
        let copied = copy_file_fast(&src, &fast)
            .unwrap_or_else(|e| panic!("copy_file_fast of {len} bytes: {e}"));
        assert_eq!(
            copied, len as u64,
            "copy_file_fast returns the bytes copied"
        );
        assert!(
            fs::read(&naive).expect("read the naive copy") == data,
            "the naive copy of {len} bytes must equal the source"
        );
        assert!(
            fs::read(&fast).expect("read the fast copy") == data,
            "the fast copy of {len} bytes must equal the source, with nothing of the old \
             destination left after it"
        );
    }
}

#[test]
fn t8_the_kernel_copy_makes_far_fewer_system_calls() {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let src = dir.path().join("src");
    let len = 4 << 20;
    fs::write(&src, pattern(len, 1)).expect("write the source");
    let Some(before) = syscalls() else {
        eprintln!("note: /proc/thread-self/io is missing, so system calls cannot be counted");
        copy_file_fast(&src, dir.path().join("fast")).expect("copy_file_fast");
        return;
    };
    copy_file_naive(&src, dir.path().join("naive"), 4096).expect("copy_file_naive");
    let middle = syscalls().expect("read /proc/thread-self/io");
    copy_file_fast(&src, dir.path().join("fast")).expect("copy_file_fast");
    let after = syscalls().expect("read /proc/thread-self/io");
    let naive = (middle.0 - before.0, middle.1 - before.1);
    let fast = (after.0 - middle.0, after.1 - middle.1);
    eprintln!("4 MiB copy: naive {naive:?} (reads, writes); fast {fast:?}");
    assert!(
        naive.0 >= 1024 && naive.1 >= 1024,
        "a naive copy of 4 MiB with a 4 KiB buffer makes at least 1024 reads and 1024 writes; \
         the kernel counted {naive:?}"
    );
    assert!(
        fast.0 < 64 && fast.1 < 64,
        "copy_file_fast made {fast:?} (read, write) system calls for 4 MiB: use std::io::copy \
         directly between the two Files, so the kernel copies (copy_file_range) without the \
         bytes ever entering this process"
    );
}

#[test]
fn t8_bad_input_loses_nothing() {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let missing = dir.path().join("no-such-source");
    let dst = dir.path().join("precious");
    fs::write(&dst, b"do not lose me").expect("write the destination");

    let naive = copy_file_naive(&missing, &dst, 4096);
    let fast = copy_file_fast(&missing, &dst);
    for (name, result) in [
        ("copy_file_naive", naive.map(|r| r.bytes)),
        ("copy_file_fast", fast),
    ] {
        match result {
            Err(FileIoError::Open { path, .. }) => {
                assert_eq!(
                    path, missing,
                    "{name}: FileIoError::Open must name the source"
                )
            }
            other => {
                panic!("{name} from a missing source must be FileIoError::Open, got {other:?}")
            }
        }
    }
    assert_eq!(
        fs::read(&dst).expect("read the destination"),
        b"do not lose me",
        "a copy from a missing source must not touch the destination: open the source first"
    );

    let same = dir.path().join("same");
    fs::write(&same, b"copy me onto myself").expect("write a file");
    assert!(
        copy_file_fast(&same, &same).is_err() && copy_file_naive(&same, &same, 64).is_err(),
        "copying a file onto itself must be refused"
    );
    assert_eq!(
        fs::read(&same).expect("read the file"),
        b"copy me onto myself",
        "copying a file onto itself must not empty it (File::create truncates first!)"
    );
}

// ---------------------------------------------------------------- task 9

/// The number of `write` calls a `BufWriter` of `capacity` bytes makes for
/// `n` records of `len` bytes, worked out by following its rules one record
/// at a time: a record that does not fit in the free space first sends the
/// buffer out (one write); a record at least as large as the whole buffer
/// goes straight through (one write); anything else is copied in. The final
/// flush sends whatever is left.
fn simulate(n: u64, len: usize, capacity: usize) -> u64 {
    let (mut used, mut writes) = (0, 0);
    for _ in 0..n {
        if len > capacity - used {
            if used > 0 {
                writes += 1;
            }
            used = 0;
        }
        if len >= capacity {
            if len > 0 {
                writes += 1;
            }
        } else {
            used += len;
        }
    }
    if used > 0 {
        writes += 1;
    }
    writes
}

#[test]
fn t9_the_counting_writer_counts_calls_bytes_and_flushes() {
    let mut counting = CountingWriter::new(Slow(Vec::new()));
    assert_eq!(
        counting.write(b"hello").expect("write"),
        5,
        "the counting writer must return what the inner writer accepted: all 5 bytes of a short write"
    );
    assert_eq!(
        counting.write(&[b'x'; 1500]).expect("write"),
        1000,
        "the counting writer passes each call on and returns what the inner writer accepted"
    );
    counting.flush().expect("flush");
    assert_eq!(
        counting.counts(),
        WriteCounts {
            writes: 2,
            bytes: 1005,
            flushes: 1
        },
        "count every write call that reached the inner writer, the bytes it *accepted* (not the \
         bytes offered), and every flush"
    );
    assert_eq!(
        counting.get_ref().0.len(),
        1005,
        "the bytes reach the inner writer"
    );
}

#[test]
fn t9_the_buffer_capacity_sets_the_number_of_writes() {
    let cases = [
        (1000, 100, 4096),
        (1000, 100, 8192),
        (1000, 64, 64),
        (1000, 64, 65),
        (1000, 1024, 4096),
        (1000, 1025, 4096),
        (10_000, 16, 64),
        (10_000, 16, 1 << 20),
        (7, 5000, 4096),
        (0, 100, 4096),
        (50, 0, 4096),
    ];
    for (n, len, capacity) in cases {
        let record = vec![b'r'; len];
        let (_, counts) = write_through_buffer(io::sink(), capacity, (0..n).map(|_| &record[..]))
            .unwrap_or_else(|e| panic!("write_through_buffer: {e}"));
        let expected = simulate(n, len, capacity);
        assert_eq!(
            counts.writes, expected,
            "{n} records of {len} bytes through a {capacity}-byte BufWriter reach the inner writer \
             in {expected} write calls; write each record with write_all into \
             BufWriter::with_capacity(capacity, CountingWriter::new(inner)), then flush"
        );
        assert_eq!(counts.bytes, n * len as u64, "every byte arrives");
        assert_eq!(
            counts.flushes, 1,
            "write_through_buffer flushes once, at the end"
        );
        assert_eq!(
            predicted_writes(n, len, capacity),
            expected,
            "predicted_writes({n}, {len}, {capacity}): a buffer of {capacity} bytes holds \
             {capacity} / {len} whole records, and a record at least as large as the buffer \
             bypasses it"
        );
    }
}

#[test]
fn t9_the_kernel_agrees_with_the_count() {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let file = File::create(dir.path().join("records.dat")).expect("create the file");
    let record = [b'k'; 100];
    let Some(before) = syscalls() else {
        eprintln!("note: /proc/thread-self/io is missing, so system calls cannot be counted");
        write_through_buffer(file, 4096, (0..1000).map(|_| &record[..]))
            .expect("write_through_buffer");
        return;
    };
    let (file, counts) = write_through_buffer(file, 4096, (0..1000).map(|_| &record[..]))
        .expect("write_through_buffer to a file");
    let after = syscalls().expect("read /proc/thread-self/io");
    let kernel_writes = after.1 - before.1;
    eprintln!(
        "1000 records of 100 bytes, 4 KiB buffer: CountingWriter saw {} writes, the kernel {kernel_writes}",
        counts.writes
    );
    assert_eq!(
        kernel_writes, counts.writes,
        "over a File, every write call the CountingWriter sees is one write(2) system call"
    );
    assert_eq!(
        counts.writes, 25,
        "40 records of 100 bytes fit in 4096 bytes: 1000 / 40 = 25"
    );
    assert_eq!(
        file.metadata().expect("metadata").len(),
        100_000,
        "write_through_buffer returns the inner writer, with every byte written to it"
    );
}
