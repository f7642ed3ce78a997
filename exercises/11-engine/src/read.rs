//! Task 5: the read path. Newest to oldest: the active memtable, the
//! frozen memtables, then the SSTables, newest first.

use std::iter::Peekable;
use std::sync::Arc;

use crate::codec::{Entry, KeyEntry, KeyValue};
use crate::error::DbError;
use crate::memtable::Memtable;
use crate::sstable::Table;

// ANCHOR: source
/// One sorted input of a merge: the entries of a memtable or an SSTable, in
/// increasing key order, tombstones included.
pub type Source<'a> = Box<dyn Iterator<Item = Result<KeyEntry, DbError>> + Send + 'a>;
// ANCHOR_END: source

// ANCHOR: task5_lookup
/// What the newest source that knows `key` says about it.
///
/// Ask the memtables in order (`memtables[0]` is the newest), then the
/// tables in order (`tables[0]` is the newest). The first source that has
/// an entry for the key decides, even if that entry is a tombstone: the
/// key was deleted after every older value was written. `Ok(None)` if no
/// source knows the key.
pub fn lookup(
    key: &[u8],
    memtables: &[&Memtable],
    tables: &[Arc<Table>],
) -> Result<Option<Entry>, DbError> {
    todo!("task 5: memtables in order, then tables in order; the first entry found decides")
}
// ANCHOR_END: task5_lookup

// ANCHOR: merge
/// Merges sorted sources into one sorted stream in which every key appears
/// once, with the entry of the newest source that has it.
pub struct MergeIter<'a> {
    /// The sources, newest first, each able to show its next entry.
    sources: Vec<Peekable<Source<'a>>>,
    /// Set after an error has been returned.
    failed: bool,
}
// ANCHOR_END: merge

impl<'a> MergeIter<'a> {
    /// Merges `sources`; `sources[0]` is the newest.
    pub fn new(sources: Vec<Source<'a>>) -> Self {
        Self {
            sources: sources.into_iter().map(Iterator::peekable).collect(),
            failed: false,
        }
    }
}

impl Iterator for MergeIter<'_> {
    type Item = Result<KeyEntry, DbError>;

    // ANCHOR: task5_merge
    /// The smallest key any source shows next, with the entry of the newest
    /// source that shows it; every other source that shows the same key is
    /// advanced past it (those are older, shadowed versions).
    ///
    /// If a source yields an error, return that error once and then end.
    fn next(&mut self) -> Option<Self::Item> {
        todo!(
            "task 5: find the newest source with the smallest next key, take it, skip that key in the others"
        )
    }
    // ANCHOR_END: task5_merge
}

// ANCHOR: task5_scan
/// Merges `sources` (newest first) and returns the live key-value pairs in
/// key order: tombstones hide their key and are not returned. The first
/// error is returned.
pub fn scan(sources: Vec<Source<'_>>) -> Result<Vec<KeyValue>, DbError> {
    todo!("task 5: merge, keep the values, drop the tombstones")
}
// ANCHOR_END: task5_scan
