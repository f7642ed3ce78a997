//! A small file-system seam for storage code that must survive a crash.
//!
//! - [`Fs`] and [`FsFile`]: the operations a storage engine needs (open with
//!   options, read, write, write at an offset, set the length, `sync_data`,
//!   `sync_all`, rename, remove, create a directory, sync a directory, list,
//!   length).
//! - [`RealFs`]: the seam over [`std::fs`], with nothing added. Production
//!   paths, benchmarks and command-line tools use it.
//! - [`SimFs`]: a strict disk in memory. It keeps what was synced apart from
//!   what was only written, and [`SimFs::crash`] gives back the disk a power
//!   cut would leave. Every change is numbered in a trace, so a test can cut
//!   the power at any operation, and [`CrashStory`] turns a lost write into a
//!   paragraph a learner can act on.
//!
//! A `kill -9` cannot test durability: the page cache survives the process,
//! so code that never syncs passes. A power cut can, and this crate
//! simulates one.
//!
//! Learners do not edit this crate.
//!
//! ```
//! use std::io::Write;
//! use std::path::Path;
//! use simfs::{Fs, OpenOptions, SimFs};
//!
//! let fs = SimFs::with_dirs(&["/db"]).unwrap();
//! let path = Path::new("/db/log");
//! let mut log = fs.open(path, OpenOptions::new().append(true).create(true)).unwrap();
//! log.write_all(b"synced").unwrap();
//! log.sync_data().unwrap();
//! fs.sync_dir(Path::new("/db")).unwrap();
//! log.write_all(b" but not this").unwrap();
//!
//! let after = fs.crash();
//! assert_eq!(after.read(path).unwrap(), b"synced");
//! ```

mod api;
mod options;
mod real;
mod sim;
mod story;
mod trace;

pub use api::{Fs, FsFile};
pub use options::OpenOptions;
pub use real::{RealFile, RealFs};
pub use sim::{SimFile, SimFs};
pub use story::{CrashStory, Loss};
pub use trace::{Op, OpKind};
