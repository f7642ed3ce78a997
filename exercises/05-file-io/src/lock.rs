//! Task 6: one process at a time, guarded by a lock file.

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::error::FileIoError;

// ANCHOR: task6
/// An exclusive lock on a lock file, held until the guard is dropped (or
/// the process dies, whichever comes first).
#[derive(Debug)]
pub struct LockFile {
    /// The open lock file. The lock belongs to this open file: closing it,
    /// which dropping does, releases the lock.
    file: File,
    path: PathBuf,
}

impl LockFile {
    /// Takes the lock at `path` without waiting, creating the file if
    /// needed, and writes this process's id into it.
    ///
    /// 1. Open the file for reading and writing, creating it, but **not**
    ///    truncating it: until you hold the lock, its contents (the
    ///    holder's pid) are not yours. An error is [`FileIoError::Open`].
    /// 2. `file.try_lock()`:
    ///    - `Err(TryLockError::WouldBlock)`: someone holds it. Read the pid
    ///      they wrote and return [`FileIoError::Locked`] (holder `None` if
    ///      it cannot be read or parsed).
    ///    - `Err(TryLockError::Error(e))`: [`FileIoError::Lock`].
    /// 3. Now it is yours: `set_len(0)`, then write `"{pid}\n"`
    ///    (`std::process::id()`). An error is [`FileIoError::Lock`].
    ///
    /// Never delete the lock file, not even on drop: see the chapter.
    pub fn acquire(path: impl AsRef<Path>) -> Result<Self, FileIoError> {
        todo!("task 6: open without truncating, try_lock, then write the pid")
    }

    /// The lock file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The open lock file.
    pub fn file(&self) -> &File {
        &self.file
    }
}
// ANCHOR_END: task6
