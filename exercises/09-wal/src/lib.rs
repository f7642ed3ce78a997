//! Lesson 09: a write-ahead log.
//!
//! Replace every `todo!()` with an implementation. The tests in `tests/`
//! grade your work: `cargo test -p wal t1_` runs the tests of task 1, and so
//! on. The error types in `error.rs` are complete.
//!
//! - Task 1, `record.rs`: the record format.
//! - Task 2, `writer.rs`: the writer, [`Wal`].
//! - Task 3, `reader.rs`: reading a log back, and recovery.
//! - Task 4, `replay.rs`: idempotent replay.
//! - Task 5, `syncer.rs`: a background syncer.

mod error;
mod reader;
mod record;
mod replay;
mod syncer;
mod writer;

pub use error::{Defect, WalError};
pub use reader::{LogScan, read_log, read_log_on, recover, recover_on, scan};
pub use record::{
    Decoded, HEADER_LEN, MAX_PAYLOAD_LEN, Record, decode, encode_header, encode_into, encoded_len,
};
pub use replay::{ApplyLog, ReplayError, ReplayStats, replay};
pub use syncer::{BackgroundSyncer, SyncTarget};
pub use writer::Wal;
