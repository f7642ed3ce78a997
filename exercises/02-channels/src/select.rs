//! Task 4: select over two channels with a timeout arm.

use std::time::Duration;

use crossbeam_channel::Receiver;

// ANCHOR: select
/// What [`select_with_timeout`] saw first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selected<A, B> {
    /// A value from the left channel.
    Left(A),
    /// A value from the right channel.
    Right(B),
    /// The left channel is empty and all its senders are gone.
    LeftClosed,
    /// The right channel is empty and all its senders are gone.
    RightClosed,
    /// Neither channel was ready within the timeout.
    TimedOut,
}

/// Waits until `left` or `right` is ready, for at most `timeout`, with
/// `crossbeam_channel::select!`.
///
/// - A value, or a closed channel, is reported as soon as either side has one.
/// - If both are ready, either may be reported.
/// - A value that is already waiting always beats the timeout, even
///   `Duration::ZERO`.
pub fn select_with_timeout<A, B>(
    left: &Receiver<A>,
    right: &Receiver<B>,
    timeout: Duration,
) -> Selected<A, B> {
    todo!("task 4: select! with two recv arms and a timeout arm")
}
// ANCHOR_END: select

// ANCHOR: merge
/// A value from one of two channels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Either<A, B> {
    /// From the left channel.
    Left(A),
    /// From the right channel.
    Right(B),
}

/// Why [`merge_until_idle`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MergeEnd {
    /// Both channels closed and were drained.
    BothClosed,
    /// Nothing arrived for the idle timeout.
    Idle,
}

/// What [`merge_until_idle`] collected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merged<A, B> {
    /// Every value received, in arrival order.
    pub values: Vec<Either<A, B>>,
    /// Why the merge ended.
    pub end: MergeEnd,
}

/// Receives from both channels until both are closed ([`MergeEnd::BothClosed`]),
/// or until nothing arrives for `idle` ([`MergeEnd::Idle`]); the idle clock
/// restarts after every value.
///
/// A closed channel drops out of the selection; the other one is still
/// received from, and the idle timeout still works.
pub fn merge_until_idle<A, B>(
    left: Receiver<A>,
    right: Receiver<B>,
    idle: Duration,
) -> Merged<A, B> {
    todo!("task 4: loop over select_with_timeout; swap a closed side for never()")
}
// ANCHOR_END: merge
