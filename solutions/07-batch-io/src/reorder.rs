//! Task 4: releasing results in input order.

use std::collections::BTreeMap;

// ANCHOR: task4
/// Holds items that arrive out of order until every item before them has
/// arrived, then releases them in index order: 0, 1, 2, ...
///
/// ```text
/// insert(2, c)          holds {2}      next_ready: None   (waiting for 0)
/// insert(0, a)          holds {0, 2}   next_ready: a, then None (waiting for 1)
/// insert(1, b)          holds {1, 2}   next_ready: b, then c, then None
/// ```
#[derive(Debug)]
pub struct Reorder<T> {
    /// The index of the next item to release.
    next: usize,
    /// Items that arrived before their turn, by index.
    waiting: BTreeMap<usize, T>,
}

impl<T> Default for Reorder<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Reorder<T> {
    /// An empty buffer that releases index 0 first.
    pub fn new() -> Self {
        Self {
            next: 0,
            waiting: BTreeMap::new(),
        }
    }

    /// Stores the item with this index. Each index is inserted once.
    pub fn insert(&mut self, index: usize, item: T) {
        debug_assert!(index >= self.next, "index {index} was already released");
        self.waiting.insert(index, item);
    }

    /// Releases the next item in order if it has arrived, else `None`.
    /// Call it in a loop after each insert: one insert can release many.
    pub fn next_ready(&mut self) -> Option<T> {
        let item = self.waiting.remove(&self.next)?;
        self.next += 1;
        Some(item)
    }

    /// How many items have been released so far.
    pub fn released(&self) -> usize {
        self.next
    }

    /// How many items are held back, waiting for an earlier one.
    pub fn waiting(&self) -> usize {
        self.waiting.len()
    }
}
// ANCHOR_END: task4
