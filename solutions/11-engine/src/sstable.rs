//! Task 4: the SSTable, an immutable sorted file with blocks, an index,
//! CRCs and a footer.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use crate::codec::{
    Cursor, Entry, KeyRange, in_range, len_u32, past_end, put_bytes, put_u32, put_u64,
};
use crate::error::DbError;
use simfs::{Fs, FsFile, OpenOptions};

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
    let mut entries = entries.into_iter().peekable();
    if entries.peek().is_none() {
        return Ok(None);
    }
    let file = fs.open(path, OpenOptions::new().write(true).create_new(true))?;
    let mut out = BufWriter::with_capacity(256 << 10, file);
    let mut offset = 0u64;
    let mut block = Vec::with_capacity(block_bytes + 1024);
    let mut index: Vec<BlockHandle> = Vec::new();
    let mut count = 0u64;
    let mut smallest = None;
    let mut last_key = Vec::new();

    let mut finish_block = |block: &mut Vec<u8>,
                            last_key: &[u8],
                            out: &mut BufWriter<Box<dyn FsFile>>|
     -> Result<(), DbError> {
        out.write_all(block)?;
        out.write_all(&crc32fast::hash(block).to_le_bytes())?;
        index.push(BlockHandle {
            offset,
            len: len_u32(block.len()),
            last_key: last_key.to_vec(),
        });
        offset += block.len() as u64 + 4;
        block.clear();
        Ok(())
    };

    for item in entries {
        let (key, entry) = item?;
        encode_entry(&mut block, &key, &entry);
        count += 1;
        if smallest.is_none() {
            smallest = Some(key.clone());
        }
        last_key = key;
        if block.len() >= block_bytes {
            finish_block(&mut block, &last_key, &mut out)?;
        }
    }
    if !block.is_empty() {
        finish_block(&mut block, &last_key, &mut out)?;
    }

    let mut index_bytes = Vec::new();
    for handle in &index {
        put_u64(&mut index_bytes, handle.offset);
        put_u32(&mut index_bytes, handle.len);
        put_bytes(&mut index_bytes, &handle.last_key);
    }
    let index_offset = offset;
    out.write_all(&index_bytes)?;
    out.write_all(&crc32fast::hash(&index_bytes).to_le_bytes())?;

    let mut footer = Vec::with_capacity(FOOTER_LEN);
    put_u64(&mut footer, index_offset);
    put_u32(&mut footer, len_u32(index_bytes.len()));
    put_u64(&mut footer, count);
    let crc = crc32fast::hash(&footer);
    put_u32(&mut footer, crc);
    put_u64(&mut footer, TABLE_MAGIC);
    out.write_all(&footer)?;

    let file = out.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    Ok(Some(TableMeta {
        size: index_offset + index_bytes.len() as u64 + 4 + FOOTER_LEN as u64,
        entries: count,
        smallest: smallest.unwrap_or_default(),
        largest: last_key,
    }))
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
    /// Blocks already read and checked, for `get` (reference solution only:
    /// see [`CACHE_BUDGET`]).
    cache: Vec<OnceLock<Arc<[u8]>>>,
}
// ANCHOR_END: table

/// How many bytes of checked blocks all open tables together may keep in
/// memory for `get`. First come, first served: once the budget is spent,
/// blocks are read from the file each time until a table is dropped. (The
/// exercise has no cache; this is one of the reference solution's extras,
/// measured in the chapter.)
pub const CACHE_BUDGET: usize = 64 << 20;

/// The bytes cached by all open tables.
static CACHED_BYTES: AtomicUsize = AtomicUsize::new(0);

impl Table {
    // ANCHOR: task4_read
    /// Opens the SSTable at `path`: reads and checks the footer (size, magic,
    /// CRC), then reads and checks the index (its CRC, and that the blocks it
    /// lists lie one after the other from offset 0 up to the index).
    /// Anything wrong is [`DbError::Corrupt`] naming the file.
    pub fn open(fs: &dyn Fs, path: &Path) -> Result<Table, DbError> {
        let file = fs.open(path, OpenOptions::new().read(true))?;
        let size = file.len()?;
        let corrupt = |what: &str| DbError::Corrupt(format!("{}: {what}", path.display()));
        if size < FOOTER_LEN as u64 {
            return Err(corrupt("too short to be an SSTable"));
        }
        let mut footer = [0u8; FOOTER_LEN];
        file.read_exact_at(&mut footer, size - FOOTER_LEN as u64)?;
        let mut c = Cursor::new(&footer, "an SSTable footer");
        let index_offset = c.u64()?;
        let index_len = c.u32()?;
        let entries = c.u64()?;
        let crc = c.u32()?;
        let magic = c.u64()?;
        if magic != TABLE_MAGIC {
            return Err(corrupt("bad magic number (not an SSTable)"));
        }
        if crc32fast::hash(&footer[..20]) != crc {
            return Err(corrupt("footer checksum mismatch"));
        }
        if index_offset.checked_add(u64::from(index_len) + 4 + FOOTER_LEN as u64) != Some(size) {
            return Err(corrupt(
                "the footer's index position does not match the file size",
            ));
        }
        let mut index_bytes = vec![0u8; index_len as usize + 4];
        file.read_exact_at(&mut index_bytes, index_offset)?;
        let (body, stored) = index_bytes.split_at(index_len as usize);
        if crc32fast::hash(body).to_le_bytes() != stored {
            return Err(corrupt("index checksum mismatch"));
        }
        let mut c = Cursor::new(body, "an SSTable index");
        let mut index = Vec::new();
        let mut expected = 0u64;
        while !c.is_empty() {
            let handle = BlockHandle {
                offset: c.u64()?,
                len: c.u32()?,
                last_key: c.len_prefixed()?.to_vec(),
            };
            if handle.offset != expected {
                return Err(corrupt("index blocks are not contiguous"));
            }
            expected = handle.offset + u64::from(handle.len) + 4;
            index.push(handle);
        }
        if expected != index_offset {
            return Err(corrupt("the blocks do not end where the index starts"));
        }
        Ok(Table {
            file,
            path: path.to_path_buf(),
            cache: (0..index.len()).map(|_| OnceLock::new()).collect(),
            index,
            entries,
            size,
        })
    }

