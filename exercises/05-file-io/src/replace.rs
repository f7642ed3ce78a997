//! Task 4: replace a file atomically.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use simfs::{Fs, RealFs};

use crate::error::FileIoError;

// ANCHOR: steps
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
// ANCHOR_END: steps

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

// ANCHOR: helpers
/// How many names to try for the temporary file before giving up.
pub const TEMP_ATTEMPTS: u32 = 1000;

/// The temporary file's path for the `attempt`-th try: a hidden name in the
/// target's own directory (`dir/.name.tmp-PID-ATTEMPT`), so that the rename
/// never crosses file systems.
///
/// The name can be taken: by another thread replacing the same target, or
/// by a temporary file that a crashed run left behind (process ids are
/// reused after a reboot).
pub fn temp_path_for(target: &Path, attempt: u32) -> io::Result<PathBuf> {
    let name = target.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} does not name a file", target.display()),
        )
    })?;
    let mut temp = std::ffi::OsString::from(".");
    temp.push(name);
    temp.push(format!(".tmp-{}-{attempt}", std::process::id()));
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
    replace_atomically_on(&RealFs, path, data, |_| Ok(()))
}

/// [`replace_atomically`], calling `before(step)` before each step; see
/// [`replace_atomically_on`].
pub fn replace_atomically_with(
    path: impl AsRef<Path>,
    data: &[u8],
    before: impl FnMut(Step) -> io::Result<()>,
) -> Result<(), FileIoError> {
    replace_atomically_on(&RealFs, path, data, before)
}
// ANCHOR_END: helpers

// ANCHOR: task4
/// [`replace_atomically`] on the file system `fs`, calling `before(step)`
/// before each step. The tests use `before` to watch the directory at every
/// step, and to make any step fail; they use `fs` to cut the power.
///
/// Every file operation goes through `fs` ([`Fs::open`], [`Fs::rename`],
/// [`Fs::sync_dir`], ...), never through `std::fs`. The steps, each
/// preceded by `before(step)?`:
/// 1. [`Step::CreateTemp`]: create a temporary file of your own at
///    [`temp_path_for`]`(path, attempt)`. Never open one that exists: it may
///    be another thread's, or half of one a crash left behind. If the name
///    is taken, try the next attempt, up to [`TEMP_ATTEMPTS`].
/// 2. [`Step::WriteTemp`]: write all of `data` into it;
/// 3. [`Step::SyncTemp`]: make its contents durable;
/// 4. [`Step::Rename`]: rename it over `path`;
/// 5. [`Step::SyncDir`]: make the rename durable.
///
/// After `Ok`, the new contents must survive a power cut. At no moment may a
/// power cut leave `path` holding anything but the old contents or the new.
///
/// Any failure, of a step or of `before`, is [`FileIoError::Replace`] with
/// the step and its error. A failure in steps 2 to 4 removes the temporary
/// file first (a failed `before(CreateTemp)` has not created it yet). Then
/// the target is untouched; after a failure in step 5 it is entirely new.
pub fn replace_atomically_on(
    fs: &dyn Fs,
    path: impl AsRef<Path>,
    data: &[u8],
    before: impl FnMut(Step) -> io::Result<()>,
) -> Result<(), FileIoError> {
    todo!("task 4: replace the file so that a crash leaves the old contents or the new")
}
// ANCHOR_END: task4
