//! Task 3: fan-out to N workers, fan-in of their results.

use std::thread;

use crossbeam_channel::bounded;

use crate::error::ChannelsError;

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
/// returns one [`JobResult`] per input in the order the results arrived.
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
    if config.workers == 0 {
        return Err(ChannelsError::NoWorkers);
    }
    let (job_tx, job_rx) = bounded::<(usize, T)>(config.jobs_buffer);
    let (result_tx, result_rx) = bounded::<JobResult<U>>(config.results_buffer);
    let work = &work;

    thread::scope(|s| {
        let mut workers = Vec::with_capacity(config.workers);
        for worker in 0..config.workers {
            let (jobs, results) = (job_rx.clone(), result_tx.clone());
            let spawned = thread::Builder::new()
                .name(format!("worker-{worker}"))
                .spawn_scoped(s, move || {
                    for (job, input) in jobs {
                        let value = work(input);
                        if results.send(JobResult { job, worker, value }).is_err() {
                            break;
                        }
                    }
                });
            // On an error, the senders below are dropped on return, so the
            // workers already started see closed channels and end.
            workers.push(spawned.map_err(|source| ChannelsError::Spawn {
                stage: "worker",
                source,
            })?);
        }
        // Only the workers may hold these; otherwise the loops below never end.
        drop(job_rx);
        drop(result_tx);

        // The feeder runs beside the collector: if this thread fed the jobs
        // itself, it would stop draining results, and a full results channel
        // would block every worker, then the feeder, forever.
        let feeder = thread::Builder::new()
            .name("feeder".to_owned())
            .spawn_scoped(s, move || {
                for job in inputs.into_iter().enumerate() {
                    if job_tx.send(job).is_err() {
                        break; // every worker is gone
                    }
                }
            })
            .map_err(|source| ChannelsError::Spawn {
                stage: "feeder",
                source,
            })?;

        let results: Vec<JobResult<U>> = result_rx.iter().collect();

        let mut outcome = feeder
            .join()
            .map_err(|_| ChannelsError::Panicked { stage: "feeder" });
        for handle in workers {
            if handle.join().is_err() && outcome.is_ok() {
                outcome = Err(ChannelsError::Panicked { stage: "worker" });
            }
        }
        outcome.map(|()| results)
    })
}
