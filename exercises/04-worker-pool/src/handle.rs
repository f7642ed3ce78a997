//! Job ids and the handle through which a job's result comes back (task 2).

use std::fmt;

use crate::JobError;
use crate::sync::mpsc;

/// The id the pool gives each submitted job: 0, 1, 2, … in submission order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct JobId(pub(crate) u64);

impl JobId {
    /// The id as a number.
    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "job #{}", self.0)
    }
}

// ANCHOR: handle
/// The caller's end of one submitted job: wait for its result with
/// [`join`](Self::join).
///
/// Dropping the handle does not cancel the job; its result is then discarded.
pub struct JobHandle<T> {
    pub(crate) id: JobId,
    /// The job's wrapper sends exactly one result here. If the job is dropped
    /// without running, its `Sender` is dropped with it and `recv` fails.
    pub(crate) result: mpsc::Receiver<Result<T, JobError>>,
}

impl<T> JobHandle<T> {
    /// The id of the job.
    pub fn id(&self) -> JobId {
        self.id
    }

    /// Waits for the job and returns its value.
    ///
    /// Returns [`JobError::Panicked`] if the job panicked, and
    /// [`JobError::Abandoned`] if it was dropped without running.
    pub fn join(self) -> Result<T, JobError> {
        todo!("task 2: receive the one result; a closed channel means Abandoned")
    }
}
// ANCHOR_END: handle

impl<T> fmt::Debug for JobHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JobHandle")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}
