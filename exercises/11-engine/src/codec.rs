//! Entries, batches and the byte-level helpers every file format uses.
//!
//! This file is complete: you do not need to edit it. It holds what is not
//! the lesson's point: the types a write is made of, the encoding of a batch,
//! the WAL's framing (a CRC and a length in front of each record, as in
//! lesson 09), and a bounds-checked reader that turns "the bytes ran out"
//! into [`DbError::Corrupt`] instead of a panic.

use std::fmt;
use std::ops::{Bound, RangeBounds};

use crate::error::DbError;

// ANCHOR: entry
/// What a source (a memtable or an SSTable) knows about one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// The key holds this value.
    Value(Vec<u8>),
    /// The key was deleted. A tombstone shadows every older value of the key,
    /// so it must be kept until nothing older can hold the key.
    Tombstone,
}
// ANCHOR_END: entry

impl Entry {
    /// The value, or `None` for a tombstone.
    pub fn value(&self) -> Option<&[u8]> {
        match self {
            Entry::Value(v) => Some(v),
            Entry::Tombstone => None,
        }
    }

    /// The value, or `None` for a tombstone.
    pub fn into_value(self) -> Option<Vec<u8>> {
        match self {
            Entry::Value(v) => Some(v),
            Entry::Tombstone => None,
        }
    }

    /// Whether this is a tombstone.
    pub fn is_tombstone(&self) -> bool {
        matches!(self, Entry::Tombstone)
    }
}

/// A key with its value, as scans return them.
pub type KeyValue = (Vec<u8>, Vec<u8>);

/// A key with what a source knows about it, as merges see them.
pub type KeyEntry = (Vec<u8>, Entry);

/// One change inside a [`Batch`].
#[derive(Clone, PartialEq, Eq)]
pub enum Op {
    /// Sets `key` to `value`.
    Put {
        /// The key.
        key: Vec<u8>,
        /// The new value.
        value: Vec<u8>,
    },
    /// Deletes `key`.
    Delete {
        /// The key.
        key: Vec<u8>,
    },
}

impl Op {
    /// The key the operation changes.
    pub fn key(&self) -> &[u8] {
        match self {
            Op::Put { key, .. } | Op::Delete { key } => key,
        }
    }
}

/// Readable in test failures: `put "k1" = "v1"`, `delete "k2"`.
impl fmt::Debug for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Put { key, value } => write!(f, "put {} = {}", Show(key), Show(value)),
            Op::Delete { key } => write!(f, "delete {}", Show(key)),
        }
    }
}

/// Shows bytes as a string when they are printable ASCII, else as hex.
pub struct Show<'a>(pub &'a [u8]);

impl fmt::Display for Show<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
            write!(f, "{:?}", String::from_utf8_lossy(self.0))
        } else {
            f.write_str("0x")?;
            self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
        }
    }
}

// ANCHOR: batch
/// Changes applied atomically: after a crash, either all of them are there
/// or none is. Later operations on the same key win.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Batch {
    ops: Vec<Op>,
}

impl Batch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a put.
    pub fn put(&mut self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> &mut Self {
        self.ops.push(Op::Put {
            key: key.as_ref().to_vec(),
            value: value.as_ref().to_vec(),
        });
        self
    }

    /// Adds a delete.
    pub fn delete(&mut self, key: impl AsRef<[u8]>) -> &mut Self {
        self.ops.push(Op::Delete {
            key: key.as_ref().to_vec(),
        });
        self
    }

    /// The operations, in the order they were added.
    pub fn ops(&self) -> &[Op] {
        &self.ops
    }

    /// The number of operations.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Whether the batch has no operation.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
}
// ANCHOR_END: batch

impl FromIterator<Op> for Batch {
    fn from_iter<I: IntoIterator<Item = Op>>(iter: I) -> Self {
        Batch {
            ops: iter.into_iter().collect(),
        }
    }
}

// ------------------------------------------------------------ key ranges

/// A range of keys, as the scans take it.
pub type KeyRange = (Bound<Vec<u8>>, Bound<Vec<u8>>);

