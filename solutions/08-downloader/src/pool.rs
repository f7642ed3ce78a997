//! Task 3: many downloads, at most N at once.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use crate::client::Client;
use crate::error::DownloadError;
use crate::job::{Config, Downloaded, Job};

// ANCHOR: task3
/// Downloads every job, at most `config.jobs` at once (0 counts as 1), and
/// returns one result per job, in the order of `jobs`. One job's failure
/// does not stop the others.
///
/// Make one [`Client`] for all of them. Start `min(config.jobs, jobs.len())`
/// worker threads in a `std::thread::scope`; each takes the next job index
/// from a shared counter (an `AtomicUsize` and `fetch_add`) until none is
/// left, runs [`Client::download`] on it, and keeps `(index, result)`.
/// When the scope ends, put every result in its job's place.
pub fn download_all(jobs: &[Job], config: &Config) -> Vec<Result<Downloaded, DownloadError>> {
    let client = Client::new(config);
    let workers = config.jobs.max(1).min(jobs.len());
    let next = AtomicUsize::new(0);
    let mut slots: Vec<Option<Result<Downloaded, DownloadError>>> =
        jobs.iter().map(|_| None).collect();
    thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        let Some(job) = jobs.get(index) else { break };
                        done.push((index, client.download(index, job)));
                    }
                    done
                })
            })
            .collect();
        for handle in handles {
            // A worker only panics if `download` does; pass the panic on.
            let done = handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            for (index, result) in done {
                slots[index] = Some(result);
            }
        }
    });
    slots
        .into_iter()
        .map(|slot| slot.unwrap_or_else(|| unreachable!("every index below jobs.len() is taken")))
        .collect()
}
// ANCHOR_END: task3
