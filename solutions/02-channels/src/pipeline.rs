//! Task 2: a generator → square → sink pipeline that shuts down by itself.

use std::sync::mpsc::{Receiver, sync_channel};
use std::thread::JoinHandle;

use crate::error::{ChannelsError, join_stage, spawn_stage};

/// A running pipeline stage: the channel it writes to and its thread.
#[derive(Debug)]
pub struct Stage<T> {
    /// The receiving end of the stage's output channel.
    pub output: Receiver<T>,
    /// The stage's thread; it returns how many values it delivered.
    pub handle: JoinHandle<usize>,
}

/// Sends every value into a new `sync_channel(buffer)` from a thread named
/// `generator`, and stops early if the receiver hangs up.
pub fn generate<I>(values: I, buffer: usize) -> Result<Stage<u32>, ChannelsError>
where
    I: IntoIterator<Item = u32>,
    I::IntoIter: Send + 'static,
{
    let values = values.into_iter();
    let (tx, output) = sync_channel(buffer);
    let handle = spawn_stage("generator", move || {
        let mut sent = 0;
        for value in values {
            if tx.send(value).is_err() {
                break; // downstream is gone: stop instead of producing for nobody
            }
            sent += 1;
        }
        sent // `tx` is dropped here, which closes the channel
    })?;
    Ok(Stage { output, handle })
}

/// Squares every value from `input` into a new `sync_channel(buffer)` on a
/// thread named `square`, until `input` closes or the receiver hangs up.
pub fn square(input: Receiver<u32>, buffer: usize) -> Result<Stage<u64>, ChannelsError> {
    let (tx, output) = sync_channel(buffer);
    let handle = spawn_stage("square", move || {
        let mut sent = 0;
        for value in input {
            let value = u64::from(value);
            if tx.send(value * value).is_err() {
                break;
            }
            sent += 1;
        }
        sent
    })?;
    Ok(Stage { output, handle })
}

/// Collects everything from `input`, in order, on a thread named `sink`.
pub fn sink(input: Receiver<u64>) -> Result<JoinHandle<Vec<u64>>, ChannelsError> {
    spawn_stage("sink", move || input.into_iter().collect())
}

/// Runs generator → square → sink with channels of capacity `buffer`, joins
/// all three threads, and returns the squares in input order.
pub fn run_pipeline<I>(values: I, buffer: usize) -> Result<Vec<u64>, ChannelsError>
where
    I: IntoIterator<Item = u32>,
    I::IntoIter: Send + 'static,
{
    let generator = generate(values, buffer)?;
    let squarer = square(generator.output, buffer)?;
    let collected = join_stage("sink", sink(squarer.output)?)?;
    join_stage("square", squarer.handle)?;
    join_stage("generator", generator.handle)?;
    Ok(collected)
}
