//! Task 4: the SSTable, an immutable sorted file with blocks, an index,
//! CRCs and a footer.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use simfs::{Fs, FsFile, OpenOptions};

use crate::codec::{
    Cursor, Entry, KeyRange, in_range, len_u32, past_end, put_bytes, put_u32, put_u64,
};
use crate::error::DbError;

/// The file of the SSTable with id `id`: `dir/00000042.sst`.
pub fn table_path(dir: &Path, id: u64) -> PathBuf {
    dir.join(format!("{id:08}.sst"))
}

// ANCHOR: format
/// The last 8 bytes of every SSTable.
pub const TABLE_MAGIC: u64 = u64::from_le_bytes(*b"LSMTBL01");

/// The footer's size in bytes.
pub const FOOTER_LEN: usize = 32;

/// The value length that marks a tombstone in a data block.
pub const TOMBSTONE_LEN: u32 = u32::MAX;

// An SSTable, all integers little-endian:
//
//   data block 0 | crc | data block 1 | crc | ... | index | crc | footer
//
// - A data block is a run of entries in increasing key order:
//       key_len u32 | value_len u32 | key | value
//   A tombstone has value_len = TOMBSTONE_LEN and no value bytes.
//   A block is closed once it holds at least `block_bytes` bytes; the last
//   one may be smaller. Each block is followed by the CRC-32 of its bytes.
// - The index has one handle per data block, in order:
//       offset u64 | len u32 | last_key_len u32 | last_key
//   (`len` counts the block's bytes without its CRC), and is followed by
//   the CRC-32 of the index's bytes.
// - The footer (FOOTER_LEN bytes):
//       index_offset u64 | index_len u32 | entries u64 | crc u32 | magic u64
//   where `crc` is the CRC-32 of the 20 bytes before it, and `magic` is
//   TABLE_MAGIC. `index_len` counts the index's bytes without its CRC.
//
// Every byte of the file is covered by a CRC or by the magic number, so a
// damaged byte anywhere is found before its data is used.
// ANCHOR_END: format

/// Where a data block lives, and the largest key in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockHandle {
    /// Offset of the block's first byte.
    pub offset: u64,
    /// The block's length in bytes, without its CRC.
    pub len: u32,
    /// The block's last (largest) key.
    pub last_key: Vec<u8>,
}

/// What writing a table produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableMeta {
    /// The file's size in bytes.
    pub size: u64,
    /// The number of entries, tombstones included.
    pub entries: u64,
    /// The smallest key.
    pub smallest: Vec<u8>,
    /// The largest key.
    pub largest: Vec<u8>,
}

/// Appends one entry to a data block:
/// `key_len u32 | value_len u32 | key | value`, with
/// `value_len = TOMBSTONE_LEN` and no value bytes for a tombstone.
pub fn encode_entry(block: &mut Vec<u8>, key: &[u8], entry: &Entry) {
    put_u32(block, len_u32(key.len()));
    match entry {
        Entry::Value(v) => {
            put_u32(block, len_u32(v.len()));
            block.extend_from_slice(key);
            block.extend_from_slice(v);
        }
        Entry::Tombstone => {
            put_u32(block, TOMBSTONE_LEN);
            block.extend_from_slice(key);
        }
    }
}

/// Reads one entry from a data block: its key, and its value (`None` for
/// a tombstone).
pub fn decode_entry<'a>(c: &mut Cursor<'a>) -> Result<(&'a [u8], Option<&'a [u8]>), DbError> {
    let key_len = c.u32()? as usize;
    let value_len = c.u32()?;
    let key = c.bytes(key_len)?;
    if value_len == TOMBSTONE_LEN {
        Ok((key, None))
    } else {
        Ok((key, Some(c.bytes(value_len as usize)?)))
    }
}

/// The [`Entry`] for what [`decode_entry`] returned.
pub fn to_entry(value: Option<&[u8]>) -> Entry {
    value.map_or(Entry::Tombstone, |v| Entry::Value(v.to_vec()))
}

