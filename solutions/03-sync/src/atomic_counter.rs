//! Task 2: a lock-free counter.

use crate::sync::atomic::{AtomicI64, Ordering};

/// A counter that threads change with single atomic instructions, no lock.
#[derive(Debug, Default)]
pub struct AtomicCounter {
    n: AtomicI64,
}

impl AtomicCounter {
    /// A counter at zero.
    pub fn new() -> Self {
        Self {
            n: AtomicI64::new(0),
        }
    }

    /// Adds `by` and returns the value *before* the add.
    ///
    /// The read, the addition and the write are one indivisible
    /// read-modify-write, so concurrent adds never overwrite each other.
    /// `Relaxed` is enough: the counter publishes no other data, and
    /// `JoinHandle::join` orders the final read after every add.
    pub fn add(&self, by: i64) -> i64 {
        self.n.fetch_add(by, Ordering::Relaxed)
    }

    /// Adds one and returns the value before, like a ticket dispenser.
    pub fn increment(&self) -> i64 {
        self.add(1)
    }

    /// The current value.
    pub fn get(&self) -> i64 {
        self.n.load(Ordering::Relaxed)
    }
}
