//! [`SimFs`]: a strict in-memory file system that keeps, for every file and
//! directory, what is durable apart from what was merely written.

mod crash;
mod file;
mod state;

use std::io;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::trace::{Op, OpKind};
use crate::{Fs, FsFile, OpenOptions};

pub use file::SimFile;
pub(crate) use state::display as display_path;
use state::{DirNode, FileChange, FileNode, Node, State, display, eio, enospc};

/// A strict simulated disk.
///
/// - Every file keeps the bytes as last synced apart from the bytes written
///   since; every directory keeps its entries as last synced apart from the
///   creates, renames and removes since.
/// - [`crash`](SimFs::crash) returns the disk as a power cut would leave it:
///   only what was synced. [`crash_torn`](SimFs::crash_torn) also keeps a
///   seeded, arbitrary prefix of what was not synced, cut at 512-byte sectors.
/// - Every operation that changes something is numbered in a
///   [`trace`](SimFs::trace); [`cut_power_after`](SimFs::cut_power_after)
///   makes every change after the n-th fail, so a test can crash at any
///   point of a workload.
/// - Faults: EIO on the k-th sync, ENOSPC on the k-th write, short writes.
///
/// A failed sync behaves like Linux's: the changes it should have made
/// durable are dropped from the disk's queue (the pages are marked clean), so
/// a later sync that succeeds does not save them.
///
/// Clones share one disk. Paths are absolute or relative to the root; they
/// are all the same here.
#[derive(Debug, Clone, Default)]
pub struct SimFs {
    state: Arc<Mutex<State>>,
}

impl SimFs {
    /// An empty disk with a root directory.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty disk on which these directories already exist, durably.
    pub fn with_dirs(dirs: &[&str]) -> io::Result<Self> {
        let fs = Self::new();
        for dir in dirs {
            fs.create_dir_all(Path::new(dir))?;
        }
        fs.sync_everything();
        fs.lock().trace.clear();
        Ok(fs)
    }

