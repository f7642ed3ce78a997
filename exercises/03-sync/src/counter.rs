//! Task 1: a counter behind a mutex.

use crate::sync::Mutex;

// ANCHOR: task1
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
        todo!("task 1: wrap 0 in a Mutex")
    }

    /// Adds one.
    pub fn increment(&self) {
        todo!("task 1: add 1")
    }

    /// Subtracts one.
    pub fn decrement(&self) {
        todo!("task 1: add -1")
    }

    /// Adds `delta` (which may be negative) and returns the value right
    /// after this change, as one indivisible step: two concurrent `add(1)`
    /// calls never return the same value.
    pub fn add(&self, delta: i64) -> i64 {
        todo!("task 1: lock once, change the value, read it back, unlock")
    }

    /// The current value.
    pub fn value(&self) -> i64 {
        todo!("task 1: lock and copy the value out")
    }
}
// ANCHOR_END: task1
