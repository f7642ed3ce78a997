//! Lesson 06: memory-mapped files.
//!
//! Replace every `todo!()` with an implementation. The tests in `tests/`
//! grade your work: `cargo test -p mmap-files t1_` runs the tests of task
//! 1, and so on. The error type in `error.rs` and the record format in
//! `record.rs` are complete.
//!
//! - Task 1, `mapped.rs`: map a file read-only and read records in place,
//!   [`MappedFile`].
//! - Task 2, `fixed.rs`: fixed-size records by id, [`FixedRecords`].
//! - Task 3, `sparse.rs` and `rss.rs`: a huge sparse file, mapped, and how
//!   much of it is resident, [`SparseMap`] and [`mapping_rss`].
//! - Task 4, `writable.rs`: a writable map that flushes and grows,
//!   [`WritableRecords`].
//!
//! Linux only: task 3 reads `/proc/self/smaps`.

mod error;
mod fixed;
mod mapped;
mod record;
mod rss;
mod sparse;
mod writable;

pub use error::MmapError;
pub use fixed::FixedRecords;
pub use mapped::{MappedFile, Records};
pub use record::{LEN_PREFIX, Record, encode_record};
pub use rss::{ProcessRss, mapping_rss, page_size, process_rss};
pub use sparse::{SparseMap, TOUCHED, create_sparse};
pub use writable::WritableRecords;
