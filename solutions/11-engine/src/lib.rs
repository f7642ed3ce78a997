//! Lesson 11, the capstone: a thread-safe LSM key-value store (reference
//! solution).
//!
//! - `memtable.rs`: task 1, the memtable.
//! - `wal.rs`: task 2, the write-ahead log and recovery from it.
//! - `flush.rs`: task 3, freezing exactly once per threshold crossing, and
//!   the flusher thread.
//! - `sstable.rs`: task 4, the SSTable format.
//! - `read.rs`: task 5, the read path and the merging iterator.
//! - `compaction.rs`: task 6, compaction.
//! - `manifest.rs`: task 7, the manifest (atomic replace) and the lock file.
//! - `writer.rs`: task 8, the single-writer path.
//! - `db.rs`: the store that ties them together (given).
//! - `codec.rs`, `config.rs`, `error.rs`, `sync.rs`: given.

mod codec;
mod compaction;
mod config;
mod db;
mod error;
mod flush;
mod manifest;
mod memtable;
mod read;
mod sstable;
mod sync;
mod wal;
mod writer;

pub use codec::{
    Batch, Cursor, Entry, FRAME_HEADER, Frame, KeyEntry, KeyRange, KeyValue, MAX_FRAME_PAYLOAD, Op,
    Show, decode_batch, decode_frame, encode_batch, encode_frame, encoded_batch_len, in_range,
    intact_frame_in, is_valid_range, key_range, past_end,
};
pub use compaction::{compact, plan};
pub use config::{Config, WritePath};
pub use db::{Db, Stats};
pub use error::DbError;
pub use flush::{Flusher, Frozen, MemTables};
pub use manifest::{DirLock, LOCK_FILE, MANIFEST_FILE, MANIFEST_TMP, Manifest, TableRecord};
pub use memtable::{ENTRY_OVERHEAD, Memtable, entry_size};
pub use read::{MergeIter, Source, lookup, scan};
pub use sstable::{
    BlockHandle, FOOTER_LEN, TABLE_MAGIC, TOMBSTONE_LEN, Table, TableIter, TableMeta, decode_entry,
    encode_entry, table_path, to_entry, write_table,
};
pub use wal::{Recovered, Wal, WalContents, list_wals, read_wal, replay_wals, sync_dir, wal_path};
pub use writer::{Request, SingleWriter, Ticket, WriteTarget};
