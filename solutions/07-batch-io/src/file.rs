//! Task 1: one file through read, transform and write.

use std::fs;
use std::path::Path;

use crate::config::{BatchConfig, FileDone};
use crate::error::{FileError, TransformError};
use crate::files::write_replacing;

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
    let input = fs::read(config.input_dir.join(rel)).map_err(|source| FileError::Read {
        path: rel.to_path_buf(),
        source,
    })?;
    let output = transform(rel, &input).map_err(|source| FileError::Transform {
        path: rel.to_path_buf(),
        source,
    })?;
    let mut done = FileDone {
        bytes_read: input.len() as u64,
        bytes_written: 0,
    };
    // Give the input's memory back before the write: it is no longer needed.
    drop(input);
    if let Some(output_dir) = &config.output_dir {
        let target = output_dir.join(rel);
        let written = match target.parent() {
            Some(parent) => fs::create_dir_all(parent),
            None => Ok(()),
        }
        .and_then(|()| write_replacing(&target, &output));
        if let Err(source) = written {
            return Err(FileError::Write {
                path: rel.to_path_buf(),
                output: target,
                source,
            });
        }
        done.bytes_written = output.len() as u64;
    }
    Ok(done)
}
// ANCHOR_END: task1
