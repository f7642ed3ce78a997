//! Lesson 03: sharing state between threads (reference solution).
//!
//! A mutex that owns its data, an atomic counter, a read-mostly cache behind
//! an `RwLock`, and two races from an LSM store that safe Rust still lets you
//! write: a check-then-act flush and a log that disagrees with memory.

mod atomic_counter;
mod cache;
mod counter;
mod logged_store;
mod memtable;
pub mod quiz;
#[doc(hidden)]
pub mod sync;

pub use atomic_counter::AtomicCounter;
pub use cache::SafeCache;
pub use counter::Counter;
pub use logged_store::{LogRecord, LoggedStore, Snapshot, replay};
pub use memtable::{Flush, Memtable, MemtableError};