    /// Reads data block `i` (an index into [`blocks`](Self::blocks)) and
    /// checks its CRC; returns the block's bytes without the CRC. A mismatch
    /// is [`DbError::Corrupt`].
    pub fn read_block(&self, i: usize) -> Result<Vec<u8>, DbError> {
        let handle = &self.index[i];
        let mut buf = vec![0u8; handle.len as usize + 4];
        self.file.read_exact_at(&mut buf, handle.offset)?;
        let stored = buf.split_off(handle.len as usize);
        if crc32fast::hash(&buf).to_le_bytes()[..] != stored[..] {
            return Err(DbError::Corrupt(format!(
                "{}: block {i} checksum mismatch",
                self.path.display()
            )));
        }
        Ok(buf)
    }

    /// What this table knows about `key`: `Some(Entry)` (a value or a
    /// tombstone) or `None`.
    ///
    /// Find the first block whose `last_key >= key` (`partition_point`):
    /// only that block can hold the key. Read it, then walk its entries.
    pub fn get(&self, key: &[u8]) -> Result<Option<Entry>, DbError> {
        let i = self.index.partition_point(|h| h.last_key.as_slice() < key);
        if i == self.index.len() {
            return Ok(None);
        }
        let block = self.cached_block(i)?;
        let mut c = Cursor::new(&block, "an SSTable block");
        while !c.is_empty() {
            let (k, value) = decode_entry(&mut c)?;
            match k.cmp(key) {
                std::cmp::Ordering::Less => continue,
                std::cmp::Ordering::Equal => return Ok(Some(to_entry(value))),
                std::cmp::Ordering::Greater => break,
            }
        }
        Ok(None)
    }

    /// Block `i` from the cache, or read (and cached, within the budget).
    fn cached_block(&self, i: usize) -> Result<Arc<[u8]>, DbError> {
        if let Some(block) = self.cache[i].get() {
            return Ok(Arc::clone(block));
        }
        let block: Arc<[u8]> = self.read_block(i)?.into();
        let len = block.len();
        if CACHED_BYTES.fetch_add(len, Ordering::Relaxed) + len > CACHE_BUDGET
            || self.cache[i].set(Arc::clone(&block)).is_err()
        {
            CACHED_BYTES.fetch_sub(len, Ordering::Relaxed);
        }
        Ok(block)
    }

    /// The entries whose keys lie in `range`, in key order, read one block
    /// at a time (see [`TableIter`]).
    pub fn range(&self, range: KeyRange) -> TableIter<'_> {
        let first = match &range.0 {
            std::ops::Bound::Included(s) | std::ops::Bound::Excluded(s) => self
                .index
                .partition_point(|h| h.last_key.as_slice() < s.as_slice()),
            std::ops::Bound::Unbounded => 0,
        };
        TableIter {
            table: self,
            range,
            next_block: first,
            current: Vec::new().into_iter(),
            done: false,
        }
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
        while !self.done {
            if let Some((key, entry)) = self.current.next() {
                if past_end(&self.range, &key) {
                    self.done = true;
                    return None;
                }
                if in_range(&self.range, &key) {
                    return Some(Ok((key, entry)));
                }
                continue;
            }
            if self.next_block >= self.table.index.len() {
                self.done = true;
                return None;
            }
            let decoded = self
                .table
                .read_block(self.next_block)
                .and_then(|block| decode_block(&block));
            self.next_block += 1;
            match decoded {
                Ok(entries) => self.current = entries.into_iter(),
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
        None
    }
    // ANCHOR_END: task4_iter
}

impl Drop for Table {
    /// Gives the cached blocks' bytes back to the budget.
    fn drop(&mut self) {
        let cached: usize = self
            .cache
            .iter()
            .filter_map(OnceLock::get)
            .map(|b| b.len())
            .sum();
        CACHED_BYTES.fetch_sub(cached, Ordering::Relaxed);
    }
}

/// Every entry of a data block.
fn decode_block(block: &[u8]) -> Result<Vec<(Vec<u8>, Entry)>, DbError> {
    let mut c = Cursor::new(block, "an SSTable block");
    let mut entries = Vec::new();
    while !c.is_empty() {
        let (key, value) = decode_entry(&mut c)?;
        entries.push((key.to_vec(), to_entry(value)));
    }
    Ok(entries)
}