/// Any `RangeBounds<Vec<u8>>` (`..`, `a..b`, `a..=b`, ...) as a [`KeyRange`].
pub fn key_range(range: impl RangeBounds<Vec<u8>>) -> KeyRange {
    (range.start_bound().cloned(), range.end_bound().cloned())
}

/// Whether `key` lies inside `range`.
pub fn in_range(range: &KeyRange, key: &[u8]) -> bool {
    let after_start = match &range.0 {
        Bound::Included(s) => key >= s.as_slice(),
        Bound::Excluded(s) => key > s.as_slice(),
        Bound::Unbounded => true,
    };
    after_start && !past_end(range, key)
}

/// Whether `key` lies after the end of `range` (so no later key is inside).
pub fn past_end(range: &KeyRange, key: &[u8]) -> bool {
    match &range.1 {
        Bound::Included(e) => key > e.as_slice(),
        Bound::Excluded(e) => key >= e.as_slice(),
        Bound::Unbounded => false,
    }
}

/// Whether the range can hold a key at all. `BTreeMap::range` panics on a
/// range whose start is after its end, so check this first.
pub fn is_valid_range(range: &KeyRange) -> bool {
    match (&range.0, &range.1) {
        (Bound::Included(s), Bound::Included(e)) => s <= e,
        (Bound::Included(s) | Bound::Excluded(s), Bound::Excluded(e))
        | (Bound::Excluded(s), Bound::Included(e)) => s < e,
        _ => true,
    }
}

// ------------------------------------------------------------ integers

/// Appends `v` as 4 little-endian bytes.
pub fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// Appends `v` as 8 little-endian bytes.
pub fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// Appends `bytes` with its length in front (a little-endian `u32`).
pub fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    put_u32(out, len_u32(bytes.len()));
    out.extend_from_slice(bytes);
}

/// A length as a `u32`; lengths are checked against the limits long before.
pub fn len_u32(len: usize) -> u32 {
    u32::try_from(len).unwrap_or(u32::MAX)
}

// ANCHOR: cursor
/// Reads fields from the front of a byte slice, with bounds checks: running
/// out of bytes is [`DbError::Corrupt`], never a panic.
#[derive(Debug, Clone)]
pub struct Cursor<'a> {
    buf: &'a [u8],
    what: &'static str,
}

impl<'a> Cursor<'a> {
    /// Reads `buf`; `what` names it in error messages ("an SSTable block").
    pub fn new(buf: &'a [u8], what: &'static str) -> Self {
        Self { buf, what }
    }

