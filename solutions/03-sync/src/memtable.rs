//! Task 4: check-then-act. Exactly one flush per threshold crossing.

use std::collections::BTreeMap;

use crate::sync::{Mutex, MutexGuard, PoisonError};

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
    entries: BTreeMap<String, String>,
    flushes: u64,
}

/// An in-memory table that is flushed each time it holds `threshold`
/// distinct keys.
#[derive(Debug)]
pub struct Memtable {
    threshold: usize,
    active: Mutex<Active>,
}

impl Memtable {
    /// A memtable that flushes every `threshold` distinct keys.
    pub fn new(threshold: usize) -> Result<Self, MemtableError> {
        if threshold == 0 {
            return Err(MemtableError::ZeroThreshold);
        }
        Ok(Self {
            threshold,
            active: Mutex::new(Active::default()),
        })
    }

    /// The number of distinct keys that triggers a flush.
    pub fn threshold(&self) -> usize {
        self.threshold
    }

    /// Inserts (or overwrites) `key`. If that makes the table reach the
    /// threshold, takes all its entries out and returns them as a [`Flush`]
    /// for the caller to write; otherwise returns `None`.
    ///
    /// The insert, the size check and the swap happen under one lock, so
    /// exactly one `put` sees each crossing, and no `put` can slip an entry
    /// in between the check and the swap.
    pub fn put(&self, key: &str, value: &str) -> Option<Flush> {
        let mut active = self.lock();
        active.entries.insert(key.to_owned(), value.to_owned());
        if active.entries.len() < self.threshold {
            return None;
        }
        active.flushes += 1;
        Some(Flush {
            number: active.flushes,
            entries: std::mem::take(&mut active.entries),
        })
    }

    /// The value of `key` if it has not been flushed yet.
    pub fn get(&self, key: &str) -> Option<String> {
        self.lock().entries.get(key).cloned()
    }

    /// The number of distinct keys waiting for the next flush.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Whether no key is waiting for the next flush.
    pub fn is_empty(&self) -> bool {
        self.lock().entries.is_empty()
    }

    /// Each critical section either completes or leaves the map valid (only
    /// allocation can panic inside it), so poisoning is ignored.
    fn lock(&self) -> MutexGuard<'_, Active> {
        self.active.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
