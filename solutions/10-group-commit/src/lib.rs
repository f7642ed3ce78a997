//! Lesson 10: group commit (reference solution).
//!
//! - `syncer.rs` and `per_write.rs`: task 1, the real syncer and the
//!   sync-per-write baseline.
//! - `group.rs`: tasks 2 to 5. Same public API as the exercise, but a
//!   faster design than the one the stubs suggest: batches formed as records
//!   arrive, one wake-up call per batch, and a committer that waits for the
//!   last batch's writers to wake up before it starts the next sync. The
//!   chapter measures each step.
//! - `record.rs`, `error.rs`, `sync.rs`: as in the exercise.

mod error;
mod group;
mod per_write;
mod record;
mod sync;
mod syncer;

pub use error::CommitError;
pub use group::{Config, GroupCommit};
pub use per_write::SyncPerWrite;
pub use record::{DecodeError, HEADER_LEN, Lsn, decode_records, encode_record, encoded_len};
pub use syncer::{FileSyncer, Syncer};
