//! Task 5: the log and the table must agree on the order of writes.

use std::collections::BTreeMap;

use crate::sync::{Mutex, RwLock};

// ANCHOR: task5_types
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
// ANCHOR_END: task5_types

// ANCHOR: task5
impl LoggedStore {
    /// An empty store with an empty log.
    pub fn new() -> Self {
        todo!("task 5: an empty Vec and an empty BTreeMap, each behind its lock")
    }

    /// Appends `key = value` to the log, then applies it to the table.
    ///
    /// Concurrent puts must reach the table in the same order as they reach
    /// the log, so that [`replay`] of the log always rebuilds the table.
    pub fn put(&self, key: &str, value: &str) {
        todo!("task 5: append to the log, apply to the table, in one order")
    }

    /// The current value of `key` in memory.
    pub fn get(&self, key: &str) -> Option<String> {
        todo!("task 5: read the table only")
    }

    /// A copy of the log and the table, consistent with each other: no put
    /// may be half done (logged but not applied) in the copy.
    pub fn snapshot(&self) -> Snapshot {
        todo!("task 5: copy both while no put can run")
    }
}

/// Rebuilds a table from a log, as recovery after a crash would: apply
/// every record in order, so the last write to each key wins.
pub fn replay(log: &[LogRecord]) -> BTreeMap<String, String> {
    todo!("task 5: insert every record in order")
}
// ANCHOR_END: task5
