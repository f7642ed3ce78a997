//! The store: how the pieces of tasks 1 to 8 fit together.
//!
//! This file is complete: you do not need to edit it, but read it. It calls
//! your code from every task, and it is where the ordering rules live:
//!
//! - **Write**: log first, then the memtable, in the same order for every
//!   writer (the WAL mutex, or the single writer thread, is that order).
//! - **Freeze**: when a memtable is frozen, a new WAL starts at once, so
//!   every WAL file holds exactly the batches of one memtable.
//! - **Flush**: write the SSTable, store the manifest that names it, make it
//!   visible to readers, and only then forget the frozen memtable and
//!   delete its WAL.
//! - **Read**: memtables first, then a snapshot of the tables. A memtable
//!   leaves only after its table is visible, so a reader that misses it in
//!   memory finds it on disk.

use std::collections::HashSet;
use std::io::ErrorKind;
use std::ops::RangeBounds;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use crate::codec::{
    Batch, Entry, KeyValue, MAX_FRAME_PAYLOAD, encoded_batch_len, is_valid_range, key_range,
};
use crate::compaction;
use crate::config::{Config, WritePath};
use crate::error::DbError;
use crate::flush::{Flusher, Frozen, MemTables};
use crate::manifest::{DirLock, MANIFEST_TMP, Manifest, TableRecord};
use crate::read::{self, Source};
use crate::sstable::{Table, table_path, write_table};
use crate::wal::{Wal, list_ids, replay_wals, sync_dir, wal_path};
use crate::writer::{Request, SingleWriter, WriteTarget};
use simfs::{Fs, RealFs};

// ANCHOR: stats
/// A snapshot of the store's shape and counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// The configured write path.
    pub write_path: WritePath,
    /// The active memtable's `approx_bytes()`.
    pub memtable_bytes: usize,
    /// Frozen memtables waiting for the flusher.
    pub frozen_memtables: usize,
    /// Live SSTables.
    pub tables: usize,
    /// Their total size in bytes.
    pub table_bytes: u64,
    /// Their total number of entries, tombstones and shadowed values included.
    pub table_entries: u64,
    /// Memtables flushed since open.
    pub flushes: u64,
    /// Compactions since open.
    pub compactions: u64,
    /// WAL syncs (or flushes to the kernel, without `sync_writes`) since open.
    pub wal_syncs: u64,
}
// ANCHOR_END: stats

/// The WAL of the `Locked` write path, and whether it has failed.
#[derive(Debug, Default)]
struct WalSlot {
    wal: Option<Wal>,
    failure: Option<String>,
}

#[derive(Debug, Default)]
struct Counters {
    flushes: AtomicU64,
    compactions: AtomicU64,
    wal_syncs: AtomicU64,
}

/// Everything the threads share.
#[derive(Debug)]
struct Inner {
    /// The file system everything goes through: the real disk, or a
    /// simulated one in the power-loss tests.
    fs: Arc<dyn Fs>,
    dir: PathBuf,
    config: Config,
    /// The active and the frozen memtables (task 3).
    mem: MemTables,
    /// The live tables, newest first, in the manifest's order. Replaced as a
    /// whole (copy on write), so a reader clones one `Arc` and reads a
    /// consistent list without holding the lock.
    tables: RwLock<Arc<Vec<Arc<Table>>>>,
    /// The manifest as last stored. Its lock is also the edit lock: flushes
    /// and compactions hold it while they change the set of tables.
    manifest: Mutex<Manifest>,
    /// The `Locked` path's WAL (unused with the single writer, which owns it).
    wal: Mutex<WalSlot>,
    /// The flusher thread; taken out on shutdown.
    flusher: RwLock<Option<Flusher>>,
    counters: Counters,
    /// Held until the last `Arc<Inner>` is gone.
    _lock: DirLock,
}

// ANCHOR: db
/// A thread-safe LSM key-value store. Share it between threads with an
/// `Arc<Db>` (or scoped threads): every method takes `&self`.
#[derive(Debug)]
pub struct Db {
    inner: Arc<Inner>,
    /// The writer thread, with [`WritePath::SingleWriter`].
    writer: Option<SingleWriter>,
    closed: bool,
}
// ANCHOR_END: db

