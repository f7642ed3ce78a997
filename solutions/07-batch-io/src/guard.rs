//! Task 3: one file's failure stays that file's failure.

use std::any::Any;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Component, Path};

use crate::config::{BatchConfig, FileDone};
use crate::error::{FileError, TransformError};
use crate::file::process_file;

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
    let plain = rel.components().next().is_some()
        && rel.components().all(|c| matches!(c, Component::Normal(_)));
    if plain {
        Ok(())
    } else {
        Err(FileError::BadName {
            path: rel.to_path_buf(),
        })
    }
}

/// The message of a panic payload: the `&'static str` or `String` it holds,
/// or `<non-string panic payload>`.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(message) = payload.downcast_ref::<&'static str>() {
        (*message).to_string()
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message.clone()
    } else {
        "<non-string panic payload>".to_string()
    }
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
    check_name(rel)?;
    // The closure only borrows; after a panic none of it is used again.
    panic::catch_unwind(AssertUnwindSafe(|| process_file(config, rel, transform))).unwrap_or_else(
        |payload| {
            Err(FileError::Panicked {
                path: rel.to_path_buf(),
                message: panic_message(payload.as_ref()),
            })
        },
    )
}
// ANCHOR_END: task3
