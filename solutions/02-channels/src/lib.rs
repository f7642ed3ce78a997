//! Lesson 02: channels (reference solution).
//!
//! Go's `chan` in Rust: bounded and rendezvous channels and the back-pressure
//! they create, a pipeline that shuts down by dropping senders, fan-out and
//! fan-in without the classic deadlock, `select` with a timeout, and
//! cancellation with a channel that is closed instead of sent on.

mod buffering;
mod cancel;
mod error;
mod fan;
mod pipeline;
mod select;

pub use buffering::{Consumer, Offer, Refusal, offer_all, spawn_consumer};
pub use cancel::{
    Cancellable, Partial, StageCounts, StopSource, StopToken, collect_until_stopped,
    start_cancellable, stop_pair,
};
pub use error::{ChannelsError, join_stage, spawn_stage};
pub use fan::{FanConfig, JobResult, fan_out_fan_in};
pub use pipeline::{Stage, generate, run_pipeline, sink, square};
pub use select::{Either, MergeEnd, Merged, Selected, merge_until_idle, select_with_timeout};
