//! Lesson 07: batch file processing.
//!
//! Replace every `todo!()` with an implementation. The tests in `tests/`
//! grade your work: `cargo test -p batch-io t1_` runs the tests of task 1,
//! and so on. The error types in `error.rs`, the types in `config.rs` and
//! the helpers in `files.rs` are complete.
//!
//! - Task 1, `file.rs`: one file through read, transform and write.
//! - Task 2, `pipeline.rs` and `BatchConfig::validate` in `config.rs`: K
//!   workers, at most K files in flight.
//! - Task 3, `guard.rs`: a failing or panicking file does not stop the
//!   batch.
//! - Task 4, `reorder.rs`: results in input order, as soon as they can be.
//! - Task 5, `progress.rs`: progress counts as files finish.

mod config;
mod error;
mod file;
mod files;
mod guard;
mod pipeline;
mod progress;
mod reorder;

pub use config::{BatchConfig, BatchSink, FileDone, FileResult};
pub use error::{BatchError, FileError, TransformError};
pub use file::process_file;
pub use files::{list_files, write_replacing};
pub use guard::{check_name, panic_message, run_guarded};
pub use pipeline::run_batch;
pub use progress::Progress;
pub use reorder::Reorder;
