//! Task 5: cancelling a running pipeline with a closed channel.

use std::convert::Infallible;
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender, TryRecvError, bounded, select};

use crate::error::{ChannelsError, join_stage, spawn_stage};

/// The cancelling side of a stop signal, like the `cancel` function of Go's
/// `context.WithCancel`. Stopping is dropping: [`StopSource::stop`] and
/// going out of scope both stop every [`StopToken`].
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
pub fn stop_pair() -> (StopSource, StopToken) {
    // Nothing can ever be sent on a channel of `Infallible`: the only thing
    // that can happen to it is that it closes.
    let (keep_open, done) = bounded(0);
    (
        StopSource {
            _keep_open: keep_open,
        },
        StopToken { done },
    )
}

impl StopSource {
    /// Fires the signal.
    pub fn stop(self) {
        drop(self);
    }
}

impl StopToken {
    /// Whether the signal has fired. Never blocks.
    pub fn is_stopped(&self) -> bool {
        matches!(self.done.try_recv(), Err(TryRecvError::Disconnected))
    }

    /// A channel that becomes ready (disconnected) when the signal fires:
    /// use it as a `recv` arm in `select!`.
    pub fn done(&self) -> &Receiver<Infallible> {
        &self.done
    }
}

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

/// Starts a generator thread that pulls values from `source` and a square
/// thread, joined by crossbeam channels of capacity `buffer`. Both stages end
/// when the stop fires, when their input runs dry, or when their receiver
/// hangs up; a stage blocked on a full channel wakes up for the stop.
pub fn start_cancellable<S>(
    mut source: S,
    buffer: usize,
    stop: StopToken,
) -> Result<Cancellable, ChannelsError>
where
    S: FnMut() -> Option<u32> + Send + 'static,
{
    let (numbers_tx, numbers_rx) = bounded::<u32>(buffer);
    let (squares_tx, output) = bounded::<u64>(buffer);

    let generator_stop = stop.clone();
    let generator = spawn_stage("generator", move || {
        let stop = generator_stop;
        let mut sent = 0;
        // Check the stop before asking for a value, so that once it has
        // fired the source is never called again.
        while !stop.is_stopped() {
            let Some(value) = source() else { break };
            select! {
                send(numbers_tx, value) -> res => {
                    if res.is_err() {
                        break;
                    }
                    sent += 1;
                }
                recv(stop.done()) -> _ => break,
            }
        }
        sent
    })?;

    let square = spawn_stage("square", move || {
        let mut sent = 0;
        loop {
            let value = select! {
                recv(numbers_rx) -> msg => match msg {
                    Ok(value) => u64::from(value),
                    Err(_) => break, // the generator is done
                },
                recv(stop.done()) -> _ => break,
            };
            select! {
                send(squares_tx, value * value) -> res => {
                    if res.is_err() {
                        break;
                    }
                    sent += 1;
                }
                recv(stop.done()) -> _ => break,
            }
        }
        sent
    })?;

    Ok(Cancellable {
        output,
        generator,
        square,
    })
}

impl Cancellable {
    /// Waits for both stages to end and returns what they delivered. Does
    /// not hang up on its own, so stop the pipeline (or let the source run
    /// dry and drain the output) first.
    pub fn join(self) -> Result<StageCounts, ChannelsError> {
        let squared = join_stage("square", self.square)?;
        let generated = join_stage("generator", self.generator)?;
        Ok(StageCounts { generated, squared })
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
pub fn collect_until_stopped<S>(
    source: S,
    buffer: usize,
    stop: StopToken,
) -> Result<Partial, ChannelsError>
where
    S: FnMut() -> Option<u32> + Send + 'static,
{
    let pipeline = start_cancellable(source, buffer, stop.clone())?;
    let mut output = Vec::new();
    while !stop.is_stopped() {
        select! {
            recv(pipeline.output) -> msg => match msg {
                Ok(value) => output.push(value),
                Err(_) => break, // the source ran dry and everything arrived
            },
            recv(stop.done()) -> _ => break,
        }
    }
    let counts = pipeline.join()?;
    Ok(Partial { output, counts })
}
