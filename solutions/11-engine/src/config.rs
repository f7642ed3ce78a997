//! How a store is configured. Complete: you do not need to edit it.

// ANCHOR: config
/// How writers reach the log and the memtable.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum WritePath {
    /// Every writer appends to the log itself, under a mutex, and inserts
    /// into the memtable under its `RwLock`'s write lock (seed 003's
    /// solution 2). Simple; each durable write pays for its own `fsync`.
    #[default]
    Locked,
    /// Writers send their batches over a channel to one writer thread, which
    /// logs everything that has queued up, syncs once, and applies the whole
    /// group to the memtable under one write lock (seed 003's solution 3).
    SingleWriter,
}

/// The store's settings. Build one with struct update syntax:
/// `Config { write_path: WritePath::SingleWriter, ..Config::default() }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Which write path to use.
    pub write_path: WritePath,
    /// Freeze the memtable and flush it to an SSTable once its
    /// [`approx_bytes`](crate::Memtable::approx_bytes) reach this.
    pub memtable_bytes: usize,
    /// `true`: a write returns only after its log record is on disk
    /// (`sync_data`). `false`: only after it reached the kernel (survives a
    /// killed process, not a power cut).
    pub sync_writes: bool,
    /// Target size of an SSTable data block, in bytes.
    pub block_bytes: usize,
    /// Compact in the background once there are this many SSTables.
    pub compaction_trigger: usize,
    /// Whether to compact in the background at all.
    pub background_compaction: bool,
    /// The single writer takes at most this many queued requests at once.
    pub max_group: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            write_path: WritePath::Locked,
            memtable_bytes: 4 << 20,
            sync_writes: true,
            block_bytes: 4096,
            compaction_trigger: 4,
            background_compaction: true,
            max_group: 512,
        }
    }
}
// ANCHOR_END: config
