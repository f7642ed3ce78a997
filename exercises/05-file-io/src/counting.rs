//! Task 9: how the buffer size sets the number of `write` calls.

use std::io::{self, Write};

use crate::error::FileIoError;

// ANCHOR: task9
/// What a [`CountingWriter`] has seen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteCounts {
    /// `write` calls that reached the inner writer (each is one system call
    /// when the inner writer is a `File`).
    pub writes: u64,
    /// Bytes the inner writer accepted.
    pub bytes: u64,
    /// `flush` calls.
    pub flushes: u64,
}

/// A writer that passes everything to `inner` and counts the calls.
#[derive(Debug, Default)]
pub struct CountingWriter<W> {
    inner: W,
    counts: WriteCounts,
}

impl<W> CountingWriter<W> {
    /// Wraps `inner`, with every count at zero.
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            counts: WriteCounts::default(),
        }
    }

    /// The counts so far.
    pub fn counts(&self) -> WriteCounts {
        self.counts
    }

    /// The inner writer.
    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    /// Unwraps the inner writer.
    pub fn into_inner(self) -> W {
        self.inner
    }
}

impl<W: Write> Write for CountingWriter<W> {
    /// Passes the call to the inner writer, unchanged, once; counts the
    /// call and the bytes it *accepted* if it succeeded.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        todo!("task 9: self.inner.write(buf)?, then count one write and n bytes")
    }

    /// Counts the flush and passes it on.
    fn flush(&mut self) -> io::Result<()> {
        todo!("task 9: count, then self.inner.flush()")
    }
}

/// Writes every record through a `BufWriter` of `capacity` bytes over a
/// [`CountingWriter`] around `inner`, flushes, and returns `inner` with
/// the counts.
///
/// `write_all` each record (an error is [`FileIoError::Write`] with the
/// bytes of the records before it), then `flush` ([`FileIoError::Flush`]),
/// then take the `CountingWriter` back with `BufWriter::into_inner`.
pub fn write_through_buffer<W, I>(
    inner: W,
    capacity: usize,
    records: I,
) -> Result<(W, WriteCounts), FileIoError>
where
    W: Write,
    I: IntoIterator,
    I::Item: AsRef<[u8]>,
{
    todo!("task 9: BufWriter::with_capacity(capacity, CountingWriter::new(inner))")
}

/// How many `write` calls [`write_through_buffer`] makes for `records`
/// records of `record_len` bytes each, with a buffer of `capacity` bytes,
/// when the inner writer accepts every buffer whole.
///
/// `BufWriter` copies a record into its buffer if it fits in the free
/// space; if not, it first writes the buffer out (one call). A record at
/// least as large as the whole buffer skips the buffer: one call of its
/// own. Work out the arithmetic; no loop needed.
pub fn predicted_writes(records: u64, record_len: usize, capacity: usize) -> u64 {
    todo!(
        "task 9: 0 if nothing to write; one per record if it does not fit; else records per buffer"
    )
}
// ANCHOR_END: task9
