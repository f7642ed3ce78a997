//! Task 9: how the buffer size sets the number of `write` calls.

use std::io::{self, BufWriter, Write};

use crate::error::FileIoError;

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
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.counts.writes += 1;
        self.counts.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.counts.flushes += 1;
        self.inner.flush()
    }
}

/// Writes every record through a `BufWriter` of `capacity` bytes over a
/// [`CountingWriter`] around `inner`, flushes, and returns `inner` with
/// the counts.
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
    let mut out = BufWriter::with_capacity(capacity, CountingWriter::new(inner));
    let mut written = 0u64;
    for record in records {
        let record = record.as_ref();
        out.write_all(record)
            .map_err(|source| FileIoError::Write { written, source })?;
        written += record.len() as u64;
    }
    out.flush().map_err(FileIoError::Flush)?;
    let counting = out
        .into_inner()
        .map_err(|e| FileIoError::Flush(e.into_error()))?;
    let counts = counting.counts();
    Ok((counting.into_inner(), counts))
}

/// How many `write` calls [`write_through_buffer`] makes for `records`
/// records of `record_len` bytes each, with a buffer of `capacity` bytes,
/// when the inner writer accepts every buffer whole.
pub fn predicted_writes(records: u64, record_len: usize, capacity: usize) -> u64 {
    if records == 0 || record_len == 0 {
        0
    } else if record_len >= capacity {
        // Too big to buffer: each record goes straight to the inner writer.
        records
    } else {
        // The buffer is written out when the next record does not fit.
        let per_write = (capacity / record_len) as u64;
        records.div_ceil(per_write)
    }
}
