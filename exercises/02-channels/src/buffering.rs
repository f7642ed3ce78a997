//! Task 1: rendezvous versus buffered channels, made visible with `try_send`.

use std::sync::mpsc::SyncSender;
use std::thread::JoinHandle;

use crate::error::ChannelsError;

// ANCHOR: offer
/// Why [`offer_all`] stopped before the values ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The buffer was full, and no receiver was waiting.
    Full,
    /// Every receiver was gone.
    Disconnected,
}

/// The outcome of [`offer_all`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer<T> {
    /// How many values the channel took.
    pub accepted: usize,
    /// Why sending stopped, or `None` if every value was taken.
    pub refused: Option<Refusal>,
    /// The refused value followed by every value not yet offered, in order.
    /// Empty when `refused` is `None`.
    pub returned: Vec<T>,
}

/// Offers `values` to `tx` in order with [`SyncSender::try_send`], which never
/// blocks, and stops at the first refusal.
///
/// - On a `sync_channel(k)` that nobody receives from, exactly `k` values are
///   accepted and the next one is refused with [`Refusal::Full`].
/// - On a `sync_channel(0)`, a value is accepted only if a receiver is
///   blocked in `recv` at that moment.
/// - Once every receiver has been dropped, the channel refuses with
///   [`Refusal::Disconnected`].
/// - A refused value is not lost: `try_send` hands it back inside the error,
///   and it goes first in [`Offer::returned`].
pub fn offer_all<T, I>(tx: &SyncSender<T>, values: I) -> Offer<T>
where
    I: IntoIterator<Item = T>,
{
    todo!("task 1: loop over try_send; on an error, return its value and the rest")
}
// ANCHOR_END: offer

// ANCHOR: consumer
/// A consumer thread at the receiving end of a `sync_channel`.
#[derive(Debug)]
pub struct Consumer<T> {
    sender: SyncSender<T>,
    handle: JoinHandle<usize>,
}

/// Starts a thread named `consumer` (use [`crate::spawn_stage`]) that
/// receives from a new `std::sync::mpsc::sync_channel(capacity)` and calls
/// `consume` on every value, in order, until the channel is closed.
///
/// The thread returns how many values it consumed.
pub fn spawn_consumer<T, F>(capacity: usize, consume: F) -> Result<Consumer<T>, ChannelsError>
where
    T: Send + 'static,
    F: FnMut(T) + Send + 'static,
{
    todo!("task 1: sync_channel(capacity), then a thread that loops over the receiver")
}

impl<T> Consumer<T> {
    /// The sending half of the consumer's channel.
    pub fn sender(&self) -> &SyncSender<T> {
        todo!("task 1: one line")
    }

    /// Closes the channel by dropping the sender, waits for the consumer to
    /// drain it, and returns how many values it consumed.
    ///
    /// A consumer that panicked is [`ChannelsError::Panicked`] with stage
    /// `"consumer"` (use [`crate::join_stage`]).
    pub fn finish(self) -> Result<usize, ChannelsError> {
        todo!("task 1: drop the sender, then join the thread")
    }
}
// ANCHOR_END: consumer