impl Db {
    // ANCHOR: open
    /// Opens (or creates) the store in `dir`.
    ///
    /// 1. Lock the directory (task 7): a second process gets
    ///    [`DbError::Locked`].
    /// 2. Load the manifest (task 7) and open its SSTables (task 4); delete
    ///    table files it does not name (a crash before the manifest named
    ///    them) and a leftover `MANIFEST.tmp`.
    /// 3. Replay the WALs it does not cover (task 2) into a memtable, write
    ///    that to an SSTable, store the manifest, delete the old WALs.
    /// 4. Start a new WAL, the flusher (task 3) and, with
    ///    [`WritePath::SingleWriter`], the writer thread (task 8).
    pub fn open(dir: impl AsRef<Path>, config: Config) -> Result<Db, DbError> {
        Self::open_on(Arc::new(RealFs), dir, config)
    }

    /// [`Db::open`] on the file system `fs`.
    pub fn open_on(fs: Arc<dyn Fs>, dir: impl AsRef<Path>, config: Config) -> Result<Db, DbError> {
        let dir = dir.as_ref().to_path_buf();
        if !fs.exists(&dir)? {
            fs.create_dir_all(&dir)?;
            // The new directory's name must survive a power cut too.
            sync_dir(&*fs, parent_dir(&dir))?;
        }
        let disk = &*fs;
        let lock = DirLock::acquire(disk, &dir)?;
        let mut manifest = Manifest::load(disk, &dir)?.unwrap_or_default();
        remove_if_exists(disk, &dir.join(MANIFEST_TMP))?;

        let mut tables = Vec::new();
        for record in &manifest.tables {
            tables.push(Arc::new(Table::open(disk, &table_path(&dir, record.id))?));
        }
        let live: HashSet<u64> = manifest.tables.iter().map(|t| t.id).collect();
        let recovered = replay_wals(disk, &dir, manifest.log_number)?;
        for id in list_ids(disk, &dir, "sst")? {
            if !live.contains(&id) {
                remove_if_exists(disk, &table_path(&dir, id))?;
            }
        }
        for id in &recovered.obsolete {
            remove_if_exists(disk, &wal_path(&dir, *id))?;
        }
        let next_id = recovered.next_id.max(1);
        if !recovered.memtable.is_empty() {
            let id = manifest.next_table_id;
            let path = table_path(&dir, id);
            let entries = recovered
                .memtable
                .iter()
                .map(|(k, e)| Ok((k.to_vec(), e.clone())));
            if let Some(meta) = write_table(disk, &path, entries, config.block_bytes)? {
                tables.insert(0, Arc::new(Table::open(disk, &path)?));
                manifest.tables.insert(0, TableRecord { id, meta });
                manifest.next_table_id = id + 1;
            }
        }
        manifest.log_number = next_id;
        manifest.store(disk, &dir)?;
        for id in &recovered.replayed {
            remove_if_exists(disk, &wal_path(&dir, *id))?;
        }
        let wal = Wal::create(disk, &dir, next_id)?;

        let inner = Arc::new(Inner {
            mem: MemTables::new(next_id, config.memtable_bytes),
            tables: RwLock::new(Arc::new(tables)),
            manifest: Mutex::new(manifest),
            wal: Mutex::new(WalSlot::default()),
            flusher: RwLock::new(None),
            counters: Counters::default(),
            _lock: lock,
            fs,
            dir,
            config,
        });
        let sink_inner = Arc::clone(&inner);
        let flusher = Flusher::spawn(move |frozen| sink_inner.flush_frozen(frozen))?;
        *inner.flusher.write()? = Some(flusher);
        let writer = match inner.config.write_path {
            WritePath::Locked => {
                inner.wal.lock()?.wal = Some(wal);
                None
            }
            WritePath::SingleWriter => {
                let target = DbTarget {
                    inner: Arc::clone(&inner),
                    wal,
                };
                Some(SingleWriter::spawn(target, inner.config.max_group)?)
            }
        };
        Ok(Db {
            inner,
            writer,
            closed: false,
        })
    }
    // ANCHOR_END: open

    /// Sets `key` to `value`.
    pub fn put(&self, key: &[u8], value: &[u8]) -> Result<(), DbError> {
        let mut batch = Batch::new();
        batch.put(key, value);
        self.write_batch(&batch)
    }

    /// Deletes `key` (a no-op if it has no value).
    pub fn delete(&self, key: &[u8]) -> Result<(), DbError> {
        let mut batch = Batch::new();
        batch.delete(key);
        self.write_batch(&batch)
    }

