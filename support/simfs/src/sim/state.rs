//! The simulated disk's state: inodes, names, what is durable, the trace.

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::path::{Component, Path};

use crate::trace::{Op, OpKind};

/// The root directory's inode number.
pub(crate) const ROOT: u64 = 1;

/// A change to a file that has reached the operating system but not the
/// disk.
#[derive(Debug, Clone)]
pub(crate) enum FileChange {
    Write { offset: u64, bytes: Vec<u8> },
    SetLen(u64),
}

/// A change to a directory's entries that is not durable yet.
#[derive(Debug, Clone)]
pub(crate) enum DirChange {
    Link(String, u64),
    Unlink(String),
}

#[derive(Debug, Clone, Default)]
pub(crate) struct FileNode {
    /// What reads see: the page cache.
    pub data: Vec<u8>,
    /// What a power cut leaves.
    pub durable: Vec<u8>,
    /// What a sync would make durable, oldest first.
    pub pending: Vec<FileChange>,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct DirNode {
    pub entries: BTreeMap<String, u64>,
    pub durable: BTreeMap<String, u64>,
    pub pending: Vec<DirChange>,
}

#[derive(Debug, Clone)]
pub(crate) enum Node {
    File(FileNode),
    Dir(DirNode),
}

/// Faults to inject, counted from when they were set.
#[derive(Debug, Clone, Default)]
pub(crate) struct Faults {
    /// Fail the k-th sync (files and directories) from now on with EIO.
    pub sync_error_at: Option<u64>,
    /// Fail the k-th write from now on with ENOSPC.
    pub write_error_at: Option<u64>,
    /// Accept at most this many bytes per write call.
    pub max_write_len: Option<usize>,
    pub syncs: u64,
    pub writes: u64,
}

#[derive(Debug, Clone)]
pub(crate) struct State {
    pub nodes: HashMap<u64, Node>,
    pub next_ino: u64,
    pub trace: Vec<Op>,
    /// No operation after this one happens: the power is off.
    pub cut_after: Option<u64>,
    /// Advisory locks: the inode, and the open file holding it (alive while
    /// any of its handles is).
    pub locks: HashMap<u64, std::sync::Weak<()>>,
    pub faults: Faults,
}

impl Default for State {
    fn default() -> Self {
        let mut nodes = HashMap::new();
        nodes.insert(ROOT, Node::Dir(DirNode::default()));
        Self {
            nodes,
            next_ino: ROOT + 1,
            trace: Vec::new(),
            cut_after: None,
            locks: HashMap::new(),
            faults: Faults::default(),
        }
    }
}

/// The names on the way from the root to `path`. `.` is skipped and `..`
/// goes up; relative paths start at the root too.
pub(crate) fn parts(path: &Path) -> io::Result<Vec<String>> {
    let mut parts = Vec::new();
    for component in path.components() {
        match component {
            Component::RootDir | Component::CurDir => {}
            Component::ParentDir => {
                parts.pop();
            }
            Component::Normal(name) => match name.to_str() {
                Some(name) => parts.push(name.to_owned()),
                None => return Err(invalid("simfs paths must be UTF-8")),
            },
            Component::Prefix(_) => return Err(invalid("simfs paths have no drive prefix")),
        }
    }
    Ok(parts)
}

/// How a path is shown in the trace: from the root, with `/`.
pub(crate) fn display(path: &Path) -> String {
    match parts(path) {
        Ok(parts) => format!("/{}", parts.join("/")),
        Err(_) => path.display().to_string(),
    }
}

pub(crate) fn invalid(why: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, why)
}

pub(crate) fn not_found(path: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::NotFound,
        format!("simfs: no such file or directory: {}", display(path)),
    )
}

/// An error with the operating system's code where it has one, so that it
/// prints as the real one would.
pub(crate) fn os_error(code: i32, kind: io::ErrorKind, what: &str) -> io::Error {
    if cfg!(unix) {
        io::Error::from_raw_os_error(code)
    } else {
        io::Error::new(kind, what.to_owned())
    }
}

pub(crate) fn eio() -> io::Error {
    os_error(5, io::ErrorKind::Other, "simfs: injected I/O error")
}

pub(crate) fn enospc() -> io::Error {
    os_error(
        28,
        io::ErrorKind::StorageFull,
        "simfs: injected no space left",
    )
}

pub(crate) fn ebadf(what: &str) -> io::Error {
    os_error(9, io::ErrorKind::PermissionDenied, what)
}

impl State {
    /// Fails once the power has been cut.
    pub fn powered(&self) -> io::Result<()> {
        match self.cut_after {
            Some(cut) if self.trace.len() as u64 >= cut => Err(io::Error::other(format!(
                "simfs: the power was cut after op {cut}"
            ))),
            _ => Ok(()),
        }
    }

