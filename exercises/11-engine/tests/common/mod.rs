//! Helpers shared by the test files (not a test file itself).

#![allow(dead_code)]

use std::env;
use std::path::Path;
use std::time::SystemTime;

use engine::{Config, Entry, Memtable, Table, write_table};
use simfs::RealFs;

/// A temporary directory in memory (`/dev/shm`) where there is one.
///
/// Most tests check logic, not the disk, and fsync many times: in memory
/// that costs nothing, on a busy disk it can take seconds. A SIGKILL does
/// not touch the kernel's page cache, so what survives one is the same on
/// any file system.
pub fn memory_tempdir() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir()
        && let Ok(dir) = tempfile::tempdir_in(shm)
    {
        return dir;
    }
    tempfile::tempdir().expect("create a temporary directory")
}

/// A number from the environment, or `default`.
pub fn env_number(name: &str, default: u64) -> u64 {
    match env::var(name) {
        Ok(value) => value
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a number, got {value:?}")),
        Err(_) => default,
    }
}

/// A seed from the clock, for tests that print theirs.
pub fn clock_seed() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// A small configuration that flushes and compacts often.
pub fn small_config() -> Config {
    Config {
        memtable_bytes: 2_000,
        sync_writes: false,
        block_bytes: 256,
        compaction_trigger: 3,
        ..Config::default()
    }
}

/// Writes `entries` (sorted) as a table in `dir` and opens it.
pub fn table_from(
    dir: &Path,
    name: &str,
    entries: &[(Vec<u8>, Entry)],
    block_bytes: usize,
) -> std::sync::Arc<Table> {
    let path = dir.join(name);
    write_table(&RealFs, &path, entries.iter().cloned().map(Ok), block_bytes)
        .expect("write_table")
        .expect("a table with entries writes a file");
    std::sync::Arc::new(Table::open(&RealFs, &path).expect("open the table just written"))
}

/// The entries of a memtable, owned.
pub fn memtable_entries(m: &Memtable) -> Vec<(Vec<u8>, Entry)> {
    m.iter().map(|(k, e)| (k.to_vec(), e.clone())).collect()
}

/// `format!("k{i:04}")` as bytes.
pub fn key(i: usize) -> Vec<u8> {
    format!("k{i:04}").into_bytes()
}

/// A value derived from `i`, of a length that varies with `i`.
pub fn value(i: usize) -> Vec<u8> {
    let len = 1 + (i * 7) % 40;
    (0..len).map(|j| b'a' + ((i + j) % 26) as u8).collect()
}

/// SplitMix64: a small, seedable generator, so a failing run can be repeated.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}
