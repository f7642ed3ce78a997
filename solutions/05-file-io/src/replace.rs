//! Task 4: replace a file atomically.

use std::fmt;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use simfs::{Fs, FsFile, OpenOptions, RealFs};

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

/// How many names [`replace_atomically_on`] tries for its temporary file
/// before it gives up.
pub const TEMP_ATTEMPTS: u32 = 1000;

/// The temporary file's path for the `attempt`-th try: a hidden name in the
/// target's own directory (`dir/.name.tmp-PID-ATTEMPT`), so that the rename
/// never crosses file systems.
///
/// The name can be taken: by another thread replacing the same target, or
/// by a temporary file that a crashed run left behind (process ids are
/// reused after a reboot). Create it with `create_new` and try the next
/// attempt when it exists; never open an existing one.
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

/// [`replace_atomically`], calling `before(step)` before each step.
pub fn replace_atomically_with(
    path: impl AsRef<Path>,
    data: &[u8],
    before: impl FnMut(Step) -> io::Result<()>,
) -> Result<(), FileIoError> {
    replace_atomically_on(&RealFs, path, data, before)
}

/// [`replace_atomically_with`] on the file system `fs`.
pub fn replace_atomically_on(
    fs: &dyn Fs,
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
    before(Step::CreateTemp).map_err(fail(Step::CreateTemp))?;
    let (mut file, temp) = create_temp(fs, path).map_err(fail(Step::CreateTemp))?;

    // From here until the rename succeeds, a failure removes the temp file.
    if let Err(e) = write_and_rename(fs, &mut file, &temp, path, data, &mut before) {
        drop(file);
        let _ = fs.remove_file(&temp);
        return Err(e);
    }
    drop(file);

    before(Step::SyncDir).map_err(fail(Step::SyncDir))?;
    fs.sync_dir(parent_dir(path)).map_err(fail(Step::SyncDir))
}

/// Creates a temporary file of its own for `target`, under the first free
/// name: never one that exists, which another thread may be writing or a
/// crash may have left half-written.
fn create_temp(fs: &dyn Fs, target: &Path) -> io::Result<(Box<dyn FsFile>, PathBuf)> {
    for attempt in 0..TEMP_ATTEMPTS {
        let temp = temp_path_for(target, attempt)?;
        match fs.open(&temp, OpenOptions::new().write(true).create_new(true)) {
            Ok(file) => return Ok((file, temp)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        format!("{TEMP_ATTEMPTS} temporary names beside the target are all taken"),
    ))
}

/// Steps 2 to 4: write, sync, rename.
fn write_and_rename(
    fs: &dyn Fs,
    file: &mut Box<dyn FsFile>,
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
        before(Step::Rename).and_then(|()| fs.rename(temp, path)),
    )
}
