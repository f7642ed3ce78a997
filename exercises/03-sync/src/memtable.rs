//! Task 4: check-then-act. Exactly one flush per threshold crossing.

use std::collections::BTreeMap;

use crate::sync::Mutex;

// ANCHOR: task4_types
/// Why a [`Memtable`] could not be created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MemtableError {
    /// A threshold of zero would flush an empty table forever.
    #[error("the flush threshold must be at least one entry")]
    ZeroThreshold,
}

/// A full memtable, taken out of service by exactly one [`Memtable::put`].
/// Its owner writes it to disk (as an SSTable) without holding any lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flush {
    /// 1 for the first flush of a memtable, 2 for the second, and so on.
    pub number: u64,
    /// Exactly `threshold` entries, sorted by key.
    pub entries: BTreeMap<String, String>,
}

/// The mutable part of a [`Memtable`], all behind one lock.
#[derive(Debug, Default)]
struct Active {
    /// The keys waiting for the next flush.
    entries: BTreeMap<String, String>,
    /// How many flushes this memtable has handed out so far.
    flushes: u64,
}

/// An in-memory table that is flushed each time it holds `threshold`
/// distinct keys.
#[derive(Debug)]
pub struct Memtable {
    threshold: usize,
    active: Mutex<Active>,
}
// ANCHOR_END: task4_types

// ANCHOR: task4
impl Memtable {
    /// A memtable that flushes every `threshold` distinct keys.
    /// A `threshold` of 0 is [`MemtableError::ZeroThreshold`].
    pub fn new(threshold: usize) -> Result<Self, MemtableError> {
        todo!("task 4: reject 0, then an empty Active behind a Mutex")
    }

    /// The number of distinct keys that triggers a flush.
    pub fn threshold(&self) -> usize {
        todo!("task 4: return the field")
    }

    /// Inserts (or overwrites) `key`. If that makes the table reach the
    /// threshold, takes all its entries out and returns them as a [`Flush`]
    /// for the caller to write; otherwise returns `None`.
    ///
    /// Under concurrent puts, each crossing of the threshold produces
    /// exactly one flush, of exactly `threshold` entries.
    pub fn put(&self, key: &str, value: &str) -> Option<Flush> {
        todo!("task 4: insert, check and swap in one critical section")
    }

    /// The value of `key` if it has not been flushed yet.
    pub fn get(&self, key: &str) -> Option<String> {
        todo!("task 4: lock, look up, clone")
    }

    /// The number of distinct keys waiting for the next flush.
    pub fn len(&self) -> usize {
        todo!("task 4: lock, len")
    }

    /// Whether no key is waiting for the next flush.
    pub fn is_empty(&self) -> bool {
        todo!("task 4: lock, is_empty")
    }
}
// ANCHOR_END: task4
