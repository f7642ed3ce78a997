//! Task 3: a read-mostly cache behind a reader-writer lock.

use std::collections::HashMap;

use crate::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

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
        Self {
            entries: RwLock::new(HashMap::new()),
        }
    }

    /// The value for `key`, if any.
    pub fn get(&self, key: &str) -> Option<String> {
        self.read().get(key).cloned()
    }

    /// Sets `key` to `value` and returns the previous value.
    pub fn insert(&self, key: &str, value: &str) -> Option<String> {
        self.write().insert(key.to_owned(), value.to_owned())
    }

    /// Sets every pair in `entries` in one step: no reader sees some of
    /// them applied and others not.
    pub fn insert_many(&self, entries: &[(&str, &str)]) {
        let mut map = self.write();
        for &(key, value) in entries {
            map.insert(key.to_owned(), value.to_owned());
        }
    }

    /// The values for `keys`, in order, all read at one moment.
    pub fn get_many(&self, keys: &[&str]) -> Vec<Option<String>> {
        let map = self.read();
        keys.iter().map(|&key| map.get(key).cloned()).collect()
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.read().len()
    }

    /// Whether the cache has no entries.
    pub fn is_empty(&self) -> bool {
        self.read().is_empty()
    }

    /// Runs `f` on the map while holding a read lock, and returns its
    /// result. Calls on different threads may run `f` at the same time.
    pub fn with_read<R>(&self, f: impl FnOnce(&HashMap<String, String>) -> R) -> R {
        f(&self.read())
    }

    // Only an allocation failure can panic while a guard is held, and the
    // map stays a valid map even then, so a poisoned lock is still usable.
    fn read(&self) -> RwLockReadGuard<'_, HashMap<String, String>> {
        self.entries.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, HashMap<String, String>> {
        self.entries.write().unwrap_or_else(PoisonError::into_inner)
    }
}
