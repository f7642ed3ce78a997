//! Lesson 05: file I/O that survives a crash (reference solution).
//!
//! Streaming with bounded memory; `commit` as flush-then-sync; partial
//! writes and `Interrupted`; atomic replace; `O_APPEND` appenders; a lock
//! file; direct I/O with aligned blocks; zero-copy copies; and how the
//! buffer size sets the number of system calls.

mod append;
mod commit;
mod copy;
mod counting;
mod direct;
mod error;
mod lock;
mod partial;
mod replace;
mod stream;

pub use append::{Appender, RECORD_HEADER, decode_records};
pub use commit::{Durable, DurableWriter};
pub use copy::{CopyReport, copy_file_fast, copy_file_naive, copy_naive};
pub use counting::{CountingWriter, WriteCounts, predicted_writes, write_through_buffer};
pub use direct::{BLOCK_SIZE, Block, BlockFile, IoPath, open_file};
pub use error::FileIoError;
pub use lock::LockFile;
pub use partial::{WriteReport, read_fully, write_fully};
pub use replace::{
    Step, TEMP_ATTEMPTS, parent_dir, replace_atomically, replace_atomically_on,
    replace_atomically_with, temp_path_for,
};
pub use stream::{LineCount, count_lines, count_lines_in_file};
