//! What makes written bytes durable.

use std::io;

use simfs::FsFile;

// ANCHOR: syncer
/// Makes everything written to the log so far durable.
///
/// The log calls [`sync`](Syncer::sync) after it has written (and flushed)
/// a batch, and acknowledges the batch only if it returns `Ok`. Injecting it
/// lets the tests count syncs, fail the k-th one, or make each one take
/// exactly a millisecond, without a disk.
///
/// Any `FnMut() -> io::Result<()>` closure is a `Syncer` too.
pub trait Syncer: Send + 'static {
    /// Makes every byte written before this call durable.
    fn sync(&mut self) -> io::Result<()>;
}

impl<F> Syncer for F
where
    F: FnMut() -> io::Result<()> + Send + 'static,
{
    fn sync(&mut self) -> io::Result<()> {
        self()
    }
}

/// The real syncer: [`FsFile::sync_data`] (`fdatasync(2)` on Linux) on the
/// log file, opened through the [`simfs`] seam (the real disk, or the
/// simulated one of the power-loss tests).
#[derive(Debug)]
pub struct FileSyncer {
    file: Box<dyn FsFile>,
}
// ANCHOR_END: syncer

// ANCHOR: file_syncer
impl FileSyncer {
    /// A syncer for `file`. It keeps its own handle
    /// ([`FsFile::try_clone`]), so the log can own `file` as its sink.
    pub fn new(file: &dyn FsFile) -> io::Result<Self> {
        todo!("task 1: keep a clone of the file handle")
    }
}

impl Syncer for FileSyncer {
    fn sync(&mut self) -> io::Result<()> {
        todo!("task 1: one call on the file (data only, not metadata)")
    }
}
// ANCHOR_END: file_syncer
