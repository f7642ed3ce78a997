//! Task 6: one process at a time, guarded by a lock file.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::error::FileIoError;

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
    pub fn acquire(path: impl AsRef<Path>) -> Result<Self, FileIoError> {
        let path = path.as_ref().to_path_buf();
        // No truncate: until we hold the lock, the file's contents (the
        // holder's pid) belong to whoever holds it.
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|source| FileIoError::Open {
                path: path.clone(),
                source,
            })?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let holder = read_holder(&mut file);
                return Err(FileIoError::Locked { path, holder });
            }
            Err(TryLockError::Error(source)) => return Err(FileIoError::Lock { path, source }),
        }
        let write_pid = |file: &mut File| -> std::io::Result<()> {
            file.set_len(0)?;
            file.write_all(format!("{}\n", std::process::id()).as_bytes())
        };
        write_pid(&mut file).map_err(|source| FileIoError::Lock {
            path: path.clone(),
            source,
        })?;
        Ok(Self { file, path })
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

/// The process id the holder wrote into the lock file, if it is there yet.
fn read_holder(file: &mut File) -> Option<u32> {
    let mut text = String::new();
    file.read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}
