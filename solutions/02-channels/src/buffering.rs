//! Task 1: rendezvous versus buffered channels, made visible with `try_send`.

use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;

use crate::error::{ChannelsError, join_stage, spawn_stage};

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
    pub returned: Vec<T>,
}

/// Offers `values` to `tx` in order with `try_send`, never blocking, and
/// stops at the first refusal.
pub fn offer_all<T, I>(tx: &SyncSender<T>, values: I) -> Offer<T>
where
    I: IntoIterator<Item = T>,
{
    let mut values = values.into_iter();
    let mut accepted = 0;
    while let Some(value) = values.next() {
        let (refusal, value) = match tx.try_send(value) {
            Ok(()) => {
                accepted += 1;
                continue;
            }
            Err(TrySendError::Full(value)) => (Refusal::Full, value),
            Err(TrySendError::Disconnected(value)) => (Refusal::Disconnected, value),
        };
        // try_send hands the value back: nothing is lost on a refusal.
        let returned = std::iter::once(value).chain(values).collect();
        return Offer {
            accepted,
            refused: Some(refusal),
            returned,
        };
    }
    Offer {
        accepted,
        refused: None,
        returned: Vec::new(),
    }
}

/// A consumer thread at the receiving end of a `sync_channel`.
#[derive(Debug)]
pub struct Consumer<T> {
    sender: SyncSender<T>,
    handle: JoinHandle<usize>,
}

/// Starts a thread named `consumer` that receives from a new
/// `sync_channel(capacity)` and calls `consume` on every value, in order.
pub fn spawn_consumer<T, F>(capacity: usize, mut consume: F) -> Result<Consumer<T>, ChannelsError>
where
    T: Send + 'static,
    F: FnMut(T) + Send + 'static,
{
    let (sender, receiver) = sync_channel(capacity);
    let handle = spawn_stage("consumer", move || {
        let mut consumed = 0;
        // Ends when every sender has been dropped and the buffer is empty.
        for value in receiver {
            consume(value);
            consumed += 1;
        }
        consumed
    })?;
    Ok(Consumer { sender, handle })
}

impl<T> Consumer<T> {
    /// The sending half of the consumer's channel.
    pub fn sender(&self) -> &SyncSender<T> {
        &self.sender
    }

    /// Closes the channel by dropping the sender, waits for the consumer to
    /// drain it, and returns how many values it consumed.
    pub fn finish(self) -> Result<usize, ChannelsError> {
        let Self { sender, handle } = self;
        // Joining first would wait for a loop that only ends once we hang up.
        drop(sender);
        join_stage("consumer", handle)
    }
}