// ANCHOR: task4_write
/// Writes `entries` (in strictly increasing key order) as a new SSTable at
/// `path`, syncs it, and returns its [`TableMeta`].
///
/// - No entries at all: create no file and return `Ok(None)`.
/// - The file must not exist yet (`OpenOptions::create_new`); write through
///   a `BufWriter`, then `sync_all` the file before returning, so that the
///   table is durable before the manifest names it.
/// - The first `Err` from `entries` stops the write and is returned (the
///   partial file may stay behind: the store deletes files the manifest
///   does not name).
pub fn write_table<I>(
    fs: &dyn Fs,
    path: &Path,
    entries: I,
    block_bytes: usize,
) -> Result<Option<TableMeta>, DbError>
where
    I: IntoIterator<Item = Result<(Vec<u8>, Entry), DbError>>,
{
    todo!("task 4: write the blocks, the index and the footer, and make the table durable")
}
// ANCHOR_END: task4_write

// ANCHOR: table
/// An open SSTable. Reads use positioned reads (`read_exact_at`), so any
/// number of threads can read one `Table` at once through `&self`.
#[derive(Debug)]
pub struct Table {
    /// The file, open for reading.
    file: Box<dyn FsFile>,
    /// Its path, for error messages.
    path: PathBuf,
    /// One handle per data block, in key order.
    index: Vec<BlockHandle>,
    /// The number of entries (from the footer).
    entries: u64,
    /// The file's size.
    size: u64,
}
// ANCHOR_END: table

impl Table {
    // ANCHOR: task4_read
    /// Opens the SSTable at `path`: reads and checks the footer (size, magic,
    /// CRC), then reads and checks the index (its CRC, and that the blocks it
    /// lists lie one after the other from offset 0 up to the index).
    /// Anything wrong is [`DbError::Corrupt`] naming the file.
    pub fn open(fs: &dyn Fs, path: &Path) -> Result<Table, DbError> {
        todo!(
            "task 4: read and check the footer, then the index; check that the blocks are contiguous"
        )
    }

    /// Reads data block `i` (an index into [`blocks`](Self::blocks)) and
    /// checks its CRC; returns the block's bytes without the CRC. A mismatch
    /// is [`DbError::Corrupt`].
    pub fn read_block(&self, i: usize) -> Result<Vec<u8>, DbError> {
        todo!("task 4: read_exact_at the block and its CRC, compare the CRCs")
    }

    /// What this table knows about `key`: `Some(Entry)` (a value or a
    /// tombstone) or `None`.
    ///
    /// Find the first block whose `last_key >= key` (`partition_point`):
    /// only that block can hold the key. Read it, then walk its entries.
    pub fn get(&self, key: &[u8]) -> Result<Option<Entry>, DbError> {
        todo!("task 4: partition_point on the last keys, read that block, walk its entries")
    }

    /// The entries whose keys lie in `range`, in key order, read one block
    /// at a time (see [`TableIter`]).
    pub fn range(&self, range: KeyRange) -> TableIter<'_> {
        todo!("task 4: find the first block that can hold the start, and build a TableIter")
    }
    // ANCHOR_END: task4_read

    /// Every entry, in key order.
    pub fn iter(&self) -> TableIter<'_> {
        self.range((std::ops::Bound::Unbounded, std::ops::Bound::Unbounded))
    }

    /// The number of entries, tombstones included.
    pub fn entries(&self) -> u64 {
        self.entries
    }

    /// The file's size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The index: one handle per data block.
    pub fn blocks(&self) -> &[BlockHandle] {
        &self.index
    }
}

// ANCHOR: table_iter
/// Iterates over the entries of a [`Table`] that lie in a range.
#[derive(Debug)]
pub struct TableIter<'a> {
    table: &'a Table,
    range: KeyRange,
    /// The next block to read.
    next_block: usize,
    /// The decoded entries of the current block not returned yet.
    current: std::vec::IntoIter<(Vec<u8>, Entry)>,
    /// Set after the end of the range, or after an error.
    done: bool,
}
// ANCHOR_END: table_iter

impl Iterator for TableIter<'_> {
    type Item = Result<(Vec<u8>, Entry), DbError>;

    // ANCHOR: task4_iter
    /// The next entry in the range: take it from `current`; when `current`
    /// is empty, read and decode the next block (if any). Skip keys before
    /// the range's start; at the first key past its end, set `done`. After
    /// an error (returned once), the iterator is done.
    fn next(&mut self) -> Option<Self::Item> {
        todo!("task 4: take from current; when it is empty, read and decode the next block")
    }
    // ANCHOR_END: task4_iter
}
