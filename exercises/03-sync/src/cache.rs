//! Task 3: a read-mostly cache behind a reader-writer lock.

use std::collections::HashMap;

use crate::sync::RwLock;

// ANCHOR: task3
/// A string-to-string cache for many readers and few writers.
///
/// Any number of readers may hold the lock at the same time; a writer waits
/// until they are all gone and then has the map to itself.
#[derive(Debug, Default)]
pub struct SafeCache {
    entries: RwLock<HashMap<String, String>>,
}

impl SafeCache {
    /// An empty cache.
    pub fn new() -> Self {
        todo!("task 3: an RwLock around an empty HashMap")
    }

    /// The value for `key`, if any.
    pub fn get(&self, key: &str) -> Option<String> {
        todo!("task 3: read lock, clone the value out")
    }

    /// Sets `key` to `value` and returns the previous value.
    pub fn insert(&self, key: &str, value: &str) -> Option<String> {
        todo!("task 3: write lock, HashMap::insert")
    }

    /// Sets every pair in `entries` in one step: no reader sees some of
    /// them applied and others not.
    pub fn insert_many(&self, entries: &[(&str, &str)]) {
        todo!("task 3: one write lock for the whole batch")
    }

    /// The values for `keys`, in order, all read at one moment.
    pub fn get_many(&self, keys: &[&str]) -> Vec<Option<String>> {
        todo!("task 3: one read lock for all the keys")
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        todo!("task 3: read lock, len")
    }

    /// Whether the cache has no entries.
    pub fn is_empty(&self) -> bool {
        todo!("task 3: read lock, is_empty")
    }

    /// Runs `f` on the map while holding a read lock, and returns its
    /// result. Calls on different threads may run `f` at the same time.
    pub fn with_read<R>(&self, f: impl FnOnce(&HashMap<String, String>) -> R) -> R {
        todo!("task 3: call f with a shared read guard")
    }
}
// ANCHOR_END: task3
