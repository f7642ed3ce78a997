//! A bounded FIFO queue on a `Mutex<VecDeque>` and two condition variables.
//!
//! Producers wait on `not_full`, consumers on `not_empty`. With one condvar
//! for both, `notify_one` could wake a thread of the wrong kind and the wake-up
//! would be lost.

use std::collections::VecDeque;
use std::fmt;
use std::num::NonZeroUsize;
use std::sync::PoisonError;

use crate::sync::{Condvar, Mutex, MutexGuard};

/// The queue was closed; the item that could not be pushed is in `.0`.
#[derive(PartialEq, Eq, thiserror::Error)]
#[error("the queue is closed")]
pub struct Closed<T>(pub T);

impl<T> fmt::Debug for Closed<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Closed").finish_non_exhaustive()
    }
}

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

/// A FIFO queue that holds at most `capacity` items.
///
/// [`push`](Self::push) blocks while the queue is full (backpressure),
/// [`pop`](Self::pop) blocks while it is empty, and [`close`](Self::close)
/// wakes everybody: pushes fail from then on, and pops drain what is left
/// and then return `None`.
pub struct BoundedQueue<T> {
    state: Mutex<State<T>>,
    /// Signalled when an item arrives or the queue closes.
    not_empty: Condvar,
    /// Signalled when a slot frees up or the queue closes.
    not_full: Condvar,
    capacity: usize,
}

struct State<T> {
    items: VecDeque<T>,
    /// Slots held by outstanding [`Permit`]s.
    reserved: usize,
    closed: bool,
}

impl<T> State<T> {
    fn is_full(&self, capacity: usize) -> bool {
        self.items.len() + self.reserved >= capacity
    }
}

impl<T> BoundedQueue<T> {
    /// An empty, open queue with room for `capacity` items.
    pub fn new(capacity: NonZeroUsize) -> Self {
        Self {
            state: Mutex::new(State {
                items: VecDeque::with_capacity(capacity.get()),
                reserved: 0,
                closed: false,
            }),
            not_empty: Condvar::new(),
            not_full: Condvar::new(),
            capacity: capacity.get(),
        }
    }

    /// The most items the queue holds at once.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The number of queued items (reserved slots do not count).
    pub fn len(&self) -> usize {
        self.lock().items.len()
    }

    /// Whether no item is queued.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether [`close`](Self::close) has been called.
    pub fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// Appends `item`, blocking while the queue is full.
    ///
    /// Fails with the item if the queue is closed, also when it closes while
    /// this call waits for room.
    pub fn push(&self, item: T) -> Result<(), Closed<T>> {
        let mut state = self.lock();
        while !state.closed && state.is_full(self.capacity) {
            state = self
                .not_full
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        if state.closed {
            return Err(Closed(item));
        }
        state.items.push_back(item);
        drop(state);
        self.not_empty.notify_one();
        Ok(())
    }

    /// Reserves a slot without blocking, for an item that does not exist yet.
    ///
    /// The slot counts as taken until the [`Permit`] is used or dropped.
    pub fn try_reserve(&self) -> Result<Permit<'_, T>, TryReserveError> {
        let mut state = self.lock();
        if state.closed {
            Err(TryReserveError::Closed)
        } else if state.is_full(self.capacity) {
            Err(TryReserveError::Full)
        } else {
            state.reserved += 1;
            Ok(Permit { queue: self })
        }
    }

    /// Removes the oldest item, blocking while the queue is empty and open.
    ///
    /// Returns `None` once the queue is closed and empty.
    pub fn pop(&self) -> Option<T> {
        let mut state = self.lock();
        loop {
            if let Some(item) = state.items.pop_front() {
                drop(state);
                self.not_full.notify_one();
                return Some(item);
            }
            if state.closed {
                return None;
            }
            state = self
                .not_empty
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Closes the queue and wakes every blocked [`push`](Self::push) and
    /// [`pop`](Self::pop). Closing twice is harmless.
    pub fn close(&self) {
        self.lock().closed = true;
        // Every waiter must re-check: one wake-up per waiter, not one in all.
        self.not_empty.notify_all();
        self.not_full.notify_all();
    }

    /// Removes and returns every queued item, oldest first, and wakes blocked
    /// pushers. Works on an open or a closed queue.
    pub fn take_all(&self) -> Vec<T> {
        let items: Vec<T> = self.lock().items.drain(..).collect();
        self.not_full.notify_all();
        items
    }

    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // No code panics while holding this lock, and the state is valid
        // between any two statements, so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<T> fmt::Debug for BoundedQueue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("BoundedQueue")
            .field("len", &state.items.len())
            .field("reserved", &state.reserved)
            .field("capacity", &self.capacity)
            .field("closed", &state.closed)
            .finish()
    }
}

/// One slot of a [`BoundedQueue`], reserved by
/// [`try_reserve`](BoundedQueue::try_reserve).
///
/// [`push`](Self::push) fills the slot; dropping the permit unused gives the
/// slot back.
#[must_use = "a permit holds a queue slot until it is used or dropped"]
pub struct Permit<'a, T> {
    queue: &'a BoundedQueue<T>,
}

impl<T> Permit<'_, T> {
    /// Queues `item` in the reserved slot; never blocks.
    ///
    /// Fails with the item if the queue was closed after the reservation.
    pub fn push(self, item: T) -> Result<(), Closed<T>> {
        let queue = self.queue;
        // The slot passes to the item, so Drop must not give it back.
        std::mem::forget(self);
        let mut state = queue.lock();
        state.reserved -= 1;
        if state.closed {
            return Err(Closed(item));
        }
        state.items.push_back(item);
        drop(state);
        queue.not_empty.notify_one();
        Ok(())
    }
}

impl<T> Drop for Permit<'_, T> {
    fn drop(&mut self) {
        self.queue.lock().reserved -= 1;
        self.queue.not_full.notify_one();
    }
}

impl<T> fmt::Debug for Permit<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit").finish_non_exhaustive()
    }
}
