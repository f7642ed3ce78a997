//! Task 7: the manifest (which files make up the store), written by atomic
//! replace, and the lock file that keeps a second process out.

use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use simfs::{Fs, FsFile, OpenOptions};

use crate::codec::{Cursor, put_bytes, put_u32, put_u64};
use crate::error::DbError;
use crate::sstable::TableMeta;
use crate::wal::sync_dir;

/// The manifest's file name.
pub const MANIFEST_FILE: &str = "MANIFEST";
/// Where a new manifest is written before it replaces the old one.
pub const MANIFEST_TMP: &str = "MANIFEST.tmp";
/// The lock file's name.
pub const LOCK_FILE: &str = "LOCK";

const MANIFEST_MAGIC: u64 = u64::from_le_bytes(*b"LSMMANI1");

/// One live SSTable, as the manifest records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableRecord {
    /// The table's id: its file is `table_path(dir, id)`.
    pub id: u64,
    /// What writing it produced.
    pub meta: TableMeta,
}

// ANCHOR: manifest
/// The store's table of contents: the only file that says which SSTables
/// are live, and which WAL files still matter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// The id the next SSTable gets.
    pub next_table_id: u64,
    /// WAL files with an id below this are already in SSTables.
    pub log_number: u64,
    /// The live SSTables, newest first.
    pub tables: Vec<TableRecord>,
}
// ANCHOR_END: manifest

impl Default for Manifest {
    fn default() -> Self {
        Self {
            next_table_id: 1,
            log_number: 1,
            tables: Vec::new(),
        }
    }
}

impl Manifest {
    /// The manifest as bytes:
    ///
    /// ```text
    /// magic u64 | body_len u32 | crc u32 (CRC-32 of the body) | body
    /// body: next_table_id u64 | log_number u64 | table count u32 |
    ///       per table: id u64 | size u64 | entries u64 | smallest | largest
    ///       (keys with a u32 length in front)
    /// ```
    pub fn encode(&self) -> Vec<u8> {
        let mut body = Vec::new();
        put_u64(&mut body, self.next_table_id);
        put_u64(&mut body, self.log_number);
        put_u32(&mut body, crate::codec::len_u32(self.tables.len()));
        for t in &self.tables {
            put_u64(&mut body, t.id);
            put_u64(&mut body, t.meta.size);
            put_u64(&mut body, t.meta.entries);
            put_bytes(&mut body, &t.meta.smallest);
            put_bytes(&mut body, &t.meta.largest);
        }
        let mut out = Vec::with_capacity(body.len() + 16);
        put_u64(&mut out, MANIFEST_MAGIC);
        put_u32(&mut out, crate::codec::len_u32(body.len()));
        put_u32(&mut out, crc32fast::hash(&body));
        out.extend_from_slice(&body);
        out
    }

    /// Decodes what [`encode`](Self::encode) wrote. A wrong magic number,
    /// length or CRC, or bytes that do not parse, are [`DbError::Corrupt`].
    pub fn decode(bytes: &[u8]) -> Result<Manifest, DbError> {
        let mut c = Cursor::new(bytes, "the manifest");
        if c.u64()? != MANIFEST_MAGIC {
            return Err(c.corrupt("bad magic number"));
        }
        let len = c.u32()? as usize;
        let crc = c.u32()?;
        if c.rest().len() != len {
            return Err(c.corrupt("length does not match the file"));
        }
        if crc32fast::hash(c.rest()) != crc {
            return Err(c.corrupt("checksum mismatch"));
        }
        let next_table_id = c.u64()?;
        let log_number = c.u64()?;
        let count = c.u32()?;
        let mut tables = Vec::new();
        for _ in 0..count {
            tables.push(TableRecord {
                id: c.u64()?,
                meta: TableMeta {
                    size: c.u64()?,
                    entries: c.u64()?,
                    smallest: c.len_prefixed()?.to_vec(),
                    largest: c.len_prefixed()?.to_vec(),
                },
            });
        }
        if !c.is_empty() {
            return Err(c.corrupt("bytes left over"));
        }
        Ok(Manifest {
            next_table_id,
            log_number,
            tables,
        })
    }

    // ANCHOR: task7_manifest
    /// Replaces `dir/MANIFEST` with this manifest, atomically: after a crash
    /// at any moment, the file holds either the old manifest or the new
    /// one, whole.
    ///
    /// 1. Write the encoding to `dir/MANIFEST.tmp` (create or truncate).
    /// 2. `sync_all` it: the bytes are on disk before the name points to them.
    /// 3. `rename` it over `dir/MANIFEST`: on POSIX a rename replaces the
    ///    target atomically.
    /// 4. Sync the directory ([`sync_dir`](crate::sync_dir)): the rename
    ///    itself is durable only then.
    pub fn store(&self, fs: &dyn Fs, dir: &Path) -> Result<(), DbError> {
        let tmp = dir.join(MANIFEST_TMP);
        let mut file = fs.open(
            &tmp,
            OpenOptions::new().write(true).create(true).truncate(true),
        )?;
        file.write_all(&self.encode())?;
        file.sync_all()?;
        drop(file);
        fs.rename(&tmp, &dir.join(MANIFEST_FILE))?;
        sync_dir(fs, dir)
    }

    /// Reads `dir/MANIFEST`: `Ok(None)` if there is none (a new store),
    /// [`DbError::Corrupt`] if it does not decode. A leftover
    /// `MANIFEST.tmp` (a crash before the rename) is ignored.
    pub fn load(fs: &dyn Fs, dir: &Path) -> Result<Option<Manifest>, DbError> {
        match fs.read(&dir.join(MANIFEST_FILE)) {
            Ok(bytes) => Manifest::decode(&bytes).map(Some),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
    // ANCHOR_END: task7_manifest
}

// ANCHOR: dirlock
/// An exclusive lock on a database directory, held while the value lives.
#[derive(Debug)]
pub struct DirLock {
    /// The open lock file; closing it releases the lock.
    file: Box<dyn FsFile>,
    /// The directory.
    dir: PathBuf,
}
// ANCHOR_END: dirlock

impl DirLock {
    // ANCHOR: task7_lock
    /// Takes the lock on `dir`: opens (creating if needed) `dir/LOCK` and
    /// calls `FsFile::try_lock` on it. If another process (or another open
    /// file description in this one) holds it, that is
    /// [`DbError::Locked`] with the directory; other errors are I/O errors.
    ///
    /// The lock belongs to the open file: it is released when the file
    /// is closed, also when the process dies, so a crash never leaves a
    /// stale lock behind.
    pub fn acquire(fs: &dyn Fs, dir: &Path) -> Result<DirLock, DbError> {
        let file = fs.open(
            &dir.join(LOCK_FILE),
            OpenOptions::new().read(true).write(true).create(true),
        )?;
        if file.try_lock()? {
            Ok(DirLock {
                file,
                dir: dir.to_path_buf(),
            })
        } else {
            Err(DbError::Locked {
                dir: dir.to_path_buf(),
            })
        }
    }
    // ANCHOR_END: task7_lock

    /// The locked directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for DirLock {
    fn drop(&mut self) {
        // Closing the file releases the lock anyway; unlocking first makes
        // the release explicit.
        let _ = self.file.unlock();
    }
}
