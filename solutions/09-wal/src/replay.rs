//! Task 4: idempotent replay.

use crate::record::Record;

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
/// Replaying the same records again applies nothing. After a failure (or a
/// crash) part-way, replaying again applies exactly the rest.
pub fn replay<T>(records: &[Record], target: &mut T) -> Result<ReplayStats, ReplayError<T::Error>>
where
    T: ApplyLog + ?Sized,
{
    let mut stats = ReplayStats::default();
    let mut applied_lsn = target.applied_lsn();
    for record in records {
        if record.lsn <= applied_lsn {
            stats.skipped += 1;
            continue;
        }
        if record.lsn != applied_lsn + 1 {
            return Err(ReplayError::Gap {
                applied_lsn,
                next_lsn: record.lsn,
            });
        }
        target.apply(record).map_err(|source| ReplayError::Apply {
            lsn: record.lsn,
            source,
        })?;
        applied_lsn = record.lsn;
        stats.applied += 1;
    }
    Ok(stats)
}
