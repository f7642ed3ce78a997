//! Task 1: a bounded FIFO queue on a `Mutex<VecDeque>` and two condition
//! variables.

use std::collections::VecDeque;
use std::fmt;
use std::num::NonZeroUsize;

use crate::sync::{Condvar, Mutex};

// ANCHOR: queue_errors
/// The queue was closed; the item that could not be pushed is in `.0`.
#[derive(PartialEq, Eq, thiserror::Error)]
#[error("the queue is closed")]
pub struct Closed<T>(pub T);

/// Why [`BoundedQueue::try_reserve`] gave no slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TryReserveError {
    /// Every slot is taken by a queued item or by an outstanding [`Permit`].
    #[error("the queue is full")]
    Full,
    /// The queue was closed.
    #[error("the queue is closed")]
    Closed,
}
// ANCHOR_END: queue_errors

impl<T> fmt::Debug for Closed<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Closed").finish_non_exhaustive()
    }
}

// ANCHOR: queue_type
/// A FIFO queue that holds at most `capacity` items.
///
/// [`push`](Self::push) blocks while the queue is full (backpressure),
/// [`pop`](Self::pop) blocks while it is empty, and [`close`](Self::close)
/// wakes everybody: pushes fail from then on, and pops drain what is left
/// and then return `None`.
pub struct BoundedQueue<T> {
    state: Mutex<State<T>>,
    /// Consumers wait here: signal it when an item arrives or the queue closes.
    not_empty: Condvar,
    /// Producers wait here: signal it when a slot frees up or the queue closes.
    not_full: Condvar,
    capacity: usize,
}

/// Everything the mutex protects.
struct State<T> {
    items: VecDeque<T>,
    /// Slots held by outstanding [`Permit`]s: they count against the capacity.
    reserved: usize,
    closed: bool,
}
// ANCHOR_END: queue_type

// ANCHOR: task1
impl<T> BoundedQueue<T> {
    /// An empty, open queue with room for `capacity` items.
    pub fn new(capacity: NonZeroUsize) -> Self {
        todo!("task 1: build the State, two Condvars, and remember the capacity")
    }

    /// The most items the queue holds at once.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The number of queued items (reserved slots do not count).
    pub fn len(&self) -> usize {
        todo!("task 1: lock and count the items")
    }

    /// Whether no item is queued.
    pub fn is_empty(&self) -> bool {
        todo!("task 1: see len")
    }

    /// Whether [`close`](Self::close) has been called.
    pub fn is_closed(&self) -> bool {
        todo!("task 1: lock and read the flag")
    }

    /// Appends `item`, blocking while the queue is full: queued items plus
    /// reserved slots reach the capacity.
    ///
    /// Fails with the item if the queue is closed, also when it closes while
    /// this call waits for room.
    pub fn push(&self, item: T) -> Result<(), Closed<T>> {
        todo!("task 1: wait on not_full in a loop, then push_back and wake one consumer")
    }

    /// Reserves a slot without blocking, for an item that does not exist yet.
    ///
    /// Fails with [`TryReserveError::Closed`] on a closed queue and with
    /// [`TryReserveError::Full`] when no slot is free. The slot counts as
    /// taken until the [`Permit`] is used or dropped.
    pub fn try_reserve(&self) -> Result<Permit<'_, T>, TryReserveError> {
        todo!("task 1: check closed, then room; count the reservation in the State")
    }

    /// Removes the oldest item, blocking while the queue is empty and open.
    ///
    /// Returns `None` once the queue is closed *and* empty: closing does not
    /// throw queued items away.
    pub fn pop(&self) -> Option<T> {
        todo!("task 1: in a loop, take an item, or return None if closed, or wait on not_empty")
    }

    /// Closes the queue and wakes every blocked [`push`](Self::push) and
    /// [`pop`](Self::pop). Closing twice is harmless.
    pub fn close(&self) {
        todo!("task 1: set the flag, then notify_all on both condvars")
    }

    /// Removes and returns every queued item, oldest first, and wakes blocked
    /// pushers. Works on an open or a closed queue.
    pub fn take_all(&self) -> Vec<T> {
        todo!("task 1: drain the VecDeque, then wake the producers")
    }
}

/// One slot of a [`BoundedQueue`], reserved by
/// [`try_reserve`](BoundedQueue::try_reserve).
///
/// [`push`](Self::push) fills the slot; dropping the permit unused gives the
/// slot back (and wakes a producer waiting for room).
#[must_use = "a permit holds a queue slot until it is used or dropped"]
pub struct Permit<'a, T> {
    queue: &'a BoundedQueue<T>,
}

impl<T> Permit<'_, T> {
    /// Queues `item` in the reserved slot; never blocks.
    ///
    /// Fails with the item if the queue was closed after the reservation.
    pub fn push(self, item: T) -> Result<(), Closed<T>> {
        todo!("task 1: turn the reservation into an item; Drop must not give the slot back too")
    }
}

impl<T> Drop for Permit<'_, T> {
    /// Gives an unused slot back.
    fn drop(&mut self) {
        // Task 1: un-count the reservation and wake one producer.
        //
        // (This body is empty rather than a `todo!()`: a panic in a
        // destructor that runs while another panic unwinds aborts the whole
        // test program.)
    }
}
// ANCHOR_END: task1

impl<T> fmt::Debug for BoundedQueue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundedQueue")
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Permit<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit").finish_non_exhaustive()
    }
}
