//! Lesson 09: a write-ahead log (reference solution).
//!
//! Records with an LSN, a length and a CRC; a buffered writer whose `sync`
//! is a flush plus `sync_data`; a reader that stops cleanly at a torn tail
//! but reports damage in the middle; idempotent replay by last-applied LSN;
//! and a background syncer driven by an injected ticker.

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
