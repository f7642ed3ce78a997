//! Task 6: compaction. Merge SSTables into one, dropping what nobody can
//! read any more.

use std::path::Path;
use std::sync::Arc;

use crate::codec::Entry;
use crate::error::DbError;
use crate::read::{MergeIter, Source};
use simfs::Fs;

use crate::sstable::{Table, TableMeta, write_table};

// ANCHOR: task6
/// Which tables to compact: how many of the newest ones, or `None`.
///
/// `sizes` are the tables' sizes in bytes, newest first. With fewer than
/// `trigger` tables, return `None`. Otherwise pick the `trigger` newest
/// tables, then keep adding the next older table as long as its size is at
/// most the sum of the sizes picked so far: a small table is not worth
/// leaving behind, and a big old one is not worth rewriting for a few
/// small new ones. Return how many tables were picked.
///
/// A `trigger` below 2 counts as 2: merging one table with itself is no
/// compaction.
pub fn plan(sizes: &[u64], trigger: usize) -> Option<usize> {
    let trigger = trigger.max(2);
    if sizes.len() < trigger {
        return None;
    }
    let mut picked = trigger;
    let mut total: u64 = sizes[..trigger].iter().sum();
    while let Some(&next) = sizes.get(picked) {
        if next > total {
            break;
        }
        total += next;
        picked += 1;
    }
    Some(picked)
}

/// Merges `inputs` (newest first) into one new SSTable at `path`, and
/// returns its meta, or `None` if nothing was left to write (no file is
/// created then).
///
/// - Every key is written once, with its newest entry ([`MergeIter`]):
///   older values are shadowed, and nobody can read them any more.
/// - A tombstone is written too, unless `drop_tombstones` is true. Drop them
///   only when the inputs include the oldest table of the store: otherwise
///   an older table may still hold a value that the tombstone hides, and
///   dropping the tombstone would bring that value back to life.
pub fn compact(
    fs: &dyn Fs,
    inputs: &[Arc<Table>],
    drop_tombstones: bool,
    path: &Path,
    block_bytes: usize,
) -> Result<Option<TableMeta>, DbError> {
    let sources: Vec<Source<'_>> = inputs
        .iter()
        .map(|t| Box::new(t.iter()) as Source<'_>)
        .collect();
    let merged = MergeIter::new(sources)
        .filter(|item| !(drop_tombstones && matches!(item, Ok((_, Entry::Tombstone)))));
    write_table(fs, path, merged, block_bytes)
}
// ANCHOR_END: task6
