//! The lesson's error type, and two helpers for named threads.
//!
//! Everything in this file is written for you: use [`spawn_stage`] and
//! [`join_stage`] wherever a task starts or joins a thread.

use std::io;
use std::thread::{self, JoinHandle};

// ANCHOR: errors
/// Errors returned by the functions of this lesson.
#[derive(Debug, thiserror::Error)]
pub enum ChannelsError {
    /// The caller asked for zero workers.
    #[error("at least one worker is required")]
    NoWorkers,
    /// The operating system refused to create a thread.
    #[error("failed to spawn the {stage} thread: {source}")]
    Spawn {
        /// The stage (and thread name) that could not be started.
        stage: &'static str,
        /// The error reported by the OS.
        #[source]
        source: io::Error,
    },
    /// A stage's thread panicked.
    #[error("the {stage} thread panicked")]
    Panicked {
        /// The stage whose thread panicked.
        stage: &'static str,
    },
}
// ANCHOR_END: errors

// ANCHOR: helpers
/// Runs `body` on a new thread named `stage`.
///
/// A thread the OS refuses to create becomes [`ChannelsError::Spawn`].
pub fn spawn_stage<T, F>(stage: &'static str, body: F) -> Result<JoinHandle<T>, ChannelsError>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    thread::Builder::new()
        .name(stage.to_owned())
        .spawn(body)
        .map_err(|source| ChannelsError::Spawn { stage, source })
}

/// Joins a thread started by [`spawn_stage`]; a panic becomes
/// [`ChannelsError::Panicked`].
pub fn join_stage<T>(stage: &'static str, handle: JoinHandle<T>) -> Result<T, ChannelsError> {
    handle
        .join()
        .map_err(|_panic| ChannelsError::Panicked { stage })
}
// ANCHOR_END: helpers
