//! Task 3: one file's failure stays that file's failure.

use std::any::Any;
use std::path::Path;

use crate::config::{BatchConfig, FileDone};
use crate::error::{FileError, TransformError};

// ANCHOR: task3
/// Accepts only a plain relative name: one or more components, all of them
/// `Component::Normal` (`a.txt`, `logs/2024/a.txt`). Anything else, namely
/// an empty name, an absolute path, a `..` anywhere or a leading `.`, is
/// [`FileError::BadName`]. (`Path::components` already drops a `.` in the
/// middle, so `a/./b` is `a/b`.)
///
/// `Path::join` with an absolute path *replaces* the directory, and `..`
/// climbs out of it, so either would read or write outside the batch's
/// directories.
pub fn check_name(rel: &Path) -> Result<(), FileError> {
    todo!("task 3: one or more components, all Component::Normal, else FileError::BadName")
}

/// The message of a panic payload: the `&'static str` or `String` it holds,
/// or `<non-string panic payload>`.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    todo!("task 3: downcast_ref::<&'static str>(), then downcast_ref::<String>()")
}

/// The step each worker runs for one file: [`check_name`], then
/// [`process_file`] with any panic caught and turned into
/// [`FileError::Panicked`] (use `std::panic::catch_unwind`). Whatever goes
/// wrong with this file, the worker lives on to take the next one.
pub fn run_guarded<F>(
    config: &BatchConfig,
    rel: &Path,
    transform: &F,
) -> Result<FileDone, FileError>
where
    F: Fn(&Path, &[u8]) -> Result<Vec<u8>, TransformError> + Sync,
{
    todo!("task 3: check_name, then process_file inside catch_unwind(AssertUnwindSafe(...))")
}
// ANCHOR_END: task3
