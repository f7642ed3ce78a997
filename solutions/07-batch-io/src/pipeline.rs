//! Tasks 2 to 5 come together here: the batch itself.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use crate::config::{BatchConfig, BatchSink, FileDone, FileResult};
use crate::error::{BatchError, FileError, TransformError};
use crate::guard::run_guarded;
use crate::progress::Progress;
use crate::reorder::Reorder;

// ANCHOR: task2
/// Runs every file of `files` (names relative to `config.input_dir`)
/// through read, `transform` and write, with at most
/// `config.max_in_flight` files in flight, and returns the final totals.
///
/// You build it over four tasks:
///
/// - **Task 2.** [`BatchConfig::validate`] first. Then, inside
///   `thread::scope`, start `min(max_in_flight, files.len())` named worker
///   threads. Each takes the next index from a shared `AtomicUsize`
///   (`fetch_add`) until it runs past the end, processes that file to the
///   end (read, transform, write) before it takes another, and sends
///   `(index, outcome)` back on a channel. The calling thread receives the
///   outcomes and hands each to `sink.result` as a [`FileResult`]. Join
///   every worker: a panicked one is [`BatchError::WorkerPanicked`], a
///   failed spawn [`BatchError::Spawn`].
/// - **Task 3.** Workers call [`run_guarded`](crate::run_guarded) rather
///   than [`process_file`](crate::process_file), and a failed file never
///   stops a worker or the batch.
/// - **Task 4.** Results reach the sink in input order, through a
///   [`Reorder`](crate::Reorder), each as soon as it and every earlier file
///   are finished.
/// - **Task 5.** Count each finished file into a [`Progress`] with
///   [`Progress::record`] and call `sink.progress` right away, before
///   any results it releases; return the final `Progress`.
///
/// The sink is only ever called from the calling thread.
pub fn run_batch<F, S>(
    config: &BatchConfig,
    files: &[PathBuf],
    transform: &F,
    sink: &mut S,
) -> Result<Progress, BatchError>
where
    F: Fn(&Path, &[u8]) -> Result<Vec<u8>, TransformError> + Sync,
    S: BatchSink + ?Sized,
{
    config.validate()?;
    let workers = config.max_in_flight.min(files.len());
    let next = AtomicUsize::new(0);
    thread::scope(|scope| {
        // A worker sends a file's outcome only once the file is finished,
        // so this channel holds small records, never file contents.
        let (done_tx, done_rx) =
            crossbeam_channel::bounded::<(usize, Result<FileDone, FileError>)>(workers.max(1));
        let mut handles = Vec::with_capacity(workers);
        let mut spawn_error = None;
        for id in 0..workers {
            let done_tx = done_tx.clone();
            let next = &next;
            let spawned = thread::Builder::new()
                .name(format!("batch-worker-{id}"))
                .spawn_scoped(scope, move || {
                    loop {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        let Some(rel) = files.get(index) else { break };
                        let outcome = run_guarded(config, rel, transform);
                        if done_tx.send((index, outcome)).is_err() {
                            break;
                        }
                    }
                });
            match spawned {
                Ok(handle) => handles.push(handle),
                Err(e) => {
                    spawn_error = Some(e);
                    break;
                }
            }
        }
        // Only the workers hold senders now: the loop below ends when the
        // last of them is done.
        drop(done_tx);
        if let Some(e) = spawn_error {
            // Stop the workers that did start: no more indexes, and no one
            // listening for what they are finishing.
            next.store(files.len(), Ordering::Relaxed);
            drop(done_rx);
            for handle in handles {
                let _ = handle.join();
            }
            return Err(BatchError::Spawn(e));
        }

        let mut progress = Progress::new(files.len());
        let mut order = Reorder::new();
        for (index, outcome) in done_rx {
            progress.record(&outcome);
            sink.progress(&progress);
            order.insert(
                index,
                FileResult {
                    index,
                    path: files[index].clone(),
                    outcome,
                },
            );
            while let Some(result) = order.next_ready() {
                sink.result(result);
            }
        }

        let mut panicked = false;
        for handle in handles {
            panicked |= handle.join().is_err();
        }
        if panicked {
            Err(BatchError::WorkerPanicked)
        } else {
            Ok(progress)
        }
    })
}
// ANCHOR_END: task2