    /// The next operation's number, after checking the power.
    pub fn next_op(&self) -> io::Result<u64> {
        self.powered()?;
        Ok(self.trace.len() as u64 + 1)
    }

    pub fn record(&mut self, kind: OpKind, ino: u64, dir: Option<u64>, failed: Option<String>) {
        let n = self.trace.len() as u64 + 1;
        self.trace.push(Op {
            n,
            kind,
            ino,
            dir,
            from_dir: None,
            failed,
        });
    }

    pub fn lookup(&self, parts: &[String]) -> Option<u64> {
        let mut ino = ROOT;
        for name in parts {
            match self.nodes.get(&ino)? {
                Node::Dir(dir) => ino = *dir.entries.get(name)?,
                Node::File(_) => return None,
            }
        }
        Some(ino)
    }

    pub fn lookup_path(&self, path: &Path) -> io::Result<u64> {
        self.lookup(&parts(path)?).ok_or_else(|| not_found(path))
    }

    /// The directory that holds `path`, and the last name.
    pub fn parent_of(&self, path: &Path) -> io::Result<(u64, String)> {
        let mut parts = parts(path)?;
        let name = parts
            .pop()
            .ok_or_else(|| invalid("simfs: the root has no parent"))?;
        let dir = self.lookup(&parts).ok_or_else(|| not_found(path))?;
        match self.nodes.get(&dir) {
            Some(Node::Dir(_)) => Ok((dir, name)),
            _ => Err(io::Error::new(
                io::ErrorKind::NotADirectory,
                format!("simfs: not a directory on the way to {}", display(path)),
            )),
        }
    }

    pub fn dir_mut(&mut self, ino: u64) -> &mut DirNode {
        match self.nodes.get_mut(&ino) {
            Some(Node::Dir(dir)) => dir,
            _ => unreachable!("inode {ino} is a directory"),
        }
    }

    pub fn file(&self, ino: u64) -> &FileNode {
        match self.nodes.get(&ino) {
            Some(Node::File(file)) => file,
            _ => unreachable!("inode {ino} is a file"),
        }
    }

    pub fn file_mut(&mut self, ino: u64) -> &mut FileNode {
        match self.nodes.get_mut(&ino) {
            Some(Node::File(file)) => file,
            _ => unreachable!("inode {ino} is a file"),
        }
    }

    /// Adds a new node and links it into `dir` as `name` (not durably).
    pub fn link_new(&mut self, dir: u64, name: String, node: Node) -> u64 {
        let ino = self.next_ino;
        self.next_ino += 1;
        self.nodes.insert(ino, node);
        self.link(dir, name, ino);
        ino
    }

    pub fn link(&mut self, dir: u64, name: String, ino: u64) {
        let dir = self.dir_mut(dir);
        dir.entries.insert(name.clone(), ino);
        dir.pending.push(DirChange::Link(name, ino));
    }

    pub fn unlink(&mut self, dir: u64, name: &str) {
        let dir = self.dir_mut(dir);
        dir.entries.remove(name);
        dir.pending.push(DirChange::Unlink(name.to_owned()));
    }

    /// Counts a sync and tells whether it is the one to fail.
    pub fn sync_fails(&mut self) -> bool {
        self.faults.syncs += 1;
        self.faults.sync_error_at == Some(self.faults.syncs)
    }

    /// Counts a write and tells whether it is the one to fail.
    pub fn write_fails(&mut self) -> bool {
        self.faults.writes += 1;
        self.faults.write_error_at == Some(self.faults.writes)
    }
}

impl FileNode {
    pub fn change(&mut self, change: FileChange) {
        apply(&mut self.data, &change);
        self.pending.push(change);
    }

    /// Makes every pending change durable.
    pub fn sync(&mut self) {
        for change in self.pending.drain(..) {
            apply(&mut self.durable, &change);
        }
    }
}

impl DirNode {
    pub fn sync(&mut self) {
        for change in self.pending.drain(..) {
            apply_dir(&mut self.durable, &change);
        }
    }
}

pub(crate) fn apply(bytes: &mut Vec<u8>, change: &FileChange) {
    match change {
        FileChange::Write { offset, bytes: new } => {
            let start = *offset as usize;
            let end = start + new.len();
            if bytes.len() < end {
                bytes.resize(end, 0);
            }
            bytes[start..end].copy_from_slice(new);
        }
        FileChange::SetLen(len) => bytes.resize(*len as usize, 0),
    }
}

pub(crate) fn apply_dir(entries: &mut BTreeMap<String, u64>, change: &DirChange) {
    match change {
        DirChange::Link(name, ino) => {
            entries.insert(name.clone(), *ino);
        }
        DirChange::Unlink(name) => {
            entries.remove(name);
        }
    }
}
