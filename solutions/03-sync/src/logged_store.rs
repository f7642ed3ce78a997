//! Task 5: the log and the table must agree on the order of writes.

use std::collections::BTreeMap;

use crate::sync::{Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// One write, as the log (our stand-in for a write-ahead log) records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRecord {
    /// The key written.
    pub key: String,
    /// The value written.
    pub value: String,
}

/// The log and the table, both taken at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// Every record, oldest first.
    pub log: Vec<LogRecord>,
    /// The in-memory table.
    pub table: BTreeMap<String, String>,
}

/// A key-value store that logs every write before applying it to memory.
///
/// Two locks: readers only need the table, so they never wait for the log.
/// Lock order: `log` first, then `table`, everywhere.
#[derive(Debug, Default)]
pub struct LoggedStore {
    log: Mutex<Vec<LogRecord>>,
    table: RwLock<BTreeMap<String, String>>,
}

impl LoggedStore {
    /// An empty store with an empty log.
    pub fn new() -> Self {
        Self {
            log: Mutex::new(Vec::new()),
            table: RwLock::new(BTreeMap::new()),
        }
    }

    /// Appends `key = value` to the log, then applies it to the table.
    ///
    /// The log guard is held until the table is updated: concurrent puts
    /// therefore reach the table in the order they reached the log, and
    /// [`replay`] of the log always rebuilds the table.
    pub fn put(&self, key: &str, value: &str) {
        let mut log = self.log();
        log.push(LogRecord {
            key: key.to_owned(),
            value: value.to_owned(),
        });
        self.table_mut().insert(key.to_owned(), value.to_owned());
    }

    /// The current value of `key` in memory.
    pub fn get(&self, key: &str) -> Option<String> {
        self.table().get(key).cloned()
    }

    /// A copy of the log and the table, consistent with each other: holding
    /// the log lock keeps every put out while both are copied.
    pub fn snapshot(&self) -> Snapshot {
        let log = self.log();
        let table = self.table().clone();
        Snapshot {
            log: log.clone(),
            table,
        }
    }

    // Pushing to a Vec or inserting into a map leaves them valid even if it
    // panics (on allocation failure), so poisoning is ignored.
    fn log(&self) -> MutexGuard<'_, Vec<LogRecord>> {
        self.log.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn table(&self) -> RwLockReadGuard<'_, BTreeMap<String, String>> {
        self.table.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn table_mut(&self) -> RwLockWriteGuard<'_, BTreeMap<String, String>> {
        self.table.write().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Rebuilds a table from a log, as recovery after a crash would: apply
/// every record in order, so the last write to each key wins.
pub fn replay(log: &[LogRecord]) -> BTreeMap<String, String> {
    log.iter()
        .map(|record| (record.key.clone(), record.value.clone()))
        .collect()
}