    /// The next `n` bytes.
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], DbError> {
        if n > self.buf.len() {
            return Err(DbError::Corrupt(format!(
                "{} ends early: {n} bytes wanted, {} left",
                self.what,
                self.buf.len()
            )));
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }

    /// The next byte.
    pub fn u8(&mut self) -> Result<u8, DbError> {
        Ok(self.bytes(1)?[0])
    }

    /// The next little-endian `u32`.
    pub fn u32(&mut self) -> Result<u32, DbError> {
        let b = self.bytes(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// The next little-endian `u64`.
    pub fn u64(&mut self) -> Result<u64, DbError> {
        let b = self.bytes(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    /// A `u32` length followed by that many bytes (see [`put_bytes`]).
    pub fn len_prefixed(&mut self) -> Result<&'a [u8], DbError> {
        let n = self.u32()? as usize;
        self.bytes(n)
    }

    /// The bytes not read yet.
    pub fn rest(&self) -> &'a [u8] {
        self.buf
    }

    /// Whether every byte has been read.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// A [`DbError::Corrupt`] that names what this cursor reads.
    pub fn corrupt(&self, detail: impl fmt::Display) -> DbError {
        DbError::Corrupt(format!("{}: {detail}", self.what))
    }
}
// ANCHOR_END: cursor

// ------------------------------------------------------------ batches

const OP_PUT: u8 = 1;
const OP_DELETE: u8 = 2;

/// Appends the encoding of `batch` to `out`: the number of operations
/// (`u32`), then per operation a kind byte (1 put, 2 delete), the key with
/// its length, and for a put the value with its length.
pub fn encode_batch(batch: &Batch, out: &mut Vec<u8>) {
    put_u32(out, len_u32(batch.ops.len()));
    for op in &batch.ops {
        match op {
            Op::Put { key, value } => {
                out.push(OP_PUT);
                put_bytes(out, key);
                put_bytes(out, value);
            }
            Op::Delete { key } => {
                out.push(OP_DELETE);
                put_bytes(out, key);
            }
        }
    }
}

/// How many bytes [`encode_batch`] writes for `batch`.
pub fn encoded_batch_len(batch: &Batch) -> usize {
    4 + batch
        .ops
        .iter()
        .map(|op| match op {
            Op::Put { key, value } => 9 + key.len() + value.len(),
            Op::Delete { key } => 5 + key.len(),
        })
        .sum::<usize>()
}

/// Decodes what [`encode_batch`] wrote. Anything else is
/// [`DbError::Corrupt`].
pub fn decode_batch(bytes: &[u8]) -> Result<Batch, DbError> {
    let mut c = Cursor::new(bytes, "a WAL batch");
    let count = c.u32()? as usize;
    // Every operation takes at least 5 bytes: do not trust a huge count.
    let mut ops = Vec::with_capacity(count.min(c.rest().len() / 5));
    for _ in 0..count {
        let kind = c.u8()?;
        let key = c.len_prefixed()?.to_vec();
        ops.push(match kind {
            OP_PUT => Op::Put {
                key,
                value: c.len_prefixed()?.to_vec(),
            },
            OP_DELETE => Op::Delete { key },
            other => return Err(c.corrupt(format_args!("unknown operation kind {other}"))),
        });
    }
    if !c.is_empty() {
        return Err(c.corrupt("bytes left over after the last operation"));
    }
    Ok(Batch { ops })
}

// ------------------------------------------------------------ WAL frames

// ANCHOR: frame
/// Size of a WAL frame's header: CRC (4) + length (4).
///
/// ```text
/// offset  size  field
///      0     4  crc      CRC-32 of bytes 4 .. 8 + len (the length and the payload)
///      4     4  len      payload length, u32 little-endian
///      8   len  payload  one encoded batch (encode_batch)
/// ```
pub const FRAME_HEADER: usize = 8;

/// The largest payload a frame may carry (and so the largest batch): 64 MiB.
pub const MAX_FRAME_PAYLOAD: usize = 64 << 20;

/// What the bytes at the start of a buffer hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame<'a> {
    /// An intact frame of `FRAME_HEADER + payload.len()` bytes.
    Complete {
        /// The frame's payload.
        payload: &'a [u8],
    },
    /// The buffer ends before the frame does.
    Incomplete,
    /// The bytes are not an intact frame (bad CRC or impossible length).
    Damaged,
}
// ANCHOR_END: frame

/// Appends one frame holding `payload` to `out`.
pub fn encode_frame(payload: &[u8], out: &mut Vec<u8>) {
    let len = len_u32(payload.len()).to_le_bytes();
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&len);
    hasher.update(payload);
    out.extend_from_slice(&hasher.finalize().to_le_bytes());
    out.extend_from_slice(&len);
    out.extend_from_slice(payload);
}

/// Decodes the frame at the start of `buf`; bytes after it are ignored.
pub fn decode_frame(buf: &[u8]) -> Frame<'_> {
    let Some((header, rest)) = buf.split_first_chunk::<FRAME_HEADER>() else {
        return Frame::Incomplete;
    };
    let stored = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
    let len = u32::from_le_bytes([header[4], header[5], header[6], header[7]]) as usize;
    if len > MAX_FRAME_PAYLOAD {
        return Frame::Damaged;
    }
    let Some(payload) = rest.get(..len) else {
        return Frame::Incomplete;
    };
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&header[4..]);
    hasher.update(payload);
    if hasher.finalize() == stored {
        Frame::Complete { payload }
    } else {
        Frame::Damaged
    }
}

/// Whether any byte offset of `buf` starts an intact frame.
///
/// A crash can only damage the end of a log. If an intact frame follows a
/// damaged one, the damage is in the middle: corruption, not a torn tail.
/// (A random match needs a 32-bit CRC to agree by chance.)
pub fn intact_frame_in(buf: &[u8]) -> bool {
    (0..buf.len()).any(|at| matches!(decode_frame(&buf[at..]), Frame::Complete { .. }))
}
