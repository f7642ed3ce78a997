//! The seam: what a storage component asks of a file system.

use std::fmt;
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};

use crate::OpenOptions;

/// A file system: the operations a storage engine needs, and no more.
///
/// Code that must survive a crash takes a `&dyn Fs` (or an
/// `Arc<dyn Fs>`) instead of calling [`std::fs`] directly. In production it
/// gets [`RealFs`](crate::RealFs); in a power-loss test it gets a
/// [`SimFs`](crate::SimFs), which forgets everything that was not synced.
/// SQLite's VFS, RocksDB's `Env` and Pebble's `vfs.FS` are this seam.
pub trait Fs: Send + Sync + fmt::Debug {
    /// Opens a file, as [`std::fs::OpenOptions::open`] does.
    fn open(&self, path: &Path, options: &OpenOptions) -> io::Result<Box<dyn FsFile>>;

    /// Renames `from` to `to`, replacing `to` if it exists. Other processes
    /// see the old name or the new one, never neither; whether the rename
    /// survives a crash depends on a later [`sync_dir`](Fs::sync_dir) of the
    /// directories involved.
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;

    /// Removes a file's name. Durable only after its directory is synced.
    fn remove_file(&self, path: &Path) -> io::Result<()>;

    /// Creates one directory. Its name is durable only after its parent is
    /// synced.
    fn create_dir(&self, path: &Path) -> io::Result<()>;

    /// Makes the directory's entries durable: the files created, renamed into
    /// it or removed from it since its last sync (`fsync` on the directory).
    fn sync_dir(&self, path: &Path) -> io::Result<()>;

    /// The names in a directory, sorted.
    fn read_dir(&self, path: &Path) -> io::Result<Vec<String>>;

    /// Whether something exists at `path`.
    fn exists(&self, path: &Path) -> io::Result<bool>;

    /// The length of the file at `path`, in bytes.
    fn len(&self, path: &Path) -> io::Result<u64>;

    /// The whole contents of a file.
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        let mut file = self.open(path, OpenOptions::new().read(true))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        Ok(bytes)
    }

    /// Creates every missing directory on the way to `path`.
    fn create_dir_all(&self, path: &Path) -> io::Result<()> {
        let mut built = PathBuf::new();
        for part in path.components() {
            built.push(part);
            if !self.exists(&built)? {
                self.create_dir(&built)?;
            }
        }
        Ok(())
    }
}

/// An open file.
///
/// [`Read`], [`Write`] and [`Seek`] work as on [`std::fs::File`]: one
/// position, and every write goes to the end when the file was opened with
/// `append`. A write reaches the operating system at once (there is no
/// buffer here); it is durable only after [`sync_data`](FsFile::sync_data)
/// or [`sync_all`](FsFile::sync_all) has returned `Ok`.
pub trait FsFile: Read + Write + Seek + Send + Sync + fmt::Debug {
    /// Makes the file's data durable, with the metadata needed to read it back
    /// such as its length (`fdatasync`).
    fn sync_data(&self) -> io::Result<()>;

    /// Makes the file's data and all its metadata durable (`fsync`).
    fn sync_all(&self) -> io::Result<()>;

    /// Cuts or extends the file to `len` bytes; an extension reads as zeros.
    fn set_len(&self, len: u64) -> io::Result<()>;

    /// The file's length in bytes.
    fn len(&self) -> io::Result<u64>;

    /// Whether the file is empty.
    fn is_empty(&self) -> io::Result<bool> {
        Ok(self.len()? == 0)
    }

    /// Reads at `offset` without moving the position (`pread`).
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize>;

    /// Writes at `offset` without moving the position (`pwrite`).
    fn write_at(&self, buf: &[u8], offset: u64) -> io::Result<usize>;

    /// A second handle to the same open file; it shares the position, as a
    /// `dup`ed descriptor does.
    fn try_clone(&self) -> io::Result<Box<dyn FsFile>>;

    /// Takes an exclusive advisory lock on the file without waiting
    /// (`flock`): `Ok(true)` if it is now held through this open file,
    /// `Ok(false)` if another open file holds it. The lock is released when
    /// every handle of this open file is closed, and by a crash.
    fn try_lock(&self) -> io::Result<bool>;

    /// Releases a lock taken with [`try_lock`](FsFile::try_lock).
    fn unlock(&self) -> io::Result<()>;

    /// Fills `buf` from `offset`, or fails with
    /// [`UnexpectedEof`](io::ErrorKind::UnexpectedEof).
    fn read_exact_at(&self, mut buf: &mut [u8], mut offset: u64) -> io::Result<()> {
        while !buf.is_empty() {
            match self.read_at(buf, offset) {
                Ok(0) => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the file ended before the buffer was full",
                    ));
                }
                Ok(n) => {
                    buf = &mut buf[n..];
                    offset += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Writes all of `buf` at `offset`, retrying after short writes.
    fn write_all_at(&self, mut buf: &[u8], mut offset: u64) -> io::Result<()> {
        while !buf.is_empty() {
            match self.write_at(buf, offset) {
                Ok(0) => {
                    return Err(io::Error::new(
                        io::ErrorKind::WriteZero,
                        "the file took no bytes",
                    ));
                }
                Ok(n) => {
                    buf = &buf[n..];
                    offset += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}
