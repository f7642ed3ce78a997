//! Tasks 2 to 5 come together here: the batch itself.

use std::path::{Path, PathBuf};

use crate::config::{BatchConfig, BatchSink};
use crate::error::{BatchError, TransformError};
use crate::progress::Progress;

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
    todo!(
        "tasks 2 to 5: validate, scoped workers sharing an AtomicUsize index, a results channel, and the sink"
    )
}
// ANCHOR_END: task2
