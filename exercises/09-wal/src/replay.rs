//! Task 4: idempotent replay.

use crate::record::Record;

// ANCHOR: task4
/// State that log records are applied to: a table, a page, a counter.
///
/// The state remembers the LSN of the last record applied to it, and stores
/// that number together with the change itself (in the same page, the same
/// atomic write), so that after a crash the two always agree.
pub trait ApplyLog {
    /// Why applying a record failed.
    type Error: std::error::Error + Send + Sync + 'static;

    /// The LSN of the last record applied, or 0 if none was.
    fn applied_lsn(&self) -> u64;

    /// Applies `record` and records `record.lsn` as the last applied LSN, or
    /// changes nothing and fails.
    fn apply(&mut self, record: &Record) -> Result<(), Self::Error>;
}

/// What one replay did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReplayStats {
    /// Records passed to [`ApplyLog::apply`].
    pub applied: u64,
    /// Records skipped because the state already had them.
    pub skipped: u64,
}

/// Why a replay stopped.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError<E> {
    /// The next record to apply is not the one after the state's last
    /// applied LSN: records are missing.
    #[error(
        "records are missing: the state has applied up to LSN {applied_lsn}, the next record is LSN {next_lsn}"
    )]
    Gap {
        /// The last LSN the state has applied.
        applied_lsn: u64,
        /// The LSN of the record that should have been `applied_lsn + 1`.
        next_lsn: u64,
    },
    /// The state refused a record.
    #[error("applying LSN {lsn} failed")]
    Apply {
        /// The record that failed.
        lsn: u64,
        /// The state's error.
        #[source]
        source: E,
    },
}

/// Applies every record newer than `target.applied_lsn()`, in order, exactly
/// once; older records are skipped.
///
/// - Read the state's applied LSN once, at the start. A record at or below
///   it is skipped; the next one must be exactly one above it, otherwise
///   records are missing: [`ReplayError::Gap`], and nothing more is applied.
/// - The first failed [`ApplyLog::apply`] stops the replay with
///   [`ReplayError::Apply`]; nothing after it is applied.
///
/// Replaying the same records again applies nothing. After a failure (or a
/// crash) part-way, replaying again applies exactly the rest.
pub fn replay<T>(records: &[Record], target: &mut T) -> Result<ReplayStats, ReplayError<T::Error>>
where
    T: ApplyLog + ?Sized,
{
    todo!("task 4: skip lsn <= applied, apply lsn == applied + 1, anything else is a Gap")
}
// ANCHOR_END: task4
