//! Graded tests for lesson 05, task 1 (`t1_`): streaming a large input
//! through a `BufReader` with bounded memory.
//!
//! This file has a test binary of its own because it installs a counting
//! global allocator: it measures how many bytes the *current thread* has
//! allocated at its peak, so tests running in parallel do not disturb each
//! other.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::fs;
use std::io::{self, ErrorKind, Read};

use file_io::{FileIoError, LineCount, count_lines, count_lines_in_file};

// ------------------------------------------------------- the allocator

/// The system allocator, counting each thread's live bytes and their peak.
struct PeakPerThread;

thread_local! {
    /// Bytes this thread allocated minus bytes it freed.
    static LIVE: Cell<isize> = const { Cell::new(0) };
    /// The highest `LIVE` reached since the last reset.
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn track(delta: isize) {
    // `try_with`: a thread being torn down may still free memory.
    let _ = LIVE.try_with(|live| {
        let now = live.get() + delta;
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

// SAFETY: every call is passed on to `System` unchanged; only counters
// in const-initialised thread-locals (which never allocate) are touched.
unsafe impl GlobalAlloc for PeakPerThread {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        track(layout.size() as isize);
        // SAFETY: the caller upholds `alloc`'s contract; we forward it.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        track(-(layout.size() as isize));
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        track(new_size as isize - layout.size() as isize);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: PeakPerThread = PeakPerThread;

/// Runs `f` and returns its result with the most bytes this thread had
/// allocated at once while it ran (above what it held before).
fn peak_allocation<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(base));
    let result = f();
    let peak = PEAK.with(Cell::get) - base;
    (result, peak.max(0) as usize)
}

// ------------------------------------------------------- test readers

/// A reader that makes up its input as it is asked for it:
/// `before` lines of `line_len` bytes (each ends with `\n`), one line of
/// `long_len` bytes, and `after` more lines of `line_len` bytes. It
/// remembers the largest buffer it was asked to fill.
struct Generated {
    len: u64,
    pos: u64,
    line_len: u64,
    long_at: u64,
    long_len: u64,
    largest_request: usize,
    calls: u64,
}

impl Generated {
    fn new(before: u64, line_len: u64, long_len: u64, after: u64) -> Self {
        Self {
            len: (before + after) * line_len + long_len,
            pos: 0,
            line_len,
            long_at: before * line_len,
            long_len,
            largest_request: 0,
            calls: 0,
        }
    }

    /// The count this input must produce.
    fn expected(&self) -> LineCount {
        LineCount {
            lines: (self.len - self.long_len) / self.line_len + 1,
            bytes: self.len,
            longest_line: self.long_len.max(self.line_len) - 1,
        }
    }

    /// The position of the first `\n` at or after `i`.
    fn next_newline(&self, i: u64) -> u64 {
        let long_end = self.long_at + self.long_len;
        if i < self.long_at {
            (i / self.line_len + 1) * self.line_len - 1
        } else if i < long_end {
            long_end - 1
        } else {
            long_end + ((i - long_end) / self.line_len + 1) * self.line_len - 1
        }
    }
}

impl Read for Generated {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        const FILLER: [u8; 26] = *b"abcdefghijklmnopqrstuvwxyz";
        self.calls += 1;
        self.largest_request = self.largest_request.max(buf.len());
        let n = (buf.len() as u64).min(self.len - self.pos) as usize;
        let start = self.pos;
        // Letters everywhere, then a newline at the end of every line.
        for chunk in buf[..n].chunks_mut(26) {
            chunk.copy_from_slice(&FILLER[..chunk.len()]);
        }
        let mut i = start;
        loop {
            let next = self.next_newline(i);
            if next >= start + n as u64 {
                break;
            }
            buf[(next - start) as usize] = b'\n';
            i = next + 1;
        }
        self.pos += n as u64;
        Ok(n)
    }
}

/// Hands out `data` at most `max` bytes at a time, and returns
/// `Interrupted` before every third chunk.
struct Trickle<'a> {
    data: &'a [u8],
    max: usize,
    calls: u32,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.calls += 1;
        if self.calls.is_multiple_of(3) {
            return Err(io::Error::new(ErrorKind::Interrupted, "a signal arrived"));
        }
        let n = buf.len().min(self.max).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

/// Yields `good` bytes, then fails with an I/O error.
struct FailsAfter {
    good: usize,
}

impl Read for FailsAfter {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.good == 0 {
            return Err(io::Error::other("the disk is on fire"));
        }
        let n = buf.len().min(self.good);
        buf[..n].fill(b'x');
        self.good -= n;
        Ok(n)
    }
}

/// The count `text` must produce, computed the slow and obvious way.
fn expected_for(text: &[u8]) -> LineCount {
    if text.is_empty() {
        return LineCount::default();
    }
    let mut parts: Vec<&[u8]> = text.split(|&b| b == b'\n').collect();
    if text.ends_with(b"\n") {
        parts.pop(); // the empty "line" after the final newline
    }
    LineCount {
        lines: parts.len() as u64,
        bytes: text.len() as u64,
        longest_line: parts.iter().map(|p| p.len() as u64).max().unwrap_or(0),
    }
}

// ---------------------------------------------------------------- task 1

#[test]
fn t1_counts_lines_bytes_and_the_longest_line() {
    let cases: [&[u8]; 8] = [
        b"",
        b"\n",
        b"one line without a newline",
        b"one\n",
        b"a\n\nccc\n",
        b"a\nbb\nccc",
        b"\n\n\n",
        b"tail after the last newline\nx",
    ];
    for text in cases {
        for capacity in [1, 2, 3, 64] {
            let found = count_lines(text, capacity).unwrap_or_else(|e| {
                panic!(
                    "count_lines({:?}, {capacity}) failed: {e}",
                    text.escape_ascii().to_string()
                )
            });
            assert_eq!(
                found,
                expected_for(text),
                "count_lines({:?}) with a {capacity}-byte buffer: every \\n ends a line, bytes after \
                 the last \\n form one more line, and longest_line does not count the \\n",
                text.escape_ascii().to_string()
            );
        }
    }
}

#[test]
fn t1_lines_split_across_buffer_refills_are_measured_whole() {
    // Lines of 1 to 40 bytes, read through buffers smaller than most of them.
    let mut text = Vec::new();
    for len in (1..=40).chain((1..=40).rev()) {
        text.extend(std::iter::repeat_n(b'z', len));
        text.push(b'\n');
    }
    for capacity in [1, 7, 16, 1000] {
        let found = count_lines(&text[..], capacity).expect("count_lines");
        assert_eq!(
            found,
            expected_for(&text),
            "with a {capacity}-byte buffer a line arrives in pieces; its length must be the sum of \
             its pieces, carried from one refill to the next"
        );
    }
}

#[test]
fn t1_short_reads_and_interrupts_are_not_the_end_of_the_input() {
    let text = b"alpha\nbeta\ngamma\ndelta\nepsilon\nzeta\neta\ntheta\n".repeat(10);
    let reader = Trickle {
        data: &text,
        max: 5,
        calls: 0,
    };
    let found = count_lines(reader, 16).unwrap_or_else(|e| {
        panic!(
            "count_lines failed with `{e}`; ErrorKind::Interrupted only means \"try again\": \
             retry the read instead of giving up"
        )
    });
    assert_eq!(
        found,
        expected_for(&text),
        "a reader that returns fewer bytes than asked for, or Interrupted, has not reached its \
         end; only Ok(0) (an empty fill_buf) means end of input"
    );
}

#[test]
fn t1_streams_a_large_input_with_bounded_memory() {
    // About 48 MiB of input with one 24 MiB line in the middle.
    let mut input = Generated::new(100_000, 100, 24 << 20, 150_000);
    let expected = input.expected();
    let capacity = 64 * 1024;
    let (found, peak) = peak_allocation(|| count_lines(&mut input, capacity));
    let found = found.expect("count_lines on the generated input");
    let len = input.len;
    assert_eq!(found, expected, "the counts for the generated input");
    assert!(
        peak < 1 << 20,
        "count_lines allocated {peak} bytes at its peak to count {len} bytes with a {capacity}-byte \
         buffer; it must stream: hold one buffer's worth, never a whole line (`lines()` and \
         `read_line` allocate a String per line, and this input has a 24 MiB line) or the whole \
         input (`read_to_end`)"
    );
    assert!(
        input.largest_request <= capacity,
        "the reader was asked for {} bytes at once, more than the {capacity}-byte buffer; read \
         through BufReader::with_capacity(capacity, reader)",
        input.largest_request
    );
    assert!(
        input.calls >= len / capacity as u64,
        "the input was read in only {} calls; a {capacity}-byte buffer needs at least {}",
        input.calls,
        len / capacity as u64
    );
}

#[test]
fn t1_errors_are_typed_and_say_how_far_reading_got() {
    match count_lines(FailsAfter { good: 1000 }, 300) {
        Err(FileIoError::Read { read, source }) => {
            assert_eq!(
                read, 1000,
                "FileIoError::Read must report the bytes counted before the failure"
            );
            assert_eq!(
                source.to_string(),
                "the disk is on fire",
                "keep the reader's error"
            );
        }
        other => panic!("a failing reader must give FileIoError::Read, got {other:?}"),
    }
    assert!(
        matches!(
            count_lines(&b"abc\n"[..], 0),
            Err(FileIoError::ZeroCapacity)
        ),
        "a capacity of 0 must be FileIoError::ZeroCapacity: a BufReader with no room reads 0 \
         bytes, which looks exactly like the end of the input, and would count 0 lines"
    );
}

#[test]
fn t1_counts_a_file_and_names_a_missing_one() {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let path = dir.path().join("lines.txt");
    let text = b"first\nsecond\nthird, the longest\n".repeat(1000);
    fs::write(&path, &text).expect("write the test file");
    let found = count_lines_in_file(&path, 4096).expect("count the lines of a file");
    assert_eq!(
        found,
        expected_for(&text),
        "the counts for {}",
        path.display()
    );

    let missing = dir.path().join("no-such-file.txt");
    match count_lines_in_file(&missing, 4096) {
        Err(e @ FileIoError::Open { .. }) => {
            let FileIoError::Open { path, source } = &e else {
                unreachable!()
            };
            assert_eq!(path, &missing, "FileIoError::Open must name the file");
            assert_eq!(
                source.kind(),
                ErrorKind::NotFound,
                "FileIoError::Open must carry the OS error from opening the file (NotFound for a missing file)"
            );
            assert!(
                e.to_string().contains("no-such-file.txt"),
                "the message must name the file, so a person knows what to fix: {e}"
            );
        }
        other => panic!("a missing file must give FileIoError::Open, got {other:?}"),
    }
}