    /// Creates or overwrites the file at `path` with `bytes`, durably and
    /// outside the trace: the state a test starts from. Its directory's
    /// entries become durable too.
    pub fn put_durable(&self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        let mut state = self.lock();
        let (dir, name) = state.parent_of(path)?;
        let ino = match state.lookup(&state::parts(path)?) {
            Some(ino) => ino,
            None => state.link_new(dir, name, Node::File(FileNode::default())),
        };
        let Some(Node::File(file)) = state.nodes.get_mut(&ino) else {
            return Err(io::Error::new(
                io::ErrorKind::IsADirectory,
                format!("simfs: {} is a directory", display(path)),
            ));
        };
        *file = FileNode {
            data: bytes.to_vec(),
            durable: bytes.to_vec(),
            pending: Vec::new(),
        };
        state.dir_mut(dir).sync();
        Ok(())
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Every operation so far.
    pub fn trace(&self) -> Vec<Op> {
        self.lock().trace.clone()
    }

    /// How many operations have happened: the number of the last one.
    pub fn op_count(&self) -> u64 {
        self.lock().trace.len() as u64
    }

    /// Cuts the power right after op `n` (counting from the start of the
    /// trace): every later change fails, and [`crash`](SimFs::crash) then
    /// gives the disk as it was after op `n`. Calls that change nothing
    /// (reads, `flush`, `len`) still work, as the program runs on until it
    /// next asks the disk for something, so it may acknowledge what op `n`
    /// completed. `cut_power_after(0)` cuts it before the first change.
    pub fn cut_power_after(&self, n: u64) {
        self.lock().cut_after = Some(n);
    }

    /// Whether the power has been cut: the next change would fail.
    pub fn power_is_cut(&self) -> bool {
        self.lock().powered().is_err()
    }

    /// The k-th sync from now (1 for the next one), of a file or a directory,
    /// fails with EIO, and the changes it covered are lost.
    pub fn fail_sync(&self, k: u64) {
        let mut state = self.lock();
        state.faults.syncs = 0;
        state.faults.sync_error_at = Some(k);
    }

    /// The k-th write from now (1 for the next one) fails with ENOSPC and
    /// writes nothing.
    pub fn fail_write(&self, k: u64) {
        let mut state = self.lock();
        state.faults.writes = 0;
        state.faults.write_error_at = Some(k);
    }

    /// From now on, a write call takes at most `max` bytes (a short write),
    /// as a pipe or a full disk may.
    pub fn short_writes(&self, max: usize) {
        self.lock().faults.max_write_len = Some(max.max(1));
    }

    /// What a power cut now would leave: only what was synced. The new disk
    /// has an empty trace, no faults and power.
    pub fn crash(&self) -> SimFs {
        Self::from_state(crash::strict(&self.lock()))
    }

    /// What a power cut now could leave when the disk had written part of
    /// the unsynced changes: for each file, a prefix of its unsynced writes,
    /// the last one cut at a 512-byte sector boundary (sometimes with the
    /// length grown but the bytes still zero); for each directory, a prefix
    /// of its unsynced creates, renames and removes. The same seed gives the
    /// same disk.
    pub fn crash_torn(&self, seed: u64) -> SimFs {
        Self::from_state(crash::torn(&self.lock(), seed))
    }

    fn from_state(state: State) -> SimFs {
        SimFs {
            state: Arc::new(Mutex::new(state)),
        }
    }

    /// The bytes of the file at `path` that would survive a power cut now, if
    /// its name survives too; `None` if the name would not survive.
    pub fn durable_contents(&self, path: &Path) -> Option<Vec<u8>> {
        self.crash().read(path).ok()
    }

    /// Makes everything durable, as a clean shutdown would. Not traced.
    pub fn sync_everything(&self) {
        for node in self.lock().nodes.values_mut() {
            match node {
                Node::File(file) => file.sync(),
                Node::Dir(dir) => dir.sync(),
            }
        }
    }

    /// The inode that `path` names now, if any.
    pub fn inode(&self, path: &Path) -> Option<u64> {
        let state = self.lock();
        state.lookup(&state::parts(path).ok()?)
    }

    /// The length of the file `ino` now.
    pub(crate) fn read_len(&self, ino: u64) -> Option<u64> {
        match self.lock().nodes.get(&ino)? {
            Node::File(file) => Some(file.data.len() as u64),
            Node::Dir(_) => None,
        }
    }

    /// The path that names `ino` now, if one does.
    pub fn path_of(&self, ino: u64) -> Option<String> {
        crash::path_of(&self.lock(), ino, false)
    }

    /// The path that names `ino` in what is durable now, if one does.
    pub fn durable_path_of(&self, ino: u64) -> Option<String> {
        crash::path_of(&self.lock(), ino, true)
    }
}

impl Fs for SimFs {
    fn open(&self, path: &Path, options: &OpenOptions) -> io::Result<Box<dyn FsFile>> {
        options.check()?;
        let shown = display(path);
        let mut state = self.lock();
        let existing = state.lookup(&state::parts(path)?);
        let ino = match existing {
            Some(_) if options.create_new => {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!("simfs: {shown} exists"),
                ));
            }
            Some(ino) => {
                let Some(Node::File(file)) = state.nodes.get(&ino) else {
                    return Err(io::Error::new(
                        io::ErrorKind::IsADirectory,
                        format!("simfs: {shown} is a directory"),
                    ));
                };
                if options.truncate && !file.data.is_empty() {
                    state.next_op()?;
                    state.file_mut(ino).change(FileChange::SetLen(0));
                    state.record(
                        OpKind::SetLen {
                            path: shown.clone(),
                            len: 0,
                        },
                        ino,
                        None,
                        None,
                    );
                }
                ino
            }
            None if options.create || options.create_new => {
                let (dir, name) = state.parent_of(path)?;
                state.next_op()?;
                let ino = state.link_new(dir, name, Node::File(FileNode::default()));
                state.record(
                    OpKind::Create {
                        path: shown.clone(),
                    },
                    ino,
                    Some(dir),
                    None,
                );
                ino
            }
            None => return Err(state::not_found(path)),
        };
        drop(state);
        Ok(Box::new(SimFile::new(
            self.state.clone(),
            ino,
            shown,
            options,
        )))
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let mut state = self.lock();
        let (from_dir, from_name) = state.parent_of(from)?;
        let ino = state.lookup_path(from)?;
        let (to_dir, to_name) = state.parent_of(to)?;
        if let Some(target) = state.lookup(&state::parts(to)?) {
            let target_is_dir = matches!(state.nodes.get(&target), Some(Node::Dir(_)));
            let source_is_dir = matches!(state.nodes.get(&ino), Some(Node::Dir(_)));
            if target_is_dir != source_is_dir {
                return Err(io::Error::other(format!(
                    "simfs: cannot rename {} over {}",
                    display(from),
                    display(to)
                )));
            }
        }
        state.next_op()?;
        state.unlink(from_dir, &from_name);
        state.link(to_dir, to_name, ino);
        state.record(
            OpKind::Rename {
                from: display(from),
                to: display(to),
            },
            ino,
            Some(to_dir),
            None,
        );
        if let Some(op) = state.trace.last_mut() {
            op.from_dir = Some(from_dir);
        }
        Ok(())
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        let mut state = self.lock();
        let (dir, name) = state.parent_of(path)?;
        let ino = state.lookup_path(path)?;
        if matches!(state.nodes.get(&ino), Some(Node::Dir(_))) {
            return Err(io::Error::new(
                io::ErrorKind::IsADirectory,
                format!("simfs: {} is a directory", display(path)),
            ));
        }
        state.next_op()?;
        state.unlink(dir, &name);
        state.record(
            OpKind::Remove {
                path: display(path),
            },
            ino,
            Some(dir),
            None,
        );
        Ok(())
    }

    fn create_dir(&self, path: &Path) -> io::Result<()> {
        let mut state = self.lock();
        if state.lookup(&state::parts(path)?).is_some() {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("simfs: {} exists", display(path)),
            ));
        }
        let (dir, name) = state.parent_of(path)?;
        state.next_op()?;
        let ino = state.link_new(dir, name, Node::Dir(DirNode::default()));
        state.record(
            OpKind::CreateDir {
                path: display(path),
            },
            ino,
            Some(dir),
            None,
        );
        Ok(())
    }

    fn sync_dir(&self, path: &Path) -> io::Result<()> {
        let mut state = self.lock();
        let ino = state.lookup_path(path)?;
        if !matches!(state.nodes.get(&ino), Some(Node::Dir(_))) {
            return Err(io::Error::new(
                io::ErrorKind::NotADirectory,
                format!("simfs: {} is not a directory", display(path)),
            ));
        }
        state.next_op()?;
        let kind = OpKind::SyncDir {
            path: display(path),
        };
        if state.sync_fails() {
            // Like a failed fsync on Linux: what it covered is not retried.
            state.dir_mut(ino).pending.clear();
            state.record(kind, ino, None, Some("EIO".into()));
            return Err(eio());
        }
        state.dir_mut(ino).sync();
        state.record(kind, ino, None, None);
        Ok(())
    }

    fn read_dir(&self, path: &Path) -> io::Result<Vec<String>> {
        let state = self.lock();
        match state.nodes.get(&state.lookup_path(path)?) {
            Some(Node::Dir(dir)) => Ok(dir.entries.keys().cloned().collect()),
            _ => Err(io::Error::new(
                io::ErrorKind::NotADirectory,
                format!("simfs: {} is not a directory", display(path)),
            )),
        }
    }

    fn exists(&self, path: &Path) -> io::Result<bool> {
        let state = self.lock();
        Ok(state.lookup(&state::parts(path)?).is_some())
    }

    fn len(&self, path: &Path) -> io::Result<u64> {
        let state = self.lock();
        match state.nodes.get(&state.lookup_path(path)?) {
            Some(Node::File(file)) => Ok(file.data.len() as u64),
            _ => Err(io::Error::new(
                io::ErrorKind::IsADirectory,
                format!("simfs: {} is a directory", display(path)),
            )),
        }
    }
}

/// The write path shared by [`SimFile`]'s `write` and `write_at`: short
/// writes and ENOSPC, then the change and its trace entry.
pub(crate) fn write_at(
    state: &mut State,
    ino: u64,
    path: &str,
    offset: u64,
    buf: &[u8],
) -> io::Result<usize> {
    state.next_op()?;
    if buf.is_empty() {
        return Ok(0);
    }
    let len = state
        .faults
        .max_write_len
        .map_or(buf.len(), |max| buf.len().min(max));
    let kind = OpKind::Write {
        path: path.to_owned(),
        offset,
        len: len as u64,
    };
    if state.write_fails() {
        state.record(kind, ino, None, Some("ENOSPC".into()));
        return Err(enospc());
    }
    state.file_mut(ino).change(FileChange::Write {
        offset,
        bytes: buf[..len].to_vec(),
    });
    state.record(kind, ino, None, None);
    Ok(len)
}
