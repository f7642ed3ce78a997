//! Task 2: a lock-free counter.

use crate::sync::atomic::{AtomicI64, Ordering};

// ANCHOR: task2
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
    /// Concurrent adds must never overwrite each other.
    pub fn add(&self, by: i64) -> i64 {
        // Task 2: this is right on one thread, and a lucky test run may pass
        // it too, but it has a race. Run the loom test (see the chapter),
        // read the interleaving it prints, then fix it.
        let current = self.n.load(Ordering::SeqCst);
        self.n.store(current + by, Ordering::SeqCst);
        current
    }

    /// Adds one and returns the value before, like a ticket dispenser.
    pub fn increment(&self) -> i64 {
        self.add(1)
    }

    /// The current value.
    pub fn get(&self) -> i64 {
        self.n.load(Ordering::SeqCst)
    }
}
// ANCHOR_END: task2
