//! Task 2: a generator → square → sink pipeline that shuts down by itself.

use std::sync::mpsc::Receiver;
use std::thread::JoinHandle;

use crate::error::ChannelsError;

// ANCHOR: stage
/// A running pipeline stage: the channel it writes to and its thread.
#[derive(Debug)]
pub struct Stage<T> {
    /// The receiving end of the stage's output channel.
    pub output: Receiver<T>,
    /// The stage's thread; it returns how many values it delivered
    /// (successful sends).
    pub handle: JoinHandle<usize>,
}
// ANCHOR_END: stage

// ANCHOR: stages
/// Sends every value, in order, into a new `sync_channel(buffer)` from a
/// thread named `generator`.
///
/// - When the values run out, the thread ends, and dropping its sender
///   closes the channel: that is the only end-of-stream signal.
/// - If the receiver hangs up, `send` fails: stop at once (no panic), even if
///   values are left. `values` may be endless.
pub fn generate<I>(values: I, buffer: usize) -> Result<Stage<u32>, ChannelsError>
where
    I: IntoIterator<Item = u32>,
    I::IntoIter: Send + 'static,
{
    todo!("task 2: sync_channel(buffer) and a thread that sends every value")
}

/// Squares every value from `input` (as a `u64`) into a new
/// `sync_channel(buffer)` on a thread named `square`, in order.
///
/// The thread ends when `input` is closed and empty, or when its own
/// receiver hangs up; either way its sender is dropped, which closes the
/// output.
pub fn square(input: Receiver<u32>, buffer: usize) -> Result<Stage<u64>, ChannelsError> {
    todo!("task 2: `for value in input` ends by itself when the sender is dropped")
}

/// Collects everything from `input`, in order, on a thread named `sink`.
pub fn sink(input: Receiver<u64>) -> Result<JoinHandle<Vec<u64>>, ChannelsError> {
    todo!("task 2: one thread, one collect")
}

/// Runs generator → square → sink with channels of capacity `buffer`, joins
/// all three threads, and returns the squares in input order.
///
/// A panicked stage is [`ChannelsError::Panicked`] with that stage's name.
pub fn run_pipeline<I>(values: I, buffer: usize) -> Result<Vec<u64>, ChannelsError>
where
    I: IntoIterator<Item = u32>,
    I::IntoIter: Send + 'static,
{
    todo!("task 2: wire the three stages together, then join every thread")
}
// ANCHOR_END: stages
