//! Task 1: one file through read, transform and write.

use std::path::Path;

use crate::config::{BatchConfig, FileDone};
use crate::error::{FileError, TransformError};

// ANCHOR: task1
/// Reads `input_dir/rel`, passes `(rel, bytes)` to `transform`, and writes
/// what it returns to `output_dir/rel`.
///
/// - Read the whole input with `fs::read`. A failure is
///   [`FileError::Read`].
/// - An `Err` from the transform is [`FileError::Transform`], and nothing is
///   written.
/// - With an output directory, create the output's parent directories
///   (`fs::create_dir_all`) and write with the given
///   [`write_replacing`](crate::write_replacing). A failure of either is
///   [`FileError::Write`] with the output path. Without one (a read-only
///   batch), write nothing.
/// - Every error names the file by `rel`, exactly as given.
/// - Return the bytes read and the bytes written.
///
/// This function trusts `rel`: checking the name is
/// [`run_guarded`](crate::run_guarded)'s job (task 3).
pub fn process_file<F>(
    config: &BatchConfig,
    rel: &Path,
    transform: &F,
) -> Result<FileDone, FileError>
where
    F: Fn(&Path, &[u8]) -> Result<Vec<u8>, TransformError> + Sync,
{
    todo!(
        "task 1: fs::read, transform, create_dir_all + write_replacing, each error mapped with the name"
    )
}
// ANCHOR_END: task1
