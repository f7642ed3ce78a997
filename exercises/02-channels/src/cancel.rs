//! Task 5: cancelling a running pipeline with a closed channel.

use std::convert::Infallible;
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender};

use crate::error::ChannelsError;

// ANCHOR: stop
/// The cancelling side of a stop signal, like the `cancel` function of Go's
/// `context.WithCancel`.
///
/// Stopping is dropping: [`StopSource::stop`] and going out of scope both
/// fire the signal, so keep the source alive for as long as the work should
/// run.
#[derive(Debug)]
pub struct StopSource {
    _keep_open: Sender<Infallible>,
}

/// The observing side of a stop signal, like `ctx.Done()`. Clones share it.
#[derive(Debug, Clone)]
pub struct StopToken {
    done: Receiver<Infallible>,
}

/// A new stop signal that has not fired yet.
///
/// Nothing can ever be sent on a channel of [`Infallible`]: the only thing
/// that can happen to it is that it closes, and a close is seen by every
/// receiver at once (a sent value would reach only one).
pub fn stop_pair() -> (StopSource, StopToken) {
    todo!("task 5: one crossbeam channel of Infallible")
}

impl StopSource {
    /// Fires the signal.
    pub fn stop(self) {
        todo!("task 5: one line")
    }
}

impl StopToken {
    /// Whether the signal has fired. Never blocks.
    pub fn is_stopped(&self) -> bool {
        todo!("task 5: what does try_recv say about a closed channel?")
    }

    /// A channel that becomes ready (disconnected) when the signal fires:
    /// use it as a `recv` arm in `select!`.
    pub fn done(&self) -> &Receiver<Infallible> {
        todo!("task 5: one line")
    }
}
// ANCHOR_END: stop

// ANCHOR: cancellable
/// How many values each stage of a [`Cancellable`] pipeline delivered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StageCounts {
    /// Values the generator sent to the square stage.
    pub generated: usize,
    /// Squares the square stage sent to the output.
    pub squared: usize,
}

/// A running generator → square pipeline that a [`StopToken`] can end.
#[derive(Debug)]
pub struct Cancellable {
    /// The squares, in order.
    pub output: Receiver<u64>,
    generator: JoinHandle<usize>,
    square: JoinHandle<usize>,
}

/// Starts two threads joined by `crossbeam_channel::bounded(buffer)`
/// channels: a `generator` that calls `source` for values, and a `square`
/// stage that writes their squares (as `u64`) to [`Cancellable::output`].
///
/// - The generator checks the stop before every call of `source`: once the
///   stop has fired, `source` is never called again. `source` returning
///   `None` ends the generator, which closes its channel.
/// - No stage may block where the stop cannot reach it: every `send` and
///   every `recv` is a `select!` that also waits on `stop.done()`.
/// - A stage also ends when its input closes or its receiver hangs up.
pub fn start_cancellable<S>(
    source: S,
    buffer: usize,
    stop: StopToken,
) -> Result<Cancellable, ChannelsError>
where
    S: FnMut() -> Option<u32> + Send + 'static,
{
    todo!("task 5: like task 2, but every blocking operation also selects on the stop")
}

impl Cancellable {
    /// Waits for both stages to end and returns what they delivered.
    ///
    /// It does not hang up on its own: stop the pipeline (or let the source
    /// run dry and drain the output) first. A panicked stage (a panicking
    /// source takes the generator down) is [`ChannelsError::Panicked`] with
    /// that stage's name.
    pub fn join(self) -> Result<StageCounts, ChannelsError> {
        todo!("task 5: join both threads")
    }
}

/// What [`collect_until_stopped`] returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partial {
    /// The squares received before the stop (or all of them), in order.
    pub output: Vec<u64>,
    /// What each stage delivered.
    pub counts: StageCounts,
}

/// Runs [`start_cancellable`] and collects its output on the calling thread
/// until the output closes or the stop fires, then joins both stages.
///
/// Once this loop sees the stop, it takes no more values.
pub fn collect_until_stopped<S>(
    source: S,
    buffer: usize,
    stop: StopToken,
) -> Result<Partial, ChannelsError>
where
    S: FnMut() -> Option<u32> + Send + 'static,
{
    todo!("task 5: select! over the output and stop.done(), then join")
}
// ANCHOR_END: cancellable
