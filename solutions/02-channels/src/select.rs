//! Task 4: select over two channels with a timeout arm.

use std::time::Duration;

use crossbeam_channel::{Receiver, never, select};

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

/// Waits until `left` or `right` is ready, for at most `timeout`.
///
/// A value that is already waiting always beats the timeout, even a zero one.
pub fn select_with_timeout<A, B>(
    left: &Receiver<A>,
    right: &Receiver<B>,
    timeout: Duration,
) -> Selected<A, B> {
    // `default(timeout)` fires only when no other arm is ready. An arm on
    // `after(timeout)` would be one more ready arm, chosen at random.
    select! {
        recv(left) -> msg => msg.map_or(Selected::LeftClosed, Selected::Left),
        recv(right) -> msg => msg.map_or(Selected::RightClosed, Selected::Right),
        default(timeout) => Selected::TimedOut,
    }
}

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

/// Receives from both channels until both are closed, or until nothing
/// arrives for `idle`. A closed channel drops out; the other one is still
/// received from.
pub fn merge_until_idle<A, B>(
    left: Receiver<A>,
    right: Receiver<B>,
    idle: Duration,
) -> Merged<A, B> {
    // A closed channel is always ready, so it is swapped for `never()`, which
    // never is: the Rust version of setting a Go channel variable to nil.
    let (mut left, mut right) = (left, right);
    let (mut left_open, mut right_open) = (true, true);
    let mut values = Vec::new();
    while left_open || right_open {
        match select_with_timeout(&left, &right, idle) {
            Selected::Left(value) => values.push(Either::Left(value)),
            Selected::Right(value) => values.push(Either::Right(value)),
            Selected::LeftClosed => {
                left = never();
                left_open = false;
            }
            Selected::RightClosed => {
                right = never();
                right_open = false;
            }
            Selected::TimedOut => {
                return Merged {
                    values,
                    end: MergeEnd::Idle,
                };
            }
        }
    }
    Merged {
        values,
        end: MergeEnd::BothClosed,
    }
}
