//! Task 3: fan-out to N workers, fan-in of their results.

use crate::error::ChannelsError;

// ANCHOR: fan
/// The shape of a [`fan_out_fan_in`] run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FanConfig {
    /// How many worker threads take jobs.
    pub workers: usize,
    /// Capacity of the jobs channel (0 makes it a rendezvous channel).
    pub jobs_buffer: usize,
    /// Capacity of the results channel (0 makes it a rendezvous channel).
    pub results_buffer: usize,
}

/// The result of one job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobResult<U> {
    /// The job's index in the input.
    pub job: usize,
    /// The index (`0..workers`) of the worker that ran it.
    pub worker: usize,
    /// What `work` returned.
    pub value: U,
}

/// Runs `work` on every input, spread over `config.workers` threads, and
/// returns one [`JobResult`] per input, in the order the results arrived.
///
/// - Use `crossbeam_channel::bounded` for a jobs channel (capacity
///   `config.jobs_buffer`) and a results channel (`config.results_buffer`).
///   All workers receive from the same jobs channel.
/// - Job `i` is `inputs[i]`; its result has `job == i`.
/// - It must not deadlock, however small the buffers and however many jobs:
///   10,000 jobs through a results channel of capacity 1 must work.
/// - `config.workers == 0` is [`ChannelsError::NoWorkers`]. No jobs gives an
///   empty `Vec`.
/// - If `work` panics, every thread still ends, and the result is
///   [`ChannelsError::Panicked`] with stage `"worker"`.
pub fn fan_out_fan_in<T, U, F>(
    inputs: Vec<T>,
    config: FanConfig,
    work: F,
) -> Result<Vec<JobResult<U>>, ChannelsError>
where
    T: Send,
    U: Send,
    F: Fn(T) -> U + Sync,
{
    todo!("task 3: scoped workers, a separate feeder, and the caller collects results")
}
// ANCHOR_END: fan
