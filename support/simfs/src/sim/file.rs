//! [`SimFile`]: an open file on a [`SimFs`](crate::SimFs).

use std::fmt;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::state::{FileChange, State, ebadf, eio, invalid};
use crate::trace::OpKind;
use crate::{FsFile, OpenOptions};

/// An open file on a simulated disk. Clones made with
/// [`try_clone`](FsFile::try_clone) share its position.
pub struct SimFile {
    state: Arc<Mutex<State>>,
    ino: u64,
    /// The path it was opened by, for the trace.
    path: String,
    position: Arc<Mutex<u64>>,
    /// Identifies the open file (all clones of a handle share it) for locks.
    open_file: Arc<()>,
    readable: bool,
    writable: bool,
    append: bool,
}

impl fmt::Debug for SimFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimFile")
            .field("path", &self.path)
            .field("ino", &self.ino)
            .finish_non_exhaustive()
    }
}

impl SimFile {
    pub(crate) fn new(
        state: Arc<Mutex<State>>,
        ino: u64,
        path: String,
        options: &OpenOptions,
    ) -> Self {
        Self {
            state,
            ino,
            path,
            position: Arc::new(Mutex::new(0)),
            open_file: Arc::new(()),
            readable: options.read,
            writable: options.writable(),
            append: options.append,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn position(&self) -> MutexGuard<'_, u64> {
        self.position.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn check_readable(&self) -> io::Result<()> {
        if self.readable {
            Ok(())
        } else {
            Err(ebadf("simfs: the file was not opened for reading"))
        }
    }

    fn check_writable(&self) -> io::Result<()> {
        if self.writable {
            Ok(())
        } else {
            Err(ebadf("simfs: the file was not opened for writing"))
        }
    }

    fn read_from(state: &State, ino: u64, buf: &mut [u8], offset: u64) -> usize {
        let data = &state.file(ino).data;
        let start = (offset as usize).min(data.len());
        let n = buf.len().min(data.len() - start);
        buf[..n].copy_from_slice(&data[start..start + n]);
        n
    }

    fn sync(&self, all: bool) -> io::Result<()> {
        let mut state = self.lock();
        state.next_op()?;
        let kind = OpKind::SyncFile {
            path: self.path.clone(),
            all,
        };
        if state.sync_fails() {
            // Linux marks the pages clean after a failed writeback: a later
            // fsync reports success without writing them.
            state.file_mut(self.ino).pending.clear();
            state.record(kind, self.ino, None, Some("EIO".into()));
            return Err(eio());
        }
        state.file_mut(self.ino).sync();
        state.record(kind, self.ino, None, None);
        Ok(())
    }
}

impl Read for SimFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.check_readable()?;
        let state = self.lock();
        let mut position = self.position();
        let n = Self::read_from(&state, self.ino, buf, *position);
        *position += n as u64;
        Ok(n)
    }
}

impl Write for SimFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.check_writable()?;
        let mut state = self.lock();
        let mut position = self.position();
        if self.append {
            *position = state.file(self.ino).data.len() as u64;
        }
        let n = super::write_at(&mut state, self.ino, &self.path, *position, buf)?;
        *position += n as u64;
        Ok(n)
    }

    /// Nothing to do: a write reaches the (simulated) operating system at
    /// once. Durability is [`FsFile::sync_data`]'s job.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Seek for SimFile {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let state = self.lock();
        let mut position = self.position();
        let base = match pos {
            SeekFrom::Start(offset) => {
                *position = offset;
                return Ok(offset);
            }
            SeekFrom::End(delta) => (state.file(self.ino).data.len() as u64, delta),
            SeekFrom::Current(delta) => (*position, delta),
        };
        let target = base
            .0
            .checked_add_signed(base.1)
            .ok_or_else(|| invalid("simfs: seek before the start of the file"))?;
        *position = target;
        Ok(target)
    }
}

impl FsFile for SimFile {
    fn sync_data(&self) -> io::Result<()> {
        self.sync(false)
    }

    fn sync_all(&self) -> io::Result<()> {
        self.sync(true)
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        self.check_writable()?;
        let mut state = self.lock();
        state.next_op()?;
        state.file_mut(self.ino).change(FileChange::SetLen(len));
        state.record(
            OpKind::SetLen {
                path: self.path.clone(),
                len,
            },
            self.ino,
            None,
            None,
        );
        Ok(())
    }

    fn len(&self) -> io::Result<u64> {
        let state = self.lock();
        Ok(state.file(self.ino).data.len() as u64)
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        self.check_readable()?;
        let state = self.lock();
        Ok(Self::read_from(&state, self.ino, buf, offset))
    }

    /// As on Linux, a file opened with `append` takes every write at its end,
    /// whatever the offset.
    fn write_at(&self, buf: &[u8], offset: u64) -> io::Result<usize> {
        self.check_writable()?;
        let mut state = self.lock();
        let offset = if self.append {
            state.file(self.ino).data.len() as u64
        } else {
            offset
        };
        super::write_at(&mut state, self.ino, &self.path, offset, buf)
    }

    fn try_lock(&self) -> io::Result<bool> {
        let mut state = self.lock();
        let held_by_other = state
            .locks
            .get(&self.ino)
            .and_then(std::sync::Weak::upgrade)
            .is_some_and(|holder| !Arc::ptr_eq(&holder, &self.open_file));
        if held_by_other {
            return Ok(false);
        }
        state
            .locks
            .insert(self.ino, Arc::downgrade(&self.open_file));
        Ok(true)
    }

    fn unlock(&self) -> io::Result<()> {
        let mut state = self.lock();
        let ours = state
            .locks
            .get(&self.ino)
            .and_then(std::sync::Weak::upgrade)
            .is_some_and(|holder| Arc::ptr_eq(&holder, &self.open_file));
        if ours {
            state.locks.remove(&self.ino);
        }
        Ok(())
    }

    fn try_clone(&self) -> io::Result<Box<dyn FsFile>> {
        Ok(Box::new(SimFile {
            state: self.state.clone(),
            ino: self.ino,
            path: self.path.clone(),
            position: self.position.clone(),
            open_file: self.open_file.clone(),
            readable: self.readable,
            writable: self.writable,
            append: self.append,
        }))
    }
}
