//! Task 1: the memtable.

use std::collections::{BTreeMap, btree_map};

use crate::codec::{Batch, Entry, KeyRange, Op};

/// Bytes counted per entry on top of its key and value: the map's node and
/// the `Vec` headers are not free.
pub const ENTRY_OVERHEAD: usize = 16;

/// How much one entry counts towards [`Memtable::approx_bytes`]:
/// the key's length, plus the value's length (0 for a tombstone), plus
/// [`ENTRY_OVERHEAD`].
pub fn entry_size(key: &[u8], entry: &Entry) -> usize {
    key.len() + entry.value().map_or(0, <[u8]>::len) + ENTRY_OVERHEAD
}

// ANCHOR: task1
/// The newest writes, in memory, sorted by key.
///
/// A memtable is a plain, single-threaded structure: the store guards it
/// with a lock (task 3). A delete is stored as an [`Entry::Tombstone`], not
/// as a removal, because an older SSTable may still hold the key.
#[derive(Debug, Clone, Default)]
pub struct Memtable {
    /// The entries, sorted by key.
    map: BTreeMap<Vec<u8>, Entry>,
    /// The sum of [`entry_size`] over every entry in `map`.
    bytes: usize,
}

impl Memtable {
    /// An empty memtable.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores `entry` under `key`, replacing what was there, and keeps
    /// `bytes` equal to the sum of [`entry_size`] over the entries: add the
    /// new entry's size, and subtract the size of the entry it replaced.
    pub fn insert(&mut self, key: &[u8], entry: Entry) {
        self.bytes += entry_size(key, &entry);
        if let Some(old) = self.map.insert(key.to_vec(), entry) {
            self.bytes -= entry_size(key, &old);
        }
    }

    /// Sets `key` to `value`.
    pub fn put(&mut self, key: &[u8], value: &[u8]) {
        self.insert(key, Entry::Value(value.to_vec()));
    }

    /// Deletes `key`: stores a tombstone.
    pub fn delete(&mut self, key: &[u8]) {
        self.insert(key, Entry::Tombstone);
    }

    /// Applies every operation of `batch`, in order.
    pub fn apply(&mut self, batch: &Batch) {
        for op in batch.ops() {
            match op {
                Op::Put { key, value } => self.put(key, value),
                Op::Delete { key } => self.delete(key),
            }
        }
    }

    /// What this memtable knows about `key`: a value, a tombstone, or
    /// nothing (`None`: ask an older source).
    pub fn get(&self, key: &[u8]) -> Option<&Entry> {
        self.map.get(key)
    }

    /// The entries whose keys lie in `range`, in key order, tombstones
    /// included. `range` must be valid
    /// ([`is_valid_range`](crate::is_valid_range)): `BTreeMap::range` panics
    /// on a start after the end.
    pub fn range<'a>(&'a self, range: &KeyRange) -> btree_map::Range<'a, Vec<u8>, Entry> {
        self.map
            .range::<Vec<u8>, _>((range.0.as_ref(), range.1.as_ref()))
    }

    /// Every entry, in key order, tombstones included.
    pub fn iter(&self) -> btree_map::Iter<'_, Vec<u8>, Entry> {
        self.map.iter()
    }

    /// The sum of [`entry_size`] over the entries: what the flush threshold
    /// is compared with.
    pub fn approx_bytes(&self) -> usize {
        self.bytes
    }

    /// The number of entries, tombstones included.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether the memtable holds no entry at all (not even a tombstone).
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}
// ANCHOR_END: task1
