//! Task 1: a counter behind a mutex.

use crate::sync::{Mutex, MutexGuard, PoisonError};

/// A signed counter that any number of threads may change at once.
///
/// The `i64` lives inside the [`Mutex`]: the only way to reach it is through
/// the guard that `lock` returns, so no code path can forget to lock.
#[derive(Debug, Default)]
pub struct Counter {
    value: Mutex<i64>,
}

impl Counter {
    /// A counter at zero.
    pub fn new() -> Self {
        Self {
            value: Mutex::new(0),
        }
    }

    /// Adds one.
    pub fn increment(&self) {
        self.add(1);
    }

    /// Subtracts one.
    pub fn decrement(&self) {
        self.add(-1);
    }

    /// Adds `delta` (which may be negative) and returns the value right
    /// after this change, as one indivisible step: two concurrent `add(1)`
    /// calls never return the same value.
    pub fn add(&self, delta: i64) -> i64 {
        let mut value = self.lock();
        *value += delta;
        *value
    }

    /// The current value.
    pub fn value(&self) -> i64 {
        *self.lock()
    }

    /// A panic while the lock was held cannot leave an `i64` half-written,
    /// so a poisoned lock is still safe to use.
    fn lock(&self) -> MutexGuard<'_, i64> {
        self.value.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
