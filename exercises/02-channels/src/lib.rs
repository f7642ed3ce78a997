//! Lesson 02: channels.
//!
//! Replace every `todo!()` with an implementation. The tests in
//! `tests/channels.rs` grade your work: `cargo test -p channels t1_` runs the
//! tests of task 1, and so on.
//!
//! | task | file |
//! |---|---|
//! | 1: rendezvous and buffered channels | `src/buffering.rs` |
//! | 2: a pipeline that shuts down by itself | `src/pipeline.rs` |
//! | 3: fan-out and fan-in | `src/fan.rs` |
//! | 4: select with a timeout | `src/select.rs` |
//! | 5: cancellation | `src/cancel.rs` |
//!
//! `src/error.rs` holds the error type and two thread helpers; they are
//! written for you.

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