    /// Applies every operation of `batch` atomically: after a crash, all of
    /// them are there or none is, and no reader sees half of them.
    pub fn write_batch(&self, batch: &Batch) -> Result<(), DbError> {
        if batch.is_empty() {
            return Ok(());
        }
        let len = encoded_batch_len(batch);
        if len > MAX_FRAME_PAYLOAD {
            return Err(DbError::TooLarge {
                len,
                max: MAX_FRAME_PAYLOAD,
            });
        }
        match &self.writer {
            Some(writer) => writer
                .submit(Request::Write(batch.clone()))?
                .wait()
                .map(drop),
            None => self.write_locked(batch, None).map(drop),
        }
    }

    /// Sets `key` to `value` only if `key` has a value now; returns whether
    /// it did. The check and the write are atomic with respect to every
    /// other write.
    pub fn update_if_exists(&self, key: &[u8], value: &[u8]) -> Result<bool, DbError> {
        match &self.writer {
            Some(writer) => writer
                .submit(Request::UpdateIfExists {
                    key: key.to_vec(),
                    value: value.to_vec(),
                })?
                .wait(),
            None => {
                let mut batch = Batch::new();
                batch.put(key, value);
                self.write_locked(&batch, Some(key))
            }
        }
    }

    /// The value of `key`, or `None`.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, DbError> {
        self.inner.get(key)
    }

    /// The live key-value pairs whose keys lie in `range`, in key order:
    /// `db.scan(..)`, `db.scan(b"a".to_vec()..b"m".to_vec())`.
    pub fn scan(&self, range: impl RangeBounds<Vec<u8>>) -> Result<Vec<KeyValue>, DbError> {
        let range = key_range(range);
        if !is_valid_range(&range) {
            return Ok(Vec::new());
        }
        // Memtables first, then the tables: see the module's documentation.
        let memtables = self.inner.mem.range_snapshot(&range)?;
        let tables = self.inner.tables()?;
        let mut sources: Vec<Source<'_>> = memtables
            .into_iter()
            .map(|entries| Box::new(entries.into_iter().map(Ok)) as Source<'_>)
            .collect();
        for table in tables.iter() {
            sources.push(Box::new(table.range(range.clone())));
        }
        read::scan(sources)
    }

    /// Freezes the active memtable and waits until every frozen memtable is
    /// in an SSTable.
    pub fn flush(&self) -> Result<(), DbError> {
        match &self.writer {
            Some(writer) => {
                writer.submit(Request::Rotate)?.wait()?;
            }
            None => {
                let mut slot = self.inner.wal.lock()?;
                if let Some(message) = &slot.failure {
                    return Err(DbError::Failed(message.clone()));
                }
                let wal = slot.wal.as_mut().ok_or(DbError::Closed)?;
                if let Some(frozen) = self.inner.mem.freeze()? {
                    self.inner.rotate(wal, frozen)?;
                }
            }
        }
        self.inner.wait_for_flusher()
    }

    /// Flushes, then merges every SSTable into one, dropping shadowed values
    /// and tombstones.
    pub fn compact(&self) -> Result<(), DbError> {
        self.flush()?;
        let manifest = self.inner.manifest.lock()?;
        let count = manifest.tables.len();
        if count == 0 {
            return Ok(());
        }
        self.inner.compact_locked(manifest, count)
    }

    /// The store's shape and counters.
    pub fn stats(&self) -> Result<Stats, DbError> {
        let (memtable_bytes, frozen_memtables) = self.inner.mem.sizes()?;
        let tables = self.inner.tables()?;
        let c = &self.inner.counters;
        Ok(Stats {
            write_path: self.inner.config.write_path,
            memtable_bytes,
            frozen_memtables,
            tables: tables.len(),
            table_bytes: tables.iter().map(|t| t.size()).sum(),
            table_entries: tables.iter().map(|t| t.entries()).sum(),
            flushes: c.flushes.load(Ordering::Relaxed),
            compactions: c.compactions.load(Ordering::Relaxed),
            wal_syncs: c.wal_syncs.load(Ordering::Relaxed),
        })
    }

    /// The directory the store lives in.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// Closes the store cleanly: stops taking writes, writes the memtable to
    /// an SSTable, waits for the background thread, and releases the lock.
    /// Returns the first error any of that met. (Dropping a `Db` does the
    /// same, but cannot report an error.)
    pub fn close(mut self) -> Result<(), DbError> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> Result<(), DbError> {
        if self.closed {
            return Ok(());
        }
        self.closed = true;
        let mut first_error: Option<DbError> = None;
        let mut note = |result: Result<(), DbError>| {
            if let Err(e) = result {
                first_error.get_or_insert(e);
            }
        };
        // 1. No more writes: the writer thread answers what is queued, then
        //    ends; the Locked path's WAL is synced and closed.
        if let Some(mut writer) = self.writer.take() {
            note(writer.shutdown());
        } else {
            match self.inner.wal.lock() {
                Ok(mut slot) => {
                    if let Some(mut wal) = slot.wal.take() {
                        note(wal.sync());
                    }
                }
                Err(e) => note(Err(e.into())),
            }
        }
        // 2. Freeze what is left and let the flusher write it out.
        match self.inner.mem.freeze() {
            Ok(Some(frozen)) => note(self.inner.submit(frozen)),
            Ok(None) => {}
            Err(e) => note(Err(e)),
        }
        // 3. Stop the flusher. Its thread holds an `Arc<Inner>`, which
        //    goes away with it, and with the last one the lock.
        let flusher = self.inner.flusher.write().map(|mut f| f.take());
        match flusher {
            Ok(Some(mut flusher)) => note(flusher.shutdown()),
            Ok(None) => {}
            Err(e) => note(Err(e.into())),
        }
        first_error.map_or(Ok(()), Err)
    }

    /// The `Locked` write path (seed 003's solution 2): log and apply under
    /// the WAL mutex, so the log's order is the memtable's order.
    fn write_locked(&self, batch: &Batch, only_if_exists: Option<&[u8]>) -> Result<bool, DbError> {
        let mut slot = self.inner.wal.lock()?;
        if let Some(message) = &slot.failure {
            return Err(DbError::Failed(message.clone()));
        }
        if let Some(key) = only_if_exists
            && self.inner.get(key)?.is_none()
        {
            return Ok(false);
        }
        let WalSlot { wal, failure } = &mut *slot;
        let wal = wal.as_mut().ok_or(DbError::Closed)?;
        let result = (|| -> Result<bool, DbError> {
            wal.append(batch)?;
            self.inner.sync_wal(wal)?;
            if let Some(frozen) = self.inner.mem.apply(std::slice::from_ref(batch))? {
                self.inner.rotate(wal, frozen)?;
            }
            Ok(true)
        })();
        if let Err(e) = &result {
            *failure = Some(e.to_string());
        }
        result
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}

impl Inner {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, DbError> {
        // Memtables first (under their read lock), then the tables (outside
        // any lock): see the module's documentation.
        if let Some(entry) = self.mem.lookup(key)? {
            return Ok(entry.into_value());
        }
        let tables = self.tables()?;
        Ok(read::lookup(key, &[], &tables)?.and_then(Entry::into_value))
    }

    fn tables(&self) -> Result<Arc<Vec<Arc<Table>>>, DbError> {
        Ok(Arc::clone(&*self.tables.read()?))
    }

    /// Makes the WAL durable, or hands it to the kernel without `sync_writes`.
    fn sync_wal(&self, wal: &mut Wal) -> Result<(), DbError> {
        if self.config.sync_writes {
            wal.sync()?;
        } else {
            wal.flush()?;
        }
        self.counters.wal_syncs.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// A memtable was frozen: start its successor's WAL, and queue it.
    fn rotate(&self, wal: &mut Wal, frozen: Frozen) -> Result<(), DbError> {
        let next = Wal::create(&*self.fs, &self.dir, frozen.id + 1)?;
        let mut old = std::mem::replace(wal, next);
        old.flush()?;
        self.submit(frozen)
    }

    fn submit(&self, frozen: Frozen) -> Result<(), DbError> {
        self.flusher
            .read()?
            .as_ref()
            .ok_or(DbError::Closed)?
            .submit(frozen)
    }

    fn wait_for_flusher(&self) -> Result<(), DbError> {
        self.flusher.read()?.as_ref().ok_or(DbError::Closed)?.wait()
    }

    // ANCHOR: flush_frozen
    /// The flusher's sink: one frozen memtable becomes one SSTable.
    fn flush_frozen(&self, frozen: &Frozen) -> Result<(), DbError> {
        let mut manifest = self.manifest.lock()?;
        let mut next = manifest.clone();
        let mut table = None;
        let id = next.next_table_id;
        let path = table_path(&self.dir, id);
        let entries = frozen
            .memtable
            .iter()
            .map(|(k, e)| Ok((k.to_vec(), e.clone())));
        if let Some(meta) = write_table(&*self.fs, &path, entries, self.config.block_bytes)? {
            table = Some(Arc::new(Table::open(&*self.fs, &path)?));
            next.tables.insert(0, TableRecord { id, meta });
            next.next_table_id = id + 1;
        }
        next.log_number = next.log_number.max(frozen.id + 1);
        // The manifest names the table: from here on it is durable.
        next.store(&*self.fs, &self.dir)?;
        *manifest = next;
        // Readers see the table before the memtable leaves.
        if let Some(table) = table {
            let mut tables = self.tables.write()?;
            let mut list = Vec::with_capacity(tables.len() + 1);
            list.push(table);
            list.extend(tables.iter().cloned());
            *tables = Arc::new(list);
        }
        self.mem.remove_frozen(frozen.id)?;
        drop(manifest);
        remove_if_exists(&*self.fs, &wal_path(&self.dir, frozen.id))?;
        self.counters.flushes.fetch_add(1, Ordering::Relaxed);
        if self.config.background_compaction {
            self.maybe_compact()?;
        }
        Ok(())
    }
    // ANCHOR_END: flush_frozen

    /// Background compaction, after each flush: if [`compaction::plan`]
    /// picks tables, merge them.
    fn maybe_compact(&self) -> Result<(), DbError> {
        let manifest = self.manifest.lock()?;
        let sizes: Vec<u64> = manifest.tables.iter().map(|t| t.meta.size).collect();
        match compaction::plan(&sizes, self.config.compaction_trigger) {
            Some(count) => self.compact_locked(manifest, count),
            None => Ok(()),
        }
    }

    // ANCHOR: compact_locked
    /// Merges the `count` newest tables into one, under the manifest lock.
    fn compact_locked(
        &self,
        mut manifest: MutexGuard<'_, Manifest>,
        count: usize,
    ) -> Result<(), DbError> {
        let tables = self.tables()?;
        let count = count.min(tables.len());
        // Tombstones may go only if nothing older than the inputs is left.
        let drop_tombstones = count == tables.len();
        let id = manifest.next_table_id;
        let path = table_path(&self.dir, id);
        let meta = compaction::compact(
            &*self.fs,
            &tables[..count],
            drop_tombstones,
            &path,
            self.config.block_bytes,
        )?;
        let mut next = manifest.clone();
        next.next_table_id = id + 1;
        let removed: Vec<u64> = next.tables.drain(..count).map(|t| t.id).collect();
        let mut list: Vec<Arc<Table>> = Vec::with_capacity(tables.len() - count + 1);
        if let Some(meta) = meta {
            list.push(Arc::new(Table::open(&*self.fs, &path)?));
            next.tables.insert(0, TableRecord { id, meta });
        }
        list.extend(tables[count..].iter().cloned());
        next.store(&*self.fs, &self.dir)?;
        *manifest = next;
        *self.tables.write()? = Arc::new(list);
        drop(manifest);
        // Readers that still hold the old tables keep their open files.
        for id in removed {
            remove_if_exists(&*self.fs, &table_path(&self.dir, id))?;
        }
        self.counters.compactions.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
    // ANCHOR_END: compact_locked
}

/// The store as the single writer thread sees it.
struct DbTarget {
    inner: Arc<Inner>,
    wal: Wal,
}

impl WriteTarget for DbTarget {
    fn log(&mut self, batch: &Batch) -> Result<(), DbError> {
        self.wal.append(batch)
    }

    fn sync(&mut self) -> Result<(), DbError> {
        self.inner.sync_wal(&mut self.wal)
    }

    fn apply(&mut self, batches: &[Batch]) -> Result<(), DbError> {
        if let Some(frozen) = self.inner.mem.apply(batches)? {
            self.inner.rotate(&mut self.wal, frozen)?;
        }
        Ok(())
    }

    fn exists(&mut self, key: &[u8]) -> Result<bool, DbError> {
        Ok(self.inner.get(key)?.is_some())
    }

    fn rotate(&mut self) -> Result<(), DbError> {
        if let Some(frozen) = self.inner.mem.freeze()? {
            self.inner.rotate(&mut self.wal, frozen)?;
        }
        Ok(())
    }
}

impl Drop for DbTarget {
    fn drop(&mut self) {
        let _ = self.wal.sync();
    }
}

/// The directory that holds `path` (`.` for a bare name).
fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// Deletes a file; a missing one is fine.
fn remove_if_exists(fs: &dyn Fs, path: &Path) -> Result<(), DbError> {
    match fs.remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e.into()),
    }
}
