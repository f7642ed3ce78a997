//! Task 4: replace a file atomically.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::error::FileIoError;

/// The steps of an atomic replace, in the order they happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    /// Create the temporary file next to the target.
    CreateTemp,
    /// Write the new contents into the temporary file.
    WriteTemp,
    /// Sync the temporary file, so its contents are on disk before its name
    /// becomes the target's.
    SyncTemp,
    /// Rename the temporary file over the target.
    Rename,
    /// Sync the directory, so the rename itself is on disk.
    SyncDir,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Step::CreateTemp => "create the temporary file",
            Step::WriteTemp => "write the temporary file",
            Step::SyncTemp => "sync the temporary file",
            Step::Rename => "rename it over the target",
            Step::SyncDir => "sync the directory",
        })
    }
}

/// The temporary file's path: a hidden name in the target's own directory
/// (`dir/.name.tmp-PID`), so that the rename never crosses file systems.
pub fn temp_path_for(target: &Path) -> io::Result<PathBuf> {
    let name = target.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} does not name a file", target.display()),
        )
    })?;
    let mut temp = std::ffi::OsString::from(".");
    temp.push(name);
    temp.push(format!(".tmp-{}", std::process::id()));
    Ok(parent_dir(target).join(temp))
}

/// The directory that holds `path` (`.` for a bare file name).
pub fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// Replaces the contents of `path` with `data` so that a crash at any
/// moment leaves either the old contents or the new ones, never a mix.
pub fn replace_atomically(path: impl AsRef<Path>, data: &[u8]) -> Result<(), FileIoError> {
    replace_atomically_with(path, data, |_| Ok(()))
}

/// [`replace_atomically`], calling `before(step)` before each step.
pub fn replace_atomically_with(
    path: impl AsRef<Path>,
    data: &[u8],
    mut before: impl FnMut(Step) -> io::Result<()>,
) -> Result<(), FileIoError> {
    let path = path.as_ref();
    let fail = |step: Step| {
        move |source: io::Error| FileIoError::Replace {
            path: path.to_path_buf(),
            step,
            source,
        }
    };
    let temp = temp_path_for(path).map_err(fail(Step::CreateTemp))?;

    before(Step::CreateTemp).map_err(fail(Step::CreateTemp))?;
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&temp)
        .map_err(fail(Step::CreateTemp))?;

    // From here until the rename succeeds, a failure removes the temp file.
    if let Err(e) = write_and_rename(&file, &temp, path, data, &mut before) {
        drop(file);
        let _ = fs::remove_file(&temp);
        return Err(e);
    }
    drop(file);

    before(Step::SyncDir).map_err(fail(Step::SyncDir))?;
    sync_dir(parent_dir(path)).map_err(fail(Step::SyncDir))
}

/// Steps 2 to 4: write, sync, rename.
fn write_and_rename(
    mut file: &File,
    temp: &Path,
    path: &Path,
    data: &[u8],
    before: &mut impl FnMut(Step) -> io::Result<()>,
) -> Result<(), FileIoError> {
    let run = |step: Step, result: io::Result<()>| {
        result.map_err(|source| FileIoError::Replace {
            path: path.to_path_buf(),
            step,
            source,
        })
    };
    run(
        Step::WriteTemp,
        before(Step::WriteTemp).and_then(|()| file.write_all(data)),
    )?;
    run(
        Step::SyncTemp,
        before(Step::SyncTemp).and_then(|()| file.sync_all()),
    )?;
    run(
        Step::Rename,
        before(Step::Rename).and_then(|()| fs::rename(temp, path)),
    )
}

/// Syncs a directory, which makes the names in it (a rename) durable.
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}
